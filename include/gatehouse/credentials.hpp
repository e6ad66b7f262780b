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

// RFC 7616 §3.4: the Digest response's parameters, as sent (they enter the hashes).
struct DigestCredentials {
  std::string username;  // username or username* (decoded); with userhash, the hex userhash
  bool userhash = false;
  std::string realm, nonce, uri, algorithm, cnonce, opaque, qop, nc;
  Secret response;
};

// RFC 6750 §2.1: "Authorization: Bearer <token>".
struct BearerCredentials {
  Secret token;
};

using Credentials =
    std::variant<PasswordCredentials, ApiKeyCredentials, DigestCredentials, BearerCredentials>;

}  // namespace gatehouse
