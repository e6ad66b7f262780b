#pragma once
// Origins (RFC 6454) and hosts as CSRF and CORS compare them. Every header value is untrusted:
// parsers return nullopt for anything that is not exactly the expected shape ("null", a port
// above 65535, spaces, userinfo, a path), and callers treat nullopt as a foreign origin.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gatehouse/http.hpp"

namespace gatehouse::guard {

// The value of a header that should appear once. A header sent more than once is given as its
// combined value would be (RFC 9110 §5.3: "a, b"), which is never a valid origin, host or
// Sec-Fetch-Site token: ", ". nullopt when absent.
std::optional<std::string_view> single_header(const Request& request,
                                              std::string_view name) noexcept;

// The parts of an origin or of a URL's origin. Views into the parsed text; `port` is the
// explicit port, or -1 when the text has none.
struct OriginParts {
  std::string_view scheme;
  std::string_view host;
  int port = -1;
};

// A Host or X-Forwarded-Host value: uri-host [":" port] (RFC 9110 §7.2).
struct HostPort {
  std::string_view host;
  int port = -1;  // -1: absent
};

// An Origin header value as browsers serialize it (RFC 6454 §6.2): "scheme://host[:port]" and
// nothing else. "null", paths, userinfo and malformed hosts or ports give nullopt.
std::optional<OriginParts> parse_origin(std::string_view text) noexcept;

// The origin of an absolute URL such as a Referer (RFC 9110 §10.1.3): "scheme://authority"
// followed by nothing, '/', '?' or '#'. Userinfo is refused (a Referer must not carry it).
// `prefix`, when given, receives the "scheme://authority" part of `url`.
std::optional<OriginParts> parse_url_origin(std::string_view url,
                                            std::string_view* prefix = nullptr) noexcept;

// A Host header value (RFC 9110 §7.2): reg-name, IPv4 or [IPv6] literal, optional port.
std::optional<HostPort> parse_host(std::string_view text) noexcept;

// The port a scheme implies when none is written (RFC 6454 §4 step 4): 80 for http/ws, 443
// for https/wss, -1 otherwise.
int default_port(std::string_view scheme) noexcept;

// Whether `host` names the same authority as `origin`: host names compare case-insensitively
// (RFC 3986 §3.2.2), and an absent port on either side is the origin scheme's default port.
bool same_authority(const OriginParts& origin, const HostPort& host) noexcept;

// Whether two origins are the same (RFC 6454 §5): scheme and host case-insensitively, ports
// with defaults applied.
bool same_origin(const OriginParts& a, const OriginParts& b) noexcept;

// The server's own origin (from [server] public_url) and the configured allowed_origins.
// Matching is exact and case-sensitive, as Roundup's allowed_api_origins: a browser sends the
// serialized form (lower-case scheme and host, no default port), and so is the own origin kept.
class OriginPolicy {
 public:
  enum class Match {
    none,      // not trusted
    own,       // the server's own origin
    listed,    // explicitly listed in allowed_origins
    wildcard,  // only through a leading "*": never for requests with credentials
  };

  OriginPolicy() = default;  // no own origin, nothing allowed
  // `public_url` is an absolute http(s) URL (validated config); `allowed_origins` may start with
  // "*". An unparsable public_url leaves the own origin unset (nothing matches it).
  OriginPolicy(std::string_view public_url, std::vector<std::string> allowed_origins);

  Match match(std::string_view origin) const noexcept;
  // Own or explicitly listed: what CSRF trusts and what may see credentialed CORS responses.
  bool trusted(std::string_view origin) const noexcept {
    const Match m = match(origin);
    return m == Match::own || m == Match::listed;
  }
  // Serialized own origin ("http://localhost:8000"); empty when public_url did not parse.
  const std::string& own_origin() const noexcept { return own_origin_; }
  std::optional<OriginParts> own_parts() const noexcept;
  bool wildcard() const noexcept { return wildcard_; }

 private:
  std::string own_origin_;
  std::vector<std::string> listed_;
  bool wildcard_ = false;
};

}  // namespace gatehouse::guard
