#pragma once
// Maps (method, path) to a route. Patterns are literal segments, {name} segments (one non-empty
// segment) and a final {name*} (the rest of the path, slashes included, possibly empty). The
// method "*" matches every method; the handler then answers 405 itself.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gatehouse/server.hpp"

namespace gatehouse::http {

// Why the pipeline answered a request without running its handler.
enum class Refusal {
  unauthenticated,  // 401: credentials missing, wrong or malformed
  throttled,        // 429: failed-login limit
  forbidden,        // 403: authenticated but lacking the route's role
  csrf,             // a cross-site unsafe request with browser-attached credentials, or a CORS
                    // preflight from an origin that is not allowed
  bad_request,      // 400 from the guard (e.g. two Host headers)
  unavailable,      // 503: verification capacity exhausted or a store failed
};

// Lets a route answer refusals in its own protocol (an XML-RPC fault, Roundup's REST envelope):
// gets the standard response (status, headers such as WWW-Authenticate and Retry-After, and an
// OAuth-style JSON body whose error_description is `message`) and returns the one to send.
using FailureRenderer =
    std::function<Response(Refusal why, std::string_view message, Response standard)>;

struct Route {
  std::string method;
  std::string pattern;
  Access access;
  Handler handler;  // exactly one of handler and async_handler is set
  AsyncHandler async_handler;
  FailureRenderer on_failure;  // optional
  std::size_t index = 0;       // position in routes(), for metrics
  // A tracker REST/XML-RPC endpoint (Router::mark_api): Roundup's CSRF rules for its API apply
  // (X-Requested-With, 405 for unknown methods, Access-Control-Request-Headers on preflights).
  bool api = false;
};

// Every route whose pattern matches a path, whatever its method (for CORS preflights).
struct PathRoutes {
  const Route* first = nullptr;  // the first in match order; null: no route has this path
  bool api = false;              // one of them is an API route
  // Their methods, "GET, HEAD, POST" (HEAD with GET); a "*" route adds every method Roundup's
  // REST takes: OPTIONS, GET, POST, PUT, DELETE, PATCH.
  std::string methods;
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route for this method
  std::string allow;             // when the path exists for other methods: their list (for 405)
};

class Router {
 public:
  void add(std::string method, std::string pattern, Access access, Handler handler,
           FailureRenderer on_failure = {});
  void add(std::string method, std::string pattern, Access access, AsyncHandler handler,
           FailureRenderer on_failure = {});
  // HEAD matches GET routes. Fills request.path_params on a match.
  RouteMatch match(Request& request) const;
  // Marks every route (any method) with exactly this pattern as a tracker API route
  // (Route::api). Start-up only; throws std::invalid_argument when no route has the pattern.
  void mark_api(std::string_view pattern);
  PathRoutes routes_for(std::string_view path) const;
  const std::vector<Route>& routes() const noexcept { return routes_; }

 private:
  void add_route(std::string method, std::string pattern, Access access, Handler handler,
                 AsyncHandler async_handler, FailureRenderer on_failure);
  static bool match_pattern(std::string_view pattern, std::string_view path,
                            std::vector<std::pair<std::string_view, std::string_view>>* params);
  std::vector<Route> routes_;
  std::vector<std::size_t> match_order_;
};

}  // namespace gatehouse::http
