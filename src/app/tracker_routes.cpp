#include "app/tracker_routes.hpp"

#include "tracker/rest_api.hpp"
#include "tracker/xmlrpc_api.hpp"
#include "tracker/xmlrpc_codec.hpp"
#include "util/log.hpp"

namespace gatehouse::app {

namespace {

Response xml(std::string body) {
  Response r = Response::text(200, std::move(body), "text/xml");
  r.set("Cache-Control", "no-store");
  return r;
}

// Refusals on the XML-RPC endpoint come back as faults with HTTP 200, as Roundup sends them:
// a failed login is fault 401, a throttled one 429, a CSRF refusal fault 1.
Response xmlrpc_refusal(http::Refusal why, std::string_view message, Response standard) {
  namespace x = tracker::xmlrpc;
  switch (why) {
    case http::Refusal::unauthenticated:
      return xml(x::fault_response(401, "Invalid login: " + std::string(message)));
    case http::Refusal::throttled: {
      Response r = xml(x::fault_response(429, std::string(message)));
      for (const auto& [name, value] : standard.headers) {
        if (name == "Retry-After" || name.starts_with("X-RateLimit") ||
            name == "Access-Control-Expose-Headers") {
          r.set(name, value);
        }
      }
      return r;
    }
    case http::Refusal::forbidden:
      return xml(x::fault_response(403, "Forbidden"));
    case http::Refusal::csrf:
      return xml(x::fault_response(
          1, "<class 'roundup.exceptions.Unauthorised'>:" + std::string(message)));
    case http::Refusal::bad_request:
    case http::Refusal::unavailable:
      return standard;
  }
  return standard;
}

void run_on_worker(auth::WorkerPool* pool, Completion<Response> done,
                   std::function<Response()> work) {
  auto task = [done, work = std::move(work)] {
    Response response;
    try {
      response = work();
    } catch (const std::exception& e) {
      util::diag().error("tracker request failed: {}", e.what());
      response = Response::error(503, "temporarily_unavailable", "the tracker store failed");
      response.set("Retry-After", "1");
    }
    done(std::move(response));
  };
  if (pool == nullptr || !pool->try_submit(std::move(task))) {
    Response r = Response::error(503, "temporarily_unavailable", "the server is busy");
    r.set("Retry-After", "1");
    done(std::move(r));
  }
}

void add_xmlrpc_route(http::Router& router, TrackerContext& ctx) {
  const std::string path = "/" + ctx.tracker->name() + "/xmlrpc";
  router.add(
      "POST", path, Access::optional(),
      AsyncHandler([&ctx](const Request& request, const Identity* who, Completion<Response> done) {
        namespace x = tracker::xmlrpc;
        const auto type = request.header("Content-Type");
        if (!type || !iequals(trim(type->substr(0, type->find(';'))), "text/xml")) {
          Response r = Response::text(
              415,
              "<html><body><p>This is the tracker's XML-RPC endpoint: POST a methodCall as "
              "text/xml (see Roundup's doc/xmlrpc.txt).</p></body></html>\n",
              "text/html; charset=utf-8");
          done(std::move(r));
          return;
        }
        auto parsed = x::parse_method_call(request.body);
        if (auto* error = std::get_if<x::ParseError>(&parsed)) {
          done(xml(
              x::fault_response(1, "<class 'xml.parsers.expat.ExpatError'>:" + error->message)));
          return;
        }
        auto call = std::make_shared<x::MethodCall>(std::move(std::get<x::MethodCall>(parsed)));
        tracker::Tracker& t = *ctx.tracker;
        const std::optional<tracker::Actor> actor = actor_of(t, who);
        const auto answer = [&t, call](const tracker::Actor& a) {
          if (!t.has_permission(a, "Xmlrpc Access")) {
            return xml(x::fault_response(403, "Forbidden"));
          }
          return xml(tracker::XmlrpcApi(t).dispatch(a, *call));
        };
        if (actor && !tracker::XmlrpcApi::writes(*call)) {
          done(answer(*actor));  // reads: from memory, on this thread
          return;
        }
        std::string subject = who ? who->subject : std::string();
        std::vector<std::string> roles = who ? who->roles : std::vector<std::string>();
        run_on_worker(ctx.pool, done,
                      [&t, actor, answer, subject = std::move(subject), roles = std::move(roles)] {
                        return answer(actor ? *actor : t.ensure_user(subject, roles));
                      });
      }),
      xmlrpc_refusal);
  router.mark_api(path);  // Roundup's API CSRF rules (X-Requested-With in "headers" mode)
}

// Roundup's REST interface at /{name}/rest and below (tracker/rest_api.hpp). Reads answer on the
// I/O thread from memory; writes, and requests from users without a user item yet, run on the
// worker pool.
void add_rest_routes(http::Router& router, TrackerContext& ctx) {
  const std::string prefix = "/" + ctx.tracker->name() + "/rest";
  std::string public_url = ctx.config ? ctx.config->server.public_url : std::string();
  while (public_url.ends_with("/")) public_url.pop_back();
  auto api = std::make_shared<const tracker::RestApi>(
      *ctx.tracker, public_url + "/" + ctx.tracker->name() + "/",
      tracker::RestApi::derive_etag_key(ctx.server_secret));
  const AsyncHandler handler = [&ctx, api, prefix](const Request& request, const Identity* who,
                                                   Completion<Response> done) {
    tracker::RestRequest r;
    r.method = request.method;
    r.path = request.path.substr(std::min(prefix.size(), request.path.size()));
    r.query = request.query;
    r.body = request.body;
    r.content_type = request.header("Content-Type");
    r.if_match = request.header("If-Match");
    r.method_override = request.header("X-HTTP-Method-Override");
    r.accept = request.header("Accept");
    tracker::Tracker& t = *ctx.tracker;
    const std::optional<tracker::Actor> actor = actor_of(t, who);
    if (actor && !tracker::RestApi::writes(r)) {
      done(api->handle(*actor, r));  // reads: from memory, on this thread
      return;
    }
    std::string subject = who ? who->subject : std::string();
    std::vector<std::string> roles = who ? who->roles : std::vector<std::string>();
    // `request` (and so `r`'s views) stays valid until `done` runs.
    run_on_worker(ctx.pool, done,
                  [&t, api, actor, r, subject = std::move(subject), roles = std::move(roles)] {
                    return api->handle(actor ? *actor : t.ensure_user(subject, roles), r);
                  });
  };
  router.add("*", prefix, Access::optional(), handler, rest_refusal);
  router.add("*", prefix + "/{path*}", Access::optional(), handler, rest_refusal);
  router.mark_api(prefix);
  router.mark_api(prefix + "/{path*}");
}

}  // namespace

Response rest_refusal(http::Refusal why, std::string_view message, Response standard) {
  const auto keep_headers = [&standard](Response r) {
    for (const auto& [name, value] : standard.headers) {
      if (!iequals(name, "Content-Type") && !iequals(name, "Allow")) r.set(name, value);
    }
    return r;
  };
  switch (why) {
    case http::Refusal::unauthenticated:
      return keep_headers(
          Response::text(401, "Invalid Login - " + std::string(message), "text/plain"));
    case http::Refusal::throttled:
      return keep_headers(tracker::rest_error_response(429, message));
    case http::Refusal::csrf:
      return tracker::rest_error_response(400, message);
    case http::Refusal::forbidden:
    case http::Refusal::bad_request:
    case http::Refusal::unavailable:
      return standard;
  }
  return standard;
}

std::optional<tracker::Actor> actor_of(const tracker::Tracker& tracker, const Identity* who) {
  if (who == nullptr) return tracker.anonymous();
  return tracker.actor_for(who->subject, who->roles);
}

void add_tracker_routes(http::Router& router, TrackerContext& context) {
  add_xmlrpc_route(router, context);
  add_rest_routes(router, context);
}

}  // namespace gatehouse::app
