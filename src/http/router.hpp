#pragma once
// Maps (method, path) to a route. Patterns are literal segments and {name} segments.
#include <string>
#include <string_view>
#include <vector>

#include "gatehouse/server.hpp"

namespace gatehouse::http {

struct Route {
  std::string method;
  std::string pattern;
  Access access;
  Handler handler;  // exactly one of handler and async_handler is set
  AsyncHandler async_handler;
  std::size_t index = 0;  // position in routes(), for metrics
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route for this method
  std::string allow;             // when the path exists for other methods: their list (for 405)
};

class Router {
 public:
  void add(std::string method, std::string pattern, Access access, Handler handler);
  void add(std::string method, std::string pattern, Access access, AsyncHandler handler);
  // HEAD matches GET routes. Fills request.path_params on a match.
  RouteMatch match(Request& request) const;
  const std::vector<Route>& routes() const noexcept { return routes_; }

 private:
  void add_route(std::string method, std::string pattern, Access access, Handler handler,
                 AsyncHandler async_handler);
  static bool match_pattern(std::string_view pattern, std::string_view path,
                            std::vector<std::pair<std::string_view, std::string_view>>* params);
  std::vector<Route> routes_;
  std::vector<std::size_t> match_order_;
};

}  // namespace gatehouse::http
