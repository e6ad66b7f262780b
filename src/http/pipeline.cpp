#include "http/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

#include "util/log.hpp"

namespace gatehouse::http {

Authenticator::Authenticator(std::vector<std::unique_ptr<Scheme>> schemes)
    : schemes_(std::move(schemes)) {}

std::vector<std::string> Authenticator::challenges(const Outcome& outcome) const {
  std::vector<std::string> out;
  for (const auto& s : schemes_) {
    s->append_challenges_for(out, outcome);
  }
  return out;
}

void Authenticator::authenticate(const Request& request, Completion<Outcome> done) const {
  // A scheme or store that throws (user code can add stores) must still get the request
  // answered, exactly once: `answered` guards against a verify() that answered and then threw.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  auto once = [answered, done = std::move(done)](Outcome outcome) {
    if (!answered->exchange(true)) done(std::move(outcome));
  };
  for (const auto& scheme : schemes_) {
    try {
      Parsed parsed = scheme->parse(request);
      switch (parsed.kind) {
        case Parsed::Kind::absent:
          continue;
        case Parsed::Kind::malformed:
          once(Outcome::fail(OutcomeKind::malformed, std::string(scheme->name()), "malformed",
                             std::move(parsed.description)));
          return;
        case Parsed::Kind::present:
          scheme->verify(std::move(parsed.credentials), request, once);
          return;
      }
    } catch (const std::exception& e) {
      util::diag().error("scheme {} failed: {}", scheme->name(), e.what());
    } catch (...) {
      util::diag().error("scheme {} failed with a non-standard exception", scheme->name());
    }
    once(Outcome::fail(OutcomeKind::error, std::string(scheme->name()), "scheme_error",
                       "authentication failed unexpectedly"));
    return;
  }
  const bool has_authorization = request.header("Authorization").has_value();
  once(Outcome::fail(OutcomeKind::denied, "none",
                     has_authorization ? "unsupported_scheme" : "no_credentials",
                     has_authorization ? "the Authorization scheme is not accepted here"
                                       : "authentication required"));
}

std::optional<GuardRefusal> Guard::check(const Request& request, const Route& route) const {
  // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host header is a 400.
  if (request.header_count("Host") > 1) {
    return GuardRefusal{Refusal::bad_request, "more than one Host header",
                        Response::error(400, "invalid_request", "more than one Host header")};
  }
  if (cross_origin_.mode != guard::CsrfMode::off && !guard::is_safe_method(request.method) &&
      guard::carries_browser_credentials(request)) {
    const guard::CsrfVerdict verdict =
        guard::check_csrf(guard::csrf_request(request, route.api), cross_origin_);
    for (std::size_t i = 0; i < verdict.logged_count; ++i) {
      util::diag().warn("csrf: {} header check failed for {} {} (logfailure: let through)",
                        verdict.logged[i], request.method, route.pattern);
    }
    if (!verdict.allowed()) {
      util::diag().info("csrf: refused {} {} from {}: {}", request.method, route.pattern,
                        request.remote_address, verdict.message);
      Response r = verdict.status == 405
                       ? Response::error(405, "method_not_allowed", verdict.message)
                       : Response::error(verdict.status, "csrf_failed", verdict.message);
      if (verdict.status == 405) r.set("Allow", std::string(guard::kCorsAnyMethods));
      return GuardRefusal{Refusal::csrf, std::string(verdict.message), std::move(r)};
    }
  }
  return std::nullopt;
}

void Guard::add_cors_headers(const Request& request, Response& response) const {
  guard::add_cors_headers(request, cross_origin_.origins, response);
}

guard::PreflightAnswer Guard::answer_preflight(const Request& request,
                                               const PathRoutes& routes) const {
  return guard::answer_preflight(request, cross_origin_.origins, routes.methods, routes.api);
}

Response authn_response(const Outcome& outcome, const std::vector<std::string>& challenges) {
  Response r;
  switch (outcome.kind) {
    case OutcomeKind::granted:
      return Response::error(500, "server_error", "granted outcome reached the error mapper");
    case OutcomeKind::denied:
    case OutcomeKind::unknown_user:
      r = Response::error(401,
                          outcome.reason == "no_credentials" ? "unauthorized"
                          : outcome.scheme == "bearer"       ? "invalid_token"
                                                             : "invalid_credentials",
                          outcome.description);
      break;
    case OutcomeKind::stale:
      r = Response::error(401, "stale_credentials", outcome.description);
      break;
    case OutcomeKind::malformed:
      // A malformed Authorization is answered like wrong credentials (as Apache httpd does), so
      // a browser or client prompts again; the description says what was wrong.
      // RFC 6750 §3.1: a malformed bearer token is "invalid_token", like any refused one.
      r = Response::error(401, outcome.scheme == "bearer" ? "invalid_token" : "invalid_request",
                          outcome.description);
      break;
    case OutcomeKind::busy:
      r = Response::error(503, "temporarily_unavailable", outcome.description);
      r.set("Retry-After", std::to_string(outcome.retry_after > 0 ? outcome.retry_after : 1));
      return r;
    case OutcomeKind::throttled:
      // RFC 6585 §4; the X-RateLimit-* headers ride in outcome.response_headers.
      r = Response::error(429, "too_many_requests", outcome.description);
      r.set("Retry-After", std::to_string(outcome.retry_after > 0 ? outcome.retry_after : 1));
      for (const auto& [name, value] : outcome.response_headers) r.set(name, value);
      return r;
    case OutcomeKind::error:
      r = Response::error(503, "temporarily_unavailable",
                          "authentication is temporarily unavailable");
      r.set("Retry-After", "1");
      return r;
  }
  for (const auto& c : challenges) r.set("WWW-Authenticate", c);
  return r;
}

namespace {
Refusal refusal_for(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::throttled:
      return Refusal::throttled;
    case OutcomeKind::busy:
    case OutcomeKind::error:
      return Refusal::unavailable;
    case OutcomeKind::granted:
    case OutcomeKind::denied:
    case OutcomeKind::unknown_user:
    case OutcomeKind::stale:
    case OutcomeKind::malformed:
      return Refusal::unauthenticated;
  }
  return Refusal::unauthenticated;
}

Response render_refusal(const Route& route, Refusal why, std::string_view message,
                        Response standard) {
  if (!route.on_failure) return standard;
  try {
    return route.on_failure(why, message, std::move(standard));
  } catch (const std::exception& e) {
    util::diag().error("failure renderer for {} {} failed: {}", route.method, route.pattern,
                       e.what());
    return Response::error(500, "server_error", "the request could not be completed");
  }
}
}  // namespace

Pipeline::Pipeline(const Router& router, const Authenticator& authenticator, const Guard& guard,
                   Metrics& metrics, const AccessLog& log)
    : router_(router), authenticator_(authenticator), guard_(guard), metrics_(metrics), log_(log) {}

namespace {
// Runs a route's handler and answers exactly once: a handler that throws before answering gets a
// 500 (and a log line); one that throws after answering, or answers twice, is only logged.
template <class Done>
void call_handler(const Route& route, const Request& request, const Identity* who, Done&& done) {
  if (route.handler) {  // synchronous: no allocation, no once-guard needed
    Response response;
    try {
      response = route.handler(request, who);
    } catch (const std::exception& e) {
      util::diag().error("handler for {} {} failed: {}", route.method, route.pattern, e.what());
      response = Response::error(500, "server_error", "the request could not be completed");
    } catch (...) {
      util::diag().error("handler for {} {} failed with a non-standard exception", route.method,
                         route.pattern);
      response = Response::error(500, "server_error", "the request could not be completed");
    }
    done(std::move(response));
    return;
  }
  auto answered = std::make_shared<std::atomic<bool>>(false);
  auto once = [answered, &route, done = std::move(done)](Response response) {
    if (!answered->exchange(true)) {
      done(std::move(response));
    } else {
      util::diag().error("handler for {} {} answered twice", route.method, route.pattern);
    }
  };
  try {
    route.async_handler(request, who, once);
    return;
  } catch (const std::exception& e) {
    util::diag().error("handler for {} {} failed: {}", route.method, route.pattern, e.what());
  } catch (...) {
    util::diag().error("handler for {} {} failed with a non-standard exception", route.method,
                       route.pattern);
  }
  if (!answered->load())
    once(Response::error(500, "server_error", "the request could not be completed"));
}
}  // namespace

void Pipeline::handle(Request& request, Completion<Response> done) const {
  const auto start = std::chrono::steady_clock::now();
  // CORS preflights are answered before routing and authentication (Fetch: a preflight never
  // carries credentials); an OPTIONS that is not one is routed like any request.
  if (request.method == "OPTIONS" && request.header("Origin") &&
      request.header("Access-Control-Request-Method")) {
    const PathRoutes routes = router_.routes_for(request.path);
    if (routes.first != nullptr && guard::is_preflight(request, routes.api)) {
      guard::PreflightAnswer answer = guard_.answer_preflight(request, routes);
      Response response = answer.allowed
                              ? std::move(answer.response)
                              : render_refusal(*routes.first, Refusal::csrf, answer.message,
                                               std::move(answer.response));
      const auto latency = std::chrono::steady_clock::now() - start;
      metrics_.record_request(routes.first->index, response.status, latency);
      log_.write(request, response, latency, nullptr);
      done(std::move(response));
      return;
    }
  }
  const RouteMatch match = router_.match(request);
  const std::size_t route_index = match.route ? match.route->index : metrics_.unmatched_route();
  auto finish = [this, &request, start, route_index, done = std::move(done)](
                    Response response, const Outcome* outcome) {
    guard_.add_cors_headers(request, response);  // every response, errors included
    const auto latency = std::chrono::steady_clock::now() - start;
    metrics_.record_request(route_index, response.status, latency);
    log_.write(request, response, latency, outcome);
    done(std::move(response));
  };

  if (match.route == nullptr) {
    if (!match.allow.empty()) {
      auto r = Response::error(405, "method_not_allowed",
                               std::string(request.method) + " is not allowed here");
      r.set("Allow", match.allow);
      finish(std::move(r), nullptr);
    } else {
      finish(Response::error(404, "not_found", "no such resource"), nullptr);
    }
    return;
  }
  const Route& route = *match.route;
  if (auto refused = guard_.check(request, route)) {
    finish(render_refusal(route, refused->why, refused->message, std::move(refused->response)),
           nullptr);
    return;
  }
  if (route.access.kind == Access::Kind::anyone) {
    call_handler(route, request, nullptr, [finish = std::move(finish)](Response response) {
      finish(std::move(response), nullptr);
    });
    return;
  }
  authenticator_.authenticate(request, [this, &route, &request,
                                        finish = std::move(finish)](Outcome outcome) {
    const bool anonymous = route.access.kind == Access::Kind::optional &&
                           outcome.kind == OutcomeKind::denied &&
                           outcome.reason == "no_credentials";
    if (!anonymous) metrics_.record_auth(outcome.scheme, outcome.kind);
    if (outcome.kind != OutcomeKind::granted && !anonymous) {
      finish(render_refusal(route, refusal_for(outcome.kind), outcome.description,
                            authn_response(outcome, authenticator_.challenges(outcome))),
             &outcome);
      return;
    }
    if (route.access.kind == Access::Kind::role &&
        !outcome.identity->has_role(route.access.required_role)) {
      const std::string message = "this resource requires the role " + route.access.required_role;
      finish(render_refusal(route, Refusal::forbidden, message,
                            Response::error(403, "forbidden", message)),
             &outcome);
      return;
    }
    const Identity* who = anonymous ? nullptr : outcome.identity.get();
    if (route.handler) {
      call_handler(route, request, who, [&outcome, &finish](Response response) {
        for (auto& [name, value] : outcome.response_headers) response.set(name, value);
        if (outcome.finalize) outcome.finalize(response);
        finish(std::move(response), &outcome);
      });
      return;
    }
    auto kept = std::make_shared<Outcome>(std::move(outcome));
    call_handler(route, request, who, [kept, finish = std::move(finish)](Response response) {
      for (auto& [name, value] : kept->response_headers) response.set(name, value);
      if (kept->finalize) kept->finalize(response);
      finish(std::move(response), kept.get());
    });
  });
}

}  // namespace gatehouse::http
