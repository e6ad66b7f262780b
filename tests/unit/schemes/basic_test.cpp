// HTTP Basic (RFC 7617): parsing of the credentials, the Authorization header rules, the
// challenge, and verification through the password chain or an API key given as the password.
#include "schemes/basic.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "auth/api_key.hpp"
#include "auth/credential_cache.hpp"
#include "auth/password_check.hpp"
#include "auth/worker_pool.hpp"
#include "util/clock.hpp"
#include "util/encoding.hpp"

namespace gatehouse::schemes {
namespace {

using namespace std::string_literals;

std::string b64(std::string_view s) {
  return util::base64_encode(s);
}

// Expects `parsed` to hold password credentials and returns them.
const PasswordCredentials& password_of(const Parsed& parsed) {
  EXPECT_EQ(parsed.kind, Parsed::Kind::present) << parsed.description;
  const auto* p = std::get_if<PasswordCredentials>(&parsed.credentials);
  if (p == nullptr) {
    ADD_FAILURE() << "not password credentials";
    static const PasswordCredentials none{};
    return none;
  }
  return *p;
}

// ---- parse_basic_credentials ----------------------------------------------------------------

TEST(ParseBasicCredentials, DecodesTheRfc7617Example) {
  // RFC 7617 §2: "Aladdin" / "open sesame"; the user-id comes back case-mapped (RFC 8265).
  const Parsed parsed = parse_basic_credentials("QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  const auto& creds = password_of(parsed);
  EXPECT_EQ(creds.username, "aladdin");
  EXPECT_EQ(creds.password.reveal(), "open sesame");
}

TEST(ParseBasicCredentials, PasswordMayContainColons) {
  // RFC 7617 §2: the user-id ends at the first ':'; everything after it is the password.
  const Parsed parsed = parse_basic_credentials(b64("demo:pa:ss::word:"));
  const auto& creds = password_of(parsed);
  EXPECT_EQ(creds.username, "demo");
  EXPECT_EQ(creds.password.reveal(), "pa:ss::word:");
}

TEST(ParseBasicCredentials, PasswordMayBeEmptyOrUtf8) {
  EXPECT_EQ(password_of(parse_basic_credentials(b64("demo:"))).password.reveal(), "");
  const Parsed parsed = parse_basic_credentials(b64("demo:p\xc3\xa4ss w\xc3\xb6rd \xe2\x82\xac"));
  EXPECT_EQ(password_of(parsed).password.reveal(), "p\xc3\xa4ss w\xc3\xb6rd \xe2\x82\xac");
}

TEST(ParseBasicCredentials, UsernameIsCaseMapped) {
  EXPECT_EQ(password_of(parse_basic_credentials(b64("Demo:x"))).username, "demo");
  EXPECT_EQ(password_of(parse_basic_credentials(b64("DEMO:x"))).username, "demo");
  // Non-ASCII: "Ölaf" lower-cases to "ölaf".
  EXPECT_EQ(password_of(parse_basic_credentials(b64("\xc3\x96laf:x"))).username, "\xc3\xb6laf");
}

TEST(ParseBasicCredentials, EmptyUserIdIsMalformed) {
  EXPECT_EQ(parse_basic_credentials(b64(":password")).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse_basic_credentials(b64(":")).kind, Parsed::Kind::malformed);
}

TEST(ParseBasicCredentials, MissingColonIsMalformed) {
  EXPECT_EQ(parse_basic_credentials(b64("demopassword")).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse_basic_credentials(b64("x")).kind, Parsed::Kind::malformed);
}

TEST(ParseBasicCredentials, EmptyOrInvalidBase64IsMalformed) {
  for (const std::string& bad :
       {""s, "!!!!"s, "ZGVtbzpwdw"s /* padding missing */, "ZGVt bzpwdw=="s, "ZGVtbzpwdw=x"s,
        "ZGVtbzpwdw==="s, "=ZGVtbzpwdw"s, "ZGVtbzpwdw==\n"s, "\xc3\xa9\xc3\xa9"s, "ZGVt\0bzpw"s}) {
    const Parsed parsed = parse_basic_credentials(bad);
    EXPECT_EQ(parsed.kind, Parsed::Kind::malformed) << '"' << bad << '"';
    EXPECT_FALSE(parsed.description.empty());
  }
}

TEST(ParseBasicCredentials, NonUtf8BytesAreMalformed) {
  for (const std::string& bad :
       {"us\xff"
        "er:pw"s,
        "user:p\xc3"s, "user:\xc0\xafpw"s, "\xed\xa0\x80:pw"s, "user:\xf4\x90\x80\x80"s}) {
    EXPECT_EQ(parse_basic_credentials(b64(bad)).kind, Parsed::Kind::malformed) << bad;
  }
}

TEST(ParseBasicCredentials, ControlCharactersInUserOrPasswordAreMalformed) {
  for (const std::string& bad :
       {"us\0er:pw"s, "user:p\0w"s, "user\r:pw"s, "user:pw\r"s, "us\ner:pw"s, "user:p\nw"s,
        "user:pw\r\nX-Injected: 1"s, "user:\x7f"s, "user:\t"s, "\x01user:pw"s}) {
    const Parsed parsed = parse_basic_credentials(b64(bad));
    EXPECT_EQ(parsed.kind, Parsed::Kind::malformed) << testing::PrintToString(bad);
  }
}

TEST(ParseBasicCredentials, UserIdOutsideUsernameCaseMappedIsMalformed) {
  // RFC 8265 IdentifierClass: no spaces, no symbols outside ASCII.
  EXPECT_EQ(parse_basic_credentials(b64("de mo:pw")).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse_basic_credentials(b64("\xe2\x98\x83:pw")).kind, Parsed::Kind::malformed);
}

TEST(ParseBasicCredentials, DescriptionNeverEchoesThePassword) {
  for (const std::string& bad : {"user:secret\r"s, "us er:secret"s, "\xff:secret"s}) {
    const Parsed parsed = parse_basic_credentials(b64(bad));
    ASSERT_EQ(parsed.kind, Parsed::Kind::malformed);
    EXPECT_EQ(parsed.description.find("secret"), std::string::npos) << parsed.description;
  }
}

// ---- BasicScheme ----------------------------------------------------------------------------

// A password store for the verification cases: {PLAIN} hashes (auth/password_hash.hpp).
class PlainStore final : public CredentialStore {
 public:
  explicit PlainStore(std::map<std::string, std::string> users) : users_(std::move(users)) {}
  std::string_view name() const noexcept override { return "plain-test"; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::password; }
  PasswordLookup find_password(std::string_view username) const override {
    const auto it = users_.find(std::string(username));
    if (it == users_.end()) return {LookupStatus::unknown_user, {}, {}};
    return {LookupStatus::found, PasswordRecord{it->first, "{PLAIN}" + it->second, {"User"}}, {}};
  }

 private:
  std::map<std::string, std::string> users_;
};

class KeyStore final : public CredentialStore {
 public:
  std::string_view name() const noexcept override { return "keys-test"; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::api_key; }
  ApiKeyLookup find_api_key(std::string_view id) const override {
    for (const auto& k : keys) {
      if (k->id == id) return {LookupStatus::found, k};
    }
    return {};
  }
  std::vector<std::shared_ptr<const ApiKeyRecord>> keys;
};

struct Header {
  std::string name, value;
};

// A request whose header views point into strings it owns.
class TestRequest {
 public:
  explicit TestRequest(std::vector<Header> headers) : headers_(std::move(headers)) {
    request_.method = "GET";
    request_.target = request_.path = "/";
    request_.remote_address = "192.0.2.7";
    for (const auto& h : headers_) request_.headers.push_back({h.name, h.value});
  }
  TestRequest(const TestRequest&) = delete;
  TestRequest& operator=(const TestRequest&) = delete;
  const Request& get() const { return request_; }

 private:
  std::vector<Header> headers_;
  Request request_;
};

class BasicSchemeTest : public ::testing::Test {
 protected:
  BasicSchemeTest()
      : pool_(1, 8),
        cache_("cache-secret", 60'000, 100, clock_),
        passwords_({std::make_shared<PlainStore>(std::map<std::string, std::string>{
                       {"demo", "demo-password"}, {"other", "other-password"}})},
                   pool_, cache_, clock_),
        keys_(std::make_shared<KeyStore>()),
        verifier_({keys_}, clock_),
        scheme_("gatehouse", passwords_, &verifier_) {
    auto generated = auth::generate_api_key();
    auto rec = std::make_shared<ApiKeyRecord>();
    rec->id = generated.id;
    rec->username = "demo";
    rec->secret_hash = generated.secret_hash;
    rec->roles = {"User"};
    rec->last_used = std::make_shared<std::atomic<std::int64_t>>(0);
    keys_->keys.push_back(rec);
    key_ = generated.key;
  }

  Parsed parse(std::vector<Header> headers) const {
    const TestRequest request(std::move(headers));
    return scheme_.parse(request.get());
  }

  Outcome verify(const std::string& user_colon_password) {
    const TestRequest request({{"Authorization", "Basic " + b64(user_colon_password)}});
    Parsed parsed = scheme_.parse(request.get());
    EXPECT_EQ(parsed.kind, Parsed::Kind::present) << parsed.description;
    std::promise<Outcome> result;
    scheme_.verify(std::move(parsed.credentials), request.get(),
                   [&result](Outcome o) { result.set_value(std::move(o)); });
    auto future = result.get_future();
    EXPECT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    return future.get();
  }

  FakeClock clock_;
  auth::WorkerPool pool_;
  auth::CredentialCache cache_;
  auth::PasswordCheck passwords_;
  std::shared_ptr<KeyStore> keys_;
  auth::ApiKeyVerifier verifier_;
  BasicScheme scheme_;
  std::string key_;
};

TEST_F(BasicSchemeTest, NameIsLowerCaseBasic) {
  EXPECT_EQ(scheme_.name(), "basic");
}

TEST_F(BasicSchemeTest, ParsesGoodCredentials) {
  const Parsed parsed = parse({{"Authorization", "Basic " + b64("demo:demo-password")}});
  const auto& creds = password_of(parsed);
  EXPECT_EQ(creds.username, "demo");
  EXPECT_EQ(creds.password.reveal(), "demo-password");
}

TEST_F(BasicSchemeTest, SchemeNameIsCaseInsensitive) {
  for (const char* scheme : {"basic", "BASIC", "bAsIc"}) {
    const Parsed parsed = parse({{"Authorization", std::string(scheme) + " " + b64("Demo:pw")}});
    EXPECT_EQ(password_of(parsed).username, "demo") << scheme;
  }
}

TEST_F(BasicSchemeTest, HeaderNameIsCaseInsensitive) {
  const Parsed parsed = parse({{"authorization", "Basic " + b64("demo:pw")}});
  EXPECT_EQ(parsed.kind, Parsed::Kind::present);
}

TEST_F(BasicSchemeTest, ToleratesExtraSpacesAroundTheCredentials) {
  const Parsed parsed = parse({{"Authorization", "Basic   " + b64("demo:pw") + "  "}});
  EXPECT_EQ(password_of(parsed).password.reveal(), "pw");
}

TEST_F(BasicSchemeTest, NoAuthorizationHeaderIsAbsent) {
  EXPECT_EQ(parse({}).kind, Parsed::Kind::absent);
  EXPECT_EQ(parse({{"X-API-Key", "whatever"}}).kind, Parsed::Kind::absent);
}

TEST_F(BasicSchemeTest, OtherSchemeIsAbsent) {
  EXPECT_EQ(parse({{"Authorization", "Bearer x"}}).kind, Parsed::Kind::absent);
  EXPECT_EQ(parse({{"Authorization", "Apikey " + key_}}).kind, Parsed::Kind::absent);
  EXPECT_EQ(parse({{"Authorization", "Basically " + b64("demo:pw")}}).kind, Parsed::Kind::absent);
  EXPECT_EQ(parse({{"Authorization", "Digest username=\"demo\""}}).kind, Parsed::Kind::absent);
}

TEST_F(BasicSchemeTest, TwoAuthorizationHeadersAreMalformed) {
  const Parsed parsed = parse({{"Authorization", "Basic " + b64("demo:demo-password")},
                               {"Authorization", "Basic " + b64("other:other-password")}});
  EXPECT_EQ(parsed.kind, Parsed::Kind::malformed);
}

TEST_F(BasicSchemeTest, MalformedCredentialsAreMalformed) {
  EXPECT_EQ(parse({{"Authorization", "Basic"}}).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse({{"Authorization", "Basic "}}).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse({{"Authorization", "Basic !!!!"}}).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse({{"Authorization", "Basic " + b64("demo:pw") + " extra"}}).kind,
            Parsed::Kind::malformed);
  EXPECT_EQ(parse({{"Authorization", "Basic " + b64("nocolon")}}).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse({{"Authorization", "Basic " + b64(":pw")}}).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse({{"Authorization", "Basic " + b64("demo:p\nw")}}).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse({{"Authorization", "Basic " + b64("demo:\xff")}}).kind, Parsed::Kind::malformed);
  EXPECT_EQ(parse({{"Authorization", "Basic realm=\"x\""}}).kind, Parsed::Kind::malformed);
}

TEST(BasicSchemeChallenge, IsExactlyRealmAndCharset) {
  // The chain and the key verifier are not consulted for the challenge.
  FakeClock clock;
  auth::WorkerPool pool(1, 1);
  auth::CredentialCache cache("s", 0, 0, clock);
  auth::PasswordCheck passwords({}, pool, cache, clock);
  EXPECT_EQ(BasicScheme("gatehouse", passwords, nullptr).challenge(),
            "Basic realm=\"gatehouse\", charset=\"UTF-8\"");
  // RFC 9110 §5.6.4: '"' and '\' in a quoted-string are escaped with '\'.
  EXPECT_EQ(BasicScheme("the \"inner\" realm", passwords, nullptr).challenge(),
            "Basic realm=\"the \\\"inner\\\" realm\", charset=\"UTF-8\"");
  EXPECT_EQ(BasicScheme("back\\slash", passwords, nullptr).challenge(),
            "Basic realm=\"back\\\\slash\", charset=\"UTF-8\"");
}

TEST_F(BasicSchemeTest, RightPasswordIsGranted) {
  const Outcome o = verify("Demo:demo-password");
  ASSERT_EQ(o.kind, OutcomeKind::granted) << o.reason;
  ASSERT_NE(o.identity, nullptr);
  EXPECT_EQ(o.identity->subject, "demo");
  EXPECT_EQ(o.identity->scheme, "basic");
  EXPECT_EQ(o.scheme, "basic");
}

TEST_F(BasicSchemeTest, WrongPasswordIsDenied) {
  EXPECT_EQ(verify("demo:other-password").kind, OutcomeKind::denied);
}

TEST_F(BasicSchemeTest, ApiKeyAsThePasswordOfItsOwnerIsGranted) {
  const Outcome o = verify("demo:" + key_);
  ASSERT_EQ(o.kind, OutcomeKind::granted) << o.reason;
  EXPECT_EQ(o.identity->subject, "demo");
  EXPECT_EQ(o.identity->scheme, "basic");
  EXPECT_EQ(o.identity->token_id, keys_->keys.front()->id);
}

TEST_F(BasicSchemeTest, ApiKeyAsThePasswordOfAnotherUserIsDenied) {
  const Outcome o = verify("other:" + key_);
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(o.identity, nullptr);
}

TEST_F(BasicSchemeTest, VerifyRefusesCredentialsOfAnotherKind) {
  const TestRequest request({});
  std::promise<Outcome> result;
  scheme_.verify(ApiKeyCredentials{Secret(key_), ApiKeySource::x_api_key_header}, request.get(),
                 [&result](Outcome o) { result.set_value(std::move(o)); });
  auto future = result.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_NE(future.get().kind, OutcomeKind::granted);
}

}  // namespace
}  // namespace gatehouse::schemes
