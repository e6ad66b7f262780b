#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

// Who a request acts as, once authenticated. Immutable: built once by a scheme, shared read-only.
struct Identity {
  std::string subject;             // the local user name (normalized)
  std::vector<std::string> roles;  // effective roles for this credential
  std::string scheme;              // "basic", "apikey", ...
  std::string store;               // credential store that vouched: "db", "htpasswd:/x", "static"
  std::string session_id;          // token sessions (empty otherwise)
  std::string token_id;            // API key id or token jti (empty otherwise)
  std::int64_t auth_time = 0;      // unix seconds
  std::optional<std::int64_t> expires_at;

  bool has_role(std::string_view role) const noexcept;
};

using IdentityPtr = std::shared_ptr<const Identity>;

}  // namespace gatehouse
