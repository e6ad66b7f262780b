#include "guard/gcra.hpp"

#include <gtest/gtest.h>

namespace gatehouse::guard {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;
constexpr std::int64_t kSecond = 1000;

// Roundup's default: 4 failed logins per 600 s.
TEST(Gcra, TheFifthAttemptInTheWindowIsRefused) {
  Gcra limiter(4, 600 * kSecond);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.record("user:demo", kT0).allowed);
  EXPECT_TRUE(limiter.check("user:demo", kT0).allowed);
  EXPECT_EQ(limiter.check("user:demo", kT0).remaining, 1);
  const RateDecision fourth = limiter.record("user:demo", kT0);
  EXPECT_FALSE(fourth.allowed);
  EXPECT_EQ(fourth.remaining, 0);
  const RateDecision fifth = limiter.check("user:demo", kT0 + kSecond);
  EXPECT_FALSE(fifth.allowed);
  EXPECT_EQ(fifth.limit, 4);
  EXPECT_EQ(fifth.retry_after_s, 149);  // one interval (150 s) after the burst
  EXPECT_EQ(fifth.reset_s, 599);
}

TEST(Gcra, OneMoreAttemptPerIntervalAfterALockout) {
  Gcra limiter(4, 600 * kSecond);
  for (int i = 0; i < 4; ++i) limiter.record("user:demo", kT0);
  EXPECT_FALSE(limiter.check("user:demo", kT0 + 149 * kSecond).allowed);
  EXPECT_TRUE(limiter.check("user:demo", kT0 + 150 * kSecond).allowed);
  limiter.record("user:demo", kT0 + 150 * kSecond);
  EXPECT_FALSE(limiter.check("user:demo", kT0 + 151 * kSecond).allowed);
  EXPECT_TRUE(limiter.check("user:demo", kT0 + 750 * kSecond).allowed);
  EXPECT_EQ(limiter.check("user:demo", kT0 + 750 * kSecond).remaining, 4);
}

TEST(Gcra, SpacedFailuresNeverLock) {
  Gcra limiter(4, 600 * kSecond);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(limiter.record("user:demo", kT0 + i * 150 * kSecond).allowed) << i;
  }
}

TEST(Gcra, KeysAreIndependentAndResettable) {
  Gcra limiter(2, 60 * kSecond);
  limiter.record("user:a", kT0);
  limiter.record("user:a", kT0);
  EXPECT_FALSE(limiter.check("user:a", kT0).allowed);
  EXPECT_TRUE(limiter.check("user:b", kT0).allowed);
  EXPECT_TRUE(limiter.check("addr:192.0.2.1", kT0).allowed);
  limiter.reset("user:a");
  EXPECT_TRUE(limiter.check("user:a", kT0).allowed);
  EXPECT_EQ(limiter.check("user:a", kT0).remaining, 2);
}

TEST(Gcra, ZeroLimitDisables) {
  Gcra limiter(0, 600 * kSecond);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.record("user:demo", kT0).allowed);
  EXPECT_FALSE(limiter.enabled());
  EXPECT_TRUE(limiter.snapshot(kT0).empty());
}

TEST(Gcra, SnapshotAndRestoreCarryTheState) {
  Gcra limiter(4, 600 * kSecond);
  for (int i = 0; i < 4; ++i) limiter.record("user:demo", kT0);
  limiter.record("addr:198.51.100.7", kT0 - 700 * kSecond);  // already back to a clean slate
  const auto state = limiter.snapshot(kT0);
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].first, "user:demo");
  Gcra restarted(4, 600 * kSecond);
  for (const auto& [key, tat] : state) restarted.restore(key, tat);
  EXPECT_FALSE(restarted.check("user:demo", kT0 + kSecond).allowed);
}

// A flood of distinct keys (password spraying from many addresses) cannot grow memory.
TEST(Gcra, MemoryIsBounded) {
  Gcra limiter(4, 600 * kSecond, 64);
  for (int i = 0; i < 20000; ++i) limiter.record("addr:" + std::to_string(i), kT0);
  EXPECT_LE(limiter.snapshot(kT0).size(), 64u);
  // The newest key is tracked.
  for (int i = 0; i < 3; ++i) limiter.record("user:target", kT0);
  EXPECT_EQ(limiter.check("user:target", kT0).remaining, 1);
}

}  // namespace
}  // namespace gatehouse::guard
