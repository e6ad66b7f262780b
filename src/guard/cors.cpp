#include "guard/cors.hpp"

#include <string>

namespace gatehouse::guard {

namespace {

// Whether a Vary value already lists Origin (or is "*", which covers it).
bool varies_on_origin(std::string_view vary) noexcept {
  while (!vary.empty()) {
    const auto comma = vary.find(',');
    const std::string_view item = trim(vary.substr(0, comma));
    if (item == "*" || iequals(item, "Origin")) return true;
    vary = comma == std::string_view::npos ? std::string_view{} : vary.substr(comma + 1);
  }
  return false;
}

void add_vary_origin(Response& response) {
  for (const auto& [name, value] : response.headers) {
    if (iequals(name, "Vary") && varies_on_origin(value)) return;
  }
  response.set("Vary", "Origin");
}

void grant_headers(Response& response, CorsGrant grant, std::string_view origin) {
  switch (grant) {
    case CorsGrant::none:
      return;
    case CorsGrant::credentialed:
      response.set("Access-Control-Allow-Origin", std::string(origin));
      response.set("Access-Control-Allow-Credentials", "true");
      return;
    case CorsGrant::any_origin:
      response.set("Access-Control-Allow-Origin", "*");
      return;
  }
}

}  // namespace

CorsGrant cors_grant(std::string_view origin, bool with_credentials,
                     const OriginPolicy& policy) noexcept {
  switch (policy.match(origin)) {
    case OriginPolicy::Match::own:
    case OriginPolicy::Match::listed:
      return CorsGrant::credentialed;
    case OriginPolicy::Match::wildcard:
      return with_credentials ? CorsGrant::none : CorsGrant::any_origin;
    case OriginPolicy::Match::none:
      return CorsGrant::none;
  }
  return CorsGrant::none;
}

bool carries_credentials(const Request& request) noexcept {
  for (const auto& h : request.headers) {
    if (iequals(h.name, "Cookie") || iequals(h.name, "Authorization") ||
        iequals(h.name, "X-API-Key")) {
      return true;
    }
  }
  // The ApiKey scheme reads ?api_key= by its raw name (Request::query_param), and so does this.
  std::string_view rest = request.query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.substr(0, pair.find('=')) == "api_key") return true;
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
  return false;
}

void add_cors_headers(const Request& request, const OriginPolicy& policy, Response& response) {
  const auto origin = single_header(request, "Origin");
  if (!origin) return;
  add_vary_origin(response);
  if (response.find("Access-Control-Allow-Origin") != nullptr) return;  // the handler decided
  const CorsGrant grant =
      cors_grant(*origin, policy.wildcard() && carries_credentials(request), policy);
  if (grant == CorsGrant::none) return;
  grant_headers(response, grant, *origin);
  response.set("Access-Control-Expose-Headers", std::string(kCorsExposeHeaders));
}

bool is_preflight(const Request& request, bool api_route) noexcept {
  if (request.method != "OPTIONS") return false;
  if (!request.header("Origin") || !request.header("Access-Control-Request-Method")) return false;
  return !api_route || request.header("Access-Control-Request-Headers").has_value();
}

PreflightAnswer answer_preflight(const Request& request, const OriginPolicy& policy,
                                 std::string_view allow_methods, bool api_route) {
  PreflightAnswer answer;
  const std::string_view origin = single_header(request, "Origin").value_or(std::string_view{});
  const CorsGrant grant = cors_grant(origin, false, policy);
  if (grant == CorsGrant::none) {
    answer.message = api_route ? "Client is not allowed to use Rest Interface."
                               : "cross-origin requests from this origin are not allowed";
    answer.response = Response::error(403, "origin_not_allowed", answer.message);
    answer.response.set("Vary", "Origin");
    return answer;
  }
  answer.allowed = true;
  answer.response.status = 204;
  grant_headers(answer.response, grant, origin);
  answer.response.set("Access-Control-Allow-Methods", std::string(allow_methods));
  answer.response.set("Access-Control-Allow-Headers", std::string(kCorsAllowHeaders));
  answer.response.set("Access-Control-Max-Age", std::string(kCorsMaxAge));
  answer.response.set("Vary", "Origin");
  return answer;
}

}  // namespace gatehouse::guard
