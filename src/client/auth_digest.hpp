#pragma once
// The Digest handler's seams for tests: the client nonce source (RFC 7616 §3.9.1's example uses
// a fixed cnonce) and the choice of a challenge.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "client/challenge.hpp"
#include "gatehouse/client.hpp"
#include "schemes/digest_compute.hpp"

namespace gatehouse::client::detail {

// A Digest challenge the client can answer (RFC 7616 §3.3).
struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::optional<std::string> opaque;
  schemes::DigestAlgorithm algorithm = schemes::DigestAlgorithm::md5;
  schemes::DigestQop qop = schemes::DigestQop::auth;
  bool userhash = false;
  bool stale = false;
};

// The strongest Digest challenge in `challenges` that can be answered: algorithm SHA-512-256 >
// SHA-256 > MD5 (a -sess variant ranks with its base; among equals the first offered wins;
// unknown algorithms are skipped); realm and nonce present; qop offered (the RFC 2069 form without
// qop has no client nonce and is not answered). qop "auth" when offered, "auth-int" only when it
// is the only one offered (as curl and httpx do: auth-int hashes the whole body).
std::optional<DigestChallenge> pick_digest_challenge(const ChallengeList& challenges);

using CnonceSource = std::function<std::string()>;
// digest_auth with another client-nonce source (the default: 16 bytes from OpenSSL RAND_bytes,
// as hex).
std::shared_ptr<Auth> make_digest_auth(std::string user, Secret password, CnonceSource cnonce);

}  // namespace gatehouse::client::detail
