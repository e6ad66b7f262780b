#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gatehouse/identity.hpp"

namespace gatehouse {

struct Response;

// The result of authenticating a request: a value, never an exception. Exactly one function
// (authn_response in src/http/pipeline.cpp) turns a non-granted outcome into HTTP.
enum class OutcomeKind {
  granted,       // identity is set
  denied,        // credentials present and wrong, expired, revoked or disabled
  unknown_user,  // no store in the chain knows the user (answered exactly like denied)
  stale,         // credentials were valid once (e.g. an expired Digest nonce): retry silently
  malformed,     // credentials present but unparseable
  busy,          // verification capacity exhausted: 503 + Retry-After
  throttled,     // too many failed logins (SPEC §10): 429 + Retry-After + X-RateLimit-*
  error,         // a store failed; not the client's fault
};

std::string_view to_string(OutcomeKind kind) noexcept;

struct Outcome {
  OutcomeKind kind = OutcomeKind::denied;
  IdentityPtr identity;     // set when granted
  std::string scheme;       // which scheme decided
  std::string reason;       // short machine code for logs/metrics ("bad_password", "expired")
  std::string description;  // human text for error_description; never contains a secret
  int retry_after = 0;      // seconds, for busy and throttled
  std::vector<std::pair<std::string, std::string>> response_headers;  // e.g. Authentication-Info
  // Called with the handler's response before it is sent (e.g. Digest Authentication-Info,
  // whose rspauth for qop=auth-int covers the response body).
  std::function<void(Response&)> finalize;

  static Outcome granted(IdentityPtr who, std::string scheme);
  static Outcome fail(OutcomeKind kind, std::string scheme, std::string reason,
                      std::string description);
};

template <class T>
using Completion = std::function<void(T)>;

}  // namespace gatehouse
