#include "guard/failed_login.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "auth/username.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace gatehouse::guard {

namespace {

constexpr std::string_view kUserPrefix = "user:";
constexpr std::string_view kAddressPrefix = "addr:";
constexpr std::size_t kMaxNameBytes = 256;

std::int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string sha256_hex(std::string_view text) {
  unsigned char out[32];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), out, &length, EVP_sha256(), nullptr);
  return util::hex_encode(std::string_view(reinterpret_cast<const char*>(out), length));
}

}  // namespace

ThrottleLimits ThrottleLimits::from(const GuardConfig& config) {
  ThrottleLimits limits;
  limits.user_limit = config.failed_login_limit;
  limits.user_period_ms = to_ms(config.failed_login_period);
  limits.address_limit = config.address_failed_login_limit;
  limits.address_period_ms = to_ms(config.address_failed_login_period);
  return limits;
}

std::optional<std::string> normalize_address(std::string_view text) {
  bool network_given = false;
  if (text.ends_with("/64")) {
    network_given = true;
    text.remove_suffix(3);
  }
  if (const auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string plain(text);
  char buffer[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  if (!network_given && ::inet_pton(AF_INET, plain.c_str(), &v4) == 1) {
    ::inet_ntop(AF_INET, &v4, buffer, sizeof buffer);
    return std::string(buffer);
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, plain.c_str(), &v6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    if (network_given) return std::nullopt;
    std::memcpy(&v4, v6.s6_addr + 12, 4);
    ::inet_ntop(AF_INET, &v4, buffer, sizeof buffer);
    return std::string(buffer);
  }
  std::memset(v6.s6_addr + 8, 0, 8);
  ::inet_ntop(AF_INET6, &v6, buffer, sizeof buffer);
  return std::string(buffer) + "/64";
}

Outcome LoginThrottled::outcome(std::string scheme) const {
  const std::int64_t wait = std::max<std::int64_t>(decision.retry_after_s, 1);
  Outcome o = Outcome::fail(
      OutcomeKind::throttled, std::move(scheme),
      key.starts_with(kUserPrefix) ? "user_throttled" : "address_throttled",
      "Logins occurring too fast. Please wait: " + std::to_string(wait) + " seconds.");
  o.retry_after = static_cast<int>(std::min<std::int64_t>(wait, 1'000'000'000));
  o.response_headers = {
      {"X-RateLimit-Limit", std::to_string(decision.limit)},
      {"X-RateLimit-Remaining", std::to_string(decision.remaining)},
      {"X-RateLimit-Reset", std::to_string(decision.reset_s)},
      {"X-RateLimit-Limit-Period", std::to_string(period_s)},
      {"Access-Control-Expose-Headers",
       "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
       "X-RateLimit-Limit-Period"},
  };
  return o;
}

FailedLoginLimiter::FailedLoginLimiter(const ThrottleLimits& limits)
    : limits_(limits),
      by_user_(limits.user_limit, limits.user_period_ms, limits.max_keys),
      by_address_(limits.address_limit, limits.address_period_ms, limits.max_keys) {}

std::string FailedLoginLimiter::user_key(std::string_view user) {
  if (user.empty()) return {};
  const auto normalized = auth::normalize_username(user);
  const std::string_view name = normalized ? std::string_view(*normalized) : user;
  if (name.size() > kMaxNameBytes) return std::string(kUserPrefix) + "#" + sha256_hex(name);
  return std::string(kUserPrefix) + std::string(name);
}

std::string FailedLoginLimiter::address_key(std::string_view address) {
  if (auto normalized = normalize_address(address)) {
    return std::string(kAddressPrefix) + *normalized;
  }
  if (address.size() > kMaxNameBytes)
    return std::string(kAddressPrefix) + "#" + sha256_hex(address);
  return std::string(kAddressPrefix) + std::string(address);
}

const Gcra* FailedLoginLimiter::limiter_for(std::string_view key) const {
  if (key.starts_with(kUserPrefix)) return &by_user_;
  if (key.starts_with(kAddressPrefix)) return &by_address_;
  return nullptr;
}

Gcra* FailedLoginLimiter::limiter_for(std::string_view key) {
  return const_cast<Gcra*>(std::as_const(*this).limiter_for(key));
}

std::optional<LoginThrottled> FailedLoginLimiter::check(std::string_view user,
                                                        std::string_view address,
                                                        std::int64_t now_ms) const {
  std::optional<LoginThrottled> refused;
  const auto consider = [&](const Gcra& limiter, std::string key, std::int64_t period_ms) {
    if (!limiter.enabled() || key.empty()) return;
    const RateDecision d = limiter.check(key, now_ms);
    if (d.allowed) return;
    if (!refused || d.retry_after_s > refused->decision.retry_after_s) {
      refused = LoginThrottled{std::move(key), d, period_ms / 1000};
    }
  };
  consider(by_user_, user_key(user), limits_.user_period_ms);
  consider(by_address_, address_key(address), limits_.address_period_ms);
  if (refused) refusals_.fetch_add(1, std::memory_order_relaxed);
  return refused;
}

void FailedLoginLimiter::record_failure(std::string_view user, std::string_view address,
                                        std::int64_t now_ms) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  const auto count = [&](Gcra& limiter, std::string key) {
    if (!limiter.enabled() || key.empty()) return;
    const bool was_allowed = limiter.check(key, now_ms).allowed;
    const RateDecision after = limiter.record(key, now_ms);
    if (was_allowed && !after.allowed) {
      util::diag().warn("audit: failed-login limit reached for {}: locked for {} s", key,
                        after.retry_after_s);
    }
    mark_dirty(std::move(key));
  };
  count(by_user_, user_key(user));
  count(by_address_, address_key(address));
}

void FailedLoginLimiter::mark_dirty(std::string key) {
  std::lock_guard lock(dirty_mutex_);
  // Past the bound (a flood of distinct keys within one flush) a key stays in memory only.
  if (dirty_.size() < 2 * limits_.max_keys) dirty_.insert(std::move(key));
}

std::optional<KeyState> FailedLoginLimiter::inspect(std::string_view key,
                                                    std::int64_t now_ms) const {
  const Gcra* limiter = limiter_for(key);
  if (limiter == nullptr) return std::nullopt;
  const auto tat = limiter->tat(key);
  if (!tat || *tat <= now_ms) return std::nullopt;
  const RateDecision d = limiter->check(key, now_ms);
  KeyState s;
  s.key = std::string(key);
  s.limit = d.limit;
  s.period_s = (limiter == &by_user_ ? limits_.user_period_ms : limits_.address_period_ms) / 1000;
  s.failures = d.limit - d.remaining;
  s.locked = !d.allowed;
  s.retry_after_s = d.retry_after_s;
  s.reset_s = d.reset_s;
  return s;
}

std::vector<TatEntry> FailedLoginLimiter::snapshot(std::int64_t now_ms) const {
  std::vector<TatEntry> out = by_user_.snapshot(now_ms);
  std::vector<TatEntry> addresses = by_address_.snapshot(now_ms);
  out.insert(out.end(), std::make_move_iterator(addresses.begin()),
             std::make_move_iterator(addresses.end()));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<TatEntry> FailedLoginLimiter::take_dirty() {
  std::unordered_set<std::string> keys;
  {
    std::lock_guard lock(dirty_mutex_);
    keys.swap(dirty_);
  }
  std::vector<TatEntry> out;
  out.reserve(keys.size());
  for (const auto& key : keys) {
    const Gcra* limiter = limiter_for(key);
    if (limiter == nullptr) continue;
    if (const auto tat = limiter->tat(key)) out.emplace_back(key, *tat);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FailedLoginLimiter::restore(std::string_view key, std::int64_t tat_ms) {
  if (Gcra* limiter = limiter_for(key)) limiter->restore(key, tat_ms);
}

void FailedLoginLimiter::replace(const std::vector<TatEntry>& entries) {
  std::vector<TatEntry> users, addresses;
  for (const auto& entry : entries) {
    if (entry.first.starts_with(kUserPrefix)) users.push_back(entry);
    if (entry.first.starts_with(kAddressPrefix)) addresses.push_back(entry);
  }
  by_user_.replace(users);
  by_address_.replace(addresses);
}

void FailedLoginLimiter::reset(std::string_view key) {
  if (Gcra* limiter = limiter_for(key)) limiter->reset(key);
}

}  // namespace gatehouse::guard
