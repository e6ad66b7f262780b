// Client URL handling: parsing and resolution by Boost.URL; the no_proxy matcher follows curl's
// documented rules (lib/noproxy.c), which no library implements.
#include "client/url.hpp"

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

#include "gatehouse/http.hpp"

namespace gatehouse::client::detail {
namespace urls = boost::urls;
namespace {

// (std::strchr would also find the terminating NUL: NUL is no tchar.)
bool is_tchar(unsigned char c) noexcept {
  return std::isalnum(c) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool valid_host_name(std::string_view host) noexcept {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_';
  });
}

std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

Url from_view(const urls::url_view_base& u, std::string_view original) {
  const auto fail = [&](std::string_view why) -> RequestError {
    return RequestError("bad URL '" + redact_url(original) + "': " + std::string(why));
  };
  Url url;
  url.scheme = ascii_lower(u.scheme());
  if (url.scheme != "http" && url.scheme != "https") {
    throw fail(url.scheme.empty() ? "no scheme (want http:// or https://)"
                                  : "unsupported scheme (want http or https)");
  }
  if (!u.has_authority()) throw fail("no host");
  if (u.has_userinfo()) throw fail("credentials in the URL are not supported; use an Auth");
  switch (u.host_type()) {
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      url.host = ascii_lower(u.host_address());
      break;
    case urls::host_type::name:
      url.host = ascii_lower(u.host_address());
      if (!valid_host_name(url.host)) throw fail("invalid host name");
      break;
    case urls::host_type::ipvfuture:
    case urls::host_type::none:
      throw fail("no host");
  }
  if (url.host.empty()) throw fail("no host");
  if (u.has_port() && !u.port().empty()) {
    auto port = parse_port(u.port());
    if (!port) throw fail("invalid port");
    url.port = *port;
  } else {
    url.port = url.https() ? 443 : 80;
  }
  url.target = std::string(u.encoded_path());
  if (url.target.empty()) url.target = "/";
  if (url.target.front() != '/') throw fail("the path must be absolute");
  if (u.has_query()) url.target += "?" + std::string(u.encoded_query());
  return url;
}

// An IPv4 or IPv6 address as 4 or 16 bytes; empty when `text` is neither.
std::string address_bytes(std::string_view text) {
  if (auto v4 = urls::parse_ipv4_address(text)) {
    auto b = v4->to_bytes();
    return std::string(b.begin(), b.end());
  }
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (auto v6 = urls::parse_ipv6_address(text)) {
    auto b = v6->to_bytes();
    return std::string(b.begin(), b.end());
  }
  return {};
}

bool cidr_matches(std::string_view network, unsigned bits, std::string_view host) {
  const std::string net = address_bytes(network);
  const std::string addr = address_bytes(host);
  if (net.empty() || net.size() != addr.size() || bits > net.size() * 8) return false;
  for (unsigned i = 0; i < bits; ++i) {
    const auto bit = [&](const std::string& s) { return (s[i / 8] >> (7 - i % 8)) & 1; };
    if (bit(net) != bit(addr)) return false;
  }
  return true;
}

bool entry_matches(std::string_view entry, const Url& url) {
  if (entry == "*") return true;
  if (auto slash = entry.find('/'); slash != std::string_view::npos) {
    unsigned bits = 0;
    auto bits_text = entry.substr(slash + 1);
    auto [end, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
    if (ec != std::errc{} || end != bits_text.data() + bits_text.size()) return false;
    return cidr_matches(entry.substr(0, slash), bits, url.host);
  }
  // Split an optional ":port": "host:port", "[v6]:port"; a bare IPv6 address has no port.
  std::string_view host = entry;
  std::optional<std::uint16_t> port;
  if (!entry.empty() && entry.front() == '[') {
    auto close = entry.find(']');
    if (close == std::string_view::npos) return false;
    host = entry.substr(1, close - 1);
    if (close + 1 < entry.size()) {
      if (entry[close + 1] != ':') return false;
      port = parse_port(entry.substr(close + 2));
      if (!port) return false;
    }
  } else if (auto colon = entry.find(':'); colon != std::string_view::npos &&
                                           entry.find(':', colon + 1) == std::string_view::npos) {
    host = entry.substr(0, colon);
    port = parse_port(entry.substr(colon + 1));
    if (!port) return false;
  }
  if (port && *port != url.port) return false;
  if (!host.empty() && host.front() == '.') host.remove_prefix(1);
  if (host.empty()) return false;
  const std::string want = ascii_lower(host);
  if (url.host == want) return true;
  if (!address_bytes(want).empty()) return address_bytes(want) == address_bytes(url.host);
  return url.host.size() > want.size() && url.host.ends_with(want) &&
         url.host[url.host.size() - want.size() - 1] == '.';
}

constexpr std::string_view kCredentialParams[] = {
    "api_key",       "apikey",           "api-key",     "x-api-key",
    "access_token",  "refresh_token",    "id_token",    "token",
    "key",           "password",         "passwd",      "secret",
    "client_secret", "client_assertion", "device_code", "code_verifier"};

// A query parameter's name as the server reads it: '+' is a space, %XX its byte, lower case.
std::string param_name(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    unsigned value = 0;
    if (raw[i] == '%' && i + 2 < raw.size() &&
        std::from_chars(raw.data() + i + 1, raw.data() + i + 3, value, 16).ptr ==
            raw.data() + i + 3) {
      out += static_cast<char>(std::tolower(static_cast<int>(value)));
      i += 2;
    } else {
      out +=
          raw[i] == '+' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(raw[i])));
    }
  }
  return out;
}

// "a=1&api_key=K" → "a=1&api_key=***" (separators '&' and ';').
std::string redact_params(std::string_view params) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= params.size()) {
    auto end = params.find_first_of("&;", pos);
    if (end == std::string_view::npos) end = params.size();
    const auto param = params.substr(pos, end - pos);
    const auto eq = param.find('=');
    const bool secret = eq != std::string_view::npos && is_credential_name(param.substr(0, eq));
    out += secret ? std::string(param.substr(0, eq)) + "=***" : std::string(param);
    if (end < params.size()) out += params[end];
    pos = end + 1;
  }
  return out;
}

bool only_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

std::string Url::authority() const {
  std::string out = ipv6() ? "[" + host + "]" : host;
  if (port != (https() ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string Url::origin() const {
  return scheme + "://" + authority();
}

std::string Url::str() const {
  return origin() + target;
}

Url parse_url(std::string_view text) {
  auto parsed = urls::parse_absolute_uri(text);
  if (!parsed) {
    // parse_absolute_uri refuses a fragment; accept one and drop it.
    auto with_fragment = urls::parse_uri(text);
    if (!with_fragment) {
      throw RequestError("bad URL '" + redact_url(text) + "': " + parsed.error().message());
    }
    return from_view(*with_fragment, text);
  }
  return from_view(*parsed, text);
}

Url resolve_url(const Url& base, std::string_view reference) {
  auto ref = urls::parse_uri_reference(reference);
  if (!ref) {
    throw RequestError("bad redirect location '" + redact_url(reference) +
                       "': " + ref.error().message());
  }
  const std::string base_text = base.str();
  auto base_view = urls::parse_uri(base_text);
  if (!base_view) throw RequestError("bad base URL '" + redact_url(base_text) + "'");
  urls::url out;
  if (auto r = urls::resolve(*base_view, *ref, out); !r) {
    throw RequestError("cannot resolve '" + redact_url(reference) + "': " + r.error().message());
  }
  out.remove_fragment();
  return from_view(out, reference);
}

std::string redact_url(std::string_view text) {
  // Where the authority starts: after "scheme://", after "//", or at the start of a scheme-less
  // proxy setting ("user:pass@host:port"); a path, query or fragment reference has none.
  std::size_t start = std::string_view::npos;
  if (const auto sep = text.find("://");
      sep != std::string_view::npos && sep > 0 &&
      std::all_of(text.begin(), text.begin() + sep, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
      })) {
    start = sep + 3;
  } else if (text.starts_with("//")) {
    start = 2;
  } else if (!text.empty() && text.find_first_of("/?#") != 0) {
    start = 0;
  }
  std::string out;
  std::size_t rest = 0;
  if (start != std::string_view::npos) {
    out.assign(text.substr(0, start));
    const auto authority_end = std::min(text.find_first_of("/?#", start), text.size());
    const auto authority = text.substr(start, authority_end - start);
    std::size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      at += start;
    } else if (const auto colon = authority.find(':'); colon != std::string_view::npos &&
                                                       !authority.starts_with('[') &&
                                                       !only_digits(authority.substr(colon + 1))) {
      // "user:pa/ss@host": a password with an unencoded delimiter ends the authority early.
      at = text.rfind('@');
      if (at != std::string_view::npos && at < authority_end) at = std::string_view::npos;
    }
    if (at != std::string_view::npos) {
      out += "***@";
      rest = at + 1;
    } else {
      rest = start;
    }
  }
  const auto query = text.find('?', rest);
  const auto fragment = text.find('#', rest);
  const auto path_end = std::min({query, fragment, text.size()});
  out += text.substr(rest, path_end - rest);
  if (query != std::string_view::npos && query == path_end) {
    const auto query_end = std::min(fragment, text.size());
    out += '?';
    out += redact_params(text.substr(query + 1, query_end - query - 1));
  }
  if (fragment != std::string_view::npos) {
    out += '#';
    out += redact_params(text.substr(fragment + 1));
  }
  return out;
}

bool same_origin(const Url& a, const Url& b) noexcept {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

bool is_token(std::string_view text) noexcept {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return is_tchar(c); });
}

bool is_credential_name(std::string_view name) {
  return std::find(std::begin(kCredentialParams), std::end(kCredentialParams), param_name(name)) !=
         std::end(kCredentialParams);
}

void check_method(std::string_view method) {
  if (!is_token(method)) throw RequestError("invalid request method");
}

void check_header(std::string_view name, std::string_view value) {
  if (!is_token(name)) {
    throw RequestError("invalid header name '" + std::string(name.substr(0, 64)) + "'");
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    throw RequestError("header '" + std::string(name) + "' holds CR, LF or NUL");
  }
}

Proxy parse_proxy(std::string_view text) {
  std::string with_scheme(text);
  if (with_scheme.find("://") == std::string::npos) with_scheme = "http://" + with_scheme;
  auto parsed = urls::parse_uri(with_scheme);
  if (!parsed) {
    throw RequestError("bad proxy URL '" + redact_url(text) + "': " + parsed.error().message());
  }
  const auto& u = *parsed;
  if (ascii_lower(u.scheme()) != "http") {
    throw RequestError("bad proxy URL '" + redact_url(text) + "': only http:// proxies");
  }
  Proxy proxy;
  proxy.host = ascii_lower(u.host_address());
  if (proxy.host.empty() ||
      (u.host_type() == urls::host_type::name && !valid_host_name(proxy.host))) {
    throw RequestError("bad proxy URL '" + redact_url(text) + "': no host");
  }
  proxy.port = 1080;
  if (u.has_port() && !u.port().empty()) {
    auto port = parse_port(u.port());
    if (!port) throw RequestError("bad proxy URL '" + redact_url(text) + "': invalid port");
    proxy.port = *port;
  }
  const bool v6 = proxy.host.find(':') != std::string::npos;
  proxy.authority = (v6 ? "[" + proxy.host + "]" : proxy.host) + ":" + std::to_string(proxy.port);
  if (u.has_userinfo()) {
    proxy.credentials = std::string(u.user()) + ":" + std::string(u.password());
  }
  return proxy;
}

bool no_proxy_matches(std::string_view no_proxy, const Url& url) {
  std::size_t pos = 0;
  while (pos < no_proxy.size()) {
    auto end = no_proxy.find_first_of(", \t", pos);
    if (end == std::string_view::npos) end = no_proxy.size();
    auto entry = no_proxy.substr(pos, end - pos);
    if (!entry.empty() && entry_matches(entry, url)) return true;
    pos = end + 1;
  }
  return false;
}

Options options_from(const std::function<const char*(const char*)>& getenv) {
  const auto first = [&](std::initializer_list<const char*> names) -> std::string {
    for (const char* name : names) {
      if (const char* value = getenv(name); value != nullptr) return value;
    }
    return {};
  };
  Options options;
  options.http_proxy = first({"http_proxy", "all_proxy", "ALL_PROXY"});
  options.https_proxy = first({"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
  options.no_proxy = first({"no_proxy", "NO_PROXY"});
  return options;
}

}  // namespace gatehouse::client::detail
