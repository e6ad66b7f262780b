#include "jose/jwt.hpp"
#include "gatehouse/http.hpp"

#include <cmath>
#include <optional>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "jose/json_strict.hpp"

namespace gatehouse::jose {

namespace {

JwtError error(std::string_view code, std::string_view description) {
  return JwtError{std::string(code), std::string(description)};
}

// a + b, clamped to the int64 range.
std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? INT64_MAX : INT64_MIN;
}

enum class DateStatus { absent, valid, invalid };

// RFC 7519 §2 NumericDate, restricted to whole seconds that fit an int64.
DateStatus numeric_date(const boost::json::object& claims, std::string_view name,
                        std::int64_t* out) {
  const auto* member = claims.if_contains(boost::json::string_view(name.data(), name.size()));
  if (member == nullptr) return DateStatus::absent;
  if (const auto* i = member->if_int64()) {
    *out = *i;
    return DateStatus::valid;
  }
  if (const auto* u = member->if_uint64()) {
    if (*u > static_cast<std::uint64_t>(INT64_MAX)) return DateStatus::invalid;
    *out = static_cast<std::int64_t>(*u);
    return DateStatus::valid;
  }
  if (const auto* d = member->if_double()) {
    // -2^63 and 2^63 are exact doubles; the range is half-open.
    if (!std::isfinite(*d) || std::trunc(*d) != *d || *d < -9223372036854775808.0 ||
        *d >= 9223372036854775808.0) {
      return DateStatus::invalid;
    }
    *out = static_cast<std::int64_t>(*d);
    return DateStatus::valid;
  }
  return DateStatus::invalid;
}

bool is_string_if_present(const boost::json::object& claims, std::string_view name) {
  const auto* member = claims.if_contains(boost::json::string_view(name.data(), name.size()));
  return member == nullptr || member->is_string();
}

// RFC 7515 §4.1.9: "application/" may be left out of a "typ" media type.
std::string_view without_application_prefix(std::string_view typ) noexcept {
  constexpr std::string_view prefix = "application/";
  if (typ.size() > prefix.size() && iequals(typ.substr(0, prefix.size()), prefix)) {
    return typ.substr(prefix.size());
  }
  return typ;
}

bool typ_matches(std::string_view actual, std::string_view expected) noexcept {
  return iequals(without_application_prefix(actual), without_application_prefix(expected));
}

}  // namespace

std::variant<VerifiedJwt, JwtError> verify_jwt(std::string_view token, const KeyLookup& keys,
                                               const JwtPolicy& policy, std::int64_t now_s) {
  auto decoded = decode_compact(token);
  if (auto* refusal = std::get_if<DecodeError>(&decoded)) {
    return error("malformed", refusal->description);
  }
  DecodedJws& jws = std::get<DecodedJws>(decoded);

  const Key* key = keys ? keys(jws.header.kid) : nullptr;
  if (key == nullptr) return error("unknown_key", "unknown signing key");
  // RFC 8725 §3.1: the key, not the token, decides the algorithm.
  if (key->alg() != jws.header.alg) {
    return error("bad_signature", "token algorithm does not match the signing key");
  }
  if (!key->verify(jws.signing_input, jws.signature)) {
    return error("bad_signature", "signature does not verify");
  }

  std::string json_error;
  auto claims = parse_object_strict(jws.payload, &json_error);
  if (!claims) return error("malformed", "claims: " + json_error);

  const std::int64_t leeway = policy.leeway_s > 0 ? policy.leeway_s : 0;
  VerifiedJwt verified;

  // RFC 7519 §4.1.4
  switch (numeric_date(*claims, "exp", &verified.exp)) {
    case DateStatus::absent:
      if (policy.require_exp) return error("bad_claims", "token has no expiry");
      break;
    case DateStatus::invalid:
      return error("bad_claims", "exp is not an integral NumericDate");
    case DateStatus::valid:
      if (now_s >= saturating_add(verified.exp, leeway)) return error("expired", "token expired");
      break;
  }
  // RFC 7519 §4.1.5
  std::int64_t nbf = 0;
  switch (numeric_date(*claims, "nbf", &nbf)) {
    case DateStatus::absent:
      break;
    case DateStatus::invalid:
      return error("bad_claims", "nbf is not an integral NumericDate");
    case DateStatus::valid:
      if (saturating_add(now_s, leeway) < nbf) {
        return error("not_yet_valid", "token not valid yet");
      }
      break;
  }
  // RFC 7519 §4.1.6
  std::int64_t iat = 0;
  switch (numeric_date(*claims, "iat", &iat)) {
    case DateStatus::absent:
      break;
    case DateStatus::invalid:
      return error("bad_claims", "iat is not an integral NumericDate");
    case DateStatus::valid:
      if (iat > saturating_add(now_s, leeway)) {
        return error("not_yet_valid", "token issued in the future");
      }
      break;
  }

  // RFC 7519 §4.1.1, §4.1.2, §4.1.7
  if (!is_string_if_present(*claims, "iss")) return error("bad_claims", "iss is not a string");
  if (!is_string_if_present(*claims, "sub")) return error("bad_claims", "sub is not a string");
  if (!is_string_if_present(*claims, "jti")) return error("bad_claims", "jti is not a string");
  if (!policy.issuer.empty()) {
    const auto* iss = claims->if_contains("iss");
    if (iss == nullptr || iss->get_string() != policy.issuer) {
      return error("wrong_issuer", "issuer does not match");
    }
  }

  // RFC 7519 §4.1.3
  bool audience_found = false;
  if (const auto* aud = claims->if_contains("aud")) {
    if (const auto* single = aud->if_string()) {
      audience_found = *single == policy.audience;
    } else if (const auto* list = aud->if_array()) {
      for (const auto& entry : *list) {
        const auto* s = entry.if_string();
        if (s == nullptr) return error("bad_claims", "aud holds a value that is not a string");
        audience_found = audience_found || *s == policy.audience;
      }
    } else {
      return error("bad_claims", "aud is neither a string nor an array of strings");
    }
  }
  if (!policy.audience.empty() && !audience_found) {
    return error("wrong_audience", "audience does not match");
  }

  if (!policy.typ.empty() && !typ_matches(jws.header.typ, policy.typ)) {
    return error("wrong_type", "token type does not match");
  }

  verified.header = std::move(jws.header);
  verified.claims = std::move(*claims);
  return verified;
}

std::string sign_jwt(const Key& key, std::string_view typ, const boost::json::object& claims) {
  return sign_compact(key, typ, boost::json::serialize(claims));
}

}  // namespace gatehouse::jose
