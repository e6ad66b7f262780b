#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::auth {

// RFC 8265 §3.3 UsernameCaseMapped profile: width mapping, lower-casing, NFC, then the
// IdentifierClass rules. nullopt when the input is not valid UTF-8, empty, or has a code point
// the profile disallows (controls, spaces, symbols outside ASCII, ...). ASCII is a fast path.
std::optional<std::string> normalize_username(std::string_view input);

}  // namespace gatehouse::auth
