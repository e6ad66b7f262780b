// Keys as JWKs (RFC 7517, RFC 7518 §6, RFC 8037 §2): generation, import, export, sign, verify.
#include "jose/jwk.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jose/base64url.hpp"
#include "jose_test_data.hpp"

namespace gatehouse::jose {
namespace {

using test::jose_data;

constexpr Alg kAllAlgs[] = {Alg::EdDSA, Alg::ES256, Alg::RS256, Alg::HS256};

// RSA-2048 generation is slow under the sanitizers: one key per algorithm for the whole suite.
const Key& generated(Alg alg) {
  static const Key keys[] = {Key::generate(Alg::EdDSA, "ed"), Key::generate(Alg::ES256, "ec"),
                             Key::generate(Alg::RS256, "rsa"), Key::generate(Alg::HS256, "hs")};
  return keys[static_cast<int>(alg)];
}

boost::json::object json_of(const std::string& text) {
  return boost::json::parse(text).as_object();
}

std::string with_member(const std::string& jwk_json, const std::string& name,
                        const boost::json::value& value) {
  boost::json::object jwk = json_of(jwk_json);
  jwk[name] = value;
  return boost::json::serialize(jwk);
}

std::string with_member(const std::string& jwk_json, const std::string& name,
                        const std::string& value) {
  return with_member(jwk_json, name, boost::json::value(boost::json::string_view(value)));
}

std::string with_member(const std::string& jwk_json, const std::string& name, const char* value) {
  return with_member(jwk_json, name, std::string(value));
}

std::string without_member(const std::string& jwk_json, const std::string& name) {
  boost::json::object jwk = json_of(jwk_json);
  jwk.erase(name);
  return boost::json::serialize(jwk);
}

std::string import_error(const std::string& jwk_json,
                         std::optional<Alg> default_alg = std::nullopt) {
  std::string error;
  EXPECT_FALSE(Key::from_jwk(jwk_json, &error, default_alg)) << jwk_json.substr(0, 120);
  EXPECT_FALSE(error.empty());
  return error;
}

Key import(const std::string& jwk_json, std::optional<Alg> default_alg = std::nullopt) {
  std::string error;
  auto key = Key::from_jwk(jwk_json, &error, default_alg);
  if (!key) throw std::runtime_error("import failed: " + error);
  return *key;
}

TEST(Jwk, NamesTheAlgorithmsExactly) {
  for (const Alg alg : kAllAlgs) EXPECT_EQ(parse_alg(to_string(alg)), alg);
  EXPECT_EQ(to_string(Alg::EdDSA), "EdDSA");
  EXPECT_EQ(to_string(Alg::ES256), "ES256");
  EXPECT_EQ(to_string(Alg::RS256), "RS256");
  EXPECT_EQ(to_string(Alg::HS256), "HS256");
  for (const char* name : {"none", "None", "NONE", "", "hs256", "HS256 ", "eddsa", "Ed25519",
                           "ES384", "RS512", "PS256", "HS512", "ES256K"}) {
    EXPECT_FALSE(parse_alg(name)) << name;
  }
}

TEST(Jwk, GeneratesAKeyForEachAlgorithm) {
  for (const Alg alg : kAllAlgs) {
    const Key& key = generated(alg);
    EXPECT_EQ(key.alg(), alg);
    EXPECT_TRUE(key.has_private());
    EXPECT_EQ(key.is_symmetric(), alg == Alg::HS256);
    const std::string input = "header.payload";
    const std::string signature = key.sign(input);
    EXPECT_TRUE(key.verify(input, signature)) << to_string(alg);
    EXPECT_FALSE(key.verify("header.payloaD", signature)) << to_string(alg);
  }
  EXPECT_EQ(generated(Alg::EdDSA).kid(), "ed");
  EXPECT_EQ(generated(Alg::EdDSA).sign("x").size(), 64u);
  EXPECT_EQ(generated(Alg::ES256).sign("x").size(), 64u);
  EXPECT_EQ(generated(Alg::RS256).sign("x").size(), 256u);
  EXPECT_EQ(generated(Alg::HS256).sign("x").size(), 32u);
}

TEST(Jwk, RefusesAKidOverTheLimit) {
  EXPECT_THROW(Key::generate(Alg::EdDSA, std::string(kMaxKidBytes + 1, 'k')),
               std::invalid_argument);
  EXPECT_NO_THROW(Key::generate(Alg::EdDSA, std::string(kMaxKidBytes, 'k')));
  EXPECT_THROW(Key::from_secret(std::string(32, 's'), std::string(kMaxKidBytes + 1, 'k')),
               std::invalid_argument);
}

TEST(Jwk, PublishesOnlyPublicMembers) {
  const boost::json::object ed = json_of(generated(Alg::EdDSA).public_jwk());
  EXPECT_EQ(ed.at("kty"), "OKP");
  EXPECT_EQ(ed.at("crv"), "Ed25519");
  EXPECT_EQ(b64url_decode(ed.at("x").as_string().c_str())->size(), 32u);
  EXPECT_EQ(ed.at("kid"), "ed");
  EXPECT_EQ(ed.at("alg"), "EdDSA");
  EXPECT_EQ(ed.at("use"), "sig");
  EXPECT_EQ(ed.size(), 6u);

  const boost::json::object ec = json_of(generated(Alg::ES256).public_jwk());
  EXPECT_EQ(ec.at("kty"), "EC");
  EXPECT_EQ(ec.at("crv"), "P-256");
  EXPECT_EQ(b64url_decode(ec.at("x").as_string().c_str())->size(), 32u);
  EXPECT_EQ(b64url_decode(ec.at("y").as_string().c_str())->size(), 32u);
  EXPECT_EQ(ec.at("alg"), "ES256");
  EXPECT_EQ(ec.size(), 7u);

  const boost::json::object rsa = json_of(generated(Alg::RS256).public_jwk());
  EXPECT_EQ(rsa.at("kty"), "RSA");
  EXPECT_EQ(b64url_decode(rsa.at("n").as_string().c_str())->size(), 256u);
  EXPECT_EQ(rsa.at("e"), "AQAB");
  EXPECT_EQ(rsa.at("alg"), "RS256");
  EXPECT_EQ(rsa.size(), 6u);

  for (const auto* jwk : {&ed, &ec, &rsa}) {
    for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
      EXPECT_FALSE(jwk->contains(secret)) << secret;
    }
  }
}

TEST(Jwk, NeverPublishesASymmetricKey) {
  EXPECT_EQ(generated(Alg::HS256).public_jwk(), "");
  EXPECT_EQ(Key::from_secret(std::string(32, 's'), "k").public_jwk(), "");
}

TEST(Jwk, PublicJwkImportsAsAVerifyOnlyKey) {
  for (const Alg alg : {Alg::EdDSA, Alg::ES256, Alg::RS256}) {
    const Key& original = generated(alg);
    const Key copy = import(original.public_jwk());
    EXPECT_EQ(copy.alg(), alg);
    EXPECT_EQ(copy.kid(), original.kid());
    EXPECT_FALSE(copy.has_private());
    EXPECT_EQ(copy.public_jwk(), original.public_jwk());
    EXPECT_TRUE(copy.verify("input", original.sign("input"))) << to_string(alg);
    EXPECT_THROW(copy.sign("input"), std::logic_error);
    EXPECT_THROW(copy.private_jwk(), std::logic_error);
  }
}

TEST(Jwk, PrivateJwkRoundTripsForEveryAlgorithm) {
  for (const Alg alg : kAllAlgs) {
    const Key& original = generated(alg);
    const std::string stored = original.private_jwk();
    const Key restored = import(stored);
    EXPECT_EQ(restored.alg(), alg);
    EXPECT_EQ(restored.kid(), original.kid());
    EXPECT_TRUE(restored.has_private());
    EXPECT_EQ(restored.private_jwk(), stored);
    EXPECT_EQ(restored.public_jwk(), original.public_jwk());
    EXPECT_TRUE(original.verify("input", restored.sign("input"))) << to_string(alg);
    EXPECT_TRUE(restored.verify("input", original.sign("input"))) << to_string(alg);
    if (alg != Alg::ES256) {
      EXPECT_EQ(restored.sign("input"), original.sign("input"));  // deterministic
    }
  }
  const boost::json::object rsa = json_of(generated(Alg::RS256).private_jwk());
  for (const char* member : {"n", "e", "d", "p", "q", "dp", "dq", "qi", "kid", "alg", "use"}) {
    EXPECT_TRUE(rsa.contains(member)) << member;
  }
  EXPECT_EQ(b64url_decode(json_of(generated(Alg::HS256).private_jwk()).at("k").as_string().c_str())
                ->size(),
            32u);
}

TEST(Jwk, ImportsAndExportsTheRfc8037PublicKey) {
  // RFC 8037 §A.2
  const Key key = import(jose_data("rfc8037_a2_key.json"));
  EXPECT_EQ(key.alg(), Alg::EdDSA);
  EXPECT_EQ(key.kid(), "");
  EXPECT_FALSE(key.has_private());
  EXPECT_EQ(key.public_jwk(),
            R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",)"
            R"("alg":"EdDSA","use":"sig"})");
}

TEST(Jwk, ImportsTheRfc8037PrivateKeyAndDerivesItsPublicKey) {
  // RFC 8037 §A.1
  const Key key = import(jose_data("rfc8037_a1_key.json"));
  EXPECT_TRUE(key.has_private());
  EXPECT_EQ(json_of(key.public_jwk()).at("x"), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
  EXPECT_EQ(json_of(key.private_jwk()).at("d"), "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
}

TEST(Jwk, ImportsTheRfcRsaEcAndOctKeys) {
  const Key rsa = import(jose_data("rfc7515_a2_key.json"), Alg::RS256);
  EXPECT_EQ(rsa.alg(), Alg::RS256);
  EXPECT_TRUE(rsa.has_private());
  const Key cookbook = import(jose_data("rfc7520_3_4_key.json"), Alg::RS256);
  EXPECT_EQ(cookbook.kid(), "bilbo.baggins@hobbiton.example");
  const Key ec = import(jose_data("rfc7515_a3_key.json"));  // alg inferred from kty/crv
  EXPECT_EQ(ec.alg(), Alg::ES256);
  EXPECT_TRUE(ec.has_private());
  const Key oct = import(jose_data("rfc7520_3_5_key.json"));
  EXPECT_EQ(oct.alg(), Alg::HS256);
  EXPECT_EQ(oct.kid(), "018c0ae5-4d9b-471b-bfd6-eef314bc7037");
  EXPECT_TRUE(oct.is_symmetric());
  EXPECT_TRUE(oct.has_private());
}

TEST(Jwk, ExportsRsaMembersInMinimalForm) {
  const std::string jwk_text = jose_data("rfc7515_a2_key.json");
  const boost::json::object original = json_of(jwk_text);
  const boost::json::object exported = json_of(import(jwk_text, Alg::RS256).private_jwk());
  for (const char* member : {"n", "e", "d", "p", "q", "dp", "dq", "qi"}) {
    EXPECT_EQ(exported.at(member), original.at(member)) << member;
  }
}

TEST(Jwk, ChoosesTheAlgorithm) {
  const std::string rsa = jose_data("rfc7515_a2_key.json");  // no "alg"
  EXPECT_EQ(import_error(rsa), "JWK: an RSA or oct key needs an \"alg\"");
  const std::string oct = jose_data("rfc7515_a1_key.json");  // no "alg"
  EXPECT_EQ(import_error(oct), "JWK: an RSA or oct key needs an \"alg\"");
  EXPECT_EQ(import(oct, Alg::HS256).alg(), Alg::HS256);
  EXPECT_EQ(import(with_member(rsa, "alg", "RS256")).alg(), Alg::RS256);
  // A present "alg" wins over the default; it must still fit the key type.
  EXPECT_EQ(import(with_member(rsa, "alg", "RS256"), Alg::HS256).alg(), Alg::RS256);
  EXPECT_EQ(import_error(rsa, Alg::HS256), "JWK: \"kty\" does not fit the algorithm");
  EXPECT_EQ(import_error(with_member(rsa, "alg", "ES256")),
            "JWK: \"kty\" does not fit the algorithm");
  const std::string ed = jose_data("rfc8037_a2_key.json");
  EXPECT_EQ(import_error(with_member(ed, "alg", "HS256")),
            "JWK: \"kty\" does not fit the algorithm");
  EXPECT_EQ(import_error(ed, Alg::ES256), "JWK: \"kty\" does not fit the algorithm");
  EXPECT_EQ(import_error(with_member(ed, "alg", "none")), "JWK: unsupported \"alg\"");
  EXPECT_EQ(import_error(with_member(ed, "alg", "Ed25519")), "JWK: unsupported \"alg\"");
}

TEST(Jwk, RefusesUnknownKeyTypesAndCurves) {
  const std::string ed = jose_data("rfc8037_a2_key.json");
  EXPECT_EQ(import_error(without_member(ed, "kty")), "JWK: missing \"kty\"");
  EXPECT_EQ(import_error(with_member(ed, "kty", "okp")), "JWK: unsupported \"kty\"");
  EXPECT_EQ(import_error(with_member(ed, "kty", "EC2")), "JWK: unsupported \"kty\"");
  for (const char* crv : {"Ed448", "X25519", "ed25519"}) {
    EXPECT_EQ(import_error(with_member(ed, "crv", crv)), "JWK: unsupported \"crv\"");
  }
  EXPECT_EQ(import_error(without_member(ed, "crv")), "JWK: missing \"crv\"");
  const std::string ec = jose_data("rfc7515_a3_key.json");
  for (const char* crv : {"P-384", "P-521", "secp256k1", "p-256"}) {
    EXPECT_EQ(import_error(with_member(ec, "crv", crv)), "JWK: unsupported \"crv\"");
  }
}

TEST(Jwk, RefusesMembersOfTheWrongTypeOrShape) {
  const std::string ed = jose_data("rfc8037_a2_key.json");
  EXPECT_EQ(import_error(with_member(ed, "x", 5)), "JWK: \"x\" is not a string");
  EXPECT_EQ(import_error(with_member(ed, "kid", boost::json::array{"a"})),
            "JWK: \"kid\" is not a string");
  EXPECT_EQ(import_error("[]"), "JWK: top level is not a JSON object");
  EXPECT_EQ(import_error(R"({"kty":"OKP","kty":"EC"})"), "JWK: duplicate member name");
  EXPECT_EQ(import_error(with_member(ed, "use", "enc")), "JWK: \"use\" is not \"sig\"");
  EXPECT_TRUE(Key::from_jwk(with_member(ed, "use", "sig"), nullptr));
  EXPECT_EQ(import_error(with_member(ed, "kid", std::string(257, 'k'))),
            "JWK: \"kid\" longer than 256 bytes");
  EXPECT_TRUE(Key::from_jwk(with_member(ed, "kid", std::string(256, 'k')), nullptr));
}

TEST(Jwk, RefusesWrongLengthsAndLooseBase64) {
  const std::string ed = jose_data("rfc8037_a1_key.json");
  const std::string x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
  EXPECT_EQ(import_error(with_member(ed, "x", x.substr(0, 42))),
            "JWK: \"x\" is not 32 bytes of base64url");
  EXPECT_EQ(import_error(with_member(ed, "x", x + "AA")),
            "JWK: \"x\" is not 32 bytes of base64url");
  EXPECT_EQ(import_error(with_member(ed, "x", x + "=")), "JWK: \"x\" is not 32 bytes of base64url");
  EXPECT_EQ(import_error(with_member(ed, "d", "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")),
            "JWK: \"d\" is not 32 bytes of base64url");
  EXPECT_EQ(import_error(without_member(ed, "x")), "JWK: missing \"x\"");

  const std::string ec = jose_data("rfc7515_a3_key.json");
  EXPECT_EQ(import_error(with_member(ec, "y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a")),
            "JWK: \"x\" or \"y\" is not 32 bytes of base64url");
  EXPECT_EQ(import_error(with_member(ec, "x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU ")),
            "JWK: \"x\" or \"y\" is not 32 bytes of base64url");
  EXPECT_EQ(import_error(with_member(ec, "d", "AA")), "JWK: \"d\" is not 32 bytes of base64url");
  EXPECT_EQ(import_error(without_member(ec, "y")), "JWK: missing \"x\" or \"y\"");

  const std::string oct = jose_data("rfc7520_3_5_key.json");
  EXPECT_EQ(import_error(with_member(oct, "k", b64url_encode(std::string(31, 'k')))),
            "JWK: \"k\" shorter than 32 bytes");
  EXPECT_EQ(import_error(with_member(oct, "k", "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG+Onbc6mxCcYg")),
            "JWK: \"k\" is not base64url");
  EXPECT_EQ(import_error(without_member(oct, "k")), "JWK: missing \"k\"");
}

TEST(Jwk, RefusesAnEd25519PublicKeyThatIsNotTheOneOfD) {
  const std::string ed = jose_data("rfc8037_a1_key.json");
  EXPECT_EQ(import_error(with_member(ed, "x", b64url_encode(std::string(32, 'x')))),
            "JWK: \"x\" is not the public key of \"d\"");
}

TEST(Jwk, RefusesEcPointsNotOnTheCurve) {
  const std::string ec = without_member(jose_data("rfc7515_a3_key.json"), "d");
  EXPECT_TRUE(Key::from_jwk(ec, nullptr));
  // The RFC point with its y changed in the last byte: no longer on P-256.
  const std::string off_curve = with_member(ec, "y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4");
  EXPECT_EQ(import_error(off_curve), "JWK: point not on the P-256 curve");
  EXPECT_EQ(import_error(with_member(ec, "x", b64url_encode(std::string(32, '\0')))),
            "JWK: point not on the P-256 curve");
}

TEST(Jwk, RefusesAnEcPrivateKeyThatDoesNotMatchItsPoint) {
  const std::string ec = jose_data("rfc7515_a3_key.json");
  const std::string other_d =
      json_of(generated(Alg::ES256).private_jwk()).at("d").as_string().c_str();
  EXPECT_EQ(import_error(with_member(ec, "d", other_d)), "JWK: invalid P-256 key pair");
}

TEST(Jwk, RefusesWeakOrIncompleteRsaKeys) {
  const std::string rsa = with_member(jose_data("rfc7515_a2_key.json"), "alg", "RS256");
  std::string public_only = rsa;
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi"}) {
    public_only = without_member(public_only, member);
  }
  EXPECT_FALSE(import(public_only).has_private());

  // 1024 bits: the top 128 bytes of the RFC modulus (odd or not, it is refused on size first).
  const std::string n = json_of(rsa).at("n").as_string().c_str();
  const std::string short_n = b64url_encode(b64url_decode(n)->substr(0, 128));
  EXPECT_EQ(import_error(with_member(public_only, "n", short_n)),
            "JWK: RSA modulus shorter than 2048 bits");
  EXPECT_EQ(import_error(with_member(public_only, "e", "Aw")),  // e = 3
            "JWK: RSA exponent must be odd and at least 65537");
  EXPECT_EQ(import_error(with_member(public_only, "e", "AQAA")),  // e = 65536
            "JWK: RSA exponent must be odd and at least 65537");
  EXPECT_EQ(import_error(without_member(public_only, "e")), "JWK: missing \"n\" or \"e\"");
  EXPECT_EQ(import_error(with_member(public_only, "n", n + "=")),
            "JWK: \"n\" or \"e\" is not base64url");
  // An even modulus of the right size fails OpenSSL's public key check.
  std::string even = *b64url_decode(n);
  even.back() = static_cast<char>(even.back() & 0xFE);
  EXPECT_EQ(import_error(with_member(public_only, "n", b64url_encode(even))),
            "JWK: invalid RSA public key");

  const std::string error = import_error(without_member(rsa, "qi"));
  EXPECT_EQ(error,
            "JWK: an RSA private key needs all of \"d\", \"p\", \"q\", \"dp\", \"dq\", \"qi\"");
  EXPECT_EQ(error.find(json_of(rsa).at("d").as_string().c_str()), std::string::npos);
  EXPECT_EQ(import_error(with_member(rsa, "oth", boost::json::array{})),
            "JWK: multi-prime RSA keys are not supported");
  // A private exponent that does not belong to the modulus.
  const std::string other_d =
      json_of(jose_data("rfc7520_3_4_key.json")).at("d").as_string().c_str();
  EXPECT_EQ(import_error(with_member(rsa, "d", other_d)), "JWK: invalid RSA private key");
}

TEST(Jwk, FromSecretNeedsThirtyTwoBytes) {
  EXPECT_THROW(Key::from_secret(std::string(31, 's'), "k"), std::invalid_argument);
  EXPECT_THROW(Key::from_secret("", "k"), std::invalid_argument);
  const Key key = Key::from_secret(std::string(32, 's'), "k");
  EXPECT_EQ(key.alg(), Alg::HS256);
  EXPECT_TRUE(key.is_symmetric());
  EXPECT_TRUE(key.has_private());
  EXPECT_EQ(key.kid(), "k");
  EXPECT_TRUE(key.verify("in", key.sign("in")));
  EXPECT_EQ(json_of(key.private_jwk()).at("k").as_string(),
            boost::json::string_view(b64url_encode(std::string(32, 's'))));
}

TEST(Jwk, RefusesSignaturesOfTheWrongSize) {
  for (const Alg alg : kAllAlgs) {
    const Key& key = generated(alg);
    const std::string signature = key.sign("input");
    EXPECT_FALSE(key.verify("input", signature.substr(0, signature.size() - 1)));
    EXPECT_FALSE(key.verify("input", signature + '\0'));
    EXPECT_FALSE(key.verify("input", ""));
    std::string flipped = signature;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 1);
    EXPECT_FALSE(key.verify("input", flipped)) << to_string(alg);
  }
}

TEST(Jwk, CopiesShareTheKey) {
  const Key copy = generated(Alg::EdDSA);  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.kid(), "ed");
  EXPECT_TRUE(generated(Alg::EdDSA).verify("input", copy.sign("input")));
}

TEST(Jwk, SignsAndVerifiesFromManyThreadsAtOnce) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 20; ++i) {
        for (const Alg alg : {Alg::EdDSA, Alg::ES256, Alg::HS256}) {
          const Key& key = generated(alg);
          const std::string input = "input " + std::to_string(t) + " " + std::to_string(i);
          const std::string signature = key.sign(input);
          if (!key.verify(input, signature) || key.verify(input + "x", signature)) ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace gatehouse::jose
