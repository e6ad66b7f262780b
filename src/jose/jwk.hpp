#pragma once
// JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) and signing keys as JSON Web Keys (RFC 7517),
// on OpenSSL 3's EVP API. OpenSSL types stay in jwk.cpp.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::jose {

// The JWS algorithms gatehouse signs and verifies with. "none" (RFC 7518 §3.6) is not one.
enum class Alg {
  EdDSA,  // RFC 8037 §3.1, Ed25519 only
  ES256,  // RFC 7518 §3.4, ECDSA P-256 with SHA-256
  RS256,  // RFC 7518 §3.3, RSASSA-PKCS1-v1_5 with SHA-256
  HS256,  // RFC 7518 §3.2, HMAC with SHA-256
};

// "EdDSA", "ES256", "RS256", "HS256".
std::string_view to_string(Alg alg) noexcept;
// Exact, case-sensitive match of the names above (RFC 7515 §4.1.1 "alg" is case-sensitive);
// nullopt for anything else, "none" included.
std::optional<Alg> parse_alg(std::string_view name) noexcept;

// Longest "kid" accepted in a key or a token header, in bytes.
inline constexpr std::size_t kMaxKidBytes = 256;

// One key with exactly one allowed algorithm (RFC 8725 §3.1: the key, never the token, decides
// the algorithm). Cheap to copy: copies share immutable state. Safe for concurrent sign and
// verify from any number of threads.
class Key {
 public:
  // A fresh key: Ed25519 (EdDSA), P-256 (ES256), RSA-2048 with e = 65537 (RS256), or 32 random
  // bytes (HS256). Throws std::invalid_argument for a kid over kMaxKidBytes and
  // std::runtime_error when OpenSSL fails.
  static Key generate(Alg alg, std::string kid);

  // From the text of one JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2), public or private, read
  // with parse_object_strict. The algorithm is the "alg" member when present (it wins over
  // `default_alg`), otherwise `default_alg`, otherwise inferred from an OKP (EdDSA) or EC (ES256)
  // key; an RSA or oct key with neither is refused. "kty" must fit the algorithm. Refuses: unknown
  // "kty" or "crv" (only Ed25519 and P-256); "use" other than "sig"; a member read here that is
  // not a string; anything that is not strict base64url; Ed25519 "x"/"d" and P-256 "x"/"y"/"d"
  // that are not exactly 32 bytes; an Ed25519 "x" that is not the public key of "d"; EC points not
  // on the curve and "d" that does not match the point; an RSA modulus under 2048 or over 16384
  // bits; an RSA exponent that is even or under 65537 (SP 800-56B); an RSA private key without all
  // of "d", "p", "q", "dp", "dq", "qi", or with "oth" (multi-prime), or that fails OpenSSL's
  // consistency check; oct keys under 32 bytes; a "kid" over kMaxKidBytes. "kid" is empty when
  // absent. Returns nullopt and sets *error (when non-null) to a reason that quotes no key
  // material; throws std::runtime_error only when OpenSSL itself fails (out of memory).
  static std::optional<Key> from_jwk(std::string_view jwk_json, std::string* error,
                                     std::optional<Alg> default_alg = std::nullopt);

  // A raw HMAC secret for HS256. Throws std::invalid_argument when it is shorter than 32 bytes
  // (RFC 7518 §3.2: at least the hash size) or the kid is over kMaxKidBytes.
  static Key from_secret(std::string_view secret, std::string kid);

  Alg alg() const noexcept;
  const std::string& kid() const noexcept;
  bool has_private() const noexcept;   // true for HS256 keys
  bool is_symmetric() const noexcept;  // HS256

  // The public JWK: {"kty", "crv"?, "x"?, "y"?, "n"?, "e"?, "kid"?, "alg", "use":"sig"}, in that
  // order, "kid" left out when empty. Never private parts; for a symmetric key returns an empty
  // string, since its only part is the secret.
  std::string public_jwk() const;
  // The full JWK for storage: the public members plus "d" (OKP, EC, RSA), "p", "q", "dp", "dq",
  // "qi" (RSA) or "k" (oct). Throws std::logic_error when !has_private().
  std::string private_jwk() const;

  // The JWS Signature over `signing_input` (RFC 7515 §5.1 step 5). ES256 yields the 64-byte R||S
  // of RFC 7518 §3.4, not DER. Throws std::logic_error without a private key and
  // std::runtime_error when OpenSSL fails.
  std::string sign(std::string_view signing_input) const;
  // True when `signature` is a valid signature over `signing_input` with this key's algorithm.
  // HS256 compares in constant time; ES256 accepts only the 64-byte R||S form (a DER signature is
  // refused, RFC 7518 §3.4); EdDSA only 64 bytes. Never throws.
  bool verify(std::string_view signing_input, std::string_view signature) const noexcept;

 private:
  struct State;
  explicit Key(std::shared_ptr<const State> state) noexcept;
  std::shared_ptr<const State> state_;
};

}  // namespace gatehouse::jose
