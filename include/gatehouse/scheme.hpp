#pragma once
// An authentication scheme (Basic, ApiKey; Digest, Bearer, Negotiate follow): turns a request
// into credentials, verifies them through the credential stores it was built with, and writes
// its challenge. Stateless after construction; safe to call from every I/O thread at once.
#include <string>
#include <string_view>
#include <vector>

#include "gatehouse/credentials.hpp"
#include "gatehouse/http.hpp"
#include "gatehouse/outcome.hpp"

namespace gatehouse {

struct Parsed {
  enum class Kind { absent, malformed, present };
  Kind kind = Kind::absent;
  Credentials credentials;
  std::string description;  // for malformed: what is wrong, without echoing the secret

  static Parsed absent() { return {}; }
  static Parsed malformed(std::string why) { return {Kind::malformed, {}, std::move(why)}; }
  static Parsed present(Credentials c) { return {Kind::present, std::move(c), {}}; }
};

class Scheme {
 public:
  virtual ~Scheme() = default;
  virtual std::string_view name() const noexcept = 0;  // lower case: "basic", "apikey"
  virtual Parsed parse(const Request& request) const = 0;
  // The WWW-Authenticate challenge this scheme adds to every 401 (RFC 9110 §11.6.1).
  virtual std::string challenge() const = 0;
  // Appends this scheme's challenges to a 401. The default is challenge(); schemes whose
  // challenges change per response (Digest: a fresh nonce, one per algorithm, stale=true after
  // an expired nonce) override it. `stale` is set when this scheme answered OutcomeKind::stale.
  virtual void append_challenges(std::vector<std::string>& out, bool stale) const {
    out.push_back(challenge());
  }
  // What the Authenticator calls for a 401: append_challenges(), with `stale` set when this
  // scheme answered OutcomeKind::stale. Schemes whose challenge reports why their credentials
  // failed (Bearer's error="invalid_token", RFC 6750 §3) override it.
  virtual void append_challenges_for(std::vector<std::string>& out, const Outcome& outcome) const {
    append_challenges(out, outcome.kind == OutcomeKind::stale && outcome.scheme == name());
  }
  // Verifies parsed credentials. `done` is called exactly once, possibly on another thread
  // (slow password hashes run on the worker pool).
  virtual void verify(Credentials credentials, const Request& request,
                      Completion<Outcome> done) const = 0;
};

}  // namespace gatehouse
