// auto_auth: which scheme answers a challenge, and that a scheme is remembered for an origin
// (sent first on its later requests) only once the origin accepted it.
#include <gtest/gtest.h>

#include "gatehouse/client.hpp"

namespace gatehouse::client {
namespace {

Request req(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

Response status(unsigned code, std::string challenge = {}) {
  Response response;
  response.status = code;
  if (!challenge.empty()) response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  return response;
}

std::shared_ptr<Auth> password_auto() {
  AutoCredentials credentials;
  credentials.user = "Aladdin";
  credentials.password = Secret("open sesame");
  return auto_auth(std::move(credentials));
}

// One exchange: the first send, a Basic challenge, the retry, then `final_status`.
void exchange_answered(Auth& auth, const std::string& url, unsigned final_status) {
  Request request = req(url);
  auto flow = auth.start(request);
  flow->prepare(request);
  ASSERT_EQ(request.header("Authorization"), nullptr);
  auto challenge = status(401, "Basic realm=\"x\"");
  ASSERT_EQ(flow->on_response(request, challenge), Next::retry);
  flow->prepare(request);
  ASSERT_NE(request.header("Authorization"), nullptr);
  auto answer = status(final_status, final_status == 401 ? "Basic realm=\"x\"" : "");
  EXPECT_EQ(flow->on_response(request, answer), Next::done);
}

// What the next request to `url` sends before any challenge.
const std::string* first_credentials(Auth& auth, const std::string& url, Request& request) {
  request = req(url);
  auto flow = auth.start(request);
  flow->prepare(request);
  return request.header("Authorization");
}

TEST(ClientAuto, ARefusedSchemeIsNotRemembered) {
  auto auth = password_auto();
  exchange_answered(*auth, "http://h/a", 401);  // wrong password
  Request next;
  EXPECT_EQ(first_credentials(*auth, "http://h/b", next), nullptr);
}

TEST(ClientAuto, AnAcceptedSchemeIsRememberedForItsOriginOnly) {
  auto auth = password_auto();
  exchange_answered(*auth, "http://h/a", 200);
  Request next;
  const std::string* sent = first_credentials(*auth, "http://h/b", next);
  ASSERT_NE(sent, nullptr);
  EXPECT_EQ(*sent, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  Request elsewhere;
  EXPECT_EQ(first_credentials(*auth, "http://other/", elsewhere), nullptr);
  // Any answer but 401 accepts the credentials (403: authenticated, not allowed).
  auto forbidden = password_auto();
  exchange_answered(*forbidden, "http://h/a", 403);
  EXPECT_NE(first_credentials(*forbidden, "http://h/b", next), nullptr);
}

TEST(ClientAuto, DigestIsRememberedOnlyAfterItsStaleRetrySucceeded) {
  auto auth = password_auto();
  Request request = req("http://h/a");
  auto flow = auth->start(request);
  flow->prepare(request);
  auto challenge = status(401, R"(Digest realm="r", nonce="n1", qop="auth", algorithm=SHA-256)");
  ASSERT_EQ(flow->on_response(request, challenge), Next::retry);
  flow->prepare(request);
  ASSERT_NE(request.header("Authorization"), nullptr);
  auto stale =
      status(401, R"(Digest realm="r", nonce="n2", qop="auth", algorithm=SHA-256, stale=true)");
  ASSERT_EQ(flow->on_response(request, stale), Next::retry);
  Request meanwhile;
  EXPECT_EQ(first_credentials(*auth, "http://h/b", meanwhile), nullptr);  // not accepted yet
  flow->prepare(request);
  auto ok = status(200);
  EXPECT_EQ(flow->on_response(request, ok), Next::done);
  Request next;
  const std::string* sent = first_credentials(*auth, "http://h/b", next);
  ASSERT_NE(sent, nullptr);
  EXPECT_TRUE(sent->starts_with("Digest ")) << *sent;
}

}  // namespace
}  // namespace gatehouse::client
