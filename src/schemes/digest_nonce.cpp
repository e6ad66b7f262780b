#include "schemes/digest_nonce.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>
#include <stdexcept>

#include "util/encoding.hpp"

namespace gatehouse::schemes {

namespace {

constexpr std::size_t kTimeBytes = 8;
constexpr std::size_t kRandomBytes = 16;
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kNonceBytes = kTimeBytes + kRandomBytes + kMacBytes;
constexpr std::string_view kLabel{"gatehouse digest nonce v1\0", 26};

static_assert(NonceService::kEncodedSize == (kNonceBytes * 4 + 2) / 3);

std::string base64url_encode(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// Strict: only the url-safe alphabet, exactly the nonce's length, and canonical (re-encoding
// gives the same text, so one nonce has one spelling — NonceCounter keys on the text).
std::optional<std::string> decode_nonce(std::string_view text) {
  if (text.size() != NonceService::kEncodedSize) return std::nullopt;
  for (const char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  std::string out(kNonceBytes, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size() || length != kNonceBytes) {
    return std::nullopt;
  }
  if (base64url_encode(out) != text) return std::nullopt;
  return out;
}

std::string encode_time(std::int64_t ms) {
  std::string out(kTimeBytes, '\0');
  auto v = static_cast<std::uint64_t>(ms);
  for (std::size_t i = kTimeBytes; i-- > 0;) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::int64_t decode_time(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < kTimeBytes; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return static_cast<std::int64_t>(v);
}

}  // namespace

NonceService::NonceService(std::string secret, std::string realm,
                           std::chrono::milliseconds lifetime, const Clock& clock)
    : secret_(secret), realm_(std::move(realm)), lifetime_(lifetime), clock_(clock) {
  OPENSSL_cleanse(secret.data(), secret.size());
  if (secret_.size() < 16) throw std::invalid_argument("digest nonce secret shorter than 16 bytes");
  if (lifetime_.count() <= 0) throw std::invalid_argument("digest nonce lifetime must be positive");
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  const std::string_view key = secret_.reveal();
  crypto_auth_hmacsha256_init(&keyed_, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&keyed_, reinterpret_cast<const unsigned char*>(kLabel.data()),
                                kLabel.size());
  crypto_auth_hmacsha256_update(&keyed_, reinterpret_cast<const unsigned char*>(realm_.data()),
                                realm_.size());
}

NonceService::~NonceService() {
  sodium_memzero(&keyed_, sizeof keyed_);
}

std::string NonceService::mac(std::string_view issued_and_random) const {
  // HMAC(secret, label ‖ realm ‖ time ‖ random), from a state keyed (and fed the fixed prefix)
  // once at construction.
  crypto_auth_hmacsha256_state state = keyed_;
  crypto_auth_hmacsha256_update(&state,
                                reinterpret_cast<const unsigned char*>(issued_and_random.data()),
                                issued_and_random.size());
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> out{};
  crypto_auth_hmacsha256_final(&state, out.data());
  return std::string(reinterpret_cast<const char*>(out.data()), kMacBytes);
}

std::string NonceService::issue() const {
  std::string raw = encode_time(clock_.now_ms());
  raw += util::random_bytes(kRandomBytes);
  const std::string tag = mac(raw);
  if (tag.size() != kMacBytes) return {};  // OpenSSL failure: an empty nonce never verifies
  raw += tag;
  return base64url_encode(raw);
}

NonceCheck NonceService::check(std::string_view nonce) const {
  NonceCheck result;
  const auto raw = decode_nonce(nonce);
  if (!raw) return result;  // malformed
  const std::string_view body = std::string_view(*raw).substr(0, kTimeBytes + kRandomBytes);
  const std::string_view tag = std::string_view(*raw).substr(kTimeBytes + kRandomBytes);
  const std::string expected = mac(body);
  if (expected.size() != kMacBytes || CRYPTO_memcmp(expected.data(), tag.data(), kMacBytes) != 0) {
    result.status = NonceCheck::Status::forged;
    return result;
  }
  const std::int64_t issued = decode_time(body);
  const std::int64_t life = lifetime_.count();
  const std::int64_t age = clock_.now_ms() - issued;
  result.issued_ms = issued;
  // A nonce from the future (clock stepped back, or another instance slightly ahead) counts as
  // just issued, unless it is further ahead than a whole lifetime.
  if (age >= life || age < -life) {
    result.status = NonceCheck::Status::stale;
    return result;
  }
  result.status = NonceCheck::Status::valid;
  result.about_to_expire = age >= life - life / 10;
  return result;
}

}  // namespace gatehouse::schemes
