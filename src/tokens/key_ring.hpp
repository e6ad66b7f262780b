#pragma once
// The token-signing keys (SPEC §6): generated on first start and kept in the state store, one key
// signs at a time, older keys keep verifying (and stay in the JWKS) until every token they signed
// has expired. Rotation happens on a schedule, by `gatehouse signing-key rotate`, or from another
// instance; reload() picks up what the store holds (the server calls it several times a second).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jose/jwk.hpp"
#include "state/state_store.hpp"
#include "util/clock.hpp"
#include "util/snapshot.hpp"
#include "util/string_map.hpp"

namespace gatehouse::tokens {

struct KeyRingSettings {
  jose::Alg alg = jose::Alg::EdDSA;
  std::int64_t rotation_s = 30 * 86400;  // 0 = only on demand
  // How long a retired key keeps verifying: the longest-lived token it can have signed
  // (the access-token lifetime) plus the clock leeway.
  std::int64_t retire_grace_s = 600 + 30;
};

class KeyRing {
 public:
  struct Keys {
    std::optional<jose::Key> signer;       // the key that signs now
    util::StringMap<jose::Key> verifiers;  // kid -> key, the signer included
    std::string jwks;                      // {"keys":[...]} public keys only
    std::uint64_t generation = 0;          // of the store when loaded
    std::int64_t signer_created = 0;
    std::int64_t reload_at = 0;  // when a retired key's grace ends (0 = none pending)
  };

  // Loads the keys; creates the first one when the store has none. Throws state::StoreError.
  KeyRing(std::shared_ptr<state::StateStore> store, KeyRingSettings settings, const Clock& clock);

  // Lock-free on the hot path (see util::SharedSnapshot): the reference is valid until this
  // thread's next call.
  const Keys& keys() const { return keys_.get(); }
  std::shared_ptr<const Keys> keys_shared() const { return keys_.get_shared(); }

  // Re-reads the store when its signing keys changed, rotates when the signer is older than the
  // rotation period, and drops keys retired long enough ago. Never throws; returns false when the
  // store failed (the old keys stay in use).
  bool maintain() noexcept;

  // Makes a new signing key now (the CLI's `signing-key rotate`); returns its kid.
  static std::string rotate(state::StateStore& store, jose::Alg alg, const Clock& clock);
  // A fresh key id: date and random, e.g. "2026-11-24-3f9a1c0e".
  static std::string new_kid(std::int64_t now_s);

 private:
  void load();
  std::shared_ptr<state::StateStore> store_;
  KeyRingSettings settings_;
  const Clock& clock_;
  util::SharedSnapshot<Keys> keys_;
  std::uint64_t loaded_generation_ = 0;
  std::int64_t last_cleanup_ = 0;  // maintain() deletes long-retired keys once a minute
};

}  // namespace gatehouse::tokens
