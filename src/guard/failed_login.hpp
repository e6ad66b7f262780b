#pragma once
// Failed-login throttling (SPEC §10; Roundup's API login limiter, reference/seed-systems.md A3):
// two GCRA limiters, one per user name ("user:NAME") and one per client address
// ("addr:ADDRESS", against password spraying across names). One instance is shared by every
// scheme and endpoint that checks a secret (Basic, /auth/login, Digest, API keys).
//
// The protocol for a login attempt:
//   1. check() before the secret is verified. A refusal is final: the right password is refused
//      too, and no hash runs.
//   2. record_failure() after a wrong secret or an unknown user. A success records nothing and
//      resets nothing (as Roundup): only time, or an operator, unlocks a key.
// Thread-safe; the request path never blocks on I/O here. Keys recorded since the last
// take_dirty() are what the server flushes to the state store (guard/throttle_sync.hpp).
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "gatehouse/config.hpp"
#include "gatehouse/outcome.hpp"
#include "guard/gcra.hpp"

namespace gatehouse::guard {

struct ThrottleLimits {
  int user_limit = 4;  // failed logins per user name per user_period; 0 = off
  std::int64_t user_period_ms = 600'000;
  int address_limit = 100;  // failed logins per client address per address_period; 0 = off
  std::int64_t address_period_ms = 600'000;
  std::size_t max_keys = 100'000;  // per limiter: the memory bound

  static ThrottleLimits from(const GuardConfig& config);
};

using TatEntry = std::pair<std::string, std::int64_t>;  // key, theoretical arrival time (ms)

// The client-address part of a limiter key, or nullopt when `text` is not an IP address:
// IPv4 as a dotted quad; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it
// carries; any other IPv6 address as its /64 network ("2001:db8:1:2::/64"), the block a single
// subscriber is routinely given (RFC 6177), so walking through it gains an attacker nothing. A
// zone index ("%eth0") is dropped. "2001:db8:1:2::/64" itself is accepted and returned as is.
std::optional<std::string> normalize_address(std::string_view text);

// A login the limiter refuses: which key refused it, and the numbers for the 429.
struct LoginThrottled {
  std::string key;  // "user:NAME" or "addr:ADDRESS": fine to log, never a secret
  RateDecision decision;
  std::int64_t period_s = 0;

  // OutcomeKind::throttled: Retry-After, Roundup's message ("Logins occurring too fast. Please
  // wait: N seconds.") and its headers X-RateLimit-Limit, -Remaining, -Reset (seconds from now,
  // not an epoch), -Limit-Period, with Access-Control-Expose-Headers naming them.
  Outcome outcome(std::string scheme) const;
};

// One key as `gatehouse throttle show` prints it.
struct KeyState {
  std::string key;
  int limit = 0;  // 0: that limiter is off
  std::int64_t period_s = 0;
  int failures = 0;  // counted in the current window (limit - remaining)
  bool locked = false;
  std::int64_t retry_after_s = 0;  // when locked
  std::int64_t reset_s = 0;        // until a clean slate
};

class FailedLoginLimiter {
 public:
  explicit FailedLoginLimiter(const ThrottleLimits& limits);

  // "user:" + the name normalized as the schemes do (RFC 8265, auth/username.hpp; a name that
  // does not normalize is kept as given). Names over 256 bytes are keyed by a SHA-256 of the
  // name ("user:#<hex>"), so junk cannot make keys large. Empty name → empty key.
  static std::string user_key(std::string_view user);
  // "addr:" + normalize_address(address), or the text as given when it is not an IP address.
  static std::string address_key(std::string_view address);

  // Would a login by `user` from `address` be allowed now? Counts nothing (but a refusal is
  // counted in refusals()). An empty `user` (no trustworthy name: an API key, a Digest userhash
  // nobody matches) checks the address alone. When both limits refuse, the longer wait wins.
  std::optional<LoginThrottled> check(std::string_view user, std::string_view address,
                                      std::int64_t now_ms) const;
  // Counts one failed login against the user (unless empty) and the address.
  void record_failure(std::string_view user, std::string_view address, std::int64_t now_ms);

  // `throttle show`: the state of one key ("user:..." or "addr:..."), nullopt when it has none.
  std::optional<KeyState> inspect(std::string_view key, std::int64_t now_ms) const;
  // Every key with state left at now_ms, sorted.
  std::vector<TatEntry> snapshot(std::int64_t now_ms) const;

  // Persistence. take_dirty(): the keys recorded since the last call, with their TAT now.
  // restore(): one stored key. replace(): the whole state becomes `entries` (after an operator
  // reset in another process). reset(): forgets one key.
  std::vector<TatEntry> take_dirty();
  void restore(std::string_view key, std::int64_t tat_ms);
  void replace(const std::vector<TatEntry>& entries);
  void reset(std::string_view key);

  std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }
  std::uint64_t refusals() const noexcept { return refusals_.load(std::memory_order_relaxed); }
  const ThrottleLimits& limits() const noexcept { return limits_; }

 private:
  // The limiter a key belongs to by its prefix; nullptr for a key of neither kind.
  const Gcra* limiter_for(std::string_view key) const;
  Gcra* limiter_for(std::string_view key);
  void mark_dirty(std::string key);

  ThrottleLimits limits_;
  Gcra by_user_;
  Gcra by_address_;
  mutable std::atomic<std::uint64_t> refusals_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::mutex dirty_mutex_;
  std::unordered_set<std::string> dirty_;  // bounded by 2 × max_keys
};

}  // namespace gatehouse::guard
