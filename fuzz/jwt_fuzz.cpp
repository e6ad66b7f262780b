// Fuzzes the JOSE layer: the strict JSON reader, compact JWS decoding and JWT verification with
// a fixed Ed25519 key (RFC 8037 §A.1, kid ""). Properties checked on every input:
// - a refusal always says why;
// - a decoded JWS is canonical: re-encoding its parts gives back the token, and signing_input is
//   the token up to the last dot;
// - an accepted JSON object serializes and parses back to an equal object (doubles to within
//   rounding: Boost.JSON 1.81 parses doubles with its fast, not always exact, algorithm);
// - that object, signed as a JWT with the fixed key, decodes and verifies, and verify_jwt only
//   ever refuses it for its claims;
// - verify_jwt accepts the raw input only if it is an EdDSA token under the fixed key.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/serialize.hpp>

#include "jose/base64url.hpp"
#include "jose/json_strict.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "jose/jwt.hpp"

namespace {

using namespace gatehouse::jose;

// Structural equality; doubles equal to within a few ULPs. Depth is bounded by the parser's.
bool same(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-14 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& member : x) {
      const auto* other = y.if_contains(member.key());
      if (other == nullptr || !same(member.value(), *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same(x[i], y[i])) return false;
    }
    return true;
  }
  return a == b;
}

bool same(const boost::json::object& a, const boost::json::object& b) {
  return same(boost::json::value(a), boost::json::value(b));
}

const Key& fixed_key() {
  static const Key key = *Key::from_jwk(
      R"({"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",)"
      R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
      nullptr);
  return key;
}

const Key* lookup(std::string_view kid) {
  return kid.empty() ? &fixed_key() : nullptr;
}

void check_decoded(std::string_view input) {
  const auto decoded = decode_compact(input);
  if (const auto* error = std::get_if<DecodeError>(&decoded)) {
    if (error->description.empty()) __builtin_trap();
    return;
  }
  const DecodedJws& jws = std::get<DecodedJws>(decoded);
  const std::size_t last_dot = input.rfind('.');
  if (jws.signing_input != input.substr(0, last_dot)) __builtin_trap();
  const std::size_t first_dot = input.find('.');
  if (b64url_encode(jws.payload) != input.substr(first_dot + 1, last_dot - first_dot - 1)) {
    __builtin_trap();
  }
  if (b64url_encode(jws.signature) != input.substr(last_dot + 1)) __builtin_trap();
  if (jws.header.kid.size() > kMaxKidBytes) __builtin_trap();
}

void check_signed(const boost::json::object& claims) {
  const std::string token = sign_jwt(fixed_key(), "JWT", claims);
  if (token.size() > kMaxTokenBytes) return;
  const auto decoded = decode_compact(token);
  if (!std::holds_alternative<DecodedJws>(decoded)) __builtin_trap();
  if (!verify_signature(fixed_key(), std::get<DecodedJws>(decoded))) __builtin_trap();
  JwtPolicy policy;
  policy.require_exp = false;
  policy.typ = "JWT";
  const auto verified = verify_jwt(token, lookup, policy, 1'700'000'000);
  if (const auto* error = std::get_if<JwtError>(&verified)) {
    if (error->code != "bad_claims" && error->code != "expired" && error->code != "not_yet_valid") {
      __builtin_trap();
    }
  } else if (!same(std::get<VerifiedJwt>(verified).claims, claims)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  check_decoded(input);

  std::string error;
  const auto object = parse_object_strict(input, &error);
  if (!object) {
    if (error.empty()) __builtin_trap();
  } else {
    const auto again = parse_object_strict(boost::json::serialize(*object), &error);
    if (!again || !same(*again, *object)) __builtin_trap();
    check_signed(*object);
  }

  JwtPolicy policy;
  policy.require_exp = false;
  const auto verified = verify_jwt(input, lookup, policy, 1'700'000'000);
  if (const auto* jwt = std::get_if<VerifiedJwt>(&verified)) {
    if (jwt->header.alg != Alg::EdDSA || !jwt->header.kid.empty()) __builtin_trap();
  } else if (std::get<JwtError>(verified).description.empty()) {
    __builtin_trap();
  }
  return 0;
}
