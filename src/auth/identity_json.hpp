#pragma once
// The JSON an identity is shown as (GET /auth/whoami, /auth/verify).
#include <string>

#include "gatehouse/identity.hpp"

namespace gatehouse::auth {

// {"user","scheme","roles","session"?,"expires_at"?}
std::string identity_json(const Identity& who);

}  // namespace gatehouse::auth
