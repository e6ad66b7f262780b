// The credential-store contract (store_contract.hpp) run on every registered store, the fixtures
// for the htpasswd and static stores, and the static store's own cases.
#include "store_contract.hpp"
#include "../temp_dir.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "auth/apr1.hpp"
#include "auth/password_hash.hpp"
#include "stores/htpasswd_store.hpp"
#include "stores/static_store.hpp"

namespace gatehouse::testing {
namespace {

using auth::verify_password;
using namespace std::string_literals;

const UserList kUsers = {
    {"alice", "correct horse"}, {"bob", "p:ss wörd"}, {"carol.admin", "s3cret!"}};

// ---- fixtures ------------------------------------------------------------------------------

using gatehouse::testing::TempDir;

// htpasswd files written whole to a temporary name and renamed into place, as editors and
// configuration tools do, so the store never reads half a file.
class HtpasswdFixture final : public StoreFixture {
 public:
  enum class Format { bcrypt, apr1 };
  explicit HtpasswdFixture(Format format) : format_(format) {}

  StorePtr make(const UserList& users) override {
    set_users(users);
    return std::make_shared<stores::HtpasswdStore>(file().string(),
                                                   std::vector<std::string>{"User"});
  }
  void set_users(const UserList& users) override {
    const std::filesystem::path staging = dir_.path() / "htpasswd.new";
    {
      std::ofstream out(staging, std::ios::binary | std::ios::trunc);
      for (const auto& [name, password] : users) out << name << ':' << hash(password) << '\n';
      if (!out) throw std::runtime_error("cannot write " + staging.string());
    }
    std::filesystem::rename(staging, file());
  }
  std::string label() const override {
    return format_ == Format::bcrypt ? "htpasswd_bcrypt" : "htpasswd_apr1";
  }

 private:
  std::filesystem::path file() const { return dir_.path() / "htpasswd"; }
  std::string hash(const std::string& password) {
    if (format_ == Format::bcrypt) return auth::hash_bcrypt(password, 5);
    static constexpr std::string_view alphabet =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string salt;
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    for (int i = 0; i < 8; ++i) salt.push_back(alphabet[pick(random_)]);
    return auth::apr1_crypt(password, salt).value();
  }

  Format format_;
  TempDir dir_;
  std::mt19937 random_{std::random_device{}()};
};

// The static store is immutable by design: reloads() is false, so set_users is never called.
class StaticFixture final : public StoreFixture {
 public:
  StorePtr make(const UserList& users) override {
    std::vector<StaticUser> configured;
    for (const auto& [name, password] : users) {
      configured.push_back(StaticUser{name, auth::hash_argon2id(password), {"User"}});
    }
    return std::make_shared<stores::StaticStore>(configured);
  }
  void set_users(const UserList&) override {
    ADD_FAILURE() << "the static store is immutable; set_users must not be called";
  }
  std::string label() const override { return "static"; }
  bool reloads() const override { return false; }
};

}  // namespace

std::unique_ptr<StoreFixture> make_htpasswd_bcrypt_fixture() {
  return std::make_unique<HtpasswdFixture>(HtpasswdFixture::Format::bcrypt);
}
std::unique_ptr<StoreFixture> make_htpasswd_apr1_fixture() {
  return std::make_unique<HtpasswdFixture>(HtpasswdFixture::Format::apr1);
}
std::unique_ptr<StoreFixture> make_static_fixture() {
  return std::make_unique<StaticFixture>();
}

namespace {

// ---- the contract --------------------------------------------------------------------------

std::string fixture_name(const ::testing::TestParamInfo<StoreFixtureFactory>& info) {
  return info.param()->label();
}

std::vector<StoreFixtureFactory> reloading_store_fixtures() {
  std::vector<StoreFixtureFactory> reloading;
  for (StoreFixtureFactory factory : registered_store_fixtures()) {
    if (factory()->reloads()) reloading.push_back(factory);
  }
  return reloading;
}

class StoreContract : public ::testing::TestWithParam<StoreFixtureFactory> {
 protected:
  void SetUp() override { fixture_ = GetParam()(); }
  std::unique_ptr<StoreFixture> fixture_;
};

// The cases that change a store's contents; run on every store whose fixture reloads().
class ReloadingStoreContract : public StoreContract {};

void expect_holds(const CredentialStore& store, const UserList& users) {
  for (const auto& [name, password] : users) {
    const PasswordLookup lookup = store.find_password(name);
    ASSERT_EQ(lookup.status, LookupStatus::found) << name;
    EXPECT_EQ(lookup.record.username, name);
    EXPECT_FALSE(lookup.record.disabled) << name;
    EXPECT_TRUE(verify_password(lookup.record.hash, password)) << name;
  }
}

TEST_P(StoreContract, KnownUserIsFoundAndItsHashVerifiesOnlyTheRightPassword) {
  const StorePtr store = fixture_->make(kUsers);
  expect_holds(*store, kUsers);
  for (const auto& [name, password] : kUsers) {
    const PasswordLookup lookup = store->find_password(name);
    EXPECT_FALSE(verify_password(lookup.record.hash, password + "x")) << name;
    EXPECT_FALSE(verify_password(lookup.record.hash, "")) << name;
  }
  // Each user's hash is its own.
  EXPECT_FALSE(verify_password(store->find_password("alice").record.hash, "p:ss wörd"));
}

TEST_P(StoreContract, UnknownUserIsUnknown) {
  const StorePtr store = fixture_->make(kUsers);
  for (const std::string name : {"dave", "", "root", "*"}) {
    EXPECT_EQ(store->find_password(name).status, LookupStatus::unknown_user) << name;
  }
}

TEST_P(StoreContract, EmptyStoreKnowsNobody) {
  const StorePtr store = fixture_->make({});
  EXPECT_EQ(store->find_password("alice").status, LookupStatus::unknown_user);
}

TEST_P(StoreContract, LookupIsAnExactMatch) {
  const StorePtr store = fixture_->make(kUsers);
  for (const std::string& name :
       {"alic"s, "alicee"s, "lice"s, "Alice"s, "ALICE"s, " alice"s, "alice "s, "alice\0"s, "carol"s,
        "admin"s, "Carol.Admin"s, "carol.admin\n"s, "carol_admin"s}) {
    EXPECT_EQ(store->find_password(name).status, LookupStatus::unknown_user) << name;
  }
}

TEST_P(StoreContract, CanVerifyPasswordsAndHasAName) {
  const StorePtr store = fixture_->make(kUsers);
  EXPECT_TRUE(store->can(StoreCapability::password));
  EXPECT_FALSE(store->name().empty());
}

TEST_P(StoreContract, RefreshWithoutChangesKeepsTheContents) {
  const StorePtr store = fixture_->make(kUsers);
  for (int i = 0; i < 3; ++i) store->refresh();
  expect_holds(*store, kUsers);
  EXPECT_EQ(store->find_password("dave").status, LookupStatus::unknown_user);
}

// Lookups from four threads while a fifth keeps refreshing: nothing crashes and every answer
// is one the contents allow.
void hammer(CredentialStore& store, const std::function<void(int round)>& refresh_round) {
  constexpr int kReaders = 4;
  constexpr int kRefreshRounds = 20;
  constexpr int kMinLookups = 2000;
  std::atomic<bool> refreshing{true};
  std::atomic<int> inconsistencies{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      for (int i = 0; i < kMinLookups || refreshing.load(); ++i) {
        const PasswordLookup alice = store.find_password("alice");
        if (alice.status != LookupStatus::found || alice.record.username != "alice" ||
            auth::detect_hash_format(alice.record.hash) == auth::HashFormat::unknown) {
          ++inconsistencies;
        }
        const PasswordLookup other = store.find_password(i % 2 ? "bob" : "carol.admin");
        if (other.status == LookupStatus::error ||
            (other.status == LookupStatus::found && other.record.hash.empty())) {
          ++inconsistencies;
        }
        if (store.find_password("dave").status != LookupStatus::unknown_user) ++inconsistencies;
      }
    });
  }
  for (int round = 0; round < kRefreshRounds; ++round) {
    refresh_round(round);
    store.refresh();
  }
  refreshing = false;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(inconsistencies.load(), 0);
}

TEST_P(StoreContract, ConcurrentLookupsDuringRefreshStayConsistent) {
  const StorePtr store = fixture_->make(kUsers);
  hammer(*store, [](int) {});
  expect_holds(*store, kUsers);
}

TEST_P(ReloadingStoreContract, ChangesAreVisibleAfterRefresh) {
  const StorePtr store = fixture_->make(kUsers);
  const UserList changed = {{"alice", "new password"}, {"carol.admin", "s3cret!"}, {"erin", "pw"}};
  fixture_->set_users(changed);
  store->refresh();
  expect_holds(*store, changed);
  EXPECT_FALSE(verify_password(store->find_password("alice").record.hash, "correct horse"));
  EXPECT_EQ(store->find_password("bob").status, LookupStatus::unknown_user);
}

TEST_P(ReloadingStoreContract, EmptiedStoreKnowsNobodyAfterRefresh) {
  const StorePtr store = fixture_->make(kUsers);
  fixture_->set_users({});
  store->refresh();
  for (const auto& [name, password] : kUsers) {
    EXPECT_EQ(store->find_password(name).status, LookupStatus::unknown_user) << name;
  }
}

TEST_P(ReloadingStoreContract, ConcurrentLookupsWhileContentsChangeStayConsistent) {
  const UserList with_bob = {{"alice", "one"}, {"bob", "two"}};
  const UserList with_carol = {{"alice", "one"}, {"carol.admin", "three"}};
  const StorePtr store = fixture_->make(with_bob);
  hammer(*store, [&](int round) { fixture_->set_users(round % 2 ? with_bob : with_carol); });
  // The last round wrote with_bob.
  expect_holds(*store, with_bob);
  EXPECT_EQ(store->find_password("carol.admin").status, LookupStatus::unknown_user);
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreContract, ::testing::ValuesIn(registered_store_fixtures()),
                         fixture_name);
INSTANTIATE_TEST_SUITE_P(ReloadingStores, ReloadingStoreContract,
                         ::testing::ValuesIn(reloading_store_fixtures()), fixture_name);

// ---- the static store's own cases ----------------------------------------------------------

TEST(StaticStore, RefreshChangesNothingBecauseStaticStoresAreImmutable) {
  stores::StaticStore store({StaticUser{"alice", "{PLAIN}pw", {"User"}}});
  store.refresh();
  EXPECT_EQ(store.find_password("alice").status, LookupStatus::found);
  EXPECT_EQ(store.name(), "static");
}

TEST(StaticStore, GivesTheConfiguredRolesAndHash) {
  stores::StaticStore store(
      {StaticUser{"admin", "{PLAIN}pw", {"Admin", "User"}}, StaticUser{"guest", "{PLAIN}guest"}});
  const PasswordLookup admin = store.find_password("admin");
  ASSERT_EQ(admin.status, LookupStatus::found);
  EXPECT_EQ(admin.record.roles, (std::vector<std::string>{"Admin", "User"}));
  EXPECT_EQ(admin.record.hash, "{PLAIN}pw");
  EXPECT_TRUE(verify_password(admin.record.hash, "pw"));
  EXPECT_EQ(store.find_password("guest").record.roles, std::vector<std::string>{"User"});
}

TEST(StaticStore, NamesAreStoredInTheirRfc8265FormAndDuplicatesAreRefused) {
  stores::StaticStore store({StaticUser{"Alice", "{PLAIN}first", {"User"}}});
  EXPECT_EQ(store.find_password("alice").status, LookupStatus::found);
  EXPECT_EQ(store.find_password("Alice").status, LookupStatus::unknown_user);
  EXPECT_THROW(stores::StaticStore({StaticUser{"alice", "{PLAIN}first", {"User"}},
                                    StaticUser{"ALICE", "{PLAIN}second", {"Admin"}}}),
               std::invalid_argument);
  EXPECT_THROW(stores::StaticStore({StaticUser{"two words", "{PLAIN}x", {"User"}}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace gatehouse::testing
