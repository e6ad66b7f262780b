// The StateStore contract (state/state_store.hpp), run on every backend listed in backends():
// users, API keys, the generation counter, the server secret, and several connections ("two
// processes") writing to one store at once. The SQLite-only cases (files, modes, URLs) follow.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "../temp_dir.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "state/state_store.hpp"

namespace gatehouse::state {
namespace {

using namespace std::string_literals;
namespace fs = std::filesystem;

using gatehouse::testing::TempDir;

// A backend opens a connection to the store at `location` (a fresh empty directory per test).
// Opening the same location again is a second connection to the same store, as a second process
// (the CLI next to a running server, or another instance) would have.
struct Backend {
  std::string label;
  std::function<std::unique_ptr<StateStore>(const fs::path& location)> open;
};

// Names the backend in failure messages.
void PrintTo(const Backend& backend, std::ostream* os) {
  *os << backend.label;
}

std::vector<Backend> backends() {
  return {
      {"sqlite",
       [](const fs::path& dir) { return open_state_store("sqlite:" + (dir / "t.db").string()); }},
      // {"postgresql", [](const fs::path& dir) { return open_state_store(pg_url_for(dir)); }},
  };
}

std::string secret_hash_bytes(char fill) {
  std::string h(32, fill);
  h[0] = '\0';  // binary: a NUL must survive the round trip
  h[31] = '\xff';
  return h;
}

UserRow user(std::string name, std::vector<std::string> roles = {"User"}) {
  UserRow u;
  u.name = std::move(name);
  u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + u.name;
  u.roles = std::move(roles);
  u.created = 1'700'000'000;
  u.updated = 1'700'000'000;
  return u;
}

ApiKeyRow key(std::string id, std::string owner, std::int64_t created = 1'700'000'100) {
  ApiKeyRow k;
  k.id = std::move(id);
  k.username = std::move(owner);
  k.name = "laptop";
  k.secret_hash = secret_hash_bytes('k');
  k.created = created;
  return k;
}

std::vector<std::string> names_of(const std::vector<UserRow>& users) {
  std::vector<std::string> out;
  for (const auto& u : users) out.push_back(u.name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ids_of(const std::vector<ApiKeyRow>& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.id);
  return out;
}

const ApiKeyRow* find_key(const std::vector<ApiKeyRow>& keys, std::string_view id) {
  for (const auto& k : keys) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

class StateStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { store_ = open(); }
  std::unique_ptr<StateStore> open() { return GetParam().open(dir_.path()); }

  TempDir dir_;
  std::unique_ptr<StateStore> store_;
};

TEST_P(StateStoreContract, NewStoreIsEmpty) {
  EXPECT_TRUE(store_->list_users().empty());
  EXPECT_FALSE(store_->find_user("demo").has_value());
  EXPECT_TRUE(store_->list_api_keys(std::nullopt).empty());
  EXPECT_TRUE(store_->list_api_keys("demo").empty());
}

TEST_P(StateStoreContract, AddedUserIsFoundWithEveryField) {
  UserRow u = user("demo", {"User", "Admin"});
  u.disabled = true;
  u.created = 1'700'000'001;
  u.updated = 1'700'000'002;
  ASSERT_TRUE(store_->add_user(u));
  const auto found = store_->find_user("demo");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "demo");
  EXPECT_EQ(found->password_hash, u.password_hash);
  EXPECT_EQ(found->roles, (std::vector<std::string>{"User", "Admin"}));
  EXPECT_TRUE(found->disabled);
  EXPECT_EQ(found->created, 1'700'000'001);
  EXPECT_EQ(found->updated, 1'700'000'002);
}

TEST_P(StateStoreContract, UserWithoutRolesAndNonAsciiName) {
  ASSERT_TRUE(store_->add_user(user("\xc3\xb6laf", {})));
  const auto found = store_->find_user("\xc3\xb6laf");
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->roles.empty());
  EXPECT_FALSE(found->disabled);
}

TEST_P(StateStoreContract, LookupIsExact) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  EXPECT_FALSE(store_->find_user("Demo").has_value());
  EXPECT_FALSE(store_->find_user("dem").has_value());
  EXPECT_FALSE(store_->find_user("demo ").has_value());
  EXPECT_FALSE(store_->find_user("%").has_value());
}

TEST_P(StateStoreContract, ListsEveryUser) {
  for (const char* name : {"carol", "alice", "bob"}) ASSERT_TRUE(store_->add_user(user(name)));
  EXPECT_EQ(names_of(store_->list_users()), (std::vector<std::string>{"alice", "bob", "carol"}));
}

TEST_P(StateStoreContract, DuplicateAddReturnsFalseAndKeepsTheFirst) {
  ASSERT_TRUE(store_->add_user(user("demo", {"User"})));
  UserRow again = user("demo", {"Admin"});
  again.password_hash = "{PLAIN}other";
  EXPECT_FALSE(store_->add_user(again));
  const auto found = store_->find_user("demo");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->roles, (std::vector<std::string>{"User"}));
  EXPECT_NE(found->password_hash, "{PLAIN}other");
  EXPECT_EQ(store_->list_users().size(), 1u);
}

TEST_P(StateStoreContract, SetPassword) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  EXPECT_TRUE(store_->set_password("demo", "$2y$05$new", 1'800'000'000));
  const auto found = store_->find_user("demo");
  EXPECT_EQ(found->password_hash, "$2y$05$new");
  EXPECT_EQ(found->updated, 1'800'000'000);
  EXPECT_EQ(found->created, 1'700'000'000);
  EXPECT_FALSE(store_->set_password("nobody", "$2y$05$new", 1'800'000'000));
  EXPECT_FALSE(store_->find_user("nobody").has_value());
}

TEST_P(StateStoreContract, ReplacePasswordHashIsCompareAndSet) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  const std::string original = store_->find_user("demo")->password_hash;
  const auto generation = store_->generation();
  EXPECT_FALSE(store_->replace_password_hash("demo", "$2y$05$not-the-current", "$argon2id$x", 5));
  EXPECT_EQ(store_->find_user("demo")->password_hash, original);
  EXPECT_EQ(store_->generation(), generation);
  EXPECT_TRUE(store_->replace_password_hash("demo", original, "$argon2id$new", 1'800'000'000));
  EXPECT_EQ(store_->find_user("demo")->password_hash, "$argon2id$new");
  EXPECT_EQ(store_->find_user("demo")->updated, 1'800'000'000);
  EXPECT_GT(store_->generation(), generation);
  // The old hash is no longer current: a second upgrade from it does nothing.
  EXPECT_FALSE(store_->replace_password_hash("demo", original, "$argon2id$other", 6));
  EXPECT_EQ(store_->find_user("demo")->password_hash, "$argon2id$new");
  EXPECT_FALSE(store_->replace_password_hash("nobody", original, "$argon2id$x", 7));
}

TEST_P(StateStoreContract, SetRoles) {
  ASSERT_TRUE(store_->add_user(user("demo", {"User"})));
  EXPECT_TRUE(store_->set_roles("demo", {"User", "Admin", "Reader"}, 1'800'000'000));
  EXPECT_EQ(store_->find_user("demo")->roles,
            (std::vector<std::string>{"User", "Admin", "Reader"}));
  EXPECT_EQ(store_->find_user("demo")->updated, 1'800'000'000);
  EXPECT_TRUE(store_->set_roles("demo", {}, 1'800'000'001));
  EXPECT_TRUE(store_->find_user("demo")->roles.empty());
  EXPECT_FALSE(store_->set_roles("nobody", {"Admin"}, 1'800'000'000));
}

TEST_P(StateStoreContract, SetDisabled) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  EXPECT_TRUE(store_->set_disabled("demo", true, 1'800'000'000));
  EXPECT_TRUE(store_->find_user("demo")->disabled);
  EXPECT_EQ(store_->find_user("demo")->updated, 1'800'000'000);
  EXPECT_TRUE(store_->set_disabled("demo", false, 1'800'000'001));
  EXPECT_FALSE(store_->find_user("demo")->disabled);
  EXPECT_FALSE(store_->set_disabled("nobody", true, 1'800'000'000));
}

TEST_P(StateStoreContract, DeleteUserCascadesToItsApiKeysOnly) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  ASSERT_TRUE(store_->add_user(user("other")));
  store_->add_api_key(key("aaaaaaaaaaaaaaaa", "demo"));
  store_->add_api_key(key("bbbbbbbbbbbbbbbb", "demo"));
  store_->add_api_key(key("cccccccccccccccc", "other"));
  EXPECT_TRUE(store_->delete_user("demo"));
  EXPECT_FALSE(store_->find_user("demo").has_value());
  EXPECT_TRUE(store_->list_api_keys("demo").empty());
  EXPECT_EQ(ids_of(store_->list_api_keys(std::nullopt)),
            std::vector<std::string>{"cccccccccccccccc"});
  EXPECT_FALSE(store_->delete_user("demo"));
  EXPECT_TRUE(store_->find_user("other").has_value());
  // A new user of the same name does not inherit the old keys.
  ASSERT_TRUE(store_->add_user(user("demo")));
  EXPECT_TRUE(store_->list_api_keys("demo").empty());
}

TEST_P(StateStoreContract, ApiKeyRoundTripsEveryField) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  ApiKeyRow k = key("0123456789abcdef", "demo", 1'700'000'500);
  k.name = "CI runner \xe2\x80\x94 nightly";
  k.roles = std::vector<std::string>{"Reader", "User"};
  k.expires = 1'800'000'000;
  store_->add_api_key(k);
  const auto keys = store_->list_api_keys("demo");
  ASSERT_EQ(keys.size(), 1u);
  const ApiKeyRow& got = keys[0];
  EXPECT_EQ(got.id, "0123456789abcdef");
  EXPECT_EQ(got.username, "demo");
  EXPECT_EQ(got.name, k.name);
  EXPECT_EQ(got.secret_hash, k.secret_hash);
  EXPECT_EQ(got.secret_hash.size(), 32u);
  EXPECT_EQ(got.roles, k.roles);
  EXPECT_EQ(got.created, 1'700'000'500);
  EXPECT_EQ(got.expires, 1'800'000'000);
  EXPECT_FALSE(got.last_used.has_value());
  EXPECT_FALSE(got.revoked.has_value());
}

TEST_P(StateStoreContract, ApiKeyRolesOwnersVersusNone) {
  // nullopt means "the owner's roles"; an empty list means "no roles": they must stay distinct.
  ASSERT_TRUE(store_->add_user(user("demo")));
  ApiKeyRow owners = key("aaaaaaaaaaaaaaaa", "demo");
  ApiKeyRow none = key("bbbbbbbbbbbbbbbb", "demo");
  none.roles = std::vector<std::string>{};
  store_->add_api_key(owners);
  store_->add_api_key(none);
  const auto keys = store_->list_api_keys("demo");
  ASSERT_NE(find_key(keys, "aaaaaaaaaaaaaaaa"), nullptr);
  ASSERT_NE(find_key(keys, "bbbbbbbbbbbbbbbb"), nullptr);
  EXPECT_FALSE(find_key(keys, "aaaaaaaaaaaaaaaa")->roles.has_value());
  ASSERT_TRUE(find_key(keys, "bbbbbbbbbbbbbbbb")->roles.has_value());
  EXPECT_TRUE(find_key(keys, "bbbbbbbbbbbbbbbb")->roles->empty());
}

TEST_P(StateStoreContract, ApiKeysAreListedNewestFirst) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  ASSERT_TRUE(store_->add_user(user("other")));
  store_->add_api_key(key("aaaaaaaaaaaaaaaa", "demo", 100));
  store_->add_api_key(key("bbbbbbbbbbbbbbbb", "other", 400));
  store_->add_api_key(key("cccccccccccccccc", "demo", 300));
  store_->add_api_key(key("dddddddddddddddd", "demo", 200));
  EXPECT_EQ(ids_of(store_->list_api_keys("demo")),
            (std::vector<std::string>{"cccccccccccccccc", "dddddddddddddddd", "aaaaaaaaaaaaaaaa"}));
  EXPECT_EQ(ids_of(store_->list_api_keys(std::nullopt)),
            (std::vector<std::string>{"bbbbbbbbbbbbbbbb", "cccccccccccccccc", "dddddddddddddddd",
                                      "aaaaaaaaaaaaaaaa"}));
  EXPECT_TRUE(store_->list_api_keys("nobody").empty());
}

TEST_P(StateStoreContract, RevokeOnceOnly) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  store_->add_api_key(key("aaaaaaaaaaaaaaaa", "demo"));
  store_->add_api_key(key("bbbbbbbbbbbbbbbb", "demo"));
  EXPECT_TRUE(store_->revoke_api_key("aaaaaaaaaaaaaaaa", 1'750'000'000));
  EXPECT_FALSE(store_->revoke_api_key("aaaaaaaaaaaaaaaa", 1'760'000'000));
  EXPECT_FALSE(store_->revoke_api_key("ffffffffffffffff", 1'760'000'000));
  const auto keys = store_->list_api_keys("demo");
  ASSERT_NE(find_key(keys, "aaaaaaaaaaaaaaaa"), nullptr);
  EXPECT_EQ(find_key(keys, "aaaaaaaaaaaaaaaa")->revoked, 1'750'000'000);  // the first time stays
  EXPECT_FALSE(find_key(keys, "bbbbbbbbbbbbbbbb")->revoked.has_value());
}

TEST_P(StateStoreContract, TouchKeepsTheLatestUseAndIsNotAChange) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  store_->add_api_key(key("aaaaaaaaaaaaaaaa", "demo"));
  store_->add_api_key(key("bbbbbbbbbbbbbbbb", "demo"));
  const auto generation = store_->generation();
  store_->touch_api_keys(
      {{"aaaaaaaaaaaaaaaa", 1'750'000'500}, {"bbbbbbbbbbbbbbbb", 1'750'000'100}});
  store_->touch_api_keys({{"aaaaaaaaaaaaaaaa", 1'750'000'400}});  // older: ignored
  store_->touch_api_keys({{"ffffffffffffffff", 1'750'000'400}});  // unknown id: ignored
  store_->touch_api_keys({});
  const auto keys = store_->list_api_keys("demo");
  EXPECT_EQ(find_key(keys, "aaaaaaaaaaaaaaaa")->last_used, 1'750'000'500);
  EXPECT_EQ(find_key(keys, "bbbbbbbbbbbbbbbb")->last_used, 1'750'000'100);
  EXPECT_EQ(store_->generation(), generation);
}

TEST_P(StateStoreContract, AddApiKeyForUnknownUserThrows) {
  EXPECT_THROW(store_->add_api_key(key("aaaaaaaaaaaaaaaa", "nobody")), StoreError);
  EXPECT_TRUE(store_->list_api_keys(std::nullopt).empty());
}

TEST_P(StateStoreContract, AddApiKeyWithATakenIdThrows) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  ASSERT_TRUE(store_->add_user(user("other")));
  store_->add_api_key(key("aaaaaaaaaaaaaaaa", "demo"));
  EXPECT_THROW(store_->add_api_key(key("aaaaaaaaaaaaaaaa", "other")), StoreError);
  const auto keys = store_->list_api_keys(std::nullopt);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].username, "demo");
}

TEST_P(StateStoreContract, FailedWriteLeavesGenerationAndStoreUsable) {
  const auto before = store_->generation();
  EXPECT_THROW(store_->add_api_key(key("aaaaaaaaaaaaaaaa", "nobody")), StoreError);
  EXPECT_EQ(store_->generation(), before);
  EXPECT_TRUE(store_->add_user(user("demo")));  // no transaction left open
  EXPECT_GT(store_->generation(), before);
}

TEST_P(StateStoreContract, GenerationBumpsOnEveryWrite) {
  std::uint64_t last = store_->generation();
  auto expect_bumped = [&](const char* what) {
    const auto now = store_->generation();
    EXPECT_GT(now, last) << what;
    last = now;
  };
  ASSERT_TRUE(store_->add_user(user("demo")));
  expect_bumped("add_user");
  ASSERT_TRUE(store_->set_password("demo", "{PLAIN}x", 2));
  expect_bumped("set_password");
  ASSERT_TRUE(store_->set_roles("demo", {"Admin"}, 3));
  expect_bumped("set_roles");
  ASSERT_TRUE(store_->set_disabled("demo", true, 4));
  expect_bumped("set_disabled");
  store_->add_api_key(key("aaaaaaaaaaaaaaaa", "demo"));
  expect_bumped("add_api_key");
  ASSERT_TRUE(store_->revoke_api_key("aaaaaaaaaaaaaaaa", 5));
  expect_bumped("revoke_api_key");
  ASSERT_TRUE(store_->delete_user("demo"));
  expect_bumped("delete_user");
  // Reads are not changes.
  store_->list_users();
  store_->find_user("demo");
  store_->list_api_keys(std::nullopt);
  EXPECT_EQ(store_->generation(), last);
}

TEST_P(StateStoreContract, ServerSecretIs32BytesAndStableAcrossReopen) {
  const std::string secret = store_->server_secret();
  EXPECT_EQ(secret.size(), 32u);
  EXPECT_NE(secret, std::string(32, '\0'));
  EXPECT_EQ(store_->server_secret(), secret);
  store_.reset();
  const auto reopened = open();
  EXPECT_EQ(reopened->server_secret(), secret);
}

TEST_P(StateStoreContract, EachNewStoreHasItsOwnServerSecret) {
  TempDir other_dir;
  const auto other = GetParam().open(other_dir.path());
  EXPECT_NE(other->server_secret(), store_->server_secret());
}

TEST_P(StateStoreContract, CreatedOnlyOnTheFirstOpen) {
  EXPECT_TRUE(store_->created());
  const auto second = open();
  EXPECT_FALSE(second->created());
  store_.reset();
  EXPECT_FALSE(open()->created());
}

TEST_P(StateStoreContract, DataSurvivesReopen) {
  ASSERT_TRUE(store_->add_user(user("demo", {"User", "Admin"})));
  store_->add_api_key(key("aaaaaaaaaaaaaaaa", "demo"));
  const auto generation = store_->generation();
  store_.reset();
  const auto reopened = open();
  ASSERT_TRUE(reopened->find_user("demo").has_value());
  EXPECT_EQ(reopened->find_user("demo")->roles, (std::vector<std::string>{"User", "Admin"}));
  EXPECT_EQ(reopened->list_api_keys("demo").size(), 1u);
  EXPECT_EQ(reopened->generation(), generation);
}

TEST_P(StateStoreContract, TwoConnectionsSeeEachOthersWrites) {
  const auto other = open();  // a second process on the same store
  ASSERT_TRUE(store_->add_user(user("demo")));
  ASSERT_TRUE(other->find_user("demo").has_value());
  EXPECT_EQ(other->generation(), store_->generation());

  ASSERT_TRUE(other->set_roles("demo", {"Admin"}, 10));
  EXPECT_EQ(store_->find_user("demo")->roles, std::vector<std::string>{"Admin"});
  EXPECT_EQ(store_->generation(), other->generation());

  other->add_api_key(key("aaaaaaaaaaaaaaaa", "demo"));
  EXPECT_EQ(ids_of(store_->list_api_keys("demo")), std::vector<std::string>{"aaaaaaaaaaaaaaaa"});
  EXPECT_TRUE(store_->revoke_api_key("aaaaaaaaaaaaaaaa", 11));
  EXPECT_FALSE(other->revoke_api_key("aaaaaaaaaaaaaaaa", 12));
  EXPECT_FALSE(store_->add_user(user("demo")));
  EXPECT_FALSE(other->add_user(user("demo")));
  EXPECT_EQ(store_->server_secret(), other->server_secret());
}

TEST_P(StateStoreContract, ConcurrentWritersOnTwoConnectionsAllSucceed) {
  constexpr int kConnections = 2, kThreadsEach = 4, kUsersEach = 25;
  std::vector<std::unique_ptr<StateStore>> connections;
  connections.push_back(std::move(store_));
  for (int c = 1; c < kConnections; ++c) connections.push_back(open());
  const auto before = connections[0]->generation();

  std::atomic<int> added{0}, refused{0}, failed{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kConnections; ++c) {
    for (int t = 0; t < kThreadsEach; ++t) {
      threads.emplace_back([&, c, t] {
        for (int i = 0; i < kUsersEach; ++i) {
          const std::string name =
              "u" + std::to_string(c) + "-" + std::to_string(t) + "-" + std::to_string(i);
          try {
            (connections[c]->add_user(user(name)) ? added : refused)++;
          } catch (const std::exception& e) {
            ++failed;
            ADD_FAILURE() << name << ": " << e.what();
          }
        }
      });
    }
  }
  for (auto& th : threads) th.join();
  constexpr int kTotal = kConnections * kThreadsEach * kUsersEach;
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(added.load(), kTotal);
  for (const auto& conn : connections) {
    EXPECT_EQ(conn->list_users().size(), static_cast<std::size_t>(kTotal));
    EXPECT_EQ(conn->generation(), before + kTotal);
  }
}

TEST_P(StateStoreContract, SimultaneousFirstOpensCreateTheStoreOnce) {
  // Processes started together (a server and `gatehouse init`) on a store that does not exist
  // yet: every open succeeds, exactly one creates the store, all share its secret. The race is
  // run a few times, each on a new location, since one round may happen not to collide.
  constexpr int kRounds = 40, kOpeners = 6;
  for (int round = 0; round < kRounds; ++round) {
    TempDir fresh;
    std::vector<std::unique_ptr<StateStore>> opened(kOpeners);
    std::vector<std::string> errors(kOpeners);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kOpeners; ++i) {
      threads.emplace_back([&, i] {
        ++ready;
        while (ready.load() < kOpeners) std::this_thread::yield();  // start together
        try {
          opened[i] = GetParam().open(fresh.path());
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    int created = 0;
    for (int i = 0; i < kOpeners; ++i) {
      ASSERT_NE(opened[i], nullptr)
          << "round " << round << ", open " << i << " failed: " << errors[i];
      created += opened[i]->created() ? 1 : 0;
    }
    EXPECT_EQ(created, 1) << "round " << round;
    for (const auto& s : opened) EXPECT_EQ(s->server_secret(), opened[0]->server_secret());
  }
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.label;
}

INSTANTIATE_TEST_SUITE_P(Backends, StateStoreContract, ::testing::ValuesIn(backends()),
                         backend_name);

// ---- SQLite only ----------------------------------------------------------------------------

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    ADD_FAILURE() << "cannot stat " << p;
    return 0;
  }
  return st.st_mode & 07777;
}

// Sets a permissive umask for its lifetime, so the modes the store sets are its own doing.
class Umask {
 public:
  explicit Umask(mode_t mask) : old_(::umask(mask)) {}
  ~Umask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(SqliteStateStore, CreatesItsDirectory0700AndFiles0600) {
  TempDir dir;
  const Umask permissive(022);
  const fs::path data = dir.path() / "data";
  auto store = open_state_store("sqlite:" + (data / "gatehouse.db").string());
  ASSERT_TRUE(store->add_user(user("demo")));  // the WAL and shared-memory files now exist
  EXPECT_EQ(mode_of(data), 0700u);
  EXPECT_EQ(mode_of(data / "gatehouse.db"), 0600u);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(data)) {
    ++files;
    EXPECT_EQ(mode_of(entry.path()) & 077, 0u) << entry.path() << " is readable by others";
  }
  EXPECT_GE(files, 1);
  EXPECT_TRUE(fs::exists(data / "gatehouse.db-wal")) << "WAL mode";
  store.reset();
  EXPECT_EQ(::umask(022), 022u) << "the store must not leave the process umask changed";
}

TEST(SqliteStateStore, UsesWalJournalMode) {
  TempDir dir;
  const fs::path db = dir.path() / "t.db";
  auto store = open_state_store("sqlite:" + db.string());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

TEST(SqliteStateStore, RefusesASchemaNewerThanItKnows) {
  TempDir dir;
  const fs::path db = dir.path() / "t.db";
  open_state_store("sqlite:" + db.string()).reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  EXPECT_THROW(open_state_store("sqlite:" + db.string()), StoreError);
}

TEST(SqliteStateStore, UnusableLocationOrUrlThrowsStoreError) {
  EXPECT_THROW(open_state_store("sqlite:/proc/gatehouse-no-such-dir/t.db"), StoreError);
  EXPECT_THROW(open_state_store("nosuchscheme:/tmp/x"), StoreError);
  EXPECT_THROW(open_state_store(""), StoreError);
}

TEST(SqliteStateStore, RolesJoinAndSplit) {
  EXPECT_EQ(join_roles({}), "");
  EXPECT_EQ(join_roles({"User"}), "User");
  EXPECT_EQ(join_roles({"User", "Admin"}), "User,Admin");
  EXPECT_TRUE(split_roles("").empty());
  EXPECT_EQ(split_roles("User,Admin"), (std::vector<std::string>{"User", "Admin"}));
  EXPECT_EQ(split_roles(",User,,Admin,"), (std::vector<std::string>{"User", "Admin"}));
}

}  // namespace
}  // namespace gatehouse::state
