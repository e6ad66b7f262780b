#pragma once
// Verifies a username and password against a chain of password stores (SPEC §5): the first store
// that knows the user decides; `unknown_user` moves on. A cached verification answers at once on
// the calling thread; otherwise the hash runs on the worker pool, and a full pool answers `busy`.
// Unknown users are verified against a dummy hash so they cost the same as known ones.
// With a failed-login limiter (SPEC §10): a user or address over its limit is refused with
// `throttled` before any password is looked at (no hash runs, the credential cache is not
// consulted, the right password is refused too); a wrong password, a disabled user and an
// unknown user each count one failure against the user name and the client address.
#include <functional>
#include <string>
#include <vector>

#include "auth/credential_cache.hpp"
#include "auth/worker_pool.hpp"
#include "gatehouse/credential_store.hpp"
#include "gatehouse/credentials.hpp"
#include "gatehouse/outcome.hpp"
#include "guard/failed_login.hpp"
#include "util/clock.hpp"

namespace gatehouse::auth {

class PasswordCheck {
 public:
  // `limiter` may be null (no throttling); it must outlive this object.
  PasswordCheck(std::vector<StorePtr> chain, WorkerPool& pool, CredentialCache& cache,
                const Clock& clock, guard::FailedLoginLimiter* limiter = nullptr);

  void check(PasswordCredentials credentials, std::string scheme, std::string client_address,
             Completion<Outcome> done) const;
  const std::vector<StorePtr>& chain() const noexcept { return chain_; }

 private:
  std::vector<StorePtr> chain_;
  WorkerPool& pool_;
  CredentialCache& cache_;
  void record_failure(std::string_view username, std::string_view address) const;

  const Clock& clock_;
  guard::FailedLoginLimiter* limiter_;
  std::string dummy_hash_;
};

}  // namespace gatehouse::auth
