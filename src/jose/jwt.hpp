#pragma once
// JSON Web Tokens (RFC 7519) on the compact JWS of jws.hpp, validated as RFC 8725 §3 asks: the
// key decides the algorithm, the claims set is a strict JSON object, and issuer, audience, type
// and validity window are checked against a policy.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/object.hpp>

#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace gatehouse::jose {

struct JwtPolicy {
  std::string issuer;    // when non-empty, "iss" must equal it exactly (RFC 7519 §4.1.1)
  std::string audience;  // when non-empty, "aud" (a string or an array of strings) must hold it
  // When non-empty, the header "typ" must match it ignoring ASCII case and an "application/"
  // prefix on either side (RFC 7515 §4.1.9, RFC 8725 §3.11; e.g. "at+jwt" of RFC 9068).
  std::string typ;
  std::int64_t leeway_s = 30;  // clock skew allowed on "exp", "nbf" and "iat"; negative is 0
  bool require_exp = true;
};

// Resolves a header "kid" (empty when absent) to a key, or nullptr when none is known. The kid is
// untrusted text: use it only as a lookup key.
using KeyLookup = std::function<const Key*(std::string_view kid)>;

struct VerifiedJwt {
  JwsHeader header;
  boost::json::object claims;
  std::int64_t exp = 0;  // 0 when absent
};

struct JwtError {
  // "malformed", "bad_signature", "unknown_key", "expired", "not_yet_valid", "wrong_issuer",
  // "wrong_audience", "wrong_type" or "bad_claims".
  std::string code;
  std::string description;  // human text; never quotes the token
};

// In this order: decode_compact (malformed) → the key for the header "kid" (unknown_key) → the
// key's algorithm must be the header's, which is what keeps an HS256 token "signed" with a public
// key from verifying against that key (bad_signature) → the signature (bad_signature) → the
// payload must be a strict JSON object (malformed) → "exp" (required when policy.require_exp;
// now_s >= exp + leeway: expired) → "nbf" (now_s + leeway < nbf: not_yet_valid) → "iat"
// (iat > now_s + leeway: not_yet_valid) → "iss" (wrong_issuer) → "aud" (wrong_audience) → header
// "typ" (wrong_type). "exp", "nbf" and "iat" must be integral JSON numbers (an int64, or a double
// with no fractional part in int64 range); "iss", "sub" and "jti" must be strings and "aud" a
// string or an array of strings; otherwise bad_claims. now_s is seconds since the epoch.
std::variant<VerifiedJwt, JwtError> verify_jwt(std::string_view token, const KeyLookup& keys,
                                               const JwtPolicy& policy, std::int64_t now_s);

// sign_compact of the serialized claims. Throws like Key::sign.
std::string sign_jwt(const Key& key, std::string_view typ, const boost::json::object& claims);

}  // namespace gatehouse::jose
