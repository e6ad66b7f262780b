#include "gatehouse/identity.hpp"

#include <algorithm>

#include "gatehouse/outcome.hpp"

namespace gatehouse {

bool Identity::has_role(std::string_view role) const noexcept {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::string_view to_string(OutcomeKind kind) noexcept {
  switch (kind) {
    case OutcomeKind::granted:
      return "granted";
    case OutcomeKind::denied:
      return "denied";
    case OutcomeKind::unknown_user:
      return "unknown_user";
    case OutcomeKind::stale:
      return "stale";
    case OutcomeKind::malformed:
      return "malformed";
    case OutcomeKind::busy:
      return "busy";
    case OutcomeKind::throttled:
      return "throttled";
    case OutcomeKind::error:
      return "error";
  }
  return "error";
}

Outcome Outcome::granted(IdentityPtr who, std::string scheme) {
  Outcome o;
  o.kind = OutcomeKind::granted;
  o.identity = std::move(who);
  o.scheme = std::move(scheme);
  o.reason = "ok";
  return o;
}

Outcome Outcome::fail(OutcomeKind kind, std::string scheme, std::string reason,
                      std::string description) {
  Outcome o;
  o.kind = kind;
  o.scheme = std::move(scheme);
  o.reason = std::move(reason);
  o.description = std::move(description);
  return o;
}

}  // namespace gatehouse
