// The failed-login limiter (SPEC §10): per user name and per client address, check before
// counting, Roundup's 429 headers and message, keys normalized as the schemes normalize, reset,
// and the state it hands to the store.
#include "guard/failed_login.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::guard {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;
constexpr std::int64_t kSecond = 1000;

ThrottleLimits limits(int user_limit, int address_limit) {
  ThrottleLimits l;
  l.user_limit = user_limit;
  l.address_limit = address_limit;
  return l;
}

std::vector<std::string> keys_of(const std::vector<TatEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& [key, tat] : entries) out.push_back(key);
  return out;
}

const std::string* header_of(const Outcome& o, std::string_view name) {
  for (const auto& [k, v] : o.response_headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

// ---- keys -----------------------------------------------------------------------------------

TEST(NormalizeAddress, Ipv4AndIpv4MappedAreTheSameAddress) {
  EXPECT_EQ(normalize_address("198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(normalize_address("::ffff:198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(normalize_address("::FFFF:c633:6407"), "198.51.100.7");
}

TEST(NormalizeAddress, Ipv6IsItsSlash64) {
  EXPECT_EQ(normalize_address("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(normalize_address("2001:DB8:1:2::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(normalize_address("fe80::1%eth0"), "fe80::/64");
  EXPECT_EQ(normalize_address("2001:db8:1:2::/64"), "2001:db8:1:2::/64") << "as `show` prints it";
  EXPECT_EQ(normalize_address("::1"), "::/64");
}

TEST(NormalizeAddress, AnythingElseIsNotAnAddress) {
  for (const char* text : {"", "demo", "unknown", "198.51.100", "198.51.100.7/64",
                           "::ffff:198.51.100.7/64", "1.2.3.4.5", "2001:db8::/48", "999.1.1.1"}) {
    EXPECT_FALSE(normalize_address(text).has_value()) << text;
  }
}

TEST(FailedLoginKeys, UserNamesAreNormalizedAsTheSchemesDo) {
  EXPECT_EQ(FailedLoginLimiter::user_key("demo"), "user:demo");
  EXPECT_EQ(FailedLoginLimiter::user_key("Demo"), "user:demo");
  EXPECT_EQ(FailedLoginLimiter::user_key("\xEF\xBC\xA4"
                                         "emo"),
            "user:demo");  // fullwidth D
  EXPECT_EQ(FailedLoginLimiter::user_key(""), "");
  EXPECT_EQ(FailedLoginLimiter::user_key("two words"), "user:two words") << "kept as given";
}

TEST(FailedLoginKeys, LongNamesAreHashedToABoundedKey) {
  const std::string key = FailedLoginLimiter::user_key(std::string(10000, 'a'));
  EXPECT_EQ(key.size(), 5u + 1u + 64u);
  EXPECT_TRUE(key.starts_with("user:#"));
  EXPECT_NE(key, FailedLoginLimiter::user_key(std::string(10001, 'a')));
  EXPECT_EQ(FailedLoginLimiter::user_key(std::string(256, 'a')), "user:" + std::string(256, 'a'));
}

TEST(FailedLoginKeys, AddressesAreNormalizedAndOtherTextKept) {
  EXPECT_EQ(FailedLoginLimiter::address_key("::ffff:192.0.2.1"), "addr:192.0.2.1");
  EXPECT_EQ(FailedLoginLimiter::address_key("2001:db8::5"), "addr:2001:db8::/64");
  EXPECT_EQ(FailedLoginLimiter::address_key("unknown"), "addr:unknown");
}

// ---- limits ---------------------------------------------------------------------------------

TEST(FailedLoginLimiter, FourFailuresLockTheUserAndCheckingCountsNothing) {
  FailedLoginLimiter limiter(ThrottleLimits{});
  for (int i = 0; i < 3; ++i) limiter.record_failure("demo", "192.0.2.1", kT0);
  for (int i = 0; i < 50; ++i) {
    ASSERT_FALSE(limiter.check("demo", "192.0.2.1", kT0).has_value()) << "check consumed";
  }
  limiter.record_failure("demo", "192.0.2.1", kT0);
  const auto refused = limiter.check("demo", "203.0.113.9", kT0 + kSecond);
  ASSERT_TRUE(refused.has_value()) << "the user limit holds from any address";
  EXPECT_EQ(refused->key, "user:demo");
  EXPECT_EQ(refused->decision.retry_after_s, 149);
  EXPECT_EQ(limiter.failures(), 4u);
  EXPECT_EQ(limiter.refusals(), 1u);
  EXPECT_FALSE(limiter.check("carol", "192.0.2.1", kT0).has_value());
  EXPECT_FALSE(limiter.check("demo", "192.0.2.1", kT0 + 150 * kSecond).has_value());
}

TEST(FailedLoginLimiter, UserSpellingsShareOneCount) {
  FailedLoginLimiter limiter(ThrottleLimits{});
  for (const char* name : {"demo", "Demo", "DEMO",
                           "\xEF\xBC\xA4"
                           "emo"}) {
    limiter.record_failure(name, "192.0.2.1", kT0);
  }
  EXPECT_TRUE(limiter.check("dEmO", "192.0.2.2", kT0).has_value());
}

TEST(FailedLoginLimiter, AddressLimitRefusesEveryNameFromThatAddress) {
  FailedLoginLimiter limiter(limits(4, 10));
  for (int i = 0; i < 10; ++i) {
    const std::string name = "user" + std::to_string(i);
    ASSERT_FALSE(limiter.check(name, "198.51.100.66", kT0).has_value()) << i;
    limiter.record_failure(name, "198.51.100.66", kT0);
  }
  const auto refused = limiter.check("somebody-new", "::ffff:198.51.100.66", kT0);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->key, "addr:198.51.100.66");
  EXPECT_EQ(refused->decision.limit, 10);
  EXPECT_EQ(refused->decision.retry_after_s, 60);  // 600 s / 10
  EXPECT_FALSE(limiter.check("somebody-new", "198.51.100.67", kT0).has_value());
  EXPECT_FALSE(limiter.check("user0", "198.51.100.67", kT0).has_value()) << "one failure each";
}

TEST(FailedLoginLimiter, AnIpv6SubscriberCannotDodgeByRotatingWithinItsSlash64) {
  FailedLoginLimiter limiter(limits(4, 5));
  for (int i = 0; i < 5; ++i) {
    limiter.record_failure("u" + std::to_string(i), "2001:db8:7:7::" + std::to_string(i + 1), kT0);
  }
  EXPECT_TRUE(limiter.check("other", "2001:db8:7:7:ffff::1", kT0).has_value());
  EXPECT_FALSE(limiter.check("other", "2001:db8:7:8::1", kT0).has_value());
}

TEST(FailedLoginLimiter, NoUserNameChecksAndCountsTheAddressAlone) {
  FailedLoginLimiter limiter(limits(4, 5));
  for (int i = 0; i < 5; ++i) limiter.record_failure("", "192.0.2.9", kT0);
  EXPECT_EQ(keys_of(limiter.snapshot(kT0)), std::vector<std::string>{"addr:192.0.2.9"});
  EXPECT_TRUE(limiter.check("", "192.0.2.9", kT0).has_value());
  EXPECT_FALSE(limiter.check("", "192.0.2.10", kT0).has_value());
}

TEST(FailedLoginLimiter, WhenBothAreLockedTheLongerWaitIsReported) {
  ThrottleLimits l = limits(4, 4);
  l.address_period_ms = 1200 * kSecond;  // 300 s per failure, against the user's 150 s
  FailedLoginLimiter limiter(l);
  for (int i = 0; i < 4; ++i) limiter.record_failure("demo", "192.0.2.1", kT0);
  const auto refused = limiter.check("demo", "192.0.2.1", kT0);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->key, "addr:192.0.2.1");
  EXPECT_EQ(refused->decision.retry_after_s, 300);
  EXPECT_EQ(refused->period_s, 1200);
}

TEST(FailedLoginLimiter, ZeroLimitsTurnEachLimitOff) {
  FailedLoginLimiter no_user(limits(0, 5));
  for (int i = 0; i < 4; ++i) no_user.record_failure("demo", "192.0.2.1", kT0);
  EXPECT_FALSE(no_user.check("demo", "192.0.2.2", kT0).has_value());
  EXPECT_EQ(keys_of(no_user.snapshot(kT0)), std::vector<std::string>{"addr:192.0.2.1"});
  FailedLoginLimiter off(limits(0, 0));
  for (int i = 0; i < 100; ++i) off.record_failure("demo", "192.0.2.1", kT0);
  EXPECT_FALSE(off.check("demo", "192.0.2.1", kT0).has_value());
  EXPECT_TRUE(off.snapshot(kT0).empty());
  EXPECT_TRUE(off.take_dirty().empty());
  EXPECT_EQ(off.failures(), 100u) << "the metric still counts";
}

// ---- the 429 --------------------------------------------------------------------------------

TEST(FailedLoginLimiter, RefusalCarriesRoundupsMessageAndHeaders) {
  FailedLoginLimiter limiter(ThrottleLimits{});
  for (int i = 0; i < 4; ++i) limiter.record_failure("demo", "192.0.2.1", kT0);
  const auto refused = limiter.check("demo", "192.0.2.1", kT0 + 10 * kSecond);
  ASSERT_TRUE(refused.has_value());
  const Outcome o = refused->outcome("basic");
  EXPECT_EQ(o.kind, OutcomeKind::throttled);
  EXPECT_EQ(o.scheme, "basic");
  EXPECT_EQ(o.reason, "user_throttled");
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_EQ(o.retry_after, 140);
  EXPECT_EQ(o.description, "Logins occurring too fast. Please wait: 140 seconds.");
  ASSERT_NE(header_of(o, "X-RateLimit-Limit"), nullptr);
  EXPECT_EQ(*header_of(o, "X-RateLimit-Limit"), "4");
  EXPECT_EQ(*header_of(o, "X-RateLimit-Remaining"), "0");
  EXPECT_EQ(*header_of(o, "X-RateLimit-Reset"), "590") << "seconds from now, not an epoch";
  EXPECT_EQ(*header_of(o, "X-RateLimit-Limit-Period"), "600");
  ASSERT_NE(header_of(o, "Access-Control-Expose-Headers"), nullptr);
  for (const char* name : {"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                           "X-RateLimit-Reset", "X-RateLimit-Limit-Period"}) {
    EXPECT_NE(header_of(o, "Access-Control-Expose-Headers")->find(name), std::string::npos) << name;
  }
  EXPECT_EQ(header_of(o, "Retry-After"), nullptr) << "authn_response sets it from retry_after";
}

// ---- inspect, reset, persistence ------------------------------------------------------------

TEST(FailedLoginLimiter, InspectReportsFailuresInTheWindow) {
  FailedLoginLimiter limiter(ThrottleLimits{});
  limiter.record_failure("demo", "192.0.2.1", kT0);
  auto state = limiter.inspect("user:demo", kT0 + 10 * kSecond);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->failures, 1);
  EXPECT_EQ(state->limit, 4);
  EXPECT_EQ(state->period_s, 600);
  EXPECT_FALSE(state->locked);
  EXPECT_EQ(state->reset_s, 140);
  for (int i = 0; i < 3; ++i) limiter.record_failure("demo", "192.0.2.1", kT0 + 10 * kSecond);
  state = limiter.inspect("user:demo", kT0 + 10 * kSecond);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->failures, 4);
  EXPECT_TRUE(state->locked);
  EXPECT_EQ(state->retry_after_s, 140);
  const auto address = limiter.inspect("addr:192.0.2.1", kT0 + 10 * kSecond);
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->limit, 100);
  EXPECT_EQ(address->failures, 3) << "the first of four drained away: 6 s each at 100 per 600 s";
  EXPECT_FALSE(limiter.inspect("user:carol", kT0).has_value());
  EXPECT_FALSE(limiter.inspect("demo", kT0).has_value()) << "not a key";
  EXPECT_FALSE(limiter.inspect("user:demo", kT0 + 10'000 * kSecond).has_value()) << "expired";
}

TEST(FailedLoginLimiter, ResetForgetsOneKeyOnly) {
  FailedLoginLimiter limiter(limits(4, 4));
  for (int i = 0; i < 4; ++i) limiter.record_failure("demo", "192.0.2.1", kT0);
  limiter.reset("user:demo");
  const auto refused = limiter.check("demo", "192.0.2.1", kT0);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->key, "addr:192.0.2.1") << "the address keeps its count";
  EXPECT_FALSE(limiter.check("demo", "192.0.2.2", kT0).has_value());
}

TEST(FailedLoginLimiter, TakeDirtyHandsEachRecordedKeyOnceWithItsLatestTat) {
  FailedLoginLimiter limiter(ThrottleLimits{});
  limiter.record_failure("demo", "192.0.2.1", kT0);
  limiter.record_failure("demo", "192.0.2.1", kT0);
  const auto dirty = limiter.take_dirty();
  EXPECT_EQ(dirty, (std::vector<TatEntry>{{"addr:192.0.2.1", kT0 + 2 * 6 * kSecond},
                                          {"user:demo", kT0 + 2 * 150 * kSecond}}));
  EXPECT_TRUE(limiter.take_dirty().empty());
  limiter.check("carol", "192.0.2.5", kT0);
  EXPECT_TRUE(limiter.take_dirty().empty()) << "a check is not a change";
}

TEST(FailedLoginLimiter, RestoreAndReplaceCarryTheState) {
  FailedLoginLimiter first(ThrottleLimits{});
  for (int i = 0; i < 4; ++i) first.record_failure("demo", "192.0.2.1", kT0);
  FailedLoginLimiter restarted(ThrottleLimits{});
  for (const auto& [key, tat] : first.snapshot(kT0)) restarted.restore(key, tat);
  EXPECT_TRUE(restarted.check("demo", "192.0.2.1", kT0 + kSecond).has_value());
  EXPECT_TRUE(restarted.take_dirty().empty()) << "restored state is not new";

  restarted.record_failure("carol", "192.0.2.2", kT0);
  restarted.replace({{"user:eve", kT0 + 600 * kSecond}, {"bogus", kT0 + 600 * kSecond}});
  EXPECT_FALSE(restarted.check("demo", "192.0.2.1", kT0).has_value());
  EXPECT_TRUE(restarted.check("eve", "192.0.2.1", kT0).has_value());
  EXPECT_EQ(keys_of(restarted.snapshot(kT0)), std::vector<std::string>{"user:eve"});
}

}  // namespace
}  // namespace gatehouse::guard
