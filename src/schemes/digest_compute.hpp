#pragma once
// RFC 7616 §3.4.1–§3.4.4 computations for HTTP Digest: H, KD, A1/HA1 (and the -sess variant),
// A2/HA2 (qop auth and auth-int), the request digest ("response"), rspauth for
// Authentication-Info (§3.5) and the userhash (§3.4.4). Pure functions on OpenSSL EVP; every
// hash is returned as lower-case hex.
//
// Gatehouse requires qop: the RFC 2069 form without qop (response = KD(HA1, nonce:HA2)) has no
// client nonce and no nonce count, so it is refused (`response` returns nullopt).
//
// HA1 is password-equivalent: whoever knows it can answer any challenge of the realm. Callers
// treat it as a secret (never log it); the intermediate buffer holding the password is wiped.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "gatehouse/credential_store.hpp"
#include "gatehouse/secret.hpp"

namespace gatehouse::schemes {

enum class DigestAlgorithm { md5, md5_sess, sha256, sha256_sess, sha512_256, sha512_256_sess };

// RFC 7616 §3.4 qop-value: "auth" / "auth-int".
enum class DigestQop { auth, auth_int };

// Case-insensitive: "MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256",
// "SHA-512-256-sess". Anything else (including "SHA-512") is nullopt.
std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view name) noexcept;
// The RFC spelling, e.g. "SHA-512-256-sess".
std::string_view to_string(DigestAlgorithm algorithm) noexcept;
// The algorithm without "-sess".
DigestAlgorithm base(DigestAlgorithm algorithm) noexcept;
bool is_sess(DigestAlgorithm algorithm) noexcept;
// Length of the algorithm's hex output: 32 for MD5, 64 for SHA-256 and SHA-512-256.
std::size_t hex_length(DigestAlgorithm algorithm) noexcept;

// A store's HA1 algorithm (include/gatehouse/credential_store.hpp) as a Digest algorithm, and
// the base algorithm whose HA1 a (possibly -sess) Digest algorithm uses.
DigestAlgorithm to_digest_algorithm(Ha1Algorithm algorithm) noexcept;
Ha1Algorithm ha1_algorithm(DigestAlgorithm algorithm) noexcept;

// Case-insensitive "auth" / "auth-int".
std::optional<DigestQop> parse_digest_qop(std::string_view value) noexcept;
std::string_view to_string(DigestQop qop) noexcept;

// H(data): lower-case hex of the algorithm's hash. Empty only if OpenSSL fails (out of memory or
// the hash is unavailable); the functions below then refuse to produce a response.
std::string digest_hex(DigestAlgorithm algorithm, std::string_view data);

// §3.4.2 HA1 = H(username ":" realm ":" passwd) — the value an htdigest file stores. For a -sess
// algorithm this is the input of sess_ha1, not the session key itself.
std::string ha1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                const Secret& password);
// §3.4.2 -sess: H(HA1 ":" nonce ":" cnonce), computed whatever `algorithm` says; see session_ha1.
std::string sess_ha1(DigestAlgorithm algorithm, std::string_view ha1, std::string_view nonce,
                     std::string_view cnonce);
// The HA1 that enters the response: sess_ha1 for a -sess algorithm, `ha1` unchanged otherwise.
std::string session_ha1(DigestAlgorithm algorithm, std::string_view ha1, std::string_view nonce,
                        std::string_view cnonce);

// §3.4.3 HA2 = H(method ":" uri) for auth, H(method ":" uri ":" H(body)) for auth-int.
std::string ha2(DigestAlgorithm algorithm, std::string_view method, std::string_view uri,
                DigestQop qop, std::string_view body = {});

// §3.4.1 response = KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" HA2) with KD(s, d) = H(s ":" d).
// `ha1` is the session HA1 (session_ha1) and `qop` the value exactly as the client sent it
// (it enters the hash). nullopt when qop, nc or cnonce is empty (the RFC 2069 form) or when ha1 or
// ha2 is not hex of the algorithm's length.
std::optional<std::string> response(DigestAlgorithm algorithm, std::string_view ha1,
                                    std::string_view nonce, std::string_view nc,
                                    std::string_view cnonce, std::string_view qop,
                                    std::string_view ha2);

// §3.5 rspauth for Authentication-Info: the response computed with an empty method in A2
// (":" uri for auth; ":" uri ":" H(response body) for auth-int). `qop` as the client sent it;
// nullopt as for `response`, and when qop is neither auth nor auth-int.
std::optional<std::string> rspauth(DigestAlgorithm algorithm, std::string_view ha1,
                                   std::string_view nonce, std::string_view nc,
                                   std::string_view cnonce, std::string_view qop,
                                   std::string_view uri, std::string_view response_body = {});

// §3.4.4 userhash = H(username ":" realm).
std::string userhash(DigestAlgorithm algorithm, std::string_view username, std::string_view realm);

}  // namespace gatehouse::schemes
