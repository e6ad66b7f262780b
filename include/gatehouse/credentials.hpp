#pragma once
// What a client asserted, one value type per kind. Never stored, never logged.
#include <string>
#include <variant>

#include "gatehouse/secret.hpp"

namespace gatehouse {

struct PasswordCredentials {
  std::string username;  // already normalized (RFC 8265 UsernameCaseMapped)
  Secret password;
};

enum class ApiKeySource { authorization_header, x_api_key_header, query };

struct ApiKeyCredentials {
  Secret key;  // the whole "gh_<id>_<secret>"
  ApiKeySource source = ApiKeySource::authorization_header;
};

using Credentials = std::variant<PasswordCredentials, ApiKeyCredentials>;

}  // namespace gatehouse
