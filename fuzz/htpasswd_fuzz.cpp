// Fuzzes htpasswd files: every line goes through parse_htpasswd_line, and each entry's hash
// through detect_hash_format, needs_rehash and verify_password. Hashes whose work factor the
// input controls (argon2id, bcrypt above cost 6, rounds=/yescrypt/scrypt/SunMD5/sha1crypt
// settings) are not verified, to keep each run fast; their parsing in libsodium and libxcrypt is
// not what this target tests.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "auth/password_hash.hpp"
#include "stores/htpasswd_store.hpp"

namespace {

using gatehouse::auth::HashFormat;

bool cheap_to_verify(std::string_view hash) {
  switch (gatehouse::auth::detect_hash_format(hash)) {
    case HashFormat::argon2id:
      return false;
    case HashFormat::bcrypt:
      // "$2y$NN$...": the cost is two decimal digits.
      return hash.size() >= 7 && hash[4] == '0' && hash[5] >= '0' && hash[5] <= '6';
    case HashFormat::crypt:
      return (hash.starts_with("$1$") || hash.starts_with("$5$") || hash.starts_with("$6$") ||
              !hash.starts_with("$")) &&
             hash.find("rounds=") == std::string_view::npos;
    case HashFormat::apr1:
    case HashFormat::sha1:
    case HashFormat::plain:
    case HashFormat::unknown:
      return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);

    const auto parsed = gatehouse::stores::parse_htpasswd_line(line);
    const auto* entry = std::get_if<gatehouse::stores::HtpasswdEntry>(&parsed);
    if (entry == nullptr) continue;
    if (entry->username.empty() || entry->hash.empty()) __builtin_trap();  // parser contract
    if (entry->username.find(':') != std::string::npos) __builtin_trap();

    (void)gatehouse::auth::needs_rehash(entry->hash);
    if (cheap_to_verify(entry->hash)) {
      (void)gatehouse::auth::verify_password(entry->hash, "password");
      // The password is the input's hash text itself: {PLAIN}x must accept exactly x.
      if (entry->hash.starts_with("{PLAIN}") &&
          !gatehouse::auth::verify_password(entry->hash, std::string_view(entry->hash).substr(7))) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
