#include "auth/password_hash.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include "auth/apr1.hpp"

namespace gatehouse::auth {
namespace {

constexpr unsigned long long kArgon2idOpsLimit = 2;
constexpr std::size_t kArgon2idMemLimit = 19 * 1024 * 1024;
constexpr std::uint64_t kArgon2idMemKiB = kArgon2idMemLimit / 1024;
constexpr std::uint64_t kArgon2Version13 = 0x13;

// Refused before any work: no hash gatehouse reads is longer than a few hundred bytes, and an
// over-long password would only make the per-byte formats (apr1, {SHA}) slow.
constexpr std::size_t kMaxEncodedBytes = 1024;
constexpr std::size_t kMaxPasswordBytes = 4096;
// An argon2id hash asking for more than this is refused rather than allowed to exhaust memory
// or a worker: 16x the memory and 8x the passes of the current default.
constexpr std::uint64_t kMaxArgon2idMemKiB = 16 * kArgon2idMemKiB;
constexpr std::uint64_t kMaxArgon2idPasses = 16;

constexpr std::string_view kArgon2idPrefix = "$argon2id$";
constexpr std::string_view kApr1Prefix = "$apr1$";
constexpr std::string_view kSha1Prefix = "{SHA}";
constexpr std::string_view kPlainPrefix = "{PLAIN}";
// Apache htpasswd -B writes $2y$; $2b$ is the current OpenBSD name, $2a$ the older one.
constexpr std::array<std::string_view, 3> kBcryptPrefixes = {"$2y$", "$2b$", "$2a$"};
// The libxcrypt methods accepted under HashFormat::crypt (besides 13-character DES).
constexpr std::array<std::string_view, 8> kCryptPrefixes = {"$1$",  "$5$", "$6$",    "$y$",
                                                            "$gy$", "$7$", "$sha1$", "$md5"};

bool has_nul(std::string_view text) noexcept {
  return text.find('\0') != text.npos;
}

bool is_crypt64_char(char c) noexcept {
  return c == '.' || c == '/' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         (c >= 'a' && c <= 'z');
}

// Traditional DES crypt: two salt characters and eleven hash characters, all crypt base-64.
bool is_des_crypt(std::string_view encoded) noexcept {
  if (encoded.size() != 13) return false;
  for (char c : encoded) {
    if (!is_crypt64_char(c)) return false;
  }
  return true;
}

bool equal_length_constant_time(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ensure_sodium() noexcept {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

struct Argon2Params {
  std::uint64_t version = 0x10;  // absent "v=" means Argon2 1.0, as libsodium reads it
  std::uint64_t memory_kib = 0;
  std::uint64_t passes = 0;
  std::uint64_t lanes = 0;
};

// Reads `key=<decimal>` from the front of `text` and consumes it.
std::optional<std::uint64_t> take_number(std::string_view& text, std::string_view key) {
  if (!text.starts_with(key)) return std::nullopt;
  text.remove_prefix(key.size());
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

// "$argon2id$[v=19$]m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>" (the PHC string libsodium
// writes); only the parameters are read, libsodium checks the rest.
std::optional<Argon2Params> parse_argon2id_params(std::string_view encoded) {
  if (!encoded.starts_with(kArgon2idPrefix)) return std::nullopt;
  std::string_view rest = encoded.substr(kArgon2idPrefix.size());
  Argon2Params params;
  if (rest.starts_with("v=")) {
    const auto version = take_number(rest, "v=");
    if (!version || !rest.starts_with('$')) return std::nullopt;
    params.version = *version;
    rest.remove_prefix(1);
  }
  const auto memory = take_number(rest, "m=");
  if (!memory || !rest.starts_with(',')) return std::nullopt;
  rest.remove_prefix(1);
  const auto passes = take_number(rest, "t=");
  if (!passes || !rest.starts_with(',')) return std::nullopt;
  rest.remove_prefix(1);
  const auto lanes = take_number(rest, "p=");
  if (!lanes || !rest.starts_with('$')) return std::nullopt;
  params.memory_kib = *memory;
  params.passes = *passes;
  params.lanes = *lanes;
  return params;
}

bool verify_argon2id(std::string_view encoded, std::string_view password) {
  const auto params = parse_argon2id_params(encoded);
  if (!params || params->memory_kib > kMaxArgon2idMemKiB || params->passes > kMaxArgon2idPasses) {
    return false;
  }
  if (encoded.size() >= crypto_pwhash_STRBYTES || !ensure_sodium()) return false;
  std::array<char, crypto_pwhash_STRBYTES> terminated{};
  encoded.copy(terminated.data(), encoded.size());
  return crypto_pwhash_str_verify(terminated.data(), password.data(), password.size()) == 0;
}

// bcrypt and the crypt(3) family: hash the password with the stored string as the setting and
// compare the results. crypt(3) takes C strings, so a password with a NUL is refused instead of
// being silently cut short.
bool verify_crypt(std::string_view encoded, std::string_view password) {
  if (has_nul(password) || password.size() > CRYPT_MAX_PASSPHRASE_SIZE - 1) return false;
  const std::string setting(encoded);
  const std::string phrase(password);
  crypt_data data{};
  const char* hashed = crypt_rn(phrase.c_str(), setting.c_str(), &data, sizeof data);
  bool match = hashed != nullptr && hashed[0] != '*' && equal_length_constant_time(hashed, encoded);
  OPENSSL_cleanse(&data, sizeof data);
  return match;
}

bool verify_apr1(std::string_view encoded, std::string_view password) {
  const std::string_view rest = encoded.substr(kApr1Prefix.size());
  const std::size_t salt_end = rest.find('$');
  if (salt_end == rest.npos) return false;
  const auto computed = apr1_crypt(password, rest.substr(0, salt_end));
  return computed && equal_length_constant_time(*computed, encoded);
}

// {SHA}: base64 of the SHA-1 digest, unsalted (htpasswd -s).
bool verify_sha1(std::string_view encoded, std::string_view password) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  if (EVP_Digest(password.data(), password.size(), digest.data(), &digest_length, EVP_sha1(),
                 nullptr) != 1) {
    return false;
  }
  std::array<char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> base64{};
  const int base64_length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()),
                                            digest.data(), static_cast<int>(digest_length));
  const std::string_view expected(base64.data(), static_cast<std::size_t>(base64_length));
  return equal_length_constant_time(expected, encoded.substr(kSha1Prefix.size()));
}

// {PLAIN}: compared through SHA-256 so the time does not depend on where or whether the lengths
// differ.
bool verify_plain(std::string_view encoded, std::string_view password) {
  const std::string_view stored = encoded.substr(kPlainPrefix.size());
  std::array<unsigned char, EVP_MAX_MD_SIZE> stored_digest{};
  std::array<unsigned char, EVP_MAX_MD_SIZE> given_digest{};
  unsigned int stored_length = 0;
  unsigned int given_length = 0;
  if (EVP_Digest(stored.data(), stored.size(), stored_digest.data(), &stored_length, EVP_sha256(),
                 nullptr) != 1 ||
      EVP_Digest(password.data(), password.size(), given_digest.data(), &given_length, EVP_sha256(),
                 nullptr) != 1 ||
      stored_length != given_length) {
    return false;
  }
  return CRYPTO_memcmp(stored_digest.data(), given_digest.data(), stored_length) == 0;
}

}  // namespace

HashFormat detect_hash_format(std::string_view encoded) noexcept {
  if (encoded.starts_with(kArgon2idPrefix)) return HashFormat::argon2id;
  for (std::string_view prefix : kBcryptPrefixes) {
    if (encoded.starts_with(prefix)) return HashFormat::bcrypt;
  }
  if (encoded.starts_with(kApr1Prefix)) return HashFormat::apr1;
  if (encoded.starts_with(kSha1Prefix)) return HashFormat::sha1;
  if (encoded.starts_with(kPlainPrefix)) return HashFormat::plain;
  for (std::string_view prefix : kCryptPrefixes) {
    if (encoded.starts_with(prefix)) return HashFormat::crypt;
  }
  if (is_des_crypt(encoded)) return HashFormat::crypt;
  return HashFormat::unknown;
}

bool verify_password(std::string_view encoded, std::string_view password) noexcept {
  if (encoded.size() > kMaxEncodedBytes || password.size() > kMaxPasswordBytes ||
      has_nul(encoded)) {
    return false;
  }
  try {
    switch (detect_hash_format(encoded)) {
      case HashFormat::argon2id:
        return verify_argon2id(encoded, password);
      case HashFormat::bcrypt:
      case HashFormat::crypt:
        return verify_crypt(encoded, password);
      case HashFormat::apr1:
        return verify_apr1(encoded, password);
      case HashFormat::sha1:
        return verify_sha1(encoded, password);
      case HashFormat::plain:
        return verify_plain(encoded, password);
      case HashFormat::unknown:
        return false;
    }
  } catch (...) {
    // Only allocation can throw here; a verification that cannot run does not succeed.
  }
  return false;
}

std::string hash_argon2id(std::string_view password) {
  if (!ensure_sodium()) throw std::runtime_error("libsodium initialisation failed");
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), kArgon2idOpsLimit,
                            kArgon2idMemLimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id hashing failed (out of memory)");
  }
  return std::string(out.data());
}

std::string hash_bcrypt(std::string_view password, int cost) {
  if (has_nul(password) || password.size() > CRYPT_MAX_PASSPHRASE_SIZE - 1) {
    throw std::invalid_argument("bcrypt: password contains NUL or is too long");
  }
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  // libxcrypt generates "$2y$" settings itself (random bytes from the OS).
  if (crypt_gensalt_rn("$2y$", cost, nullptr, 0, setting.data(), setting.size()) == nullptr) {
    throw std::invalid_argument("bcrypt: cost must be between 4 and 31");
  }
  const std::string phrase(password);
  crypt_data data{};
  const char* hashed = crypt_rn(phrase.c_str(), setting.data(), &data, sizeof data);
  if (hashed == nullptr || hashed[0] == '*') {
    OPENSSL_cleanse(&data, sizeof data);
    throw std::runtime_error("bcrypt hashing failed");
  }
  std::string result(hashed);
  OPENSSL_cleanse(&data, sizeof data);
  return result;
}

bool needs_rehash(std::string_view encoded) noexcept {
  const auto params = parse_argon2id_params(encoded);
  if (!params) return true;
  // libsodium checks the whole string; its "different parameters" answer (1) is refined below,
  // since stronger-than-current parameters need no rehash.
  if (encoded.size() >= crypto_pwhash_STRBYTES || has_nul(encoded) || !ensure_sodium()) return true;
  std::array<char, crypto_pwhash_STRBYTES> terminated{};
  encoded.copy(terminated.data(), encoded.size());
  if (crypto_pwhash_str_needs_rehash(terminated.data(), kArgon2idOpsLimit, kArgon2idMemLimit) < 0) {
    return true;
  }
  return params->version != kArgon2Version13 || params->memory_kib < kArgon2idMemKiB ||
         params->passes < kArgon2idOpsLimit;
}

}  // namespace gatehouse::auth
