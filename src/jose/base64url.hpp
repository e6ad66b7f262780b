#pragma once
// RFC 7515 §2 base64url: the RFC 4648 §5 URL-safe alphabet with all trailing '=' omitted.
// Hand-written rather than libsodium's decoder: libsodium 1.0.18 (Debian 12) decodes bytes >= 0x80
// as if they were '/', and a JWS decoder has to be exact about the alphabet, the padding and the
// unused trailing bits, so that one token has exactly one text form.
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::jose {

std::string b64url_encode(std::string_view bytes);

// Strict decode. nullopt for any character outside [A-Za-z0-9_-] (so '=', '+', '/' and whitespace
// are refused), for a length ≡ 1 (mod 4), and for a non-canonical final character (one whose
// unused low bits are not zero, RFC 4648 §3.5).
std::optional<std::string> b64url_decode(std::string_view text);

}  // namespace gatehouse::jose
