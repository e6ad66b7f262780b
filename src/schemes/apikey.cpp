#include "schemes/apikey.hpp"

#include "schemes/authorization_header.hpp"

namespace gatehouse::schemes {

namespace {
Parsed key_credentials(std::string_view key, ApiKeySource source) {
  key = trim(key);
  if (key.empty()) return Parsed::malformed("the API key is empty");
  if (!auth::parse_api_key(key)) {
    return Parsed::malformed("the API key is not of the form gh_<id>_<secret>");
  }
  return Parsed::present(ApiKeyCredentials{Secret(key), source});
}
}  // namespace

ApiKeyScheme::ApiKeyScheme(std::string realm, const auth::ApiKeyVerifier& verifier, bool header,
                           bool query)
    : challenge_("Apikey realm=" + quote_string(realm)),
      verifier_(verifier),
      header_(header),
      query_(query) {}

Parsed ApiKeyScheme::parse(const Request& request) const {
  const auto authorization = request.header("Authorization");
  if (authorization) {
    if (!header_) return Parsed::absent();
    const auto value = split_authorization(*authorization);
    if (!value || !iequals(value->scheme, "Apikey")) return Parsed::absent();
    if (request.header_count("Authorization") > 1) {
      return Parsed::malformed("more than one Authorization header");
    }
    return key_credentials(value->rest, ApiKeySource::authorization_header);
  }
  if (const auto x_api_key = request.header("X-API-Key")) {
    if (!header_) return Parsed::absent();
    if (request.header_count("X-API-Key") > 1) {
      return Parsed::malformed("more than one X-API-Key header");
    }
    return key_credentials(*x_api_key, ApiKeySource::x_api_key_header);
  }
  if (query_ && !request.query.empty()) {
    if (auto key = request.query_param("api_key")) {
      return key_credentials(*key, ApiKeySource::query);
    }
  }
  return Parsed::absent();
}

void ApiKeyScheme::verify(Credentials credentials, const Request& request,
                          Completion<Outcome> done) const {
  auto* key = std::get_if<ApiKeyCredentials>(&credentials);
  if (key == nullptr) {
    done(Outcome::fail(OutcomeKind::error, "apikey", "wrong_credentials", "internal error"));
    return;
  }
  done(verifier_.authenticate(key->key.reveal(), "apikey", request.remote_address));
}

}  // namespace gatehouse::schemes
