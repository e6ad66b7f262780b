// RFC 7616 §3.4 Digest credentials (auth-params per RFC 9110 §11.2 and §5.6.4 quoted-string,
// username* per RFC 8187) and the §3.3 challenge.
#include "schemes/digest_params.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace gatehouse::schemes {
namespace {

using namespace std::string_literals;

// RFC 7616 §3.9.1, the SHA-256 Authorization header (after "Digest ").
const std::string kRfcSha256 =
    "username=\"Mufasa\",\r\n"
    "     realm=\"http-auth@example.org\",\r\n"
    "     uri=\"/dir/index.html\",\r\n"
    "     algorithm=SHA-256,\r\n"
    "     nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
    "     nc=00000001,\r\n"
    "     cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",\r\n"
    "     qop=auth,\r\n"
    "     response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",\r\n"
    "     opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

const std::string kMd5Response = "8ca523f5e9506fed4657c9700eebdbec";

// A minimal valid MD5 parameter list; `extra` is appended.
std::string minimal(const std::string& extra = "") {
  return "username=\"Mufasa\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"" + kMd5Response +
         "\", qop=auth, nc=00000001, cnonce=\"c\"" + extra;
}

std::string error_of(const std::string& input) {
  const auto result = parse_digest_params(input);
  EXPECT_FALSE(result.ok()) << input;
  return result.error;
}

TEST(DigestParams, ParsesTheRfc7616Sha256Example) {
  // Header folding is gone from HTTP/1.1; a field value reaches us unfolded.
  std::string unfolded;
  for (char c : kRfcSha256) {
    if (c != '\r' && c != '\n') unfolded.push_back(c);
  }
  const auto result = parse_digest_params(unfolded);
  ASSERT_TRUE(result.ok()) << result.error;
  const DigestParams& p = *result.params;
  EXPECT_EQ(p.username, "Mufasa");
  EXPECT_FALSE(p.username_star);
  EXPECT_EQ(p.user(), "Mufasa");
  EXPECT_EQ(p.realm, "http-auth@example.org");
  EXPECT_EQ(p.uri, "/dir/index.html");
  EXPECT_EQ(p.algorithm, DigestAlgorithm::sha256);
  EXPECT_EQ(p.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
  EXPECT_EQ(p.nc, "00000001");
  EXPECT_EQ(p.nc_value, 1u);
  EXPECT_EQ(p.cnonce, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
  EXPECT_EQ(p.qop, "auth");
  EXPECT_EQ(p.qop_kind, DigestQop::auth);
  EXPECT_EQ(p.response, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  EXPECT_EQ(p.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
  EXPECT_FALSE(p.userhash);
}

TEST(DigestParams, ParsesTheRfc7616Sha512_256UserhashExample) {
  const auto result = parse_digest_params(
      "username=\"793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b\", "
      "realm=\"api@example.org\", uri=\"/doe.json\", algorithm=SHA-512-256, "
      "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", nc=00000001, "
      "cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", qop=auth, "
      "response=\"3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5\", "
      "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", userhash=true");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_TRUE(result.params->userhash);
  EXPECT_EQ(result.params->algorithm, DigestAlgorithm::sha512_256);
  EXPECT_EQ(result.params->user(),
            "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
}

TEST(DigestParams, DecodesUsernameStar) {
  // RFC 7616 §3.9.2: username*=UTF-8''J%C3%A4s%C3%B8n%20Doe
  const auto result = parse_digest_params(
      "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"api@example.org\", nonce=\"n\", uri=\"/\", "
      "response=\"" +
      kMd5Response + "\"");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_FALSE(result.params->username);
  EXPECT_EQ(result.params->username_star, "J\xC3\xA4s\xC3\xB8n Doe");
  EXPECT_EQ(result.params->user(), "J\xC3\xA4s\xC3\xB8n Doe");
  // Charset case-insensitive, a language tag allowed.
  EXPECT_TRUE(parse_digest_params("username*=utf-8'en'abc, realm=r, nonce=n, uri=\"/\", response=" +
                                  kMd5Response)
                  .ok());
}

TEST(DigestParams, RefusesBadUsernameStar) {
  const std::string rest = ", realm=r, nonce=n, uri=\"/\", response=" + kMd5Response;
  for (const std::string& bad : std::vector<std::string>{
           "username*=ISO-8859-1''J%E4son",  // only UTF-8
           "username*=UTF-8'J%C3%A4son",     // one quote
           "username*=J%C3%A4son",           // no charset
           "username*=UTF-8''J%C3son",       // invalid UTF-8
           "username*=UTF-8''J%C",           // truncated escape
           "username*=UTF-8''J%",            // truncated escape
           "username*=UTF-8''J%zz",          // not hex
           "username*=UTF-8''",              // empty
           "username*=UTF-8''a%00b",         // control character
           "username*=UTF-8''a%0Ab",         // control character
           "username*=\"UTF-8''abc\"",       // quoted
           "username*=UTF-8'e n'abc",        // space in language (not a token anyway)
           "username*=UTF-8'en_US'abc",      // bad language character
       }) {
    EXPECT_FALSE(parse_digest_params(bad + rest).ok()) << bad;
  }
}

TEST(DigestParams, RefusesBothUsernameAndUsernameStar) {
  EXPECT_EQ(error_of(minimal(", username*=UTF-8''abc")), "both username and username*");
}

TEST(DigestParams, NamesAreCaseInsensitive) {
  const auto result = parse_digest_params(
      "UserName=\"Mufasa\", REALM=\"r\", Nonce=\"n\", URI=\"/\", Response=\"" + kMd5Response +
      "\", QOP=auth, NC=0000000a, CNonce=\"c\", Algorithm=md5-SESS, UserHash=FALSE");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.params->algorithm, DigestAlgorithm::md5_sess);
  EXPECT_EQ(result.params->nc_value, 10u);
  EXPECT_FALSE(result.params->userhash);
  // Duplicates are found whatever the case.
  EXPECT_EQ(error_of(minimal(", REALM=\"x\"")), "duplicate parameter realm");
}

TEST(DigestParams, UnescapesQuotedStrings) {
  const auto result = parse_digest_params(
      "username=\"Mu\\\"fa\\\\sa\\x\", realm=\"a, b=c\", nonce=\"n\", uri=\"/a?b=\\\"c\\\"\", "
      "response=\"" +
      kMd5Response + "\", opaque=\"\"");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.params->username, "Mu\"fa\\sax");
  EXPECT_EQ(result.params->realm, "a, b=c");
  EXPECT_EQ(result.params->uri, "/a?b=\"c\"");
  EXPECT_EQ(result.params->opaque, "");
}

TEST(DigestParams, AcceptsTokensWhereQuotedStringsAreUsualAndTheReverse) {
  const auto result = parse_digest_params(
      "username=Mufasa, realm=r, nonce=n, uri=\"/dir\", response=" + kMd5Response +
      ", qop=\"auth-int\", nc=\"000000FF\", cnonce=c, algorithm=\"MD5\", userhash=\"true\"");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.params->qop_kind, DigestQop::auth_int);
  EXPECT_EQ(result.params->nc_value, 255u);
  EXPECT_EQ(result.params->nc, "000000FF");  // as sent: it enters the hash
  EXPECT_TRUE(result.params->userhash);
}

TEST(DigestParams, ToleratesWhitespaceAndEmptyListElements) {
  const auto result = parse_digest_params(
      " ,, username = \"Mufasa\" ,\trealm=\"r\",,, nonce=\"n\" , uri=\"/\", response=\"" +
      kMd5Response + "\" , ,");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.params->username, "Mufasa");
  EXPECT_FALSE(result.params->qop_kind);
  EXPECT_TRUE(result.params->qop.empty());
}

TEST(DigestParams, LowerCasesTheResponse) {
  const auto result = parse_digest_params(
      "username=u, realm=r, nonce=n, uri=\"/\", response=8CA523F5E9506FED4657C9700EEBDBEC");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.params->response, kMd5Response);
}

TEST(DigestParams, IgnoresUnknownParameters) {
  const auto result = parse_digest_params(minimal(", charset=UTF-8, x-future=\"1\""));
  EXPECT_TRUE(result.ok()) << result.error;
}

TEST(DigestParams, RefusesMissingRequiredParameters) {
  const std::string r = "response=\"" + kMd5Response + "\"";
  EXPECT_EQ(error_of("realm=r, nonce=n, uri=\"/\", " + r), "missing username");
  EXPECT_EQ(error_of("username=u, nonce=n, uri=\"/\", " + r), "missing realm");
  EXPECT_EQ(error_of("username=u, realm=r, uri=\"/\", " + r), "missing nonce");
  EXPECT_EQ(error_of("username=u, realm=r, nonce=n, " + r), "missing uri");
  EXPECT_EQ(error_of("username=u, realm=r, nonce=n, uri=\"/\""), "missing response");
  EXPECT_EQ(error_of("username=u, realm=r, nonce=n, uri=\"/\", qop=auth, nc=00000001, " + r),
            "missing cnonce (required with qop)");
  EXPECT_EQ(error_of("username=u, realm=r, nonce=n, uri=\"/\", qop=auth, cnonce=c, " + r),
            "missing nc (required with qop)");
  EXPECT_FALSE(parse_digest_params("").ok());
}

TEST(DigestParams, RefusesEmptyIdentifyingValues) {
  EXPECT_FALSE(
      parse_digest_params("username=\"\", realm=r, nonce=n, uri=\"/\", response=" + kMd5Response)
          .ok());
  EXPECT_FALSE(
      parse_digest_params("username=u, realm=r, nonce=\"\", uri=\"/\", response=" + kMd5Response)
          .ok());
  EXPECT_FALSE(
      parse_digest_params("username=u, realm=r, nonce=n, uri=\"\", response=" + kMd5Response).ok());
}

TEST(DigestParams, RefusesDuplicates) {
  EXPECT_EQ(error_of(minimal(", nonce=\"n2\"")), "duplicate parameter nonce");
  EXPECT_EQ(error_of(minimal(", x=1, x=2")), "duplicate parameter x");
  EXPECT_EQ(
      error_of("username=a, username=a, realm=r, nonce=n, uri=\"/\", response=" + kMd5Response),
      "duplicate parameter username");
}

TEST(DigestParams, RefusesUnknownAlgorithms) {
  for (const char* alg : {"SHA-512", "SHA-1", "sha256", "token", "\"\"", "\"MD5 \""}) {
    EXPECT_EQ(error_of(minimal(", algorithm="s + alg)), "unsupported algorithm") << alg;
  }
}

TEST(DigestParams, RefusesResponsesOfTheWrongShape) {
  const std::string prefix = "username=u, realm=r, nonce=n, uri=\"/\", response=";
  const std::string sha = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";
  EXPECT_TRUE(parse_digest_params(prefix + sha + ", algorithm=SHA-256").ok());
  EXPECT_FALSE(parse_digest_params(prefix + kMd5Response + ", algorithm=SHA-256").ok());
  EXPECT_FALSE(parse_digest_params(prefix + sha).ok());  // MD5 by default
  EXPECT_FALSE(parse_digest_params(prefix + kMd5Response.substr(1)).ok());
  EXPECT_FALSE(parse_digest_params(prefix + "g" + kMd5Response.substr(1)).ok());
  EXPECT_FALSE(parse_digest_params(prefix + "\"\"").ok());
}

TEST(DigestParams, ErrorsNeverEchoValues) {
  const std::string secretish = "0123456789abcdef0123456789abcdeX";
  const auto result = parse_digest_params(
      "username=victim, realm=r, nonce=n, uri=\"/\", response=\"" + secretish + "\"");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error.find(secretish), std::string::npos);
  EXPECT_EQ(result.error.find("victim"), std::string::npos);
  EXPECT_EQ(error_of("username=u, realm=r, nonce=n, uri=\"/\", response=\"" + kMd5Response +
                     "\", algorithm=evil"),
            "unsupported algorithm");
}

TEST(DigestParams, RefusesBadNc) {
  for (const char* nc : {"1", "0000001", "000000001", "0000000g", "\"\"", "-0000001", "0x000001"}) {
    EXPECT_EQ(error_of("username=u, realm=r, nonce=n, uri=\"/\", qop=auth, cnonce=c, response=" +
                       kMd5Response + ", nc=" + nc),
              "nc must be 8 hex digits")
        << nc;
  }
  const auto max =
      parse_digest_params(minimal().replace(minimal().find("00000001"), 8, "ffffffff"));
  ASSERT_TRUE(max.ok()) << max.error;
  EXPECT_EQ(max.params->nc_value, 0xffffffffu);
}

TEST(DigestParams, RefusesOtherQopsAndUserhashValues) {
  const std::string base =
      "username=u, realm=r, nonce=n, uri=\"/\", cnonce=c, nc=00000001, "
      "response=" +
      kMd5Response;
  for (const char* qop : {"auth-conf", "\"auth, auth-int\"", "\"\"", "none"}) {
    EXPECT_FALSE(parse_digest_params(base + ", qop=" + qop).ok()) << qop;
  }
  for (const char* value : {"yes", "1", "\"\"", "truee"}) {
    EXPECT_EQ(error_of(base + ", qop=auth, userhash=" + value), "userhash must be true or false");
  }
}

TEST(DigestParams, RefusesSyntaxErrors) {
  for (const std::string& bad : std::vector<std::string>{
           "username=\"unterminated, realm=r",
           "username=\"ends in backslash\\",
           "username=\"bad escape \\\x01\", realm=r",
           "username=\"control \x01 char\"",
           "username=\"nul \0 char\""s,
           "username=\"del \x7f char\"",
           "username",
           "username=",
           "username=, realm=r",
           "=value",
           "username==u",
           "user name=u",
           "username=a b",
           "username=\"a\"b",
           "username=\"a\" \"b\"",
           "username=a;realm=r",
           "username=a realm=r",
           "\"username\"=a",
           "username=a\x80",
           "Digest username=a",
           "username=\x01",
       }) {
    const auto result = parse_digest_params(bad);
    EXPECT_FALSE(result.ok()) << bad;
    EXPECT_FALSE(result.error.empty()) << bad;
  }
  // '/' is not a token character: a uri has to be quoted.
  EXPECT_EQ(error_of("username=u, realm=r, nonce=n, uri=/dir, response=" + kMd5Response),
            "expected a value for parameter uri");
  EXPECT_EQ(error_of("username=\"open"), "unterminated quoted string in parameter username");
  EXPECT_EQ(error_of("username=\"a\\\x01\""), "bad escape in parameter username");
}

TEST(DigestParams, AcceptsObsTextAndTabsInQuotedStrings) {
  const auto result = parse_digest_params(
      "username=\"J\xC3\xA4s\xC3\xB8n\tDoe\", realm=r, nonce=n, uri=\"/\", response=" +
      kMd5Response);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.params->username, "J\xC3\xA4s\xC3\xB8n\tDoe");
}

TEST(DigestParams, EnforcesTheValueLimit) {
  const std::string at_limit(kMaxDigestParamValue, 'a');
  const std::string over_limit(kMaxDigestParamValue + 1, 'a');
  EXPECT_TRUE(parse_digest_params(minimal(", opaque=\"" + at_limit + "\"")).ok());
  EXPECT_TRUE(parse_digest_params(minimal(", opaque=" + at_limit)).ok());
  EXPECT_EQ(error_of(minimal(", opaque=\"" + over_limit + "\"")),
            "value of parameter opaque too long");
  EXPECT_EQ(error_of(minimal(", opaque=" + over_limit)), "value of parameter opaque too long");
  // Escapes count after unquoting: 4096 escaped characters are 8192 bytes on the wire.
  std::string escaped;
  for (std::size_t i = 0; i < kMaxDigestParamValue; ++i) escaped += "\\a";
  EXPECT_TRUE(parse_digest_params(minimal(", opaque=\"" + escaped + "\"")).ok());
  EXPECT_FALSE(parse_digest_params(minimal(", opaque=\"" + escaped + "\\a\"")).ok());
  EXPECT_FALSE(parse_digest_params(minimal(", " + over_limit + "=1")).ok());
}

TEST(DigestParams, EnforcesTheParameterCountLimit) {
  // minimal() has 8 parameters.
  std::string extra;
  for (std::size_t i = 0; i < kMaxDigestParams - 8; ++i) extra += ", x" + std::to_string(i) + "=1";
  EXPECT_TRUE(parse_digest_params(minimal(extra)).ok());
  EXPECT_EQ(error_of(minimal(extra + ", one_more=1")), "too many parameters");
}

TEST(DigestParams, SurvivesGarbage) {
  for (const std::string& garbage :
       std::vector<std::string>{"\xff\xfe\xfd"s, ",,,,"s, "\"\"\"\""s, "\\\\\\"s, "a=\"\\"s,
                                "a=b,c=\"d"s, "\0\0\0"s, "=\"\"=\"\""s, "a=\"\x80\xff\""s}) {
    const auto result = parse_digest_params(garbage);
    EXPECT_FALSE(result.ok());
  }
}

TEST(AuthParams, ReturnsTheListInOrderWithQuotingFlags) {
  const auto list = parse_auth_params("A=1, b=\"two, 2\", C=\"\"");
  ASSERT_TRUE(list.ok()) << list.error;
  ASSERT_EQ(list.params.size(), 3u);
  EXPECT_EQ(list.params[0].name, "a");
  EXPECT_EQ(list.params[0].value, "1");
  EXPECT_FALSE(list.params[0].quoted);
  EXPECT_EQ(list.params[1].name, "b");
  EXPECT_EQ(list.params[1].value, "two, 2");
  EXPECT_TRUE(list.params[1].quoted);
  EXPECT_EQ(list.params[2].name, "c");
  EXPECT_EQ(list.params[2].value, "");
  EXPECT_TRUE(parse_auth_params("").ok());
  EXPECT_TRUE(parse_auth_params(" , ").params.empty());
}

TEST(DigestChallenge, WritesTheRfc7616Form) {
  const std::array qops{DigestQop::auth, DigestQop::auth_int};
  EXPECT_EQ(digest_challenge("http-auth@example.org", DigestAlgorithm::sha256, qops,
                             "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                             "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", false, true),
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "
            "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
            "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", charset=UTF-8, "
            "userhash=true");
  const std::array auth_only{DigestQop::auth};
  EXPECT_EQ(digest_challenge("r", DigestAlgorithm::md5_sess, auth_only, "n", "", true, false),
            "Digest realm=\"r\", qop=\"auth\", algorithm=MD5-sess, nonce=\"n\", charset=UTF-8, "
            "stale=true");
}

TEST(DigestChallenge, QuotesAndReparses) {
  const std::array qops{DigestQop::auth_int};
  const std::string challenge = digest_challenge(
      "we say \"hi\" \\ bye", DigestAlgorithm::sha512_256, qops, "n", "o\"", true, true);
  ASSERT_EQ(challenge.rfind("Digest ", 0), 0u);
  const auto list = parse_auth_params(std::string_view(challenge).substr(7));
  ASSERT_TRUE(list.ok()) << list.error;
  ASSERT_GE(list.params.size(), 1u);
  EXPECT_EQ(list.params[0].name, "realm");
  EXPECT_EQ(list.params[0].value, "we say \"hi\" \\ bye");
  std::vector<std::string> names;
  for (const auto& param : list.params) names.push_back(param.name);
  EXPECT_EQ(names, (std::vector<std::string>{"realm", "qop", "algorithm", "nonce", "opaque",
                                             "charset", "userhash", "stale"}));
}

}  // namespace
}  // namespace gatehouse::schemes
