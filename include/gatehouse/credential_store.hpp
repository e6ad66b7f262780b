#pragma once
// Credential stores, split by capability as in Apache httpd's authn providers: a store can verify
// a password (give a password record), give a Digest HA1, find an API key, or map a principal.
// Stores form a chain: `unknown_user` moves on to the next store, anything else stops.
// Lookups are in-memory and fast (snapshots); reading files or the database happens in refresh().
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

enum class StoreCapability { password, digest_ha1, api_key, principal };

struct PasswordRecord {
  std::string username;            // canonical name as stored
  std::string hash;                // encoded hash: $argon2id$, $2y$, $apr1$, {SHA}, crypt(3), ...
  std::vector<std::string> roles;  // roles this store grants
  bool disabled = false;
};

enum class LookupStatus { found, unknown_user, error };

struct PasswordLookup {
  LookupStatus status = LookupStatus::unknown_user;
  PasswordRecord record;
  std::string error;  // for LookupStatus::error, for the log
};

// The Digest HA1 = H(username ":" realm ":" password) a store holds for one algorithm
// (RFC 7616 §3.4.2). Password-equivalent: treat as a secret.
struct Ha1Record {
  std::string username;  // canonical name as stored
  std::string ha1;       // lower-case hex of the algorithm's length
  std::vector<std::string> roles;
  bool disabled = false;
};

struct Ha1Lookup {
  LookupStatus status = LookupStatus::unknown_user;
  Ha1Record record;
};

// Base Digest algorithms a store may hold HA1 for ("-sess" variants derive from the same HA1).
enum class Ha1Algorithm { md5, sha256, sha512_256 };

struct ApiKeyRecord {
  std::string id;                             // public part of gh_<id>_<secret>
  std::string username;                       // owner
  std::array<unsigned char, 32> secret_hash;  // SHA-256 of the secret part
  std::vector<std::string> roles;             // effective roles (already narrowed to the owner's)
  std::optional<std::int64_t> expires;        // unix seconds
  bool usable = true;                         // false when revoked or the owner is disabled
  // Last use, shared across snapshots so refreshes do not lose it; flushed to the store lazily.
  std::shared_ptr<std::atomic<std::int64_t>> last_used;
};

struct ApiKeyLookup {
  LookupStatus status = LookupStatus::unknown_user;
  std::shared_ptr<const ApiKeyRecord> record;
};

class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // As named in the configuration: "db", "htpasswd:/etc/gatehouse/htpasswd", "static".
  virtual std::string_view name() const noexcept = 0;
  virtual bool can(StoreCapability capability) const noexcept = 0;

  virtual PasswordLookup find_password(std::string_view username) const {
    return {LookupStatus::unknown_user, {}, {}};
  }
  virtual ApiKeyLookup find_api_key(std::string_view id) const { return {}; }
  // Whether the user exists here and is not disabled; nullopt when this store does not know
  // them. Asked on every bearer-token request, so snapshot stores answer without copying.
  virtual std::optional<bool> user_active(std::string_view username) const {
    const PasswordLookup lookup = find_password(username);
    if (lookup.status != LookupStatus::found) return std::nullopt;
    return !lookup.record.disabled;
  }
  // Capability digest_ha1. `name` is the username, or with `is_userhash` the client's
  // userhash H(username ":" realm) in the algorithm's hash (RFC 7616 §3.4.4).
  virtual Ha1Lookup find_ha1(std::string_view name, bool is_userhash, std::string_view realm,
                             Ha1Algorithm algorithm) const {
    return {};
  }

  // After a successful login whose stored hash is weaker than gatehouse's default (an imported
  // bcrypt or SHA-crypt hash), the password checker offers the store a fresh argon2id hash.
  // Stores that own their data replace `old_hash` if it is still current; files are left alone.
  // Called on a worker thread.
  virtual void upgrade_hash(std::string_view username, std::string_view old_hash,
                            std::string_view new_hash) noexcept {}
  virtual bool upgrades_hashes() const noexcept { return false; }

  // Re-read the backing file or database if it changed. Called from the refresher thread
  // (every 250 ms), never from an I/O thread. Must not throw.
  virtual void refresh() noexcept {}
};

using StorePtr = std::shared_ptr<CredentialStore>;

}  // namespace gatehouse
