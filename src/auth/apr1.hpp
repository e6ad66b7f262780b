#pragma once
// Apache's "$apr1$" MD5-crypt variant (htpasswd -m, the htpasswd default).
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::auth {

// The full encoded hash "$apr1$<salt>$<22 chars>" for `password` and the bare `salt` (0 to 8
// bytes, no '$' and no NUL). nullopt for an invalid salt or when OpenSSL cannot compute MD5
// (e.g. a FIPS-only provider).
std::optional<std::string> apr1_crypt(std::string_view password, std::string_view salt);

}  // namespace gatehouse::auth
