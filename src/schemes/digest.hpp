#pragma once
// HTTP Digest (RFC 7616): MD5, SHA-256, SHA-512-256 and their -sess variants; qop auth and
// auth-int; userhash; stateless nonces with stale=true on expiry; strictly increasing nc per
// nonce; the response bound to the request's method and target; Authentication-Info with
// rspauth. Runs on the I/O thread: every hash here is a fast one (HA1 comes from the store).
#include <memory>
#include <string>
#include <vector>

#include "auth/password_check.hpp"
#include "gatehouse/credential_store.hpp"
#include "gatehouse/scheme.hpp"
#include "schemes/digest_compute.hpp"
#include "schemes/digest_nonce.hpp"
#include "schemes/digest_replay.hpp"
#include "util/clock.hpp"

namespace gatehouse::schemes {

struct DigestSettings {
  std::string realm;
  std::vector<DigestAlgorithm> algorithms;  // offered in this order
  std::vector<DigestQop> qops;
  std::chrono::milliseconds nonce_lifetime{300000};
  bool userhash = false;
};

// Pure parser, exposed for tests: the Authorization value after "Digest ".
Parsed parse_digest_credentials(std::string_view params);

class DigestScheme final : public Scheme {
 public:
  // `secret`: the server secret (nonces and opaque are keyed by it). Throws std::invalid_argument
  // when a store in `chain` cannot give HA1.
  DigestScheme(DigestSettings settings, std::vector<StorePtr> chain, const std::string& secret,
               const Clock& clock, auth::FailureListener on_failure = {});
  std::string_view name() const noexcept override { return "digest"; }
  Parsed parse(const Request& request) const override;
  std::string challenge() const override;
  void append_challenges(std::vector<std::string>& out, bool stale) const override;
  void verify(Credentials credentials, const Request& request,
              Completion<Outcome> done) const override;

 private:
  Outcome check(const DigestCredentials& c, const Request& request) const;
  Ha1Lookup find_ha1(const DigestCredentials& c, DigestAlgorithm algorithm) const;
  Outcome deny(std::string reason, std::string description) const;

  DigestSettings settings_;
  std::vector<StorePtr> chain_;
  const Clock& clock_;
  auth::FailureListener on_failure_;
  NonceService nonces_;
  mutable NonceCounter counters_;
  std::string opaque_;
};

}  // namespace gatehouse::schemes
