// Written by hand because no Debian library implements "$apr1$": libxcrypt has only "$1$"
// (same algorithm, different magic string), and the only implementation of the Apache variant,
// apr-util's apr_md5_encode, drags in the APR runtime. This is Poul-Henning Kamp's MD5-crypt
// with the magic "$apr1$", as in apr-util crypto/apr_md5.c, on OpenSSL's EVP MD5.
#include "auth/apr1.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>

namespace gatehouse::auth {
namespace {

constexpr std::string_view kMagic = "$apr1$";
constexpr std::size_t kMaxSaltBytes = 8;
constexpr std::size_t kDigestBytes = 16;
constexpr std::string_view kCryptAlphabet =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

using Digest = std::array<unsigned char, kDigestBytes>;

struct MdDeleter {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

// One MD5 computation at a time over a reused context.
class Md5 {
 public:
  Md5() : md_(EVP_MD_fetch(nullptr, "MD5", nullptr)), ctx_(EVP_MD_CTX_new()) {}
  bool ok() const noexcept { return md_ && ctx_; }
  bool begin() noexcept { return EVP_DigestInit_ex(ctx_.get(), md_.get(), nullptr) == 1; }
  bool add(std::string_view bytes) noexcept {
    return EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) == 1;
  }
  bool add(const Digest& digest, std::size_t length = kDigestBytes) noexcept {
    return EVP_DigestUpdate(ctx_.get(), digest.data(), length) == 1;
  }
  bool finish(Digest& out) noexcept {
    unsigned int length = 0;
    return EVP_DigestFinal_ex(ctx_.get(), out.data(), &length) == 1 && length == kDigestBytes;
  }

 private:
  std::unique_ptr<EVP_MD, MdDeleter> md_;
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx_;
};

// The crypt(3) base-64 of `count` characters from the low bits of `value`, least significant first.
void append_crypt64(std::string& out, unsigned long value, int count) {
  for (int i = 0; i < count; ++i) {
    out.push_back(kCryptAlphabet[value & 0x3f]);
    value >>= 6;
  }
}

bool md5_crypt(std::string_view password, std::string_view salt, Digest& result) {
  Md5 md5;
  if (!md5.ok()) return false;

  Digest alternate{};
  if (!md5.begin() || !md5.add(password) || !md5.add(salt) || !md5.add(password) ||
      !md5.finish(alternate)) {
    return false;
  }

  bool ok = md5.begin() && md5.add(password) && md5.add(kMagic) && md5.add(salt);
  for (std::size_t left = password.size(); ok && left > 0;) {
    const std::size_t chunk = std::min(left, kDigestBytes);
    ok = md5.add(alternate, chunk);
    left -= chunk;
  }
  // One byte per bit of the length: NUL for a set bit, the first password byte for a clear one.
  const std::string_view first_byte = password.substr(0, 1);
  for (std::size_t bits = password.size(); ok && bits != 0; bits >>= 1) {
    ok = (bits & 1) ? md5.add(std::string_view("\0", 1)) : md5.add(first_byte);
  }
  Digest state{};
  ok = ok && md5.finish(state);

  // 1000 rounds to slow down guessing.
  for (int round = 0; ok && round < 1000; ++round) {
    ok = md5.begin();
    ok = ok && ((round & 1) ? md5.add(password) : md5.add(state));
    if (round % 3 != 0) ok = ok && md5.add(salt);
    if (round % 7 != 0) ok = ok && md5.add(password);
    ok = ok && ((round & 1) ? md5.add(state) : md5.add(password));
    ok = ok && md5.finish(state);
  }

  OPENSSL_cleanse(alternate.data(), alternate.size());
  if (ok) result = state;
  OPENSSL_cleanse(state.data(), state.size());
  return ok;
}

}  // namespace

std::optional<std::string> apr1_crypt(std::string_view password, std::string_view salt) {
  if (salt.size() > kMaxSaltBytes || salt.find_first_of(std::string_view("$\0", 2)) != salt.npos) {
    return std::nullopt;
  }
  Digest digest{};
  if (!md5_crypt(password, salt, digest)) return std::nullopt;

  std::string encoded;
  encoded.reserve(kMagic.size() + salt.size() + 1 + 22);
  encoded.append(kMagic).append(salt).push_back('$');
  const auto byte = [&digest](int index) -> unsigned long { return digest[index]; };
  append_crypt64(encoded, (byte(0) << 16) | (byte(6) << 8) | byte(12), 4);
  append_crypt64(encoded, (byte(1) << 16) | (byte(7) << 8) | byte(13), 4);
  append_crypt64(encoded, (byte(2) << 16) | (byte(8) << 8) | byte(14), 4);
  append_crypt64(encoded, (byte(3) << 16) | (byte(9) << 8) | byte(15), 4);
  append_crypt64(encoded, (byte(4) << 16) | (byte(10) << 8) | byte(5), 4);
  append_crypt64(encoded, byte(11), 2);
  OPENSSL_cleanse(digest.data(), digest.size());
  return encoded;
}

}  // namespace gatehouse::auth
