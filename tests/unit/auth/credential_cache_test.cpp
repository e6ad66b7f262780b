// The verified-credential cache (SPEC §5): HMAC keys over (store, user, stored hash, password),
// expiry, and its size bound.
#include "auth/credential_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "util/clock.hpp"

namespace gatehouse::auth {
namespace {

using namespace std::chrono_literals;

class CredentialCacheTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  CredentialCache cache_{"server-secret", 60'000, 1000, clock_};
};

TEST_F(CredentialCacheTest, KeyIsDeterministic) {
  EXPECT_EQ(cache_.key_for("db", "demo", "$argon2id$x", "pw"),
            cache_.key_for("db", "demo", "$argon2id$x", "pw"));
}

TEST_F(CredentialCacheTest, KeyDiffersWhenAnyFieldDiffers) {
  const auto base = cache_.key_for("db", "demo", "$argon2id$hash-1", "pw");
  EXPECT_NE(cache_.key_for("htpasswd:/x", "demo", "$argon2id$hash-1", "pw"), base);  // store
  EXPECT_NE(cache_.key_for("db", "demo2", "$argon2id$hash-1", "pw"), base);          // user
  EXPECT_NE(cache_.key_for("db", "demo", "$argon2id$hash-2", "pw"), base);   // password changed
  EXPECT_NE(cache_.key_for("db", "demo", "$argon2id$hash-1", "pw2"), base);  // password
  EXPECT_NE(cache_.key_for("db", "demo", "$argon2id$hash-1", ""), base);
}

TEST_F(CredentialCacheTest, KeyDoesNotConfuseFieldBoundaries) {
  // The same bytes split differently between the fields are a different tuple.
  std::set<CredentialCache::Key> keys = {
      cache_.key_for("db", "ab", "c", "d"), cache_.key_for("db", "a", "bc", "d"),
      cache_.key_for("db", "a", "b", "cd"), cache_.key_for("dba", "", "b", "cd"),
      cache_.key_for("", "dba", "b", "cd"), cache_.key_for("db", "abcd", "", ""),
      cache_.key_for("db", "", "", "abcd"), cache_.key_for("db", "", "abcd", ""),
  };
  EXPECT_EQ(keys.size(), 8u);
}

TEST_F(CredentialCacheTest, KeyDependsOnTheServerSecret) {
  CredentialCache other("another-secret", 60'000, 1000, clock_);
  EXPECT_NE(other.key_for("db", "demo", "h", "pw"), cache_.key_for("db", "demo", "h", "pw"));
}

TEST_F(CredentialCacheTest, KeyIsNotThePasswordOrAPlainDigestOfIt) {
  const auto key = cache_.key_for("db", "demo", "h", "pw");
  const std::string bytes(key.begin(), key.end());
  EXPECT_EQ(bytes.find("pw"), std::string::npos);
  EXPECT_NE(key, CredentialCache::Key{});
}

TEST_F(CredentialCacheTest, ContainsOnlyWhatWasInserted) {
  const auto a = cache_.key_for("db", "demo", "h", "right");
  const auto b = cache_.key_for("db", "demo", "h", "wrong");
  EXPECT_FALSE(cache_.contains(a));
  EXPECT_EQ(cache_.size(), 0u);
  cache_.insert(a);
  EXPECT_TRUE(cache_.contains(a));
  EXPECT_FALSE(cache_.contains(b));
  EXPECT_EQ(cache_.size(), 1u);
  cache_.insert(a);
  EXPECT_EQ(cache_.size(), 1u);
}

TEST_F(CredentialCacheTest, PasswordChangeMakesTheOldEntryUnreachable) {
  cache_.insert(cache_.key_for("db", "demo", "old-hash", "pw"));
  EXPECT_TRUE(cache_.contains(cache_.key_for("db", "demo", "old-hash", "pw")));
  EXPECT_FALSE(cache_.contains(cache_.key_for("db", "demo", "new-hash", "pw")));
}

TEST_F(CredentialCacheTest, EntriesExpireAfterTheTtl) {
  const auto k = cache_.key_for("db", "demo", "h", "pw");
  cache_.insert(k);
  clock_.advance(59'999ms);
  EXPECT_TRUE(cache_.contains(k));
  clock_.advance(1ms);
  EXPECT_FALSE(cache_.contains(k));
  clock_.advance(1h);
  EXPECT_FALSE(cache_.contains(k));
}

TEST_F(CredentialCacheTest, ReinsertingRenewsTheExpiry) {
  const auto k = cache_.key_for("db", "demo", "h", "pw");
  cache_.insert(k);
  clock_.advance(50s);
  cache_.insert(k);
  clock_.advance(50s);
  EXPECT_TRUE(cache_.contains(k));
  clock_.advance(10s);
  EXPECT_FALSE(cache_.contains(k));
}

TEST(CredentialCacheTtl, ZeroTtlDisablesTheCache) {
  FakeClock clock;
  CredentialCache cache("s", 0, 1000, clock);
  const auto k = cache.key_for("db", "demo", "h", "pw");
  cache.insert(k);
  EXPECT_FALSE(cache.contains(k));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(CredentialCacheTtl, NegativeTtlDisablesTheCache) {
  FakeClock clock;
  CredentialCache cache("s", -5, 1000, clock);
  const auto k = cache.key_for("db", "demo", "h", "pw");
  cache.insert(k);
  EXPECT_FALSE(cache.contains(k));
}

TEST(CredentialCacheBound, SizeNeverExceedsMaxEntries) {
  FakeClock clock;
  for (const std::size_t max : {1u, 10u, 16u, 64u, 100u, 1000u}) {
    CredentialCache cache("s", 60'000, max, clock);
    std::size_t largest = 0;
    for (int i = 0; i < 5000; ++i) {
      cache.insert(cache.key_for("db", "user" + std::to_string(i), "h", "pw"));
      largest = std::max(largest, cache.size());
    }
    EXPECT_LE(largest, max) << "max_entries=" << max;
    EXPECT_GT(cache.size(), 0u) << "max_entries=" << max;
  }
}

TEST(CredentialCacheBound, ZeroMaxEntriesCachesNothing) {
  FakeClock clock;
  CredentialCache cache("s", 60'000, 0, clock);
  const auto k = cache.key_for("db", "demo", "h", "pw");
  cache.insert(k);
  EXPECT_FALSE(cache.contains(k));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(CredentialCacheBound, ExpiredEntriesMakeRoomFirst) {
  FakeClock clock;
  CredentialCache cache("s", 1000, 160, clock);
  std::vector<CredentialCache::Key> old_keys;
  for (int i = 0; i < 2000; ++i) {
    old_keys.push_back(cache.key_for("db", "old" + std::to_string(i), "h", "pw"));
    cache.insert(old_keys.back());
  }
  clock.advance(2s);
  // Every old entry has expired; fresh ones are admitted and stay.
  std::vector<CredentialCache::Key> fresh;
  for (int i = 0; i < 50; ++i) {
    fresh.push_back(cache.key_for("db", "new" + std::to_string(i), "h", "pw"));
    cache.insert(fresh.back());
  }
  for (const auto& k : fresh) EXPECT_TRUE(cache.contains(k));
  for (const auto& k : old_keys) EXPECT_FALSE(cache.contains(k));
}

TEST(CredentialCacheConcurrency, ParallelInsertAndLookupKeepEveryEntry) {
  FakeClock clock;
  CredentialCache cache("s", 60'000, 100'000, clock);
  constexpr int kThreads = 4, kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const auto k = cache.key_for("db", std::to_string(t) + "/" + std::to_string(i), "h", "p");
        cache.insert(k);
        if (!cache.contains(k)) ADD_FAILURE() << "lost " << t << "/" << i;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(CredentialCacheConcurrency, BoundHoldsUnderConcurrentInserts) {
  // Inserts racing on different shards must not push the total past max_entries (the overshoot
  // would be permanent: every later insert at capacity evicts one and adds one).
  FakeClock clock;
  constexpr std::size_t kMax = 64;
  constexpr int kThreads = 8, kPerThread = 10'000;
  CredentialCache cache("s", 60'000, kMax, clock);
  std::vector<CredentialCache::Key> keys;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    keys.push_back(cache.key_for("db", "u" + std::to_string(i), "h", "p"));
  }
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) cache.insert(keys[i]);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.size(), kMax);
  std::size_t present = 0;
  for (const auto& k : keys) present += cache.contains(k) ? 1 : 0;
  EXPECT_LE(present, kMax);
  EXPECT_EQ(present, cache.size()) << "size() counts exactly the entries held";
}

}  // namespace
}  // namespace gatehouse::auth
