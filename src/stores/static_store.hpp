#pragma once
// Users listed in the configuration ([[auth.static.users]]) as a password store, for tests and
// examples. Immutable: the list is fixed at construction and refresh() does nothing.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gatehouse/config.hpp"
#include "gatehouse/credential_store.hpp"

namespace gatehouse::stores {

class StaticStore final : public CredentialStore {
 public:
  // Names match exactly as configured (no case folding: the caller normalizes); when a name
  // appears twice the first entry wins (validate() reports duplicates).
  explicit StaticStore(const std::vector<StaticUser>& users);
  std::string_view name() const noexcept override { return "static"; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::password; }
  PasswordLookup find_password(std::string_view username) const override;

 private:
  struct TransparentHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_map<std::string, PasswordRecord, TransparentHash, std::equal_to<>> users_;
};

}  // namespace gatehouse::stores
