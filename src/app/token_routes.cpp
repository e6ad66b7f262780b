#include "app/token_routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "auth/username.hpp"
#include "http/form.hpp"
#include "http/pipeline.hpp"
#include "jose/json_strict.hpp"
#include "schemes/authorization_header.hpp"
#include "schemes/basic.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace gatehouse::app {

namespace {

constexpr std::string_view kBadLogin = "wrong username or password";

using http::has_media_type;
using http::Params;
using http::read_params;

std::optional<std::string> param(const Params& params, std::string_view name) {
  const auto it = params.find(name);
  if (it == params.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

Response no_store(Response r) {
  r.set("Cache-Control", "no-store");
  r.set("Pragma", "no-cache");
  return r;
}

Response json_ok(int status, const boost::json::value& body) {
  return no_store(Response::json(status, boost::json::serialize(body)));
}

Response busy() {
  auto r = Response::error(503, "temporarily_unavailable", "the server is busy; retry shortly");
  r.set("Retry-After", "1");
  return r;
}

// Runs blocking work (database writes) on the worker pool; a full pool answers 503.
void on_worker(TokenContext& ctx, Completion<Response> done, std::function<Response()> work) {
  auto task = [done, work = std::move(work)] {
    Response response;
    try {
      response = work();
    } catch (const std::exception& e) {
      util::diag().error("token endpoint failed: {}", e.what());
      response = Response::error(503, "temporarily_unavailable", "the store is unavailable");
      response.set("Retry-After", "1");
    }
    done(std::move(response));
  };
  if (!ctx.pool->try_submit(std::move(task))) done(busy());
}

bool is_admin(const Identity& who) {
  return who.has_role("Admin");
}

boost::json::array to_json(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const auto& i : items) out.emplace_back(i);
  return out;
}

// Credentials for a login: a Basic header, or username + password in a JSON or form body.
struct LoginInput {
  std::optional<PasswordCredentials> credentials;
  bool basic = false;
  std::string error;
};

LoginInput read_login(const Request& request, bool allow_body) {
  LoginInput in;
  if (const auto authorization = request.header("Authorization")) {
    const auto value = schemes::split_authorization(*authorization);
    if (!value || !iequals(value->scheme, "Basic")) {
      in.error = "log in with Basic credentials or a username and password in the body";
      return in;
    }
    Parsed parsed = schemes::parse_basic_credentials(value->rest);
    if (parsed.kind != Parsed::Kind::present) {
      in.error = parsed.description.empty() ? "malformed Basic credentials" : parsed.description;
      return in;
    }
    in.credentials = std::get<PasswordCredentials>(std::move(parsed.credentials));
    in.basic = true;
    return in;
  }
  if (!allow_body) {
    in.error = "log in with Basic credentials";
    return in;
  }
  std::string error;
  const auto params = read_params(request, &error);
  if (!params) {
    in.error = error;
    return in;
  }
  const auto username = param(*params, "username");
  const auto password = param(*params, "password");
  if (!username || !password) {
    in.error = "username and password are required";
    return in;
  }
  auto normalized = auth::normalize_username(*username);
  if (!normalized) {
    in.error = "the username is not valid";
    return in;
  }
  in.credentials = PasswordCredentials{std::move(*normalized), Secret(*password)};
  return in;
}

// Shapes of a token response: gatehouse's (OAuth-like) or the auth-adventures tutorial's.
enum class PairShape { gatehouse, tutorial };

Response pair_response(const tokens::TokenPair& pair, PairShape shape) {
  if (shape == PairShape::gatehouse) return no_store(Response::json(200, pair.json()));
  boost::json::object o;
  o["refresh_token"] = pair.refresh_token;
  o["access_token"] = pair.access_token;
  return json_ok(200, o);
}

void login(TokenContext& ctx, const Request& request, Completion<Response> done, PairShape shape) {
  LoginInput in = read_login(request, shape == PairShape::gatehouse);
  if (!in.credentials) {
    done(Response::error(400, "invalid_request", in.error));
    return;
  }
  const std::string method = in.basic ? "basic" : "password";
  const bool basic = in.basic;
  ctx.passwords->check(
      std::move(*in.credentials), method, std::string(request.remote_address),
      [&ctx, done, shape, method, basic](Outcome outcome) {
        switch (outcome.kind) {
          case OutcomeKind::granted: {
            const std::string user = outcome.identity->subject;
            on_worker(ctx, done, [&ctx, user, method, shape] {
              auto result = ctx.tokens->login(user, method);
              if (auto* error = std::get_if<tokens::TokenError>(&result)) {
                return Response::error(401, "invalid_credentials", error->description);
              }
              return pair_response(std::get<tokens::TokenPair>(result), shape);
            });
            return;
          }
          case OutcomeKind::busy:
          case OutcomeKind::error:
            done(busy());
            return;
          case OutcomeKind::throttled:
            done(http::authn_response(outcome, {}));
            return;
          case OutcomeKind::denied:
          case OutcomeKind::unknown_user:
          case OutcomeKind::stale:
          case OutcomeKind::malformed: {
            auto r = Response::error(401, "invalid_credentials", kBadLogin);
            if (basic) {
              r.set("WWW-Authenticate",
                    "Basic realm=" + quote_string(ctx.config->auth.realm) + ", charset=\"UTF-8\"");
            }
            done(std::move(r));
            return;
          }
        }
      });
}

// `status` for a refused grant: 400 at the OAuth token endpoint (RFC 6749 §5.2), 401 at the
// JSON refresh endpoints (what auth-adventures' client expects before asking to log in again).
void refresh(TokenContext& ctx, std::string token, Completion<Response> done, PairShape shape,
             int status) {
  on_worker(ctx, done, [&ctx, token = std::move(token), shape, status] {
    auto result = ctx.tokens->refresh(token);
    if (auto* error = std::get_if<tokens::TokenError>(&result)) {
      if (shape == PairShape::tutorial) {
        boost::json::object o;
        o["error"] = error->description;
        return Response::json(status, boost::json::serialize(o));
      }
      return no_store(Response::error(status, error->error, error->description));
    }
    return pair_response(std::get<tokens::TokenPair>(result), shape);
  });
}

// A parameter the request cannot do without: answers 400 naming it when absent or empty.
std::optional<std::string> required_param(const Params& params, std::string_view name,
                                          Completion<Response>& done) {
  auto value = param(params, name);
  if (!value) done(Response::error(400, "invalid_request", std::string(name) + " is required"));
  return value;
}

std::optional<Params> params_or_answer(const Request& request, Completion<Response>& done) {
  std::string error;
  auto params = read_params(request, &error);
  if (!params) done(Response::error(400, "invalid_request", error));
  return params;
}

// API key introspection (RFC 7662 shape) for keys gatehouse made.
std::optional<std::string> introspect_api_key(TokenContext& ctx, std::string_view token) {
  if (!auth::parse_api_key(token)) return std::nullopt;
  boost::json::object o;
  const Outcome outcome = ctx.api_keys->verify(token, "apikey");
  if (outcome.kind != OutcomeKind::granted) {
    o["active"] = false;
  } else {
    const Identity& who = *outcome.identity;
    o["active"] = true;
    o["token_type"] = "api_key";
    o["sub"] = who.subject;
    o["username"] = who.subject;
    o["key_id"] = who.token_id;
    o["roles"] = to_json(who.roles);
    if (who.expires_at) o["exp"] = *who.expires_at;
  }
  return boost::json::serialize(o);
}

boost::json::object session_json(const tokens::SessionInfo& s, std::string_view current) {
  boost::json::object o;
  o["id"] = s.row.id;
  o["user"] = s.row.username;
  o["method"] = s.row.method;
  o["created"] = s.row.created;
  o["last_used"] = s.row.last_used;
  o["expires"] = s.expires;
  o["current"] = s.row.id == current;
  return o;
}

boost::json::object api_key_json(const state::ApiKeyRow& k) {
  boost::json::object o;
  o["id"] = k.id;
  o["name"] = k.name;
  o["user"] = k.username;
  o["created"] = k.created;
  o["last_used"] = k.last_used ? boost::json::value(*k.last_used) : boost::json::value(nullptr);
  o["expires"] = k.expires ? boost::json::value(*k.expires) : boost::json::value(nullptr);
  o["roles"] = k.roles ? boost::json::value(to_json(*k.roles)) : boost::json::value(nullptr);
  return o;
}

// The user a request may act for: itself, or (admins only) the one named by `requested`.
std::optional<std::string> target_user(const Identity& who,
                                       const std::optional<std::string>& requested) {
  if (!requested || *requested == who.subject) return who.subject;
  if (!is_admin(who)) return std::nullopt;
  return requested;
}

Response create_api_key(TokenContext& ctx, const Request& request, const Identity& who) {
  std::string error;
  if (!has_media_type(request, "application/json")) {
    return Response::error(400, "invalid_request", "the body must be application/json");
  }
  const auto body = jose::parse_object_strict(request.body, &error);
  if (!body) return Response::error(400, "invalid_request", "the JSON body is not valid: " + error);
  for (const auto& [key, value] : *body) {
    (void)value;
    if (key != "name" && key != "expires_in" && key != "roles" && key != "user") {
      return Response::error(400, "invalid_request", "unknown field \"" + std::string(key) + "\"");
    }
  }
  const auto* name = body->if_contains("name");
  if (name == nullptr || !name->is_string() || name->get_string().empty() ||
      name->get_string().size() > 100 || util::has_control_chars(name->get_string()) ||
      !util::is_valid_utf8(name->get_string())) {
    return Response::error(400, "invalid_request",
                           "\"name\" must be a string of 1 to 100 printable characters");
  }
  std::optional<std::string> requested_user;
  if (const auto* u = body->if_contains("user")) {
    if (!u->is_string())
      return Response::error(400, "invalid_request", "\"user\" must be a string");
    requested_user = std::string(u->get_string());
  }
  const auto owner = target_user(who, requested_user);
  if (!owner) return Response::error(403, "forbidden", "only admins can make keys for others");
  const auto owner_row = ctx.state->find_user(*owner);
  if (!owner_row) {
    return Response::error(400, "invalid_request",
                           "API keys can only be made for users of the gatehouse database");
  }
  // A key can only narrow the roles of whoever makes it: the caller's effective roles when for
  // themselves (a narrowed key cannot mint a wider one), the owner's when an admin acts.
  const std::vector<std::string>& ceiling = *owner == who.subject ? who.roles : owner_row->roles;
  std::optional<std::vector<std::string>> roles;
  if (const auto* r = body->if_contains("roles")) {
    bool ok = r->is_array();
    std::vector<std::string> list;
    if (ok) {
      for (const auto& item : r->get_array()) {
        if (!item.is_string()) {
          ok = false;
          break;
        }
        list.emplace_back(item.get_string());
      }
    }
    if (!ok) return Response::error(400, "invalid_request", "\"roles\" must be a list of strings");
    for (const auto& role : list) {
      if (std::find(ceiling.begin(), ceiling.end(), role) == ceiling.end()) {
        return Response::error(
            400, "invalid_request",
            "a key's roles can only narrow its owner's: \"" + role + "\" is not one of them");
      }
    }
    roles = std::move(list);
  } else if (ceiling != owner_row->roles) {
    roles = ceiling;
  }
  const std::int64_t now = ctx.clock->now_s();
  std::optional<std::int64_t> expires;
  if (const auto* e = body->if_contains("expires_in")) {
    const auto* n = e->if_int64();
    if (n == nullptr || *n <= 0 || *n > 10LL * 366 * 86400) {
      return Response::error(400, "invalid_request",
                             "\"expires_in\" must be a whole number of seconds, at most 10 years");
    }
    expires = now + *n;
  }
  const auto key = auth::generate_api_key();
  state::ApiKeyRow row;
  row.id = key.id;
  row.username = *owner;
  row.name = std::string(name->get_string());
  row.secret_hash.assign(reinterpret_cast<const char*>(key.secret_hash.data()),
                         key.secret_hash.size());
  row.roles = roles;
  row.created = now;
  row.expires = expires;
  ctx.state->add_api_key(row);
  ctx.sync_stores();
  util::diag().info("audit: api key {} created for {} by {}", row.id, row.username, who.subject);
  boost::json::object o = api_key_json(row);
  o["key"] = key.key;
  return json_ok(201, o);
}

}  // namespace

void add_token_routes(http::Router& router, TokenContext& context) {
  TokenContext* ctx = &context;
  router.add(
      "POST", "/auth/login", Access::anyone(),
      AsyncHandler([ctx](const Request& request, const Identity*, Completion<Response> done) {
        login(*ctx, request, std::move(done), PairShape::gatehouse);
      }));

  router.add(
      "POST", "/auth/refresh", Access::anyone(),
      AsyncHandler([ctx](const Request& request, const Identity*, Completion<Response> done) {
        const auto params = params_or_answer(request, done);
        if (!params) return;
        auto token = required_param(*params, "refresh_token", done);
        if (!token) return;
        refresh(*ctx, std::move(*token), std::move(done), PairShape::gatehouse, 401);
      }));

  router.add(
      "POST", "/auth/token", Access::anyone(),
      AsyncHandler([ctx](const Request& request, const Identity*, Completion<Response> done) {
        const auto params = params_or_answer(request, done);
        if (!params) return;
        const auto grant = required_param(*params, "grant_type", done);
        if (!grant) return;
        if (*grant != "refresh_token") {
          done(Response::error(400, "unsupported_grant_type",
                               "this server accepts grant_type=refresh_token here"));
          return;
        }
        auto token = required_param(*params, "refresh_token", done);
        if (!token) return;
        refresh(*ctx, std::move(*token), std::move(done), PairShape::gatehouse, 400);
      }));

  router.add(
      "POST", "/auth/logout", Access::authenticated(),
      AsyncHandler([ctx](const Request& request, const Identity* who, Completion<Response> done) {
        std::string session = who->session_id;
        std::optional<std::string> refresh_token;
        if (session.empty()) {
          const auto params = params_or_answer(request, done);
          if (!params) return;
          refresh_token = param(*params, "refresh_token");
          if (!refresh_token) {
            done(Response::error(400, "invalid_request",
                                 "no session to end: log out with the access token of a session "
                                 "or give its refresh_token"));
            return;
          }
        }
        const std::string user = who->subject;
        on_worker(*ctx, done, [ctx, session, refresh_token, user]() mutable {
          if (refresh_token) {
            // Only the caller's own session: introspect says whose it is.
            const auto info =
                jose::parse_object_strict(ctx->tokens->introspect(*refresh_token), nullptr);
            const auto* sub = info ? info->if_contains("sub") : nullptr;
            const auto* sid = info ? info->if_contains("sid") : nullptr;
            if (sub == nullptr || sid == nullptr || !sub->is_string() || !sid->is_string() ||
                sub->get_string() != user) {
              return Response::error(400, "invalid_grant", "the refresh token is not valid");
            }
            session = std::string(sid->get_string());
          }
          ctx->tokens->revoke_session(session, "logout");
          boost::json::object o;
          o["status"] = "logged_out";
          o["session"] = session;
          return json_ok(200, o);
        });
      }));

  router.add(
      "POST", "/auth/revoke", Access::anyone(),
      AsyncHandler([ctx](const Request& request, const Identity*, Completion<Response> done) {
        const auto params = params_or_answer(request, done);
        if (!params) return;
        auto token = required_param(*params, "token", done);
        if (!token) return;
        on_worker(*ctx, done, [ctx, token = std::move(*token)] {
          // RFC 7009 §2.2: 200 whether or not the token was valid.
          if (const auto parts = auth::parse_api_key(token)) {
            const Outcome outcome = ctx->api_keys->verify(token, "apikey");
            if (outcome.kind == OutcomeKind::granted &&
                ctx->state->revoke_api_key(std::string(parts->id), ctx->clock->now_s())) {
              ctx->sync_stores();
              util::diag().info("audit: api key {} revoked (RFC 7009)", parts->id);
            }
          } else {
            ctx->tokens->revoke_token(token, "revoke");
          }
          return no_store(Response::json(200, "{}"));
        });
      }));

  router.add(
      "POST", "/auth/introspect", Access::authenticated(),
      AsyncHandler([ctx](const Request& request, const Identity* who, Completion<Response> done) {
        const auto& allowed = ctx->config->tokens.introspection_roles;
        const bool may = is_admin(*who) || std::any_of(allowed.begin(), allowed.end(),
                                                       [who](const std::string& role) {
                                                         return who->has_role(role);
                                                       });
        if (!may) {
          done(Response::error(403, "forbidden",
                               "introspection is for admins and configured resource servers"));
          return;
        }
        const auto params = params_or_answer(request, done);
        if (!params) return;
        auto token = required_param(*params, "token", done);
        if (!token) return;
        on_worker(*ctx, done, [ctx, token = std::move(*token)] {
          auto body = introspect_api_key(*ctx, token);
          if (!body) body = ctx->tokens->introspect(token);
          return no_store(Response::json(200, std::move(*body)));
        });
      }));

  router.add(
      "GET", "/auth/sessions", Access::authenticated(),
      AsyncHandler([ctx](const Request& request, const Identity* who, Completion<Response> done) {
        std::optional<std::string> user = who->subject;
        if (is_admin(*who)) user = request.query_param("user");  // all unless one is named
        const std::string current = who->session_id;
        on_worker(*ctx, done, [ctx, user, current] {
          boost::json::array list;
          const auto sessions =
              ctx->tokens->sessions(user ? std::optional<std::string_view>(*user) : std::nullopt);
          for (const auto& s : sessions) list.push_back(session_json(s, current));
          boost::json::object o;
          o["sessions"] = std::move(list);
          return json_ok(200, o);
        });
      }));

  router.add(
      "DELETE", "/auth/sessions/{id}", Access::authenticated(),
      AsyncHandler([ctx](const Request& request, const Identity* who, Completion<Response> done) {
        const std::string id(*request.path_param("id"));
        const std::string user = who->subject;
        const bool admin = is_admin(*who);
        on_worker(*ctx, done, [ctx, id, user, admin] {
          const auto session = ctx->tokens->session(id);
          if (!session || session->row.revoked || (!admin && session->row.username != user)) {
            return Response::error(404, "not_found", "no such session");
          }
          ctx->tokens->revoke_session(id,
                                      admin && session->row.username != user ? "admin" : "user");
          boost::json::object o;
          o["revoked"] = id;
          return json_ok(200, o);
        });
      }));

  router.add(
      "GET", "/auth/apikeys", Access::authenticated(),
      AsyncHandler([ctx](const Request& request, const Identity* who, Completion<Response> done) {
        const auto owner = target_user(*who, request.query_param("user"));
        if (!owner) {
          done(Response::error(403, "forbidden", "only admins can list others' keys"));
          return;
        }
        on_worker(*ctx, done, [ctx, owner = *owner] {
          boost::json::array list;
          for (const auto& k : ctx->state->list_api_keys(owner)) {
            if (!k.revoked) list.push_back(api_key_json(k));
          }
          boost::json::object o;
          o["keys"] = std::move(list);
          return json_ok(200, o);
        });
      }));

  router.add(
      "POST", "/auth/apikeys", Access::authenticated(),
      AsyncHandler([ctx](const Request& request, const Identity* who, Completion<Response> done) {
        on_worker(*ctx, done, [ctx, &request, who] { return create_api_key(*ctx, request, *who); });
      }));

  router.add(
      "DELETE", "/auth/apikeys/{id}", Access::authenticated(),
      AsyncHandler([ctx](const Request& request, const Identity* who, Completion<Response> done) {
        const std::string id(*request.path_param("id"));
        const std::string user = who->subject;
        const bool admin = is_admin(*who);
        on_worker(*ctx, done, [ctx, id, user, admin] {
          std::optional<state::ApiKeyRow> found;
          for (auto& k : ctx->state->list_api_keys(admin ? std::nullopt
                                                         : std::optional<std::string_view>(user))) {
            if (k.id == id && !k.revoked) found = std::move(k);
          }
          if (!found || !ctx->state->revoke_api_key(id, ctx->clock->now_s())) {
            return Response::error(404, "not_found", "no such API key");
          }
          ctx->sync_stores();
          util::diag().info("audit: api key {} of {} revoked by {}", id, found->username, user);
          boost::json::object o;
          o["revoked"] = id;
          return json_ok(200, o);
        });
      }));

  router.add("GET", "/.well-known/jwks.json", Access::anyone(),
             [ctx](const Request&, const Identity*) {
               auto r = Response::json(200, ctx->tokens->jwks());
               r.set("Cache-Control", "public, max-age=60");
               return r;
             });

  router.add("GET", "/.well-known/openid-configuration", Access::anyone(),
             [ctx](const Request&, const Identity*) {
               const std::string base = ctx->config->server.public_url;
               boost::json::object o;
               o["issuer"] = ctx->config->issuer();
               o["jwks_uri"] = base + "/.well-known/jwks.json";
               o["token_endpoint"] = base + "/auth/token";
               o["revocation_endpoint"] = base + "/auth/revoke";
               o["introspection_endpoint"] = base + "/auth/introspect";
               o["grant_types_supported"] = boost::json::array{"refresh_token"};
               o["token_endpoint_auth_methods_supported"] = boost::json::array{"none"};
               o["response_types_supported"] = boost::json::array{};
               o["subject_types_supported"] = boost::json::array{"public"};
               o["id_token_signing_alg_values_supported"] =
                   boost::json::array{boost::json::string(ctx->config->tokens.alg)};
               o["token_endpoint_auth_signing_alg_values_supported"] =
                   boost::json::array{boost::json::string(ctx->config->tokens.alg)};
               o["claims_supported"] = boost::json::array{"iss", "sub", "aud", "exp",   "iat",
                                                          "nbf", "jti", "sid", "roles", "scope"};
               auto r = Response::json(200, boost::json::serialize(o));
               r.set("Cache-Control", "public, max-age=300");
               return r;
             });

  if (context.config->compat.auth_adventures) {
    router.add(
        "POST", "/login", Access::anyone(),
        AsyncHandler([ctx](const Request& request, const Identity*, Completion<Response> done) {
          login(*ctx, request, std::move(done), PairShape::tutorial);
        }));
    router.add(
        "POST", "/refresh", Access::anyone(),
        AsyncHandler([ctx](const Request& request, const Identity*, Completion<Response> done) {
          std::string error;
          const auto body = jose::parse_object_strict(request.body, &error);
          const auto* token = body ? body->if_contains("refresh_token") : nullptr;
          if (token == nullptr || !token->is_string()) {
            done(Response::json(401, R"({"error":"a JSON body with refresh_token is required"})"));
            return;
          }
          refresh(*ctx, std::string(token->get_string()), std::move(done), PairShape::tutorial,
                  401);
        }));
  }
}

}  // namespace gatehouse::app
