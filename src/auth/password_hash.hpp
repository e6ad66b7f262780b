#pragma once
// Password hash formats gatehouse verifies: its own argon2id (libsodium), and what Apache's
// htpasswd and system tools write: bcrypt $2y$/$2b$/$2a$, $apr1$ (Apache MD5), {SHA}, and the
// crypt(3) family through libxcrypt ($1$, $5$, $6$, $y$ yescrypt, $gy$, DES).
#include <string>
#include <string_view>

namespace gatehouse::auth {

enum class HashFormat { argon2id, bcrypt, apr1, sha1, crypt, plain, unknown };

HashFormat detect_hash_format(std::string_view encoded) noexcept;

// Constant time in the password for a given hash; false for a wrong password and for any
// malformed or unsupported hash (never throws, never crashes on hostile input).
bool verify_password(std::string_view encoded, std::string_view password) noexcept;

// gatehouse's own format: argon2id, t=2, m=19 MiB, p=1 (libsodium crypto_pwhash_str).
std::string hash_argon2id(std::string_view password);
// "$2y$<cost>$..." as Apache htpasswd -B writes it (libxcrypt).
std::string hash_bcrypt(std::string_view password, int cost = 10);

// True when a stored hash is weaker than the current default and should be upgraded on login.
bool needs_rehash(std::string_view encoded) noexcept;

}  // namespace gatehouse::auth
