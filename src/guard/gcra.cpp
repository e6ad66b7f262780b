#include "guard/gcra.hpp"

#include <algorithm>
#include <functional>

namespace gatehouse::guard {

namespace {
std::int64_t ceil_seconds(std::int64_t ms) {
  return ms <= 0 ? 0 : (ms + 999) / 1000;
}
}  // namespace

Gcra::Gcra(int limit, std::int64_t period_ms, std::size_t max_keys)
    : limit_(limit),
      period_ms_(std::max<std::int64_t>(period_ms, 1)),
      interval_ms_(limit > 0 ? std::max<std::int64_t>(period_ms_ / limit, 1) : 1),
      per_shard_(std::max<std::size_t>(1, (max_keys + kShards - 1) / kShards)) {}

std::size_t Gcra::shard_index(std::string_view key) const {
  return std::hash<std::string_view>{}(key) % kShards;
}

Gcra::Shard& Gcra::shard_for(std::string_view key) const {
  return shards_[shard_index(key)];
}

void Gcra::put(Shard& shard, std::string_view key, std::int64_t tat_ms) {
  if (const auto it = shard.tat.find(key); it != shard.tat.end()) {
    it->second = tat_ms;
    return;
  }
  if (shard.tat.size() >= per_shard_) {
    const auto lowest =
        std::min_element(shard.tat.begin(), shard.tat.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    if (lowest->second >= tat_ms) return;
    shard.tat.erase(lowest);
  }
  shard.tat.emplace(std::string(key), tat_ms);
}

RateDecision Gcra::decide(std::int64_t tat, std::int64_t now_ms) const {
  RateDecision d;
  d.limit = limit_;
  const std::int64_t ahead = std::max<std::int64_t>(tat - now_ms, 0);  // backlog in the window
  const std::int64_t tolerance = period_ms_ - interval_ms_;
  d.allowed = ahead <= tolerance;
  d.remaining = static_cast<int>(std::clamp<std::int64_t>((period_ms_ - ahead) / interval_ms_, 0,
                                                          static_cast<std::int64_t>(limit_)));
  if (!d.allowed) d.retry_after_s = ceil_seconds(ahead - tolerance);
  d.reset_s = ceil_seconds(ahead);
  return d;
}

RateDecision Gcra::check(std::string_view key, std::int64_t now_ms) const {
  if (limit_ <= 0) return RateDecision{true, 0, 0, 0, 0};
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.tat.find(key);
  return decide(it == shard.tat.end() ? now_ms : it->second, now_ms);
}

RateDecision Gcra::record(std::string_view key, std::int64_t now_ms) {
  if (limit_ <= 0) return RateDecision{true, 0, 0, 0, 0};
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.tat.find(key);
  if (it == shard.tat.end()) {
    if (shard.tat.size() >= per_shard_) {
      std::erase_if(shard.tat, [now_ms](const auto& item) { return item.second <= now_ms; });
    }
    // Still full of live keys (a flood of distinct names or addresses): forget the one closest
    // to a clean slate rather than grow without bound.
    if (shard.tat.size() >= per_shard_) {
      shard.tat.erase(
          std::min_element(shard.tat.begin(), shard.tat.end(),
                           [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
    it = shard.tat.emplace(std::string(key), now_ms).first;
  }
  // Events beyond the refusal point do not push TAT further: a locked-out key unlocks one
  // interval after it was refused, however hard it keeps knocking (as Roundup's limiter).
  const std::int64_t tolerance = period_ms_ - interval_ms_;
  const std::int64_t base = std::max(it->second, now_ms);
  if (base - now_ms <= tolerance) it->second = base + interval_ms_;
  return decide(it->second, now_ms);
}

void Gcra::reset(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (const auto it = shard.tat.find(key); it != shard.tat.end()) shard.tat.erase(it);
}

std::vector<std::pair<std::string, std::int64_t>> Gcra::snapshot(std::int64_t now_ms) const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (const auto& [key, tat] : shard.tat) {
      if (tat > now_ms) out.emplace_back(key, tat);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::int64_t> Gcra::tat(std::string_view key) const {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.tat.find(key);
  if (it == shard.tat.end()) return std::nullopt;
  return it->second;
}

void Gcra::restore(std::string_view key, std::int64_t tat_ms) {
  if (limit_ <= 0) return;
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  put(shard, key, tat_ms);
}

void Gcra::replace(const std::vector<std::pair<std::string, std::int64_t>>& entries) {
  std::array<std::vector<const std::pair<std::string, std::int64_t>*>, kShards> by_shard;
  if (limit_ > 0) {
    for (const auto& entry : entries) by_shard[shard_index(entry.first)].push_back(&entry);
  }
  for (std::size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    shard.tat.clear();
    for (const auto* entry : by_shard[i]) put(shard, entry->first, entry->second);
  }
}

}  // namespace gatehouse::guard
