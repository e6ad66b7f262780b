#pragma once
// API keys (SPEC §5): "gh_<id>_<secret>", id = 16 hex digits (public, the lookup key),
// secret = 64 hex digits (256 random bits). Only SHA-256(secret) is stored: the secret is
// random and long, so a fast hash is as good as a slow one here and keeps the check cheap.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gatehouse/credential_store.hpp"
#include "gatehouse/outcome.hpp"
#include "guard/failed_login.hpp"
#include "util/clock.hpp"

namespace gatehouse::auth {

struct ApiKeyParts {
  std::string_view id;
  std::string_view secret;
};

// Pure syntax check; nullopt when the string is not shaped like a gatehouse API key.
std::optional<ApiKeyParts> parse_api_key(std::string_view key) noexcept;

struct NewApiKey {
  std::string id;
  std::string key;  // the full "gh_<id>_<secret>", shown once
  std::array<unsigned char, 32> secret_hash;
};
NewApiKey generate_api_key();
std::array<unsigned char, 32> hash_api_key_secret(std::string_view secret) noexcept;

// Checks a presented key against the stores that can find API keys. Fast (no slow hash, no I/O):
// runs on the I/O thread.
class ApiKeyVerifier {
 public:
  // `limiter` may be null (no throttling); it must outlive this object.
  ApiKeyVerifier(std::vector<StorePtr> stores, const Clock& clock,
                 guard::FailedLoginLimiter* limiter = nullptr);
  // `scheme` names the scheme in the resulting Outcome/Identity. When `expected_owner` is set
  // (the key was given as a Basic password) the key must belong to that user. Not throttled:
  // for a key an authenticated caller asks about (introspection, revocation).
  Outcome verify(std::string_view key, std::string_view scheme,
                 std::optional<std::string_view> expected_owner = std::nullopt) const;
  // A login with a key from `client_address` (SPEC §10): refused with `throttled`, before the
  // key is looked at, while the address (or expected_owner, for a key given as a Basic
  // password) is over its failed-login limit; a malformed or unknown key, a wrong secret or a
  // key of another owner then counts one failure against the address (and expected_owner). A key
  // names no user anyone can trust, so without expected_owner no user name is counted.
  // Revoked and expired keys are refused but not counted: their secret was right.
  Outcome authenticate(std::string_view key, std::string_view scheme,
                       std::string_view client_address,
                       std::optional<std::string_view> expected_owner = std::nullopt) const;
  // True when some store knows the key's id (used to decide whether a Basic password that looks
  // like a key is one).
  bool knows(std::string_view key) const;
  bool enabled() const noexcept { return !stores_.empty(); }

 private:
  ApiKeyLookup find(std::string_view id) const;
  std::vector<StorePtr> stores_;
  const Clock& clock_;
  guard::FailedLoginLimiter* limiter_;
};

}  // namespace gatehouse::auth
