#pragma once
// Verified access tokens (as Envoy's jwt_authn keeps them): an asymmetric signature check costs
// 13-64 µs, so each token is verified once and then found here by its bytes. Bounded in size;
// an entry never outlives the token's `exp`; revocation is still checked on every request by the
// caller. Sharded so the I/O threads rarely meet on a lock.
#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>

#include <functional>
#include <string>
#include <unordered_map>
#include "gatehouse/identity.hpp"

namespace gatehouse::tokens {

class VerifiedTokenCache {
 public:
  explicit VerifiedTokenCache(std::size_t capacity);
  // The identity a token was verified as, or null when absent or expired at `now_s`.
  IdentityPtr find(std::string_view token, std::int64_t now_s) const;
  // When the shard is full, expired entries go first, then an arbitrary one.
  void insert(std::string_view token, IdentityPtr who, std::int64_t expires_s, std::int64_t now_s);
  std::size_t size() const;

 private:
  struct Entry {
    IdentityPtr who;
    std::int64_t expires = 0;
  };
  // Only verified tokens are stored, so their signature's last bytes are random (an attacker
  // cannot mint valid tokens that collide): hashing 16 of them instead of the whole token.
  struct TailHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view token) const noexcept {
      return std::hash<std::string_view>{}(token.size() > 16 ? token.substr(token.size() - 16)
                                                             : token);
    }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry, TailHash, std::equal_to<>> entries;
  };
  static constexpr std::size_t kShards = 16;
  Shard& shard_for(std::string_view token) const;
  mutable std::array<Shard, kShards> shards_;
  std::size_t per_shard_;
};

}  // namespace gatehouse::tokens
