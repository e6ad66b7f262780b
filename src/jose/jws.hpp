#pragma once
// JWS Compact Serialization (RFC 7515 §3.1, §5, §7.1) for the algorithms of jwk.hpp.
//
// Written here rather than taken from a library: Debian 12 packages only the C libjwt 1.10,
// which has no EdDSA and leaves most of the validation below to the caller (it accepts
// duplicate JSON members, "crit", and token-supplied key material). This layer stays small: one
// signature per token, the algorithm pinned by the key (RFC 8725 §3.1), no unsecured JWS, no
// JWS JSON Serialization, no unencoded payloads (RFC 7797) and no compression.
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "jose/jwk.hpp"

namespace gatehouse::jose {

inline constexpr std::size_t kMaxTokenBytes = 8192;

// The JOSE Header members gatehouse reads (RFC 7515 §4.1).
struct JwsHeader {
  Alg alg = Alg::HS256;
  std::string kid;  // empty when absent
  std::string typ;  // empty when absent
  std::string cty;  // empty when absent
};

// The compact JWS "h.p.s" of `payload_json` (used as-is: the caller gives the JSON text). The
// header is {"alg":...,"kid":...,"typ":...} serialized without whitespace, "kid" left out when
// key.kid() is empty and "typ" when `typ` is empty. Throws like Key::sign.
std::string sign_compact(const Key& key, std::string_view typ, std::string_view payload_json);

struct DecodedJws {
  JwsHeader header;
  std::string payload;             // the decoded payload bytes
  std::string_view signing_input;  // "h.p", a view into the token given to decode_compact
  std::string signature;           // the decoded signature bytes
};

// Why a token was refused: short English that never quotes the token.
struct DecodeError {
  std::string description;
};

// Strict decoding without a signature check. Refuses: more than `max_token_bytes` (checked first,
// so an oversized token costs nothing); anything but three dot-separated parts; an empty part
// (an empty signature is an unsecured JWS, RFC 7515 §A.5); a part that is not strict base64url;
// a header that is not a strict JSON object (json_strict.hpp); a missing or non-string "alg";
// "alg" "none" (description `alg "none" is not allowed`) or any name parse_alg does not know
// ("unsupported alg"); "crit" (RFC 7515 §4.1.11: no extension is understood here); "jku", "x5u",
// "jwk", "x5c", "x5t", "x5t#S256" (keys and key URLs never come from the token, RFC 8725 §3.10);
// "b64" (RFC 7797) and "zip" (RFC 7516 §4.1.3); a "kid", "typ" or "cty" that is not a string; a
// "kid" over kMaxKidBytes. Other header members are ignored (RFC 7515 §4).
std::variant<DecodedJws, DecodeError> decode_compact(std::string_view token,
                                                     std::size_t max_token_bytes = kMaxTokenBytes);

// True when key.alg() == jws.header.alg and the signature verifies with the key.
bool verify_signature(const Key& key, const DecodedJws& jws) noexcept;

}  // namespace gatehouse::jose
