#pragma once
// Stateless Digest nonces (RFC 7616 §3.3, §5.4): the server keeps no table of issued nonces; a
// nonce carries its issue time and proves itself with a MAC under the server secret.
//
//   nonce = base64url-no-padding( issued_ms (8 bytes, big-endian) ‖ random (16 bytes)
//                                 ‖ HMAC-SHA-256(secret, label ‖ realm ‖ issued_ms ‖ random)[0..16)
//                                 )
//
// 40 bytes, 54 characters from [A-Za-z0-9_-], so it needs no escaping inside a quoted-string.
// `label` is "gatehouse digest nonce v1" followed by a NUL: the server secret also keys other
// HMACs (the credential cache), and the label keeps their inputs apart. The realm binds a nonce
// to its realm; issued_ms and random have fixed lengths, so the MAC input is unambiguous.
//
// The nonce says nothing about nonce counts: replays within the lifetime are NonceCounter's job
// (digest_replay.hpp).
#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "gatehouse/secret.hpp"
#include "util/clock.hpp"

namespace gatehouse::schemes {

struct NonceCheck {
  enum class Status {
    valid,      // authentic and within its lifetime
    stale,      // authentic but expired: answer 401 with stale=true and a fresh nonce
    forged,     // well-formed but the MAC does not verify (other secret, other realm, tampered)
    malformed,  // not a nonce of ours at all (wrong length, not base64url)
  };
  Status status = Status::malformed;
  // Valid and within the last 10% of its lifetime: send a nextnonce in Authentication-Info.
  bool about_to_expire = false;
  // The issue time of an authentic nonce (valid or stale), for NonceCounter; 0 otherwise.
  std::int64_t issued_ms = 0;

  bool valid() const noexcept { return status == Status::valid; }
};

class NonceService {
 public:
  // `secret` must be at least 16 bytes and `lifetime` positive (std::invalid_argument otherwise:
  // a start-up error). `clock` must outlive the service.
  NonceService(std::string secret, std::string realm, std::chrono::milliseconds lifetime,
               const Clock& clock);
  ~NonceService();
  NonceService(const NonceService&) = delete;
  NonceService& operator=(const NonceService&) = delete;

  std::string issue() const;
  NonceCheck check(std::string_view nonce) const;

  std::chrono::milliseconds lifetime() const noexcept { return lifetime_; }
  const std::string& realm() const noexcept { return realm_; }

  static constexpr std::size_t kEncodedSize = 54;

 private:
  std::string mac(std::string_view issued_and_random) const;

  Secret secret_;
  crypto_auth_hmacsha256_state keyed_{};
  std::string realm_;
  std::chrono::milliseconds lifetime_;
  const Clock& clock_;
};

}  // namespace gatehouse::schemes
