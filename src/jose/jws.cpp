#include "jose/jws.hpp"

#include <optional>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "jose/base64url.hpp"
#include "jose/json_strict.hpp"

namespace gatehouse::jose {

namespace {

// Header members that are refused outright, with the reason.
struct Forbidden {
  std::string_view name;
  std::string_view description;
};
constexpr Forbidden kForbiddenHeaders[] = {
    {"crit", "header parameter \"crit\" is not supported"},
    {"jku", "header parameter \"jku\" is not allowed"},
    {"x5u", "header parameter \"x5u\" is not allowed"},
    {"jwk", "header parameter \"jwk\" is not allowed"},
    {"x5c", "header parameter \"x5c\" is not allowed"},
    {"x5t", "header parameter \"x5t\" is not allowed"},
    {"x5t#S256", "header parameter \"x5t#S256\" is not allowed"},
    {"b64", "header parameter \"b64\" is not supported"},
    {"zip", "header parameter \"zip\" is not supported"},
};

DecodeError refused(std::string_view description) {
  return DecodeError{std::string(description)};
}

// Sets *out to the string member `name` when present; false when it is present but not a string.
bool optional_string(const boost::json::object& header, std::string_view name, std::string* out) {
  const auto* member = header.if_contains(boost::json::string_view(name.data(), name.size()));
  if (member == nullptr) return true;
  if (!member->is_string()) return false;
  *out = std::string(member->get_string().data(), member->get_string().size());
  return true;
}

}  // namespace

std::string sign_compact(const Key& key, std::string_view typ, std::string_view payload_json) {
  boost::json::object header;
  header["alg"] = to_string(key.alg());
  if (!key.kid().empty()) header["kid"] = key.kid();
  if (!typ.empty()) header["typ"] = boost::json::string_view(typ.data(), typ.size());
  std::string token = b64url_encode(boost::json::serialize(header));
  token += '.';
  token += b64url_encode(payload_json);
  const std::string signature = key.sign(token);
  token += '.';
  token += b64url_encode(signature);
  return token;
}

std::variant<DecodedJws, DecodeError> decode_compact(std::string_view token,
                                                     std::size_t max_token_bytes) {
  if (token.size() > max_token_bytes) return refused("token too large");
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return refused("token is not three dot-separated parts");
  }
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_part = token.substr(second_dot + 1);
  if (header_part.empty()) return refused("empty header");
  if (payload_part.empty()) return refused("empty payload");
  if (signature_part.empty()) return refused("empty signature");

  auto header_json = b64url_decode(header_part);
  if (!header_json) return refused("header is not base64url");
  auto payload = b64url_decode(payload_part);
  if (!payload) return refused("payload is not base64url");
  auto signature = b64url_decode(signature_part);
  if (!signature) return refused("signature is not base64url");

  std::string json_error;
  const auto header = parse_object_strict(*header_json, &json_error);
  if (!header) return refused("header: " + json_error);

  // RFC 7515 §4.1.1: "alg" is required; RFC 8725 §3.1: never "none".
  const auto* alg_member = header->if_contains("alg");
  if (alg_member == nullptr) return refused("header has no alg");
  if (!alg_member->is_string()) return refused("alg is not a string");
  const std::string_view alg_name(alg_member->get_string().data(), alg_member->get_string().size());
  if (alg_name == "none") return refused("alg \"none\" is not allowed");
  const std::optional<Alg> alg = parse_alg(alg_name);
  if (!alg) return refused("unsupported alg");

  for (const Forbidden& forbidden : kForbiddenHeaders) {
    if (header->contains(boost::json::string_view(forbidden.name.data(), forbidden.name.size()))) {
      return refused(forbidden.description);
    }
  }

  DecodedJws jws;
  jws.header.alg = *alg;
  if (!optional_string(*header, "kid", &jws.header.kid)) return refused("kid is not a string");
  if (jws.header.kid.size() > kMaxKidBytes) return refused("kid too long");
  if (!optional_string(*header, "typ", &jws.header.typ)) return refused("typ is not a string");
  if (!optional_string(*header, "cty", &jws.header.cty)) return refused("cty is not a string");
  jws.payload = std::move(*payload);
  jws.signing_input = token.substr(0, second_dot);
  jws.signature = std::move(*signature);
  return jws;
}

bool verify_signature(const Key& key, const DecodedJws& jws) noexcept {
  return key.alg() == jws.header.alg && key.verify(jws.signing_input, jws.signature);
}

}  // namespace gatehouse::jose
