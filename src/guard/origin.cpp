// Hand-written rather than Boost.URL: an Origin or Host value is a few dozen bytes checked on
// every unsafe credentialed request, and the grammar needed (RFC 3986 §3.1, §3.2.2, §3.2.3) is
// small; Boost.URL would also accept forms a browser never sends (empty port, userinfo).
#include "guard/origin.hpp"

#include "gatehouse/http.hpp"

namespace gatehouse::guard {

namespace {

bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
bool valid_scheme(std::string_view s) noexcept {
  if (s.empty() || !is_alpha(s.front())) return false;
  for (char c : s) {
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// RFC 3986 §3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ), here non-empty; an
// IPv4 address is a reg-name as far as characters go.
bool valid_reg_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_alpha(c) || is_digit(c)) continue;
    switch (c) {
      // unreserved
      case '-':
      case '.':
      case '_':
      case '~':
      // sub-delims
      case '!':
      case '$':
      case '&':
      case '\'':
      case '(':
      case ')':
      case '*':
      case '+':
      case ',':
      case ';':
      case '=':
        continue;
      case '%':
        if (i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
          i += 2;
          continue;
        }
        return false;
      default:
        return false;
    }
  }
  return true;
}

// "[" IPv6address "]" (RFC 3986 §3.2.2), checked for its characters only: a literal that is
// not a real address simply matches nothing.
bool valid_ip_literal(std::string_view s) noexcept {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  for (char c : s.substr(1, s.size() - 2)) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  return true;
}

// RFC 3986 §3.2.3 port, limited to 1..5 digits and 0..65535; an empty port is refused.
std::optional<int> parse_port(std::string_view s) noexcept {
  if (s.empty() || s.size() > 5) return std::nullopt;
  int value = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::string_view> single_header(const Request& request,
                                              std::string_view name) noexcept {
  std::optional<std::string_view> found;
  for (const auto& h : request.headers) {
    if (!iequals(h.name, name)) continue;
    if (found) return std::string_view(", ");
    found = h.value;
  }
  return found;
}

std::optional<HostPort> parse_host(std::string_view text) noexcept {
  HostPort out;
  std::string_view host = text;
  std::size_t colon = std::string_view::npos;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(0, close + 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      colon = close + 1;
    }
    if (!valid_ip_literal(host)) return std::nullopt;
  } else {
    colon = text.find(':');
    host = text.substr(0, colon);
    if (!valid_reg_name(host)) return std::nullopt;
  }
  if (colon != std::string_view::npos) {
    const auto port = parse_port(text.substr(colon + 1));
    if (!port) return std::nullopt;
    out.port = *port;
  }
  out.host = host;
  return out;
}

std::optional<OriginParts> parse_url_origin(std::string_view url,
                                            std::string_view* prefix) noexcept {
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = url.substr(0, sep);
  if (!valid_scheme(scheme)) return std::nullopt;
  const std::string_view rest = url.substr(sep + 3);
  const std::size_t end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // userinfo
  const auto host = parse_host(authority);
  if (!host) return std::nullopt;
  if (prefix) *prefix = url.substr(0, sep + 3 + authority.size());
  return OriginParts{scheme, host->host, host->port};
}

std::optional<OriginParts> parse_origin(std::string_view text) noexcept {
  std::string_view prefix;
  auto parts = parse_url_origin(text, &prefix);
  if (!parts || prefix.size() != text.size()) return std::nullopt;  // a path, query or fragment
  return parts;
}

int default_port(std::string_view scheme) noexcept {
  if (iequals(scheme, "http") || iequals(scheme, "ws")) return 80;
  if (iequals(scheme, "https") || iequals(scheme, "wss")) return 443;
  return -1;
}

bool same_authority(const OriginParts& origin, const HostPort& host) noexcept {
  const int implied = default_port(origin.scheme);
  const int a = origin.port >= 0 ? origin.port : implied;
  const int b = host.port >= 0 ? host.port : implied;
  return iequals(origin.host, host.host) && a == b;
}

bool same_origin(const OriginParts& a, const OriginParts& b) noexcept {
  return iequals(a.scheme, b.scheme) && same_authority(a, HostPort{b.host, b.port});
}

OriginPolicy::OriginPolicy(std::string_view public_url, std::vector<std::string> allowed_origins) {
  if (const auto own = parse_url_origin(public_url)) {
    // RFC 6454 §6.2: lower-case scheme and host, the port only when not the scheme's default.
    const auto append_lower = [this](std::string_view s) {
      for (char c : s) own_origin_.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    };
    append_lower(own->scheme);
    own_origin_ += "://";
    append_lower(own->host);
    if (own->port >= 0 && own->port != default_port(own->scheme)) {
      own_origin_ += ":" + std::to_string(own->port);
    }
  }
  if (!allowed_origins.empty() && allowed_origins.front() == "*") {
    wildcard_ = true;
    allowed_origins.erase(allowed_origins.begin());
  }
  listed_ = std::move(allowed_origins);
}

OriginPolicy::Match OriginPolicy::match(std::string_view origin) const noexcept {
  if (!own_origin_.empty() && origin == own_origin_) return Match::own;
  for (const auto& listed : listed_) {
    if (origin == listed) return Match::listed;
  }
  return wildcard_ ? Match::wildcard : Match::none;
}

std::optional<OriginParts> OriginPolicy::own_parts() const noexcept {
  if (own_origin_.empty()) return std::nullopt;
  return parse_origin(own_origin_);
}

}  // namespace gatehouse::guard
