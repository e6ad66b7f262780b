// ThrottleSync between a server's limiter and a real SQLite state store: a restart keeps locks,
// an operator's reset from another connection (the CLI) reaches the server in one pass, and a
// flush that races a reset never brings the reset key back.
#include "guard/throttle_sync.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "../temp_dir.hpp"
#include "util/clock.hpp"

namespace gatehouse::guard {
namespace {

using namespace std::chrono_literals;
using gatehouse::testing::TempDir;

std::vector<std::string> stored_keys(state::StateStore& store, std::int64_t now_ms) {
  std::vector<std::string> keys;
  for (const auto& row : store.load_throttle(now_ms).rows) keys.push_back(row.key);
  return keys;
}

class ThrottleSyncTest : public ::testing::Test {
 protected:
  std::unique_ptr<state::StateStore> open() {
    return state::open_state_store("sqlite:" + (dir_.path() / "t.db").string());
  }
  void fail_logins(FailedLoginLimiter& limiter, const std::string& user, int n) {
    for (int i = 0; i < n; ++i) limiter.record_failure(user, "192.0.2.1", clock_.now_ms());
  }
  bool locked(const FailedLoginLimiter& limiter, const std::string& user) {
    return limiter.check(user, "203.0.113.1", clock_.now_ms()).has_value();
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<state::StateStore> server_store_ = open();
  std::unique_ptr<state::StateStore> cli_store_ = open();  // another process on the same store
  FailedLoginLimiter limiter_{ThrottleLimits{}};
  ThrottleSync sync_{limiter_, *server_store_, clock_};
};

TEST_F(ThrottleSyncTest, APassWritesWhatWasCountedAndARestartKeepsTheLock) {
  sync_.load();
  fail_logins(limiter_, "demo", 4);
  EXPECT_TRUE(stored_keys(*cli_store_, clock_.now_ms()).empty()) << "nothing written yet";
  sync_.sync();
  EXPECT_EQ(stored_keys(*cli_store_, clock_.now_ms()),
            (std::vector<std::string>{"addr:192.0.2.1", "user:demo"}));

  FailedLoginLimiter restarted(ThrottleLimits{});
  const auto restarted_store = open();
  ThrottleSync restarted_sync(restarted, *restarted_store, clock_);
  EXPECT_FALSE(locked(restarted, "demo"));
  restarted_sync.load();
  EXPECT_TRUE(locked(restarted, "demo"));
  clock_.advance(150s);
  EXPECT_FALSE(locked(restarted, "demo")) << "the stored TAT keeps its meaning";
}

TEST_F(ThrottleSyncTest, AResetFromTheCliReachesTheServerInOnePass) {
  sync_.load();
  fail_logins(limiter_, "demo", 4);
  fail_logins(limiter_, "carol", 4);
  sync_.sync();
  ASSERT_TRUE(locked(limiter_, "demo"));
  EXPECT_EQ(cli_store_->delete_throttle({"user:demo"}), 1u);
  EXPECT_TRUE(locked(limiter_, "demo")) << "not before the pass";
  sync_.sync();
  EXPECT_FALSE(locked(limiter_, "demo"));
  EXPECT_TRUE(locked(limiter_, "carol")) << "the other keys stay";
  sync_.sync();
  EXPECT_FALSE(locked(limiter_, "demo"));
}

TEST_F(ThrottleSyncTest, AFlushRacingAResetDoesNotUndoIt) {
  sync_.load();
  fail_logins(limiter_, "demo", 3);
  sync_.sync();
  fail_logins(limiter_, "demo", 1);            // counted, not yet written...
  cli_store_->delete_throttle({"user:demo"});  // ...when the operator resets demo
  sync_.sync();
  EXPECT_FALSE(locked(limiter_, "demo"));
  const auto keys = stored_keys(*cli_store_, clock_.now_ms());
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "user:demo"), 0) << "the reset stands";
  // Counting goes on normally afterwards.
  fail_logins(limiter_, "demo", 4);
  sync_.sync();
  EXPECT_TRUE(locked(limiter_, "demo"));
  EXPECT_EQ(stored_keys(*cli_store_, clock_.now_ms()),
            (std::vector<std::string>{"addr:192.0.2.1", "user:demo"}));
}

TEST_F(ThrottleSyncTest, ResetAllEmptiesTheServer) {
  sync_.load();
  fail_logins(limiter_, "demo", 4);
  fail_logins(limiter_, "carol", 4);
  sync_.sync();
  cli_store_->clear_throttle();
  sync_.sync();
  EXPECT_FALSE(locked(limiter_, "demo"));
  EXPECT_FALSE(locked(limiter_, "carol"));
  EXPECT_TRUE(limiter_.snapshot(clock_.now_ms()).empty());
}

TEST_F(ThrottleSyncTest, ExpiredRowsArePruned) {
  sync_.load();
  fail_logins(limiter_, "demo", 1);
  sync_.sync();
  clock_.advance(601s);  // past every TAT, and past the prune interval
  sync_.sync();
  EXPECT_TRUE(cli_store_->load_throttle(0).rows.empty());
}

TEST_F(ThrottleSyncTest, TwoServersOnOneStoreDoNotLowerEachOthersCounts) {
  sync_.load();
  FailedLoginLimiter other(ThrottleLimits{});
  ThrottleSync other_sync(other, *cli_store_, clock_);
  other_sync.load();
  fail_logins(limiter_, "demo", 4);
  fail_logins(other, "demo", 1);
  sync_.sync();
  other_sync.sync();
  FailedLoginLimiter restarted(ThrottleLimits{});
  ThrottleSync(restarted, *open(), clock_).load();
  EXPECT_TRUE(locked(restarted, "demo"));
}

}  // namespace
}  // namespace gatehouse::guard
