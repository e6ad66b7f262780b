#include "stores/static_store.hpp"

#include <stdexcept>

#include "auth/username.hpp"

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

}  // namespace gatehouse::stores
