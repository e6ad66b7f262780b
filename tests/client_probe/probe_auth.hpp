#pragma once
// Builds the probe's Auth from the "auth" member of its input (see probe.cpp).
#include <boost/json.hpp>

#include <memory>

#include "gatehouse/client.hpp"

namespace gatehouse::client_probe {

struct ProbeAuth {
  std::shared_ptr<client::Auth> auth;          // null: the client has no auth
  std::shared_ptr<client::BearerAuth> bearer;  // set when the auth is a BearerAuth
};

// Throws std::invalid_argument for an unknown kind or a missing field (the probe exits 2).
ProbeAuth make_auth(const boost::json::object& spec);

}  // namespace gatehouse::client_probe
