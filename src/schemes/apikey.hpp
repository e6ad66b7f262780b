#pragma once
// API keys (SPEC §5): "Authorization: Apikey KEY", "X-API-Key: KEY", or "?api_key=KEY".
// A present Authorization header is final: the query is consulted only when there is none
// (and no X-API-Key), as in auth-adventures. Wrong keys count against the client address in the
// failed-login limiter (auth::ApiKeyVerifier::authenticate).
#include <string>

#include "auth/api_key.hpp"
#include "gatehouse/scheme.hpp"

namespace gatehouse::schemes {

class ApiKeyScheme final : public Scheme {
 public:
  ApiKeyScheme(std::string realm, const auth::ApiKeyVerifier& verifier, bool header, bool query);
  std::string_view name() const noexcept override { return "apikey"; }
  Parsed parse(const Request& request) const override;
  std::string challenge() const override { return challenge_; }
  void verify(Credentials credentials, const Request& request,
              Completion<Outcome> done) const override;

 private:
  std::string challenge_;
  const auth::ApiKeyVerifier& verifier_;
  bool header_;
  bool query_;
};

}  // namespace gatehouse::schemes
