// JWT validation (RFC 7519 §7.2) with the RFC 8725 rules: key lookup by kid, algorithm pinned by
// the key, strict claims, time claims with leeway, issuer, audience and explicit typing.
#include "jose/jwt.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jose/base64url.hpp"
#include "jose_test_data.hpp"

namespace gatehouse::jose {
namespace {

using test::jose_data;

constexpr std::int64_t kNow = 1'700'000'000;

const Key& rsa_key() {
  static const Key key = Key::generate(Alg::RS256, "rsa-1");
  return key;
}

// A key ring keyed by kid that records every kid it was asked for.
class Keys {
 public:
  explicit Keys(std::vector<Key> keys) {
    for (auto& key : keys) keys_.emplace(key.kid(), std::move(key));
  }
  KeyLookup lookup() {
    return [this](std::string_view kid) -> const Key* {
      asked.emplace_back(kid);
      const auto it = keys_.find(std::string(kid));
      return it == keys_.end() ? nullptr : &it->second;
    };
  }
  std::vector<std::string> asked;

 private:
  std::map<std::string, Key> keys_;
};

JwtPolicy default_policy() {
  JwtPolicy policy;
  policy.issuer = "https://auth.example";
  policy.audience = "api";
  policy.typ = "at+jwt";
  return policy;
}

boost::json::object valid_claims() {
  return boost::json::object{{"iss", "https://auth.example"},
                             {"aud", "api"},
                             {"sub", "alice"},
                             {"iat", kNow - 10},
                             {"nbf", kNow - 10},
                             {"exp", kNow + 300}};
}

class JwtTest : public ::testing::Test {
 protected:
  JwtTest()
      : ed_(Key::generate(Alg::EdDSA, "ed-1")),
        keys_({ed_, Key::from_secret(std::string(32, 'h'), "hs-1")}) {}

  std::variant<VerifiedJwt, JwtError> verify(const std::string& token,
                                             const JwtPolicy& policy = default_policy(),
                                             std::int64_t now = kNow) {
    return verify_jwt(token, keys_.lookup(), policy, now);
  }
  VerifiedJwt accepted(const std::string& token, const JwtPolicy& policy = default_policy(),
                       std::int64_t now = kNow) {
    auto result = verify(token, policy, now);
    if (const auto* error = std::get_if<JwtError>(&result)) {
      ADD_FAILURE() << error->code << ": " << error->description;
      return {};
    }
    return std::get<VerifiedJwt>(std::move(result));
  }
  JwtError refused(const std::string& token, const JwtPolicy& policy = default_policy(),
                   std::int64_t now = kNow) {
    auto result = verify(token, policy, now);
    if (!std::holds_alternative<JwtError>(result)) {
      ADD_FAILURE() << "accepted";
      return {};
    }
    JwtError error = std::get<JwtError>(result);
    EXPECT_FALSE(error.description.empty());
    return error;
  }
  std::string signed_claims(const boost::json::object& claims, std::string_view typ = "at+jwt") {
    return sign_jwt(ed_, typ, claims);
  }
  std::string with(const char* name, const boost::json::value& value) {
    boost::json::object claims = valid_claims();
    claims[name] = value;
    return signed_claims(claims);
  }
  std::string without(const char* name) {
    boost::json::object claims = valid_claims();
    claims.erase(name);
    return signed_claims(claims);
  }

  Key ed_;
  Keys keys_;
};

// ---- round trips -------------------------------------------------------------------------------

TEST_F(JwtTest, RoundTripsEveryAlgorithm) {
  for (const Key& key : {Key::generate(Alg::EdDSA, "a"), Key::generate(Alg::ES256, "b"), rsa_key(),
                         Key::generate(Alg::HS256, "d")}) {
    Keys ring({key});
    const std::string token = sign_jwt(key, "at+jwt", valid_claims());
    auto result = verify_jwt(token, ring.lookup(), default_policy(), kNow);
    ASSERT_TRUE(std::holds_alternative<VerifiedJwt>(result))
        << to_string(key.alg()) << ": " << std::get<JwtError>(result).description;
    const VerifiedJwt& jwt = std::get<VerifiedJwt>(result);
    EXPECT_EQ(jwt.header.alg, key.alg());
    EXPECT_EQ(jwt.header.kid, key.kid());
    EXPECT_EQ(jwt.header.typ, "at+jwt");
    EXPECT_EQ(jwt.claims, valid_claims());
    EXPECT_EQ(jwt.exp, kNow + 300);
    EXPECT_EQ(ring.asked, std::vector<std::string>{key.kid()});
  }
}

TEST_F(JwtTest, VerifiesWithTheKeyReadBackFromItsPublicJwk) {
  for (const Key& key :
       {Key::generate(Alg::EdDSA, "a"), Key::generate(Alg::ES256, "b"), rsa_key()}) {
    const std::string token = sign_jwt(key, "at+jwt", valid_claims());
    std::string error;
    const auto published = Key::from_jwk(key.public_jwk(), &error);
    ASSERT_TRUE(published) << error;
    Keys ring({*published});
    const auto result = verify_jwt(token, ring.lookup(), default_policy(), kNow);
    EXPECT_TRUE(std::holds_alternative<VerifiedJwt>(result)) << to_string(key.alg());
  }
}

TEST_F(JwtTest, VerifiesTheRfc7515AppendixA1Token) {
  // RFC 7519 §3.1 uses the same token: {"iss":"joe","exp":1300819380,...}, typ "JWT", no kid.
  const std::string token = jose_data("rfc7515_a1_token.txt");
  Keys ring({*Key::from_jwk(jose_data("rfc7515_a1_key.json"), nullptr, Alg::HS256)});
  JwtPolicy policy;
  policy.issuer = "joe";
  policy.typ = "JWT";
  const auto result = verify_jwt(token, ring.lookup(), policy, test::kRfc7515Exp - 100);
  ASSERT_TRUE(std::holds_alternative<VerifiedJwt>(result))
      << std::get<JwtError>(result).description;
  const VerifiedJwt& jwt = std::get<VerifiedJwt>(result);
  EXPECT_EQ(jwt.exp, test::kRfc7515Exp);
  EXPECT_EQ(jwt.claims.at("iss"), "joe");
  EXPECT_EQ(jwt.claims.at("http://example.com/is_root"), true);
  EXPECT_EQ(ring.asked, std::vector<std::string>{""});

  const auto late = verify_jwt(token, ring.lookup(), policy, test::kRfc7515Exp + 30);
  ASSERT_TRUE(std::holds_alternative<JwtError>(late));
  EXPECT_EQ(std::get<JwtError>(late).code, "expired");
}

// ---- keys and algorithms
// -------------------------------------------------------------------------

TEST_F(JwtTest, UnknownKidIsUnknownKey) {
  const Key stranger = Key::generate(Alg::EdDSA, "stranger");
  const JwtError error = refused(sign_jwt(stranger, "at+jwt", valid_claims()));
  EXPECT_EQ(error.code, "unknown_key");
  EXPECT_EQ(error.description, "unknown signing key");
}

TEST_F(JwtTest, HostileKidsAreJustUnknownKeys) {
  for (const std::string& kid : std::vector<std::string>{
           "../../../../etc/passwd", "' OR 1=1 --", "\"; DROP TABLE keys; --", "/dev/zero",
           "%2e%2e%2f", std::string("nul\0byte", 8), std::string(256, 'k')}) {
    keys_.asked.clear();
    const Key attacker = Key::from_secret(std::string(32, 'a'), kid);
    const JwtError error = refused(sign_jwt(attacker, "at+jwt", valid_claims()));
    EXPECT_EQ(error.code, "unknown_key") << kid;
    EXPECT_EQ(keys_.asked, std::vector<std::string>{kid});
    EXPECT_EQ(error.description.find(kid.substr(0, 4)), std::string::npos);
  }
}

TEST_F(JwtTest, AKidOverTheLimitIsMalformedAndNeverLookedUp) {
  const std::string header = R"({"alg":"EdDSA","kid":")" + std::string(257, 'k') + "\"}";
  const std::string signing_input =
      b64url_encode(header) + "." + b64url_encode(boost::json::serialize(valid_claims()));
  const std::string token = signing_input + "." + b64url_encode(ed_.sign(signing_input));
  EXPECT_EQ(refused(token).code, "malformed");
  EXPECT_TRUE(keys_.asked.empty());
}

TEST_F(JwtTest, AnEmptyLookupFindsNoKey) {
  const auto result =
      verify_jwt(signed_claims(valid_claims()), KeyLookup(), default_policy(), kNow);
  ASSERT_TRUE(std::holds_alternative<JwtError>(result));
  EXPECT_EQ(std::get<JwtError>(result).code, "unknown_key");
}

TEST_F(JwtTest, AnHs256TokenSignedWithThePublicKeyIsRefused) {
  // RFC 8725 §2.1: HS256 "signed" with the verifier's public key as the HMAC secret, under the
  // kid of that public key.
  for (const Key& victim : {ed_, rsa_key()}) {
    Keys ring({victim});
    for (const std::string& secret :
         {victim.public_jwk(), boost::json::serialize(boost::json::parse(victim.public_jwk()))}) {
      const Key forged_with = Key::from_secret(secret, victim.kid());
      const std::string token = sign_jwt(forged_with, "at+jwt", valid_claims());
      const auto result = verify_jwt(token, ring.lookup(), default_policy(), kNow);
      ASSERT_TRUE(std::holds_alternative<JwtError>(result));
      EXPECT_EQ(std::get<JwtError>(result).code, "bad_signature");
      EXPECT_EQ(std::get<JwtError>(result).description,
                "token algorithm does not match the signing key");
    }
  }
}

TEST_F(JwtTest, ATokenOfAnotherAlgorithmUnderTheKidIsRefused) {
  const Key impostor = Key::generate(Alg::ES256, "ed-1");
  EXPECT_EQ(refused(sign_jwt(impostor, "at+jwt", valid_claims())).code, "bad_signature");
}

TEST_F(JwtTest, AlgNoneIsMalformed) {
  const std::string token = b64url_encode(R"({"alg":"none","kid":"ed-1"})") + "." +
                            b64url_encode(boost::json::serialize(valid_claims())) + ".";
  const JwtError error = refused(token);
  EXPECT_EQ(error.code, "malformed");
  EXPECT_TRUE(keys_.asked.empty());
  const JwtError with_signature = refused(token + "c2ln");
  EXPECT_EQ(with_signature.code, "malformed");
  EXPECT_EQ(with_signature.description, "alg \"none\" is not allowed");
}

TEST_F(JwtTest, ATamperedTokenIsABadSignature) {
  const std::string token = signed_claims(valid_claims());
  const std::size_t first = token.find('.');
  const std::size_t second = token.rfind('.');
  boost::json::object claims = valid_claims();
  claims["sub"] = "admin";
  const std::string tampered = token.substr(0, first + 1) +
                               b64url_encode(boost::json::serialize(claims)) + token.substr(second);
  const JwtError error = refused(tampered);
  EXPECT_EQ(error.code, "bad_signature");
  EXPECT_EQ(error.description, "signature does not verify");
}

// ---- structure ---------------------------------------------------------------------------------

TEST_F(JwtTest, RefusesDuplicateMembersInHeaderAndClaims) {
  const std::string duplicate_claims = sign_compact(
      ed_, "at+jwt",
      R"({"iss":"https://auth.example","aud":"api","sub":"alice","sub":"admin","exp":)" +
          std::to_string(kNow + 300) + "}");
  const JwtError claims_error = refused(duplicate_claims);
  EXPECT_EQ(claims_error.code, "malformed");
  EXPECT_EQ(claims_error.description, "claims: duplicate member name");

  const std::string header = R"({"alg":"EdDSA","kid":"ed-1","kid":"hs-1"})";
  const std::string signing_input =
      b64url_encode(header) + "." + b64url_encode(boost::json::serialize(valid_claims()));
  const JwtError header_error =
      refused(signing_input + "." + b64url_encode(ed_.sign(signing_input)));
  EXPECT_EQ(header_error.code, "malformed");
  EXPECT_EQ(header_error.description, "header: duplicate member name");
}

TEST_F(JwtTest, ClaimsMustBeAJsonObject) {
  for (const char* payload : {"[]", "\"claims\"", "42", "not json", "{\"exp\":1,}", ""}) {
    const JwtError error = refused(sign_compact(ed_, "at+jwt", payload));
    EXPECT_EQ(error.code, "malformed") << payload;
  }
  std::string deep = R"({"a":)" + std::string(10000, '[');
  EXPECT_EQ(refused(sign_compact(ed_, "at+jwt", deep)).code, "malformed");
}

TEST_F(JwtTest, TheRfc8037TokenIsAJwsButNotAJwt) {
  Keys ring({*Key::from_jwk(jose_data("rfc8037_a2_key.json"), nullptr)});
  const auto result =
      verify_jwt(jose_data("rfc8037_a4_token.txt"), ring.lookup(), JwtPolicy{}, kNow);
  ASSERT_TRUE(std::holds_alternative<JwtError>(result));
  EXPECT_EQ(std::get<JwtError>(result).code, "malformed");
  EXPECT_EQ(std::get<JwtError>(result).description, "claims: invalid JSON");
}

TEST_F(JwtTest, RefusesA1MbTokenQuickly) {
  const std::string huge = signed_claims(valid_claims()) + std::string(1 << 20, 'A');
  const auto start = std::chrono::steady_clock::now();
  const JwtError error = refused(huge);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_EQ(error.code, "malformed");
  EXPECT_EQ(error.description, "token too large");
  EXPECT_TRUE(keys_.asked.empty());
}

TEST_F(JwtTest, DescriptionsNeverQuoteTheToken) {
  boost::json::object claims = valid_claims();
  claims["iss"] = "SECRET-ISSUER";
  claims["aud"] = "SECRET-AUDIENCE";
  const std::string token = signed_claims(claims);
  for (const auto& error : {refused(token), refused(token + "x"), refused(token + ".x")}) {
    EXPECT_EQ(error.description.find("SECRET"), std::string::npos) << error.description;
    EXPECT_EQ(error.description.find(token.substr(0, 10)), std::string::npos);
  }
}

// ---- exp, nbf, iat
// ---------------------------------------------------------------------------------

TEST_F(JwtTest, ExpiresAtExpPlusLeeway) {
  const std::string token = signed_claims(valid_claims());
  const std::int64_t exp = kNow + 300;
  EXPECT_EQ(accepted(token, default_policy(), exp + 29).exp, exp);
  const JwtError error = refused(token, default_policy(), exp + 30);
  EXPECT_EQ(error.code, "expired");
  EXPECT_EQ(error.description, "token expired");
  JwtPolicy strict = default_policy();
  strict.leeway_s = 0;
  accepted(token, strict, exp - 1);
  EXPECT_EQ(refused(token, strict, exp).code, "expired");
  strict.leeway_s = -100;  // treated as 0
  accepted(token, strict, exp - 1);
}

TEST_F(JwtTest, ExpIsRequiredUnlessThePolicySaysOtherwise) {
  const std::string token = without("exp");
  const JwtError error = refused(token);
  EXPECT_EQ(error.code, "bad_claims");
  EXPECT_EQ(error.description, "token has no expiry");
  JwtPolicy lenient = default_policy();
  lenient.require_exp = false;
  EXPECT_EQ(accepted(token, lenient).exp, 0);
}

TEST_F(JwtTest, NotBeforeAllowsLeeway) {
  const std::string token = with("nbf", kNow + 30);
  accepted(token);  // now + leeway == nbf
  const JwtError error = refused(with("nbf", kNow + 31));
  EXPECT_EQ(error.code, "not_yet_valid");
  EXPECT_EQ(error.description, "token not valid yet");
  accepted(without("nbf"));
}

TEST_F(JwtTest, IssuedAtMayNotBeInTheFuture) {
  accepted(with("iat", kNow + 30));
  const JwtError error = refused(with("iat", kNow + 31));
  EXPECT_EQ(error.code, "not_yet_valid");
  EXPECT_EQ(error.description, "token issued in the future");
  accepted(without("iat"));
  accepted(with("iat", 0));
}

TEST_F(JwtTest, NumericDatesMustBeWholeNumbers) {
  for (const char* name : {"exp", "nbf", "iat"}) {
    EXPECT_EQ(refused(with(name, "1700000100")).code, "bad_claims") << name;
    EXPECT_EQ(refused(with(name, nullptr)).code, "bad_claims") << name;
    EXPECT_EQ(refused(with(name, true)).code, "bad_claims") << name;
    EXPECT_EQ(refused(with(name, boost::json::array{kNow})).code, "bad_claims") << name;
    EXPECT_EQ(refused(with(name, static_cast<double>(kNow) + 0.5)).code, "bad_claims") << name;
    EXPECT_EQ(refused(with(name, 1e300)).code, "bad_claims") << name;
    EXPECT_EQ(refused(with(name, std::uint64_t{18446744073709551615u})).code, "bad_claims") << name;
  }
  EXPECT_EQ(refused(with("exp", 1.5)).description, "exp is not an integral NumericDate");
  // A whole double is a NumericDate.
  EXPECT_EQ(accepted(with("exp", static_cast<double>(kNow + 300))).exp, kNow + 300);
  // Written in the JSON as 1.7000003e9: a double with no fraction.
  const std::string exponent = sign_compact(
      ed_, "at+jwt", R"({"iss":"https://auth.example","aud":"api","exp":1.7000003e9})");
  EXPECT_EQ(accepted(exponent).exp, 1'700'000'300);
}

TEST_F(JwtTest, ExtremeDatesDoNotOverflow) {
  EXPECT_EQ(accepted(with("exp", INT64_MAX)).exp, INT64_MAX);
  EXPECT_EQ(accepted(with("exp", std::uint64_t{INT64_MAX})).exp, INT64_MAX);
  EXPECT_EQ(refused(with("exp", INT64_MIN)).code, "expired");
  EXPECT_EQ(refused(with("exp", -1)).code, "expired");
  EXPECT_EQ(refused(with("nbf", INT64_MAX)).code, "not_yet_valid");
  accepted(with("nbf", INT64_MIN));
  JwtPolicy policy = default_policy();
  policy.leeway_s = INT64_MAX;
  accepted(with("nbf", INT64_MAX), policy);  // now + leeway saturates
}

// ---- iss, aud, typ, other registered claims
// ---------------------------------------------------------

TEST_F(JwtTest, IssuerMustMatchExactly) {
  EXPECT_EQ(refused(with("iss", "https://auth.example/")).code, "wrong_issuer");
  EXPECT_EQ(refused(with("iss", "HTTPS://AUTH.EXAMPLE")).code, "wrong_issuer");
  const JwtError missing = refused(without("iss"));
  EXPECT_EQ(missing.code, "wrong_issuer");
  EXPECT_EQ(missing.description, "issuer does not match");
  EXPECT_EQ(refused(with("iss", 5)).code, "bad_claims");
  JwtPolicy any_issuer = default_policy();
  any_issuer.issuer.clear();
  accepted(without("iss"), any_issuer);
  accepted(with("iss", "someone"), any_issuer);
  EXPECT_EQ(refused(with("iss", 5), any_issuer).code, "bad_claims");
}

TEST_F(JwtTest, AudienceMayBeAStringOrAnArray) {
  accepted(with("aud", "api"));
  accepted(with("aud", boost::json::array{"other", "api"}));
  accepted(with("aud", boost::json::array{"api"}));
  const JwtError other = refused(with("aud", "other"));
  EXPECT_EQ(other.code, "wrong_audience");
  EXPECT_EQ(other.description, "audience does not match");
  EXPECT_EQ(refused(with("aud", boost::json::array{"other", "API"})).code, "wrong_audience");
  EXPECT_EQ(refused(with("aud", boost::json::array{})).code, "wrong_audience");
  EXPECT_EQ(refused(without("aud")).code, "wrong_audience");
  EXPECT_EQ(refused(with("aud", 7)).code, "bad_claims");
  EXPECT_EQ(refused(with("aud", boost::json::array{"api", 7})).code, "bad_claims");
  EXPECT_EQ(refused(with("aud", boost::json::object{{"api", true}})).code, "bad_claims");
  JwtPolicy any_audience = default_policy();
  any_audience.audience.clear();
  accepted(without("aud"), any_audience);
  accepted(with("aud", "other"), any_audience);
}

TEST_F(JwtTest, TypeMatchesWithOrWithoutTheApplicationPrefix) {
  const boost::json::object claims = valid_claims();
  for (const char* typ : {"at+jwt", "application/at+jwt", "AT+JWT", "Application/At+JWT"}) {
    EXPECT_EQ(accepted(signed_claims(claims, typ)).header.typ, typ);
  }
  for (const char* typ :
       {"JWT", "jwt", "at+jwt ", "application/jwt", "text/at+jwt", "", "application/", "at"}) {
    const JwtError error = refused(signed_claims(claims, typ));
    EXPECT_EQ(error.code, "wrong_type") << typ;
    EXPECT_EQ(error.description, "token type does not match");
  }
  JwtPolicy prefixed = default_policy();
  prefixed.typ = "application/at+jwt";
  accepted(signed_claims(claims, "at+jwt"), prefixed);
  JwtPolicy any_type = default_policy();
  any_type.typ.clear();
  accepted(signed_claims(claims, ""), any_type);
  accepted(signed_claims(claims, "JWT"), any_type);
}

TEST_F(JwtTest, SubjectAndJwtIdMustBeStrings) {
  EXPECT_EQ(refused(with("sub", 42)).code, "bad_claims");
  EXPECT_EQ(refused(with("jti", boost::json::array{})).code, "bad_claims");
  accepted(with("jti", "id-1"));
  accepted(with("custom", boost::json::object{{"nested", boost::json::array{1, 2}}}));
}

TEST_F(JwtTest, ChecksInTheDocumentedOrder) {
  // Expired and from the wrong issuer: expiry is reported first.
  boost::json::object claims = valid_claims();
  claims["exp"] = kNow - 100;
  claims["iss"] = "other";
  EXPECT_EQ(refused(signed_claims(claims, "JWT")).code, "expired");
  // Wrong issuer, audience and type: the issuer first, then the audience.
  claims = valid_claims();
  claims["iss"] = "other";
  claims["aud"] = "other";
  EXPECT_EQ(refused(signed_claims(claims, "JWT")).code, "wrong_issuer");
  claims["iss"] = "https://auth.example";
  EXPECT_EQ(refused(signed_claims(claims, "JWT")).code, "wrong_audience");
}

}  // namespace
}  // namespace gatehouse::jose
