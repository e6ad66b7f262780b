#include "guard/throttle_sync.hpp"

#include <algorithm>
#include <vector>

namespace gatehouse::guard {

namespace {
constexpr std::int64_t kPruneEveryMs = 60'000;
}  // namespace

ThrottleSync::ThrottleSync(FailedLoginLimiter& limiter, state::StateStore& store,
                           const Clock& clock)
    : limiter_(limiter), store_(store), clock_(clock) {}

void ThrottleSync::load() {
  reload();
}

void ThrottleSync::reload() {
  const state::ThrottleTable table = store_.load_throttle(clock_.now_ms());
  std::vector<TatEntry> entries;
  entries.reserve(table.rows.size());
  for (const auto& row : table.rows) entries.emplace_back(row.key, row.tat_ms);
  limiter_.replace(entries);
  generation_ = table.generation;
}

void ThrottleSync::sync() {
  for (auto& [key, tat] : limiter_.take_dirty()) {
    auto& kept = pending_[std::move(key)];
    kept = std::max(kept, tat);
  }
  // While the store is failing, keep a bounded backlog (the limiter itself is unaffected).
  while (pending_.size() > 2 * limiter_.limits().max_keys) pending_.erase(pending_.begin());
  if (!pending_.empty()) {
    std::vector<state::ThrottleRow> rows;
    rows.reserve(pending_.size());
    for (const auto& [key, tat] : pending_) rows.push_back({key, tat});
    // false: a reset happened since this server last matched the table; the reload below
    // applies it, and these counts go with it.
    store_.save_throttle(rows, generation_);
    pending_.clear();
  }
  if (store_.throttle_generation() != generation_) reload();
  const std::int64_t now = clock_.now_ms();
  if (now >= next_prune_ms_) {
    store_.delete_expired_throttle(now);
    next_prune_ms_ = now + kPruneEveryMs;
  }
}

}  // namespace gatehouse::guard
