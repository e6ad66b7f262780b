#include "stores/static_store.hpp"

#include <stdexcept>

#include "auth/username.hpp"
#include "schemes/digest_compute.hpp"

namespace gatehouse::stores {

StaticStore::StaticStore(const std::vector<StaticUser>& users) {
  for (const StaticUser& user : users) {
    // Stored under the RFC 8265 form the Basic scheme looks users up by ("Alice" → "alice").
    auto name = auth::normalize_username(user.name);
    if (!name) throw std::invalid_argument("static user \"" + user.name + "\": invalid username");
    if (!users_.try_emplace(*name, PasswordRecord{*name, user.password, user.roles, false})
             .second) {
      throw std::invalid_argument("static user \"" + user.name + "\": listed twice");
    }
  }
}

PasswordLookup StaticStore::find_password(std::string_view username) const {
  const auto found = users_.find(username);
  if (found == users_.end()) return {LookupStatus::unknown_user, {}, {}};
  return {LookupStatus::found, found->second, {}};
}

namespace {
constexpr std::string_view kPlain = "{PLAIN}";
}  // namespace

Ha1Lookup StaticStore::find_ha1(std::string_view name, bool is_userhash, std::string_view realm,
                                Ha1Algorithm algorithm) const {
  const auto alg = schemes::to_digest_algorithm(algorithm);
  const PasswordRecord* record = nullptr;
  if (is_userhash) {
    // RFC 7616 §3.4.4: the client sent H(username ":" realm); few static users, so search.
    for (const auto& [user, rec] : users_) {
      if (schemes::userhash(alg, user, realm) == name) record = &rec;
    }
  } else if (const auto found = users_.find(name); found != users_.end()) {
    record = &found->second;
  }
  if (record == nullptr || !record->hash.starts_with(kPlain)) return {};
  const Secret password(std::string_view(record->hash).substr(kPlain.size()));
  return {LookupStatus::found,
          Ha1Record{record->username, schemes::ha1(alg, record->username, realm, password),
                    record->roles, record->disabled}};
}

}  // namespace gatehouse::stores
