// JWS Compact Serialization (RFC 7515 §7.1): the RFC 7515, RFC 8037 and RFC 7520 examples, and
// the header and encoding attacks that decode_compact refuses.
#include "jose/jws.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>

#include <chrono>
#include <string>
#include <variant>

#include "jose/base64url.hpp"
#include "jose_test_data.hpp"

namespace gatehouse::jose {
namespace {

using test::jose_data;
using test::kRfc7515Payload;
using test::kRfc7520Payload;

Key import(const std::string& file, std::optional<Alg> default_alg = std::nullopt) {
  std::string error;
  auto key = Key::from_jwk(jose_data(file), &error, default_alg);
  if (!key) throw std::runtime_error(file + ": " + error);
  return *key;
}

// The result's signing_input points into `token`, which must outlive it: no temporaries.
DecodedJws decoded(const std::string&& token) = delete;
DecodedJws decoded(const std::string& token) {
  auto result = decode_compact(token);
  if (auto* error = std::get_if<DecodeError>(&result)) {
    ADD_FAILURE() << error->description;
    return {};
  }
  return std::get<DecodedJws>(std::move(result));
}

std::string refusal(std::string_view token, std::size_t max_token_bytes = kMaxTokenBytes) {
  auto result = decode_compact(token, max_token_bytes);
  if (!std::holds_alternative<DecodeError>(result)) {
    ADD_FAILURE() << "accepted " << token.substr(0, 120);
    return {};
  }
  return std::get<DecodeError>(result).description;
}

// A token whose header is `header_json`, with an arbitrary well-formed payload and signature.
std::string with_header(std::string_view header_json) {
  return b64url_encode(header_json) + "." + b64url_encode("{}") + "." + b64url_encode("sig");
}

// ---- RFC examples ----------------------------------------------------------------------------

TEST(Jws, VerifiesRfc7515AppendixA1Hs256) {
  const std::string token = jose_data("rfc7515_a1_token.txt");
  const DecodedJws jws = decoded(token);
  EXPECT_EQ(jws.header.alg, Alg::HS256);
  EXPECT_EQ(jws.header.typ, "JWT");
  EXPECT_EQ(jws.header.kid, "");
  EXPECT_EQ(jws.payload, kRfc7515Payload);
  EXPECT_EQ(jws.signing_input, token.substr(0, token.rfind('.')));
  EXPECT_EQ(jws.signature.size(), 32u);
  const Key key = import("rfc7515_a1_key.json", Alg::HS256);
  EXPECT_TRUE(verify_signature(key, jws));

  // The same secret given raw; the RFC key is 64 bytes.
  const auto secret = b64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  ASSERT_TRUE(secret);
  EXPECT_TRUE(verify_signature(Key::from_secret(*secret, ""), jws));
  EXPECT_FALSE(verify_signature(Key::from_secret(std::string(64, 'x'), ""), jws));
}

TEST(Jws, VerifiesAndReproducesRfc7515AppendixA2Rs256) {
  const std::string token = jose_data("rfc7515_a2_token.txt");
  const Key key = import("rfc7515_a2_key.json", Alg::RS256);
  const DecodedJws jws = decoded(token);
  EXPECT_EQ(jws.header.alg, Alg::RS256);
  EXPECT_EQ(jws.payload, kRfc7515Payload);
  EXPECT_TRUE(verify_signature(key, jws));
  // RSASSA-PKCS1-v1_5 is deterministic and the header is {"alg":"RS256"}: the same token.
  EXPECT_EQ(sign_compact(key, "", kRfc7515Payload), token);
}

TEST(Jws, VerifiesRfc7515AppendixA3Es256) {
  const std::string token = jose_data("rfc7515_a3_token.txt");
  const Key key = import("rfc7515_a3_key.json");
  const DecodedJws jws = decoded(token);
  EXPECT_EQ(jws.header.alg, Alg::ES256);
  EXPECT_EQ(jws.signature.size(), 64u);
  EXPECT_TRUE(verify_signature(key, jws));
  // ECDSA is randomized: a new signature differs but verifies.
  const std::string again = sign_compact(key, "", kRfc7515Payload);
  EXPECT_NE(again, token);
  EXPECT_EQ(again.substr(0, again.rfind('.')), token.substr(0, token.rfind('.')));
  EXPECT_TRUE(verify_signature(key, decoded(again)));
}

TEST(Jws, RefusesRfc7515AppendixA5Unsecured) {
  EXPECT_EQ(refusal(jose_data("rfc7515_a5_token.txt")), "empty signature");
  // With a signature part attached, the header is what refuses it.
  EXPECT_EQ(refusal(jose_data("rfc7515_a5_token.txt") + "c2ln"), "alg \"none\" is not allowed");
}

TEST(Jws, ReproducesRfc8037AppendixA4Ed25519) {
  const std::string token = jose_data("rfc8037_a4_token.txt");
  const Key key = import("rfc8037_a1_key.json");
  // Ed25519 is deterministic and the header is {"alg":"EdDSA"}: the same token (RFC 8037 §A.4).
  EXPECT_EQ(sign_compact(key, "", "Example of Ed25519 signing"), token);
  // RFC 8037 §A.5: verification with the public key of §A.2.
  const DecodedJws jws = decoded(token);
  EXPECT_EQ(jws.payload, "Example of Ed25519 signing");
  EXPECT_TRUE(verify_signature(import("rfc8037_a2_key.json"), jws));
}

TEST(Jws, ReproducesRfc7520Section41Rs256) {
  const std::string token = jose_data("rfc7520_4_1_token.txt");
  const Key key = import("rfc7520_3_4_key.json", Alg::RS256);
  const DecodedJws jws = decoded(token);
  EXPECT_EQ(jws.header.kid, "bilbo.baggins@hobbiton.example");
  EXPECT_EQ(jws.payload, kRfc7520Payload);
  EXPECT_TRUE(verify_signature(key, jws));
  EXPECT_EQ(sign_compact(key, "", kRfc7520Payload), token);
}

TEST(Jws, ReproducesRfc7520Section44Hs256) {
  const std::string token = jose_data("rfc7520_4_4_token.txt");
  const Key key = import("rfc7520_3_5_key.json");
  const DecodedJws jws = decoded(token);
  EXPECT_EQ(jws.header.kid, "018c0ae5-4d9b-471b-bfd6-eef314bc7037");
  EXPECT_TRUE(verify_signature(key, jws));
  EXPECT_EQ(sign_compact(key, "", kRfc7520Payload), token);
}

TEST(Jws, DetectsTamperingWithAnyPart) {
  const Key key = import("rfc7515_a1_key.json", Alg::HS256);
  const std::string token = jose_data("rfc7515_a1_token.txt");
  const std::string payload = b64url_encode(
      "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":false}");
  const std::size_t first = token.find('.');
  const std::size_t second = token.rfind('.');
  const std::string swapped = token.substr(0, first + 1) + payload + token.substr(second);
  EXPECT_FALSE(verify_signature(key, decoded(swapped)));
  const std::string other_header = b64url_encode(R"({"alg":"HS256"})") + token.substr(first);
  EXPECT_FALSE(verify_signature(key, decoded(other_header)));
}

// ---- sign_compact ----------------------------------------------------------------------------

TEST(Jws, SignCompactWritesAlgKidAndTyp) {
  const Key key = Key::from_secret(std::string(32, 's'), "key-1");
  const std::string token = sign_compact(key, "at+jwt", R"({"sub":"a"})");
  const std::string header = *b64url_decode(token.substr(0, token.find('.')));
  EXPECT_EQ(header, R"({"alg":"HS256","kid":"key-1","typ":"at+jwt"})");
  const DecodedJws jws = decoded(token);
  EXPECT_EQ(jws.header.kid, "key-1");
  EXPECT_EQ(jws.header.typ, "at+jwt");
  EXPECT_EQ(jws.payload, R"({"sub":"a"})");
  EXPECT_TRUE(verify_signature(key, jws));

  const Key quoted = Key::from_secret(std::string(32, 's'), "a\"b\\c");
  const std::string escaped = sign_compact(quoted, "", "{}");
  EXPECT_EQ(*b64url_decode(escaped.substr(0, escaped.find('.'))),
            R"({"alg":"HS256","kid":"a\"b\\c"})");
  EXPECT_EQ(decoded(escaped).header.kid, "a\"b\\c");
}

// ---- algorithm attacks -----------------------------------------------------------------------

TEST(Jws, RefusesAlgNoneInEveryForm) {
  EXPECT_EQ(refusal(with_header(R"({"alg":"none"})")), "alg \"none\" is not allowed");
  for (const char* alg : {"None", "NONE", "nOnE", "none ", "", "HS384", "RS512", "PS256", "ES256K",
                          "Ed25519", "hs256"}) {
    EXPECT_EQ(refusal(with_header(std::string(R"({"alg":")") + alg + "\"}")), "unsupported alg")
        << alg;
  }
  EXPECT_EQ(refusal(with_header(R"({"typ":"JWT"})")), "header has no alg");
  EXPECT_EQ(refusal(with_header(R"({"alg":null})")), "alg is not a string");
  EXPECT_EQ(refusal(with_header(R"({"alg":["HS256"]})")), "alg is not a string");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","alg":"none"})")),
            "header: duplicate member name");
}

TEST(Jws, AnHs256TokenMadeWithAPublicKeyNeverVerifiesAgainstThatKey) {
  // The classic confusion attack: the attacker signs HS256 with the public key's bytes as the
  // HMAC secret and hopes the verifier feeds its public key to HMAC.
  const Key ed = import("rfc8037_a2_key.json");
  const Key rsa = [] {
    std::string public_jwk =
        Key::from_jwk(jose_data("rfc7515_a2_key.json"), nullptr, Alg::RS256)->public_jwk();
    return *Key::from_jwk(public_jwk, nullptr);
  }();
  for (const Key* victim : {&ed, &rsa}) {
    const std::string public_jwk = victim->public_jwk();
    const auto raw_public = b64url_decode(
        victim->alg() == Alg::EdDSA ? "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
                                    : "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxH"
                                      "mfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1"
                                      "W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXnd"
                                      "S5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4"
                                      "uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9"
                                      "iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ");
    ASSERT_TRUE(raw_public);
    for (const std::string& secret : {public_jwk, *raw_public}) {
      const Key forged_with = Key::from_secret(secret, "");
      const std::string token = sign_compact(forged_with, "", R"({"sub":"admin"})");
      const DecodedJws jws = decoded(token);
      EXPECT_EQ(jws.header.alg, Alg::HS256);
      EXPECT_TRUE(verify_signature(forged_with, jws));
      EXPECT_FALSE(verify_signature(*victim, jws));
      EXPECT_FALSE(victim->verify(jws.signing_input, jws.signature));
    }
  }
}

TEST(Jws, VerifySignatureNeedsTheKeysAlgorithm) {
  const Key ed = Key::generate(Alg::EdDSA, "");
  const std::string token = sign_compact(ed, "", "{}");
  DecodedJws jws = decoded(token);
  EXPECT_TRUE(verify_signature(ed, jws));
  jws.header.alg = Alg::ES256;
  EXPECT_FALSE(verify_signature(ed, jws));
}

// ---- header members that are refused -----------------------------------------------------------

TEST(Jws, RefusesCritAndTokenSuppliedKeys) {
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","crit":["exp"],"exp":1})")),
            "header parameter \"crit\" is not supported");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","crit":[]})")),
            "header parameter \"crit\" is not supported");
  EXPECT_EQ(refusal(with_header(R"({"alg":"RS256","jku":"https://evil.example/jwks"})")),
            "header parameter \"jku\" is not allowed");
  EXPECT_EQ(refusal(with_header(R"({"alg":"RS256","x5u":"https://evil.example/cert"})")),
            "header parameter \"x5u\" is not allowed");
  EXPECT_EQ(
      refusal(with_header(
          R"({"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}})")),
      "header parameter \"jwk\" is not allowed");
  EXPECT_EQ(refusal(with_header(R"({"alg":"RS256","x5c":["MIIB"]})")),
            "header parameter \"x5c\" is not allowed");
  EXPECT_EQ(refusal(with_header(R"({"alg":"RS256","x5t":"dGh1bWI"})")),
            "header parameter \"x5t\" is not allowed");
  EXPECT_EQ(refusal(with_header(R"({"alg":"RS256","x5t#S256":"dGh1bWI"})")),
            "header parameter \"x5t#S256\" is not allowed");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","b64":false})")),
            "header parameter \"b64\" is not supported");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","zip":"DEF"})")),
            "header parameter \"zip\" is not supported");
}

TEST(Jws, ReadsKidTypAndCtyAndIgnoresOtherMembers) {
  const std::string token =
      with_header(R"({"alg":"ES256","kid":"../../etc/passwd","typ":"JWT","cty":"x","zzz":[1]})");
  const DecodedJws jws = decoded(token);
  EXPECT_EQ(jws.header.alg, Alg::ES256);
  EXPECT_EQ(jws.header.kid, "../../etc/passwd");
  EXPECT_EQ(jws.header.typ, "JWT");
  EXPECT_EQ(jws.header.cty, "x");
  EXPECT_EQ(jws.payload, "{}");
  EXPECT_EQ(jws.signature, "sig");
}

TEST(Jws, RefusesKidTypAndCtyThatAreNotStrings) {
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","kid":7})")), "kid is not a string");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","kid":null})")), "kid is not a string");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","typ":["JWT"]})")), "typ is not a string");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","cty":{}})")), "cty is not a string");
}

TEST(Jws, BoundsTheKid) {
  const std::string longest(kMaxKidBytes, 'k');
  const std::string token = with_header(R"({"alg":"HS256","kid":")" + longest + "\"}");
  EXPECT_EQ(decoded(token).header.kid, longest);
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256","kid":")" + longest + "k\"}")), "kid too long");
}

TEST(Jws, RefusesHeadersThatAreNotStrictJsonObjects) {
  EXPECT_EQ(refusal(with_header("[\"alg\"]")), "header: top level is not a JSON object");
  EXPECT_EQ(refusal(with_header("\"HS256\"")), "header: top level is not a JSON object");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256"} )") + "x"), "signature is not base64url");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256"}x)")), "header: data after the JSON object");
  EXPECT_EQ(refusal(with_header(R"({"alg":"HS256",})")), "header: invalid JSON");
  EXPECT_EQ(refusal(with_header("{\"alg\":\"HS256\",\"x\":\"\xff\"}")),
            "header: JSON text is not valid UTF-8");
  EXPECT_EQ(refusal(with_header("not json")), "header: invalid JSON");
}

TEST(Jws, RefusesDeeplyNestedHeadersWithoutOverflowingTheStack) {
  const std::string header = R"({"alg":"HS256","x":)" + std::string(10000, '[');
  EXPECT_EQ(refusal(with_header(header)), "token too large");
  EXPECT_EQ(refusal(with_header(header), 1 << 20), "header: JSON nested too deeply");
}

// ---- structure and encoding --------------------------------------------------------------------

TEST(Jws, NeedsExactlyThreeNonEmptyParts) {
  const std::string token = jose_data("rfc7515_a1_token.txt");
  const std::size_t first = token.find('.');
  const std::size_t second = token.rfind('.');
  const std::string h = token.substr(0, first);
  const std::string p = token.substr(first + 1, second - first - 1);
  const std::string s = token.substr(second + 1);
  EXPECT_EQ(refusal(""), "token is not three dot-separated parts");
  EXPECT_EQ(refusal(h), "token is not three dot-separated parts");
  EXPECT_EQ(refusal(h + "." + p), "token is not three dot-separated parts");
  EXPECT_EQ(refusal(h + "." + p + "." + s + "." + s), "token is not three dot-separated parts");
  EXPECT_EQ(refusal(token + "."), "token is not three dot-separated parts");
  EXPECT_EQ(refusal(h + "." + p + "." + s + ".." + s), "token is not three dot-separated parts");
  EXPECT_EQ(refusal(".."), "empty header");
  EXPECT_EQ(refusal("." + p + "." + s), "empty header");
  EXPECT_EQ(refusal(h + ".." + s), "empty payload");
  EXPECT_EQ(refusal(h + "." + p + "."), "empty signature");
}

TEST(Jws, RefusesLooseBase64InEveryPart) {
  const std::string token = jose_data("rfc7515_a1_token.txt");
  const std::size_t first = token.find('.');
  const std::size_t second = token.rfind('.');
  const std::string h = token.substr(0, first);
  const std::string p = token.substr(first + 1, second - first - 1);
  const std::string s = token.substr(second + 1);
  EXPECT_TRUE(std::holds_alternative<DecodedJws>(decode_compact(h + "." + p + "." + s)));
  for (const char* bad : {"+", "/", "=", " ", "\n", "%2B"}) {
    EXPECT_EQ(refusal(h + bad + "." + p + "." + s), "header is not base64url") << bad;
    EXPECT_EQ(refusal(h + "." + p + bad + "." + s), "payload is not base64url") << bad;
    EXPECT_EQ(refusal(h + "." + p + "." + s + bad), "signature is not base64url") << bad;
  }
  EXPECT_EQ(refusal(" " + token), "header is not base64url");
  // Padding that base64 (not base64url) would add: 43 characters → "...k=".
  EXPECT_EQ(refusal(token + "="), "signature is not base64url");
  // The signature ends in 'k' (36 = 0b100100); 'l' sets an unused trailing bit.
  ASSERT_EQ(s.back(), 'k');
  EXPECT_EQ(refusal(h + "." + p + "." + s.substr(0, s.size() - 1) + "l"),
            "signature is not base64url");
  // base64 of the same signature ("+"/"/" alphabet) is refused too.
  EXPECT_EQ(refusal(h + "." + p + "." + "dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk"),
            "signature is not base64url");
}

TEST(Jws, RefusesAnOversizedTokenBeforeLookingAtIt) {
  const std::string huge = "eyJhbGciOiJIUzI1NiJ9." + std::string(1 << 20, 'A') + ".c2ln";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(refusal(huge), "token too large");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_EQ(refusal(std::string(kMaxTokenBytes + 1, '.')), "token too large");
  EXPECT_EQ(refusal(jose_data("rfc7515_a1_token.txt"), 100), "token too large");
}

TEST(Jws, DescriptionsNeverQuoteTheToken) {
  for (const std::string& token :
       {with_header(R"({"alg":"SECRET"})"), with_header(R"({"alg":"HS256","SECRET":1,"SECRET":2})"),
        with_header(R"({"alg":"HS256","kid":")" + std::string(300, 'S') + "\"}"),
        std::string("SECRET.SECRET.SECRET+"), std::string("SECRET")}) {
    const std::string description = refusal(token);
    EXPECT_EQ(description.find("SECRET"), std::string::npos) << description;
    EXPECT_EQ(description.find("SSS"), std::string::npos) << description;
  }
}

// ---- signature formats -------------------------------------------------------------------------

// The DER ECDSA-Sig-Value of an R || S signature, as OpenSSL and Java produce natively.
std::string to_der(const std::string& raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

TEST(Jws, Es256AcceptsOnlyTheSixtyFourByteForm) {
  const Key key = import("rfc7515_a3_key.json");
  const std::string token = jose_data("rfc7515_a3_token.txt");
  const DecodedJws jws = decoded(token);
  ASSERT_TRUE(key.verify(jws.signing_input, jws.signature));
  const std::string der = to_der(jws.signature);
  ASSERT_GE(der.size(), 68u);
  EXPECT_FALSE(key.verify(jws.signing_input, der));  // RFC 7518 §3.4: not DER
  EXPECT_FALSE(key.verify(jws.signing_input, jws.signature.substr(0, 63)));
  EXPECT_FALSE(key.verify(jws.signing_input, jws.signature + '\0'));
  EXPECT_FALSE(key.verify(jws.signing_input, '\0' + jws.signature));
  EXPECT_FALSE(key.verify(jws.signing_input, std::string(64, '\0')));    // r = s = 0
  EXPECT_FALSE(key.verify(jws.signing_input, std::string(64, '\xff')));  // r, s >= n
  // The token with its signature swapped for the DER form.
  const std::string der_token = token.substr(0, token.rfind('.') + 1) + b64url_encode(der);
  const DecodedJws with_der = decoded(der_token);
  EXPECT_FALSE(verify_signature(key, with_der));
}

TEST(Jws, Rs256RefusesATruncatedOrPaddedSignature) {
  const Key key = import("rfc7515_a2_key.json", Alg::RS256);
  const std::string token = jose_data("rfc7515_a2_token.txt");
  const DecodedJws jws = decoded(token);
  ASSERT_TRUE(key.verify(jws.signing_input, jws.signature));
  EXPECT_FALSE(key.verify(jws.signing_input, jws.signature.substr(1)));
  EXPECT_FALSE(key.verify(jws.signing_input, '\0' + jws.signature));
  EXPECT_FALSE(key.verify(jws.signing_input, ""));
}

}  // namespace
}  // namespace gatehouse::jose
