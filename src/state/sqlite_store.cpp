// SQLite implementation of the state store: WAL, versioned migrations (PRAGMA user_version),
// busy timeout, writes in BEGIN IMMEDIATE transactions so concurrent writers (a running server
// and the CLI) serialize instead of failing.
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <limits>
#include <mutex>

#include "state/state_store.hpp"
#include "util/encoding.hpp"

namespace gatehouse::state {

namespace {

// Each entry moves the schema from version i to i+1. Never edit a released entry: append.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
  name TEXT NOT NULL,
  secret_hash BLOB NOT NULL,
  roles TEXT,
  created INTEGER NOT NULL,
  expires INTEGER,
  last_used INTEGER,
  revoked INTEGER
);
CREATE INDEX api_keys_username ON api_keys(username);
INSERT INTO meta(key, value) VALUES ('generation', 1);
)sql",
    R"sql(
CREATE TABLE digest_ha1 (
  username TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
  realm TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  ha1 TEXT NOT NULL,
  PRIMARY KEY (username, realm, algorithm)
);
)sql",
    R"sql(
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  method TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  rotated INTEGER NOT NULL,
  access_jti TEXT NOT NULL,
  access_iat INTEGER NOT NULL,
  access_sealed TEXT NOT NULL DEFAULT '',
  revoked INTEGER,
  revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_username ON sessions(username);
CREATE INDEX sessions_revoked ON sessions(revoked);
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  private_jwk TEXT NOT NULL,
  created INTEGER NOT NULL,
  retired INTEGER
);
INSERT INTO meta(key, value) VALUES ('revocation_generation', 1), ('signing_keys_generation', 1);
)sql",
    // Tracker items (SPEC §9); tracker_ids remembers the largest id a class ever used, so the id of
    // an item that is gone is never given again.
    R"sql(
CREATE TABLE tracker_items (
  tracker TEXT NOT NULL,
  class TEXT NOT NULL,
  id INTEGER NOT NULL,
  retired INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL,
  item_values TEXT NOT NULL,
  PRIMARY KEY (tracker, class, id)
);
CREATE TABLE tracker_ids (
  tracker TEXT NOT NULL,
  class TEXT NOT NULL,
  last_id INTEGER NOT NULL,
  PRIMARY KEY (tracker, class)
);
INSERT INTO meta(key, value) VALUES ('tracker_generation', 1);
)sql",
    // Failed-login throttle state (SPEC §10).
    R"sql(
CREATE TABLE throttle (key TEXT PRIMARY KEY, tat_ms INTEGER NOT NULL);
CREATE INDEX throttle_tat ON throttle(tat_ms);
INSERT INTO meta(key, value) VALUES ('throttle_generation', 1);
)sql",
};

// The counters in `meta` that write_bumping() can bump.
constexpr const char* kGeneration = "generation";
constexpr const char* kRevocationGeneration = "revocation_generation";
constexpr const char* kSigningKeysGeneration = "signing_keys_generation";
constexpr const char* kTrackerGeneration = "tracker_generation";
constexpr const char* kThrottleGeneration = "throttle_generation";

constexpr const char* kSessionColumns =
    "id, username, method, created, last_used, generation, rotated, access_jti, access_iat, "
    "revoked, revoked_reason, access_sealed";

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, std::optional<std::int64_t> v) {
    if (v)
      sqlite3_bind_int64(stmt_, i, *v);
    else
      sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Statement& bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(sqlite3_db_handle(stmt_)));
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::string blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<std::int64_t> maybe_integer(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(stmt_, col);
  }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  void reset() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a cached statement when the scope ends, so it holds no bindings and, above all, no open
// read transaction (which would pin an old WAL snapshot) between calls.
class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& s) : s_(s) {}
  ~ResetOnExit() { s_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& s_;
};

class SqliteStore final : public StateStore {
 public:
  explicit SqliteStore(const std::string& path) {
    namespace fs = std::filesystem;
    const fs::path file(path);
    if (file.has_parent_path() && !fs::exists(file.parent_path())) {
      std::error_code ec;
      fs::create_directories(file.parent_path(), ec);
      if (ec)
        throw StoreError("cannot create " + file.parent_path().string() + ": " + ec.message());
      fs::permissions(file.parent_path(), fs::perms::owner_all, ec);
    }
    // Database, WAL and shared-memory files hold password hashes: owner-only from birth.
    const mode_t old_mask = ::umask(077);
    const int rc = sqlite3_open_v2(
        path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
        nullptr);
    if (rc != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      ::umask(old_mask);
      throw StoreError("cannot open " + path + ": " + why);
    }
    sqlite3_busy_timeout(db_, 10000);
    try {
      // Switching to WAL can report "locked" without calling the busy handler while another
      // process opens the same new file: retry the opening steps for as long as busy_timeout.
      retry_while_busy([&] { exec("PRAGMA journal_mode=WAL"); });
      // FULL: a commit in WAL mode is on disk when it returns (rotate_session's contract).
      exec("PRAGMA synchronous=FULL");
      exec("PRAGMA foreign_keys=ON");
      retry_while_busy([&] { migrate(); });
      rotate_session_.emplace(db_,
                              "UPDATE sessions SET generation = ?, rotated = ?, last_used = ?, "
                              "access_jti = ?, access_iat = ?, access_sealed = ? "
                              "WHERE id = ? AND generation = ? AND revoked IS NULL");
      find_session_.emplace(
          db_, (std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = ?").c_str());
    } catch (...) {
      ::umask(old_mask);
      close();
      throw;
    }
    ::umask(old_mask);
  }
  ~SqliteStore() override { close(); }

  std::optional<UserRow> find_user(std::string_view name) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT name, password_hash, roles, disabled, created, updated FROM users "
                "WHERE name = ?");
    s.bind(1, name);
    if (!s.step()) return std::nullopt;
    return user_from(s);
  }

  std::vector<UserRow> list_users() override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT name, password_hash, roles, disabled, created, updated FROM users "
                "ORDER BY name");
    std::vector<UserRow> out;
    while (s.step()) out.push_back(user_from(s));
    return out;
  }

  bool add_user(const UserRow& user) override {
    return write([&] {
      Statement s(db_,
                  "INSERT INTO users(name, password_hash, roles, disabled, created, updated) "
                  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING");
      s.bind(1, user.name)
          .bind(2, user.password_hash)
          .bind(3, join_roles(user.roles))
          .bind(4, std::int64_t{user.disabled ? 1 : 0})
          .bind(5, user.created)
          .bind(6, user.updated);
      s.step();
      return sqlite3_changes(db_) > 0;
    });
  }

  bool set_password(std::string_view name, std::string_view hash, std::int64_t now) override {
    return write([&] {
      Statement s(db_, "UPDATE users SET password_hash = ?, updated = ? WHERE name = ?");
      s.bind(1, hash).bind(2, now).bind(3, name);
      s.step();
      const bool changed = sqlite3_changes(db_) > 0;
      if (changed) delete_ha1(name);
      return changed;
    });
  }

  bool set_digest_ha1(std::string_view name, const std::vector<DigestHa1Row>& rows) override {
    return write([&] {
      Statement owner(db_, "SELECT 1 FROM users WHERE name = ?");
      owner.bind(1, name);
      if (!owner.step()) return false;
      delete_ha1(name);
      Statement s(db_,
                  "INSERT INTO digest_ha1(username, realm, algorithm, ha1) VALUES (?, ?, ?, ?)");
      for (const auto& row : rows) {
        s.bind(1, name).bind(2, row.realm).bind(3, row.algorithm).bind(4, row.ha1);
        s.step();
        s.reset();
      }
      return true;
    });
  }

  std::vector<DigestHa1Row> list_digest_ha1() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT username, realm, algorithm, ha1 FROM digest_ha1");
    std::vector<DigestHa1Row> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3)});
    return out;
  }

  bool replace_password_hash(std::string_view name, std::string_view expected,
                             std::string_view hash, std::int64_t now) override {
    return write([&] {
      Statement s(db_,
                  "UPDATE users SET password_hash = ?, updated = ? WHERE name = ? AND "
                  "password_hash = ?");
      s.bind(1, hash).bind(2, now).bind(3, name).bind(4, expected);
      s.step();
      // The password is the same (a rehash on login): its HA1 rows stay valid.
      return sqlite3_changes(db_) > 0;
    });
  }

  bool set_roles(std::string_view name, const std::vector<std::string>& roles,
                 std::int64_t now) override {
    return update("UPDATE users SET roles = ?, updated = ? WHERE name = ?", join_roles(roles), now,
                  name);
  }

  bool set_disabled(std::string_view name, bool disabled, std::int64_t now) override {
    return update("UPDATE users SET disabled = ?, updated = ? WHERE name = ?", disabled ? "1" : "0",
                  now, name);
  }

  bool delete_user(std::string_view name) override {
    return write([&] {
      // Sessions are not tied to the users table (users of htpasswd, static and Unix stores
      // log in too), so they go explicitly.
      Statement sessions(db_, "DELETE FROM sessions WHERE username = ?");
      sessions.bind(1, name);
      sessions.step();
      Statement s(db_, "DELETE FROM users WHERE name = ?");
      s.bind(1, name);
      s.step();
      return sqlite3_changes(db_) > 0;
    });
  }

  void add_api_key(const ApiKeyRow& key) override {
    write([&] {
      Statement owner(db_, "SELECT 1 FROM users WHERE name = ?");
      owner.bind(1, key.username);
      if (!owner.step()) throw StoreError("no such user: " + key.username);
      Statement s(db_,
                  "INSERT INTO api_keys(id, username, name, secret_hash, roles, created, expires) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)");
      s.bind(1, key.id).bind(2, key.username).bind(3, key.name).bind_blob(4, key.secret_hash);
      if (key.roles)
        s.bind(5, join_roles(*key.roles));
      else
        s.bind_null(5);
      s.bind(6, key.created).bind(7, key.expires);
      s.step();
      return true;
    });
  }

  std::vector<ApiKeyRow> list_api_keys(std::optional<std::string_view> username) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, username ? "SELECT id, username, name, secret_hash, roles, created, expires, "
                                "last_used, revoked FROM api_keys WHERE username = ? "
                                "ORDER BY created DESC, id"
                              : "SELECT id, username, name, secret_hash, roles, created, expires, "
                                "last_used, revoked FROM api_keys ORDER BY created DESC, id");
    if (username) s.bind(1, *username);
    std::vector<ApiKeyRow> out;
    while (s.step()) {
      ApiKeyRow k;
      k.id = s.text(0);
      k.username = s.text(1);
      k.name = s.text(2);
      k.secret_hash = s.blob(3);
      if (!s.is_null(4)) k.roles = split_roles(s.text(4));
      k.created = s.integer(5);
      k.expires = s.maybe_integer(6);
      k.last_used = s.maybe_integer(7);
      k.revoked = s.maybe_integer(8);
      out.push_back(std::move(k));
    }
    return out;
  }

  bool revoke_api_key(std::string_view id, std::int64_t now) override {
    return write([&] {
      Statement s(db_, "UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL");
      s.bind(1, now).bind(2, id);
      s.step();
      return sqlite3_changes(db_) > 0;
    });
  }

  void touch_api_keys(const std::vector<std::pair<std::string, std::int64_t>>& uses) override {
    if (uses.empty()) return;
    std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE");
    try {
      Statement s(db_,
                  "UPDATE api_keys SET last_used = max(coalesce(last_used, 0), ?) WHERE id = ?");
      for (const auto& [id, when] : uses) {
        s.bind(1, when).bind(2, id);
        s.step();
        s.reset();
      }
      exec("COMMIT");
    } catch (...) {
      exec_noexcept("ROLLBACK");
      throw;
    }
  }

  void add_session(const SessionRow& session) override {
    write_bumping(nullptr, [&] {
      Statement s(db_, (std::string("INSERT INTO sessions(") + kSessionColumns +
                        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                           .c_str());
      s.bind(1, session.id)
          .bind(2, session.username)
          .bind(3, session.method)
          .bind(4, session.created)
          .bind(5, session.last_used)
          .bind(6, session.generation)
          .bind(7, session.rotated)
          .bind(8, session.access_jti)
          .bind(9, session.access_iat)
          .bind(10, session.revoked)
          .bind(11, session.revoked_reason)
          .bind(12, session.access_sealed);
      s.step();
      return true;
    });
  }

  std::optional<SessionRow> find_session(std::string_view id) override {
    std::lock_guard lock(mutex_);
    Statement& s = *find_session_;
    const ResetOnExit reset(s);
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return session_from(s);
  }

  std::vector<SessionRow> list_sessions(std::optional<std::string_view> username,
                                        bool include_revoked) override {
    std::string sql = std::string("SELECT ") + kSessionColumns + " FROM sessions";
    if (username && include_revoked)
      sql += " WHERE username = ?";
    else if (username)
      sql += " WHERE username = ? AND revoked IS NULL";
    else if (!include_revoked)
      sql += " WHERE revoked IS NULL";
    sql += " ORDER BY created DESC, id";
    std::lock_guard lock(mutex_);
    Statement s(db_, sql.c_str());
    if (username) s.bind(1, *username);
    std::vector<SessionRow> out;
    while (s.step()) out.push_back(session_from(s));
    return out;
  }

  bool rotate_session(const SessionRow& next) override {
    // No stored generation precedes the smallest one.
    if (next.generation == std::numeric_limits<std::int64_t>::min()) return false;
    return write_bumping(nullptr, [&] {
      Statement& s = *rotate_session_;
      const ResetOnExit reset(s);
      s.bind(1, next.generation)
          .bind(2, next.rotated)
          .bind(3, next.last_used)
          .bind(4, next.access_jti)
          .bind(5, next.access_iat)
          .bind(6, next.access_sealed)
          .bind(7, next.id)
          .bind(8, next.generation - 1);
      s.step();
      return sqlite3_changes(db_) > 0;
    });
  }

  bool revoke_session(std::string_view id, std::int64_t now, std::string_view reason) override {
    return write_bumping(kRevocationGeneration, [&] {
      Statement s(db_,
                  "UPDATE sessions SET revoked = ?, revoked_reason = ? "
                  "WHERE id = ? AND revoked IS NULL");
      s.bind(1, now).bind(2, reason).bind(3, id);
      s.step();
      return sqlite3_changes(db_) > 0;
    });
  }

  std::size_t revoke_user_sessions(std::string_view username, std::int64_t now,
                                   std::string_view reason) override {
    return write_bumping(kRevocationGeneration, [&] {
      Statement s(db_,
                  "UPDATE sessions SET revoked = ?, revoked_reason = ? "
                  "WHERE username = ? AND revoked IS NULL");
      s.bind(1, now).bind(2, reason).bind(3, username);
      s.step();
      return static_cast<std::size_t>(sqlite3_changes(db_));
    });
  }

  std::vector<std::string> revoked_sessions_since(std::int64_t since) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT id FROM sessions WHERE revoked >= ? ORDER BY revoked, id");
    s.bind(1, since);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  }

  std::size_t delete_sessions_before(std::int64_t before) override {
    // A revoked session counts from its revocation even when it was idle long before: it stays
    // listed by revoked_sessions_since until `before` passes the revocation itself.
    return write_bumping(nullptr, [&] {
      Statement s(db_,
                  "DELETE FROM sessions "
                  "WHERE revoked < ? OR (revoked IS NULL AND last_used < ?)");
      s.bind(1, before).bind(2, before);
      s.step();
      return static_cast<std::size_t>(sqlite3_changes(db_));
    });
  }

  std::uint64_t revocation_generation() override { return counter(kRevocationGeneration); }

  bool add_signing_key(const SigningKeyRow& key,
                       std::optional<std::string_view> expected_current) override {
    return write_bumping(kSigningKeysGeneration, [&] {
      if (expected_current) {
        Statement current(db_,
                          "SELECT kid FROM signing_keys WHERE retired IS NULL "
                          "ORDER BY created DESC, rowid DESC LIMIT 1");
        if (!current.step() || current.text(0) != *expected_current) return false;
      }
      Statement retire(db_, "UPDATE signing_keys SET retired = ? WHERE retired IS NULL");
      retire.bind(1, key.created);
      retire.step();
      Statement s(db_,
                  "INSERT INTO signing_keys(kid, alg, private_jwk, created, retired) "
                  "VALUES (?, ?, ?, ?, ?)");
      s.bind(1, key.kid)
          .bind(2, key.alg)
          .bind(3, key.private_jwk)
          .bind(4, key.created)
          .bind(5, key.retired);
      s.step();
      return true;
    });
  }

  std::vector<SigningKeyRow> list_signing_keys() override {
    std::lock_guard lock(mutex_);
    // rowid breaks ties between keys made within the same second: the later insert is newer.
    Statement s(db_,
                "SELECT kid, alg, private_jwk, created, retired FROM signing_keys "
                "ORDER BY created DESC, rowid DESC");
    std::vector<SigningKeyRow> out;
    while (s.step()) {
      SigningKeyRow k;
      k.kid = s.text(0);
      k.alg = s.text(1);
      k.private_jwk = s.text(2);
      k.created = s.integer(3);
      k.retired = s.maybe_integer(4);
      out.push_back(std::move(k));
    }
    return out;
  }

  std::size_t delete_signing_keys_retired_before(std::int64_t before) override {
    return write_bumping(kSigningKeysGeneration, [&] {
      Statement s(db_, "DELETE FROM signing_keys WHERE retired < ?");
      s.bind(1, before);
      s.step();
      return static_cast<std::size_t>(sqlite3_changes(db_));
    });
  }

  std::uint64_t signing_keys_generation() override { return counter(kSigningKeysGeneration); }

  bool save_throttle(const std::vector<ThrottleRow>& rows,
                     std::uint64_t expected_generation) override {
    if (rows.empty()) return true;
    return write_bumping(nullptr, [&] {
      if (counter_locked(kThrottleGeneration) != expected_generation) return false;
      Statement s(db_,
                  "INSERT INTO throttle(key, tat_ms) VALUES (?, ?) "
                  "ON CONFLICT(key) DO UPDATE SET tat_ms = max(tat_ms, excluded.tat_ms)");
      for (const auto& row : rows) {
        s.bind(1, row.key).bind(2, row.tat_ms);
        s.step();
        s.reset();
      }
      return true;
    });
  }

  ThrottleTable load_throttle(std::int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    // One read transaction: the rows and the generation come from the same snapshot.
    exec("BEGIN");
    try {
      ThrottleTable table;
      table.generation = counter_locked(kThrottleGeneration);
      Statement s(db_, "SELECT key, tat_ms FROM throttle WHERE tat_ms > ? ORDER BY key");
      s.bind(1, now_ms);
      while (s.step()) table.rows.push_back({s.text(0), s.integer(1)});
      exec("COMMIT");
      return table;
    } catch (...) {
      exec_noexcept("ROLLBACK");
      throw;
    }
  }

  std::size_t delete_throttle(const std::vector<std::string>& keys) override {
    return reset_throttle([&] {
      Statement s(db_, "DELETE FROM throttle WHERE key = ?");
      std::size_t deleted = 0;
      for (const auto& key : keys) {
        s.bind(1, key);
        s.step();
        deleted += static_cast<std::size_t>(sqlite3_changes(db_));
        s.reset();
      }
      return deleted;
    });
  }

  std::size_t clear_throttle() override {
    return reset_throttle([&] {
      exec("DELETE FROM throttle");
      return static_cast<std::size_t>(sqlite3_changes(db_));
    });
  }

  std::size_t delete_expired_throttle(std::int64_t now_ms) override {
    return write_bumping(nullptr, [&] {
      Statement s(db_, "DELETE FROM throttle WHERE tat_ms <= ?");
      s.bind(1, now_ms);
      s.step();
      return static_cast<std::size_t>(sqlite3_changes(db_));
    });
  }

  std::uint64_t throttle_generation() override { return counter(kThrottleGeneration); }

  std::uint64_t generation() override { return counter(kGeneration); }

  std::vector<TrackerItemRow> load_tracker_items(std::string_view tracker) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT class, id, retired, version, item_values FROM tracker_items "
                "WHERE tracker = ? ORDER BY class, id");
    s.bind(1, tracker);
    std::vector<TrackerItemRow> out;
    while (s.step()) {
      TrackerItemRow r;
      r.klass = s.text(0);
      r.id = s.integer(1);
      r.retired = s.integer(2) != 0;
      r.version = s.integer(3);
      r.values = s.text(4);
      out.push_back(std::move(r));
    }
    return out;
  }

  bool seed_tracker_items(std::string_view tracker,
                          const std::vector<TrackerItemRow>& items) override {
    return write_bumping(kTrackerGeneration, [&] {
      Statement any(db_, "SELECT 1 FROM tracker_items WHERE tracker = ? LIMIT 1");
      any.bind(1, tracker);
      if (any.step()) return false;
      Statement insert(db_,
                       "INSERT INTO tracker_items(tracker, class, id, retired, version, "
                       "item_values) VALUES (?, ?, ?, ?, 1, ?)");
      Statement last(db_,
                     "INSERT INTO tracker_ids(tracker, class, last_id) VALUES (?, ?, ?) "
                     "ON CONFLICT(tracker, class) DO UPDATE SET last_id = "
                     "max(last_id, excluded.last_id)");
      for (const TrackerItemRow& item : items) {
        insert.bind(1, tracker)
            .bind(2, std::string_view(item.klass))
            .bind(3, item.id)
            .bind(4, std::int64_t{item.retired ? 1 : 0})
            .bind(5, std::string_view(item.values));
        insert.step();
        insert.reset();
        last.bind(1, tracker).bind(2, std::string_view(item.klass)).bind(3, item.id);
        last.step();
        last.reset();
      }
      return true;
    });
  }

  std::int64_t create_tracker_item(std::string_view tracker, const TrackerItemRow& item) override {
    return write_bumping(kTrackerGeneration, [&]() -> std::int64_t {
      std::int64_t id = 1;
      {
        Statement s(db_, "SELECT last_id FROM tracker_ids WHERE tracker = ? AND class = ?");
        s.bind(1, tracker).bind(2, std::string_view(item.klass));
        if (s.step()) id = s.integer(0) + 1;
      }
      Statement last(db_,
                     "INSERT INTO tracker_ids(tracker, class, last_id) VALUES (?, ?, ?) "
                     "ON CONFLICT(tracker, class) DO UPDATE SET last_id = excluded.last_id");
      last.bind(1, tracker).bind(2, std::string_view(item.klass)).bind(3, id);
      last.step();
      Statement insert(db_,
                       "INSERT INTO tracker_items(tracker, class, id, retired, version, "
                       "item_values) VALUES (?, ?, ?, ?, 1, ?)");
      insert.bind(1, tracker)
          .bind(2, std::string_view(item.klass))
          .bind(3, id)
          .bind(4, std::int64_t{item.retired ? 1 : 0})
          .bind(5, std::string_view(item.values));
      insert.step();
      return id;
    });
  }

  bool update_tracker_item(std::string_view tracker, const TrackerItemRow& item) override {
    return write_bumping(kTrackerGeneration, [&] {
      Statement s(db_,
                  "UPDATE tracker_items SET item_values = ?, retired = ?, version = ? "
                  "WHERE tracker = ? AND class = ? AND id = ? AND version = ?");
      s.bind(1, std::string_view(item.values))
          .bind(2, std::int64_t{item.retired ? 1 : 0})
          .bind(3, item.version)
          .bind(4, tracker)
          .bind(5, std::string_view(item.klass))
          .bind(6, item.id)
          .bind(7, item.version - 1);
      s.step();
      return sqlite3_changes(db_) > 0;
    });
  }

  std::uint64_t tracker_generation() override { return counter(kTrackerGeneration); }

  std::string server_secret() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT value FROM meta WHERE key = 'server_secret'");
    if (!s.step()) throw StoreError("store has no server secret");
    return s.blob(0);
  }

  bool created() const noexcept override { return created_; }

 private:
  static UserRow user_from(const Statement& s) {
    UserRow u;
    u.name = s.text(0);
    u.password_hash = s.text(1);
    u.roles = split_roles(s.text(2));
    u.disabled = s.integer(3) != 0;
    u.created = s.integer(4);
    u.updated = s.integer(5);
    return u;
  }

  // Reads a row selected with kSessionColumns.
  static SessionRow session_from(const Statement& s) {
    SessionRow r;
    r.id = s.text(0);
    r.username = s.text(1);
    r.method = s.text(2);
    r.created = s.integer(3);
    r.last_used = s.integer(4);
    r.generation = s.integer(5);
    r.rotated = s.integer(6);
    r.access_jti = s.text(7);
    r.access_iat = s.integer(8);
    r.revoked = s.maybe_integer(9);
    r.revoked_reason = s.text(10);
    r.access_sealed = s.text(11);
    return r;
  }

  // Finalizes the cached statements first: sqlite3_close refuses while any is left.
  void close() noexcept {
    find_session_.reset();
    rotate_session_.reset();
    sqlite3_close(db_);
  }

  std::uint64_t counter(const char* key) {
    std::lock_guard lock(mutex_);
    return counter_locked(key);
  }
  // counter() for a caller that holds mutex_ (inside a transaction).
  std::uint64_t counter_locked(const char* key) {
    Statement s(db_, "SELECT value FROM meta WHERE key = ?");
    s.bind(1, std::string_view(key));
    return s.step() ? static_cast<std::uint64_t>(s.integer(0)) : 0;
  }

  // A throttle reset: runs `body` (which returns how many rows it deleted) and bumps
  // throttle_generation in the same transaction, whatever it deleted.
  template <class F>
  std::size_t reset_throttle(F&& body) {
    std::size_t deleted = 0;
    write_bumping(kThrottleGeneration, [&] {
      deleted = body();
      return true;
    });
    return deleted;
  }

  template <class F>
  void retry_while_busy(F&& step) {
    for (int attempt = 0;; ++attempt) {
      try {
        step();
        return;
      } catch (const StoreError&) {
        const int code = sqlite3_errcode(db_);
        if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || attempt >= 1000) throw;
        sqlite3_sleep(10);
      }
    }
  }

  void delete_ha1(std::string_view name) {
    Statement d(db_, "DELETE FROM digest_ha1 WHERE username = ?");
    d.bind(1, name);
    d.step();
  }

  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err ? err : "unknown error";
      sqlite3_free(err);
      throw StoreError("sqlite: " + why);
    }
  }
  void exec_noexcept(const char* sql) noexcept {
    sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  }

  // Runs `body` in an IMMEDIATE transaction and bumps the generation when it changed something.
  template <class F>
  bool write(F&& body) {
    return write_bumping(kGeneration, std::forward<F>(body));
  }

  // Runs `body` in an IMMEDIATE transaction and returns its result. When the result converts to
  // true (something changed) and `counter` is not null, bumps that meta counter in the same
  // transaction. Rolls back and rethrows when `body` throws.
  template <class F>
  auto write_bumping(const char* counter, F&& body) -> decltype(body()) {
    std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE");
    try {
      auto result = body();
      if (counter != nullptr && result) {
        Statement bump(db_, "UPDATE meta SET value = value + 1 WHERE key = ?");
        bump.bind(1, std::string_view(counter));
        bump.step();
      }
      exec("COMMIT");
      return result;
    } catch (...) {
      exec_noexcept("ROLLBACK");
      throw;
    }
  }

  template <class V>
  bool update(const char* sql, V&& value, std::int64_t now, std::string_view name) {
    return write([&] {
      Statement s(db_, sql);
      s.bind(1, std::string_view(value)).bind(2, now).bind(3, name);
      s.step();
      return sqlite3_changes(db_) > 0;
    });
  }

  void migrate() {
    exec("BEGIN IMMEDIATE");
    try {
      int version = 0;
      {
        Statement s(db_, "PRAGMA user_version");
        if (s.step()) version = static_cast<int>(s.integer(0));
      }
      constexpr int latest = static_cast<int>(std::size(kMigrations));
      if (version > latest) {
        throw StoreError("the store's schema version " + std::to_string(version) +
                         " is newer than this gatehouse understands (" + std::to_string(latest) +
                         ")");
      }
      created_ = version == 0;
      for (int v = version; v < latest; ++v) exec(kMigrations[v]);
      if (created_) {
        Statement s(db_, "INSERT INTO meta(key, value) VALUES ('server_secret', ?)");
        s.bind_blob(1, util::random_bytes(32));
        s.step();
      }
      exec(("PRAGMA user_version = " + std::to_string(latest)).c_str());
      exec("COMMIT");
    } catch (...) {
      exec_noexcept("ROLLBACK");
      throw;
    }
  }

  sqlite3* db_ = nullptr;
  std::mutex mutex_;  // also guards the cached statements below
  bool created_ = false;
  // Prepared once: rotate_session and find_session run on every token refresh.
  std::optional<Statement> rotate_session_;
  std::optional<Statement> find_session_;
};

}  // namespace

std::string join_roles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) {
    if (!out.empty()) out.push_back(',');
    out += r;
  }
  return out;
}

std::vector<std::string> split_roles(std::string_view joined) {
  std::vector<std::string> out;
  while (!joined.empty()) {
    const auto comma = joined.find(',');
    const auto part = joined.substr(0, comma);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    joined.remove_prefix(comma + 1);
  }
  return out;
}

std::unique_ptr<StateStore> open_state_store(const std::string& url) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with(kSqlite)) return std::make_unique<SqliteStore>(url.substr(kSqlite.size()));
  throw StoreError("unsupported store url (expected sqlite:PATH): " + url);
}

}  // namespace gatehouse::state
