// Fuzzes the Digest credentials parser (auth-param list, quoted strings, username*) and the
// challenge writer. Properties checked on every accepted input:
// - the parsed fields are consistent (exactly one username form, response of the right length);
// - re-serializing the fields as credentials parses back to the same fields;
// - the challenge written from them parses back as an auth-param list with the same realm.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gatehouse/http.hpp"
#include "schemes/digest_params.hpp"

namespace {

using gatehouse::quote_string;
using namespace gatehouse::schemes;

// RFC 8187 value-chars: attr-chars stay literal, so the result is never longer than the text the
// parser decoded (which may have encoded attr-chars too) and stays within the value limit.
std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kAttrPunct = "!#$&+-.^_`|~";
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        kAttrPunct.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string serialize(const DigestParams& p) {
  std::string out;
  if (p.username) out += "username=" + quote_string(*p.username);
  if (p.username_star) out += "username*=UTF-8''" + percent_encode(*p.username_star);
  out += ", realm=" + quote_string(p.realm);
  out += ", nonce=" + quote_string(p.nonce);
  out += ", uri=" + quote_string(p.uri);
  out += ", response=" + quote_string(p.response);
  out += ", algorithm=" + std::string(to_string(p.algorithm));
  if (p.cnonce) out += ", cnonce=" + quote_string(*p.cnonce);
  if (p.opaque) out += ", opaque=" + quote_string(*p.opaque);
  if (p.qop_kind) out += ", qop=" + quote_string(p.qop);
  if (!p.nc.empty()) out += ", nc=" + p.nc;
  out += p.userhash ? ", userhash=true" : ", userhash=false";
  return out;
}

bool same(const DigestParams& a, const DigestParams& b) {
  return a.username == b.username && a.username_star == b.username_star && a.realm == b.realm &&
         a.nonce == b.nonce && a.uri == b.uri && a.response == b.response &&
         a.algorithm == b.algorithm && a.cnonce == b.cnonce && a.opaque == b.opaque &&
         a.qop == b.qop && a.qop_kind == b.qop_kind && a.nc == b.nc && a.nc_value == b.nc_value &&
         a.userhash == b.userhash;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)parse_auth_params(input);
  const auto result = parse_digest_params(input);
  if (!result.ok()) {
    if (result.error.empty()) __builtin_trap();  // a refusal always says why
    return 0;
  }
  const DigestParams& p = *result.params;
  if (p.username.has_value() == p.username_star.has_value()) __builtin_trap();
  if (p.response.size() != hex_length(p.algorithm)) __builtin_trap();
  if (p.qop_kind && (!p.cnonce || p.nc.size() != 8)) __builtin_trap();

  const auto again = parse_digest_params(serialize(p));
  if (!again.ok() || !same(p, *again.params)) __builtin_trap();

  std::array<DigestQop, 2> qops{DigestQop::auth, DigestQop::auth_int};
  const std::size_t qop_count = p.qop_kind ? (*p.qop_kind == DigestQop::auth ? 1 : 2) : 0;
  const std::string challenge =
      digest_challenge(p.realm, p.algorithm, std::span<const DigestQop>(qops.data(), qop_count),
                       p.nonce, p.opaque.value_or(""), p.userhash, !p.userhash);
  if (challenge.rfind("Digest ", 0) != 0) __builtin_trap();
  const auto list = parse_auth_params(std::string_view(challenge).substr(7));
  if (!list.ok() || list.params.empty() || list.params[0].name != "realm" ||
      list.params[0].value != p.realm) {
    __builtin_trap();
  }
  return 0;
}
