#pragma once
// Users listed in the configuration ([[auth.static.users]]) as a password store, for tests and
// examples. Immutable: the list is fixed at construction and refresh() does nothing.
// Digest: users whose password is "{PLAIN}text" can give HA1 (computed on lookup); users with a
// password hash cannot, and are unknown to Digest.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gatehouse/config.hpp"
#include "gatehouse/credential_store.hpp"
#include "util/string_map.hpp"

namespace gatehouse::stores {

class StaticStore final : public CredentialStore {
 public:
  // Names are stored in their RFC 8265 form; two names with the same form, or an invalid name,
  // throw std::invalid_argument.
  explicit StaticStore(const std::vector<StaticUser>& users);
  std::string_view name() const noexcept override { return "static"; }
  bool can(StoreCapability c) const noexcept override {
    return c == StoreCapability::password || c == StoreCapability::digest_ha1;
  }
  PasswordLookup find_password(std::string_view username) const override;
  Ha1Lookup find_ha1(std::string_view name, bool is_userhash, std::string_view realm,
                     Ha1Algorithm algorithm) const override;

 private:
  util::StringMap<PasswordRecord> users_;
};

}  // namespace gatehouse::stores
