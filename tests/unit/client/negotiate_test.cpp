// The pure parts of the Negotiate client: option spellings, target names, challenge tokens, the
// mutual-authentication decision table of httpx-gssapi 0.6 and sanitizing.
#include <gtest/gtest.h>

#include "client/negotiate_internal.hpp"

namespace gatehouse::client::negotiate {
namespace {

TEST(ClientNegotiate, ParsesMutualAndMechanismSpellings) {
  EXPECT_EQ(parse_mutual("required"), MutualAuthentication::required);
  EXPECT_EQ(parse_mutual("OPTIONAL"), MutualAuthentication::optional);
  EXPECT_EQ(parse_mutual("Disabled"), MutualAuthentication::disabled);
  EXPECT_EQ(parse_mutual("yes"), std::nullopt);
  EXPECT_EQ(parse_mutual(""), std::nullopt);
  EXPECT_EQ(parse_mechanism("spnego"), Mechanism::spnego);
  EXPECT_EQ(parse_mechanism("KRB5"), Mechanism::krb5);
  EXPECT_EQ(parse_mechanism("ntlm"), std::nullopt);
  for (auto mode : {MutualAuthentication::required, MutualAuthentication::optional,
                    MutualAuthentication::disabled}) {
    EXPECT_EQ(parse_mutual(to_string(mode)), mode);
  }
  for (auto mech : {Mechanism::spnego, Mechanism::krb5}) {
    EXPECT_EQ(parse_mechanism(to_string(mech)), mech);
  }
}

TEST(ClientNegotiate, DefaultsMatchHttpxGssapi) {
  const NegotiateOptions options;
  EXPECT_EQ(options.mutual_authentication, MutualAuthentication::disabled);
  EXPECT_TRUE(options.sanitize_mutual_error_response);
  EXPECT_FALSE(options.opportunistic_auth);
  EXPECT_FALSE(options.delegate);
  EXPECT_EQ(options.mechanism, Mechanism::spnego);
  EXPECT_EQ(static_cast<int>(MutualAuthentication::required), 1);
  EXPECT_EQ(static_cast<int>(MutualAuthentication::optional), 2);
  EXPECT_EQ(static_cast<int>(MutualAuthentication::disabled), 3);
}

TEST(ClientNegotiate, TargetNameRules) {
  using T = TargetName;
  EXPECT_EQ(resolve_target_name("", "example.org"),
            (T{"HTTP@example.org", NameType::hostbased_service}));
  EXPECT_EQ(resolve_target_name("HTTP", "127.0.0.1"),
            (T{"HTTP@127.0.0.1", NameType::hostbased_service}));
  EXPECT_EQ(resolve_target_name("host", "::1"), (T{"host@::1", NameType::hostbased_service}));
  // '@' → used as given (httpx-gssapi), hostbased.
  EXPECT_EQ(resolve_target_name("HTTP@internal.local", "external.example"),
            (T{"HTTP@internal.local", NameType::hostbased_service}));
  // '/' → a Kerberos principal, with or without a realm.
  EXPECT_EQ(resolve_target_name("HTTP/alias.example@GATEHOUSE.TEST", "127.0.0.1"),
            (T{"HTTP/alias.example@GATEHOUSE.TEST", NameType::krb5_principal}));
  EXPECT_EQ(resolve_target_name("HTTP/alias.example", "127.0.0.1"),
            (T{"HTTP/alias.example", NameType::krb5_principal}));
  // An explicit name needs no host; the default does.
  EXPECT_EQ(resolve_target_name("HTTP@a", "").name, "HTTP@a");
  EXPECT_THROW(resolve_target_name("HTTP", ""), RequestError);
  EXPECT_THROW(resolve_target_name("HTTP\r\n", "a"), RequestError);
  EXPECT_THROW(resolve_target_name("HTTP", "a\nb"), RequestError);
}

TEST(ClientNegotiate, FindsTheNegotiateToken) {
  auto t = find_negotiate({"Negotiate"});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->token, "");
  EXPECT_FALSE(t->malformed);

  t = find_negotiate({"negotiate  aGVsbG8= "});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->token, "hello");

  t = find_negotiate({"Basic realm=\"x\"", "Negotiate aGk="});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->token, "hi");

  t = find_negotiate({"Basic realm=\"x\", NEGOTIATE aGk=, Digest realm=\"y\""});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->token, "hi");

  t = find_negotiate({"Negotiate not*base64"});
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->malformed);

  EXPECT_FALSE(find_negotiate({}));
  EXPECT_FALSE(find_negotiate({"Basic realm=\"Negotiate\""}));
  EXPECT_FALSE(find_negotiate({"XNegotiate aGk="}));
  EXPECT_FALSE(find_negotiate({"Negotiated"}));
  EXPECT_FALSE(find_negotiate({""}));
}

TEST(ClientNegotiate, MutualDecisionTable) {
  using M = MutualAuthentication;
  using A = MutualAction;
  // DISABLED never looks.
  for (unsigned status : {200u, 302u, 404u, 500u}) {
    for (bool token : {false, true})
      EXPECT_EQ(mutual_action(M::disabled, true, status, token), A::accept);
  }
  // A token is always verified.
  for (auto mode : {M::required, M::optional}) {
    for (unsigned status : {200u, 404u})
      EXPECT_EQ(mutual_action(mode, true, status, true), A::verify);
  }
  // REQUIRED, no token: success fails, errors are sanitized (or returned when not sanitizing).
  EXPECT_EQ(mutual_action(M::required, true, 200, false), A::fail);
  EXPECT_EQ(mutual_action(M::required, false, 200, false), A::fail);
  EXPECT_EQ(mutual_action(M::required, true, 302, false), A::fail);
  EXPECT_EQ(mutual_action(M::required, true, 399, false), A::fail);
  EXPECT_EQ(mutual_action(M::required, true, 400, false), A::sanitize);
  EXPECT_EQ(mutual_action(M::required, true, 500, false), A::sanitize);
  EXPECT_EQ(mutual_action(M::required, false, 404, false), A::return_as_is);
  // OPTIONAL, no token: returned, never sanitized.
  EXPECT_EQ(mutual_action(M::optional, true, 200, false), A::return_as_is);
  EXPECT_EQ(mutual_action(M::optional, true, 500, false), A::return_as_is);
}

TEST(ClientNegotiate, SanitizeKeepsOnlyLengthDateServer) {
  Response r;
  r.status = 404;
  r.reason = "Not Found";
  r.url = "http://127.0.0.1/x";
  r.body = "secret page";
  r.headers = {{"Server", "Apache"},        {"Set-Cookie", "sid=1"},
               {"Content-Length", "11"},    {"Date", "Tue, 01 Jan 2030 00:00:00 GMT"},
               {"Location", "http://evil"}, {"date", "second"}};
  sanitize_response(r);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.reason, "Not Found");
  EXPECT_EQ(r.url, "http://127.0.0.1/x");
  EXPECT_EQ(r.body, "");
  const Headers expected{
      {"content-length", "0"}, {"date", "Tue, 01 Jan 2030 00:00:00 GMT"}, {"server", "Apache"}};
  EXPECT_EQ(r.headers, expected);

  Response bare;
  bare.status = 500;
  bare.body = "x";
  bare.headers = {{"X-Other", "1"}};
  sanitize_response(bare);
  EXPECT_EQ(bare.headers, (Headers{{"content-length", "0"}}));
  EXPECT_EQ(bare.body, "");
}

}  // namespace
}  // namespace gatehouse::client::negotiate
