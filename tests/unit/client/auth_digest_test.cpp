// The Digest client flow driven with RFC 7616's examples and a fixed client nonce.
//
// Expected values: §3.9.1 (MD5, SHA-256) as printed in RFC 7616; §3.9.2 (SHA-512-256, userhash)
// as corrected by errata 4897; -sess, auth-int and rspauth as computed with Python's hashlib
// (the same values tests/unit/schemes/digest_compute_test.cpp checks).
#include "client/auth_digest.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gatehouse/http.hpp"
#include "schemes/authorization_header.hpp"
#include "schemes/digest_params.hpp"

namespace gatehouse::client {
namespace {

Request req(std::string url, std::string method = "GET", std::string body = {}) {
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

constexpr const char* kRealm = "http-auth@example.org";
constexpr const char* kNonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr const char* kOpaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
constexpr const char* kCnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr const char* kUrl = "http://www.example.org/dir/index.html";

std::string challenge(std::string_view algorithm, std::string_view qop = "auth, auth-int",
                      std::string_view nonce = kNonce, std::string_view extra = "") {
  return "Digest realm=\"" + std::string(kRealm) + "\", qop=\"" + std::string(qop) +
         "\", algorithm=" + std::string(algorithm) + ", nonce=\"" + std::string(nonce) +
         "\", opaque=\"" + kOpaque + "\"" + std::string(extra);
}

Response unauthorized(const std::vector<std::string>& challenges) {
  Response response;
  response.status = 401;
  for (const auto& c : challenges) response.headers.emplace_back("WWW-Authenticate", c);
  return response;
}

Response ok(std::string info = {}) {
  Response response;
  response.status = 200;
  if (!info.empty()) response.headers.emplace_back("Authentication-Info", std::move(info));
  return response;
}

std::shared_ptr<Auth> mufasa() {
  return detail::make_digest_auth("Mufasa", Secret("Circle of Life"), [] { return kCnonce; });
}

schemes::DigestParams sent_params(const Request& request) {
  const std::string* value = request.header("Authorization");
  EXPECT_NE(value, nullptr);
  if (value == nullptr) return {};
  const auto split = schemes::split_authorization(*value);
  EXPECT_TRUE(split && iequals(split->scheme, "Digest"));
  const auto parsed = schemes::parse_digest_params(split->rest);
  EXPECT_TRUE(parsed.ok()) << parsed.error;
  return parsed.ok() ? *parsed.params : schemes::DigestParams{};
}

// Sends a first request without credentials, answers `challenges` and returns the retried
// request's Digest parameters.
schemes::DigestParams answer(Auth& auth, const std::vector<std::string>& challenges,
                             Request request = req(kUrl)) {
  auto flow = auth.start(request);
  flow->prepare(request);
  EXPECT_EQ(request.header("Authorization"), nullptr);
  auto response = unauthorized(challenges);
  EXPECT_EQ(flow->on_response(request, response), Next::retry);
  flow->prepare(request);
  auto params = sent_params(request);
  auto accepted = ok();
  EXPECT_EQ(flow->on_response(request, accepted), Next::done);
  return params;
}

TEST(ClientDigest, Rfc7616Md5Example) {
  auto auth = mufasa();
  const auto p = answer(*auth, {challenge("MD5")});
  EXPECT_EQ(*p.username, "Mufasa");
  EXPECT_EQ(p.realm, kRealm);
  EXPECT_EQ(p.uri, "/dir/index.html");
  EXPECT_EQ(p.algorithm, schemes::DigestAlgorithm::md5);
  EXPECT_EQ(p.nonce, kNonce);
  EXPECT_EQ(p.nc, "00000001");
  EXPECT_EQ(p.cnonce, kCnonce);
  EXPECT_EQ(p.qop, "auth");  // auth preferred when both are offered
  EXPECT_EQ(p.opaque, kOpaque);
  EXPECT_EQ(p.response, "8ca523f5e9506fed4657c9700eebdbec");
  EXPECT_FALSE(p.userhash);
}

TEST(ClientDigest, Rfc7616Sha256ExampleChosenOverMd5) {
  auto auth = mufasa();
  // The RFC's 401 offers SHA-256 first and MD5 second; the order must not matter.
  for (const auto& order : {std::vector{challenge("SHA-256"), challenge("MD5")},
                            std::vector{challenge("MD5"), challenge("SHA-256")}}) {
    auto fresh = mufasa();
    const auto p = answer(*fresh, order);
    EXPECT_EQ(p.algorithm, schemes::DigestAlgorithm::sha256);
    EXPECT_EQ(p.response, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  }
}

TEST(ClientDigest, Rfc7616Sha512_256UserhashExample) {
  auto auth = detail::make_digest_auth("J\xC3\xA4s\xC3\xB8n Doe", Secret("Secret, or not?"), [] {
    return "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v";
  });
  const auto p = answer(
      *auth,
      {R"(Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true)",
       challenge("SHA-256"), challenge("MD5")},
      req("http://api.example.org/doe.json"));
  EXPECT_EQ(p.algorithm, schemes::DigestAlgorithm::sha512_256);
  EXPECT_TRUE(p.userhash);
  EXPECT_EQ(*p.username, "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
  EXPECT_EQ(p.response, "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
}

TEST(ClientDigest, NonAsciiUserWithoutUserhashUsesUsernameStar) {
  auto auth = detail::make_digest_auth("J\xC3\xA4s\xC3\xB8n", Secret("pw"), [] { return "c"; });
  const auto p = answer(*auth, {challenge("SHA-256")});
  ASSERT_TRUE(p.username_star.has_value());
  EXPECT_EQ(*p.username_star, "J\xC3\xA4s\xC3\xB8n");
}

TEST(ClientDigest, SessVariants) {
  auto md5 = mufasa();
  EXPECT_EQ(answer(*md5, {challenge("MD5-sess")}).response, "e783283f46242139c486a698fec7211d");
  auto sha = mufasa();
  const auto p = answer(*sha, {challenge("MD5-sess"), challenge("SHA-256-sess")});
  EXPECT_EQ(p.algorithm, schemes::DigestAlgorithm::sha256_sess);
  EXPECT_EQ(p.response, "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7");
}

TEST(ClientDigest, AuthIntOnlyWhenItIsTheOnlyQop) {
  auto auth = mufasa();
  const auto p = answer(*auth, {challenge("MD5", "auth-int")}, req(kUrl, "POST", "hello"));
  EXPECT_EQ(p.qop, "auth-int");
  EXPECT_EQ(p.response, "23fef4d928a3e9fa6e0b0de51288c997");
}

TEST(ClientDigest, UnknownAlgorithmsAndChallengesWithoutQopAreNotAnswered) {
  auto auth = mufasa();
  Request request = req(kUrl);
  auto flow = auth->start(request);
  flow->prepare(request);
  auto response = unauthorized(
      {challenge("SHA-512"), challenge("SHA3-256"), R"(Digest realm="r", nonce="n")", "Basic"});
  EXPECT_EQ(flow->on_response(request, response), Next::done);
  // The known one among unknown ones is used.
  auto other = mufasa();
  EXPECT_EQ(answer(*other, {challenge("SHA-512"), challenge("MD5")}).algorithm,
            schemes::DigestAlgorithm::md5);
}

TEST(ClientDigest, LaterRequestsReuseTheNonceWithIncreasingCount) {
  auto auth = mufasa();
  EXPECT_EQ(answer(*auth, {challenge("MD5")}).nc, "00000001");
  for (const char* expected : {"00000002", "00000003"}) {
    Request request = req("http://www.example.org/other?q=1");
    auto flow = auth->start(request);
    flow->prepare(request);  // preemptive: no 401 round trip
    const auto p = sent_params(request);
    EXPECT_EQ(p.nc, expected);
    EXPECT_EQ(p.nonce, kNonce);
    EXPECT_EQ(p.uri, "/other?q=1");
    auto response = ok();
    EXPECT_EQ(flow->on_response(request, response), Next::done);
  }
  // Another origin starts without credentials.
  Request elsewhere = req("http://other.example.org/");
  auto flow = auth->start(elsewhere);
  flow->prepare(elsewhere);
  EXPECT_EQ(elsewhere.header("Authorization"), nullptr);
}

TEST(ClientDigest, ANonceIsSharedOnlyAfterItsFirstRequestWasAccepted) {
  auto auth = mufasa();
  Request request = req(kUrl);
  auto flow = auth->start(request);
  flow->prepare(request);
  auto challenged = unauthorized({challenge("MD5")});
  ASSERT_EQ(flow->on_response(request, challenged), Next::retry);
  flow->prepare(request);  // nc=1 in flight
  Request other = req(kUrl);
  auto concurrent = auth->start(other);
  concurrent->prepare(other);
  EXPECT_EQ(other.header("Authorization"), nullptr);  // would overtake nc=1 on another connection
  auto accepted = ok();
  ASSERT_EQ(flow->on_response(request, accepted), Next::done);
  Request later = req(kUrl);
  auto after = auth->start(later);
  after->prepare(later);
  EXPECT_EQ(sent_params(later).nc, "00000002");
}

TEST(ClientDigest, WrongPasswordReturnsTheSecond401) {
  auto auth = mufasa();
  Request request = req(kUrl);
  auto flow = auth->start(request);
  flow->prepare(request);
  auto first = unauthorized({challenge("MD5")});
  ASSERT_EQ(flow->on_response(request, first), Next::retry);
  flow->prepare(request);
  // The same nonce again, or a fresh one without stale=true: the credentials were refused.
  auto same = unauthorized({challenge("MD5")});
  EXPECT_EQ(flow->on_response(request, same), Next::done);
  auto fresh = unauthorized({challenge("MD5", "auth", "another-nonce")});
  EXPECT_EQ(flow->on_response(request, fresh), Next::done);
}

TEST(ClientDigest, StaleNonceIsRetriedWithTheNewOne) {
  auto auth = mufasa();
  Request request = req(kUrl);
  auto flow = auth->start(request);
  flow->prepare(request);
  auto first = unauthorized({challenge("MD5")});
  ASSERT_EQ(flow->on_response(request, first), Next::retry);
  flow->prepare(request);
  auto stale = unauthorized({challenge("MD5", "auth", "fresh-nonce", ", stale=true")});
  ASSERT_EQ(flow->on_response(request, stale), Next::retry);
  flow->prepare(request);
  const auto p = sent_params(request);
  EXPECT_EQ(p.nonce, "fresh-nonce");
  EXPECT_EQ(p.nc, "00000001");
  // stale=true naming a nonce already sent ends the exchange.
  auto loop = unauthorized({challenge("MD5", "auth", "fresh-nonce", ", stale=true")});
  EXPECT_EQ(flow->on_response(request, loop), Next::done);
}

TEST(ClientDigest, AnEndlessStaleServerIsNotFollowedForever) {
  auto auth = mufasa();
  Request request = req(kUrl);
  auto flow = auth->start(request);
  flow->prepare(request);
  int retries = 0;
  for (int i = 0; i < 20; ++i) {
    auto stale = unauthorized({challenge("MD5", "auth", "n" + std::to_string(i), ", stale=true")});
    if (flow->on_response(request, stale) != Next::retry) break;
    ++retries;
    flow->prepare(request);
  }
  EXPECT_LE(retries, 3);
}

TEST(ClientDigest, PreemptiveNonceRefusedGetsOneFreshAnswer) {
  auto auth = mufasa();
  answer(*auth, {challenge("MD5")});
  Request request = req(kUrl);
  auto flow = auth->start(request);
  flow->prepare(request);
  ASSERT_NE(request.header("Authorization"), nullptr);
  auto restarted = unauthorized({challenge("MD5", "auth", "after-restart")});
  ASSERT_EQ(flow->on_response(request, restarted), Next::retry);
  flow->prepare(request);
  EXPECT_EQ(sent_params(request).nonce, "after-restart");
}

TEST(ClientDigest, RspauthIsVerified) {
  auto auth = mufasa();
  Request request = req(kUrl);
  auto flow = auth->start(request);
  flow->prepare(request);
  auto first = unauthorized({challenge("MD5", "auth")});
  ASSERT_EQ(flow->on_response(request, first), Next::retry);
  flow->prepare(request);
  auto good = ok(R"(rspauth="9b712497bc9f91499fbcca1dfc5f09a5", qop=auth, nc=00000001, cnonce=")" +
                 std::string(kCnonce) + "\"");
  EXPECT_EQ(flow->on_response(request, good), Next::done);

  auto flow2 = auth->start(request);
  flow2->prepare(request);
  auto bad = ok(R"(rspauth="9b712497bc9f91499fbcca1dfc5f09a5", qop=auth)");  // nc is 2 now
  try {
    flow2->on_response(request, bad);
    FAIL() << "a wrong rspauth must throw";
  } catch (const TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("rspauth mismatch"), std::string::npos);
  }
}

TEST(ClientDigest, NextnonceIsAdopted) {
  auto auth = mufasa();
  answer(*auth, {challenge("MD5")});
  Request request = req(kUrl);
  auto flow = auth->start(request);
  flow->prepare(request);
  auto response = ok(R"(nextnonce="the-next-one")");
  EXPECT_EQ(flow->on_response(request, response), Next::done);
  Request later = req(kUrl);
  auto flow2 = auth->start(later);
  flow2->prepare(later);
  const auto p = sent_params(later);
  EXPECT_EQ(p.nonce, "the-next-one");
  EXPECT_EQ(p.nc, "00000001");
}

// The origin's password is never offered to a proxy (a 407 could come from anyone on the path;
// a CONNECT would carry it in clear): proxy credentials come from the proxy URL or Negotiate.
TEST(ClientDigest, ProxyChallengeIsNotAnsweredWithTheOriginPassword) {
  auto auth = mufasa();
  Request request = req(kUrl);
  auto flow = auth->start(request);
  flow->prepare(request);
  Response response;
  response.status = 407;
  response.headers.emplace_back("Proxy-Authenticate", challenge("MD5"));
  EXPECT_EQ(flow->on_response(request, response), Next::done);
  EXPECT_EQ(request.header("Proxy-Authorization"), nullptr);
}

// RFC 7616 §3.4 / RFC 8187: a user name that is not plain ASCII goes as username*, percent-encoded
// UTF-8 outside attr-char; the server's parser gets the name back.
TEST(ClientDigest, NonAsciiUserNameGoesAsExtValue) {
  auto auth = detail::make_digest_auth("J\xC3\xA4s\xC3\xB8n Doe", Secret("Secret, or not?"),
                                       [] { return kCnonce; });
  Request request = req(kUrl);
  const auto p = answer(*auth, {challenge("SHA-256")}, request);
  ASSERT_TRUE(p.username_star.has_value());
  EXPECT_FALSE(p.username.has_value());
  EXPECT_EQ(p.user(), "J\xC3\xA4s\xC3\xB8n Doe");
  auto flow = auth->start(request);
  flow->prepare(request);
  ASSERT_NE(request.header("Authorization"), nullptr);
  EXPECT_NE(request.header("Authorization")->find("username*=UTF-8''J%C3%A4s%C3%B8n%20Doe"),
            std::string::npos);
}

TEST(ClientDigest, NonceCountIsSharedAcrossThreads) {
  auto auth = detail::make_digest_auth("u", Secret("p"), {});
  answer(*auth, {challenge("SHA-256")});
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::vector<std::string> counts;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Request request = req(kUrl);
        auto flow = auth->start(request);
        flow->prepare(request);
        const auto p = sent_params(request);
        const std::lock_guard lock(mutex);
        counts.push_back(p.nc);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(std::unique(counts.begin(), counts.end()), counts.end()) << "an nc was sent twice";
  EXPECT_EQ(counts.size(), 200u);
  EXPECT_EQ(counts.back(), "000000c9");  // 1 (the answer) + 200
}

}  // namespace
}  // namespace gatehouse::client
