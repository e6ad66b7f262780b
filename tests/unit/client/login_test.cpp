#include "client/login.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "jose/base64url.hpp"

namespace gatehouse::client {
namespace {

using namespace std::chrono_literals;

// Time moves only when the poll sleeps; every sleep is recorded.
class FakePollClock final : public PollClock {
 public:
  std::chrono::steady_clock::time_point now() override { return start_ + elapsed_; }
  void sleep_for(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    elapsed_ += d;
  }
  std::int64_t unix_now_s() override {
    return 1'700'000'000 + std::chrono::duration_cast<std::chrono::seconds>(elapsed_).count();
  }
  std::chrono::milliseconds elapsed() const { return elapsed_; }
  std::vector<std::chrono::milliseconds> sleeps;

 private:
  std::chrono::steady_clock::time_point start_{};
  std::chrono::milliseconds elapsed_{0};
};

Response answer(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
Response oauth_error(const std::string& code) {
  return answer(400, R"({"error":")" + code + R"(","error_description":"x"})");
}
const Response kTokens = answer(
    200, R"({"access_token":"AT","token_type":"Bearer","expires_in":600,"refresh_token":"RT"})");

// A token endpoint that answers from a script and records each request's time and body.
struct ScriptedEndpoint {
  ScriptedEndpoint(FakePollClock& c, std::deque<Response> a) : clock(c), answers(std::move(a)) {}
  FakePollClock& clock;
  std::deque<Response> answers;
  std::vector<std::chrono::milliseconds> asked_at;
  std::vector<std::string> bodies;
  TokenPost post() {
    return [this](const std::string& body) {
      asked_at.push_back(clock.elapsed());
      bodies.push_back(body);
      if (answers.empty()) throw std::logic_error("asked more often than scripted");
      Response r = answers.front();
      answers.pop_front();
      return r;
    };
  }
};

DeviceAuthorization authorization(std::int64_t expires_in = 600, std::int64_t interval = 5) {
  DeviceAuthorization a;
  a.device_code = Secret("DEVICE/CODE+1");
  a.user_code = "WDJB-MJHT";
  a.verification_uri = "https://example.com/device";
  a.expires_in = expires_in;
  a.interval = interval;
  return a;
}

TEST(ClientDevicePoll, PendingThenSuccessPollsEveryInterval) {
  FakePollClock clock;
  ScriptedEndpoint endpoint{
      clock, {oauth_error("authorization_pending"), oauth_error("authorization_pending"), kTokens}};
  const TokenSet tokens =
      poll_device_token(authorization(), "gatehouse-cli", endpoint.post(), clock);
  EXPECT_EQ(tokens.access_token.reveal(), "AT");
  EXPECT_EQ(tokens.refresh_token.reveal(), "RT");
  EXPECT_EQ(tokens.expires_at, 1'700'000'000 + 15 + 600);
  EXPECT_EQ(endpoint.asked_at, (std::vector<std::chrono::milliseconds>{5s, 10s, 15s}));
  // RFC 8628 §3.4: grant_type, device_code and client_id, form-encoded.
  EXPECT_EQ(endpoint.bodies[0],
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
            "&device_code=DEVICE%2FCODE%2B1&client_id=gatehouse-cli");
}

TEST(ClientDevicePoll, SlowDownAddsFiveSecondsForTheRestOfTheFlow) {
  FakePollClock clock;
  ScriptedEndpoint endpoint{clock,
                            {oauth_error("authorization_pending"), oauth_error("slow_down"),
                             oauth_error("authorization_pending"), oauth_error("slow_down"),
                             oauth_error("authorization_pending"), kTokens}};
  std::vector<std::string> events;
  poll_device_token(authorization(), "c", endpoint.post(), clock, nullptr,
                    [&](std::string_view e) { events.emplace_back(e); });
  // 5, 5, then 10 (remembered), 10, then 15, 15.
  EXPECT_EQ(clock.sleeps, (std::vector<std::chrono::milliseconds>{5s, 5s, 10s, 10s, 15s, 15s}));
  EXPECT_EQ(events, (std::vector<std::string>{"slow_down", "slow_down"}));
}

TEST(ClientDevicePoll, IntervalDefaultsToFiveSecondsAndHonoursTheServers) {
  const auto parsed = parse_device_authorization(
      R"({"device_code":"d","user_code":"u","verification_uri":"https://v","expires_in":300})");
  EXPECT_EQ(parsed.interval, 5);  // RFC 8628 §3.2
  FakePollClock clock;
  ScriptedEndpoint endpoint{clock, {oauth_error("authorization_pending"), kTokens}};
  poll_device_token(authorization(600, 2), "c", endpoint.post(), clock);
  EXPECT_EQ(endpoint.asked_at, (std::vector<std::chrono::milliseconds>{2s, 4s}));
}

TEST(ClientDevicePoll, DeniedIsAClearError) {
  FakePollClock clock;
  ScriptedEndpoint endpoint{clock,
                            {oauth_error("authorization_pending"), oauth_error("access_denied")}};
  try {
    poll_device_token(authorization(), "c", endpoint.post(), clock);
    FAIL();
  } catch (const LoginError& e) {
    EXPECT_STREQ(e.what(), "the login was denied");
  }
  EXPECT_EQ(endpoint.asked_at.size(), 2u);
}

TEST(ClientDevicePoll, ExpiredTokenAnswerIsAClearError) {
  FakePollClock clock;
  ScriptedEndpoint endpoint{clock, {oauth_error("expired_token")}};
  try {
    poll_device_token(authorization(), "c", endpoint.post(), clock);
    FAIL();
  } catch (const LoginError& e) {
    EXPECT_NE(std::string(e.what()).find("expired"), std::string::npos) << e.what();
  }
}

TEST(ClientDevicePoll, StopsAtExpiresInWithoutAnotherRequest) {
  FakePollClock clock;
  // expires_in 12 s, interval 5 s: asks at 5 and 10; the next ask (15) would be too late.
  ScriptedEndpoint endpoint{
      clock, {oauth_error("authorization_pending"), oauth_error("authorization_pending")}};
  EXPECT_THROW(poll_device_token(authorization(12, 5), "c", endpoint.post(), clock), LoginError);
  EXPECT_EQ(endpoint.asked_at, (std::vector<std::chrono::milliseconds>{5s, 10s}));
  EXPECT_EQ(clock.elapsed(), 12s);  // returns when the code expires, not later
}

TEST(ClientDevicePoll, SlowDownCountsTowardsExpiry) {
  FakePollClock clock;
  ScriptedEndpoint endpoint{clock, {oauth_error("slow_down"), oauth_error("slow_down")}};
  // 5 → slow_down → 10 (at 15) → slow_down → next would be at 30 > 20.
  EXPECT_THROW(poll_device_token(authorization(20, 5), "c", endpoint.post(), clock), LoginError);
  EXPECT_EQ(endpoint.asked_at, (std::vector<std::chrono::milliseconds>{5s, 15s}));
}

TEST(ClientDevicePoll, ATimeoutDoublesTheInterval) {
  FakePollClock clock;
  int calls = 0;
  std::vector<std::chrono::milliseconds> asked;
  const TokenPost post = [&](const std::string&) {
    asked.push_back(clock.elapsed());
    if (++calls == 1) throw TimeoutError("timed out");
    return kTokens;
  };
  poll_device_token(authorization(), "c", post, clock);
  EXPECT_EQ(asked, (std::vector<std::chrono::milliseconds>{5s, 15s}));
}

TEST(ClientDevicePoll, OtherErrorsAndMalformedAnswersEndTheFlow) {
  FakePollClock clock;
  ScriptedEndpoint endpoint{clock, {oauth_error("invalid_client")}};
  try {
    poll_device_token(authorization(), "c", endpoint.post(), clock);
    FAIL();
  } catch (const LoginError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid_client"), std::string::npos);
  }
  ScriptedEndpoint html{clock, {answer(502, "<html>bad gateway</html>")}};
  EXPECT_THROW(poll_device_token(authorization(), "c", html.post(), clock), LoginError);
  ScriptedEndpoint no_token{clock, {answer(200, R"({"token_type":"Bearer"})")}};
  EXPECT_THROW(poll_device_token(authorization(), "c", no_token.post(), clock), LoginError);
  // A transport failure other than a timeout is repeated once, at once, then fails the flow.
  int attempts = 0;
  const TokenPost refused = [&](const std::string&) -> Response {
    ++attempts;
    throw TransportError("connection refused");
  };
  EXPECT_THROW(poll_device_token(authorization(), "c", refused, clock), TransportError);
  EXPECT_EQ(attempts, 2);
}

TEST(ClientDevicePoll, APollThatLostItsConnectionIsRepeatedOnce) {
  FakePollClock clock;
  std::vector<std::chrono::milliseconds> asked;
  int calls = 0;
  const TokenPost post = [&](const std::string&) {
    asked.push_back(clock.elapsed());
    if (++calls == 2) throw TransportError("Connection reset by peer");
    return calls == 1 ? oauth_error("authorization_pending") : kTokens;
  };
  std::vector<std::string> events;
  const TokenSet tokens = poll_device_token(authorization(), "c", post, clock, nullptr,
                                            [&](std::string_view e) { events.emplace_back(e); });
  EXPECT_EQ(tokens.access_token.reveal(), "AT");
  EXPECT_EQ(asked, (std::vector<std::chrono::milliseconds>{5s, 10s, 10s}));
  EXPECT_EQ(events, std::vector<std::string>{"retry"});
}

TEST(ClientDeviceAuthorization, ParsesRfc8628Responses) {
  const auto a = parse_device_authorization(R"({
      "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
      "user_code": "WDJB-MJHT",
      "verification_uri": "https://example.com/device",
      "verification_uri_complete": "https://example.com/device?user_code=WDJB-MJHT",
      "expires_in": 1800,
      "interval": 7})");
  EXPECT_EQ(a.device_code.reveal(), "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS");
  EXPECT_EQ(a.user_code, "WDJB-MJHT");
  EXPECT_EQ(a.verification_uri_complete, "https://example.com/device?user_code=WDJB-MJHT");
  EXPECT_EQ(a.expires_in, 1800);
  EXPECT_EQ(a.interval, 7);
  EXPECT_THROW(parse_device_authorization("nope"), LoginError);
  EXPECT_THROW(
      parse_device_authorization(R"({"user_code":"u","verification_uri":"v","expires_in":1})"),
      LoginError);
  EXPECT_THROW(
      parse_device_authorization(R"({"device_code":"d","user_code":"u","verification_uri":"v"})"),
      LoginError);
  EXPECT_THROW(
      parse_device_authorization(
          R"({"device_code":"d","user_code":"u","verification_uri":"v","expires_in":"x"})"),
      LoginError);
}

TEST(ClientTokenResponse, ParsesRfc6749Responses) {
  std::string id_token;
  const auto t = parse_token_response(
      R"({"access_token":"A","token_type":"bearer","expires_in":3600,"refresh_token":"R","id_token":"I"})",
      1000, &id_token);
  EXPECT_EQ(t.access_token.reveal(), "A");
  EXPECT_EQ(t.refresh_token.reveal(), "R");
  EXPECT_EQ(t.expires_at, 4600);
  EXPECT_EQ(id_token, "I");
  const auto no_expiry = parse_token_response(R"({"access_token":"A"})", 1000);
  EXPECT_EQ(no_expiry.expires_at, 0);
  EXPECT_TRUE(no_expiry.refresh_token.empty());
  EXPECT_THROW(parse_token_response(R"({"access_token":"A","token_type":"mac"})", 0), LoginError);
  EXPECT_THROW(parse_token_response(R"({"access_token":""})", 0), LoginError);
  EXPECT_THROW(parse_token_response(R"({"access_token":"A","refresh_token":5})", 0), LoginError);
  const auto error = parse_oauth_error(R"({"error":"invalid_grant","error_description":"gone"})");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error, "invalid_grant");
  EXPECT_EQ(error->description, "gone");
  EXPECT_FALSE(parse_oauth_error(R"({"access_token":"A"})").has_value());
}

TEST(ClientTokenResponse, DisplayUserComesFromTheIdTokenOrAJwtAccessToken) {
  const auto jwt = [](const std::string& claims) {
    return jose::b64url_encode(R"({"alg":"none"})") + "." + jose::b64url_encode(claims) + ".sig";
  };
  TokenSet t;
  t.access_token = Secret(jwt(R"({"sub":"demo"})"));
  EXPECT_EQ(display_user(t, ""), "demo");
  EXPECT_EQ(display_user(t, jwt(R"({"sub":"123","preferred_username":"alice"})")), "alice");
  t.access_token = Secret("opaque");
  EXPECT_EQ(display_user(t, ""), "");
  EXPECT_EQ(display_user(t, "a.%%%.c"), "");
}

TEST(ClientLogin, FormEncodingEscapesEverythingButUnreserved) {
  EXPECT_EQ(form_encode({{"a", "b c&d=e"}, {"k~-._", "ü"}}), "a=b%20c%26d%3De&k~-._=%C3%BC");
  EXPECT_EQ(base_of("http://h:1/base///"), "http://h:1/base");
}

// ---- discovery (RFC 8414 §3.3, OpenID Connect Discovery §4.3) ------------------------------
std::string metadata(const std::string& issuer, const std::string& token_endpoint,
                     const std::string& extra = {}) {
  return R"({"issuer":")" + issuer + R"(","token_endpoint":")" + token_endpoint +
         R"(","device_authorization_endpoint":")" + token_endpoint + R"(/device")" + extra + "}";
}

std::string login_error(const std::string& base, unsigned code, const std::string& body) {
  try {
    endpoints_from_metadata(base, code, body);
  } catch (const LoginError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ClientDiscovery, UsesTheEndpointsOfTheIssuerItAsked) {
  const auto e = endpoints_from_metadata(
      "https://id.example.com/realm/", 200,
      metadata("https://id.example.com/realm", "https://id.example.com/realm/token",
               R"(,"revocation_endpoint":"https://id.example.com/realm/revoke")"));
  EXPECT_TRUE(e.discovered);
  EXPECT_EQ(e.token_endpoint, "https://id.example.com/realm/token");
  EXPECT_EQ(e.device_authorization_endpoint, "https://id.example.com/realm/token/device");
  EXPECT_EQ(e.revocation_endpoint, "https://id.example.com/realm/revoke");
  // One trailing slash of the issuer is not a difference; endpoints may be on another host.
  const auto slash = endpoints_from_metadata(
      "http://127.0.0.1:9000", 200, metadata("http://127.0.0.1:9000/", "http://tokens.example/t"));
  EXPECT_EQ(slash.token_endpoint, "http://tokens.example/t");
  EXPECT_TRUE(slash.revocation_endpoint.empty());  // none advertised: none used
}

TEST(ClientDiscovery, NoDocumentFallsBackToGatehouseRoutes) {
  for (const auto& [code, body] :
       {std::pair{404u, std::string("{}")}, std::pair{200u, std::string("<html>")}}) {
    const auto e = endpoints_from_metadata("http://h:1/", code, body);
    EXPECT_FALSE(e.discovered);
    EXPECT_EQ(e.token_endpoint, "http://h:1/auth/token");
    EXPECT_EQ(e.device_authorization_endpoint, "http://h:1/auth/device");
    EXPECT_EQ(e.revocation_endpoint, "http://h:1/auth/revoke");
  }
}

TEST(ClientDiscovery, RefusesADocumentOfAnotherIssuer) {
  const std::string evil = metadata("https://evil.example", "https://evil.example/token");
  const std::string message = login_error("https://id.example.com", 200, evil);
  EXPECT_NE(message.find("\"https://evil.example\""), std::string::npos) << message;
  EXPECT_NE(message.find("\"https://id.example.com\""), std::string::npos) << message;
  EXPECT_NE(message.find("RFC 8414"), std::string::npos) << message;
  // A prefix, another path, another scheme or two trailing slashes are other issuers.
  for (const char* issuer :
       {"https://id.example.com/x", "https://id.example", "http://id.example.com",
        "https://id.example.com//", "https://ID.example.com"}) {
    EXPECT_NE(login_error("https://id.example.com", 200,
                          metadata(issuer, "https://id.example.com/token")),
              "(accepted)")
        << issuer;
  }
  // No issuer, or not a string: refused too.
  EXPECT_NE(login_error("https://id.example.com", 200,
                        R"({"token_endpoint":"https://id.example.com/token"})")
                .find("no issuer"),
            std::string::npos);
  EXPECT_NE(login_error("https://id.example.com", 200, R"({"issuer":7})"), "(accepted)");
  // Control characters of a hostile issuer do not reach the terminal.
  const std::string escape = login_error("https://id.example.com", 200,
                                         metadata("\u001b[2Jx", "https://id.example.com/t"));
  EXPECT_EQ(escape.find('\x1b'), std::string::npos) << escape;
}

TEST(ClientDiscovery, AnHttpsIssuerUsesOnlyHttpsEndpoints) {
  const std::string base = "https://id.example.com";
  const std::string message = login_error(base, 200, metadata(base, "http://id.example.com/token"));
  EXPECT_NE(message.find("token_endpoint"), std::string::npos) << message;
  EXPECT_NE(message.find("not https"), std::string::npos) << message;
  EXPECT_NE(login_error(base, 200,
                        metadata(base, "https://id.example.com/token",
                                 R"(,"revocation_endpoint":"http://id.example.com/revoke")")),
            "(accepted)");
  // Not an absolute http(s) URL at all: refused whatever the issuer's scheme.
  EXPECT_NE(login_error("http://h", 200, metadata("http://h", "/token")), "(accepted)");
  EXPECT_NE(login_error("http://h", 200, metadata("http://h", "file:///etc/passwd")), "(accepted)");
  // An http issuer (a test server on loopback) may use http endpoints.
  EXPECT_EQ(login_error("http://h", 200, metadata("http://h", "http://h/token")), "(accepted)");
}

}  // namespace
}  // namespace gatehouse::client
