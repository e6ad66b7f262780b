#pragma once
// HTTP Digest (RFC 7616): MD5, SHA-256, SHA-512-256 and their -sess variants; qop auth and
// auth-int; userhash; stateless nonces with stale=true on expiry; strictly increasing nc per
// nonce; the response bound to the request's method and target; Authentication-Info with
// rspauth. Runs on the I/O thread: every hash here is a fast one (HA1 comes from the store).
// With a failed-login limiter (SPEC §10): a user or address over its limit is refused with
// `throttled` before the response is computed; a wrong response, a replayed nc and an unknown
// user count one failure (a userhash nobody matches counts against the address only).
#include <memory>
#include <string>
#include <vector>

#include "gatehouse/credential_store.hpp"
#include "gatehouse/scheme.hpp"
#include "guard/failed_login.hpp"
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
  // when a store in `chain` cannot give HA1. `limiter` may be null (no throttling); it must
  // outlive this object.
  DigestScheme(DigestSettings settings, std::vector<StorePtr> chain, const std::string& secret,
               const Clock& clock, guard::FailedLoginLimiter* limiter = nullptr);
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
  void record_failure(std::string_view username, const Request& request) const;

  DigestSettings settings_;
  std::vector<StorePtr> chain_;
  const Clock& clock_;
  guard::FailedLoginLimiter* limiter_;
  NonceService nonces_;
  mutable NonceCounter counters_;
  std::string opaque_;
};

}  // namespace gatehouse::schemes
