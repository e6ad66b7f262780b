#include "guard/csrf.hpp"

namespace gatehouse::guard {

namespace {

// Roundup's messages (roundup/cgi/client.py handle_csrf, handle_csrf_tokenless).
constexpr std::string_view kUnableToAuthorize = "Unable to authorize request";
constexpr std::string_view kInsufficientHeaders = "Unable to verify sufficient headers";
constexpr std::string_view kRequiredHeaderMissing = "Required Header Missing";
constexpr std::string_view kMethodNotAllowed = "Method not allowed";

CsrfVerdict refuse(int status, std::string_view message) noexcept {
  CsrfVerdict v;
  v.status = status;
  v.message = message;
  return v;
}

// The methods Roundup's REST and XML-RPC know (handle_csrf: others are a 405).
bool is_api_method(std::string_view m) noexcept {
  return is_safe_method(m) || m == "POST" || m == "PUT" || m == "DELETE" || m == "PATCH";
}

HeaderRule rule_of(std::string_view text) noexcept {
  if (text == "required") return HeaderRule::required;
  if (text == "logfailure") return HeaderRule::logfailure;
  if (text == "no") return HeaderRule::no;
  return HeaderRule::yes;  // "yes", and the safe choice for anything validate() let through
}

enum class Check { absent, pass, fail };

Check check_referer(const std::optional<std::string_view>& referer, const CsrfPolicy& policy,
                    const std::optional<OriginParts>& own) noexcept {
  if (!referer) return Check::absent;
  std::string_view prefix;
  const auto origin = parse_url_origin(*referer, &prefix);
  if (!origin) return Check::fail;
  // Roundup: the Referer's origin is a prefix of the tracker base, or is an allowed origin.
  if (own && same_origin(*origin, *own)) return Check::pass;
  return policy.origins.trusted(prefix) ? Check::pass : Check::fail;
}

Check check_host(const std::optional<std::string_view>& value,
                 const std::optional<OriginParts>& own) noexcept {
  if (!value) return Check::absent;
  const auto host = parse_host(*value);
  return host && own && same_authority(*own, *host) ? Check::pass : Check::fail;
}

CsrfVerdict check_tokenless(const CsrfRequest& r, const CsrfPolicy& policy) noexcept {
  if (r.origin && policy.origins.trusted(*r.origin)) return {};
  if (r.sec_fetch_site) {
    // Fetch Metadata (W3C): "same-origin", or "none" for a user-initiated navigation.
    if (*r.sec_fetch_site == "same-origin" || *r.sec_fetch_site == "none") return {};
    return refuse(403, kUnableToAuthorize);
  }
  if (!r.origin) return {};  // neither Origin nor Sec-Fetch-Site: not a browser
  const auto origin = parse_origin(*r.origin);
  const auto host = r.host ? parse_host(*r.host) : std::nullopt;
  if (origin && host && same_authority(*origin, *host)) return {};
  return refuse(403, kUnableToAuthorize);
}

CsrfVerdict check_headers(const CsrfRequest& r, const CsrfPolicy& policy) noexcept {
  const auto own = policy.origins.own_parts();
  CsrfVerdict verdict;
  int passed = 0;
  // Applies one header's rule; false when the request is refused (verdict set).
  const auto apply = [&](HeaderRule rule, Check check, std::string_view missing,
                         std::string_view invalid, std::string_view name) {
    if (rule == HeaderRule::no) return true;
    switch (check) {
      case Check::absent:
        if (rule != HeaderRule::required) return true;
        verdict = refuse(403, missing);
        return false;
      case Check::pass:
        ++passed;
        return true;
      case Check::fail:
        if (rule == HeaderRule::logfailure) {
          if (verdict.logged_count < verdict.logged.size()) {
            verdict.logged[verdict.logged_count++] = name;
          }
          return true;
        }
        verdict = refuse(403, invalid);
        return false;
    }
    return true;
  };
  if (!apply(policy.referer, check_referer(r.referer, policy, own), "Missing header: Referer",
             "Invalid Referer", "Referer")) {
    return verdict;
  }
  const Check origin =
      !r.origin ? Check::absent : (policy.origins.trusted(*r.origin) ? Check::pass : Check::fail);
  if (!apply(policy.origin, origin, "Missing header: Origin", "Invalid Origin", "Origin")) {
    return verdict;
  }
  if (!apply(policy.x_forwarded_host, check_host(r.x_forwarded_host, own),
             "Missing header: X-Forwarded-Host", "Invalid X-Forwarded-Host", "X-Forwarded-Host")) {
    return verdict;
  }
  // Host is checked only without X-Forwarded-Host: a proxy may rewrite it (Roundup).
  if (!r.x_forwarded_host && !apply(policy.host, check_host(r.host, own), "Missing header: Host",
                                    "Invalid Host", "Host")) {
    return verdict;
  }
  if (passed < policy.header_min_count) {
    CsrfVerdict refused = refuse(403, kInsufficientHeaders);
    refused.logged = verdict.logged;
    refused.logged_count = verdict.logged_count;
    return refused;
  }
  if (r.api && !r.x_requested_with) {
    switch (policy.x_requested_with) {
      case HeaderRule::required:
      case HeaderRule::yes:
        verdict.status = 403;
        verdict.message = kRequiredHeaderMissing;
        return verdict;
      case HeaderRule::logfailure:
        if (verdict.logged_count < verdict.logged.size()) {
          verdict.logged[verdict.logged_count++] = "X-Requested-With";
        }
        break;
      case HeaderRule::no:
        break;
    }
  }
  return verdict;
}

}  // namespace

CsrfPolicy CsrfPolicy::from_config(const GuardConfig& guard, std::string_view public_url) {
  CsrfPolicy p;
  p.mode = guard.csrf == "off"       ? CsrfMode::off
           : guard.csrf == "headers" ? CsrfMode::headers
                                     : CsrfMode::tokenless;
  p.origins = OriginPolicy(public_url, guard.allowed_origins);
  const CsrfHeadersConfig& h = guard.csrf_headers;
  p.referer = rule_of(h.referer);
  p.origin = rule_of(h.origin);
  p.x_forwarded_host = rule_of(h.x_forwarded_host);
  p.host = rule_of(h.host);
  p.x_requested_with = rule_of(h.x_requested_with);
  p.header_min_count = h.header_min_count;
  return p;
}

bool is_safe_method(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

bool carries_browser_credentials(const Request& request) noexcept {
  for (const auto& h : request.headers) {
    if (iequals(h.name, "Cookie")) return true;
    if (!iequals(h.name, "Authorization")) continue;
    const std::string_view value = trim(h.value);
    const std::string_view scheme = value.substr(0, value.find_first_of(" \t"));
    if (iequals(scheme, "Basic") || iequals(scheme, "Digest") || iequals(scheme, "Negotiate")) {
      return true;
    }
  }
  return false;
}

CsrfRequest csrf_request(const Request& request, bool api) noexcept {
  CsrfRequest r;
  r.method = request.method;
  r.origin = single_header(request, "Origin");
  r.sec_fetch_site = single_header(request, "Sec-Fetch-Site");
  r.host = single_header(request, "Host");
  r.referer = single_header(request, "Referer");
  r.x_forwarded_host = single_header(request, "X-Forwarded-Host");
  r.x_requested_with = single_header(request, "X-Requested-With");
  r.browser_credentials = carries_browser_credentials(request);
  r.api = api;
  return r;
}

CsrfVerdict check_csrf(const CsrfRequest& r, const CsrfPolicy& policy) noexcept {
  if (policy.mode == CsrfMode::off || is_safe_method(r.method) || !r.browser_credentials) {
    return {};
  }
  if (r.api && !is_api_method(r.method)) return refuse(405, kMethodNotAllowed);
  switch (policy.mode) {
    case CsrfMode::tokenless:
      return check_tokenless(r, policy);
    case CsrfMode::headers:
      return check_headers(r, policy);
    case CsrfMode::off:
      return {};
  }
  return {};
}

}  // namespace gatehouse::guard
