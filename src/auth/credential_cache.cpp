#include "auth/credential_cache.hpp"

#include <stdexcept>

#include <cstring>

namespace gatehouse::auth {

CredentialCache::CredentialCache(std::string secret, std::int64_t ttl_ms, std::size_t max_entries,
                                 const Clock& clock)
    : ttl_ms_(ttl_ms), max_entries_(max_entries), clock_(clock) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  crypto_auth_hmacsha256_init(&keyed_, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  sodium_memzero(secret.data(), secret.size());
}

std::size_t CredentialCache::KeyHash::operator()(const Key& k) const noexcept {
  std::size_t h;
  std::memcpy(&h, k.data() + 8, sizeof h);  // the key is already a keyed hash
  return h;
}

CredentialCache::Key CredentialCache::key_for(std::string_view store, std::string_view username,
                                              std::string_view stored_hash,
                                              std::string_view password) const {
  // Length-prefixed fields, so no two different tuples serialize alike.
  crypto_auth_hmacsha256_state state = keyed_;
  for (std::string_view part : {store, username, stored_hash, password}) {
    const auto n = static_cast<std::uint32_t>(part.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(&n), sizeof n);
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                  part.size());
  }
  Key key{};
  crypto_auth_hmacsha256_final(&state, key.data());
  sodium_memzero(&state, sizeof state);
  return key;
}

bool CredentialCache::contains(const Key& key) const {
  if (ttl_ms_ <= 0) return false;
  const auto now = clock_.now_ms();
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.expiry_ms.find(key);
  return it != shard.expiry_ms.end() && it->second > now;
}

void CredentialCache::sweep_expired(std::int64_t now) {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    const auto removed =
        std::erase_if(shard.expiry_ms, [now](const auto& e) { return e.second <= now; });
    entries_.fetch_sub(removed, std::memory_order_relaxed);
  }
}

void CredentialCache::insert(const Key& key) {
  if (ttl_ms_ <= 0 || max_entries_ == 0) return;
  const auto now = clock_.now_ms();
  // The bound is global. At capacity, expired entries anywhere make room first (one shard lock
  // at a time, so no lock ordering issue); this runs only on a miss, after a slow hash anyway.
  if (entries_.load(std::memory_order_relaxed) >= max_entries_) sweep_expired(now);
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (auto it = shard.expiry_ms.find(key); it != shard.expiry_ms.end()) {
    it->second = now + ttl_ms_;
    return;
  }
  // Reserve a slot atomically so concurrent inserts in other shards cannot overshoot the bound;
  // when none is free, replace an entry of this shard (the count stays the same).
  std::size_t count = entries_.load(std::memory_order_relaxed);
  do {
    if (count >= max_entries_) {
      if (shard.expiry_ms.empty()) return;  // every slot is live and held by other shards
      shard.expiry_ms.erase(shard.expiry_ms.begin());
      shard.expiry_ms.emplace(key, now + ttl_ms_);
      return;
    }
  } while (!entries_.compare_exchange_weak(count, count + 1, std::memory_order_relaxed));
  shard.expiry_ms.emplace(key, now + ttl_ms_);
}

std::size_t CredentialCache::size() const {
  return entries_.load(std::memory_order_relaxed);
}

}  // namespace gatehouse::auth
