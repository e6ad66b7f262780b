#pragma once
// Keeps a FailedLoginLimiter and the state store in step, from the server's refresher thread
// (never from an I/O thread): the limiter's state survives a restart, and an operator's reset
// from another process (`gatehouse throttle reset`) reaches the running server within one pass.
#include <cstdint>
#include <map>
#include <string>

#include "guard/failed_login.hpp"
#include "state/state_store.hpp"
#include "util/clock.hpp"

namespace gatehouse::guard {

class ThrottleSync {
 public:
  ThrottleSync(FailedLoginLimiter& limiter, state::StateStore& store, const Clock& clock);

  // At start-up: the limiter takes every live stored key. Throws StoreError.
  void load();

  // One pass. Writes the keys counted since the last pass; then, when throttle_generation()
  // moved (a reset elsewhere), replaces the limiter's whole state with the table. A reset wins
  // over counts this server had not written yet (at most one pass of failures is forgotten), so
  // it is never undone by a flush. Deletes expired rows about once a minute. Throws StoreError;
  // unwritten keys are kept for the next pass. One caller at a time.
  void sync();

 private:
  void reload();

  FailedLoginLimiter& limiter_;
  state::StateStore& store_;
  const Clock& clock_;
  std::uint64_t generation_ = 0;                 // of the table the limiter last matched
  std::map<std::string, std::int64_t> pending_;  // counted, not yet written
  std::int64_t next_prune_ms_ = 0;
};

}  // namespace gatehouse::guard
