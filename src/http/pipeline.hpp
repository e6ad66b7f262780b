#pragma once
// The request path (DESIGN.md): router → guard → authenticate (scheme chain × stores) →
// authorize (roles) → handler. One pass; each stage answers or hands on.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gatehouse/scheme.hpp"
#include "guard/cors.hpp"
#include "guard/csrf.hpp"
#include "http/access_log.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "util/clock.hpp"

namespace gatehouse::http {

// Runs the enabled schemes in order; the first that finds its credentials in the request decides.
class Authenticator {
 public:
  explicit Authenticator(std::vector<std::unique_ptr<Scheme>> schemes);
  void authenticate(const Request& request, Completion<Outcome> done) const;
  // The WWW-Authenticate values for a 401: every enabled scheme's, in order (RFC 9110
  // §11.6.1); the scheme that answered `stale` marks its challenges stale.
  std::vector<std::string> challenges(const Outcome& outcome) const;

 private:
  std::vector<std::unique_ptr<Scheme>> schemes_;
};

// A request the guard turned away, and why (a route may render it in its own protocol).
struct GuardRefusal {
  Refusal why;
  std::string message;
  Response response;
};

// Request-level checks before authentication: CSRF and CORS plug in here. Failed-login
// throttling is not request-level (it needs the user name a credential names): the schemes
// consult guard::FailedLoginLimiter (guard/failed_login.hpp) before they verify a secret.
class Guard {
 public:
  // CSRF and CORS (src/guard/csrf.hpp, cors.hpp) follow `policy`; until this is called both are
  // off (no CSRF checks, no CORS headers, preflights refused). Call before serving.
  void set_cross_origin(guard::CsrfPolicy policy) { cross_origin_ = std::move(policy); }
  // Runs after routing, before authentication: `route` is the matched route.
  std::optional<GuardRefusal> check(const Request& request, const Route& route) const;
  // CORS for an actual request: adds the headers to any response (nothing without Origin).
  void add_cors_headers(const Request& request, Response& response) const;
  // The answer to a CORS preflight (guard::is_preflight) for a path served by `routes`.
  guard::PreflightAnswer answer_preflight(const Request& request, const PathRoutes& routes) const;

 private:
  guard::CsrfPolicy cross_origin_;
};

// The one place that turns a failed authentication into HTTP.
Response authn_response(const Outcome& outcome, const std::vector<std::string>& challenges);

class Pipeline {
 public:
  Pipeline(const Router& router, const Authenticator& authenticator, const Guard& guard,
           Metrics& metrics, const AccessLog& log);
  // `done` is called exactly once, on this thread or a worker thread.
  void handle(Request& request, Completion<Response> done) const;

 private:
  const Router& router_;
  const Authenticator& authenticator_;
  const Guard& guard_;
  Metrics& metrics_;
  const AccessLog& log_;
};

}  // namespace gatehouse::http
