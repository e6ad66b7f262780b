#include "schemes/digest_replay.hpp"

#include <algorithm>
#include <functional>

namespace gatehouse::schemes {

NonceCounter::NonceCounter(const Clock& clock, std::chrono::milliseconds lifetime,
                           std::size_t capacity, std::size_t shards)
    : clock_(clock), lifetime_ms_(lifetime.count()) {
  shards = std::max<std::size_t>(shards, 1);
  capacity = std::max(capacity, shards);
  shard_capacity_ = (capacity + shards - 1) / shards;
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

NonceCounter::Shard& NonceCounter::shard_for(std::string_view nonce) {
  return *shards_[std::hash<std::string_view>{}(nonce) % shards_.size()];
}

void NonceCounter::erase_oldest(Shard& shard) {
  const auto oldest = shard.by_issue.begin();
  const std::string key(oldest->second);
  shard.by_issue.erase(oldest);
  shard.entries.erase(key);
}

void NonceCounter::drop_expired(Shard& shard, std::int64_t now_ms) {
  while (!shard.by_issue.empty() && now_ms - shard.by_issue.begin()->first >= lifetime_ms_) {
    erase_oldest(shard);
  }
}

NonceCounter::Verdict NonceCounter::record(std::string_view nonce, std::uint32_t nc,
                                           std::int64_t nonce_issued_ms) {
  const std::int64_t now = clock_.now_ms();
  if (now - nonce_issued_ms >= lifetime_ms_) return Verdict::stale;
  if (nc == 0) return Verdict::replayed;

  Shard& shard = shard_for(nonce);
  const std::lock_guard lock(shard.mutex);
  drop_expired(shard, now);

  const std::string key(nonce);
  if (const auto it = shard.entries.find(key); it != shard.entries.end()) {
    if (nc <= it->second.nc) return Verdict::replayed;
    it->second.nc = nc;
    return Verdict::accepted;
  }
  // Not tracked: new, or evicted. An evicted nonce was issued at or before the floor.
  if (nonce_issued_ms <= shard.floor_ms) return Verdict::stale;

  while (shard.entries.size() >= shard_capacity_ && !shard.by_issue.empty()) {
    const std::int64_t oldest = shard.by_issue.begin()->first;
    if (nonce_issued_ms < oldest) {
      // The newcomer is older than everything tracked and would be the next to go: refuse it
      // rather than evict a fresher nonce.
      return Verdict::stale;
    }
    shard.floor_ms = std::max(shard.floor_ms, oldest);
    erase_oldest(shard);
  }
  const auto [it, inserted] = shard.entries.emplace(key, Entry{nc, nonce_issued_ms});
  shard.by_issue.emplace(nonce_issued_ms, std::string_view(it->first));
  return Verdict::accepted;
}

void NonceCounter::sweep() {
  const std::int64_t now = clock_.now_ms();
  for (auto& shard : shards_) {
    const std::lock_guard lock(shard->mutex);
    drop_expired(*shard, now);
  }
}

std::size_t NonceCounter::size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    const std::lock_guard lock(shard->mutex);
    total += shard->entries.size();
  }
  return total;
}

}  // namespace gatehouse::schemes
