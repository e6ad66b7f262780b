// The API-key scheme's parse precedence (SPEC §5): Authorization: Apikey KEY, then X-API-Key,
// then ?api_key=; a present Authorization header of any scheme is final.
#include "schemes/apikey.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "auth/api_key.hpp"
#include "util/clock.hpp"

namespace gatehouse::schemes {
namespace {

const std::string kKeyA = "gh_0123456789abcdef_" + std::string(64, 'a');
const std::string kKeyB = "gh_fedcba9876543210_" + std::string(64, 'b');

struct Header {
  std::string name, value;
};

// A request whose views point into strings it owns.
class TestRequest {
 public:
  TestRequest(std::vector<Header> headers, std::string query = {})
      : headers_(std::move(headers)), query_(std::move(query)) {
    target_ = query_.empty() ? "/auth/whoami" : "/auth/whoami?" + query_;
    request_.method = "GET";
    request_.target = target_;
    request_.path = std::string_view(target_).substr(0, 12);
    request_.query = query_;
    for (const auto& h : headers_) request_.headers.push_back({h.name, h.value});
  }
  TestRequest(const TestRequest&) = delete;
  TestRequest& operator=(const TestRequest&) = delete;
  const Request& get() const { return request_; }

 private:
  std::vector<Header> headers_;
  std::string query_, target_;
  Request request_;
};

class ApiKeySchemeTest : public ::testing::Test {
 protected:
  Parsed parse(const ApiKeyScheme& scheme, std::vector<Header> headers, std::string query = {}) {
    const TestRequest request(std::move(headers), std::move(query));
    return scheme.parse(request.get());
  }
  Parsed parse(std::vector<Header> headers, std::string query = {}) {
    return parse(both_, std::move(headers), std::move(query));
  }

  static void expect_key(const Parsed& parsed, const std::string& key, ApiKeySource source) {
    ASSERT_EQ(parsed.kind, Parsed::Kind::present) << parsed.description;
    const auto* creds = std::get_if<ApiKeyCredentials>(&parsed.credentials);
    ASSERT_NE(creds, nullptr);
    EXPECT_EQ(creds->key.reveal(), key);
    EXPECT_EQ(creds->source, source);
  }

  FakeClock clock_;
  auth::ApiKeyVerifier verifier_{{}, clock_};
  ApiKeyScheme both_{"gatehouse", verifier_, true, true};
  ApiKeyScheme header_only_{"gatehouse", verifier_, true, false};
  ApiKeyScheme query_only_{"gatehouse", verifier_, false, true};
};

TEST_F(ApiKeySchemeTest, NameAndChallenge) {
  EXPECT_EQ(both_.name(), "apikey");
  EXPECT_EQ(both_.challenge(), "Apikey realm=\"gatehouse\"");
  EXPECT_EQ(ApiKeyScheme("a \"b\"", verifier_, true, true).challenge(),
            "Apikey realm=\"a \\\"b\\\"\"");
}

TEST_F(ApiKeySchemeTest, AuthorizationApikeyHeader) {
  expect_key(parse({{"Authorization", "Apikey " + kKeyA}}), kKeyA,
             ApiKeySource::authorization_header);
  expect_key(parse({{"authorization", "aPiKeY " + kKeyA}}), kKeyA,
             ApiKeySource::authorization_header);
}

TEST_F(ApiKeySchemeTest, XApiKeyHeader) {
  expect_key(parse({{"X-API-Key", kKeyA}}), kKeyA, ApiKeySource::x_api_key_header);
  expect_key(parse({{"x-api-key", " " + kKeyA + " "}}), kKeyA, ApiKeySource::x_api_key_header);
}

TEST_F(ApiKeySchemeTest, QueryParameterIsPercentDecoded) {
  expect_key(parse({}, "api_key=" + kKeyA), kKeyA, ApiKeySource::query);
  // "gh%5F" is "gh_": the decoded value is what counts.
  expect_key(parse({}, "a=1&api_key=gh%5F0123456789abcdef%5f" + std::string(64, 'a') + "&b=2"),
             kKeyA, ApiKeySource::query);
}

TEST_F(ApiKeySchemeTest, NothingIsAbsent) {
  EXPECT_EQ(parse({}).kind, Parsed::Kind::absent);
  EXPECT_EQ(parse({}, "other=1").kind, Parsed::Kind::absent);
  EXPECT_EQ(parse({}, "xapi_key=" + kKeyA).kind, Parsed::Kind::absent);
}

TEST_F(ApiKeySchemeTest, AuthorizationHeaderWinsOverXApiKeyAndQuery) {
  expect_key(
      parse({{"X-API-Key", kKeyB}, {"Authorization", "Apikey " + kKeyA}}, "api_key=" + kKeyB),
      kKeyA, ApiKeySource::authorization_header);
}

TEST_F(ApiKeySchemeTest, XApiKeyWinsOverQuery) {
  expect_key(parse({{"X-API-Key", kKeyA}}, "api_key=" + kKeyB), kKeyA,
             ApiKeySource::x_api_key_header);
}

TEST_F(ApiKeySchemeTest, AuthorizationOfAnotherSchemeIsFinal) {
  // SPEC §5: a wrong header is final; neither the query nor X-API-Key is consulted.
  EXPECT_EQ(parse({{"Authorization", "Bearer x"}}, "api_key=" + kKeyA).kind, Parsed::Kind::absent);
  EXPECT_EQ(parse({{"Authorization", "Basic ZGVtbzpkZW1v"}}, "api_key=" + kKeyA).kind,
            Parsed::Kind::absent);
  EXPECT_EQ(parse({{"Authorization", "Bearer x"}, {"X-API-Key", kKeyA}}).kind,
            Parsed::Kind::absent);
}

TEST_F(ApiKeySchemeTest, HeaderSwitchOff) {
  EXPECT_EQ(parse(query_only_, {{"Authorization", "Apikey " + kKeyA}}).kind, Parsed::Kind::absent);
  EXPECT_EQ(parse(query_only_, {{"X-API-Key", kKeyA}}).kind, Parsed::Kind::absent);
  expect_key(parse(query_only_, {}, "api_key=" + kKeyA), kKeyA, ApiKeySource::query);
}

TEST_F(ApiKeySchemeTest, QuerySwitchOff) {
  EXPECT_EQ(parse(header_only_, {}, "api_key=" + kKeyA).kind, Parsed::Kind::absent);
  expect_key(parse(header_only_, {{"X-API-Key", kKeyA}}), kKeyA, ApiKeySource::x_api_key_header);
  expect_key(parse(header_only_, {{"Authorization", "Apikey " + kKeyA}}), kKeyA,
             ApiKeySource::authorization_header);
}

TEST_F(ApiKeySchemeTest, MalformedKeyIsMalformed) {
  const std::vector<std::string> bad = {
      "",
      "not-a-key",
      "gh_0123456789abcdef_" + std::string(63, 'a'),
      "gh_0123456789ABCDEF_" + std::string(64, 'a'),
      "GH_0123456789abcdef_" + std::string(64, 'a'),
      "gh_0123456789abcdef-" + std::string(64, 'a'),
      kKeyA + "0",
  };
  for (const auto& key : bad) {
    EXPECT_EQ(parse({{"Authorization", "Apikey " + key}}).kind, Parsed::Kind::malformed) << key;
    EXPECT_EQ(parse({{"X-API-Key", key}}).kind, Parsed::Kind::malformed) << key;
    EXPECT_EQ(parse({}, "api_key=" + key).kind, Parsed::Kind::malformed) << key;
  }
}

TEST_F(ApiKeySchemeTest, MalformedDescriptionDoesNotEchoTheKey) {
  const std::string almost = "gh_0123456789abcdef_" + std::string(63, 'c');
  const Parsed parsed = parse({{"X-API-Key", almost}});
  ASSERT_EQ(parsed.kind, Parsed::Kind::malformed);
  EXPECT_EQ(parsed.description.find(std::string(20, 'c')), std::string::npos);
}

TEST_F(ApiKeySchemeTest, UndecodableQueryValueIsNotAKey) {
  EXPECT_NE(parse({}, "api_key=gh%5").kind, Parsed::Kind::present);
}

TEST_F(ApiKeySchemeTest, TwoXApiKeyHeadersAreMalformed) {
  EXPECT_EQ(parse({{"X-API-Key", kKeyA}, {"X-API-Key", kKeyB}}).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse({{"X-API-Key", kKeyA}, {"x-api-key", kKeyA}}).kind, Parsed::Kind::malformed);
}

TEST_F(ApiKeySchemeTest, TwoAuthorizationHeadersAreMalformed) {
  EXPECT_EQ(
      parse({{"Authorization", "Apikey " + kKeyA}, {"Authorization", "Apikey " + kKeyB}}).kind,
      Parsed::Kind::malformed);
}

TEST_F(ApiKeySchemeTest, VerifyRefusesCredentialsOfAnotherKind) {
  const TestRequest request({});
  bool called = false;
  both_.verify(PasswordCredentials{"demo", Secret("pw")}, request.get(), [&](Outcome o) {
    called = true;
    EXPECT_NE(o.kind, OutcomeKind::granted);
  });
  EXPECT_TRUE(called);
}

TEST_F(ApiKeySchemeTest, VerifyOfAnUnknownKeyIsDeniedWithSchemeApikey) {
  const TestRequest request({});
  bool called = false;
  both_.verify(ApiKeyCredentials{Secret(kKeyA), ApiKeySource::query}, request.get(),
               [&](Outcome o) {
                 called = true;
                 EXPECT_EQ(o.kind, OutcomeKind::denied);
                 EXPECT_EQ(o.scheme, "apikey");
               });
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace gatehouse::schemes
