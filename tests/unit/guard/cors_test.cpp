// CORS from the explicit allow-list (SPEC §10; Roundup's REST headers): the actual-request
// headers, preflight answers, and the rule that "*" is never combined with credentials.
#include "guard/cors.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::guard {
namespace {

const OriginPolicy kPolicy("https://gh.example", {"https://app.example"});
const OriginPolicy kWildcard("https://gh.example", {"*", "https://app.example"});

struct TestRequest {
  std::string method = "GET";
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;

  TestRequest& add(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Request view() const {
    Request r;
    r.method = method;
    r.path = "/auth/whoami";
    r.target = r.path;
    r.query = query;
    for (const auto& [n, v] : headers) r.headers.push_back({n, v});
    return r;
  }
};

std::vector<std::string> values(const Response& r, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : r.headers) {
    if (iequals(k, name)) out.push_back(v);
  }
  return out;
}

using Values = std::vector<std::string>;

Response decorated(const TestRequest& t, const OriginPolicy& p,
                   Response base = Response::json(200, "{}")) {
  add_cors_headers(t.view(), p, base);
  return base;
}

TEST(CorsActual, NoOriginNoChange) {
  const Response base = Response::json(200, "{}");
  const Response r = decorated(TestRequest{}.add("Authorization", "Basic x"), kWildcard, base);
  EXPECT_EQ(r.headers, base.headers);
}

TEST(CorsActual, OwnAndListedOriginsAreEchoedWithCredentials) {
  for (const char* origin : {"https://gh.example", "https://app.example"}) {
    const Response r = decorated(TestRequest{}.add("Origin", origin).add("Cookie", "a=b"), kPolicy);
    EXPECT_EQ(values(r, "Access-Control-Allow-Origin"), Values{origin});
    EXPECT_EQ(values(r, "Access-Control-Allow-Credentials"), Values{"true"});
    EXPECT_EQ(values(r, "Access-Control-Expose-Headers"), Values{std::string(kCorsExposeHeaders)});
    EXPECT_EQ(values(r, "Vary"), Values{"Origin"});
  }
}

TEST(CorsActual, ForeignOriginGetsOnlyVary) {
  for (const char* origin : {"https://evil.example", "null", "https://app.example/",
                             "https://APP.example", "https://a.example:99999", "https://a b", ""}) {
    const Response r = decorated(TestRequest{}.add("Origin", origin), kPolicy);
    EXPECT_TRUE(values(r, "Access-Control-Allow-Origin").empty()) << origin;
    EXPECT_TRUE(values(r, "Access-Control-Allow-Credentials").empty()) << origin;
    EXPECT_TRUE(values(r, "Access-Control-Expose-Headers").empty()) << origin;
    EXPECT_EQ(values(r, "Vary"), Values{"Origin"}) << origin;
  }
  // A repeated Origin is never echoed.
  const Response twice = decorated(
      TestRequest{}.add("Origin", "https://app.example").add("Origin", "https://app.example"),
      kPolicy);
  EXPECT_TRUE(values(twice, "Access-Control-Allow-Origin").empty());
}

TEST(CorsActual, WildcardAnswersStarOnlyWithoutCredentials) {
  const Response r = decorated(TestRequest{}.add("Origin", "https://evil.example"), kWildcard);
  EXPECT_EQ(values(r, "Access-Control-Allow-Origin"), Values{"*"});
  EXPECT_TRUE(values(r, "Access-Control-Allow-Credentials").empty());
  EXPECT_EQ(values(r, "Vary"), Values{"Origin"});
  // Listed origins keep the explicit, credentialed answer under a wildcard.
  const Response listed =
      decorated(TestRequest{}.add("Origin", "https://app.example").add("Cookie", "a=b"), kWildcard);
  EXPECT_EQ(values(listed, "Access-Control-Allow-Origin"), Values{"https://app.example"});
  EXPECT_EQ(values(listed, "Access-Control-Allow-Credentials"), Values{"true"});
}

TEST(CorsActual, StarIsNeverCombinedWithCredentials) {
  std::vector<TestRequest> credentialed;
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Cookie", "sid=1"},
           {"Authorization", "Basic ZGVtbzpkZW1v"},
           {"Authorization", "Digest username=\"demo\""},
           {"Authorization", "Negotiate YII"},
           {"Authorization", "Bearer t"},
           {"Authorization", "Apikey gh_1_2"},
           {"X-API-Key", "gh_1_2"}}) {
    credentialed.push_back(TestRequest{}.add(name, value));
  }
  TestRequest query_key;
  query_key.query = "x=1&api_key=gh_1_2";
  credentialed.push_back(query_key);
  for (auto t : credentialed) {
    t.add("Origin", "https://evil.example");
    EXPECT_TRUE(carries_credentials(t.view()));
    const Response r = decorated(t, kWildcard);
    EXPECT_TRUE(values(r, "Access-Control-Allow-Origin").empty()) << t.headers.front().first;
    EXPECT_EQ(values(r, "Vary"), Values{"Origin"});
  }
  // Over every policy, origin and credential: a "*" answer never has Allow-Credentials, and
  // Allow-Credentials always comes with the request's own Origin echoed.
  for (const OriginPolicy* p : {&kPolicy, &kWildcard}) {
    for (const char* origin :
         {"https://gh.example", "https://app.example", "https://evil.example", "null"}) {
      for (auto t : credentialed) {
        for (const bool with_credentials : {true, false}) {
          TestRequest u = with_credentials ? t : TestRequest{};
          u.add("Origin", origin);
          const Response r = decorated(u, *p);
          const Values acao = values(r, "Access-Control-Allow-Origin");
          const Values acac = values(r, "Access-Control-Allow-Credentials");
          if (acao == Values{"*"}) {
            EXPECT_TRUE(acac.empty());
          }
          if (!acac.empty()) {
            EXPECT_EQ(acao, Values{origin});
          }
          if (with_credentials) {
            EXPECT_NE(acao, Values{"*"});
          }
          EXPECT_LE(acao.size(), 1u);
        }
      }
    }
  }
}

TEST(CorsActual, VaryIsNotRepeatedAndHandlerCorsIsKept) {
  Response base = Response::json(200, "{}");
  base.set("Vary", "Accept, origin");
  Response r = decorated(TestRequest{}.add("Origin", "https://app.example"), kPolicy, base);
  EXPECT_EQ(values(r, "Vary"), Values{"Accept, origin"});
  base = Response::json(200, "{}");
  base.set("Vary", "Accept");
  r = decorated(TestRequest{}.add("Origin", "https://app.example"), kPolicy, base);
  EXPECT_EQ(values(r, "Vary"), (Values{"Accept", "Origin"}));
  base = Response::json(200, "{}");
  base.set("Access-Control-Allow-Origin", "https://app.example");
  r = decorated(TestRequest{}.add("Origin", "https://app.example"), kPolicy, base);
  EXPECT_EQ(values(r, "Access-Control-Allow-Origin"), Values{"https://app.example"});
  EXPECT_TRUE(values(r, "Access-Control-Allow-Credentials").empty());
}

TEST(CorsActual, ErrorResponsesAreDecoratedToo) {
  const Response r = decorated(TestRequest{}.add("Origin", "https://app.example"), kPolicy,
                               Response::error(401, "unauthorized", "authentication required"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(values(r, "Access-Control-Allow-Origin"), Values{"https://app.example"});
}

TEST(CarriesCredentials, ApiKeyQueryByItsExactName) {
  TestRequest t;
  t.query = "api_key=k";
  EXPECT_TRUE(carries_credentials(t.view()));
  t.query = "api_key";
  EXPECT_TRUE(carries_credentials(t.view()));
  t.query = "x_api_key=k&other=api_key";
  EXPECT_FALSE(carries_credentials(t.view()));
  EXPECT_FALSE(carries_credentials(TestRequest{}.add("Origin", "x").add("Accept", "*/*").view()));
}

// ---- preflight -------------------------------------------------------------------------------

TestRequest preflight(std::string origin) {
  TestRequest t;
  t.method = "OPTIONS";
  t.add("Origin", std::move(origin))
      .add("Access-Control-Request-Method", "POST")
      .add("Access-Control-Request-Headers", "authorization, content-type");
  return t;
}

TEST(CorsPreflight, WhatCountsAsAPreflight) {
  EXPECT_TRUE(is_preflight(preflight("https://app.example").view(), false));
  EXPECT_TRUE(is_preflight(preflight("https://app.example").view(), true));
  TestRequest no_headers;
  no_headers.method = "OPTIONS";
  no_headers.add("Origin", "https://app.example").add("Access-Control-Request-Method", "PUT");
  EXPECT_TRUE(is_preflight(no_headers.view(), false));
  EXPECT_FALSE(is_preflight(no_headers.view(), true));  // Roundup's REST wants all three
  TestRequest no_method;
  no_method.method = "OPTIONS";
  no_method.add("Origin", "https://app.example");
  EXPECT_FALSE(is_preflight(no_method.view(), false));
  TestRequest no_origin;
  no_origin.method = "OPTIONS";
  no_origin.add("Access-Control-Request-Method", "PUT");
  EXPECT_FALSE(is_preflight(no_origin.view(), false));
  TestRequest get = preflight("https://app.example");
  get.method = "GET";
  EXPECT_FALSE(is_preflight(get.view(), false));
}

TEST(CorsPreflight, AllowedOriginGets204WithTheHeaders) {
  const PreflightAnswer a =
      answer_preflight(preflight("https://app.example").view(), kPolicy, "GET, HEAD, POST", false);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.response.status, 204);
  EXPECT_TRUE(a.response.body.empty());
  EXPECT_EQ(values(a.response, "Access-Control-Allow-Origin"), Values{"https://app.example"});
  EXPECT_EQ(values(a.response, "Access-Control-Allow-Credentials"), Values{"true"});
  EXPECT_EQ(values(a.response, "Access-Control-Allow-Methods"), Values{"GET, HEAD, POST"});
  EXPECT_EQ(values(a.response, "Access-Control-Allow-Headers"),
            Values{"Content-Type, Authorization, X-Requested-With, X-HTTP-Method-Override, "
                   "X-API-Key, If-Match"});
  EXPECT_EQ(values(a.response, "Access-Control-Max-Age"), Values{"86400"});
  EXPECT_EQ(values(a.response, "Vary"), Values{"Origin"});
}

TEST(CorsPreflight, ForeignOriginIsRefusedWithoutCorsHeaders) {
  for (const char* origin : {"https://evil.example", "null", "https://app.example:99999", ""}) {
    const PreflightAnswer a = answer_preflight(preflight(origin).view(), kPolicy, "POST", false);
    EXPECT_FALSE(a.allowed);
    EXPECT_EQ(a.response.status, 403);
    EXPECT_TRUE(values(a.response, "Access-Control-Allow-Origin").empty());
    EXPECT_TRUE(values(a.response, "Access-Control-Allow-Methods").empty());
    EXPECT_NE(a.response.body.find("\"error\":\"origin_not_allowed\""), std::string::npos);
  }
  const PreflightAnswer api =
      answer_preflight(preflight("https://evil.example").view(), kPolicy, "POST", true);
  EXPECT_EQ(api.message, "Client is not allowed to use Rest Interface.");
}

TEST(CorsPreflight, WildcardAllowsAnyOriginWithoutCredentials) {
  const PreflightAnswer a =
      answer_preflight(preflight("https://evil.example").view(), kWildcard, "POST", false);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(values(a.response, "Access-Control-Allow-Origin"), Values{"*"});
  EXPECT_TRUE(values(a.response, "Access-Control-Allow-Credentials").empty());
}

}  // namespace
}  // namespace gatehouse::guard
