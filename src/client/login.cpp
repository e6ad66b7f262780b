#include "client/login.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cmath>
#include <ctime>
#include <thread>

#include "client/url.hpp"
#include "jose/base64url.hpp"

namespace gatehouse::client {
namespace {

constexpr std::string_view kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

std::optional<boost::json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::string string_of(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A JSON number member as an integer; nullopt when absent; LoginError when not a number.
std::optional<std::int64_t> integer_of(const boost::json::object& o, std::string_view name,
                                       std::string_view what) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  // Clamped to ±2^31: a hostile number can neither overflow a time computation nor be UB.
  if (v->is_int64()) return std::clamp<std::int64_t>(v->get_int64(), INT32_MIN, INT32_MAX);
  if (v->is_uint64())
    return static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), INT32_MAX));
  if (v->is_double() && std::isfinite(v->get_double())) {
    return static_cast<std::int64_t>(
        std::clamp(v->get_double(), double(INT32_MIN), double(INT32_MAX)));
  }
  throw LoginError(std::string(what) + ": \"" + std::string(name) + "\" is not a number");
}

void wipe(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

// "HTTP 401 Unauthorized: <error_description>" for a refused request.
std::string describe_failure(const Response& response) {
  std::string text = "HTTP " + std::to_string(response.status);
  if (!response.reason.empty()) text += " " + response.reason;
  if (const auto error = parse_oauth_error(response.body)) {
    text += ": " + (error->description.empty() ? error->error : error->description);
  }
  return text;
}

Request post_form(std::string url, std::string body) {
  Request request;
  request.method = "POST";
  request.url = std::move(url);
  request.set_header("Content-Type", "application/x-www-form-urlencoded");
  request.set_header("Accept", "application/json");
  request.body = std::move(body);
  request.auth = no_auth();
  return request;
}

std::string jwt_subject(std::string_view jwt) {
  const auto first = jwt.find('.');
  const auto second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos) return {};
  const auto payload = jose::b64url_decode(jwt.substr(first + 1, second - first - 1));
  if (!payload) return {};
  const auto claims = parse_object(*payload);
  if (!claims) return {};
  for (const char* claim : {"preferred_username", "sub"}) {
    if (auto value = string_of(*claims, claim); !value.empty()) return value;
  }
  return {};
}

CachedTokens gatehouse_tokens(const Response& response, std::string_view base_url,
                              std::int64_t now_s) {
  CachedTokens cached;
  std::string id_token;
  cached.tokens = parse_token_response(response.body, now_s, &id_token);
  const std::string base = base_of(base_url);
  cached.tokens.refresh_url = base + "/auth/refresh";
  cached.tokens.refresh_style = TokenSet::RefreshStyle::gatehouse_json;
  cached.token_endpoint = base + "/auth/token";
  cached.user = display_user(cached.tokens, id_token);
  return cached;
}

}  // namespace

std::string form_encode(const std::vector<std::pair<std::string, std::string_view>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += boost::urls::encode(name, boost::urls::unreserved_chars);
    out.push_back('=');
    out += boost::urls::encode(value, boost::urls::unreserved_chars);
  }
  return out;
}

std::optional<OAuthError> parse_oauth_error(std::string_view body) {
  const auto o = parse_object(body);
  if (!o) return std::nullopt;
  OAuthError error{string_of(*o, "error"), string_of(*o, "error_description")};
  if (error.error.empty()) return std::nullopt;
  return error;
}

TokenSet parse_token_response(std::string_view body, std::int64_t now_s, std::string* id_token) {
  auto o = parse_object(body);
  if (!o) throw LoginError("the token response is not a JSON object");
  const auto* access = o->if_contains("access_token");
  if (access == nullptr || !access->is_string() || access->get_string().empty()) {
    throw LoginError("the token response has no access_token");
  }
  // RFC 6749 §5.1 / RFC 6750 §4: the token type is case-insensitive; only Bearer is usable here.
  if (const auto type = string_of(*o, "token_type"); !type.empty()) {
    std::string lower = type;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != "bearer") throw LoginError("unsupported token_type \"" + type + "\"");
  }
  TokenSet tokens;
  tokens.access_token = Secret(access->get_string());
  if (const auto* refresh = o->if_contains("refresh_token")) {
    if (!refresh->is_string())
      throw LoginError("the token response's refresh_token is not a string");
    tokens.refresh_token = Secret(refresh->get_string());
  }
  if (const auto expires_in = integer_of(*o, "expires_in", "the token response")) {
    tokens.expires_at = *expires_in > 0 ? now_s + *expires_in : 0;
  }
  if (id_token != nullptr) *id_token = string_of(*o, "id_token");
  for (auto* key : {"access_token", "refresh_token", "id_token"}) {
    if (auto* v = o->if_contains(key); v != nullptr && v->is_string() && !v->get_string().empty()) {
      OPENSSL_cleanse(v->get_string().data(), v->get_string().size());
    }
  }
  return tokens;
}

std::string display_user(const TokenSet& tokens, std::string_view id_token) {
  if (auto user = jwt_subject(id_token); !user.empty()) return user;
  return jwt_subject(tokens.access_token.reveal());
}

std::string base_of(std::string_view url) {
  std::string base(url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

namespace {

constexpr std::string_view kMetadataPath = "/.well-known/openid-configuration";

// Server-chosen text for an error message: control characters become '?', at most 200 bytes.
std::string printable_quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text.substr(0, 200)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (text.size() > 200) out += "...";
  return out + "\"";
}

std::string lower_scheme(std::string_view url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return {};
  std::string scheme(parsed->scheme());
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return scheme;
}

}  // namespace

ServerEndpoints endpoints_from_metadata(std::string_view base_url, unsigned status,
                                        std::string_view body) {
  const std::string base = base_of(base_url);
  ServerEndpoints endpoints;
  const auto o = status == 200 ? parse_object(body) : std::nullopt;
  if (o) {
    const std::string where = "the server metadata at " + base + std::string(kMetadataPath);
    endpoints.discovered = true;
    const auto* issuer_value = o->if_contains("issuer");
    if (issuer_value == nullptr || !issuer_value->is_string() ||
        issuer_value->get_string().empty()) {
      throw LoginError(where + " has no issuer (RFC 8414 §2); refusing its endpoints");
    }
    const std::string issuer(issuer_value->get_string());
    std::string_view trimmed = issuer;
    if (trimmed.ends_with('/')) trimmed.remove_suffix(1);
    if (trimmed != base) {
      throw LoginError(where + " names the issuer " + printable_quoted(issuer) + ", not " +
                       printable_quoted(base) +
                       " (RFC 8414 §3.3, OpenID Connect Discovery §4.3); refusing its endpoints");
    }
    const bool https = lower_scheme(base) == "https";
    for (const auto& [member, field] :
         {std::pair{"token_endpoint", &endpoints.token_endpoint},
          std::pair{"device_authorization_endpoint", &endpoints.device_authorization_endpoint},
          std::pair{"revocation_endpoint", &endpoints.revocation_endpoint}}) {
      *field = string_of(*o, member);
      if (field->empty()) continue;
      const std::string scheme = lower_scheme(*field);
      if (scheme != "https" && scheme != "http") {
        throw LoginError(where + ": " + member + " " + printable_quoted(*field) +
                         " is not an absolute http(s) URL");
      }
      if (https && scheme != "https") {
        throw LoginError(where + ": " + member + " " + printable_quoted(*field) +
                         " is not https, but the issuer is; refusing to send tokens over it");
      }
    }
  }
  if (endpoints.token_endpoint.empty()) endpoints.token_endpoint = base + "/auth/token";
  if (endpoints.device_authorization_endpoint.empty()) {
    endpoints.device_authorization_endpoint = base + "/auth/device";
  }
  if (endpoints.revocation_endpoint.empty() && !endpoints.discovered) {
    endpoints.revocation_endpoint = base + "/auth/revoke";
  }
  return endpoints;
}

ServerEndpoints discover_endpoints(Client& client, std::string_view base_url) {
  Request request;
  request.url = base_of(base_url) + std::string(kMetadataPath);
  request.set_header("Accept", "application/json");
  request.auth = no_auth();
  const Response response = client.send(std::move(request));
  return endpoints_from_metadata(base_url, response.status, response.body);
}

CachedTokens password_login(Client& client, std::string_view base_url, const std::string& user,
                            const Secret& password, std::int64_t now_s) {
  boost::json::object credentials;
  credentials["username"] = user;
  credentials["password"] = password.reveal();
  Request request;
  request.method = "POST";
  request.url = base_of(base_url) + "/auth/login";
  request.set_header("Content-Type", "application/json");
  request.set_header("Accept", "application/json");
  request.body = boost::json::serialize(credentials);
  request.auth = no_auth();
  auto& secret = credentials["password"].as_string();
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  Response response = client.send(std::move(request));
  if (response.status != 200) throw LoginError("login refused: " + describe_failure(response));
  CachedTokens cached = gatehouse_tokens(response, base_url, now_s);
  wipe(response.body);
  cached.user = user;
  return cached;
}

CachedTokens negotiate_login(Client& client, std::string_view base_url, NegotiateOptions options,
                             std::int64_t now_s) {
  Request request;
  request.method = "POST";
  request.url = base_of(base_url) + "/auth/login";
  request.set_header("Accept", "application/json");
  request.auth = negotiate_auth(std::move(options));
  Response response = client.send(std::move(request));
  if (response.status != 200) {
    throw LoginError("Negotiate login refused: " + describe_failure(response));
  }
  CachedTokens cached = gatehouse_tokens(response, base_url, now_s);
  wipe(response.body);
  return cached;
}

// ---------------------------------------------------------------------------------------------
DeviceAuthorization parse_device_authorization(std::string_view body) {
  auto o = parse_object(body);
  if (!o) throw LoginError("the device authorization response is not a JSON object");
  constexpr std::string_view what = "the device authorization response";
  DeviceAuthorization a;
  for (const char* required : {"device_code", "user_code", "verification_uri"}) {
    const auto* v = o->if_contains(required);
    if (v == nullptr || !v->is_string() || v->get_string().empty()) {
      throw LoginError(std::string(what) + " has no " + required);
    }
  }
  a.device_code = Secret(o->at("device_code").get_string());
  a.user_code = string_of(*o, "user_code");
  a.verification_uri = string_of(*o, "verification_uri");
  a.verification_uri_complete = string_of(*o, "verification_uri_complete");
  const auto expires_in = integer_of(*o, "expires_in", what);
  if (!expires_in || *expires_in <= 0) throw LoginError(std::string(what) + " has no expires_in");
  a.expires_in = *expires_in;
  if (const auto interval = integer_of(*o, "interval", what)) {
    a.interval = std::max<std::int64_t>(*interval, 1);
  }
  auto& code = o->at("device_code").as_string();
  OPENSSL_cleanse(code.data(), code.size());
  return a;
}

DeviceAuthorization request_device_authorization(Client& client, const std::string& endpoint,
                                                 const std::string& client_id,
                                                 const std::string& scope) {
  std::vector<std::pair<std::string, std::string_view>> fields{{"client_id", client_id}};
  if (!scope.empty()) fields.emplace_back("scope", scope);
  const Response response = client.send(post_form(endpoint, form_encode(fields)));
  if (response.status != 200) {
    throw LoginError("device authorization refused: " + describe_failure(response));
  }
  return parse_device_authorization(response.body);
}

std::chrono::steady_clock::time_point SystemPollClock::now() {
  return std::chrono::steady_clock::now();
}
void SystemPollClock::sleep_for(std::chrono::milliseconds duration) {
  std::this_thread::sleep_for(duration);
}
std::int64_t SystemPollClock::unix_now_s() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

TokenSet poll_device_token(const DeviceAuthorization& authorization, const std::string& client_id,
                           const TokenPost& post, PollClock& clock, std::string* id_token,
                           const std::function<void(std::string_view)>& on_event) {
  const auto deadline = clock.now() + std::chrono::seconds(authorization.expires_in);
  std::chrono::milliseconds interval =
      std::chrono::seconds(std::max<std::int64_t>(authorization.interval, 1));
  const auto event = [&](std::string_view name) {
    if (on_event) on_event(name);
  };
  for (;;) {
    // §3.5: the client waits at least `interval` between requests.
    if (clock.now() + interval > deadline) {
      const auto left = deadline - clock.now();
      if (left > std::chrono::steady_clock::duration::zero()) {
        clock.sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(left));
      }
      throw LoginError("the device code expired before the login was approved; run login again");
    }
    clock.sleep_for(interval);
    std::string body = form_encode({{"grant_type", kDeviceGrant},
                                    {"device_code", authorization.device_code.reveal()},
                                    {"client_id", client_id}});
    Response response;
    try {
      try {
        response = post(body);
      } catch (const TimeoutError&) {
        throw;
      } catch (const TransportError&) {
        // No answer at all, typically a kept-alive connection that the server closed as the
        // request left (RFC 9112 §9.3.1; the transport repeats only idempotent methods). One
        // repetition on a new connection is harmless: a poll changes nothing until approval,
        // and a code already redeemed is refused as such.
        event("retry");
        response = post(body);
      }
    } catch (const TimeoutError&) {
      wipe(body);
      interval = std::min<std::chrono::milliseconds>(
          interval * 2, std::chrono::minutes(5));  // §3.5: back off on a connection timeout
      event("timeout");
      continue;
    } catch (...) {
      wipe(body);
      throw;
    }
    wipe(body);
    if (response.status == 200) {
      TokenSet tokens = parse_token_response(response.body, clock.unix_now_s(), id_token);
      wipe(response.body);
      return tokens;
    }
    const auto error = parse_oauth_error(response.body);
    if (!error) {
      throw LoginError("the token endpoint answered " + describe_failure(response));
    }
    if (error->error == "authorization_pending") continue;
    if (error->error == "slow_down") {
      interval += std::chrono::seconds(5);  // §3.5: for this and all later requests
      event("slow_down");
      continue;
    }
    if (error->error == "access_denied") throw LoginError("the login was denied");
    if (error->error == "expired_token") {
      throw LoginError("the device code expired before the login was approved; run login again");
    }
    throw LoginError("device login failed: " + error->error +
                     (error->description.empty() ? "" : ": " + error->description));
  }
}

CachedTokens device_login(Client& client, std::string_view base_url,
                          const DeviceLoginOptions& options,
                          const std::function<void(const DeviceAuthorization&)>& show,
                          PollClock& clock) {
  const ServerEndpoints endpoints = discover_endpoints(client, base_url);
  const DeviceAuthorization authorization = request_device_authorization(
      client, endpoints.device_authorization_endpoint, options.client_id, options.scope);
  if (show) show(authorization);
  const TokenPost post = [&](const std::string& body) {
    return client.send(post_form(endpoints.token_endpoint, body));
  };
  CachedTokens cached;
  std::string id_token;
  cached.tokens = poll_device_token(authorization, options.client_id, post, clock, &id_token);
  cached.tokens.refresh_url = endpoints.token_endpoint;
  cached.tokens.refresh_style = TokenSet::RefreshStyle::oauth_form;
  cached.tokens.client_id = options.client_id;
  cached.token_endpoint = endpoints.token_endpoint;
  cached.user = display_user(cached.tokens, id_token);
  wipe(id_token);
  return cached;
}

// ---------------------------------------------------------------------------------------------
namespace {

// RFC 7009 §2.1; §2.2: 200 whether or not the token was valid; 503 means try again later.
void revoke(Client& client, const std::string& endpoint, const Secret& token, const char* hint,
            const std::string& client_id) {
  std::vector<std::pair<std::string, std::string_view>> fields{{"token", token.reveal()},
                                                               {"token_type_hint", hint}};
  if (!client_id.empty()) fields.emplace_back("client_id", client_id);
  std::string body = form_encode(fields);
  const Response response = client.send(post_form(endpoint, body));
  wipe(body);
  if (response.status != 200) {
    throw LoginError("revocation at " + detail::redact_url(endpoint) +
                     " failed: " + describe_failure(response));
  }
}

}  // namespace

std::string logout(Client& client, std::string_view base_url, const CachedTokens& cached) {
  const std::string base = base_of(base_url);
  const TokenSet& tokens = cached.tokens;
  if (tokens.refresh_style == TokenSet::RefreshStyle::gatehouse_json) {
    Request request;
    request.method = "POST";
    request.url = base + "/auth/logout";
    request.set_header("Accept", "application/json");
    request.set_header("Authorization", "Bearer " + std::string(tokens.access_token.reveal()));
    request.auth = no_auth();
    const Response response = client.send(std::move(request));
    if (response.status == 200) return {};
    if (response.status != 401 || tokens.refresh_token.empty()) {
      throw LoginError("logout refused: " + describe_failure(response));
    }
    // The access token has expired or was revoked: revoking the refresh token ends the session.
    revoke(client, base + "/auth/revoke", tokens.refresh_token, "refresh_token", tokens.client_id);
    return {};
  }
  const ServerEndpoints endpoints = discover_endpoints(client, base);
  if (endpoints.revocation_endpoint.empty()) {
    return "the server offers no revocation endpoint; its tokens stay valid until they expire";
  }
  if (!tokens.refresh_token.empty()) {
    revoke(client, endpoints.revocation_endpoint, tokens.refresh_token, "refresh_token",
           tokens.client_id);
  }
  revoke(client, endpoints.revocation_endpoint, tokens.access_token, "access_token",
         tokens.client_id);
  return {};
}

}  // namespace gatehouse::client
