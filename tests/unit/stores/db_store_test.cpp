// The gatehouse database as a credential store, over a real SQLite state store: snapshots,
// refresh on another connection's writes, API-key roles narrowed to the owner's, usability, and
// last-use times that survive reloads and reach the database.
#include "stores/db_store.hpp"
#include "../temp_dir.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "auth/api_key.hpp"
#include "state/state_store.hpp"
#include "util/clock.hpp"

namespace gatehouse::stores {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using gatehouse::testing::TempDir;

// Delegates to a real state store; with `fail` set, every call throws as a lost database would.
class FlakyStateStore final : public state::StateStore {
 public:
  explicit FlakyStateStore(std::shared_ptr<state::StateStore> real) : real_(std::move(real)) {}
  bool fail = false;
  int touches = 0;

  std::optional<state::UserRow> find_user(std::string_view n) override {
    check();
    return real_->find_user(n);
  }
  std::vector<state::UserRow> list_users() override {
    check();
    return real_->list_users();
  }
  bool add_user(const state::UserRow& u) override {
    check();
    return real_->add_user(u);
  }
  bool set_password(std::string_view n, std::string_view h, std::int64_t t) override {
    check();
    return real_->set_password(n, h, t);
  }
  bool set_digest_ha1(std::string_view n, const std::vector<state::DigestHa1Row>& rows) override {
    check();
    return real_->set_digest_ha1(n, rows);
  }
  std::vector<state::DigestHa1Row> list_digest_ha1() override {
    check();
    return real_->list_digest_ha1();
  }
  bool replace_password_hash(std::string_view n, std::string_view e, std::string_view h,
                             std::int64_t t) override {
    check();
    return real_->replace_password_hash(n, e, h, t);
  }
  bool set_roles(std::string_view n, const std::vector<std::string>& r, std::int64_t t) override {
    check();
    return real_->set_roles(n, r, t);
  }
  bool set_disabled(std::string_view n, bool d, std::int64_t t) override {
    check();
    return real_->set_disabled(n, d, t);
  }
  bool delete_user(std::string_view n) override {
    check();
    return real_->delete_user(n);
  }
  void add_api_key(const state::ApiKeyRow& k) override {
    check();
    real_->add_api_key(k);
  }
  std::vector<state::ApiKeyRow> list_api_keys(std::optional<std::string_view> u) override {
    check();
    return real_->list_api_keys(u);
  }
  bool revoke_api_key(std::string_view id, std::int64_t t) override {
    check();
    return real_->revoke_api_key(id, t);
  }
  void touch_api_keys(const std::vector<std::pair<std::string, std::int64_t>>& uses) override {
    check();
    ++touches;
    real_->touch_api_keys(uses);
  }
  void add_session(const state::SessionRow& s) override {
    check();
    real_->add_session(s);
  }
  std::optional<state::SessionRow> find_session(std::string_view id) override {
    check();
    return real_->find_session(id);
  }
  std::vector<state::SessionRow> list_sessions(std::optional<std::string_view> u,
                                               bool include_revoked) override {
    check();
    return real_->list_sessions(u, include_revoked);
  }
  bool rotate_session(const state::SessionRow& next) override {
    check();
    return real_->rotate_session(next);
  }
  bool revoke_session(std::string_view id, std::int64_t t, std::string_view reason) override {
    check();
    return real_->revoke_session(id, t, reason);
  }
  std::size_t revoke_user_sessions(std::string_view u, std::int64_t t,
                                   std::string_view reason) override {
    check();
    return real_->revoke_user_sessions(u, t, reason);
  }
  std::vector<std::string> revoked_sessions_since(std::int64_t t) override {
    check();
    return real_->revoked_sessions_since(t);
  }
  std::size_t delete_sessions_before(std::int64_t t) override {
    check();
    return real_->delete_sessions_before(t);
  }
  std::uint64_t revocation_generation() override {
    check();
    return real_->revocation_generation();
  }
  bool add_signing_key(const state::SigningKeyRow& k,
                       std::optional<std::string_view> expected_current) override {
    check();
    return real_->add_signing_key(k, expected_current);
  }
  std::vector<state::SigningKeyRow> list_signing_keys() override {
    check();
    return real_->list_signing_keys();
  }
  bool save_throttle(const std::vector<state::ThrottleRow>& rows, std::uint64_t g) override {
    check();
    return real_->save_throttle(rows, g);
  }
  state::ThrottleTable load_throttle(std::int64_t now_ms) override {
    check();
    return real_->load_throttle(now_ms);
  }
  std::size_t delete_throttle(const std::vector<std::string>& keys) override {
    check();
    return real_->delete_throttle(keys);
  }
  std::size_t clear_throttle() override {
    check();
    return real_->clear_throttle();
  }
  std::size_t delete_expired_throttle(std::int64_t now_ms) override {
    check();
    return real_->delete_expired_throttle(now_ms);
  }
  std::uint64_t throttle_generation() override {
    check();
    return real_->throttle_generation();
  }
  std::size_t delete_signing_keys_retired_before(std::int64_t t) override {
    check();
    return real_->delete_signing_keys_retired_before(t);
  }
  std::uint64_t signing_keys_generation() override {
    check();
    return real_->signing_keys_generation();
  }
  std::vector<state::TrackerItemRow> load_tracker_items(std::string_view t) override {
    check();
    return real_->load_tracker_items(t);
  }
  bool seed_tracker_items(std::string_view t,
                          const std::vector<state::TrackerItemRow>& items) override {
    check();
    return real_->seed_tracker_items(t, items);
  }
  std::int64_t create_tracker_item(std::string_view t, const state::TrackerItemRow& i) override {
    check();
    return real_->create_tracker_item(t, i);
  }
  bool update_tracker_item(std::string_view t, const state::TrackerItemRow& i) override {
    check();
    return real_->update_tracker_item(t, i);
  }
  std::uint64_t tracker_generation() override {
    check();
    return real_->tracker_generation();
  }
  std::uint64_t generation() override {
    check();
    return real_->generation();
  }
  std::string server_secret() override {
    check();
    return real_->server_secret();
  }
  bool created() const noexcept override { return real_->created(); }

 private:
  void check() const {
    if (fail) throw state::StoreError("database is gone");
  }
  std::shared_ptr<state::StateStore> real_;
};

state::UserRow user(std::string name, std::vector<std::string> roles, bool disabled = false) {
  state::UserRow u;
  u.name = std::move(name);
  u.password_hash = "{PLAIN}pw-of-" + u.name;
  u.roles = std::move(roles);
  u.disabled = disabled;
  u.created = u.updated = 1'700'000'000;
  return u;
}

class DbStoreTest : public ::testing::Test {
 protected:
  DbStoreTest() {
    const std::string url = "sqlite:" + (dir_.path() / "gatehouse.db").string();
    state_ = state::open_state_store(url);
    other_ = state::open_state_store(url);  // e.g. the CLI, next to the running server
    EXPECT_TRUE(state_->add_user(user("demo", {"User", "Reader"})));
    EXPECT_TRUE(state_->add_user(user("admin", {"User", "Admin"})));
    EXPECT_TRUE(state_->add_user(user("locked", {"User"}, /*disabled=*/true)));
  }

  // Adds a key through `store`; returns the full key string.
  std::string add_key(state::StateStore& store, const std::string& owner,
                      std::optional<std::vector<std::string>> roles = std::nullopt,
                      std::optional<std::int64_t> expires = std::nullopt) {
    const auto k = auth::generate_api_key();
    state::ApiKeyRow row;
    row.id = k.id;
    row.username = owner;
    row.name = "test key";
    row.secret_hash.assign(reinterpret_cast<const char*>(k.secret_hash.data()),
                           k.secret_hash.size());
    row.roles = std::move(roles);
    row.created = 1'700'000'100;
    row.expires = expires;
    store.add_api_key(row);
    return k.key;
  }
  static std::string id_of(const std::string& key) {
    return std::string(auth::parse_api_key(key)->id);
  }
  std::optional<std::int64_t> stored_last_used(const std::string& key) {
    for (const auto& row : other_->list_api_keys(std::nullopt)) {
      if (row.id == id_of(key)) return row.last_used;
    }
    ADD_FAILURE() << "no such key in the database";
    return std::nullopt;
  }

  TempDir dir_;
  std::shared_ptr<state::StateStore> state_;
  std::shared_ptr<state::StateStore> other_;
};

TEST_F(DbStoreTest, NameAndCapabilities) {
  const DbStore db(state_);
  EXPECT_EQ(db.name(), "db");
  EXPECT_TRUE(db.can(StoreCapability::password));
  EXPECT_TRUE(db.can(StoreCapability::api_key));
  EXPECT_TRUE(db.can(StoreCapability::digest_ha1));  // users who opted in have HA1 rows
  EXPECT_FALSE(db.can(StoreCapability::principal));
}

TEST_F(DbStoreTest, FindsUsersWithTheirRecord) {
  const DbStore db(state_);
  const PasswordLookup demo = db.find_password("demo");
  ASSERT_EQ(demo.status, LookupStatus::found);
  EXPECT_EQ(demo.record.username, "demo");
  EXPECT_EQ(demo.record.hash, "{PLAIN}pw-of-demo");
  EXPECT_EQ(demo.record.roles, (std::vector<std::string>{"User", "Reader"}));
  EXPECT_FALSE(demo.record.disabled);
  const PasswordLookup locked = db.find_password("locked");
  ASSERT_EQ(locked.status, LookupStatus::found);
  EXPECT_TRUE(locked.record.disabled);
}

TEST_F(DbStoreTest, UnknownUserIsUnknown) {
  const DbStore db(state_);
  EXPECT_EQ(db.find_password("nobody").status, LookupStatus::unknown_user);
  EXPECT_EQ(db.find_password("Demo").status, LookupStatus::unknown_user);  // exact match
  EXPECT_EQ(db.find_password("").status, LookupStatus::unknown_user);
}

TEST_F(DbStoreTest, FindsApiKeysWithEveryField) {
  const std::string key = add_key(*state_, "demo", std::nullopt, 1'800'000'000);
  const DbStore db(state_);
  const ApiKeyLookup found = db.find_api_key(id_of(key));
  ASSERT_EQ(found.status, LookupStatus::found);
  ASSERT_NE(found.record, nullptr);
  EXPECT_EQ(found.record->id, id_of(key));
  EXPECT_EQ(found.record->username, "demo");
  EXPECT_EQ(found.record->secret_hash, auth::hash_api_key_secret(std::string_view(key).substr(20)));
  EXPECT_EQ(found.record->expires, 1'800'000'000);
  EXPECT_TRUE(found.record->usable);
  ASSERT_NE(found.record->last_used, nullptr);
  EXPECT_EQ(found.record->last_used->load(), 0);
  EXPECT_EQ(db.find_api_key("ffffffffffffffff").status, LookupStatus::unknown_user);
  EXPECT_EQ(db.find_api_key("").status, LookupStatus::unknown_user);
}

TEST_F(DbStoreTest, KeyWithoutRolesHasItsOwnersRoles) {
  const std::string key = add_key(*state_, "demo");
  const DbStore db(state_);
  EXPECT_EQ(db.find_api_key(id_of(key)).record->roles,
            (std::vector<std::string>{"User", "Reader"}));
}

TEST_F(DbStoreTest, KeyRolesAreNarrowedToTheOwners) {
  const std::string narrow = add_key(*state_, "demo", std::vector<std::string>{"Reader"});
  const std::string wider =
      add_key(*state_, "demo", std::vector<std::string>{"Admin", "Reader", "Superuser"});
  const std::string none = add_key(*state_, "demo", std::vector<std::string>{});
  const DbStore db(state_);
  EXPECT_EQ(db.find_api_key(id_of(narrow)).record->roles, std::vector<std::string>{"Reader"});
  EXPECT_EQ(db.find_api_key(id_of(wider)).record->roles, std::vector<std::string>{"Reader"});
  EXPECT_TRUE(db.find_api_key(id_of(none)).record->roles.empty());
}

TEST_F(DbStoreTest, KeyLosesARoleItsOwnerLoses) {
  const std::string key = add_key(*state_, "admin", std::vector<std::string>{"Admin"});
  DbStore db(state_);
  ASSERT_EQ(db.find_api_key(id_of(key)).record->roles, std::vector<std::string>{"Admin"});
  ASSERT_TRUE(other_->set_roles("admin", {"User"}, 1'700'000'500));
  db.refresh();
  EXPECT_TRUE(db.find_api_key(id_of(key)).record->roles.empty());
}

TEST_F(DbStoreTest, KeyOfADisabledUserIsUnusable) {
  const std::string locked_key = add_key(*state_, "locked");
  const std::string demo_key = add_key(*state_, "demo");
  DbStore db(state_);
  EXPECT_FALSE(db.find_api_key(id_of(locked_key)).record->usable);
  EXPECT_TRUE(db.find_api_key(id_of(demo_key)).record->usable);
  ASSERT_TRUE(other_->set_disabled("demo", true, 1'700'000'500));
  db.refresh();
  EXPECT_FALSE(db.find_api_key(id_of(demo_key)).record->usable);
}

TEST_F(DbStoreTest, RevokedKeyIsUnusable) {
  const std::string key = add_key(*state_, "demo");
  ASSERT_TRUE(state_->revoke_api_key(id_of(key), 1'700'000'200));
  const DbStore db(state_);
  const ApiKeyLookup found = db.find_api_key(id_of(key));
  ASSERT_EQ(found.status, LookupStatus::found);
  EXPECT_FALSE(found.record->usable);
}

TEST_F(DbStoreTest, AnotherConnectionsWriteIsSeenAfterRefreshAndNotBefore) {
  DbStore db(state_);
  ASSERT_TRUE(other_->add_user(user("carol", {"User"})));
  ASSERT_TRUE(other_->set_password("demo", "{PLAIN}changed", 1'700'000'600));
  const std::string key = add_key(*other_, "demo");
  ASSERT_TRUE(other_->delete_user("admin"));

  EXPECT_EQ(db.find_password("carol").status, LookupStatus::unknown_user);
  EXPECT_EQ(db.find_password("demo").record.hash, "{PLAIN}pw-of-demo");
  EXPECT_EQ(db.find_api_key(id_of(key)).status, LookupStatus::unknown_user);
  EXPECT_EQ(db.find_password("admin").status, LookupStatus::found);

  db.refresh();
  EXPECT_EQ(db.find_password("carol").status, LookupStatus::found);
  EXPECT_EQ(db.find_password("demo").record.hash, "{PLAIN}changed");
  EXPECT_EQ(db.find_api_key(id_of(key)).status, LookupStatus::found);
  EXPECT_EQ(db.find_password("admin").status, LookupStatus::unknown_user);
}

TEST_F(DbStoreTest, RevocationIsSeenAfterRefresh) {
  const std::string key = add_key(*state_, "demo");
  DbStore db(state_);
  ASSERT_TRUE(db.find_api_key(id_of(key)).record->usable);
  ASSERT_TRUE(other_->revoke_api_key(id_of(key), 1'700'000'700));
  EXPECT_TRUE(db.find_api_key(id_of(key)).record->usable);
  db.refresh();
  EXPECT_FALSE(db.find_api_key(id_of(key)).record->usable);
}

TEST_F(DbStoreTest, RecordsHandedOutStayValidAcrossRefresh) {
  const std::string key = add_key(*state_, "demo");
  DbStore db(state_);
  const auto before = db.find_api_key(id_of(key)).record;
  ASSERT_TRUE(other_->revoke_api_key(id_of(key), 1'700'000'700));
  db.refresh();
  EXPECT_TRUE(before->usable);  // the old snapshot's record is immutable, not mutated in place
  EXPECT_FALSE(db.find_api_key(id_of(key)).record->usable);
}

TEST_F(DbStoreTest, LastUsedCountersSurviveARefresh) {
  const std::string key = add_key(*state_, "demo");
  DbStore db(state_);
  FakeClock clock;
  const auth::ApiKeyVerifier verifier({std::shared_ptr<CredentialStore>(&db, [](auto*) {})}, clock);
  ASSERT_EQ(verifier.verify(key, "apikey").kind, OutcomeKind::granted);
  const auto counter = db.find_api_key(id_of(key)).record->last_used;
  ASSERT_EQ(counter->load(), clock.now_s());

  ASSERT_TRUE(other_->add_user(user("carol", {"User"})));  // a change: the snapshot reloads
  db.refresh();
  ASSERT_EQ(db.find_password("carol").status, LookupStatus::found);
  const auto after = db.find_api_key(id_of(key)).record;
  EXPECT_EQ(after->last_used, counter) << "the counter is shared across snapshots";
  EXPECT_EQ(after->last_used->load(), clock.now_s());

  // A use recorded through a record from the old snapshot still counts.
  clock.advance(100s);
  ASSERT_EQ(verifier.verify(key, "apikey").kind, OutcomeKind::granted);
  EXPECT_EQ(db.find_api_key(id_of(key)).record->last_used->load(), clock.now_s());
}

TEST_F(DbStoreTest, FlushWritesLastUsedWithoutChangingTheGeneration) {
  const std::string used = add_key(*state_, "demo");
  const std::string unused = add_key(*state_, "demo");
  DbStore db(state_);
  const auto generation = other_->generation();
  db.find_api_key(id_of(used)).record->last_used->store(1'750'000'000);
  EXPECT_FALSE(stored_last_used(used).has_value());  // lazily: not written yet
  db.flush_last_used();
  EXPECT_EQ(stored_last_used(used), 1'750'000'000);
  EXPECT_FALSE(stored_last_used(unused).has_value());
  EXPECT_EQ(other_->generation(), generation);
}

TEST_F(DbStoreTest, RefreshFlushesLastUsed) {
  const std::string key = add_key(*state_, "demo");
  DbStore db(state_);
  db.find_api_key(id_of(key)).record->last_used->store(1'750'000'000);
  db.refresh();
  EXPECT_EQ(stored_last_used(key), 1'750'000'000);
}

TEST_F(DbStoreTest, LastUsedIsLoadedFromTheDatabase) {
  const std::string key = add_key(*state_, "demo");
  other_->touch_api_keys({{id_of(key), 1'740'000'000}});
  const DbStore db(state_);
  EXPECT_EQ(db.find_api_key(id_of(key)).record->last_used->load(), 1'740'000'000);
}

TEST_F(DbStoreTest, FlushWritesOnlyWhatChanged) {
  const std::string key = add_key(*state_, "demo");
  auto flaky = std::make_shared<FlakyStateStore>(state_);
  DbStore db(flaky);
  db.flush_last_used();
  EXPECT_EQ(flaky->touches, 0) << "nothing used, nothing to write";
  db.find_api_key(id_of(key)).record->last_used->store(1'750'000'000);
  db.flush_last_used();
  EXPECT_EQ(flaky->touches, 1);
  db.flush_last_used();
  EXPECT_EQ(flaky->touches, 1) << "already written";
}

TEST_F(DbStoreTest, FailedFlushIsRetried) {
  const std::string key = add_key(*state_, "demo");
  auto flaky = std::make_shared<FlakyStateStore>(state_);
  DbStore db(flaky);
  db.find_api_key(id_of(key)).record->last_used->store(1'750'000'000);
  flaky->fail = true;
  EXPECT_NO_THROW(db.flush_last_used());
  EXPECT_FALSE(stored_last_used(key).has_value());
  flaky->fail = false;
  db.flush_last_used();
  EXPECT_EQ(stored_last_used(key), 1'750'000'000);
}

TEST_F(DbStoreTest, RefreshKeepsTheLastGoodSnapshotWhenTheDatabaseFails) {
  auto flaky = std::make_shared<FlakyStateStore>(state_);
  DbStore db(flaky);
  ASSERT_TRUE(other_->add_user(user("carol", {"User"})));
  flaky->fail = true;
  EXPECT_NO_THROW(db.refresh());
  EXPECT_EQ(db.find_password("demo").status, LookupStatus::found);
  EXPECT_EQ(db.find_password("carol").status, LookupStatus::unknown_user);
  flaky->fail = false;
  db.refresh();
  EXPECT_EQ(db.find_password("carol").status, LookupStatus::found);
}

TEST_F(DbStoreTest, ConstructionFailsWhenTheDatabaseCannotBeRead) {
  auto flaky = std::make_shared<FlakyStateStore>(state_);
  flaky->fail = true;
  EXPECT_THROW(DbStore{flaky}, state::StoreError);
}

}  // namespace
}  // namespace gatehouse::stores
