#pragma once
// Bearer (RFC 6750 §2.1): "Authorization: Bearer <token>" carrying a gatehouse access token,
// verified by the TokenService (cached after the first check, revocation checked every time).
#include <string>

#include "gatehouse/scheme.hpp"
#include "tokens/token_service.hpp"

namespace gatehouse::schemes {

class BearerScheme final : public Scheme {
 public:
  BearerScheme(std::string realm, const tokens::TokenService& tokens);
  std::string_view name() const noexcept override { return "bearer"; }
  Parsed parse(const Request& request) const override;
  std::string challenge() const override { return challenge_; }
  // After a refused token: error="invalid_token" and the reason (RFC 6750 §3.1), so clients know
  // to refresh rather than prompt.
  void append_challenges_for(std::vector<std::string>& out, const Outcome& outcome) const override;
  void verify(Credentials credentials, const Request& request,
              Completion<Outcome> done) const override;

 private:
  std::string challenge_;
  const tokens::TokenService& tokens_;
};

}  // namespace gatehouse::schemes
