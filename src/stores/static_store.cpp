#include "stores/static_store.hpp"

namespace gatehouse::stores {

StaticStore::StaticStore(const std::vector<StaticUser>& users) {
  for (const StaticUser& user : users) {
    users_.try_emplace(user.name, PasswordRecord{user.name, user.password, user.roles, false});
  }
}

PasswordLookup StaticStore::find_password(std::string_view username) const {
  const auto found = users_.find(username);
  if (found == users_.end()) return {LookupStatus::unknown_user, {}, {}};
  return {LookupStatus::found, found->second, {}};
}

}  // namespace gatehouse::stores
