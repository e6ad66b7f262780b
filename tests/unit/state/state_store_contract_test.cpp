// The StateStore contract (state/state_store.hpp), run on every backend listed in backends():
// users, API keys, sessions, signing keys, failed-login throttle rows, the generation counters,
// the server secret, and several
// connections ("two processes") writing to one store at once. The SQLite-only cases (files,
// modes, URLs, schema migration) follow.
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

SessionRow session(std::string id, std::string owner, std::int64_t created = 1'700'001'000) {
  SessionRow s;
  s.id = std::move(id);
  s.username = std::move(owner);
  s.method = "password";
  s.created = created;
  s.last_used = created;
  s.generation = 1;
  s.rotated = created;
  s.access_jti = "jti-" + s.id + "-1";
  s.access_iat = created;
  return s;
}

// The rotation of `current` to its next generation at `now`.
SessionRow rotated(const SessionRow& current, std::int64_t now) {
  SessionRow next = current;
  next.generation = current.generation + 1;
  next.rotated = now;
  next.last_used = now;
  next.access_jti = "jti-" + current.id + "-" + std::to_string(next.generation);
  next.access_iat = now;
  next.access_sealed = "sealed-" + std::to_string(next.generation);
  return next;
}

std::vector<std::string> ids_of(const std::vector<SessionRow>& sessions) {
  std::vector<std::string> out;
  for (const auto& s : sessions) out.push_back(s.id);
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

SigningKeyRow signing_key(std::string kid, std::int64_t created) {
  SigningKeyRow k;
  k.kid = std::move(kid);
  k.alg = "EdDSA";
  k.private_jwk = R"({"kty":"OKP","crv":"Ed25519","kid":")" + k.kid + R"(","d":"c2VjcmV0"})";
  k.created = created;
  return k;
}

std::vector<std::string> kids_of(const std::vector<SigningKeyRow>& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.kid);
  return out;
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

// ---- Sessions ---------------------------------------------------------------------------------

TEST_P(StateStoreContract, SessionRoundTripsEveryField) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  SessionRow s = session("sess-0123456789_-", "demo", 1'700'001'001);
  s.method = "oidc:corp \xe2\x80\x94 sso";
  s.last_used = 1'700'001'002;
  s.generation = 7;
  s.rotated = 1'700'001'003;
  s.access_jti = "jti-abc";
  s.access_iat = 1'700'001'004;
  s.access_sealed = "c2VhbGVk";
  store_->add_session(s);
  const auto found = store_->find_session("sess-0123456789_-");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, "sess-0123456789_-");
  EXPECT_EQ(found->username, "demo");
  EXPECT_EQ(found->method, s.method);
  EXPECT_EQ(found->created, 1'700'001'001);
  EXPECT_EQ(found->last_used, 1'700'001'002);
  EXPECT_EQ(found->generation, 7);
  EXPECT_EQ(found->rotated, 1'700'001'003);
  EXPECT_EQ(found->access_jti, "jti-abc");
  EXPECT_EQ(found->access_iat, 1'700'001'004);
  EXPECT_EQ(found->access_sealed, "c2VhbGVk");
  EXPECT_FALSE(found->revoked.has_value());
  EXPECT_EQ(found->revoked_reason, "");
  EXPECT_FALSE(store_->find_session("sess-0123456789_").has_value());
  EXPECT_FALSE(store_->find_session("SESS-0123456789_-").has_value());
  EXPECT_FALSE(store_->find_session("%").has_value());
}

TEST_P(StateStoreContract, SessionAddedRevokedKeepsItsRevocation) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  SessionRow s = session("s1", "demo");
  s.revoked = 1'700'002'000;
  s.revoked_reason = "admin";
  store_->add_session(s);
  const auto found = store_->find_session("s1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->revoked, 1'700'002'000);
  EXPECT_EQ(found->revoked_reason, "admin");
}

// Users of htpasswd, static and Unix stores have sessions too: no users-table row is needed.
TEST_P(StateStoreContract, SessionsNeedNoUsersTableRow) {
  store_->add_session(session("s1", "htpasswd-only"));
  ASSERT_TRUE(store_->find_session("s1").has_value());
  EXPECT_EQ(store_->list_sessions("htpasswd-only", false).size(), 1u);
}

TEST_P(StateStoreContract, AddSessionWithATakenIdThrowsAndKeepsTheFirst) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  ASSERT_TRUE(store_->add_user(user("other")));
  store_->add_session(session("s1", "demo"));
  EXPECT_THROW(store_->add_session(session("s1", "other")), StoreError);
  ASSERT_TRUE(store_->find_session("s1").has_value());
  EXPECT_EQ(store_->find_session("s1")->username, "demo");
  EXPECT_EQ(store_->list_sessions(std::nullopt, true).size(), 1u);
  store_->add_session(session("s2", "other"));  // no transaction left open
  EXPECT_TRUE(store_->find_session("s2").has_value());
}

TEST_P(StateStoreContract, SessionsAreListedNewestFirstPerUserAndLiveUnlessAsked) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  ASSERT_TRUE(store_->add_user(user("other")));
  store_->add_session(session("a", "demo", 100));
  store_->add_session(session("b", "other", 400));
  store_->add_session(session("c", "demo", 300));
  store_->add_session(session("d", "demo", 200));
  store_->add_session(session("e", "demo", 300));  // same second as "c": then by id
  ASSERT_TRUE(store_->revoke_session("d", 500, "logout"));
  ASSERT_TRUE(store_->revoke_session("b", 500, "logout"));

  EXPECT_EQ(ids_of(store_->list_sessions("demo", false)),
            (std::vector<std::string>{"c", "e", "a"}));
  EXPECT_EQ(ids_of(store_->list_sessions("demo", true)),
            (std::vector<std::string>{"c", "e", "d", "a"}));
  EXPECT_EQ(ids_of(store_->list_sessions(std::nullopt, false)),
            (std::vector<std::string>{"c", "e", "a"}));
  EXPECT_EQ(ids_of(store_->list_sessions(std::nullopt, true)),
            (std::vector<std::string>{"b", "c", "e", "d", "a"}));
  EXPECT_TRUE(store_->list_sessions("other", false).empty());
  EXPECT_EQ(ids_of(store_->list_sessions("other", true)), std::vector<std::string>{"b"});
  EXPECT_TRUE(store_->list_sessions("nobody", true).empty());
  EXPECT_TRUE(store_->list_sessions("Demo", true).empty());
  // Listed rows carry every field.
  const auto listed = store_->list_sessions("demo", true);
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[2].id, "d");
  EXPECT_EQ(listed[2].username, "demo");
  EXPECT_EQ(listed[2].method, "password");
  EXPECT_EQ(listed[2].created, 200);
  EXPECT_EQ(listed[2].access_jti, "jti-d-1");
  EXPECT_EQ(listed[2].revoked, 500);
  EXPECT_EQ(listed[2].revoked_reason, "logout");
}

TEST_P(StateStoreContract, RotateSessionIsCompareAndSet) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  const SessionRow first = session("s1", "demo", 1'000);
  store_->add_session(first);
  const SessionRow second = rotated(first, 2'000);
  ASSERT_TRUE(store_->rotate_session(second));
  auto found = store_->find_session("s1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->generation, 2);
  EXPECT_EQ(found->rotated, 2'000);
  EXPECT_EQ(found->last_used, 2'000);
  EXPECT_EQ(found->access_jti, "jti-s1-2");
  EXPECT_EQ(found->access_iat, 2'000);
  EXPECT_EQ(found->access_sealed, "sealed-2");
  EXPECT_EQ(found->created, 1'000);  // not part of a rotation
  EXPECT_EQ(found->method, "password");

  // The same rotation again, or one from a generation that is no longer current, changes
  // nothing.
  SessionRow replay = second;
  replay.access_jti = "jti-replayed";
  EXPECT_FALSE(store_->rotate_session(replay));
  SessionRow skip = rotated(second, 3'000);
  skip.generation = 4;
  EXPECT_FALSE(store_->rotate_session(skip));
  SessionRow back = first;
  EXPECT_FALSE(store_->rotate_session(back));
  found = store_->find_session("s1");
  EXPECT_EQ(found->generation, 2);
  EXPECT_EQ(found->access_jti, "jti-s1-2");
  EXPECT_EQ(found->rotated, 2'000);

  EXPECT_TRUE(store_->rotate_session(rotated(second, 3'000)));
  EXPECT_EQ(store_->find_session("s1")->generation, 3);
  EXPECT_FALSE(store_->rotate_session(rotated(session("unknown", "demo"), 3'000)));
}

TEST_P(StateStoreContract, RevokedSessionDoesNotRotate) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  const SessionRow first = session("s1", "demo", 1'000);
  store_->add_session(first);
  ASSERT_TRUE(store_->revoke_session("s1", 1'500, "reuse"));
  EXPECT_FALSE(store_->rotate_session(rotated(first, 2'000)));
  const auto found = store_->find_session("s1");
  EXPECT_EQ(found->generation, 1);
  EXPECT_EQ(found->access_jti, "jti-s1-1");
  EXPECT_EQ(found->last_used, 1'000);
  EXPECT_EQ(found->revoked, 1'500);
  EXPECT_EQ(found->revoked_reason, "reuse");
}

TEST_P(StateStoreContract, RotationSurvivesReopen) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  const SessionRow first = session("s1", "demo", 1'000);
  store_->add_session(first);
  ASSERT_TRUE(store_->rotate_session(rotated(first, 2'000)));
  store_.reset();
  const auto reopened = open();
  const auto found = reopened->find_session("s1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->generation, 2);
  EXPECT_EQ(found->access_jti, "jti-s1-2");
  EXPECT_EQ(found->last_used, 2'000);
  EXPECT_FALSE(reopened->rotate_session(rotated(first, 3'000)));
}

TEST_P(StateStoreContract, RacingRotationsOfOneGenerationHaveOneWinner) {
  // Several threads on two connections present the same refresh token at once: exactly one
  // rotation succeeds and its access token is the one stored. Repeated over a few sessions,
  // since one round may happen not to collide.
  constexpr int kRounds = 10, kThreadsEach = 3;
  ASSERT_TRUE(store_->add_user(user("demo")));
  std::vector<std::unique_ptr<StateStore>> connections;
  connections.push_back(std::move(store_));
  connections.push_back(open());
  for (int round = 0; round < kRounds; ++round) {
    const SessionRow first = session("s" + std::to_string(round), "demo", 1'000);
    connections[0]->add_session(first);
    constexpr int kThreads = 2 * kThreadsEach;
    std::vector<int> won(kThreads, 0);
    std::vector<std::string> errors(kThreads);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        SessionRow next = rotated(first, 2'000);
        next.access_jti = "jti-thread-" + std::to_string(i);
        ++ready;
        while (ready.load() < kThreads) std::this_thread::yield();  // start together
        try {
          won[i] = connections[i % 2]->rotate_session(next) ? 1 : 0;
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    int winners = 0, winner = -1;
    for (int i = 0; i < kThreads; ++i) {
      EXPECT_EQ(errors[i], "") << "round " << round << ", thread " << i;
      if (won[i]) {
        ++winners;
        winner = i;
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    const auto found = connections[1]->find_session(first.id);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->generation, 2);
    EXPECT_EQ(found->access_jti, "jti-thread-" + std::to_string(winner));
  }
}

TEST_P(StateStoreContract, RevokeSessionOnceOnly) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  store_->add_session(session("s1", "demo"));
  store_->add_session(session("s2", "demo"));
  EXPECT_TRUE(store_->revoke_session("s1", 1'750'000'000, "logout"));
  EXPECT_FALSE(store_->revoke_session("s1", 1'760'000'000, "admin"));
  EXPECT_FALSE(store_->revoke_session("unknown", 1'760'000'000, "admin"));
  const auto s1 = store_->find_session("s1");
  EXPECT_EQ(s1->revoked, 1'750'000'000);  // the first time stays
  EXPECT_EQ(s1->revoked_reason, "logout");
  EXPECT_FALSE(store_->find_session("s2")->revoked.has_value());
  EXPECT_EQ(store_->find_session("s2")->revoked_reason, "");
}

TEST_P(StateStoreContract, RevokeUserSessionsRevokesOnlyThatUsersLiveOnes) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  ASSERT_TRUE(store_->add_user(user("other")));
  store_->add_session(session("a", "demo"));
  store_->add_session(session("b", "demo"));
  store_->add_session(session("c", "demo"));
  store_->add_session(session("d", "other"));
  ASSERT_TRUE(store_->revoke_session("a", 100, "logout"));
  EXPECT_EQ(store_->revoke_user_sessions("demo", 200, "user"), 2u);
  EXPECT_EQ(store_->find_session("a")->revoked, 100);  // already revoked: untouched
  EXPECT_EQ(store_->find_session("a")->revoked_reason, "logout");
  for (const char* id : {"b", "c"}) {
    EXPECT_EQ(store_->find_session(id)->revoked, 200) << id;
    EXPECT_EQ(store_->find_session(id)->revoked_reason, "user") << id;
  }
  EXPECT_FALSE(store_->find_session("d")->revoked.has_value());
  EXPECT_EQ(store_->revoke_user_sessions("demo", 300, "user"), 0u);
  EXPECT_EQ(store_->revoke_user_sessions("nobody", 300, "user"), 0u);
  EXPECT_EQ(store_->find_session("b")->revoked, 200);
  EXPECT_EQ(ids_of(store_->list_sessions("other", false)), std::vector<std::string>{"d"});
}

TEST_P(StateStoreContract, RevokedSessionsSinceIncludesTheBoundary) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  for (const char* id : {"a", "b", "c", "d"}) store_->add_session(session(id, "demo"));
  EXPECT_TRUE(store_->revoked_sessions_since(0).empty());
  ASSERT_TRUE(store_->revoke_session("a", 100, "logout"));
  ASSERT_TRUE(store_->revoke_session("b", 200, "logout"));
  ASSERT_TRUE(store_->revoke_session("c", 300, "logout"));
  EXPECT_EQ(sorted(store_->revoked_sessions_since(0)), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(sorted(store_->revoked_sessions_since(200)), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(sorted(store_->revoked_sessions_since(201)), std::vector<std::string>{"c"});
  EXPECT_TRUE(store_->revoked_sessions_since(301).empty());
}

TEST_P(StateStoreContract, RevocationGenerationChangesOnRevokeOnly) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  std::uint64_t last = store_->revocation_generation();
  auto expect_bumped = [&](const char* what) {
    const auto now = store_->revocation_generation();
    EXPECT_NE(now, last) << what;
    last = now;
  };
  auto expect_same = [&](const char* what) {
    EXPECT_EQ(store_->revocation_generation(), last) << what;
  };
  const SessionRow a = session("a", "demo", 100);
  store_->add_session(a);
  store_->add_session(session("b", "demo", 100));
  store_->add_session(session("c", "demo", 100));
  expect_same("add_session");
  ASSERT_TRUE(store_->rotate_session(rotated(a, 200)));
  expect_same("rotate_session");
  EXPECT_FALSE(store_->rotate_session(rotated(a, 200)));
  expect_same("failed rotate_session");
  store_->find_session("a");
  store_->list_sessions(std::nullopt, true);
  store_->revoked_sessions_since(0);
  expect_same("reads");
  ASSERT_TRUE(store_->revoke_session("a", 300, "logout"));
  expect_bumped("revoke_session");
  EXPECT_FALSE(store_->revoke_session("a", 300, "logout"));
  expect_same("revoke_session of a revoked session");
  ASSERT_EQ(store_->revoke_user_sessions("demo", 400, "user"), 2u);
  expect_bumped("revoke_user_sessions");
  ASSERT_EQ(store_->revoke_user_sessions("demo", 400, "user"), 0u);
  expect_same("revoke_user_sessions with nothing to revoke");
  ASSERT_EQ(store_->delete_sessions_before(1'000), 3u);
  expect_same("delete_sessions_before");
  // Another connection sees the same counter and its changes.
  const auto other = open();
  EXPECT_EQ(other->revocation_generation(), last);
  store_->add_session(session("d", "demo", 2'000));
  ASSERT_TRUE(other->revoke_session("d", 2'100, "admin"));
  expect_bumped("revoke_session on another connection");
}

TEST_P(StateStoreContract, SessionWritesLeaveTheUsersGenerationAlone) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  const auto generation = store_->generation();
  const SessionRow a = session("a", "demo", 100);
  store_->add_session(a);
  store_->add_session(session("b", "demo", 100));
  ASSERT_TRUE(store_->rotate_session(rotated(a, 200)));
  ASSERT_TRUE(store_->revoke_session("a", 300, "logout"));
  ASSERT_EQ(store_->revoke_user_sessions("demo", 300, "user"), 1u);
  ASSERT_EQ(store_->delete_sessions_before(1'000), 2u);
  ASSERT_TRUE(store_->add_signing_key(signing_key("k1", 100), std::nullopt));
  ASSERT_TRUE(store_->add_signing_key(signing_key("k2", 200), "k1"));
  ASSERT_EQ(store_->delete_signing_keys_retired_before(1'000), 1u);
  EXPECT_EQ(store_->generation(), generation);
}

TEST_P(StateStoreContract, DeleteSessionsBeforeDeletesOnlyEndedOnes) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  SessionRow idle = session("idle", "demo", 100);  // last used at 100
  SessionRow active = session("active", "demo", 100);
  active.last_used = 1'500;                                  // created long ago, still in use
  SessionRow boundary = session("boundary", "demo", 1'000);  // last used exactly at `before`
  SessionRow revoked_old = session("revoked-old", "demo", 100);
  SessionRow revoked_recent = session("revoked-recent", "demo", 100);  // idle, revoked lately
  for (const auto* s : {&idle, &active, &boundary, &revoked_old, &revoked_recent})
    store_->add_session(*s);
  ASSERT_TRUE(store_->revoke_session("revoked-old", 500, "logout"));
  ASSERT_TRUE(store_->revoke_session("revoked-recent", 1'200, "logout"));

  EXPECT_EQ(store_->delete_sessions_before(1'000), 2u);
  EXPECT_FALSE(store_->find_session("idle").has_value());
  EXPECT_FALSE(store_->find_session("revoked-old").has_value());
  EXPECT_TRUE(store_->find_session("active").has_value());
  EXPECT_TRUE(store_->find_session("boundary").has_value());
  // Still in the revocation set the servers load: not deleted before its revocation ages out.
  EXPECT_TRUE(store_->find_session("revoked-recent").has_value());
  EXPECT_EQ(store_->revoked_sessions_since(1'000), std::vector<std::string>{"revoked-recent"});

  EXPECT_EQ(store_->delete_sessions_before(1'000), 0u);
  EXPECT_EQ(store_->delete_sessions_before(1'300), 2u);  // "boundary" and "revoked-recent"
  EXPECT_EQ(ids_of(store_->list_sessions(std::nullopt, true)), std::vector<std::string>{"active"});
}

TEST_P(StateStoreContract, DeleteUserCascadesToItsSessionsOnly) {
  ASSERT_TRUE(store_->add_user(user("demo")));
  ASSERT_TRUE(store_->add_user(user("other")));
  store_->add_session(session("a", "demo"));
  store_->add_session(session("b", "demo"));
  store_->add_session(session("c", "other"));
  ASSERT_TRUE(store_->revoke_session("b", 100, "logout"));
  EXPECT_TRUE(store_->delete_user("demo"));
  EXPECT_FALSE(store_->find_session("a").has_value());
  EXPECT_FALSE(store_->find_session("b").has_value());
  EXPECT_TRUE(store_->list_sessions("demo", true).empty());
  EXPECT_EQ(ids_of(store_->list_sessions(std::nullopt, true)), std::vector<std::string>{"c"});
  // A new user of the same name does not inherit the old sessions.
  ASSERT_TRUE(store_->add_user(user("demo")));
  EXPECT_TRUE(store_->list_sessions("demo", true).empty());
}

// ---- Signing keys -----------------------------------------------------------------------------

TEST_P(StateStoreContract, FirstSigningKeyRoundTripsEveryField) {
  EXPECT_TRUE(store_->list_signing_keys().empty());
  SigningKeyRow k = signing_key("kid-1", 1'700'000'000);
  k.alg = "ES256";
  ASSERT_TRUE(store_->add_signing_key(k, std::nullopt));
  const auto keys = store_->list_signing_keys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].kid, "kid-1");
  EXPECT_EQ(keys[0].alg, "ES256");
  EXPECT_EQ(keys[0].private_jwk, k.private_jwk);
  EXPECT_EQ(keys[0].created, 1'700'000'000);
  EXPECT_FALSE(keys[0].retired.has_value());
}

TEST_P(StateStoreContract, NewSigningKeyRetiresTheCurrentOne) {
  ASSERT_TRUE(store_->add_signing_key(signing_key("k1", 100), std::nullopt));
  ASSERT_TRUE(store_->add_signing_key(signing_key("k2", 200), "k1"));
  auto keys = store_->list_signing_keys();
  ASSERT_EQ(kids_of(keys), (std::vector<std::string>{"k2", "k1"}));
  EXPECT_FALSE(keys[0].retired.has_value());
  EXPECT_EQ(keys[1].retired, 200);
  // Without expected_current the new key takes over unconditionally; retired keys keep their
  // first retirement.
  ASSERT_TRUE(store_->add_signing_key(signing_key("k3", 300), std::nullopt));
  keys = store_->list_signing_keys();
  ASSERT_EQ(kids_of(keys), (std::vector<std::string>{"k3", "k2", "k1"}));
  EXPECT_FALSE(keys[0].retired.has_value());
  EXPECT_EQ(keys[1].retired, 300);
  EXPECT_EQ(keys[2].retired, 200);
}

TEST_P(StateStoreContract, SigningKeysMadeInOneSecondListTheLaterFirst) {
  ASSERT_TRUE(store_->add_signing_key(signing_key("zz", 100), std::nullopt));
  ASSERT_TRUE(store_->add_signing_key(signing_key("aa", 100), "zz"));
  ASSERT_EQ(kids_of(store_->list_signing_keys()), (std::vector<std::string>{"aa", "zz"}));
  ASSERT_TRUE(store_->add_signing_key(signing_key("mm", 100), "aa"));
  const auto keys = store_->list_signing_keys();
  ASSERT_EQ(kids_of(keys), (std::vector<std::string>{"mm", "aa", "zz"}));
  EXPECT_FALSE(keys[0].retired.has_value());
}

TEST_P(StateStoreContract, SigningKeyRotationWithAStaleExpectationChangesNothing) {
  EXPECT_FALSE(store_->add_signing_key(signing_key("k1", 100), "k0"))
      << "expected a current key where there is none";
  EXPECT_TRUE(store_->list_signing_keys().empty());
  ASSERT_TRUE(store_->add_signing_key(signing_key("k1", 100), std::nullopt));
  ASSERT_TRUE(store_->add_signing_key(signing_key("k2", 200), "k1"));
  const auto generation = store_->signing_keys_generation();
  // Another instance rotated from k1 first: this one's rotation from k1 is refused.
  EXPECT_FALSE(store_->add_signing_key(signing_key("k3", 300), "k1"));
  EXPECT_FALSE(store_->add_signing_key(signing_key("k3", 300), "unknown"));
  const auto keys = store_->list_signing_keys();
  ASSERT_EQ(kids_of(keys), (std::vector<std::string>{"k2", "k1"}));
  EXPECT_FALSE(keys[0].retired.has_value());
  EXPECT_EQ(keys[1].retired, 200);
  EXPECT_EQ(store_->signing_keys_generation(), generation);
}

TEST_P(StateStoreContract, SigningKeyWithATakenKidThrowsAndChangesNothing) {
  ASSERT_TRUE(store_->add_signing_key(signing_key("k1", 100), std::nullopt));
  const auto generation = store_->signing_keys_generation();
  SigningKeyRow again = signing_key("k1", 200);
  again.alg = "RS256";
  EXPECT_THROW(store_->add_signing_key(again, std::nullopt), StoreError);
  EXPECT_THROW(store_->add_signing_key(again, "k1"), StoreError);
  const auto keys = store_->list_signing_keys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].alg, "EdDSA");
  EXPECT_EQ(keys[0].created, 100);
  EXPECT_FALSE(keys[0].retired.has_value()) << "the retirement was rolled back";
  EXPECT_EQ(store_->signing_keys_generation(), generation);
  EXPECT_TRUE(store_->add_signing_key(signing_key("k2", 200), "k1"));  // no transaction left open
}

TEST_P(StateStoreContract, DeleteSigningKeysRetiredBefore) {
  ASSERT_TRUE(store_->add_signing_key(signing_key("k1", 100), std::nullopt));
  ASSERT_TRUE(store_->add_signing_key(signing_key("k2", 200), "k1"));
  ASSERT_TRUE(store_->add_signing_key(signing_key("k3", 300), "k2"));
  ASSERT_TRUE(store_->add_signing_key(signing_key("k4", 400), "k3"));
  // k1 retired at 200, k2 at 300, k3 at 400; k4 signs.
  EXPECT_EQ(store_->delete_signing_keys_retired_before(200), 0u);
  EXPECT_EQ(store_->delete_signing_keys_retired_before(301), 2u);
  EXPECT_EQ(kids_of(store_->list_signing_keys()), (std::vector<std::string>{"k4", "k3"}));
  EXPECT_EQ(store_->delete_signing_keys_retired_before(1'000'000), 1u);
  EXPECT_EQ(kids_of(store_->list_signing_keys()), std::vector<std::string>{"k4"});
}

TEST_P(StateStoreContract, SigningKeysGenerationChangesWhenKeysChange) {
  std::uint64_t last = store_->signing_keys_generation();
  auto expect_bumped = [&](const char* what) {
    const auto now = store_->signing_keys_generation();
    EXPECT_NE(now, last) << what;
    last = now;
  };
  ASSERT_TRUE(store_->add_signing_key(signing_key("k1", 100), std::nullopt));
  expect_bumped("first key");
  ASSERT_TRUE(store_->add_signing_key(signing_key("k2", 200), "k1"));
  expect_bumped("rotation");
  store_->list_signing_keys();
  EXPECT_EQ(store_->delete_signing_keys_retired_before(100), 0u);
  EXPECT_EQ(store_->signing_keys_generation(), last) << "reads and no-op deletes";
  EXPECT_EQ(store_->delete_signing_keys_retired_before(1'000), 1u);
  expect_bumped("delete");
  // Neither the users' nor the revocation counter moves with keys, nor keys' with sessions.
  ASSERT_TRUE(store_->add_user(user("demo")));
  store_->add_session(session("s1", "demo"));
  ASSERT_TRUE(store_->revoke_session("s1", 100, "logout"));
  EXPECT_EQ(store_->signing_keys_generation(), last);
  const auto other = open();
  EXPECT_EQ(other->signing_keys_generation(), last);
  ASSERT_TRUE(other->add_signing_key(signing_key("k3", 300), "k2"));
  expect_bumped("rotation on another connection");
  EXPECT_EQ(kids_of(store_->list_signing_keys()), (std::vector<std::string>{"k3", "k2"}));
}

// ---- failed-login throttle rows ----------------------------------------------------------------

TEST_P(StateStoreContract, ThrottleRowsRoundTripLiveOnesOnlySortedByKey) {
  const auto g = store_->throttle_generation();
  EXPECT_TRUE(store_->load_throttle(0).rows.empty());
  ASSERT_TRUE(store_->save_throttle(
      {{"user:demo", 2'000}, {"addr:192.0.2.1", 3'000}, {"user:gone", 1'000}}, g));
  const ThrottleTable table = store_->load_throttle(1'000);
  EXPECT_EQ(table.generation, g);
  EXPECT_EQ(table.rows, (std::vector<ThrottleRow>{{"addr:192.0.2.1", 3'000}, {"user:demo", 2'000}}))
      << "a row whose TAT has passed is a clean slate, not returned";
  EXPECT_EQ(store_->throttle_generation(), g) << "saving counts is not a reset";
  EXPECT_TRUE(store_->save_throttle({}, g + 100)) << "nothing to write";
}

TEST_P(StateStoreContract, ThrottleSaveKeepsTheLaterTat) {
  const auto g = store_->throttle_generation();
  ASSERT_TRUE(store_->save_throttle({{"user:demo", 5'000}}, g));
  ASSERT_TRUE(store_->save_throttle({{"user:demo", 4'000}}, g));  // another instance, behind
  EXPECT_EQ(store_->load_throttle(0).rows, (std::vector<ThrottleRow>{{"user:demo", 5'000}}));
  ASSERT_TRUE(store_->save_throttle({{"user:demo", 6'000}}, g));
  EXPECT_EQ(store_->load_throttle(0).rows, (std::vector<ThrottleRow>{{"user:demo", 6'000}}));
}

TEST_P(StateStoreContract, ThrottleSaveAfterAResetItDidNotSeeWritesNothing) {
  const auto g = store_->throttle_generation();
  ASSERT_TRUE(store_->save_throttle({{"user:demo", 5'000}, {"user:carol", 5'000}}, g));
  const auto operator_side = open();  // `gatehouse throttle reset demo` in another process
  EXPECT_EQ(operator_side->delete_throttle({"user:demo"}), 1u);
  EXPECT_NE(store_->throttle_generation(), g);
  // A server still at g flushes counts it made before it saw the reset: refused, all of them.
  EXPECT_FALSE(store_->save_throttle({{"user:demo", 9'000}, {"user:eve", 9'000}}, g));
  EXPECT_EQ(store_->load_throttle(0).rows, (std::vector<ThrottleRow>{{"user:carol", 5'000}}));
  const ThrottleTable table = store_->load_throttle(0);
  EXPECT_TRUE(store_->save_throttle({{"user:demo", 9'000}}, table.generation));
  EXPECT_EQ(store_->load_throttle(0).rows,
            (std::vector<ThrottleRow>{{"user:carol", 5'000}, {"user:demo", 9'000}}));
}

TEST_P(StateStoreContract, ThrottleResetsAlwaysBumpTheGeneration) {
  auto last = store_->throttle_generation();
  const auto expect_bumped = [&](const char* what) {
    const auto now = store_->throttle_generation();
    EXPECT_NE(now, last) << what;
    last = now;
  };
  ASSERT_TRUE(
      store_->save_throttle({{"user:a", 5'000}, {"user:b", 5'000}, {"addr:x", 5'000}}, last));
  EXPECT_EQ(store_->delete_throttle({"user:a", "user:nobody"}), 1u);
  expect_bumped("delete of one present and one absent key");
  EXPECT_EQ(store_->delete_throttle({"user:nobody"}), 0u);
  expect_bumped("delete of an absent key: a server may hold it unflushed");
  EXPECT_EQ(store_->clear_throttle(), 2u);
  expect_bumped("clear");
  EXPECT_TRUE(store_->load_throttle(0).rows.empty());
  EXPECT_EQ(store_->clear_throttle(), 0u);
  expect_bumped("clear of an empty table");
  // Other counters do not move with throttle resets, nor the throttle one with theirs.
  const auto users = store_->generation();
  const auto revocations = store_->revocation_generation();
  store_->clear_throttle();
  EXPECT_EQ(store_->generation(), users);
  EXPECT_EQ(store_->revocation_generation(), revocations);
  last = store_->throttle_generation();
  ASSERT_TRUE(store_->add_user(user("demo")));
  EXPECT_EQ(store_->throttle_generation(), last);
}

TEST_P(StateStoreContract, ThrottleExpiredRowsAreDeletedWithoutAReset) {
  const auto g = store_->throttle_generation();
  ASSERT_TRUE(
      store_->save_throttle({{"user:old", 1'000}, {"user:edge", 2'000}, {"user:live", 3'000}}, g));
  EXPECT_EQ(store_->delete_expired_throttle(2'000), 2u);
  EXPECT_EQ(store_->throttle_generation(), g);
  EXPECT_EQ(store_->load_throttle(0).rows, (std::vector<ThrottleRow>{{"user:live", 3'000}}));
}

TEST_P(StateStoreContract, ThrottleRowsSurviveReopenAndAreSharedAcrossConnections) {
  ASSERT_TRUE(store_->save_throttle({{"user:demo", 5'000}}, store_->throttle_generation()));
  store_.reset();
  store_ = open();
  const auto other = open();
  EXPECT_EQ(other->load_throttle(0).rows, (std::vector<ThrottleRow>{{"user:demo", 5'000}}));
  EXPECT_EQ(other->throttle_generation(), store_->throttle_generation());
  other->clear_throttle();
  EXPECT_EQ(store_->load_throttle(0).generation, other->throttle_generation());
  EXPECT_TRUE(store_->load_throttle(0).rows.empty());
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.label;
}

TEST_P(StateStoreContract, TrackerItemsSeedOnlyAnEmptyTrackerAndKeepIdsPerClass) {
  const auto gen = store_->tracker_generation();
  EXPECT_TRUE(store_->load_tracker_items("demo").empty());
  std::vector<TrackerItemRow> seed{{"status", 1, R"({"name":"open"})", false, 1},
                                   {"status", 2, R"({"name":"closed"})", true, 1},
                                   {"issue", 1, R"({"title":"x"})", false, 1}};
  ASSERT_TRUE(store_->seed_tracker_items("demo", seed));
  EXPECT_NE(store_->tracker_generation(), gen);
  EXPECT_FALSE(store_->seed_tracker_items("demo", seed));  // not twice
  const auto items = store_->load_tracker_items("demo");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].klass, "issue");  // (class, id) order
  EXPECT_EQ(items[2].klass, "status");
  EXPECT_EQ(items[2].id, 2);
  EXPECT_TRUE(items[2].retired);
  EXPECT_EQ(items[2].values, R"({"name":"closed"})");
  // Ids continue after the seeded ones, per class; other trackers are separate.
  EXPECT_EQ(store_->create_tracker_item("demo", {"status", 0, "{}", false, 1}), 3);
  EXPECT_EQ(store_->create_tracker_item("demo", {"issue", 0, "{}", false, 1}), 2);
  EXPECT_EQ(store_->create_tracker_item("other", {"issue", 0, "{}", false, 1}), 1);
  EXPECT_EQ(store_->load_tracker_items("other").size(), 1u);
}

TEST_P(StateStoreContract, TrackerItemUpdatesAreCompareAndSet) {
  const std::int64_t id = store_->create_tracker_item("demo", {"issue", 0, R"({"a":1})", false, 1});
  const auto gen = store_->tracker_generation();
  EXPECT_TRUE(store_->update_tracker_item("demo", {"issue", id, R"({"a":2})", false, 2}));
  EXPECT_NE(store_->tracker_generation(), gen);
  const auto after = store_->tracker_generation();
  // A writer that read version 1 loses: nothing changes, the generation stays.
  EXPECT_FALSE(store_->update_tracker_item("demo", {"issue", id, R"({"a":3})", false, 2}));
  EXPECT_FALSE(store_->update_tracker_item("demo", {"issue", 99, R"({"a":3})", false, 2}));
  EXPECT_EQ(store_->tracker_generation(), after);
  EXPECT_TRUE(store_->update_tracker_item("demo", {"issue", id, R"({"a":4})", true, 3}));
  const auto items = store_->load_tracker_items("demo");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].values, R"({"a":4})");
  EXPECT_TRUE(items[0].retired);
  EXPECT_EQ(items[0].version, 3);
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

// The schema as version 2 left it (kMigrations[0] and [1] in sqlite_store.cpp), with a user, an
// API key and the meta rows a store of that version holds.
constexpr const char* kVersion2Store = R"sql(
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
CREATE TABLE digest_ha1 (
  username TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
  realm TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  ha1 TEXT NOT NULL,
  PRIMARY KEY (username, realm, algorithm)
);
INSERT INTO meta(key, value)
  VALUES ('server_secret', x'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
UPDATE meta SET value = 5 WHERE key = 'generation';
INSERT INTO users(name, password_hash, roles, created, updated)
  VALUES ('demo', '{PLAIN}pw', 'User,Admin', 1700000000, 1700000000);
INSERT INTO api_keys(id, username, name, secret_hash, created)
  VALUES ('aaaaaaaaaaaaaaaa', 'demo', 'laptop', x'00', 1700000100);
PRAGMA journal_mode = WAL;
PRAGMA user_version = 2;
)sql";

TEST(SqliteStateStore, MigratesAVersion2StoreAndKeepsItsData) {
  TempDir dir;
  const fs::path db = dir.path() / "t.db";
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(raw, kVersion2Store, nullptr, nullptr, &err);
  const std::string why = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK) << why;

  auto store = open_state_store("sqlite:" + db.string());
  EXPECT_FALSE(store->created());
  EXPECT_EQ(store->server_secret(),
            "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
            "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"s);
  EXPECT_EQ(store->generation(), 5u);
  ASSERT_TRUE(store->find_user("demo").has_value());
  EXPECT_EQ(store->find_user("demo")->roles, (std::vector<std::string>{"User", "Admin"}));
  EXPECT_EQ(ids_of(store->list_api_keys("demo")), std::vector<std::string>{"aaaaaaaaaaaaaaaa"});

  // The new tables work, with their counters, and cascade from users like the old ones.
  const auto revocations = store->revocation_generation();
  const auto keys = store->signing_keys_generation();
  EXPECT_GT(revocations, 0u);
  EXPECT_GT(keys, 0u);
  const SessionRow first = session("s1", "demo", 1'000);
  store->add_session(first);
  ASSERT_TRUE(store->rotate_session(rotated(first, 2'000)));
  EXPECT_EQ(store->find_session("s1")->generation, 2);
  ASSERT_TRUE(store->revoke_session("s1", 3'000, "logout"));
  EXPECT_NE(store->revocation_generation(), revocations);
  ASSERT_TRUE(store->add_signing_key(signing_key("k1", 100), std::nullopt));
  EXPECT_NE(store->signing_keys_generation(), keys);
  store->add_session(session("s2", "demo"));
  ASSERT_TRUE(store->delete_user("demo"));
  EXPECT_TRUE(store->list_sessions(std::nullopt, true).empty());
  const auto throttle = store->throttle_generation();
  EXPECT_GT(throttle, 0u);
  ASSERT_TRUE(store->save_throttle({{"user:demo", 5'000}}, throttle));
  EXPECT_EQ(store->load_throttle(0).rows, (std::vector<ThrottleRow>{{"user:demo", 5'000}}));
  store.reset();

  // Migrated once: the next open finds the current version and changes nothing.
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 5);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  const auto reopened = open_state_store("sqlite:" + db.string());
  EXPECT_FALSE(reopened->created());
  EXPECT_EQ(kids_of(reopened->list_signing_keys()), std::vector<std::string>{"k1"});
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
