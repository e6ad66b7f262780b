#pragma once
// Every durable or shared fact goes through this interface (DESIGN.md "State store"). The SQLite
// implementation is the embedded default; a PostgreSQL one follows with the same contract suite
// (tests/unit/state/state_store_contract_test.cpp). Methods throw StoreError; they are called
// from the CLI, at start-up and from background threads, never from an I/O thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::state {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct UserRow {
  std::string name;
  std::string password_hash;
  std::vector<std::string> roles;
  bool disabled = false;
  std::int64_t created = 0;  // unix seconds
  std::int64_t updated = 0;
};

struct ApiKeyRow {
  std::string id;
  std::string username;
  std::string name;
  std::string secret_hash;                        // 32 raw bytes
  std::optional<std::vector<std::string>> roles;  // nullopt = the owner's roles
  std::int64_t created = 0;
  std::optional<std::int64_t> expires;
  std::optional<std::int64_t> last_used;
  std::optional<std::int64_t> revoked;
};

// An opt-in Digest HA1 (RFC 7616 §3.4.2) for one realm and base algorithm ("MD5", "SHA-256",
// "SHA-512-256"). Password-equivalent: only users who chose Digest have rows.
struct DigestHa1Row {
  std::string username;
  std::string realm;
  std::string algorithm;
  std::string ha1;  // lower-case hex
};

// A login session: the family of refresh tokens that descend from one login (SPEC §6). The
// refresh token in force is the one of `generation`; older ones are retired.
struct SessionRow {
  std::string id;  // random, URL-safe
  std::string username;
  std::string method;           // how the session began: "password", "basic", "oidc:NAME", "device"
  std::int64_t created = 0;     // unix seconds; the absolute maximum age counts from here
  std::int64_t last_used = 0;   // last login or refresh; the idle timeout counts from here
  std::int64_t generation = 1;  // of the refresh token in force
  std::int64_t rotated = 0;     // when `generation` was issued
  // The access token issued with `generation`, so a retired token presented within the reuse
  // grace gets the same pair again (RFC 6819 §5.2.2.3 rotation, with a grace window).
  std::string access_jti;
  std::int64_t access_iat = 0;
  // That access token itself, sealed (XSalsa20-Poly1305) under a key derived from the refresh
  // token it replaced: only whoever presents that retired token gets it back, and the database
  // alone reveals nothing. ECDSA signatures are randomized, so re-signing would not give the
  // same token. Empty for the first generation.
  std::string access_sealed;
  std::optional<std::int64_t> revoked;
  std::string revoked_reason;  // "logout", "reuse", "admin", "revoke", "user"
};

// A token-signing key (private JWK: a secret, like the password hashes beside it).
struct SigningKeyRow {
  std::string kid;
  std::string alg;          // "EdDSA", "ES256", "RS256", "HS256"
  std::string private_jwk;  // JSON text
  std::int64_t created = 0;
  std::optional<std::int64_t> retired;  // when it stopped signing (a newer key took over)
};

// One item of a tracker class (SPEC §9). `values` is a JSON object of the item's properties in
// their stored forms (src/tracker/tracker.hpp, Item); `version` grows with every change.
struct TrackerItemRow {
  std::string klass;
  std::int64_t id = 0;
  std::string values;
  bool retired = false;
  std::int64_t version = 1;
};

// One failed-login limiter key ("user:NAME" or "addr:ADDRESS", guard/failed_login.hpp) and its
// GCRA theoretical arrival time in unix milliseconds: the key is clean again once tat_ms passes.
struct ThrottleRow {
  std::string key;
  std::int64_t tat_ms = 0;
  bool operator==(const ThrottleRow&) const = default;
};

// The live throttle rows and the throttle_generation() they were read at, read together.
struct ThrottleTable {
  std::uint64_t generation = 0;
  std::vector<ThrottleRow> rows;  // sorted by key
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual std::optional<UserRow> find_user(std::string_view name) = 0;
  virtual std::vector<UserRow> list_users() = 0;
  virtual bool add_user(const UserRow& user) = 0;  // false when the name is taken
  virtual bool set_password(std::string_view name, std::string_view hash, std::int64_t now) = 0;
  // Compare-and-set: replaces the hash only if it is still `expected`; false otherwise.
  virtual bool replace_password_hash(std::string_view name, std::string_view expected,
                                     std::string_view hash, std::int64_t now) = 0;
  virtual bool set_roles(std::string_view name, const std::vector<std::string>& roles,
                         std::int64_t now) = 0;
  virtual bool set_disabled(std::string_view name, bool disabled, std::int64_t now) = 0;
  // Also deletes the user's API keys, Digest HA1 rows and sessions.
  virtual bool delete_user(std::string_view name) = 0;

  // Replaces every HA1 row of `name` (empty = opt out); false when there is no such user.
  // set_password deletes a user's rows, so a new password never leaves the old HA1 working
  // (replace_password_hash keeps them: the password itself is unchanged).
  virtual bool set_digest_ha1(std::string_view name, const std::vector<DigestHa1Row>& rows) = 0;
  virtual std::vector<DigestHa1Row> list_digest_ha1() = 0;

  // Throws StoreError when the owner does not exist or the id is taken.
  virtual void add_api_key(const ApiKeyRow& key) = 0;
  // All keys, or one user's; newest first.
  virtual std::vector<ApiKeyRow> list_api_keys(std::optional<std::string_view> username) = 0;
  virtual bool revoke_api_key(std::string_view id, std::int64_t now) = 0;
  // Records last use; does not count as a change for generation().
  virtual void touch_api_keys(const std::vector<std::pair<std::string, std::int64_t>>& uses) = 0;

  // Sessions, of users of any credential store (not only the users table). add_session throws
  // StoreError when the id is taken.
  virtual void add_session(const SessionRow& session) = 0;
  virtual std::optional<SessionRow> find_session(std::string_view id) = 0;
  // One user's sessions, or all; newest first. Revoked ones only when include_revoked.
  virtual std::vector<SessionRow> list_sessions(std::optional<std::string_view> username,
                                                bool include_revoked) = 0;
  // Compare-and-set rotation: when the session is not revoked and its generation is still
  // `next.generation - 1`, stores next's generation, rotated, last_used, access_jti, access_iat
  // and access_sealed, and returns true; otherwise changes nothing and returns false. Durable when
  // it returns (fsync per commit).
  virtual bool rotate_session(const SessionRow& next) = 0;
  // Revokes one session (false when unknown or already revoked) or every live session of a user
  // (returns how many). Both bump revocation_generation().
  virtual bool revoke_session(std::string_view id, std::int64_t now, std::string_view reason) = 0;
  virtual std::size_t revoke_user_sessions(std::string_view username, std::int64_t now,
                                           std::string_view reason) = 0;
  // Ids of sessions revoked at or after `since` (the revocation set the servers keep in memory).
  virtual std::vector<std::string> revoked_sessions_since(std::int64_t since) = 0;
  // Deletes sessions that ended (revoked, or last_used/created) before `before`; returns how many.
  virtual std::size_t delete_sessions_before(std::int64_t before) = 0;
  // Changes whenever a session is revoked, from any process sharing the store.
  virtual std::uint64_t revocation_generation() = 0;

  // Signing keys. add_signing_key makes `key` the one that signs: every other key without
  // `retired` gets retired = key.created, in the same transaction. With `expected_current`, it
  // does so only if that kid is still the signing key (false otherwise: another instance rotated
  // first). Throws StoreError when the kid is taken.
  virtual bool add_signing_key(const SigningKeyRow& key,
                               std::optional<std::string_view> expected_current) = 0;
  virtual std::vector<SigningKeyRow> list_signing_keys() = 0;  // newest first
  // Deletes keys retired before `before`; returns how many.
  virtual std::size_t delete_signing_keys_retired_before(std::int64_t before) = 0;
  // Changes whenever signing keys change.
  virtual std::uint64_t signing_keys_generation() = 0;

  // Tracker items. Every item of `tracker`, in (class, id) order.
  virtual std::vector<TrackerItemRow> load_tracker_items(std::string_view tracker) = 0;
  // Inserts items with the ids they carry when the tracker has no items yet (demo data); false
  // (and nothing written) when it has some.
  virtual bool seed_tracker_items(std::string_view tracker,
                                  const std::vector<TrackerItemRow>& items) = 0;
  // Creates an item with the next id of its class (one more than the largest ever used) and
  // returns that id. `item.id` and `item.version` are ignored; the version starts at 1.
  virtual std::int64_t create_tracker_item(std::string_view tracker,
                                           const TrackerItemRow& item) = 0;
  // Compare-and-set: when the stored version is item.version - 1, stores values, retired and
  // version; otherwise changes nothing and returns false.
  virtual bool update_tracker_item(std::string_view tracker, const TrackerItemRow& item) = 0;
  // Changes whenever any tracker item changes, from any process sharing the store.
  virtual std::uint64_t tracker_generation() = 0;

  // Failed-login throttle state. Servers flush what they counted; an operator's reset deletes
  // rows and bumps throttle_generation(), and servers that see it change reload the table.
  //
  // Upserts `rows`, keeping for each key the later of the stored and the given TAT (so
  // instances never lower each other's counts), but only while throttle_generation() is still
  // `expected_generation`: otherwise writes nothing and returns false, so a flush racing a reset
  // cannot bring the reset keys back. True (and nothing written) for no rows.
  virtual bool save_throttle(const std::vector<ThrottleRow>& rows,
                             std::uint64_t expected_generation) = 0;
  // Rows with tat_ms > now_ms, and the generation, from one consistent read.
  virtual ThrottleTable load_throttle(std::int64_t now_ms) = 0;
  // Resets: delete these keys (or every key) and return how many rows went. Both always bump
  // throttle_generation(), even when no row matched: a server may hold the key unflushed.
  virtual std::size_t delete_throttle(const std::vector<std::string>& keys) = 0;
  virtual std::size_t clear_throttle() = 0;
  // Housekeeping: deletes rows with tat_ms <= now_ms (clean slates); not a reset, no bump.
  virtual std::size_t delete_expired_throttle(std::int64_t now_ms) = 0;
  // Changes whenever a reset deletes throttle rows, from any process sharing the store.
  virtual std::uint64_t throttle_generation() = 0;

  // Changes whenever users or API keys change, from any process sharing the store.
  virtual std::uint64_t generation() = 0;
  // 32 random bytes made when the store was created; keys server-side HMACs.
  virtual std::string server_secret() = 0;
  // True when this open created the store (first start).
  virtual bool created() const noexcept = 0;
};

// "sqlite:PATH" (the directory is created, mode 0700; files 0600). Throws StoreError.
std::unique_ptr<StateStore> open_state_store(const std::string& url);

std::string join_roles(const std::vector<std::string>& roles);
std::vector<std::string> split_roles(std::string_view joined);

}  // namespace gatehouse::state
