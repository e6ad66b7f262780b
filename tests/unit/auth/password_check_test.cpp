// The password chain (SPEC §5): the first store that knows the user decides, unknown_user moves
// on, errors stop; the verified-credential cache answers on the calling thread; a full worker
// pool answers busy; failures are counted by the failed-login limiter, which refuses a locked
// user or address before any hash runs (SPEC §10).
#include "auth/password_check.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "auth/credential_cache.hpp"
#include "auth/worker_pool.hpp"
#include "util/clock.hpp"

namespace gatehouse::auth {
namespace {

using namespace std::chrono_literals;

// A password store whose hashes are "{PLAIN}<password>" (auth/password_hash.hpp).
class PlainStore final : public CredentialStore {
 public:
  explicit PlainStore(std::string name) : name_(std::move(name)) {}
  std::string_view name() const noexcept override { return name_; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::password; }
  PasswordLookup find_password(std::string_view username) const override {
    ++lookups;
    std::lock_guard lock(mutex_);
    if (fail) return {LookupStatus::error, {}, "disk on fire"};
    const auto it = users_.find(std::string(username));
    if (it == users_.end()) return {LookupStatus::unknown_user, {}, {}};
    return {LookupStatus::found, it->second, {}};
  }

  PlainStore& user(const std::string& name, const std::string& password,
                   std::vector<std::string> roles = {"User"}, bool disabled = false) {
    std::lock_guard lock(mutex_);
    users_[name] = PasswordRecord{name, "{PLAIN}" + password, std::move(roles), disabled};
    return *this;
  }

  mutable std::atomic<int> lookups{0};
  bool fail = false;

 private:
  std::string name_;
  mutable std::mutex mutex_;
  std::map<std::string, PasswordRecord> users_;
};

// Occupies the pool's single worker until release() or destruction.
class Blocker {
 public:
  explicit Blocker(WorkerPool& pool) {
    std::promise<void> started;
    auto started_future = started.get_future();
    auto release = release_.get_future().share();
    const bool accepted = pool.try_submit(
        [started = std::make_shared<std::promise<void>>(std::move(started)), release] {
          started->set_value();
          release.wait();
        });
    EXPECT_TRUE(accepted);
    if (accepted) {
      EXPECT_EQ(started_future.wait_for(30s), std::future_status::ready);
    }
  }
  ~Blocker() { release(); }
  void release() {
    if (!released_) {
      released_ = true;
      release_.set_value();
    }
  }

 private:
  std::promise<void> release_;
  bool released_ = false;
};

class PasswordCheckTest : public ::testing::Test {
 protected:
  std::shared_ptr<PlainStore> first_ = std::make_shared<PlainStore>("first");
  std::shared_ptr<PlainStore> second_ = std::make_shared<PlainStore>("second");
  FakeClock clock_;
  WorkerPool pool_{1, 1};
  CredentialCache cache_{"cache-secret", 60'000, 1000, clock_};
  // Roundup's defaults: 4 failed logins per user per 600 s; 100 per address.
  guard::FailedLoginLimiter limiter_{guard::ThrottleLimits{}};
  PasswordCheck check_{{first_, second_}, pool_, cache_, clock_, &limiter_};

  // The limiter keys that have failures counted against them.
  std::vector<std::string> counted_keys() {
    std::vector<std::string> keys;
    for (const auto& [key, tat] : limiter_.snapshot(clock_.now_ms())) keys.push_back(key);
    return keys;
  }

  // Runs a check with `checker` and waits for its completion.
  Outcome run_with(const PasswordCheck& checker, const std::string& user,
                   const std::string& password, const std::string& address) {
    auto result = std::make_shared<std::promise<Outcome>>();
    auto future = result->get_future();
    checker.check(PasswordCredentials{user, Secret(password)}, "basic", address,
                  [result](Outcome o) { result->set_value(std::move(o)); });
    EXPECT_EQ(future.wait_for(30s), std::future_status::ready);
    return future.get();
  }

  // Runs a check and waits for its completion (on whichever thread it comes).
  Outcome run(const std::string& user, const std::string& password,
              const std::string& address = "203.0.113.9") {
    auto result = std::make_shared<std::promise<Outcome>>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto future = result->get_future();
    check_.check(PasswordCredentials{user, Secret(password)}, "basic", address,
                 [result, calls](Outcome o) {
                   if (++*calls == 1) result->set_value(std::move(o));
                 });
    EXPECT_EQ(future.wait_for(30s), std::future_status::ready);
    Outcome o = future.get();
    EXPECT_EQ(calls->load(), 1) << "done must be called exactly once";
    return o;
  }

  // Runs a check that must complete before check() returns, on this thread.
  Outcome run_synchronously(const std::string& user, const std::string& password) {
    std::optional<Outcome> got;
    std::thread::id completed_on;
    int calls = 0;
    check_.check(PasswordCredentials{user, Secret(password)}, "basic", "203.0.113.9",
                 [&](Outcome o) {
                   ++calls;
                   completed_on = std::this_thread::get_id();
                   got = std::move(o);
                 });
    EXPECT_EQ(calls, 1) << "the check did not complete before check() returned";
    EXPECT_EQ(completed_on, std::this_thread::get_id());
    return got.value_or(Outcome::fail(OutcomeKind::error, "test", "not_called", ""));
  }

  // Fills the pool: its worker blocked, its one queue slot taken by a task that reports when it
  // has been dequeued and run (after release).
  struct FullPool {
    std::unique_ptr<Blocker> blocker;
    std::future<void> filler_ran;
  };
  FullPool fill_pool() {
    FullPool full{std::make_unique<Blocker>(pool_), {}};
    auto filler = std::make_shared<std::promise<void>>();
    full.filler_ran = filler->get_future();
    EXPECT_TRUE(pool_.try_submit([filler] { filler->set_value(); }));
    EXPECT_EQ(pool_.queued(), pool_.capacity());
    return full;
  }
};

TEST_F(PasswordCheckTest, RightPasswordIsGranted) {
  first_->user("demo", "demo-pw", {"User", "Admin"});
  const Outcome o = run("demo", "demo-pw");
  ASSERT_EQ(o.kind, OutcomeKind::granted) << o.reason;
  EXPECT_EQ(o.scheme, "basic");
  ASSERT_NE(o.identity, nullptr);
  EXPECT_EQ(o.identity->subject, "demo");
  EXPECT_EQ(o.identity->roles, (std::vector<std::string>{"User", "Admin"}));
  EXPECT_EQ(o.identity->scheme, "basic");
  EXPECT_EQ(o.identity->store, "first");
  EXPECT_EQ(o.identity->auth_time, clock_.now_s());
  EXPECT_EQ(limiter_.failures(), 0u);
}

TEST_F(PasswordCheckTest, WrongPasswordIsDenied) {
  first_->user("demo", "demo-pw");
  const Outcome o = run("demo", "demo-pW");
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_EQ(o.scheme, "basic");
  EXPECT_EQ(o.description.find("demo-p"), std::string::npos);
}

TEST_F(PasswordCheckTest, FirstStoreThatKnowsTheUserDecides) {
  first_->user("demo", "first-pw");
  second_->user("demo", "second-pw");
  // The second store would accept this password, but the first knows the user and says no.
  const Outcome o = run("demo", "second-pw");
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(second_->lookups.load(), 0);
  EXPECT_EQ(run("demo", "first-pw").kind, OutcomeKind::granted);
}

TEST_F(PasswordCheckTest, UnknownUserMovesOnToTheNextStore) {
  second_->user("carol", "carol-pw", {"Reader"});
  const Outcome o = run("carol", "carol-pw");
  ASSERT_EQ(o.kind, OutcomeKind::granted) << o.reason;
  EXPECT_EQ(o.identity->store, "second");
  EXPECT_EQ(o.identity->roles, (std::vector<std::string>{"Reader"}));
  EXPECT_EQ(first_->lookups.load(), 1);
  EXPECT_EQ(second_->lookups.load(), 1);
  EXPECT_EQ(run("carol", "wrong").kind, OutcomeKind::denied);
}

TEST_F(PasswordCheckTest, UserNoStoreKnowsIsUnknownUser) {
  first_->user("demo", "pw");
  const Outcome o = run("nobody", "pw", "198.51.100.4");
  EXPECT_EQ(o.kind, OutcomeKind::unknown_user);
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_EQ(first_->lookups.load(), 1);
  EXPECT_EQ(second_->lookups.load(), 1);
  EXPECT_EQ(counted_keys(), (std::vector<std::string>{"addr:198.51.100.4", "user:nobody"}));
}

TEST_F(PasswordCheckTest, EmptyChainKnowsNobody) {
  PasswordCheck empty({}, pool_, cache_, clock_);
  std::promise<Outcome> result;
  empty.check(PasswordCredentials{"demo", Secret("pw")}, "basic", "x",
              [&result](Outcome o) { result.set_value(std::move(o)); });
  auto f = result.get_future();
  ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(f.get().kind, OutcomeKind::unknown_user);
}

TEST_F(PasswordCheckTest, StoreErrorIsAnErrorAndStopsTheChain) {
  first_->fail = true;
  second_->user("demo", "pw");
  const Outcome o = run("demo", "pw");
  EXPECT_EQ(o.kind, OutcomeKind::error);
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_EQ(second_->lookups.load(), 0);
  EXPECT_EQ(o.description.find("disk on fire"), std::string::npos);  // internal detail stays out
}

TEST_F(PasswordCheckTest, StoreErrorAfterAnUnknownIsAnError) {
  second_->fail = true;
  EXPECT_EQ(run("demo", "pw").kind, OutcomeKind::error);
}

TEST_F(PasswordCheckTest, DisabledUserIsDeniedEvenWithTheRightPassword) {
  first_->user("demo", "pw", {"User"}, /*disabled=*/true);
  second_->user("demo", "pw");
  const Outcome o = run("demo", "pw");
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_EQ(second_->lookups.load(), 0);
  // Not remembered as good either: a second attempt is denied too.
  EXPECT_EQ(run("demo", "pw").kind, OutcomeKind::denied);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(PasswordCheckTest, CacheHitAnswersOnTheCallingThreadWithoutThePool) {
  first_->user("demo", "pw", {"User"});
  ASSERT_EQ(run("demo", "pw").kind, OutcomeKind::granted);  // verified on the pool, then cached

  const auto full = fill_pool();
  const Outcome o = run_synchronously("demo", "pw");
  ASSERT_EQ(o.kind, OutcomeKind::granted) << o.reason;
  EXPECT_EQ(o.identity->subject, "demo");
  EXPECT_EQ(o.identity->store, "first");
  EXPECT_EQ(pool_.queued(), pool_.capacity());  // nothing was queued or run

  // A password not in the cache needs the (full) pool: busy, which shows the pool is really full.
  EXPECT_EQ(run_synchronously("demo", "other").kind, OutcomeKind::busy);
}

TEST_F(PasswordCheckTest, CacheEntryExpires) {
  first_->user("demo", "pw");
  ASSERT_EQ(run("demo", "pw").kind, OutcomeKind::granted);
  clock_.advance(61s);
  const auto full = fill_pool();
  EXPECT_EQ(run_synchronously("demo", "pw").kind, OutcomeKind::busy);  // needs the pool again
}

TEST_F(PasswordCheckTest, PasswordChangeBypassesTheCache) {
  first_->user("demo", "old-pw");
  ASSERT_EQ(run("demo", "old-pw").kind, OutcomeKind::granted);
  first_->user("demo", "new-pw");
  EXPECT_EQ(run("demo", "old-pw").kind, OutcomeKind::denied);
  EXPECT_EQ(run("demo", "new-pw").kind, OutcomeKind::granted);
}

TEST_F(PasswordCheckTest, DisablingAUserOverridesACachedSuccess) {
  first_->user("demo", "pw");
  ASSERT_EQ(run("demo", "pw").kind, OutcomeKind::granted);
  first_->user("demo", "pw", {"User"}, /*disabled=*/true);
  const auto full = fill_pool();
  const Outcome o = run_synchronously("demo", "pw");
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(o.identity, nullptr);
}

TEST_F(PasswordCheckTest, RoleChangeIsSeenOnACacheHit) {
  first_->user("demo", "pw", {"User"});
  ASSERT_EQ(run("demo", "pw").kind, OutcomeKind::granted);
  first_->user("demo", "pw", {"User", "Admin"});
  const Outcome o = run("demo", "pw");
  ASSERT_EQ(o.kind, OutcomeKind::granted);
  EXPECT_EQ(o.identity->roles, (std::vector<std::string>{"User", "Admin"}));
}

TEST_F(PasswordCheckTest, FullPoolAnswersBusyAtOnce) {
  first_->user("demo", "pw");
  const auto full = fill_pool();
  const Outcome known = run_synchronously("demo", "pw");
  EXPECT_EQ(known.kind, OutcomeKind::busy);
  EXPECT_GE(known.retry_after, 1);
  EXPECT_EQ(known.scheme, "basic");
  const Outcome unknown = run_synchronously("nobody", "pw");
  EXPECT_EQ(unknown.kind, OutcomeKind::busy);
  EXPECT_GE(unknown.retry_after, 1);
  EXPECT_EQ(limiter_.failures(), 0u) << "busy is not a failed login";
}

TEST_F(PasswordCheckTest, WorksAgainOnceThePoolHasRoom) {
  first_->user("demo", "pw");
  auto full = fill_pool();
  EXPECT_EQ(run_synchronously("demo", "pw").kind, OutcomeKind::busy);
  full.blocker->release();
  ASSERT_EQ(full.filler_ran.wait_for(30s), std::future_status::ready);  // the queue is empty
  EXPECT_EQ(run("demo", "pw").kind, OutcomeKind::granted);
}

TEST_F(PasswordCheckTest, WrongPasswordsAndUnknownUsersCountAgainstUserAndAddress) {
  first_->user("demo", "pw");
  EXPECT_EQ(run("demo", "bad", "198.51.100.4").kind, OutcomeKind::denied);
  EXPECT_EQ(run("demo", "pw", "198.51.100.5").kind, OutcomeKind::granted);
  EXPECT_EQ(run("ghost", "x", "2001:db8::1").kind, OutcomeKind::unknown_user);
  EXPECT_EQ(limiter_.failures(), 2u);
  EXPECT_EQ(counted_keys(), (std::vector<std::string>{"addr:198.51.100.4", "addr:2001:db8::/64",
                                                      "user:demo", "user:ghost"}));
}

TEST_F(PasswordCheckTest, DisabledUsersCountAsFailures) {
  first_->user("demo", "pw", {"User"}, /*disabled=*/true);
  EXPECT_EQ(run("demo", "pw", "198.51.100.4").kind, OutcomeKind::denied);
  EXPECT_EQ(counted_keys(), (std::vector<std::string>{"addr:198.51.100.4", "user:demo"}));
}

TEST_F(PasswordCheckTest, NoLimiterIsFine) {
  first_->user("demo", "pw");
  PasswordCheck quiet({first_}, pool_, cache_, clock_);
  std::promise<Outcome> result;
  quiet.check(PasswordCredentials{"demo", Secret("bad")}, "basic", "x",
              [&result](Outcome o) { result.set_value(std::move(o)); });
  auto f = result.get_future();
  ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(f.get().kind, OutcomeKind::denied);
}

TEST_F(PasswordCheckTest, ChainIsKeptInOrder) {
  ASSERT_EQ(check_.chain().size(), 2u);
  EXPECT_EQ(check_.chain()[0]->name(), "first");
  EXPECT_EQ(check_.chain()[1]->name(), "second");
}

// ---- failed-login throttling (SPEC §10) ----------------------------------------------------

const std::string* header_of(const Outcome& o, std::string_view name) {
  for (const auto& [k, v] : o.response_headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

TEST_F(PasswordCheckTest, LockedUserIsRefusedWithTheRightPasswordAndNoHashRuns) {
  first_->user("demo", "pw");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(run("demo", "bad").kind, OutcomeKind::denied) << i;
  // With the pool full, anything that needed a hash would answer busy: a throttled answer,
  // given on this thread before check() returns, shows that no hash was queued or run.
  const auto full = fill_pool();
  const Outcome o = run_synchronously("demo", "pw");
  ASSERT_EQ(o.kind, OutcomeKind::throttled) << o.reason;
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_EQ(o.scheme, "basic");
  EXPECT_EQ(o.reason, "user_throttled");
  EXPECT_EQ(o.retry_after, 150);  // one emission interval: 600 s / 4
  EXPECT_EQ(o.description, "Logins occurring too fast. Please wait: 150 seconds.");
  ASSERT_NE(header_of(o, "X-RateLimit-Limit"), nullptr);
  EXPECT_EQ(*header_of(o, "X-RateLimit-Limit"), "4");
  EXPECT_EQ(*header_of(o, "X-RateLimit-Remaining"), "0");
  EXPECT_EQ(*header_of(o, "X-RateLimit-Reset"), "600");
  EXPECT_EQ(*header_of(o, "X-RateLimit-Limit-Period"), "600");
  EXPECT_EQ(pool_.queued(), pool_.capacity());
  EXPECT_EQ(limiter_.failures(), 4u) << "a refused attempt is not a failure";
  EXPECT_EQ(limiter_.refusals(), 1u);
}

TEST_F(PasswordCheckTest, CachedRightPasswordIsRefusedWhileTheUserIsLocked) {
  first_->user("demo", "pw");
  ASSERT_EQ(run("demo", "pw").kind, OutcomeKind::granted);  // now in the credential cache
  for (int i = 0; i < 4; ++i) run("demo", "bad");
  const Outcome o = run_synchronously("demo", "pw");
  EXPECT_EQ(o.kind, OutcomeKind::throttled) << o.reason;
  EXPECT_EQ(cache_.size(), 1u) << "the cached success is still there, just not honoured";
}

TEST_F(PasswordCheckTest, UnknownUserIsLockedToo) {
  for (int i = 0; i < 4; ++i) EXPECT_EQ(run("ghost", "x").kind, OutcomeKind::unknown_user);
  const auto full = fill_pool();  // the dummy hash is not run either
  EXPECT_EQ(run_synchronously("ghost", "x").kind, OutcomeKind::throttled);
}

TEST_F(PasswordCheckTest, ASuccessDoesNotResetTheCount) {
  first_->user("demo", "pw");
  for (int i = 0; i < 3; ++i) run("demo", "bad");
  EXPECT_EQ(run("demo", "pw").kind, OutcomeKind::granted);
  EXPECT_EQ(run("demo", "bad").kind, OutcomeKind::denied);  // the fourth failure
  EXPECT_EQ(run("demo", "pw").kind, OutcomeKind::throttled);
}

TEST_F(PasswordCheckTest, LockEndsAfterOneEmissionInterval) {
  first_->user("demo", "pw");
  for (int i = 0; i < 4; ++i) run("demo", "bad");
  clock_.advance(149s);
  EXPECT_EQ(run("demo", "pw").kind, OutcomeKind::throttled);
  clock_.advance(1s);
  EXPECT_EQ(run("demo", "pw").kind, OutcomeKind::granted);
}

TEST_F(PasswordCheckTest, OneLockedUserLeavesOthersAlone) {
  first_->user("demo", "pw").user("carol", "pw");
  for (int i = 0; i < 4; ++i) run("demo", "bad");
  EXPECT_EQ(run("carol", "pw").kind, OutcomeKind::granted);
  EXPECT_EQ(run("demo", "pw", "192.0.2.200").kind, OutcomeKind::throttled)
      << "the user limit holds from any address";
}

TEST_F(PasswordCheckTest, AddressOverItsLimitIsRefusedForEveryName) {
  guard::ThrottleLimits limits;
  limits.user_limit = 4;
  limits.address_limit = 6;
  guard::FailedLoginLimiter limiter(limits);
  const PasswordCheck checker({first_}, pool_, cache_, clock_, &limiter);
  first_->user("alice", "a-pw").user("bob", "b-pw").user("carol", "c-pw");
  const std::string sprayer = "::ffff:198.51.100.66";  // IPv4-mapped: the same as 198.51.100.66
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run_with(checker, "alice", "guess", sprayer).kind, OutcomeKind::denied);
    EXPECT_EQ(run_with(checker, "bob", "guess", "198.51.100.66").kind, OutcomeKind::denied);
  }
  // Neither name reached 4, but the address reached 6: carol's right password is refused there.
  const Outcome o = run_with(checker, "carol", "c-pw", "198.51.100.66");
  ASSERT_EQ(o.kind, OutcomeKind::throttled);
  EXPECT_EQ(o.reason, "address_throttled");
  EXPECT_EQ(*header_of(o, "X-RateLimit-Limit"), "6");
  // From elsewhere carol (and alice, with 3 failures) still get in.
  EXPECT_EQ(run_with(checker, "carol", "c-pw", "203.0.113.1").kind, OutcomeKind::granted);
  EXPECT_EQ(run_with(checker, "alice", "a-pw", "203.0.113.1").kind, OutcomeKind::granted);
}

}  // namespace
}  // namespace gatehouse::auth
