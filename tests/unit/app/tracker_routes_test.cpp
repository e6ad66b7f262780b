// The tracker's REST routes (app/tracker_routes.hpp): /{name}/rest and everything below it reach
// the REST interface for every method, reads answer at once as the request's actor, and
// refusals are rendered as Roundup's front end renders them.
#include "app/tracker_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <optional>
#include <string>

#include "../temp_dir.hpp"
#include "state/state_store.hpp"
#include "tracker/schema.hpp"

namespace gatehouse::app {
namespace {

using gatehouse::testing::TempDir;

class TrackerRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config.server.public_url = "https://gh.example/";
    context.config = &config;
    context.server_secret = "secret";
    context.tracker =
        std::make_unique<tracker::Tracker>("demo", tracker::load_schema("classic"), store, clock);
    context.tracker->load(true);
    add_tracker_routes(router, context);
  }

  // Routes and runs a request; the handler must answer before returning (a read).
  std::optional<Response> answer(std::string_view method, std::string_view path,
                                 const Identity* who) {
    Request request;
    request.method = method;
    request.target = path;
    request.path = path;
    const http::RouteMatch match = router.match(request);
    if (match.route == nullptr || !match.route->async_handler) return std::nullopt;
    std::optional<Response> out;
    match.route->async_handler(request, who, [&out](Response r) { out = std::move(r); });
    return out;
  }

  TempDir dir;
  FakeClock clock;
  std::shared_ptr<state::StateStore> store{state::open_state_store("sqlite:" + dir.file("t.db"))};
  Config config;
  TrackerContext context;
  http::Router router;
};

TEST_F(TrackerRoutesTest, RestPathsReachTheRestInterface) {
  Identity admin;
  admin.subject = "admin";
  admin.roles = {"Admin"};
  for (const char* path : {"/demo/rest", "/demo/rest/", "/demo/rest/data/issue/1"}) {
    const auto r = answer("GET", path, &admin);
    ASSERT_TRUE(r.has_value()) << path;
    EXPECT_EQ(r->status, 200) << path << r->body;
  }
  const auto item = answer("GET", "/demo/rest/data/issue/1", &admin);
  const auto parsed = boost::json::parse(item->body);
  // Links are built on server.public_url (its trailing slash dropped) and the tracker's name.
  EXPECT_EQ(parsed.at("data").at("link"), "https://gh.example/demo/rest/data/issue/1");
  ASSERT_NE(item->find("ETag"), nullptr);
  // Any method reaches the interface, which answers 405 itself.
  const auto brew = answer("BREW", "/demo/rest/data/issue/1", &admin);
  ASSERT_TRUE(brew.has_value());
  EXPECT_EQ(brew->status, 405);
}

TEST_F(TrackerRoutesTest, WithoutCredentialsTheActorIsAnonymousAndForbidden) {
  const auto r = answer("GET", "/demo/rest/data/issue", nullptr);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(boost::json::parse(r->body).at("error").at("msg"), "Forbidden.");
}

TEST_F(TrackerRoutesTest, FailedLoginIsPlainTextWithTheChallenges) {
  Response standard = Response::error(401, "invalid_credentials", "invalid username or password");
  standard.set("WWW-Authenticate", "Basic realm=\"gatehouse\"");
  standard.set("WWW-Authenticate", "Bearer realm=\"gatehouse\"");
  const Response r =
      rest_refusal(http::Refusal::unauthenticated, "invalid username or password", standard);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "Invalid Login - invalid username or password");
  int challenges = 0;
  for (const auto& [name, value] : r.headers) {
    if (name == "Content-Type") {
      EXPECT_EQ(value, "text/plain");
    }
    if (name == "WWW-Authenticate") ++challenges;
  }
  EXPECT_EQ(challenges, 2);
}

TEST_F(TrackerRoutesTest, ThrottledLoginIsA429EnvelopeWithTheRateLimitHeaders) {
  Response standard = Response::error(429, "too_many_requests", "slow down");
  standard.set("Retry-After", "150");
  standard.set("X-RateLimit-Limit", "4");
  standard.set("X-RateLimit-Remaining", "0");
  const std::string message = "Logins occurring too fast. Please wait: 150 seconds.";
  const Response r = rest_refusal(http::Refusal::throttled, message, standard);
  EXPECT_EQ(r.status, 429);
  const auto body = boost::json::parse(r.body);
  EXPECT_EQ(body.at("error").at("status"), 429);
  EXPECT_EQ(std::string(body.at("error").at("msg").as_string()), message);
  ASSERT_NE(r.find("Retry-After"), nullptr);
  EXPECT_EQ(*r.find("Retry-After"), "150");
  ASSERT_NE(r.find("X-RateLimit-Limit"), nullptr);
  ASSERT_NE(r.find("X-RateLimit-Remaining"), nullptr);
  EXPECT_EQ(*r.find("Content-Type"), "application/json");
}

TEST_F(TrackerRoutesTest, CsrfIsA400EnvelopeAndOthersKeepTheStandardResponse) {
  const Response csrf = rest_refusal(http::Refusal::csrf, "Required Header Missing",
                                     Response::error(403, "csrf", "Required Header Missing"));
  EXPECT_EQ(csrf.status, 400);
  EXPECT_EQ(boost::json::parse(csrf.body).at("error").at("msg"), "Required Header Missing");
  const Response busy = rest_refusal(http::Refusal::unavailable, "busy",
                                     Response::error(503, "temporarily_unavailable", "busy"));
  EXPECT_EQ(busy.status, 503);
  EXPECT_NE(busy.body.find("temporarily_unavailable"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::app
