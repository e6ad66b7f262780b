#include "http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace gatehouse::http {

void Router::add(std::string method, std::string pattern, Access access, Handler handler,
                 FailureRenderer on_failure) {
  add_route(std::move(method), std::move(pattern), std::move(access), std::move(handler), {},
            std::move(on_failure));
}

void Router::add(std::string method, std::string pattern, Access access, AsyncHandler handler,
                 FailureRenderer on_failure) {
  add_route(std::move(method), std::move(pattern), std::move(access), {}, std::move(handler),
            std::move(on_failure));
}

void Router::add_route(std::string method, std::string pattern, Access access, Handler handler,
                       AsyncHandler async_handler, FailureRenderer on_failure) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  for (const auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      throw std::invalid_argument("duplicate route: " + method + " " + pattern);
    }
  }
  const std::size_t tail = pattern.find("*}");
  if (tail != std::string::npos && tail + 2 != pattern.size()) {
    throw std::invalid_argument("a {name*} segment must come last: " + pattern);
  }
  Route r{std::move(method),        std::move(pattern),    std::move(access), std::move(handler),
          std::move(async_handler), std::move(on_failure), routes_.size()};
  routes_.push_back(std::move(r));
  // Literal patterns are tried before patterns with {params} ("/items/new" before "/items/{id}").
  match_order_.clear();
  for (const bool with_params : {false, true}) {
    for (const auto& route : routes_) {
      if ((route.pattern.find('{') != std::string::npos) == with_params) {
        match_order_.push_back(route.index);
      }
    }
  }
}

bool Router::match_pattern(std::string_view pattern, std::string_view path,
                           std::vector<std::pair<std::string_view, std::string_view>>* params) {
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/') {
      return false;
    }
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const auto pseg_end = pattern.find('/');
    const auto seg_end = path.find('/');
    const std::string_view pseg = pattern.substr(0, pseg_end);
    const std::string_view seg = path.substr(0, seg_end);
    if (pseg.size() >= 3 && pseg.front() == '{' && pseg.ends_with("*}")) {
      // The rest of the path, slashes included; may be empty.
      if (params) params->emplace_back(pseg.substr(1, pseg.size() - 3), path);
      return true;
    }
    if (pseg.size() >= 2 && pseg.front() == '{' && pseg.back() == '}') {
      if (seg.empty()) return false;
      if (params) params->emplace_back(pseg.substr(1, pseg.size() - 2), seg);
    } else if (pseg != seg) {
      return false;
    }
    pattern = pseg_end == std::string_view::npos ? std::string_view{} : pattern.substr(pseg_end);
    path = seg_end == std::string_view::npos ? std::string_view{} : path.substr(seg_end);
  }
  return true;
}

void Router::mark_api(std::string_view pattern) {
  bool found = false;
  for (auto& r : routes_) {
    if (r.pattern == pattern) r.api = found = true;
  }
  if (!found) throw std::invalid_argument("no route to mark as API: " + std::string(pattern));
}

PathRoutes Router::routes_for(std::string_view path) const {
  PathRoutes result;
  std::vector<std::string_view> methods;
  const auto add = [&methods](std::string_view m) {
    if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
  };
  for (const std::size_t index : match_order_) {
    const Route& r = routes_[index];
    if (!match_pattern(r.pattern, path, nullptr)) continue;
    if (result.first == nullptr) result.first = &r;
    result.api = result.api || r.api;
    if (r.method == "*") {
      for (std::string_view m : {"OPTIONS", "GET", "POST", "PUT", "DELETE", "PATCH"}) add(m);
    } else {
      add(r.method);
      if (r.method == "GET") add("HEAD");
    }
  }
  for (const auto m : methods) {
    if (!result.methods.empty()) result.methods += ", ";
    result.methods += m;
  }
  return result;
}

RouteMatch Router::match(Request& request) const {
  RouteMatch result;
  std::vector<std::string> allowed;
  const std::string_view method = request.method == "HEAD" ? "GET" : request.method;
  for (const std::size_t index : match_order_) {
    const Route& r = routes_[index];
    if (!match_pattern(r.pattern, request.path, nullptr)) continue;
    if (r.method == method || r.method == "*") {
      request.path_params.clear();
      match_pattern(r.pattern, request.path, &request.path_params);
      result.route = &r;
      return result;
    }
    for (std::string_view m : {std::string_view(r.method), std::string_view("HEAD")}) {
      if (m == "HEAD" && r.method != "GET") continue;
      if (std::find(allowed.begin(), allowed.end(), m) == allowed.end()) allowed.emplace_back(m);
    }
  }
  for (const auto& m : allowed) {
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += m;
  }
  return result;
}

}  // namespace gatehouse::http
