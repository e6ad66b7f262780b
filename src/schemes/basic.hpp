#pragma once
// HTTP Basic (RFC 7617): charset="UTF-8", passwords may contain ':', user-ids normalized with
// RFC 8265 UsernameCaseMapped. A user's API key is accepted as the password.
#include <string>

#include "auth/api_key.hpp"
#include "auth/password_check.hpp"
#include "gatehouse/scheme.hpp"

namespace gatehouse::schemes {

// Pure parser for the Authorization value's token68 part, exposed for tests and fuzzing.
Parsed parse_basic_credentials(std::string_view token68);

class BasicScheme final : public Scheme {
 public:
  BasicScheme(std::string realm, const auth::PasswordCheck& passwords,
              const auth::ApiKeyVerifier* api_keys);
  std::string_view name() const noexcept override { return "basic"; }
  Parsed parse(const Request& request) const override;
  std::string challenge() const override { return challenge_; }
  void verify(Credentials credentials, const Request& request,
              Completion<Outcome> done) const override;

 private:
  std::string challenge_;
  const auth::PasswordCheck& passwords_;
  const auth::ApiKeyVerifier* api_keys_;
};

}  // namespace gatehouse::schemes
