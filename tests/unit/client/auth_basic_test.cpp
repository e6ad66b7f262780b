// Basic (RFC 7617) and API key flows: which header, when, and that a refusal is not retried.
#include <gtest/gtest.h>

#include "gatehouse/client.hpp"

namespace gatehouse::client {
namespace {

Request req(std::string url, std::string method = "GET", std::string body = {}) {
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

Response status(unsigned code, std::string challenge = {}) {
  Response response;
  response.status = code;
  if (!challenge.empty()) response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  return response;
}

// The origin's password is never offered to a proxy (auth_util.hpp, origin_challenges).
TEST(ClientBasic, ProxyChallengeIsNotAnsweredWithTheOriginPassword) {
  auto auth = basic_auth("u", Secret("p"), /*preemptive=*/false);
  Request request = req("https://h/");
  auto flow = auth->start(request);
  flow->prepare(request);
  Response response;
  response.status = 407;
  response.headers.emplace_back("Proxy-Authenticate", "Basic realm=\"proxy\"");
  EXPECT_EQ(flow->on_response(request, response), Next::done);
  EXPECT_EQ(request.header("Proxy-Authorization"), nullptr);
  EXPECT_EQ(request.header("Authorization"), nullptr);
}

TEST(ClientBasic, PreemptiveUtf8) {
  auto auth = basic_auth("Aladdin", Secret("open sesame"));
  Request request = req("http://h/");
  auto flow = auth->start(request);
  flow->prepare(request);
  ASSERT_NE(request.header("Authorization"), nullptr);
  EXPECT_EQ(*request.header("Authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");  // RFC 7617 §2
  auto refused = status(401, "Basic realm=\"x\"");
  EXPECT_EQ(flow->on_response(request, refused), Next::done);  // wrong password: no loop

  auto utf8 = basic_auth("test", Secret("123\xC2\xA3"));  // RFC 7617 §2.1 example
  Request r2 = req("http://h/");
  auto f2 = utf8->start(r2);
  f2->prepare(r2);
  EXPECT_EQ(*r2.header("Authorization"), "Basic dGVzdDoxMjPCow==");
}

TEST(ClientBasic, NonPreemptiveAnswersOneBasicChallenge) {
  auto auth = basic_auth("Aladdin", Secret("open sesame"), /*preemptive=*/false);
  Request request = req("http://h/");
  auto flow = auth->start(request);
  flow->prepare(request);
  EXPECT_EQ(request.header("Authorization"), nullptr);
  auto digest_only = status(401, "Digest realm=\"r\", nonce=\"n\", qop=auth");
  EXPECT_EQ(flow->on_response(request, digest_only), Next::done);
  auto challenge = status(401, "Digest realm=\"r\", nonce=\"n\", qop=auth, Basic realm=\"x\"");
  EXPECT_EQ(flow->on_response(request, challenge), Next::retry);
  flow->prepare(request);
  EXPECT_EQ(*request.header("Authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(flow->on_response(request, challenge), Next::done);  // the second 401 as is
  auto fine = status(200);
  EXPECT_EQ(flow->on_response(request, fine), Next::done);
}

TEST(ClientBasic, RefusesWhatRfc7617Forbids) {
  EXPECT_THROW(basic_auth("a:b", Secret("p")), RequestError);
  EXPECT_THROW(basic_auth("a", Secret("p\nq")), RequestError);
}

TEST(ClientApiKey, Placements) {
  {
    auto auth = api_key_auth(Secret("gh_k"));
    Request request = req("http://h/x");
    auto flow = auth->start(request);
    flow->prepare(request);
    EXPECT_EQ(*request.header("Authorization"), "Apikey gh_k");
  }
  {
    auto auth = api_key_auth(Secret("gh_k"), ApiKeyPlacement::x_api_key);
    Request request = req("http://h/x");
    auto flow = auth->start(request);
    flow->prepare(request);
    EXPECT_EQ(*request.header("X-API-Key"), "gh_k");
    EXPECT_EQ(request.header("Authorization"), nullptr);
    auto refused = status(401);
    EXPECT_EQ(flow->on_response(request, refused), Next::done);
  }
  {
    auto auth = api_key_auth(Secret("gh k&="), ApiKeyPlacement::query);
    Request request = req("https://h/x?a=1");
    auto flow = auth->start(request);
    flow->prepare(request);
    flow->prepare(request);  // a retry does not add it twice
    EXPECT_EQ(request.url, "https://h/x?a=1&api_key=gh%20k%26%3D");
  }
}

TEST(ClientApiKey, QueryOverPlainHttpNeedsConsent) {
  auto auth = api_key_auth(Secret("k"), ApiKeyPlacement::query);
  Request request = req("http://h/x");
  auto flow = auth->start(request);
  EXPECT_THROW(flow->prepare(request), RequestError);
  auto allowed = api_key_auth(Secret("k"), ApiKeyPlacement::query, true);
  auto flow2 = allowed->start(request);
  flow2->prepare(request);
  EXPECT_EQ(request.url, "http://h/x?api_key=k");
  EXPECT_THROW(api_key_auth(Secret("")), RequestError);
}

}  // namespace
}  // namespace gatehouse::client
