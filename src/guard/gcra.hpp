#pragma once
// The Generic Cell Rate Algorithm (ATM Forum TM 4.1; as Roundup's rate_limit.py uses it for
// failed logins, SPEC §10): `limit` events per `period`, tracked per key as one number, the
// theoretical arrival time (TAT). An event at t moves TAT to max(TAT, t) + period/limit; a key is
// refused while TAT - t > period - period/limit, i.e. once `limit` events sit inside the window.
// check() does not consume, so a limiter can refuse a login before its password is looked at.
// Memory is bounded: keys whose TAT has passed carry no state and are dropped first.
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/string_map.hpp"

namespace gatehouse::guard {

struct RateDecision {
  bool allowed = true;
  int limit = 0;
  int remaining = 0;               // events left before refusal
  std::int64_t retry_after_s = 0;  // when refused: seconds until one more event is allowed
  std::int64_t reset_s = 0;        // seconds until the key is back to a clean slate
};

class Gcra {
 public:
  // limit <= 0 disables the limiter (everything allowed, nothing tracked).
  Gcra(int limit, std::int64_t period_ms, std::size_t max_keys = 100000);

  RateDecision check(std::string_view key, std::int64_t now_ms) const;
  // Counts one event (a failed login) and returns the state after it.
  RateDecision record(std::string_view key, std::int64_t now_ms);
  void reset(std::string_view key);

  // For persistence and `throttle show`: the keys with state left at now_ms, and their TAT.
  std::vector<std::pair<std::string, std::int64_t>> snapshot(std::int64_t now_ms) const;
  // The TAT of one key; nullopt when it carries no state.
  std::optional<std::int64_t> tat(std::string_view key) const;
  // Sets a key's TAT (from the state store). Within the memory bound: when the key's shard is
  // full, the key closest to a clean slate makes room, unless that is this one.
  void restore(std::string_view key, std::int64_t tat_ms);
  // Forgets every key, then restores `entries`; each shard changes in one step, so a concurrent
  // check() sees a shard before or after, never empty in between.
  void replace(const std::vector<std::pair<std::string, std::int64_t>>& entries);
  bool enabled() const noexcept { return limit_ > 0; }

 private:
  static constexpr std::size_t kShards = 8;
  struct Shard {
    mutable std::mutex mutex;
    util::StringMap<std::int64_t> tat;
  };
  Shard& shard_for(std::string_view key) const;
  std::size_t shard_index(std::string_view key) const;
  // Inserts or sets `key` in a locked shard, evicting the key closest to a clean slate when the
  // shard is full (unless the new TAT is lower still: then nothing changes).
  void put(Shard& shard, std::string_view key, std::int64_t tat_ms);
  RateDecision decide(std::int64_t tat, std::int64_t now_ms) const;

  int limit_;
  std::int64_t period_ms_;
  std::int64_t interval_ms_;  // period / limit
  std::size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace gatehouse::guard
