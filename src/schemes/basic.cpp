#include "schemes/basic.hpp"

#include "auth/username.hpp"
#include "gatehouse/http.hpp"
#include "schemes/authorization_header.hpp"
#include "util/encoding.hpp"

namespace gatehouse::schemes {

namespace {}  // namespace

Parsed parse_basic_credentials(std::string_view token68) {
  if (token68.empty()) return Parsed::malformed("Basic credentials are empty");
  if (!is_token68(token68)) return Parsed::malformed("Basic credentials are not base64");
  auto decoded = util::base64_decode(token68);
  if (!decoded) return Parsed::malformed("Basic credentials are not valid base64");
  Secret plain(*decoded);
  std::fill(decoded->begin(), decoded->end(), '\0');
  // RFC 7617 §2: the user-id cannot contain ':'; the password may.
  const std::string_view text = plain.reveal();
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Parsed::malformed("Basic credentials lack the ':' between user-id and password");
  }
  const std::string_view user = text.substr(0, colon);
  const std::string_view password = text.substr(colon + 1);
  if (user.empty()) return Parsed::malformed("Basic credentials have an empty user-id");
  if (!util::is_valid_utf8(user) || !util::is_valid_utf8(password)) {
    return Parsed::malformed("Basic credentials are not UTF-8 (RFC 7617 charset=\"UTF-8\")");
  }
  if (util::has_control_chars(user) || util::has_control_chars(password)) {
    return Parsed::malformed("Basic credentials contain control characters");
  }
  auto normalized = auth::normalize_username(user);
  if (!normalized) {
    return Parsed::malformed("the user-id is not a valid username (RFC 8265 UsernameCaseMapped)");
  }
  return Parsed::present(PasswordCredentials{std::move(*normalized), Secret(password)});
}

BasicScheme::BasicScheme(std::string realm, const auth::PasswordCheck& passwords,
                         const auth::ApiKeyVerifier* api_keys)
    : challenge_("Basic realm=" + quote_string(realm) + ", charset=\"UTF-8\""),
      passwords_(passwords),
      api_keys_(api_keys) {}

Parsed BasicScheme::parse(const Request& request) const {
  const auto header = request.header("Authorization");
  if (!header) return Parsed::absent();
  const auto value = split_authorization(*header);
  if (!value || !iequals(value->scheme, "Basic")) return Parsed::absent();
  if (request.header_count("Authorization") > 1) {
    return Parsed::malformed("more than one Authorization header");
  }
  return parse_basic_credentials(value->rest);
}

void BasicScheme::verify(Credentials credentials, const Request& request,
                         Completion<Outcome> done) const {
  auto* password = std::get_if<PasswordCredentials>(&credentials);
  if (password == nullptr) {
    done(Outcome::fail(OutcomeKind::error, "basic", "wrong_credentials", "internal error"));
    return;
  }
  // An API key given as the password is checked as a key (fast, no slow hash), bound to the user
  // and throttled like the password it stands in for.
  if (api_keys_ != nullptr && api_keys_->knows(password->password.reveal())) {
    done(api_keys_->authenticate(password->password.reveal(), "basic", request.remote_address,
                                 password->username));
    return;
  }
  passwords_.check(std::move(*password), "basic", std::string(request.remote_address),
                   std::move(done));
}

}  // namespace gatehouse::schemes
