// The credential-store contract fixture for the gatehouse database (DbStore over SQLite). Users
// are written through a second connection, as the CLI would while a server runs, so the store
// under test sees changes only through refresh().
//
// Registration: store_contract.hpp lists the fixtures it runs; this one joins with
//   std::unique_ptr<StoreFixture> make_db_fixture();   (declaration)
//   &make_db_fixture                                     (in registered_store_fixtures())
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include "auth/password_hash.hpp"
#include "state/state_store.hpp"
#include "store_contract.hpp"
#include "stores/db_store.hpp"

namespace gatehouse::testing {
namespace {

class DbFixture final : public StoreFixture {
 public:
  DbFixture() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "gatehouse-dbfixture-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  DbFixture(const DbFixture&) = delete;
  DbFixture& operator=(const DbFixture&) = delete;
  ~DbFixture() override {
    writer_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  StorePtr make(const UserList& users) override {
    const std::string url =
        "sqlite:" + (dir_ / ("store" + std::to_string(++stores_) + ".db")).string();
    writer_ = state::open_state_store(url);
    set_users(users);
    return std::make_shared<stores::DbStore>(state::open_state_store(url));
  }

  void set_users(const UserList& users) override {
    std::set<std::string> wanted;
    for (const auto& [name, password] : users) {
      wanted.insert(name);
      const std::string& hash = hash_of(password);
      if (writer_->find_user(name)) {
        writer_->set_password(name, hash, ++now_);
      } else {
        state::UserRow row;
        row.name = name;
        row.password_hash = hash;
        row.roles = {"User"};
        row.created = row.updated = ++now_;
        if (!writer_->add_user(row)) throw std::runtime_error("cannot add " + name);
      }
    }
    for (const auto& row : writer_->list_users()) {
      if (!wanted.contains(row.name)) writer_->delete_user(row.name);
    }
  }

  std::string label() const override { return "db"; }

 private:
  // gatehouse's own format; each distinct password is hashed once per fixture (argon2id is slow
  // on purpose, and the concurrent cases rewrite the same users many times).
  const std::string& hash_of(const std::string& password) {
    auto it = hashes_.find(password);
    if (it == hashes_.end()) it = hashes_.emplace(password, auth::hash_argon2id(password)).first;
    return it->second;
  }

  std::filesystem::path dir_;
  std::unique_ptr<state::StateStore> writer_;
  std::map<std::string, std::string> hashes_;
  int stores_ = 0;
  std::int64_t now_ = 1'700'000'000;
};

}  // namespace

std::unique_ptr<StoreFixture> make_db_fixture() {
  return std::make_unique<DbFixture>();
}

}  // namespace gatehouse::testing
