#pragma once
// CSRF decisions (SPEC §10), as pure functions of a few request headers and the policy, so that
// the whole decision matrix is unit-tested without HTTP plumbing.
//
// Only an unsafe request (any method but GET, HEAD and OPTIONS; RFC 9110 §9.2.1) that carries
// credentials a browser attaches by itself (a Cookie, or Authorization with the Basic, Digest or
// Negotiate scheme) can be forged by another site; everything else is allowed. Bearer tokens and
// API keys (Authorization: Bearer/Apikey, X-API-Key) are exempt: a page on another site cannot
// make a browser send them.
//
// Modes ([guard] csrf):
// - "tokenless": Roundup's handle_csrf_tokenless, after Filippo Valsorda's "CSRF" article
//   (https://words.filippo.io/csrf/), in this order: a trusted Origin (own or listed) → allow;
//   Sec-Fetch-Site present → allow only "same-origin" and "none"; neither header → allow (not a
//   browser); otherwise the Origin's host[:port] must equal Host.
// - "headers": Roundup's header policy for its API (csrf_enforce_header_*): Referer, Origin,
//   X-Forwarded-Host or Host, X-Requested-With (API routes only), header_min_count.
// - "off": nothing is checked.
// On API routes (the tracker's REST and XML-RPC) a method Roundup does not know (not one of GET,
// HEAD, OPTIONS, POST, PUT, DELETE, PATCH) is refused with 405 in both checking modes.
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "gatehouse/config.hpp"
#include "gatehouse/http.hpp"
#include "guard/origin.hpp"

namespace gatehouse::guard {

enum class CsrfMode { tokenless, headers, off };

// Roundup's csrf_enforce_header_* values.
enum class HeaderRule {
  required,    // must be present and pass ("Missing header: X" otherwise)
  yes,         // when present must pass
  logfailure,  // when present and failing: logged, let through, not counted
  no,          // not looked at
};

struct CsrfPolicy {
  CsrfMode mode = CsrfMode::off;
  OriginPolicy origins;
  HeaderRule referer = HeaderRule::yes;
  HeaderRule origin = HeaderRule::yes;
  HeaderRule x_forwarded_host = HeaderRule::yes;
  HeaderRule host = HeaderRule::yes;
  HeaderRule x_requested_with = HeaderRule::yes;  // API routes only
  int header_min_count = 1;

  // From a validated [guard] table and [server] public_url.
  static CsrfPolicy from_config(const GuardConfig& guard, std::string_view public_url);
};

// What CSRF looks at in a request; each header as single_header() gives it.
struct CsrfRequest {
  std::string_view method;
  std::optional<std::string_view> origin;
  std::optional<std::string_view> sec_fetch_site;
  std::optional<std::string_view> host;
  std::optional<std::string_view> referer;
  std::optional<std::string_view> x_forwarded_host;
  std::optional<std::string_view> x_requested_with;
  bool browser_credentials = false;  // see carries_browser_credentials()
  bool api = false;                  // a tracker REST/XML-RPC route (Route::api)
};

struct CsrfVerdict {
  int status = 0;            // 0: allowed; else 403, or 405 for an unknown method on an API route
  std::string_view message;  // Roundup's text when refused (static storage)
  // Header checks that failed under "logfailure" and were let through, for the log.
  std::array<std::string_view, 5> logged{};
  std::size_t logged_count = 0;

  bool allowed() const noexcept { return status == 0; }
};

// GET, HEAD and OPTIONS (RFC 9110 §9.2.1; methods are case-sensitive, §9.1).
bool is_safe_method(std::string_view method) noexcept;

// A Cookie header, or an Authorization header whose scheme is Basic, Digest or Negotiate (scheme
// names are case-insensitive, RFC 9110 §11.1): what a browser sends on its own to a site.
bool carries_browser_credentials(const Request& request) noexcept;

// The CSRF-relevant parts of `request`; views into it.
CsrfRequest csrf_request(const Request& request, bool api) noexcept;

CsrfVerdict check_csrf(const CsrfRequest& request, const CsrfPolicy& policy) noexcept;

}  // namespace gatehouse::guard
