#pragma once
// Mounts a tracker (SPEC §9) at /{name}/: XML-RPC at /{name}/xmlrpc and REST at /{name}/rest/.
// Any gatehouse credential identifies the user; requests without credentials act as the
// tracker's anonymous user.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/worker_pool.hpp"
#include "gatehouse/config.hpp"
#include "gatehouse/identity.hpp"
#include "http/router.hpp"
#include "tracker/tracker.hpp"

namespace gatehouse::app {

struct TrackerContext {
  const Config* config = nullptr;
  std::unique_ptr<tracker::Tracker> tracker;
  auth::WorkerPool* pool = nullptr;  // filled in when the server starts
  std::string server_secret;         // keys the REST etags (RestApi::derive_etag_key)
};

void add_tracker_routes(http::Router& router, TrackerContext& context);

// The REST routes' FailureRenderer (Roundup's gate, A3): a failed login is 401 text/plain
// "Invalid Login - <msg>" keeping the challenges; a throttled one 429 in Roundup's error
// envelope keeping Retry-After and X-RateLimit-*; a CSRF refusal a 400 envelope; anything else
// the standard response.
Response rest_refusal(http::Refusal why, std::string_view message, Response standard);

// The actor for a request: anonymous without credentials, else the user item of the identity
// (nullopt when the user has no item yet: tracker.ensure_user, off the I/O thread, makes it).
std::optional<tracker::Actor> actor_of(const tracker::Tracker& tracker, const Identity* who);

}  // namespace gatehouse::app
