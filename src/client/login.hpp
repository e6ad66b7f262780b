#pragma once
// Getting tokens for the CLI's token cache and giving them back: password login at gatehouse's
// /auth/login, Negotiate login there, the OAuth 2.0 Device Authorization Grant (RFC 8628) against
// any server that offers it, and logout (gatehouse's /auth/logout, or RFC 7009 revocation).
//
// The device-flow poll takes its clock and its token-endpoint call as parameters, so its state
// machine (pending, slow_down, denied, expired) is tested without a server and without sleeping.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/token_cache.hpp"
#include "gatehouse/client.hpp"

namespace gatehouse::client {

// A login or logout the server refused, or answered with something that is not a token response.
class LoginError : public Error {
 public:
  using Error::Error;
};

// application/x-www-form-urlencoded (every byte outside RFC 3986 unreserved percent-encoded).
std::string form_encode(const std::vector<std::pair<std::string, std::string_view>>& fields);

// RFC 6749 §5.2 error response.
struct OAuthError {
  std::string error;
  std::string description;
};
std::optional<OAuthError> parse_oauth_error(std::string_view body);

// RFC 6749 §5.1 successful token response. expires_at = now_s + expires_in (0 when absent).
// `id_token` (OIDC) is returned through `id_token` when given. Throws LoginError.
TokenSet parse_token_response(std::string_view body, std::int64_t now_s,
                              std::string* id_token = nullptr);

// The subject a token response names, for messages only (never for a decision): the
// `preferred_username` or `sub` of the ID token, else of a JWT access token; empty when neither
// is a JWT. Signatures are not checked.
std::string display_user(const TokenSet& tokens, std::string_view id_token);

// The endpoints the flows use. From <base>/.well-known/openid-configuration (OIDC Discovery
// 1.0 §4, RFC 8414 §3) when it answers; any missing one falls back to gatehouse's route
// (<base>/auth/token, /auth/device, /auth/revoke).
//
// The document is trusted only for the issuer it was asked of: its `issuer` must be <base>
// (one trailing '/' aside), RFC 8414 §3.3 and OIDC Discovery §4.3, or a server could send the
// device code and every later refresh token (the token endpoint becomes the cache's refresh_url)
// wherever it likes. Every endpoint must be an absolute http(s) URL, and https when the issuer
// is. A violation is a LoginError naming the values.
struct ServerEndpoints {
  std::string token_endpoint;
  std::string device_authorization_endpoint;
  std::string revocation_endpoint;
  bool discovered = false;  // the metadata document was found
};
ServerEndpoints discover_endpoints(Client& client, std::string_view base_url);
// discover_endpoints' decision for one answer to the metadata request (exposed for tests).
ServerEndpoints endpoints_from_metadata(std::string_view base_url, unsigned status,
                                        std::string_view body);

// The base URL without a trailing '/'.
std::string base_of(std::string_view url);

// POST <base>/auth/login with JSON {username, password}; refresh via <base>/auth/refresh.
CachedTokens password_login(Client& client, std::string_view base_url, const std::string& user,
                            const Secret& password, std::int64_t now_s);
// POST <base>/auth/login authenticated with Negotiate (RFC 4559).
CachedTokens negotiate_login(Client& client, std::string_view base_url, NegotiateOptions options,
                             std::int64_t now_s);

// ---------------------------------------------------------------------------------------------
// RFC 8628 device flow
struct DeviceAuthorization {
  Secret device_code;
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete;  // may be empty (optional in §3.2)
  std::int64_t expires_in = 0;
  std::int64_t interval = 5;  // §3.2: 5 seconds when absent
};
// RFC 8628 §3.2 response; throws LoginError when a required member is missing or mistyped.
DeviceAuthorization parse_device_authorization(std::string_view body);
// RFC 8628 §3.1: POST client_id and scope to the device authorization endpoint.
DeviceAuthorization request_device_authorization(Client& client, const std::string& endpoint,
                                                 const std::string& client_id,
                                                 const std::string& scope);

class PollClock {
 public:
  virtual ~PollClock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
  virtual std::int64_t unix_now_s() = 0;  // for expires_at
};
class SystemPollClock final : public PollClock {
 public:
  std::chrono::steady_clock::time_point now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
  std::int64_t unix_now_s() override;
};

// One token request with the given form body (RFC 8628 §3.4); a Response or a thrown Error.
using TokenPost = std::function<Response(const std::string& form_body)>;

// RFC 8628 §3.4-3.5: waits `interval`, asks, and goes on while the answer is
// authorization_pending; slow_down adds 5 s to the interval for the rest of the flow; a timed-out
// request doubles it (§3.5 back-off); any other transport failure is repeated once at once (a
// server closing an idle kept-alive connection) and then fails the flow. access_denied and
// expired_token end it with a LoginError, as does reaching expires_in without an answer (no request
// is sent after that). `on_event` (optional) hears "slow_down", "timeout" and "retry".
TokenSet poll_device_token(const DeviceAuthorization& authorization, const std::string& client_id,
                           const TokenPost& post, PollClock& clock, std::string* id_token = nullptr,
                           const std::function<void(std::string_view)>& on_event = {});

struct DeviceLoginOptions {
  std::string client_id = "gatehouse-cli";
  std::string scope = "openid";
};
// Discovery, device authorization, `show` (print the code, open a browser), then the poll.
// The tokens refresh at the token endpoint with a form body (RFC 6749 §6).
CachedTokens device_login(Client& client, std::string_view base_url,
                          const DeviceLoginOptions& options,
                          const std::function<void(const DeviceAuthorization&)>& show,
                          PollClock& clock);

// ---------------------------------------------------------------------------------------------
// Ends the session the cached tokens belong to on the server. gatehouse (refresh style
// gatehouse_json): POST <base>/auth/logout with the access token, and when that token is no
// longer accepted, RFC 7009 revocation of the refresh token at /auth/revoke (which ends its
// session). Other servers: RFC 7009 revocation of the refresh token (then the access token) at
// the discovered revocation_endpoint. Returns a note for the user when the server could not be
// told (e.g. no revocation endpoint); throws LoginError or a transport Error on failure.
std::string logout(Client& client, std::string_view base_url, const CachedTokens& tokens);

}  // namespace gatehouse::client
