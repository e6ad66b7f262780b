#include "tokens/token_cache.hpp"

#include <algorithm>

namespace gatehouse::tokens {

VerifiedTokenCache::VerifiedTokenCache(std::size_t capacity)
    : per_shard_(std::max<std::size_t>(1, (capacity + kShards - 1) / kShards)) {}

VerifiedTokenCache::Shard& VerifiedTokenCache::shard_for(std::string_view token) const {
  // A different slice of the signature than the map's hash, so shards and buckets spread apart.
  std::size_t h = 0;
  const std::size_t end = token.size() > 16 ? token.size() - 16 : token.size();
  for (std::size_t i = end > 8 ? end - 8 : 0; i < end; ++i) {
    h = h * 131 + static_cast<unsigned char>(token[i]);
  }
  return shards_[h % kShards];
}

IdentityPtr VerifiedTokenCache::find(std::string_view token, std::int64_t now_s) const {
  Shard& shard = shard_for(token);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.entries.find(token);
  if (it == shard.entries.end()) return nullptr;
  if (now_s >= it->second.expires) {
    shard.entries.erase(it);
    return nullptr;
  }
  return it->second.who;
}

void VerifiedTokenCache::insert(std::string_view token, IdentityPtr who, std::int64_t expires_s,
                                std::int64_t now_s) {
  Shard& shard = shard_for(token);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= per_shard_) {
    std::erase_if(shard.entries,
                  [now_s](const auto& item) { return item.second.expires <= now_s; });
  }
  if (shard.entries.size() >= per_shard_) shard.entries.erase(shard.entries.begin());
  shard.entries.insert_or_assign(std::string(token), Entry{std::move(who), expires_s});
}

std::size_t VerifiedTokenCache::size() const {
  std::size_t n = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.entries.size();
  }
  return n;
}

}  // namespace gatehouse::tokens
