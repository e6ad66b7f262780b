#pragma once
// Issues and verifies gatehouse tokens (DESIGN.md "TokenService", SPEC §6):
// - access tokens: JWTs (RFC 9068 profile, typ "at+jwt") signed by the KeyRing's current key,
//   verified once and then served from a VerifiedTokenCache; the session revocation set is
//   checked on every request from memory (no database query on the hot path);
// - refresh tokens: opaque "ghr_<session>_<generation>_<mac>", the MAC an HMAC under a key
//   derived from the server secret, so nothing secret is stored per token. A session holds the
//   generation in force; presenting the one before it within `reuse_grace` returns the same pair
//   again, presenting any other retired one revokes the whole session (RFC 9700 §4.14.2).
// Methods that write to the store (login, refresh, logout, revoke) block on the database: call
// them from a worker thread, never from an I/O thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gatehouse/outcome.hpp"
#include "state/state_store.hpp"
#include "tokens/key_ring.hpp"
#include "tokens/token_cache.hpp"
#include "util/clock.hpp"
#include "util/snapshot.hpp"

namespace gatehouse::tokens {

struct TokenSettings {
  std::string issuer = "http://localhost:8000";
  std::string audience = "gatehouse";
  jose::Alg alg = jose::Alg::EdDSA;
  std::int64_t access_ttl_s = 600;
  std::int64_t refresh_ttl_s = 14 * 86400;
  std::int64_t session_max_age_s = 30 * 86400;
  std::int64_t session_idle_s = 14 * 86400;
  std::int64_t reuse_grace_s = 10;
  std::int64_t key_rotation_s = 30 * 86400;
  std::int64_t leeway_s = 30;
  std::size_t cache_entries = 100000;
};

struct TokenPair {
  std::string access_token;
  std::int64_t expires_in = 0;
  std::string refresh_token;
  std::int64_t refresh_expires_in = 0;
  std::string session_id;
  // {"access_token","token_type":"Bearer","expires_in","refresh_token","refresh_expires_in"}
  std::string json() const;
};

// An OAuth error (RFC 6749 §5.2): "invalid_grant", "invalid_request", ...
struct TokenError {
  std::string error;
  std::string description;
};

// What the user stores say about a user now: nullopt when unknown; otherwise active (not
// disabled) and the current roles.
struct UserStatus {
  bool active = false;
  std::vector<std::string> roles;
};
using UserLookup = std::function<std::optional<UserStatus>(std::string_view username)>;
// Cheap hot-path check: true when the user exists and is not disabled.
using UserActive = std::function<bool(std::string_view username)>;

// A session as the API shows it.
struct SessionInfo {
  state::SessionRow row;
  std::int64_t expires = 0;  // when it ends unless refreshed: min(max age, idle)
};

class TokenService {
 public:
  // Loads or creates the signing keys. Throws state::StoreError.
  TokenService(TokenSettings settings, std::shared_ptr<state::StateStore> store,
               std::string_view server_secret, UserLookup users, UserActive active,
               const Clock& clock);

  // Hot path (I/O thread): a granted Outcome with scheme "bearer", or denied with a reason.
  Outcome authenticate(std::string_view access_token) const;

  // A new session for a user who just proved who they are. `method`: "password", "basic", ...
  std::variant<TokenPair, TokenError> login(std::string_view username, std::string_view method);
  std::variant<TokenPair, TokenError> refresh(std::string_view refresh_token);
  // Revokes a session; false when unknown or already revoked.
  bool revoke_session(std::string_view session_id, std::string_view reason);
  std::size_t revoke_user_sessions(std::string_view username, std::string_view reason);
  // RFC 7009: revokes the session of a refresh token or of an access token. True when the token
  // was one of ours and its session is now revoked.
  bool revoke_token(std::string_view token, std::string_view reason);
  // RFC 7662 response body for a gatehouse access or refresh token ({"active":false} otherwise).
  std::string introspect(std::string_view token) const;

  std::optional<SessionInfo> session(std::string_view id) const;
  std::vector<SessionInfo> sessions(std::optional<std::string_view> username) const;

  const std::string& jwks() const { return keys_.keys().jwks; }
  const TokenSettings& settings() const noexcept { return settings_; }
  const KeyRing& key_ring() const noexcept { return keys_; }

  // Background upkeep (the refresher thread, several times a second): reloads signing keys and
  // the revocation set when the store changed, rotates keys on schedule. Never throws.
  void maintain() noexcept;

  // The refresh token of (session, generation); exposed for tests.
  std::string refresh_token_for(std::string_view session_id, std::int64_t generation) const;

 private:
  struct ParsedRefresh {
    std::string session_id;
    std::int64_t generation = 0;
  };
  std::optional<ParsedRefresh> parse_refresh(std::string_view token) const;
  TokenPair issue(const state::SessionRow& session, const std::vector<std::string>& roles) const;
  SessionInfo info(state::SessionRow row) const;
  void load_revocations();
  void mark_revoked(std::string_view session_id);
  bool is_revoked(std::string_view session_id) const;

  TokenSettings settings_;
  std::shared_ptr<state::StateStore> store_;
  std::string refresh_key_;  // HMAC key for refresh tokens, derived from the server secret
  UserLookup users_;
  UserActive active_;
  const Clock& clock_;
  KeyRing keys_;
  mutable VerifiedTokenCache cache_;
  // Sessions revoked recently enough that their access tokens may still be unexpired: id ->
  // when this process revoked it (0 when loaded from the store).
  util::SharedSnapshot<util::StringMap<std::int64_t>> revoked_;
  std::mutex revoked_mutex_;  // serializes writers of revoked_
  std::uint64_t revocation_generation_ = 0;
  std::int64_t last_prune_ = 0;
};

}  // namespace gatehouse::tokens
