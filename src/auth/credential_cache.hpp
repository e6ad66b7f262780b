#pragma once
// Remembers, for a short time, that a (store, user, stored hash, password) combination verified,
// so argon2id/bcrypt are not recomputed on every request (SPEC §5). Entries are keyed by an
// HMAC-SHA-256 under a server secret: the cache holds no password and no unsalted digest of one.
// The stored hash is part of the key, so a password change makes old entries unreachable.
#include <sodium.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "util/clock.hpp"

namespace gatehouse::auth {

class CredentialCache {
 public:
  using Key = std::array<unsigned char, 32>;

  CredentialCache(std::string secret, std::int64_t ttl_ms, std::size_t max_entries,
                  const Clock& clock);

  Key key_for(std::string_view store, std::string_view username, std::string_view stored_hash,
              std::string_view password) const;
  bool contains(const Key& key) const;
  void insert(const Key& key);
  std::size_t size() const;

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<Key, std::int64_t, KeyHash> expiry_ms;
  };
  static constexpr std::size_t kShards = 16;
  void sweep_expired(std::int64_t now);
  Shard& shard_for(const Key& key) const { return shards_[key[0] % kShards]; }

  // HMAC-SHA-256 state keyed once with the server secret; each key_for() copies it.
  crypto_auth_hmacsha256_state keyed_{};
  std::int64_t ttl_ms_;
  std::size_t max_entries_;
  mutable std::atomic<std::size_t> entries_{0};
  const Clock& clock_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace gatehouse::auth
