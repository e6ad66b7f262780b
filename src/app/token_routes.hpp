#pragma once
// The token endpoints (SPEC §4, §6): login, refresh, the OAuth token endpoint, logout, RFC 7009
// revocation, RFC 7662 introspection, sessions, user-made API keys, JWKS and issuer metadata,
// and the auth-adventures /login and /refresh when [compat] asks for them.
#include <functional>
#include <memory>

#include "auth/api_key.hpp"
#include "auth/password_check.hpp"
#include "auth/worker_pool.hpp"
#include "gatehouse/config.hpp"
#include "http/router.hpp"
#include "state/state_store.hpp"
#include "tokens/token_service.hpp"
#include "util/clock.hpp"

namespace gatehouse::app {

// What the handlers use. The pointers are filled in when the server starts (after the routes
// are added); handlers only run after that.
struct TokenContext {
  const Config* config = nullptr;
  const Clock* clock = nullptr;
  std::shared_ptr<state::StateStore> state;
  tokens::TokenService* tokens = nullptr;
  auth::PasswordCheck* passwords = nullptr;
  auth::ApiKeyVerifier* api_keys = nullptr;
  auth::WorkerPool* pool = nullptr;
  // Makes the credential stores re-read the database now and waits for it (so a key created
  // by a request works on the next one). Called on a worker thread.
  std::function<void()> sync_stores;
};

void add_token_routes(http::Router& router, TokenContext& context);

}  // namespace gatehouse::app
