#pragma once
// Nonce-count replay protection for Digest (RFC 7616 §3.4, §5.4): per nonce, the nc of each
// accepted request must be strictly greater than the last one, in bounded memory.
//
// The trade-off. Stateless nonces (digest_nonce.hpp) cost nothing to issue, so the table of
// counters cannot hold every nonce forever. It holds at most `capacity` nonces (split over
// shards, each with its own mutex and its own share of the capacity). When a shard is full it
// evicts its oldest-issued nonces and raises that shard's floor to the newest issue time it
// evicted. From then on a nonce that is not in the table and was issued at or before the floor is
// refused as `stale` — it may be one whose counter was evicted, and accepting it would make its
// old nc values replayable. So a flood of fresh nonces can never turn an old nonce into a
// replayable one; the worst it can do is make clients with older nonces take one more round
// trip (401 with stale=true, a fresh nonce, a silent retry without prompting the user).
// A nonce maps to one shard by its text, so the per-shard floor is exact for that nonce.
//
// Expired nonces need no counter: NonceService already answers them `stale`, and record()
// refuses them too. Their entries are dropped by sweep() and, opportunistically, by record() in
// the shard it touches.
//
// Call record() only after the response hash has verified: then only a user who knows a
// password can add entries, and an unauthenticated client cannot push other users' nonces out.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/clock.hpp"

namespace gatehouse::schemes {

class NonceCounter {
 public:
  enum class Verdict {
    accepted,  // nc is greater than any seen for this nonce; recorded
    replayed,  // nc is not greater than the last accepted one: deny
    stale,     // expired, or possibly evicted: answer stale=true with a fresh nonce
  };

  // `lifetime` is the nonce lifetime of the NonceService; `clock` must outlive the counter.
  NonceCounter(const Clock& clock, std::chrono::milliseconds lifetime,
               std::size_t capacity = 100'000, std::size_t shards = 16);

  // Checks nc against the nonce's last accepted nc and records it when it is greater.
  // nc 0 is never accepted (counts start at 00000001).
  Verdict record(std::string_view nonce, std::uint32_t nc, std::int64_t nonce_issued_ms);
  bool accept(std::string_view nonce, std::uint32_t nc, std::int64_t nonce_issued_ms) {
    return record(nonce, nc, nonce_issued_ms) == Verdict::accepted;
  }

  // Drops the entries of expired nonces in every shard.
  void sweep();
  std::size_t size() const;

 private:
  struct Entry {
    std::uint32_t nc = 0;
    std::int64_t issued_ms = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
    // Issue time → nonce, oldest first; the views point into the keys of `entries`.
    std::multimap<std::int64_t, std::string_view> by_issue;
    // Untracked nonces issued at or before this are refused (see the comment at the top).
    std::int64_t floor_ms = INT64_MIN;
  };

  Shard& shard_for(std::string_view nonce);
  void drop_expired(Shard& shard, std::int64_t now_ms);
  void erase_oldest(Shard& shard);

  const Clock& clock_;
  std::int64_t lifetime_ms_;
  std::size_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace gatehouse::schemes
