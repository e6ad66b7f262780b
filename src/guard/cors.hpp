#pragma once
// CORS (WHATWG Fetch, "CORS protocol") from the explicit allow-list only (SPEC §10):
// - the server's own origin and origins listed in [guard] allowed_origins get their Origin
//   echoed with Access-Control-Allow-Credentials: true;
// - with "*" first in allowed_origins, any other origin gets Access-Control-Allow-Origin: * and
//   no Allow-Credentials, and only on a request that carries no credentials at all: `*` is never
//   combined with credentials;
// - anything else gets no CORS headers, so the browser does not let the page read the response.
// Every response to a request with an Origin carries Vary: Origin (RFC 9110 §12.5.5), so a cache
// never serves one origin's answer to another.
#include <optional>
#include <string_view>

#include "gatehouse/http.hpp"
#include "guard/origin.hpp"

namespace gatehouse::guard {

// The headers a cross-origin page may read (Roundup's list).
inline constexpr std::string_view kCorsExposeHeaders =
    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-RateLimit-Limit-Period, "
    "Retry-After, Sunset, Allow";
// The request headers a preflight allows.
inline constexpr std::string_view kCorsAllowHeaders =
    "Content-Type, Authorization, X-Requested-With, X-HTTP-Method-Override, X-API-Key, If-Match";
// Access-Control-Allow-Methods for a route that takes every method ("*").
inline constexpr std::string_view kCorsAnyMethods = "OPTIONS, GET, POST, PUT, DELETE, PATCH";
inline constexpr std::string_view kCorsMaxAge = "86400";

enum class CorsGrant {
  none,          // no CORS headers
  credentialed,  // echo the origin, Allow-Credentials: true (own or listed origin)
  any_origin,    // "*" without Allow-Credentials (wildcard, request without credentials)
};

CorsGrant cors_grant(std::string_view origin, bool with_credentials,
                     const OriginPolicy& policy) noexcept;

// Any credential at all: Cookie, Authorization (whatever the scheme), X-API-Key, or an api_key
// query parameter. What keeps a wildcard answer away from credentialed requests.
bool carries_credentials(const Request& request) noexcept;

// Adds the actual-request CORS headers to `response`. Does nothing, and allocates nothing, when
// the request has no Origin. A response whose handler already set Access-Control-Allow-Origin is
// left as it is, but for Vary.
void add_cors_headers(const Request& request, const OriginPolicy& policy, Response& response);

// An OPTIONS request with Origin and Access-Control-Request-Method (Fetch "CORS-preflight
// request"). Roundup's REST also requires Access-Control-Request-Headers: `api_route` asks for it.
bool is_preflight(const Request& request, bool api_route) noexcept;

struct PreflightAnswer {
  bool allowed = false;
  std::string_view message;  // when refused: the refusal's text (static storage)
  Response response;         // 204 with the CORS headers, or 403 with an OAuth-style error
};

// The answer to a preflight (is_preflight() true) for a path whose routes take `allow_methods`.
// Preflights never carry credentials (Fetch), so a wildcard policy allows any origin with "*".
// On API routes a refusal's message is Roundup's "Client is not allowed to use Rest Interface.".
PreflightAnswer answer_preflight(const Request& request, const OriginPolicy& policy,
                                 std::string_view allow_methods, bool api_route);

}  // namespace gatehouse::guard
