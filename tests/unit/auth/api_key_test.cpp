// API keys (SPEC §5, §6): the gh_<id>_<secret> shape, generation, verification against
// stores that can find keys, and failed-login throttling of key logins (SPEC §10).
#include "auth/api_key.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "util/clock.hpp"

namespace gatehouse::auth {
namespace {

const std::string kId = "0123456789abcdef";
const std::string kSecret = std::string(32, 'a') + std::string(32, '7');
const std::string kKey = "gh_" + kId + "_" + kSecret;

bool all_lower_hex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// ---- parse_api_key --------------------------------------------------------------------------

TEST(ParseApiKey, SplitsIdAndSecret) {
  const auto parts = parse_api_key(kKey);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->id, kId);
  EXPECT_EQ(parts->secret, kSecret);
}

TEST(ParseApiKey, RefusesEveryOtherShape) {
  const std::vector<std::string> bad = {
      "",
      "gh_",
      "gh__",
      kKey.substr(0, kKey.size() - 1),               // secret one short
      kKey + "a",                                    // secret one long
      "gh_" + kId.substr(1) + "_" + kSecret + "a",   // id one short, same total length
      "gh_" + kId + "a_" + kSecret.substr(1),        // id one long, same total length
      "GH_" + kId + "_" + kSecret,                   // prefix is lower case
      "gk_" + kId + "_" + kSecret,                   // wrong prefix
      "gh-" + kId + "_" + kSecret,                   // wrong separator after the prefix
      "gh_" + kId + "-" + kSecret,                   // wrong separator before the secret
      "gh_" + kId + "_" + kSecret.substr(1) + "A",   // upper-case hex in the secret
      "gh_0123456789ABCDEF_" + kSecret,              // upper-case hex in the id
      "gh_0123456789abcdeg_" + kSecret,              // not hex in the id
      "gh_" + kId + "_" + kSecret.substr(1) + "z",   // not hex in the secret
      "gh_" + kId + "_" + kSecret.substr(1) + " ",   // trailing space
      " gh_" + kId + "_" + kSecret.substr(1),        // leading space
      "gh_" + kId + "_" + kSecret.substr(1) + '\0',  // NUL
      "xx" + kKey.substr(2),
  };
  for (const auto& key : bad) EXPECT_FALSE(parse_api_key(key).has_value()) << key;
}

// ---- generate_api_key -----------------------------------------------------------------------

TEST(GenerateApiKey, HasTheDocumentedFormat) {
  const NewApiKey k = generate_api_key();
  ASSERT_EQ(k.key.size(), 3u + 16u + 1u + 64u);
  EXPECT_TRUE(k.key.starts_with("gh_"));
  EXPECT_EQ(k.key.substr(3, 16), k.id);
  EXPECT_EQ(k.key[19], '_');
  EXPECT_EQ(k.id.size(), 16u);
  EXPECT_TRUE(all_lower_hex(k.id));
  EXPECT_TRUE(all_lower_hex(k.key.substr(20)));
  const auto parts = parse_api_key(k.key);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->id, k.id);
}

TEST(GenerateApiKey, StoredHashIsSha256OfTheSecretPart) {
  const NewApiKey k = generate_api_key();
  const std::string secret = k.key.substr(20);
  std::array<unsigned char, 32> expected{};
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), expected.data());
  EXPECT_EQ(k.secret_hash, expected);
  EXPECT_EQ(hash_api_key_secret(secret), expected);
  // The hash covers the secret only, not the id or the whole key.
  EXPECT_NE(hash_api_key_secret(k.key), expected);
}

TEST(GenerateApiKey, ThousandKeysAreAllDifferent) {
  std::set<std::string> ids, keys, secrets;
  std::set<std::array<unsigned char, 32>> hashes;
  for (int i = 0; i < 1000; ++i) {
    const NewApiKey k = generate_api_key();
    ids.insert(k.id);
    keys.insert(k.key);
    secrets.insert(k.key.substr(20));
    hashes.insert(k.secret_hash);
  }
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(keys.size(), 1000u);
  EXPECT_EQ(secrets.size(), 1000u);
  EXPECT_EQ(hashes.size(), 1000u);
}

TEST(HashApiKeySecret, KnownVector) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  const std::array<unsigned char, 32> expected = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                                  0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                                  0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                                  0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  EXPECT_EQ(hash_api_key_secret("abc"), expected);
}

// ---- ApiKeyVerifier -------------------------------------------------------------------------

// A key store holding ApiKeyRecords by id; `fail` makes every lookup an error.
class KeyStore final : public CredentialStore {
 public:
  explicit KeyStore(std::string name = "keys") : name_(std::move(name)) {}
  std::string_view name() const noexcept override { return name_; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::api_key; }
  ApiKeyLookup find_api_key(std::string_view id) const override {
    ++lookups;
    if (fail) return {LookupStatus::error, nullptr};
    const auto it = keys.find(std::string(id));
    if (it == keys.end()) return {};
    return {LookupStatus::found, it->second};
  }

  // Adds a fresh key for `owner`; returns the full key string.
  std::string add(const std::string& owner, std::vector<std::string> roles = {"User"},
                  std::optional<std::int64_t> expires = std::nullopt, bool usable = true) {
    const NewApiKey k = generate_api_key();
    auto rec = std::make_shared<ApiKeyRecord>();
    rec->id = k.id;
    rec->username = owner;
    rec->secret_hash = k.secret_hash;
    rec->roles = std::move(roles);
    rec->expires = expires;
    rec->usable = usable;
    rec->last_used = std::make_shared<std::atomic<std::int64_t>>(0);
    keys[k.id] = rec;
    return k.key;
  }
  const ApiKeyRecord& record(const std::string& key) const {
    return *keys.at(std::string(parse_api_key(key)->id));
  }

  std::map<std::string, std::shared_ptr<ApiKeyRecord>> keys;
  bool fail = false;
  mutable int lookups = 0;

 private:
  std::string name_;
};

// Replaces the secret part of a key with a different, well-formed one.
std::string with_other_secret(const std::string& key) {
  std::string other = key;
  other.back() = other.back() == '0' ? '1' : '0';
  return other;
}

class ApiKeyVerifierTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  std::shared_ptr<KeyStore> store_ = std::make_shared<KeyStore>();
  ApiKeyVerifier verifier_{{store_}, clock_};
};

TEST_F(ApiKeyVerifierTest, RightKeyIsGrantedWithTheOwnersIdentity) {
  const std::string key = store_->add("demo", {"User", "Reader"});
  const Outcome o = verifier_.verify(key, "apikey");
  ASSERT_EQ(o.kind, OutcomeKind::granted) << o.reason;
  EXPECT_EQ(o.scheme, "apikey");
  ASSERT_NE(o.identity, nullptr);
  EXPECT_EQ(o.identity->subject, "demo");
  EXPECT_EQ(o.identity->roles, (std::vector<std::string>{"User", "Reader"}));
  EXPECT_EQ(o.identity->scheme, "apikey");
  EXPECT_EQ(o.identity->token_id, store_->record(key).id);
  EXPECT_EQ(o.identity->auth_time, clock_.now_s());
  EXPECT_FALSE(o.identity->expires_at.has_value());
}

TEST_F(ApiKeyVerifierTest, SchemeNameIsTheCallers) {
  const std::string key = store_->add("demo");
  const Outcome o = verifier_.verify(key, "basic");
  ASSERT_EQ(o.kind, OutcomeKind::granted);
  EXPECT_EQ(o.scheme, "basic");
  EXPECT_EQ(o.identity->scheme, "basic");
}

TEST_F(ApiKeyVerifierTest, WrongSecretIsDenied) {
  const std::string key = store_->add("demo");
  const Outcome o = verifier_.verify(with_other_secret(key), "apikey");
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_EQ(o.reason, "bad_secret");
  // The secret of another key with this id's record is just as wrong.
  const std::string other = store_->add("demo");
  const std::string swapped = key.substr(0, 20) + other.substr(20);
  EXPECT_EQ(verifier_.verify(swapped, "apikey").kind, OutcomeKind::denied);
}

TEST_F(ApiKeyVerifierTest, UnknownIdIsDenied) {
  store_->add("demo");
  const Outcome o = verifier_.verify(kKey, "apikey");
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_FALSE(verifier_.knows(kKey));
}

TEST_F(ApiKeyVerifierTest, MalformedKeyIsDeniedWithoutALookup) {
  const Outcome o = verifier_.verify("gh_nope", "apikey");
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(store_->lookups, 0);
  EXPECT_FALSE(verifier_.knows("gh_nope"));
}

TEST_F(ApiKeyVerifierTest, RevokedKeyIsDenied) {
  const std::string key = store_->add("demo", {"User"}, std::nullopt, /*usable=*/false);
  const Outcome o = verifier_.verify(key, "apikey");
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_EQ(o.reason, "revoked");
}

TEST_F(ApiKeyVerifierTest, KeyExpiresAtItsExpiryTime) {
  const std::int64_t expires = clock_.now_s() + 60;
  const std::string key = store_->add("demo", {"User"}, expires);
  const Outcome before = verifier_.verify(key, "apikey");
  ASSERT_EQ(before.kind, OutcomeKind::granted);
  EXPECT_EQ(before.identity->expires_at, expires);

  clock_.advance(std::chrono::seconds(59));
  EXPECT_EQ(verifier_.verify(key, "apikey").kind, OutcomeKind::granted);
  clock_.advance(std::chrono::seconds(1));
  const Outcome after = verifier_.verify(key, "apikey");
  EXPECT_EQ(after.kind, OutcomeKind::denied);
  EXPECT_EQ(after.reason, "expired");
  clock_.advance(std::chrono::hours(24));
  EXPECT_EQ(verifier_.verify(key, "apikey").kind, OutcomeKind::denied);
}

TEST_F(ApiKeyVerifierTest, ExpectedOwnerMustMatch) {
  const std::string key = store_->add("demo");
  EXPECT_EQ(verifier_.verify(key, "basic", std::string_view("demo")).kind, OutcomeKind::granted);
  const Outcome o = verifier_.verify(key, "basic", std::string_view("admin"));
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(o.identity, nullptr);
  EXPECT_EQ(verifier_.verify(key, "basic", std::string_view("Demo")).kind, OutcomeKind::denied);
}

TEST_F(ApiKeyVerifierTest, GrantUpdatesLastUsedAndFailuresDoNot) {
  const std::string key = store_->add("demo");
  const auto& last_used = *store_->record(key).last_used;
  ASSERT_EQ(last_used.load(), 0);

  EXPECT_EQ(verifier_.verify(with_other_secret(key), "apikey").kind, OutcomeKind::denied);
  EXPECT_EQ(last_used.load(), 0);

  ASSERT_EQ(verifier_.verify(key, "apikey").kind, OutcomeKind::granted);
  EXPECT_EQ(last_used.load(), clock_.now_s());

  clock_.advance(std::chrono::seconds(90));
  ASSERT_EQ(verifier_.verify(key, "apikey").kind, OutcomeKind::granted);
  EXPECT_EQ(last_used.load(), clock_.now_s());
}

TEST_F(ApiKeyVerifierTest, LastUsedNeverMovesBackwards) {
  const std::string key = store_->add("demo");
  auto& last_used = *store_->record(key).last_used;
  const std::int64_t later = clock_.now_s() + 1000;  // e.g. recorded by another instance
  last_used.store(later);
  ASSERT_EQ(verifier_.verify(key, "apikey").kind, OutcomeKind::granted);
  EXPECT_EQ(last_used.load(), later);
}

TEST_F(ApiKeyVerifierTest, StoreErrorIsAnError) {
  const std::string key = store_->add("demo");
  store_->fail = true;
  EXPECT_EQ(verifier_.verify(key, "apikey").kind, OutcomeKind::error);
  EXPECT_FALSE(verifier_.knows(key));
}

TEST_F(ApiKeyVerifierTest, KnowsOnlyKeysAStoreHas) {
  const std::string key = store_->add("demo");
  EXPECT_TRUE(verifier_.knows(key));
  // knows() looks at the id: it is used to route a Basic password, not to verify it.
  EXPECT_TRUE(verifier_.knows(with_other_secret(key)));
  EXPECT_FALSE(verifier_.knows(kKey));
  EXPECT_FALSE(verifier_.knows("demo-password"));
}

TEST_F(ApiKeyVerifierTest, ChainMovesOnFromAStoreThatDoesNotKnowTheKey) {
  auto empty = std::make_shared<KeyStore>("empty");
  auto second = std::make_shared<KeyStore>("second");
  const std::string key = second->add("carol");
  const ApiKeyVerifier chain({empty, second}, clock_);
  const Outcome o = chain.verify(key, "apikey");
  ASSERT_EQ(o.kind, OutcomeKind::granted);
  EXPECT_EQ(o.identity->subject, "carol");
  EXPECT_EQ(empty->lookups, 1);
}

TEST_F(ApiKeyVerifierTest, NoStoresMeansDisabledAndDenied) {
  const ApiKeyVerifier none({}, clock_);
  EXPECT_FALSE(none.enabled());
  EXPECT_TRUE(verifier_.enabled());
  EXPECT_EQ(none.verify(kKey, "apikey").kind, OutcomeKind::denied);
}

// ---- throttling (SPEC §10) ------------------------------------------------------------------

class ApiKeyThrottleTest : public ApiKeyVerifierTest {
 protected:
  static guard::ThrottleLimits limits() {
    guard::ThrottleLimits l;
    l.user_limit = 4;
    l.address_limit = 5;
    return l;
  }
  std::vector<std::string> counted_keys() const {
    std::vector<std::string> keys;
    for (const auto& [key, tat] : limiter_.snapshot(clock_.now_ms())) keys.push_back(key);
    return keys;
  }
  guard::FailedLoginLimiter limiter_{limits()};
  ApiKeyVerifier throttled_{{store_}, clock_, &limiter_};
};

TEST_F(ApiKeyThrottleTest, WrongAndUnknownKeysCountAgainstTheAddressOnly) {
  const std::string key = store_->add("demo");
  for (int i = 0; i < 2; ++i) {  // four failures, one below the address limit of 5
    EXPECT_EQ(throttled_.authenticate(with_other_secret(key), "apikey", "198.51.100.9").reason,
              "bad_secret");
    EXPECT_EQ(throttled_.authenticate(kKey, "apikey", "198.51.100.9").reason, "unknown_key");
  }
  EXPECT_EQ(counted_keys(), (std::vector<std::string>{"addr:198.51.100.9"}))
      << "a key names no trustworthy user: the owner is not locked by strangers";
  EXPECT_EQ(throttled_.authenticate(key, "apikey", "198.51.100.9").kind, OutcomeKind::granted);
  EXPECT_EQ(throttled_.authenticate(kKey, "apikey", "198.51.100.9").kind, OutcomeKind::denied);
  // Five failures: the address is refused, even with the right key, before any lookup.
  const int lookups = store_->lookups;
  const Outcome o = throttled_.authenticate(key, "apikey", "198.51.100.9");
  ASSERT_EQ(o.kind, OutcomeKind::throttled) << o.reason;
  EXPECT_EQ(o.reason, "address_throttled");
  EXPECT_EQ(o.scheme, "apikey");
  EXPECT_EQ(o.retry_after, 120);  // 600 s / 5
  EXPECT_EQ(store_->lookups, lookups);
  // The owner, from another address, is not affected.
  EXPECT_EQ(throttled_.authenticate(key, "apikey", "203.0.113.5").kind, OutcomeKind::granted);
}

TEST_F(ApiKeyThrottleTest, RevokedAndExpiredKeysAreNotGuesses) {
  const std::string revoked = store_->add("demo", {"User"}, std::nullopt, /*usable=*/false);
  const std::string expired = store_->add("demo", {"User"}, clock_.now_s() - 1);
  EXPECT_EQ(throttled_.authenticate(revoked, "apikey", "198.51.100.9").reason, "revoked");
  EXPECT_EQ(throttled_.authenticate(expired, "apikey", "198.51.100.9").reason, "expired");
  EXPECT_EQ(limiter_.failures(), 0u);
}

TEST_F(ApiKeyThrottleTest, KeyAsABasicPasswordCountsAgainstTheNamedUserToo) {
  const std::string bobs = store_->add("bob");
  EXPECT_EQ(throttled_.authenticate(bobs, "basic", "198.51.100.9", "alice").reason,
            "key_owner_mismatch");
  EXPECT_EQ(counted_keys(), (std::vector<std::string>{"addr:198.51.100.9", "user:alice"}));
  for (int i = 0; i < 3; ++i) throttled_.authenticate(bobs, "basic", "203.0.113.5", "alice");
  const std::string alices = store_->add("alice");
  EXPECT_EQ(throttled_.authenticate(alices, "basic", "192.0.2.1", "alice").kind,
            OutcomeKind::throttled)
      << "alice is locked, whichever of her secrets comes next";
}

TEST_F(ApiKeyThrottleTest, UnthrottledVerifyCountsNothing) {
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(throttled_.verify(kKey, "apikey").kind, OutcomeKind::denied);
  EXPECT_EQ(limiter_.failures(), 0u);
}

}  // namespace
}  // namespace gatehouse::auth
