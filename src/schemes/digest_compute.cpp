#include "schemes/digest_compute.hpp"
#include "gatehouse/http.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

#include "util/encoding.hpp"

namespace gatehouse::schemes {

namespace {

bool is_lower_hex(std::string_view s, std::size_t length) noexcept {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Fetched once: EVP_md5() and friends make every EVP_Digest look the algorithm up again, under
// a lock shared by all threads (bench/perf.md).
const EVP_MD* evp_md(DigestAlgorithm algorithm) noexcept {
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static EVP_MD* const sha512_256 = EVP_MD_fetch(nullptr, "SHA512-256", nullptr);
  switch (base(algorithm)) {
    case DigestAlgorithm::md5:
      return md5;
    case DigestAlgorithm::sha256:
      return sha256;
    default:
      return sha512_256;
  }
}

// The RFC's "s1 ":" s2 ":" ..." concatenation.
template <typename... Parts>
std::string join(const Parts&... parts) {
  std::string out;
  out.reserve((std::string_view(parts).size() + ...) + sizeof...(parts));
  bool first = true;
  for (std::string_view part : {std::string_view(parts)...}) {
    if (!first) out.push_back(':');
    out.append(part);
    first = false;
  }
  return out;
}

// Wipes a buffer that held a password when it goes out of scope.
struct Wiped {
  std::string value;
  ~Wiped() {
    if (value.capacity() > 0) OPENSSL_cleanse(value.data(), value.capacity());
  }
};

std::optional<std::string> kd_response(DigestAlgorithm algorithm, std::string_view ha1,
                                       std::string_view nonce, std::string_view nc,
                                       std::string_view cnonce, std::string_view qop,
                                       std::string_view ha2) {
  const std::size_t length = hex_length(algorithm);
  if (qop.empty() || nc.empty() || cnonce.empty()) return std::nullopt;
  if (!is_lower_hex(ha1, length) || !is_lower_hex(ha2, length)) return std::nullopt;
  std::string out = digest_hex(algorithm, join(ha1, nonce, nc, cnonce, qop, ha2));
  if (out.size() != length) return std::nullopt;
  return out;
}

}  // namespace

std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view name) noexcept {
  for (const auto algorithm : {DigestAlgorithm::md5, DigestAlgorithm::md5_sess,
                               DigestAlgorithm::sha256, DigestAlgorithm::sha256_sess,
                               DigestAlgorithm::sha512_256, DigestAlgorithm::sha512_256_sess}) {
    if (iequals(name, to_string(algorithm))) return algorithm;
  }
  return std::nullopt;
}

std::string_view to_string(DigestAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case DigestAlgorithm::md5:
      return "MD5";
    case DigestAlgorithm::md5_sess:
      return "MD5-sess";
    case DigestAlgorithm::sha256:
      return "SHA-256";
    case DigestAlgorithm::sha256_sess:
      return "SHA-256-sess";
    case DigestAlgorithm::sha512_256:
      return "SHA-512-256";
    case DigestAlgorithm::sha512_256_sess:
      return "SHA-512-256-sess";
  }
  return "MD5";
}

DigestAlgorithm base(DigestAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case DigestAlgorithm::md5_sess:
      return DigestAlgorithm::md5;
    case DigestAlgorithm::sha256_sess:
      return DigestAlgorithm::sha256;
    case DigestAlgorithm::sha512_256_sess:
      return DigestAlgorithm::sha512_256;
    default:
      return algorithm;
  }
}

bool is_sess(DigestAlgorithm algorithm) noexcept {
  return base(algorithm) != algorithm;
}

std::size_t hex_length(DigestAlgorithm algorithm) noexcept {
  return base(algorithm) == DigestAlgorithm::md5 ? 32 : 64;
}

std::optional<DigestQop> parse_digest_qop(std::string_view value) noexcept {
  if (iequals(value, "auth")) return DigestQop::auth;
  if (iequals(value, "auth-int")) return DigestQop::auth_int;
  return std::nullopt;
}

std::string_view to_string(DigestQop qop) noexcept {
  return qop == DigestQop::auth_int ? "auth-int" : "auth";
}

std::string digest_hex(DigestAlgorithm algorithm, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, evp_md(algorithm), nullptr) !=
          1 ||
      length * 2 != hex_length(algorithm)) {
    return {};
  }
  return util::hex_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

std::string ha1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                const Secret& password) {
  const Wiped a1{join(username, realm, password.reveal())};
  return digest_hex(algorithm, a1.value);
}

std::string sess_ha1(DigestAlgorithm algorithm, std::string_view ha1, std::string_view nonce,
                     std::string_view cnonce) {
  const Wiped a1{join(ha1, nonce, cnonce)};
  return digest_hex(algorithm, a1.value);
}

std::string session_ha1(DigestAlgorithm algorithm, std::string_view ha1, std::string_view nonce,
                        std::string_view cnonce) {
  return is_sess(algorithm) ? sess_ha1(algorithm, ha1, nonce, cnonce) : std::string(ha1);
}

std::string ha2(DigestAlgorithm algorithm, std::string_view method, std::string_view uri,
                DigestQop qop, std::string_view body) {
  if (qop == DigestQop::auth_int) {
    const std::string body_hash = digest_hex(algorithm, body);
    if (body_hash.empty()) return {};
    return digest_hex(algorithm, join(method, uri, body_hash));
  }
  return digest_hex(algorithm, join(method, uri));
}

std::optional<std::string> response(DigestAlgorithm algorithm, std::string_view ha1,
                                    std::string_view nonce, std::string_view nc,
                                    std::string_view cnonce, std::string_view qop,
                                    std::string_view ha2) {
  return kd_response(algorithm, ha1, nonce, nc, cnonce, qop, ha2);
}

std::optional<std::string> rspauth(DigestAlgorithm algorithm, std::string_view ha1,
                                   std::string_view nonce, std::string_view nc,
                                   std::string_view cnonce, std::string_view qop,
                                   std::string_view uri, std::string_view response_body) {
  const auto kind = parse_digest_qop(qop);
  if (!kind) return std::nullopt;
  return kd_response(algorithm, ha1, nonce, nc, cnonce, qop,
                     ha2(algorithm, "", uri, *kind, response_body));
}

std::string userhash(DigestAlgorithm algorithm, std::string_view username, std::string_view realm) {
  return digest_hex(algorithm, join(username, realm));
}

DigestAlgorithm to_digest_algorithm(Ha1Algorithm algorithm) noexcept {
  switch (algorithm) {
    case Ha1Algorithm::md5:
      return DigestAlgorithm::md5;
    case Ha1Algorithm::sha256:
      return DigestAlgorithm::sha256;
    case Ha1Algorithm::sha512_256:
      return DigestAlgorithm::sha512_256;
  }
  return DigestAlgorithm::md5;
}

Ha1Algorithm ha1_algorithm(DigestAlgorithm algorithm) noexcept {
  switch (base(algorithm)) {
    case DigestAlgorithm::sha256:
      return Ha1Algorithm::sha256;
    case DigestAlgorithm::sha512_256:
      return Ha1Algorithm::sha512_256;
    default:
      return Ha1Algorithm::md5;
  }
}

}  // namespace gatehouse::schemes
