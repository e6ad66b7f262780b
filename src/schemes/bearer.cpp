#include "schemes/bearer.hpp"

#include "schemes/authorization_header.hpp"

namespace gatehouse::schemes {

namespace {
constexpr std::size_t kMaxTokenBytes = 8192;
}

BearerScheme::BearerScheme(std::string realm, const tokens::TokenService& tokens)
    : challenge_("Bearer realm=" + quote_string(realm)), tokens_(tokens) {}

Parsed BearerScheme::parse(const Request& request) const {
  const auto authorization = request.header("Authorization");
  if (!authorization) return Parsed::absent();
  const auto value = split_authorization(*authorization);
  if (!value || !iequals(value->scheme, "Bearer")) return Parsed::absent();
  if (request.header_count("Authorization") > 1) {
    return Parsed::malformed("more than one Authorization header");
  }
  const std::string_view token = value->rest;
  if (token.empty()) return Parsed::malformed("the bearer token is empty");
  if (token.size() > kMaxTokenBytes) return Parsed::malformed("the bearer token is too long");
  // RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  if (!is_token68(token)) return Parsed::malformed("the bearer token has invalid characters");
  return Parsed::present(BearerCredentials{Secret(token)});
}

void BearerScheme::append_challenges_for(std::vector<std::string>& out,
                                         const Outcome& outcome) const {
  if (outcome.scheme != "bearer" || outcome.kind == OutcomeKind::granted) {
    out.push_back(challenge_);
    return;
  }
  out.push_back(challenge_ + ", error=\"invalid_token\", error_description=" +
                quote_string(outcome.description));
}

void BearerScheme::verify(Credentials credentials, const Request&, Completion<Outcome> done) const {
  auto* bearer = std::get_if<BearerCredentials>(&credentials);
  if (bearer == nullptr) {
    done(Outcome::fail(OutcomeKind::error, "bearer", "wrong_credentials", "internal error"));
    return;
  }
  done(tokens_.authenticate(bearer->token.reveal()));
}

}  // namespace gatehouse::schemes
