// The request pipeline: the one outcome → HTTP mapping (authn_response), and router →
// authenticate → authorize → handler end to end with small in-test schemes.
#include "http/pipeline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gatehouse/scheme.hpp"
#include "http/access_log.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace gatehouse::http {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kChallenges = {"Token realm=\"t\"", "Other realm=\"o\""};

std::vector<std::string> all_values(const Response& r, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : r.headers) {
    if (iequals(k, name)) out.push_back(v);
  }
  return out;
}

// {"error": ..., "error_description": ...} of a JSON error response.
std::pair<std::string, std::string> error_of(const Response& r) {
  const auto* type = r.find("Content-Type");
  EXPECT_TRUE(type != nullptr && *type == "application/json") << r.body;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << r.body;
    return {};
  }
  const auto& o = v.as_object();
  const auto* error = o.if_contains("error");
  const auto* description = o.if_contains("error_description");
  EXPECT_TRUE(error && error->is_string()) << r.body;
  EXPECT_TRUE(description && description->is_string()) << r.body;
  if (!error || !error->is_string() || !description || !description->is_string()) return {};
  return {std::string(error->as_string()), std::string(description->as_string())};
}

// ---- authn_response -------------------------------------------------------------------------

Outcome failed(OutcomeKind kind, std::string reason = "bad", std::string description = "why") {
  return Outcome::fail(kind, "token", std::move(reason), std::move(description));
}

TEST(AuthnResponse, MissingCredentialsIs401UnauthorizedWithEveryChallengeInOrder) {
  const Response r = authn_response(
      failed(OutcomeKind::denied, "no_credentials", "authentication required"), kChallenges);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r),
            std::make_pair(std::string("unauthorized"), std::string("authentication required")));
  EXPECT_EQ(all_values(r, "WWW-Authenticate"), kChallenges);
}

TEST(AuthnResponse, DeniedIs401InvalidCredentialsWithChallenges) {
  const Response r =
      authn_response(failed(OutcomeKind::denied, "bad_password", "nope"), kChallenges);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r).first, "invalid_credentials");
  EXPECT_EQ(error_of(r).second, "nope");
  EXPECT_EQ(all_values(r, "WWW-Authenticate"), kChallenges);
  EXPECT_EQ(r.find("Retry-After"), nullptr);
}

TEST(AuthnResponse, UnknownUserIsAnsweredExactlyLikeDenied) {
  const Response denied = authn_response(
      failed(OutcomeKind::denied, "bad_password", "invalid username or password"), kChallenges);
  const Response unknown = authn_response(
      failed(OutcomeKind::unknown_user, "unknown_user", "invalid username or password"),
      kChallenges);
  EXPECT_EQ(unknown.status, denied.status);
  EXPECT_EQ(unknown.headers, denied.headers);
  EXPECT_EQ(unknown.body, denied.body);
}

TEST(AuthnResponse, StaleIs401WithChallenges) {
  const Response r =
      authn_response(failed(OutcomeKind::stale, "stale_nonce", "retry"), kChallenges);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r).first, "stale_credentials");
  EXPECT_EQ(all_values(r, "WWW-Authenticate"), kChallenges);
}

TEST(AuthnResponse, MalformedIs401InvalidRequestWithDescriptionAndChallenges) {
  const Response r = authn_response(
      failed(OutcomeKind::malformed, "malformed", "Basic credentials are not base64"), kChallenges);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r), std::make_pair(std::string("invalid_request"),
                                        std::string("Basic credentials are not base64")));
  EXPECT_EQ(all_values(r, "WWW-Authenticate"), kChallenges);
}

TEST(AuthnResponse, BusyIs503WithItsRetryAfter) {
  Outcome busy = failed(OutcomeKind::busy, "pool_full", "retry shortly");
  busy.retry_after = 7;
  const Response r = authn_response(busy, kChallenges);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_of(r).first, "temporarily_unavailable");
  EXPECT_EQ(all_values(r, "Retry-After"), std::vector<std::string>{"7"});
  EXPECT_TRUE(all_values(r, "WWW-Authenticate").empty());
}

TEST(AuthnResponse, BusyWithoutARetryAfterStillSaysAtLeastOneSecond) {
  const Response r = authn_response(failed(OutcomeKind::busy), kChallenges);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(all_values(r, "Retry-After"), std::vector<std::string>{"1"});
}

TEST(AuthnResponse, StoreErrorIs503AndHidesTheDetail) {
  const Response r = authn_response(
      failed(OutcomeKind::error, "store_error", "sqlite: disk I/O error"), kChallenges);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_of(r).first, "temporarily_unavailable");
  EXPECT_EQ(r.body.find("sqlite"), std::string::npos);
  EXPECT_FALSE(all_values(r, "Retry-After").empty());
}

TEST(AuthnResponse, NoChallengesNoWwwAuthenticate) {
  const Response r = authn_response(failed(OutcomeKind::denied), {});
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(all_values(r, "WWW-Authenticate").empty());
}

TEST(AuthnResponse, GrantedReachingTheMapperIsAServerError) {
  auto who = std::make_shared<Identity>();
  const Response r = authn_response(Outcome::granted(who, "token"), kChallenges);
  EXPECT_EQ(r.status, 500);
}

// ---- Pipeline end to end --------------------------------------------------------------------

// "Authorization: Token NAME": alice has role User, bob has none; "busy", "error" and "stale"
// give those outcomes; anything else is denied. A granted alice also gets a response header.
// `async` completes verification on another thread, as the password pool does.
class TokenScheme final : public Scheme {
 public:
  explicit TokenScheme(bool async = false) : async_(async) {}
  ~TokenScheme() override {
    for (auto& t : threads_) t.join();
  }
  std::string_view name() const noexcept override { return "bearer"; }
  std::string challenge() const override { return kChallenges[0]; }
  Parsed parse(const Request& request) const override {
    ++parses;
    const auto h = request.header("Authorization");
    if (!h || !h->starts_with("Token")) return Parsed::absent();
    const std::string_view rest = trim(h->substr(5));
    if (rest.empty() || rest == "!") return Parsed::malformed("the token is empty");
    return Parsed::present(ApiKeyCredentials{Secret(rest), ApiKeySource::authorization_header});
  }
  void verify(Credentials credentials, const Request&, Completion<Outcome> done) const override {
    const std::string who(std::get<ApiKeyCredentials>(credentials).key.reveal());
    auto decide = [who, done = std::move(done)] {
      if (who == "alice" || who == "bob") {
        auto id = std::make_shared<Identity>();
        id->subject = who;
        id->scheme = "bearer";
        if (who == "alice") id->roles = {"User"};
        Outcome o = Outcome::granted(id, "bearer");
        if (who == "alice") o.response_headers.emplace_back("Authentication-Info", "rspauth=1");
        done(std::move(o));
      } else if (who == "busy") {
        Outcome o = Outcome::fail(OutcomeKind::busy, "bearer", "pool_full", "busy");
        o.retry_after = 3;
        done(std::move(o));
      } else if (who == "error") {
        done(Outcome::fail(OutcomeKind::error, "bearer", "store_error", "down"));
      } else if (who == "throw") {
        throw std::runtime_error("credential store exploded");
      } else if (who == "stale") {
        done(Outcome::fail(OutcomeKind::stale, "bearer", "stale", "stale"));
      } else {
        done(Outcome::fail(OutcomeKind::denied, "bearer", "bad_token", "invalid token"));
      }
    };
    if (async_) {
      std::lock_guard lock(mutex_);
      threads_.emplace_back(std::move(decide));
    } else {
      decide();
    }
  }
  mutable std::atomic<int> parses{0};

 private:
  bool async_;
  mutable std::mutex mutex_;
  mutable std::vector<std::thread> threads_;
};

// A second scheme that never finds credentials; it contributes its challenge.
class OtherScheme final : public Scheme {
 public:
  std::string_view name() const noexcept override { return "apikey"; }
  std::string challenge() const override { return kChallenges[1]; }
  Parsed parse(const Request&) const override { return Parsed::absent(); }
  void verify(Credentials, const Request&, Completion<Outcome> done) const override {
    done(Outcome::fail(OutcomeKind::error, "apikey", "unreachable", "unreachable"));
  }
};

struct Header {
  std::string name, value;
};

class PipelineTest : public ::testing::Test {
 protected:
  explicit PipelineTest(bool async = false) {
    auto token = std::make_unique<TokenScheme>(async);
    token_ = token.get();
    std::vector<std::unique_ptr<Scheme>> schemes;
    schemes.push_back(std::move(token));
    schemes.push_back(std::make_unique<OtherScheme>());
    authenticator_ = std::make_unique<Authenticator>(std::move(schemes));

    router_.add("GET", "/healthz", Access::anyone(), [this](const Request&, const Identity* who) {
      saw_identity_ = who != nullptr;
      ++handler_calls_;
      return Response::text(200, "ok");
    });
    router_.add("GET", "/whoami", Access::authenticated(),
                [this](const Request&, const Identity* who) {
                  ++handler_calls_;
                  return Response::text(200, who ? who->subject : "(none)");
                });
    router_.add("GET", "/admin", Access::role("Admin"), [this](const Request&, const Identity*) {
      ++handler_calls_;
      return Response::text(200, "admin");
    });
    router_.add("GET", "/user", Access::role("User"), [this](const Request&, const Identity* who) {
      ++handler_calls_;
      return Response::text(200, "user " + who->subject);
    });
    router_.add("POST", "/boom", Access::authenticated(), [](const Request&, const Identity*) {
      throw std::runtime_error("handler failed with /secret/path");
      return Response::text(200, "unreachable");
    });
    router_.add("POST", "/boom-open", Access::anyone(), [](const Request&, const Identity*) {
      throw std::logic_error("open handler failed");
      return Response::text(200, "unreachable");
    });
    router_.add("POST", "/boom-int", Access::anyone(), [](const Request&, const Identity*) {
      throw 42;
      return Response::text(200, "unreachable");
    });
    router_.add("POST", "/submit", Access::anyone(), [this](const Request&, const Identity*) {
      ++handler_calls_;
      return Response::text(200, "submitted");
    });
    // A tracker-like API route taking every method, rendering refusals in its own protocol.
    router_.add(
        "*", "/tracker/rest/{path*}", Access::anyone(),
        [this](const Request& request, const Identity*) {
          ++handler_calls_;
          return Response::text(200, "rest " + std::string(request.method));
        },
        [this](Refusal why, std::string_view message, Response standard) {
          rendered_ = why;
          rendered_status_ = standard.status;
          return Response::json(
              400, "{\"error\":{\"status\":400,\"msg\":\"" + std::string(message) + "\"}}");
        });
    router_.mark_api("/tracker/rest/{path*}");
    std::vector<std::string> names;
    for (const auto& r : router_.routes()) names.push_back(r.method + " " + r.pattern);
    metrics_ = std::make_unique<Metrics>(names);
    pipeline_ = std::make_unique<Pipeline>(router_, *authenticator_, guard_, *metrics_, log_);
  }

  // Handles one request and waits for its single completion.
  Response handle(std::string method, std::string path, std::vector<Header> headers = {}) {
    const std::string target = path;
    Request request;
    request.method = method;
    request.target = target;
    request.path = path;
    request.remote_address = "192.0.2.1";
    for (const auto& h : headers) request.headers.push_back({h.name, h.value});
    auto calls = std::make_shared<std::atomic<int>>(0);
    std::promise<Response> result;
    auto future = result.get_future();
    try {
      pipeline_->handle(request, [&result, calls](Response r) {
        if (++*calls == 1) result.set_value(std::move(r));
      });
    } catch (...) {
      ADD_FAILURE() << "handle() let an exception escape for " << method << " " << path;
      Response none;
      none.status = 0;
      return none;
    }
    if (future.wait_for(30s) != std::future_status::ready) {
      ADD_FAILURE() << "no response for " << method << " " << path;
      Response none;
      none.status = 0;
      return none;
    }
    EXPECT_EQ(calls->load(), 1);
    return future.get();
  }

  Router router_;
  TokenScheme* token_ = nullptr;
  std::unique_ptr<Authenticator> authenticator_;
  Guard guard_;
  std::unique_ptr<Metrics> metrics_;
  AccessLog log_{""};
  std::unique_ptr<Pipeline> pipeline_;
  std::atomic<int> handler_calls_{0};
  bool saw_identity_ = true;
  std::optional<Refusal> rendered_;
  int rendered_status_ = 0;
};

TEST_F(PipelineTest, AnyoneRouteSkipsAuthentication) {
  const Response r = handle("GET", "/healthz", {{"Authorization", "Token !"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_FALSE(saw_identity_);
  EXPECT_EQ(token_->parses.load(), 0);
}

TEST_F(PipelineTest, MissingCredentialsIs401WithEveryChallengeInOrder) {
  const Response r = handle("GET", "/whoami");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r).first, "unauthorized");
  EXPECT_EQ(all_values(r, "WWW-Authenticate"), kChallenges);
  EXPECT_EQ(handler_calls_.load(), 0);
}

TEST_F(PipelineTest, UnsupportedAuthorizationSchemeIs401WithChallenges) {
  const Response r = handle("GET", "/whoami", {{"Authorization", "Negotiate abc"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(all_values(r, "WWW-Authenticate"), kChallenges);
  EXPECT_EQ(handler_calls_.load(), 0);
}

TEST_F(PipelineTest, WrongCredentialsAre401WithChallenges) {
  const Response r = handle("GET", "/whoami", {{"Authorization", "Token mallory"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r).first, "invalid_token");  // RFC 6750 §3.1: the bearer scheme decided
  EXPECT_EQ(all_values(r, "WWW-Authenticate"), kChallenges);
  EXPECT_EQ(handler_calls_.load(), 0);
}

TEST_F(PipelineTest, MalformedCredentialsAre401WithTheDescription) {
  const Response r = handle("GET", "/whoami", {{"Authorization", "Token !"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r),
            std::make_pair(std::string("invalid_token"), std::string("the token is empty")));
  EXPECT_EQ(all_values(r, "WWW-Authenticate"), kChallenges);
}

TEST(AuthnResponse, MalformedIsInvalidRequestExceptForBearer) {
  const auto code = [](std::string scheme) {
    const Response r =
        authn_response(Outcome::fail(OutcomeKind::malformed, scheme, "malformed", "bad"), {});
    return r.body.substr(0, r.body.find(',') + 1);
  };
  EXPECT_EQ(code("basic"), "{\"error\":\"invalid_request\",");
  EXPECT_EQ(code("bearer"), "{\"error\":\"invalid_token\",");
}

TEST_F(PipelineTest, GrantedReachesTheHandlerWithTheIdentity) {
  const Response r = handle("GET", "/whoami", {{"Authorization", "Token bob"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "bob");
  EXPECT_TRUE(all_values(r, "WWW-Authenticate").empty());
}

TEST_F(PipelineTest, OutcomeResponseHeadersAreAddedToTheHandlersResponse) {
  const Response r = handle("GET", "/whoami", {{"Authorization", "Token alice"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(all_values(r, "Authentication-Info"), std::vector<std::string>{"rspauth=1"});
}

TEST_F(PipelineTest, IdentityWithoutTheRoleIs403WithoutChallenges) {
  const Response r = handle("GET", "/admin", {{"Authorization", "Token alice"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r).first, "forbidden");
  EXPECT_TRUE(all_values(r, "WWW-Authenticate").empty());
  EXPECT_EQ(handler_calls_.load(), 0);
  EXPECT_EQ(handle("GET", "/user", {{"Authorization", "Token bob"}}).status, 403);
}

TEST_F(PipelineTest, IdentityWithTheRoleIsServed) {
  const Response r = handle("GET", "/user", {{"Authorization", "Token alice"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "user alice");
}

TEST_F(PipelineTest, RoleRouteWithoutCredentialsIs401NotForbidden) {
  const Response r = handle("GET", "/admin");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(all_values(r, "WWW-Authenticate"), kChallenges);
}

TEST_F(PipelineTest, BusyIs503WithRetryAfter) {
  const Response r = handle("GET", "/whoami", {{"Authorization", "Token busy"}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(all_values(r, "Retry-After"), std::vector<std::string>{"3"});
}

TEST_F(PipelineTest, StoreErrorIs503) {
  EXPECT_EQ(handle("GET", "/whoami", {{"Authorization", "Token error"}}).status, 503);
}

TEST_F(PipelineTest, ThrowingHandlerIs500JsonAndThePipelineLivesOn) {
  const Response r = handle("POST", "/boom", {{"Authorization", "Token bob"}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(error_of(r).first, "server_error");
  EXPECT_EQ(r.body.find("/secret/path"), std::string::npos);  // no internals in the answer
  const Response open = handle("POST", "/boom-open");
  EXPECT_EQ(open.status, 500);
  EXPECT_EQ(error_of(open).first, "server_error");
  EXPECT_EQ(handle("GET", "/whoami", {{"Authorization", "Token bob"}}).status, 200);
}

TEST_F(PipelineTest, HandlerThrowingANonStandardExceptionIs500) {
  // DESIGN.md: a handler that fails answers 500 and the server lives on, whatever it throws.
  const Response r = handle("POST", "/boom-int");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(handle("GET", "/healthz").status, 200);
}

TEST_F(PipelineTest, SchemeOrStoreThatThrowsIsAnsweredNotPropagated) {
  // DESIGN.md: nothing throws across an Asio completion handler. A verifier (or a store added
  // with Server::add_store) that throws must still get the request one JSON error answer.
  const Response r = handle("GET", "/whoami", {{"Authorization", "Token throw"}});
  EXPECT_TRUE(r.status == 500 || r.status == 503) << r.status;
  if (r.status != 0) {
    EXPECT_FALSE(error_of(r).first.empty());
  }
  EXPECT_EQ(r.body.find("exploded"), std::string::npos);
  EXPECT_EQ(handle("GET", "/whoami", {{"Authorization", "Token bob"}}).status, 200);
}

TEST_F(PipelineTest, UnknownPathIs404) {
  const Response r = handle("GET", "/nowhere", {{"Authorization", "Token alice"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r).first, "not_found");
  EXPECT_EQ(token_->parses.load(), 0);
}

TEST_F(PipelineTest, WrongMethodIs405WithAllow) {
  const Response r = handle("DELETE", "/whoami");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(error_of(r).first, "method_not_allowed");
  const auto allow = all_values(r, "Allow");
  ASSERT_EQ(allow.size(), 1u);
  EXPECT_TRUE(allow[0] == "GET, HEAD" || allow[0] == "HEAD, GET") << allow[0];
  EXPECT_EQ(token_->parses.load(), 0);
}

TEST_F(PipelineTest, HeadIsServedByTheGetRoute) {
  const Response r = handle("HEAD", "/whoami", {{"Authorization", "Token bob"}});
  EXPECT_EQ(r.status, 200);
}

TEST_F(PipelineTest, TwoHostHeadersAre400) {
  const Response r = handle("GET", "/healthz", {{"Host", "a.example"}, {"Host", "b.example"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(handler_calls_.load(), 0);
}

TEST_F(PipelineTest, RequestsAndAuthOutcomesAreCounted) {
  handle("GET", "/whoami", {{"Authorization", "Token bob"}});
  handle("GET", "/whoami", {{"Authorization", "Token mallory"}});
  handle("GET", "/whoami");
  handle("GET", "/nowhere");
  const std::string text = metrics_->render();
  EXPECT_NE(text.find("gatehouse_http_requests_total{route=\"GET /whoami\",status=\"200\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gatehouse_http_requests_total{route=\"GET /whoami\",status=\"401\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gatehouse_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gatehouse_auth_outcomes_total{scheme=\"bearer\",outcome=\"granted\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gatehouse_auth_outcomes_total{scheme=\"bearer\",outcome=\"denied\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gatehouse_auth_outcomes_total{scheme=\"none\",outcome=\"denied\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gatehouse_http_request_duration_seconds_count 4\n"), std::string::npos);
}

// ---- CSRF and CORS in the pipeline -----------------------------------------------------------

TEST_F(PipelineTest, WithoutACrossOriginPolicyNothingIsCheckedOrAdded) {
  const Response r = handle(
      "POST", "/submit",
      {{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}, {"Cookie", "sid=1"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.find("Access-Control-Allow-Origin"), nullptr);
}

class CrossOriginPipelineTest : public PipelineTest {
 protected:
  CrossOriginPipelineTest() {
    GuardConfig config;
    config.allowed_origins = {"https://app.example"};
    guard_.set_cross_origin(guard::CsrfPolicy::from_config(config, "https://gh.example"));
  }
};

TEST_F(CrossOriginPipelineTest, CrossSitePostWithBrowserCredentialsIsRefusedBeforeTheHandler) {
  const Response r = handle("POST", "/submit",
                            {{"Origin", "https://evil.example"},
                             {"Sec-Fetch-Site", "cross-site"},
                             {"Authorization", "Basic ZGVtbzpkZW1v"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r),
            std::make_pair(std::string("csrf_failed"), std::string("Unable to authorize request")));
  EXPECT_EQ(handler_calls_.load(), 0);
  EXPECT_EQ(all_values(r, "Vary"), std::vector<std::string>{"Origin"});
  EXPECT_TRUE(all_values(r, "Access-Control-Allow-Origin").empty());
}

TEST_F(CrossOriginPipelineTest, CrossSitePostWithATokenIsNotACsrfMatter) {
  const Response r = handle("POST", "/submit",
                            {{"Origin", "https://evil.example"},
                             {"Sec-Fetch-Site", "cross-site"},
                             {"Authorization", "Token alice"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(handler_calls_.load(), 1);
}

TEST_F(CrossOriginPipelineTest, ApiRoutesRenderTheCsrfRefusalThemselves) {
  const Response r = handle(
      "POST", "/tracker/rest/data/issue",
      {{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}, {"Cookie", "sid=1"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(rendered_, Refusal::csrf);
  EXPECT_EQ(rendered_status_, 403);
  EXPECT_NE(r.body.find("Unable to authorize request"), std::string::npos);
  // Roundup's 405 for a method its API does not know, when a browser could have sent it.
  rendered_.reset();
  handle("PROPFIND", "/tracker/rest/data/issue", {{"Cookie", "sid=1"}});
  EXPECT_EQ(rendered_, Refusal::csrf);
  EXPECT_EQ(rendered_status_, 405);
  EXPECT_EQ(handler_calls_.load(), 0);
  EXPECT_EQ(handle("PROPFIND", "/tracker/rest/data/issue").body, "rest PROPFIND");
}

TEST_F(CrossOriginPipelineTest, PreflightIsAnsweredBeforeAuthentication) {
  const Response r = handle("OPTIONS", "/whoami",
                            {{"Origin", "https://app.example"},
                             {"Access-Control-Request-Method", "GET"},
                             {"Authorization", "Token alice"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(all_values(r, "Access-Control-Allow-Origin"),
            std::vector<std::string>{"https://app.example"});
  EXPECT_EQ(all_values(r, "Access-Control-Allow-Credentials"), std::vector<std::string>{"true"});
  EXPECT_EQ(all_values(r, "Access-Control-Allow-Methods"), std::vector<std::string>{"GET, HEAD"});
  EXPECT_EQ(all_values(r, "Vary"), std::vector<std::string>{"Origin"});
  EXPECT_EQ(token_->parses.load(), 0);
  EXPECT_EQ(handler_calls_.load(), 0);
}

TEST_F(CrossOriginPipelineTest, PreflightFromAForeignOriginIsRefused) {
  const Response r =
      handle("OPTIONS", "/submit",
             {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r).first, "origin_not_allowed");
  EXPECT_TRUE(all_values(r, "Access-Control-Allow-Origin").empty());
  // On an API route the route renders it (Roundup: 400 "Client is not allowed ...").
  const Response api = handle("OPTIONS", "/tracker/rest/data",
                              {{"Origin", "https://evil.example"},
                               {"Access-Control-Request-Method", "POST"},
                               {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(api.status, 400);
  EXPECT_EQ(rendered_, Refusal::csrf);
  EXPECT_NE(api.body.find("Client is not allowed to use Rest Interface."), std::string::npos);
  EXPECT_TRUE(all_values(api, "Access-Control-Allow-Origin").empty());
}

TEST_F(CrossOriginPipelineTest, ApiPreflightListsEveryMethodAndNeedsRequestHeaders) {
  Response r = handle("OPTIONS", "/tracker/rest/data",
                      {{"Origin", "https://app.example"},
                       {"Access-Control-Request-Method", "PATCH"},
                       {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(all_values(r, "Access-Control-Allow-Methods"),
            std::vector<std::string>{"OPTIONS, GET, POST, PUT, DELETE, PATCH"});
  EXPECT_EQ(handler_calls_.load(), 0);
  // Without Access-Control-Request-Headers it is no preflight for Roundup's REST: routed.
  r = handle("OPTIONS", "/tracker/rest/data",
             {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "PATCH"}});
  EXPECT_EQ(r.body, "rest OPTIONS");
  EXPECT_EQ(all_values(r, "Access-Control-Allow-Origin"),
            std::vector<std::string>{"https://app.example"});
}

TEST_F(CrossOriginPipelineTest, OptionsThatIsNoPreflightIsRouted) {
  const Response r = handle("OPTIONS", "/whoami", {{"Origin", "https://app.example"}});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(error_of(r).first, "method_not_allowed");
  // A preflight for a path nobody serves is a plain 404.
  EXPECT_EQ(handle("OPTIONS", "/nowhere",
                   {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}})
                .status,
            404);
}

TEST_F(CrossOriginPipelineTest, EveryResponseToAnAllowedOriginCarriesCors) {
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/healthz"}, {"GET", "/whoami"}, {"GET", "/nowhere"}, {"DELETE", "/whoami"}}) {
    const Response r = handle(method, path, {{"Origin", "https://app.example"}});
    EXPECT_EQ(all_values(r, "Access-Control-Allow-Origin"),
              std::vector<std::string>{"https://app.example"})
        << method << " " << path << " → " << r.status;
    EXPECT_EQ(all_values(r, "Access-Control-Allow-Credentials"), std::vector<std::string>{"true"});
    EXPECT_EQ(all_values(r, "Vary"), std::vector<std::string>{"Origin"});
  }
  const Response plain = handle("GET", "/healthz");
  EXPECT_TRUE(all_values(plain, "Vary").empty());
  EXPECT_TRUE(all_values(plain, "Access-Control-Allow-Origin").empty());
}

class AsyncPipelineTest : public PipelineTest {
 protected:
  AsyncPipelineTest() : PipelineTest(/*async=*/true) {}
};

TEST_F(AsyncPipelineTest, CompletionOnAnotherThreadIsAnsweredOnce) {
  EXPECT_EQ(handle("GET", "/whoami", {{"Authorization", "Token bob"}}).body, "bob");
  EXPECT_EQ(handle("GET", "/admin", {{"Authorization", "Token bob"}}).status, 403);
  EXPECT_EQ(handle("GET", "/whoami", {{"Authorization", "Token mallory"}}).status, 401);
  EXPECT_EQ(handle("POST", "/boom", {{"Authorization", "Token bob"}}).status, 500);
}

}  // namespace
}  // namespace gatehouse::http
