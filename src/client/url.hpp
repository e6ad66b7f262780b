#pragma once
// Client-side URL handling on Boost.URL: absolute http/https URLs, relative Location resolution
// (RFC 3986 §5.2), origins (RFC 6454 §4), header-field validation against injection, and the
// proxy environment (curl's http_proxy/https_proxy/no_proxy rules).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "gatehouse/client.hpp"

namespace gatehouse::client::detail {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 literal without brackets
  std::uint16_t port = 0;
  std::string target;  // origin-form request target: path (at least "/") and "?query"

  bool https() const noexcept { return scheme == "https"; }
  bool ipv6() const noexcept { return host.find(':') != std::string::npos; }
  // host[:port] as in a Host header (RFC 9110 §7.2): brackets around IPv6, default port omitted.
  std::string authority() const;
  std::string origin() const;  // scheme://authority
  std::string str() const;     // origin + target
};

// An absolute http:// or https:// URL; a fragment is dropped. RequestError for anything else,
// including user:password@ (credentials go through an Auth, never the URL).
Url parse_url(std::string_view text);
// RFC 3986 §5.2 resolution of a Location value against `base`; RequestError when the result is
// not a valid http(s) URL.
Url resolve_url(const Url& base, std::string_view reference);
// `text` (a URL, possibly malformed, relative, or without a scheme, as in a proxy setting) for a
// log line or an exception message: the userinfo (RFC 3986 §3.2.1, "user:password@") becomes
// "***@", and the value of every query or fragment parameter named like a credential (api_key,
// apikey, api-key, x-api-key, access_token, refresh_token, id_token, token, key, password, passwd,
// secret, client_secret, client_assertion, device_code; case-insensitive, percent-decoded) becomes
// "***". Every URL the client puts in a log line or an exception message goes through it.
std::string redact_url(std::string_view text);
// RFC 6454: same scheme, host and port.
bool same_origin(const Url& a, const Url& b) noexcept;

// RequestError unless `method` is an RFC 9110 §5.6.2 token.
void check_method(std::string_view method);
// RFC 9110 §5.6.2 token: a method or a field name (non-empty, tchar only).
bool is_token(std::string_view text) noexcept;
// A query, form or JSON member name that carries a credential (api_key, access_token, password,
// ...): compared case-insensitively after form decoding ('+', %XX).
bool is_credential_name(std::string_view name);
// RequestError unless `name` is a token and `value` holds no CR, LF or NUL (header injection).
void check_header(std::string_view name, std::string_view value);

struct Proxy {
  std::string host;
  std::uint16_t port = 0;
  std::string authority;                   // host:port (brackets around IPv6)
  std::optional<std::string> credentials;  // "user:password" from the proxy URL, percent-decoded
};
// "http://[user:pass@]host[:port][/]" or "host[:port]" (curl's default scheme and port 1080).
// RequestError for other schemes (https:// proxies are not supported).
Proxy parse_proxy(std::string_view text);

// curl's no_proxy: entries separated by commas or white space; "*" alone matches every host;
// otherwise an entry (a leading dot ignored) matches the host itself or any subdomain of it,
// case-insensitively; an entry with ":port" matches only that port; an IP entry "a.b.c.d/n" or
// "v6/n" matches addresses in that CIDR block.
bool no_proxy_matches(std::string_view no_proxy, const Url& url);

// Options with proxies read through `getenv` (curl's rules: http_proxy only in lower case,
// because a CGI program sees a request's "Proxy:" header as HTTP_PROXY (httpoxy); https_proxy,
// all_proxy and no_proxy in either case, lower case first).
Options options_from(const std::function<const char*(const char*)>& getenv);

}  // namespace gatehouse::client::detail
