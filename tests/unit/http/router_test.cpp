// The router: literal and {param} segments, HEAD as GET, the Allow list for 405, and refusal of
// bad route tables at start-up.
#include "http/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::http {
namespace {

Handler answer(std::string body) {
  return [body](const Request&, const Identity*) { return Response::text(200, body); };
}

Request request(std::string_view method, std::string_view path) {
  Request r;
  r.method = method;
  r.target = path;
  r.path = path;
  return r;
}

// The methods of an Allow value ("GET, HEAD, POST"), sorted; duplicates are kept so that a
// comparison with a list of distinct methods catches them. RFC 9110 §10.2.1 sets no order.
std::vector<std::string> methods_of(std::string_view allow) {
  std::vector<std::string> out;
  while (!allow.empty()) {
    const auto comma = allow.find(',');
    out.emplace_back(trim(allow.substr(0, comma)));
    allow = comma == std::string_view::npos ? std::string_view{} : allow.substr(comma + 1);
  }
  std::sort(out.begin(), out.end());
  return out;
}

using Methods = std::vector<std::string>;

// The body the matched route's handler answers with, or "" when nothing matched.
std::string body_of(const Router& router, std::string_view method, std::string_view path) {
  Request r = request(method, path);
  const RouteMatch m = router.match(r);
  return m.route ? m.route->handler(r, nullptr).body : std::string();
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.add("GET", "/", Access::anyone(), answer("root"));
    router_.add("GET", "/healthz", Access::anyone(), answer("healthz"));
    router_.add("GET", "/auth/whoami", Access::authenticated(), answer("whoami"));
    router_.add("GET", "/auth/apikeys", Access::authenticated(), answer("list keys"));
    router_.add("POST", "/auth/apikeys", Access::authenticated(), answer("create key"));
    router_.add("DELETE", "/auth/apikeys/{id}", Access::authenticated(), answer("delete key"));
    router_.add("GET", "/{tracker}/rest/data/{class}/{id}", Access::role("User"), answer("item"));
  }
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralPaths) {
  EXPECT_EQ(body_of(router_, "GET", "/"), "root");
  EXPECT_EQ(body_of(router_, "GET", "/healthz"), "healthz");
  EXPECT_EQ(body_of(router_, "GET", "/auth/whoami"), "whoami");
}

TEST_F(RouterTest, LiteralMatchIsExact) {
  EXPECT_EQ(body_of(router_, "GET", "/healthz/"), "");
  EXPECT_EQ(body_of(router_, "GET", "/healthzz"), "");
  EXPECT_EQ(body_of(router_, "GET", "/Healthz"), "");
  EXPECT_EQ(body_of(router_, "GET", "/auth"), "");
  EXPECT_EQ(body_of(router_, "GET", "/auth/whoami/x"), "");
  EXPECT_EQ(body_of(router_, "GET", "//healthz"), "");
  EXPECT_EQ(body_of(router_, "GET", ""), "");
}

TEST_F(RouterTest, MethodMustMatch) {
  EXPECT_EQ(body_of(router_, "GET", "/auth/apikeys"), "list keys");
  EXPECT_EQ(body_of(router_, "POST", "/auth/apikeys"), "create key");
  EXPECT_EQ(body_of(router_, "get", "/auth/apikeys"), "");  // methods are case-sensitive
}

TEST_F(RouterTest, ParamSegmentsMatchAndAreFilledIn) {
  Request r = request("DELETE", "/auth/apikeys/0123456789abcdef");
  const RouteMatch m = router_.match(r);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/auth/apikeys/{id}");
  EXPECT_EQ(r.path_param("id"), "0123456789abcdef");
  EXPECT_FALSE(r.path_param("other").has_value());
}

TEST_F(RouterTest, SeveralParamSegments) {
  Request r = request("GET", "/demo/rest/data/issue/42");
  const RouteMatch m = router_.match(r);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(r.path_param("tracker"), "demo");
  EXPECT_EQ(r.path_param("class"), "issue");
  EXPECT_EQ(r.path_param("id"), "42");
  ASSERT_EQ(r.path_params.size(), 3u);
  EXPECT_EQ(r.path_params[0].first, "tracker");
}

TEST_F(RouterTest, ParamSegmentIsOneNonEmptySegment) {
  EXPECT_EQ(body_of(router_, "DELETE", "/auth/apikeys/"), "");
  EXPECT_EQ(body_of(router_, "DELETE", "/auth/apikeys"), "");
  EXPECT_EQ(body_of(router_, "DELETE", "/auth/apikeys/a/b"), "");
  EXPECT_EQ(body_of(router_, "GET", "/demo/rest/data//42"), "");
}

TEST_F(RouterTest, MatchReplacesStaleParams) {
  Request r = request("DELETE", "/auth/apikeys/abc");
  r.path_params.emplace_back("stale", "value");
  ASSERT_NE(router_.match(r).route, nullptr);
  EXPECT_FALSE(r.path_param("stale").has_value());
  EXPECT_EQ(r.path_param("id"), "abc");
}

TEST_F(RouterTest, HeadMatchesGet) {
  Request r = request("HEAD", "/healthz");
  const RouteMatch m = router_.match(r);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, "GET");
  EXPECT_EQ(body_of(router_, "HEAD", "/demo/rest/data/issue/1"), "item");
  EXPECT_EQ(body_of(router_, "HEAD", "/auth/apikeys/x"), "");  // only DELETE there
}

TEST_F(RouterTest, OtherMethodOnAKnownPathGivesTheAllowList) {
  Request r = request("PUT", "/auth/apikeys");
  const RouteMatch m = router_.match(r);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(methods_of(m.allow), (Methods{"GET", "HEAD", "POST"}));
}

TEST_F(RouterTest, AllowListOfAParamRoute) {
  Request r = request("GET", "/auth/apikeys/abc");
  const RouteMatch m = router_.match(r);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(methods_of(m.allow), Methods{"DELETE"});
}

TEST_F(RouterTest, UnknownPathHasNoAllowList) {
  Request r = request("GET", "/nowhere");
  const RouteMatch m = router_.match(r);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "");
}

TEST(Router, AllowListNamesEachMethodOnce) {
  // Two GET routes can both match one path (a literal and a {param}); Allow lists GET once.
  Router router;
  router.add("GET", "/items/{id}", Access::anyone(), answer("by id"));
  router.add("GET", "/items/new", Access::anyone(), answer("new form"));
  router.add("DELETE", "/items/{id}", Access::anyone(), answer("delete"));
  Request r = request("PUT", "/items/new");
  EXPECT_EQ(methods_of(router.match(r).allow), (Methods{"DELETE", "GET", "HEAD"}));
}

TEST(Router, RoutesKeepTheirAccessAndIndex) {
  Router router;
  router.add("GET", "/a", Access::anyone(), answer("a"));
  router.add("GET", "/b", Access::role("Admin"), answer("b"));
  ASSERT_EQ(router.routes().size(), 2u);
  EXPECT_EQ(router.routes()[0].index, 0u);
  EXPECT_EQ(router.routes()[1].index, 1u);
  EXPECT_EQ(router.routes()[0].access.kind, Access::Kind::anyone);
  EXPECT_EQ(router.routes()[1].access.kind, Access::Kind::role);
  EXPECT_EQ(router.routes()[1].access.required_role, "Admin");
}

TEST(Router, DuplicateRouteThrows) {
  Router router;
  router.add("GET", "/a", Access::anyone(), answer("a"));
  EXPECT_THROW(router.add("GET", "/a", Access::authenticated(), answer("again")),
               std::invalid_argument);
  EXPECT_NO_THROW(router.add("POST", "/a", Access::anyone(), answer("post")));
  router.add("GET", "/x/{id}", Access::anyone(), answer("x"));
  EXPECT_THROW(router.add("GET", "/x/{id}", Access::anyone(), answer("x")), std::invalid_argument);
  EXPECT_EQ(router.routes().size(), 3u);
}

TEST(Router, PatternWithoutLeadingSlashThrows) {
  Router router;
  EXPECT_THROW(router.add("GET", "", Access::anyone(), answer("a")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "healthz", Access::anyone(), answer("a")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "{id}", Access::anyone(), answer("a")), std::invalid_argument);
  EXPECT_TRUE(router.routes().empty());
}

TEST(Router, MarkApiFlagsEveryMethodOfThePattern) {
  Router router;
  router.add("GET", "/t/xmlrpc", Access::anyone(), answer("get"));
  router.add("POST", "/t/xmlrpc", Access::anyone(), answer("post"));
  router.add("GET", "/healthz", Access::anyone(), answer("h"));
  router.mark_api("/t/xmlrpc");
  EXPECT_TRUE(router.routes()[0].api);
  EXPECT_TRUE(router.routes()[1].api);
  EXPECT_FALSE(router.routes()[2].api);
  EXPECT_THROW(router.mark_api("/t/rest"), std::invalid_argument);
}

TEST_F(RouterTest, RoutesForAPathListTheirMethods) {
  PathRoutes p = router_.routes_for("/auth/apikeys");
  ASSERT_NE(p.first, nullptr);
  EXPECT_EQ(p.first->pattern, "/auth/apikeys");
  EXPECT_FALSE(p.api);
  EXPECT_EQ(methods_of(p.methods), (Methods{"GET", "HEAD", "POST"}));
  p = router_.routes_for("/auth/apikeys/abc");
  EXPECT_EQ(methods_of(p.methods), Methods{"DELETE"});
  p = router_.routes_for("/nowhere");
  EXPECT_EQ(p.first, nullptr);
  EXPECT_EQ(p.methods, "");
}

TEST(Router, RoutesForAStarRouteListRoundupsMethods) {
  Router router;
  router.add("*", "/{tracker}/rest/{path*}", Access::anyone(), answer("rest"));
  router.add("GET", "/{tracker}/rest/special", Access::anyone(), answer("special"));
  router.mark_api("/{tracker}/rest/{path*}");
  const PathRoutes p = router.routes_for("/demo/rest/special");
  EXPECT_TRUE(p.api);
  EXPECT_EQ(methods_of(p.methods),
            (Methods{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}));
}

}  // namespace
}  // namespace gatehouse::http
