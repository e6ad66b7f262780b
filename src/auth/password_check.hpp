#pragma once
// Verifies a username and password against a chain of password stores (SPEC §5): the first store
// that knows the user decides; `unknown_user` moves on. A cached verification answers at once on
// the calling thread; otherwise the hash runs on the worker pool, and a full pool answers `busy`.
// Unknown users are verified against a dummy hash so they cost the same as known ones.
#include <functional>
#include <string>
#include <vector>

#include "auth/credential_cache.hpp"
#include "auth/worker_pool.hpp"
#include "gatehouse/credential_store.hpp"
#include "gatehouse/credentials.hpp"
#include "gatehouse/outcome.hpp"
#include "util/clock.hpp"

namespace gatehouse::auth {

// Told about every failed password verification (user, client address): the guard's
// failed-login limiter plugs in here.
using FailureListener = std::function<void(std::string_view username, std::string_view address)>;

class PasswordCheck {
 public:
  PasswordCheck(std::vector<StorePtr> chain, WorkerPool& pool, CredentialCache& cache,
                const Clock& clock, FailureListener on_failure = {});

  void check(PasswordCredentials credentials, std::string scheme, std::string client_address,
             Completion<Outcome> done) const;
  const std::vector<StorePtr>& chain() const noexcept { return chain_; }

 private:
  std::vector<StorePtr> chain_;
  WorkerPool& pool_;
  CredentialCache& cache_;
  const Clock& clock_;
  FailureListener on_failure_;
  std::string dummy_hash_;
};

}  // namespace gatehouse::auth
