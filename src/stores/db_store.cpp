#include "stores/db_store.hpp"

#include "schemes/digest_compute.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace gatehouse::stores {

namespace {
std::string ha1_key(std::string_view algorithm, std::string_view realm, std::string_view user) {
  std::string key;
  key.reserve(algorithm.size() + realm.size() + user.size() + 2);
  key.append(algorithm).push_back('\x1f');
  key.append(realm).push_back('\x1f');
  key.append(user);
  return key;
}
}  // namespace

DbStore::DbStore(std::shared_ptr<state::StateStore> store, const Clock& clock)
    : store_(std::move(store)), clock_(clock) {
  snapshot_.publish(load(store_->generation(), nullptr));
}

const DbStore::Snapshot& DbStore::current() const {
  return snapshot_.get();
}

std::optional<bool> DbStore::user_active(std::string_view username) const {
  const auto& users = current().users;
  const auto it = users.find(username);
  if (it == users.end()) return std::nullopt;
  return !it->second.disabled;
}

std::shared_ptr<const DbStore::Snapshot> DbStore::load(
    std::uint64_t generation, const std::shared_ptr<const Snapshot>& previous) const {
  auto snap = std::make_shared<Snapshot>();
  snap->generation = generation;
  for (auto& row : store_->list_users()) {
    PasswordRecord rec{row.name, std::move(row.password_hash), std::move(row.roles), row.disabled};
    snap->users.emplace(row.name, std::move(rec));
  }
  for (auto& row : store_->list_api_keys(std::nullopt)) {
    auto rec = std::make_shared<ApiKeyRecord>();
    rec->id = row.id;
    rec->username = row.username;
    if (row.secret_hash.size() != rec->secret_hash.size()) continue;  // corrupt row: unusable
    std::memcpy(rec->secret_hash.data(), row.secret_hash.data(), rec->secret_hash.size());
    const auto owner = snap->users.find(row.username);
    const std::vector<std::string> owner_roles =
        owner != snap->users.end() ? owner->second.roles : std::vector<std::string>{};
    if (row.roles) {
      // A key's roles only ever narrow its owner's, even if the owner lost a role since.
      for (const auto& r : *row.roles) {
        if (std::find(owner_roles.begin(), owner_roles.end(), r) != owner_roles.end()) {
          rec->roles.push_back(r);
        }
      }
    } else {
      rec->roles = owner_roles;
    }
    rec->expires = row.expires;
    rec->usable = !row.revoked && owner != snap->users.end() && !owner->second.disabled;
    std::shared_ptr<std::atomic<std::int64_t>> counter;
    if (previous) {
      if (auto it = previous->keys.find(row.id); it != previous->keys.end()) {
        counter = it->second->last_used;
      }
    }
    if (!counter) counter = std::make_shared<std::atomic<std::int64_t>>(row.last_used.value_or(0));
    rec->last_used = std::move(counter);
    snap->keys.emplace(row.id, std::move(rec));
  }
  for (auto& row : store_->list_digest_ha1()) {
    const auto algorithm = schemes::parse_digest_algorithm(row.algorithm);
    if (!algorithm) continue;
    snap->userhash.emplace(
        ha1_key(row.algorithm, row.realm, schemes::userhash(*algorithm, row.username, row.realm)),
        row.username);
    snap->ha1.emplace(ha1_key(row.algorithm, row.realm, row.username), std::move(row.ha1));
  }
  return snap;
}

Ha1Lookup DbStore::find_ha1(std::string_view name, bool is_userhash, std::string_view realm,
                            Ha1Algorithm algorithm) const {
  const Snapshot& snap = current();
  const std::string_view alg = schemes::to_string(schemes::to_digest_algorithm(algorithm));
  std::string username(name);
  if (is_userhash) {
    const auto it = snap.userhash.find(ha1_key(alg, realm, name));
    if (it == snap.userhash.end()) return {};
    username = it->second;
  }
  const auto ha1 = snap.ha1.find(ha1_key(alg, realm, username));
  const auto user = snap.users.find(username);
  if (ha1 == snap.ha1.end() || user == snap.users.end()) return {};
  return {LookupStatus::found,
          Ha1Record{username, ha1->second, user->second.roles, user->second.disabled}};
}

PasswordLookup DbStore::find_password(std::string_view username) const {
  const Snapshot& snap = current();
  const auto it = snap.users.find(username);
  if (it == snap.users.end()) return {LookupStatus::unknown_user, {}, {}};
  return {LookupStatus::found, it->second, {}};
}

ApiKeyLookup DbStore::find_api_key(std::string_view id) const {
  const Snapshot& snap = current();
  const auto it = snap.keys.find(id);
  if (it == snap.keys.end()) return {};
  return {LookupStatus::found, it->second};
}

void DbStore::flush_last_used() noexcept {
  const std::shared_ptr<const Snapshot> snap = snapshot_.get_shared();
  std::vector<std::pair<std::string, std::int64_t>> uses;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, rec] : snap->keys) {
      const auto seen = rec->last_used->load(std::memory_order_relaxed);
      auto& written = flushed_[id];
      if (seen > written) uses.emplace_back(id, seen);
    }
  }
  if (uses.empty()) return;
  try {
    store_->touch_api_keys(uses);
    std::lock_guard lock(mutex_);
    for (const auto& [id, when] : uses) flushed_[id] = when;
  } catch (const std::exception&) {
    // The store is busy or gone; the next flush retries with the same values.
  }
}

void DbStore::upgrade_hash(std::string_view username, std::string_view old_hash,
                           std::string_view new_hash) noexcept {
  try {
    store_->replace_password_hash(username, old_hash, new_hash, clock_.now_s());
  } catch (const std::exception&) {
    // Not upgraded this time; the old hash still verifies and the next login tries again.
  }
}

void DbStore::refresh() noexcept {
  flush_last_used();
  try {
    const auto generation = store_->generation();
    const std::shared_ptr<const Snapshot> previous = snapshot_.get_shared();
    if (generation == previous->generation) return;
    snapshot_.publish(load(generation, previous));
  } catch (const std::exception&) {
    // Keep serving the last good snapshot.
  }
}

}  // namespace gatehouse::stores
