// WWW-Authenticate / Proxy-Authenticate parsing (RFC 9110 §11.6.1) with the RFCs' examples.
#include "client/challenge.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::client {
namespace {

TEST(ClientChallenge, Rfc9110Section1161Example) {
  // RFC 9110 §11.6.1: two challenges in one field, the second with a token param and a
  // quoted-string containing a comma.
  const auto list = parse_challenges(
      R"(Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\"")");
  ASSERT_TRUE(list.ok()) << list.error;
  ASSERT_EQ(list.challenges.size(), 2u);
  EXPECT_TRUE(list.challenges[0].is("basic"));
  EXPECT_EQ(*list.challenges[0].param("realm"), "simple");
  EXPECT_TRUE(list.challenges[1].is("NEWAUTH"));
  EXPECT_EQ(*list.challenges[1].param("realm"), "apps");
  EXPECT_EQ(*list.challenges[1].param("type"), "1");
  EXPECT_EQ(*list.challenges[1].param("title"), "Login to \"apps\"");
}

TEST(ClientChallenge, Rfc7616Section391TwoFields) {
  const std::vector<std::string> fields{
      R"(Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")",
      R"(Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")"};
  const auto list = parse_challenges(fields);
  ASSERT_TRUE(list.ok()) << list.error;
  ASSERT_EQ(list.challenges.size(), 2u);
  EXPECT_EQ(*list.challenges[0].param("algorithm"), "SHA-256");
  EXPECT_EQ(*list.challenges[1].param("algorithm"), "MD5");
  EXPECT_EQ(*list.challenges[0].param("qop"), "auth, auth-int");  // the quoted comma stays
  EXPECT_EQ(list.challenges[0].params.size(), 5u);
}

TEST(ClientChallenge, Token68AndBareSchemes) {
  const auto list = parse_challenges("Negotiate YIIBhgYGKwYBBQUCoIIBejCC==, NTLM, Basic realm=x");
  ASSERT_TRUE(list.ok()) << list.error;
  ASSERT_EQ(list.challenges.size(), 3u);
  EXPECT_EQ(list.challenges[0].token68, "YIIBhgYGKwYBBQUCoIIBejCC==");
  EXPECT_TRUE(list.challenges[0].params.empty());
  EXPECT_TRUE(list.challenges[1].is("ntlm"));
  EXPECT_TRUE(list.challenges[1].token68.empty());
  EXPECT_EQ(*list.challenges[2].param("realm"), "x");
  const auto bare = parse_challenges("Negotiate");
  ASSERT_EQ(bare.challenges.size(), 1u);
  EXPECT_TRUE(bare.challenges[0].token68.empty());
}

TEST(ClientChallenge, WhitespaceEmptyElementsAndCase) {
  const auto list = parse_challenges(
      " ,  Bearer  REALM = \"api\" ,, error=\"invalid_token\" ,\tDigest "
      "realm=\"r\",nonce=n,qop=auth ,");
  ASSERT_TRUE(list.ok()) << list.error;
  ASSERT_EQ(list.challenges.size(), 2u);
  EXPECT_EQ(*list.challenges[0].param("realm"), "api");
  EXPECT_EQ(*list.challenges[0].param("error"), "invalid_token");
  EXPECT_EQ(*list.challenges[1].param("nonce"), "n");
  EXPECT_EQ(list.challenges[1].param("missing"), nullptr);
}

TEST(ClientChallenge, QuotedCommasAndEscapesDoNotSplit) {
  const auto list = parse_challenges(R"(Basic realm="a, Digest realm=\"b\", c", charset="UTF-8")");
  ASSERT_TRUE(list.ok()) << list.error;
  ASSERT_EQ(list.challenges.size(), 1u);
  EXPECT_EQ(*list.challenges[0].param("realm"), R"(a, Digest realm="b", c)");
  EXPECT_EQ(*list.challenges[0].param("charset"), "UTF-8");
}

TEST(ClientChallenge, GarbageKeepsEarlierChallengesAndSaysWhy) {
  for (const std::string bad :
       {R"(Basic realm="unterminated)", "Basic realm=a b", "Basic realm=\"x\", =y", "\"quoted\"",
        "Digest realm=\"r\", realm=\"again\"", "Basic realm=\"\x01\"", "Bas\x7fic", "Basic ===x"}) {
    const auto list = parse_challenges(bad);
    EXPECT_FALSE(list.ok()) << bad;
    EXPECT_EQ(list.error.find("unterminated"), std::string::npos) << "no value echoed";
  }
  const auto partial = parse_challenges(R"(Basic realm="ok", Digest realm="x, nonce=)");
  EXPECT_FALSE(partial.ok());
  ASSERT_EQ(partial.challenges.size(), 1u);
  EXPECT_TRUE(partial.challenges[0].is("Basic"));
}

TEST(ClientChallenge, ABadFieldDoesNotSpoilTheOthers) {
  const std::vector<std::string> fields{"Basic realm=\"",
                                        R"(Digest realm="r", nonce="n", qop=auth)"};
  const auto list = parse_challenges(fields);
  EXPECT_FALSE(list.ok());
  ASSERT_EQ(list.challenges.size(), 1u);
  EXPECT_TRUE(list.challenges[0].is("Digest"));
}

TEST(ClientChallenge, Bounded) {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "A" + std::to_string(i) + ", ";
  const auto list = parse_challenges(many);
  EXPECT_FALSE(list.ok());
  EXPECT_EQ(list.challenges.size(), kMaxChallenges);
  const std::string huge = "Basic realm=\"" + std::string(100000, 'x') + "\"";
  EXPECT_FALSE(parse_challenges(huge).ok());
  EXPECT_TRUE(parse_challenges("").ok());
  EXPECT_TRUE(parse_challenges("").challenges.empty());
}

}  // namespace
}  // namespace gatehouse::client
