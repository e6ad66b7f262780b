#include "schemes/digest_params.hpp"

#include "gatehouse/http.hpp"
#include "schemes/authorization_header.hpp"
#include "util/encoding.hpp"

namespace gatehouse::schemes {

namespace {

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_hex(std::string_view s) noexcept {
  for (char c : s) {
    if (hex_value(c) < 0) return false;
  }
  return true;
}

// RFC 9110 §5.6.4 qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
bool is_qdtext(unsigned char c) noexcept {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
         (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
bool is_quotable(unsigned char c) noexcept {
  return c == '\t' || (c >= 0x20 && c != 0x7F);
}

// RFC 8187 §3.2.1 attr-char = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
// "_" / "`" / "|" / "~"
bool is_attr_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '&':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// RFC 8187 ext-value = charset "'" [ language ] "'" value-chars, UTF-8 only. The decoded value
// must be non-empty UTF-8 without controls.
std::optional<std::string> decode_ext_value(std::string_view in) {
  const auto first = in.find('\'');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = in.find('\'', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (!iequals(in.substr(0, first), "UTF-8")) return std::nullopt;
  for (char c : in.substr(first + 1, second - first - 1)) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return std::nullopt;
  }
  const std::string_view chars = in.substr(second + 1);
  std::string out;
  out.reserve(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) {
    const char c = chars[i];
    if (c == '%') {
      if (i + 2 >= chars.size()) return std::nullopt;
      const int hi = hex_value(chars[i + 1]), lo = hex_value(chars[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (is_attr_char(c)) {
      out.push_back(c);
    } else {
      return std::nullopt;
    }
  }
  if (out.empty() || !util::is_valid_utf8(out) || util::has_control_chars(out)) return std::nullopt;
  return out;
}

AuthParamList fail(std::string message) {
  AuthParamList list;
  list.error = std::move(message);
  return list;
}

DigestParseResult refuse(std::string message) {
  DigestParseResult result;
  result.error = std::move(message);
  return result;
}

}  // namespace

AuthParamList parse_auth_params(std::string_view in) {
  AuthParamList list;
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (true) {
    // Empty list elements and the whitespace around them (RFC 9110 §5.6.1).
    while (i < n && (is_ows(in[i]) || in[i] == ',')) ++i;
    if (i == n) break;

    const std::size_t name_start = i;
    while (i < n && is_tchar(in[i])) ++i;
    if (i == name_start) return fail("expected a parameter name");
    if (i - name_start > kMaxDigestParamValue) return fail("parameter name too long");
    AuthParam param;
    param.name.reserve(i - name_start);
    for (char c : in.substr(name_start, i - name_start)) param.name.push_back(to_lower(c));

    while (i < n && is_ows(in[i])) ++i;
    if (i == n || in[i] != '=') return fail("expected '=' after parameter " + param.name);
    ++i;
    while (i < n && is_ows(in[i])) ++i;

    if (i < n && in[i] == '"') {
      param.quoted = true;
      ++i;
      bool closed = false;
      while (i < n) {
        const auto c = static_cast<unsigned char>(in[i]);
        if (c == '"') {
          closed = true;
          ++i;
          break;
        }
        if (c == '\\') {
          if (i + 1 == n) break;  // unterminated
          const auto escaped = static_cast<unsigned char>(in[i + 1]);
          if (!is_quotable(escaped)) return fail("bad escape in parameter " + param.name);
          param.value.push_back(static_cast<char>(escaped));
          i += 2;
        } else if (is_qdtext(c)) {
          param.value.push_back(static_cast<char>(c));
          ++i;
        } else {
          return fail("invalid character in parameter " + param.name);
        }
        if (param.value.size() > kMaxDigestParamValue) {
          return fail("value of parameter " + param.name + " too long");
        }
      }
      if (!closed) return fail("unterminated quoted string in parameter " + param.name);
    } else {
      const std::size_t value_start = i;
      while (i < n && is_tchar(in[i])) ++i;
      if (i == value_start) return fail("expected a value for parameter " + param.name);
      if (i - value_start > kMaxDigestParamValue) {
        return fail("value of parameter " + param.name + " too long");
      }
      param.value.assign(in.substr(value_start, i - value_start));
    }

    while (i < n && is_ows(in[i])) ++i;
    if (i < n && in[i] != ',') return fail("expected ',' after parameter " + param.name);

    for (const auto& seen : list.params) {
      if (seen.name == param.name) return fail("duplicate parameter " + param.name);
    }
    if (list.params.size() == kMaxDigestParams) return fail("too many parameters");
    list.params.push_back(std::move(param));
  }
  return list;
}

DigestParseResult parse_digest_params(std::string_view input) {
  AuthParamList list = parse_auth_params(input);
  if (!list.ok()) return refuse(std::move(list.error));

  DigestParams p;
  bool has_realm = false, has_nonce = false, has_uri = false, has_response = false;
  std::optional<std::string> response;
  for (auto& param : list.params) {
    const std::string& name = param.name;
    std::string& value = param.value;
    if (name == "username") {
      if (value.empty()) return refuse("empty username");
      p.username = std::move(value);
    } else if (name == "username*") {
      if (param.quoted) return refuse("username* must not be quoted");
      auto decoded = decode_ext_value(value);
      if (!decoded) return refuse("invalid username* (expected UTF-8''percent-encoded)");
      p.username_star = std::move(*decoded);
    } else if (name == "realm") {
      p.realm = std::move(value);
      has_realm = true;
    } else if (name == "nonce") {
      if (value.empty()) return refuse("empty nonce");
      p.nonce = std::move(value);
      has_nonce = true;
    } else if (name == "uri") {
      if (value.empty()) return refuse("empty uri");
      p.uri = std::move(value);
      has_uri = true;
    } else if (name == "response") {
      response = std::move(value);
      has_response = true;
    } else if (name == "algorithm") {
      const auto algorithm = parse_digest_algorithm(value);
      if (!algorithm) return refuse("unsupported algorithm");
      p.algorithm = *algorithm;
    } else if (name == "cnonce") {
      if (value.empty()) return refuse("empty cnonce");
      p.cnonce = std::move(value);
    } else if (name == "opaque") {
      p.opaque = std::move(value);
    } else if (name == "qop") {
      const auto qop = parse_digest_qop(value);
      if (!qop) return refuse("unsupported qop (expected auth or auth-int)");
      p.qop_kind = *qop;
      p.qop = std::move(value);
    } else if (name == "nc") {
      if (value.size() != 8 || !is_hex(value)) return refuse("nc must be 8 hex digits");
      std::uint32_t nc = 0;
      for (char c : value) nc = nc * 16 + static_cast<std::uint32_t>(hex_value(c));
      p.nc_value = nc;
      p.nc = std::move(value);
    } else if (name == "userhash") {
      if (iequals(value, "true")) {
        p.userhash = true;
      } else if (iequals(value, "false")) {
        p.userhash = false;
      } else {
        return refuse("userhash must be true or false");
      }
    }
    // Anything else (e.g. charset in a challenge echoed back) is ignored, RFC 7616 §3.4.
  }

  if (p.username && p.username_star) return refuse("both username and username*");
  if (!p.username && !p.username_star) return refuse("missing username");
  if (!has_realm) return refuse("missing realm");
  if (!has_nonce) return refuse("missing nonce");
  if (!has_uri) return refuse("missing uri");
  if (!has_response) return refuse("missing response");
  if (p.qop_kind) {
    if (!p.cnonce) return refuse("missing cnonce (required with qop)");
    if (p.nc.empty()) return refuse("missing nc (required with qop)");
  }
  if (response->size() != hex_length(p.algorithm) || !is_hex(*response)) {
    return refuse("response is not a hex digest of the algorithm's length");
  }
  for (char& c : *response) c = to_lower(c);
  p.response = std::move(*response);

  DigestParseResult result;
  result.params = std::move(p);
  return result;
}

std::string digest_challenge(std::string_view realm, DigestAlgorithm algorithm,
                             std::span<const DigestQop> qops, std::string_view nonce,
                             std::string_view opaque, bool stale, bool userhash) {
  std::string out = "Digest realm=";
  out += quote_string(realm);
  if (!qops.empty()) {
    std::string list;
    for (const DigestQop qop : qops) {
      if (!list.empty()) list += ", ";
      list += to_string(qop);
    }
    out += ", qop=";
    out += quote_string(list);
  }
  out += ", algorithm=";
  out += to_string(algorithm);
  out += ", nonce=";
  out += quote_string(nonce);
  if (!opaque.empty()) {
    out += ", opaque=";
    out += quote_string(opaque);
  }
  out += ", charset=UTF-8";
  if (userhash) out += ", userhash=true";
  if (stale) out += ", stale=true";
  return out;
}

}  // namespace gatehouse::schemes
