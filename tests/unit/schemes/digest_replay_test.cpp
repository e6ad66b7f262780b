// Nonce-count replay protection: strictly increasing nc per nonce, bounded memory.
#include "schemes/digest_replay.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gatehouse::schemes {
namespace {

using namespace std::chrono_literals;
using Verdict = NonceCounter::Verdict;

class ReplayTest : public ::testing::Test {
 protected:
  FakeClock clock;
  std::int64_t now() const { return clock.now_ms(); }
};

TEST_F(ReplayTest, AcceptsIncreasingCountsAndRefusesRepeatsAndDecreases) {
  NonceCounter counter(clock, 300s);
  const std::int64_t issued = now();
  EXPECT_TRUE(counter.accept("n1", 1, issued));
  EXPECT_EQ(counter.record("n1", 1, issued), Verdict::replayed);  // same nc
  EXPECT_TRUE(counter.accept("n1", 2, issued));
  EXPECT_TRUE(counter.accept("n1", 7, issued));                   // gaps are fine
  EXPECT_EQ(counter.record("n1", 5, issued), Verdict::replayed);  // lower nc
  EXPECT_EQ(counter.record("n1", 7, issued), Verdict::replayed);
  EXPECT_TRUE(counter.accept("n1", 8, issued));
  EXPECT_TRUE(counter.accept("n1", 0xffffffffu, issued));
  EXPECT_FALSE(counter.accept("n1", 0xffffffffu, issued));
  EXPECT_EQ(counter.size(), 1u);
}

TEST_F(ReplayTest, CountsAreKeptPerNonce) {
  NonceCounter counter(clock, 300s);
  EXPECT_TRUE(counter.accept("n1", 5, now()));
  EXPECT_TRUE(counter.accept("n2", 1, now()));
  EXPECT_FALSE(counter.accept("n1", 5, now()));
  EXPECT_FALSE(counter.accept("n2", 1, now()));
  EXPECT_EQ(counter.size(), 2u);
}

TEST_F(ReplayTest, NcZeroIsNeverAccepted) {
  NonceCounter counter(clock, 300s);
  EXPECT_EQ(counter.record("n", 0, now()), Verdict::replayed);
  EXPECT_EQ(counter.size(), 0u);
}

TEST_F(ReplayTest, ExpiredNoncesAreStaleAndTheirEntriesSwept) {
  NonceCounter counter(clock, 300s);
  const std::int64_t issued = now();
  EXPECT_TRUE(counter.accept("old", 1, issued));
  clock.advance(100s);
  EXPECT_TRUE(counter.accept("newer", 1, now()));
  clock.advance(200s);  // "old" has expired, "newer" has not
  EXPECT_EQ(counter.record("old", 2, issued), Verdict::stale);
  counter.sweep();
  EXPECT_EQ(counter.size(), 1u);
  // A dropped entry does not make the expired nonce usable again.
  EXPECT_EQ(counter.record("old", 1, issued), Verdict::stale);
  EXPECT_TRUE(counter.accept("newer", 2, now() - 200'000));
}

TEST_F(ReplayTest, ACapacityFloodDoesNotMakeAnEvictedNonceReplayable) {
  NonceCounter counter(clock, 300s, /*capacity=*/8, /*shards=*/1);
  const std::int64_t victim_issued = now();
  ASSERT_TRUE(counter.accept("victim", 1, victim_issued));
  ASSERT_TRUE(counter.accept("victim", 2, victim_issued));
  for (int i = 0; i < 100; ++i) {
    clock.advance(1ms);
    ASSERT_TRUE(counter.accept("flood" + std::to_string(i), 1, now())) << i;
  }
  EXPECT_LE(counter.size(), 8u);
  // The victim was evicted: its old counts must not come back, nor may new ones be accepted
  // without a counter — the client is sent a fresh nonce.
  EXPECT_EQ(counter.record("victim", 1, victim_issued), Verdict::stale);
  EXPECT_EQ(counter.record("victim", 2, victim_issued), Verdict::stale);
  EXPECT_EQ(counter.record("victim", 3, victim_issued), Verdict::stale);
  // Any untracked nonce at or before the newest evicted one is refused the same way...
  EXPECT_EQ(counter.record("unseen-old", 1, victim_issued + 50), Verdict::stale);
  // ...while tracked flood nonces keep their counters and fresh nonces are still accepted.
  EXPECT_EQ(counter.record("flood99", 1, now()), Verdict::replayed);
  EXPECT_TRUE(counter.accept("flood99", 2, now()));
  EXPECT_TRUE(counter.accept("fresh", 1, now()));
}

// Nonces issued in the same millisecond: evicting one of them must not let it back in by
// evicting its twin, which is what the floor is for.
TEST_F(ReplayTest, AnEvictedNonceCannotComeBackThroughAnIssueTimeTie) {
  NonceCounter counter(clock, 300s, /*capacity=*/2, /*shards=*/1);
  const std::int64_t t = now();
  ASSERT_TRUE(counter.accept("a", 1, t));
  ASSERT_TRUE(counter.accept("b", 1, t));
  clock.advance(1ms);
  ASSERT_TRUE(counter.accept("c", 1, now()));  // evicts "a" (oldest, first in)
  EXPECT_EQ(counter.record("a", 1, t), Verdict::stale);
  EXPECT_EQ(counter.record("a", 2, t), Verdict::stale);
  EXPECT_EQ(counter.record("b", 1, t), Verdict::replayed);  // still tracked
}

TEST_F(ReplayTest, AFloodOfOlderNoncesDoesNotEvictANewerTrackedOne) {
  NonceCounter counter(clock, 300s, /*capacity=*/8, /*shards=*/1);
  const std::int64_t start = now();
  clock.advance(10s);
  const std::int64_t victim_issued = now();
  ASSERT_TRUE(counter.accept("victim", 5, victim_issued));
  for (int i = 0; i < 100; ++i) {
    counter.record("older" + std::to_string(i), 1, start + i);  // accepted or stale, never a hit
  }
  EXPECT_EQ(counter.record("victim", 5, victim_issued), Verdict::replayed);
  EXPECT_EQ(counter.record("victim", 4, victim_issued), Verdict::replayed);
  EXPECT_TRUE(counter.accept("victim", 6, victim_issued));
}

TEST_F(ReplayTest, ShardedCapacityHoldsAndEvictedNoncesStayRefused) {
  NonceCounter counter(clock, 300s, /*capacity=*/64, /*shards=*/4);
  std::vector<std::int64_t> issued;
  for (int i = 0; i < 1000; ++i) {
    clock.advance(1ms);
    issued.push_back(now());
    ASSERT_TRUE(counter.accept("n" + std::to_string(i), 1, now()));
  }
  EXPECT_LE(counter.size(), 64u);
  int tracked = 0;
  for (int i = 0; i < 1000; ++i) {
    const Verdict v = counter.record("n" + std::to_string(i), 1, issued[i]);
    EXPECT_NE(v, Verdict::accepted) << i;  // nc 1 again: replayed if tracked, else stale
    if (v == Verdict::replayed) ++tracked;
  }
  EXPECT_GT(tracked, 0);
  EXPECT_LE(tracked, 64);
}

TEST_F(ReplayTest, ConcurrentRequestsNeverAcceptACountTwice) {
  NonceCounter counter(clock, 300s, /*capacity=*/1000, /*shards=*/8);
  constexpr int kThreads = 4;
  constexpr std::uint32_t kCounts = 2000;
  constexpr int kNonces = 16;
  const std::int64_t issued = now();
  // accepted[t] = the (nonce, nc) pairs thread t got accepted.
  std::vector<std::vector<std::pair<int, std::uint32_t>>> accepted(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every thread presents every (nonce, nc) pair, as a replaying attacker racing the client.
      for (std::uint32_t nc = 1; nc <= kCounts; ++nc) {
        for (int n = 0; n < kNonces; ++n) {
          if (counter.accept("nonce" + std::to_string(n), nc, issued)) {
            accepted[t].emplace_back(n, nc);
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::pair<int, std::uint32_t>> all;
  std::size_t total = 0;
  for (const auto& list : accepted) {
    total += list.size();
    all.insert(list.begin(), list.end());
    // Within one thread, a nonce's accepted counts are strictly increasing.
    std::map<int, std::uint32_t> last;
    for (const auto& [n, nc] : list) {
      EXPECT_GT(nc, last[n]);
      last[n] = nc;
    }
  }
  EXPECT_EQ(all.size(), total) << "a (nonce, nc) pair was accepted by two threads";
  for (int n = 0; n < kNonces; ++n) {
    EXPECT_TRUE(all.count({n, kCounts})) << n;  // nothing higher exists, so someone got it
    EXPECT_FALSE(counter.accept("nonce" + std::to_string(n), kCounts, issued)) << n;
    EXPECT_TRUE(counter.accept("nonce" + std::to_string(n), kCounts + 1, issued)) << n;
  }
  EXPECT_EQ(counter.size(), static_cast<std::size_t>(kNonces));
}

}  // namespace
}  // namespace gatehouse::schemes
