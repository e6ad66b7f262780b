#pragma once
// The contract every credential store with the password capability passes (run by
// store_contract_test.cpp). A store joins by providing a StoreFixture and one line in
// registered_store_fixtures() below.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gatehouse/credential_store.hpp"

namespace gatehouse::testing {

using UserList = std::vector<std::pair<std::string, std::string>>;  // name, password

// Builds stores of one kind for the contract tests. One fixture object serves one test.
struct StoreFixture {
  virtual ~StoreFixture() = default;
  // A new store holding exactly `users` (names exactly as given; passwords hashed in whatever
  // format the store keeps).
  virtual StorePtr make(const UserList& users) = 0;
  // Replaces the contents of the store made last; the store sees them after its refresh().
  // Called only when reloads() is true.
  virtual void set_users(const UserList& users) = 0;
  // Names the fixture in test names: letters, digits and '_' only.
  virtual std::string label() const = 0;
  // False for a store that is immutable by design (the static store: its users come from the
  // configuration); the cases that change contents then run only on the other stores.
  virtual bool reloads() const { return true; }
};

using StoreFixtureFactory = std::unique_ptr<StoreFixture> (*)();

// Defined in store_contract_test.cpp.
std::unique_ptr<StoreFixture> make_htpasswd_bcrypt_fixture();
std::unique_ptr<StoreFixture> make_htpasswd_apr1_fixture();
std::unique_ptr<StoreFixture> make_static_fixture();

// Every store the contract runs on. To add one, declare its factory above (defined in its own
// test file, which the unit-test binary links in) and list it here.
std::unique_ptr<StoreFixture> make_db_fixture();  // tests/unit/stores/db_store_contract_test.cpp

inline std::vector<StoreFixtureFactory> registered_store_fixtures() {
  return {&make_htpasswd_bcrypt_fixture, &make_htpasswd_apr1_fixture, &make_static_fixture,
          &make_db_fixture};
}

}  // namespace gatehouse::testing
