#pragma once
// gatehouse's HTTP client: one core (HTTP/1.1 over Boost.Beast, TLS with OpenSSL, keep-alive,
// redirects, timeouts, proxies from the environment) with pluggable authentication in the spirit
// of httpx's `Auth` flows. Sync and async APIs share one connection pool and one set of auth
// handlers, so a Bearer refresh is single-flight across both.
//
//   gatehouse::client::Client client;                                // owns one I/O thread
//   client.set_auth(gatehouse::client::digest_auth("demo", gatehouse::Secret{"demo"}));
//   auto response = client.get("http://127.0.0.1:8000/auth/whoami");
//
// Errors: the sync API throws the exception types below; the async API hands the same exception
// to the completion handler as a std::exception_ptr (nothing throws across an Asio handler).
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gatehouse/secret.hpp"

namespace boost::asio {
class io_context;
}

namespace gatehouse::client {

// Header fields in order; names compared case-insensitively, duplicates allowed.
using Headers = std::vector<std::pair<std::string, std::string>>;

class Auth;

struct Request {
  std::string method = "GET";
  std::string url;  // absolute http:// or https:// URL
  Headers headers;
  std::string body;
  // Overrides the client's auth for this request; no_auth() sends none.
  std::shared_ptr<Auth> auth;

  const std::string* header(std::string_view name) const noexcept;  // first value, or null
  void set_header(std::string_view name, std::string value);        // replaces every value
  void remove_header(std::string_view name);
};

struct Response {
  unsigned status = 0;
  std::string reason;
  Headers headers;
  std::string body;
  // The URL that produced this response (after redirects), as sent: it may hold a credential
  // (ApiKeyPlacement::query's api_key), so do not log it as is.
  std::string url;
  std::string proxy;  // host of the proxy the request went through; empty when direct

  const std::string* header(std::string_view name) const noexcept;  // first value, or null
  std::vector<std::string> headers_named(std::string_view name) const;
};

struct Options {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{30'000};  // per request, send to last body byte
  bool follow_redirects = true;
  int max_redirects = 10;
  bool verify_tls = true;   // peer chain and hostname (RFC 6125); --insecure turns it off
  std::string ca_file;      // PEM bundle; empty = the system store
  std::string http_proxy;   // "http://host:port"; empty = direct
  std::string https_proxy;  // CONNECT tunnel through this proxy
  std::string no_proxy;     // comma list of hosts/domains/"*" (curl's rules)
  std::size_t max_response_bytes = 64u << 20;
  std::size_t max_idle_connections_per_origin = 8;
  // A pooled connection idle for longer is closed rather than reused (httpx's keepalive_expiry):
  // servers close idle connections after a few seconds, and a request racing that close fails.
  std::chrono::milliseconds keepalive_expiry{5'000};
  std::string user_agent = "gatehouse-client";
};
// Options with the proxies from http_proxy/https_proxy/no_proxy (also upper case; curl's rules:
// HTTP_PROXY upper case is ignored).
Options options_from_environment();

// ---------------------------------------------------------------------------------------------
// Errors
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Connect, TLS, proxy, malformed response, too many redirects, response too large.
class TransportError : public Error {
 public:
  using Error::Error;
};
class TimeoutError : public TransportError {
 public:
  using TransportError::TransportError;
};
// A bad URL or request (no scheme, unsupported scheme, header injection).
class RequestError : public Error {
 public:
  using Error::Error;
};
// Bearer: the refresh token was refused (or there was none) — "session expired: log in again".
class SessionExpiredError : public Error {
 public:
  using Error::Error;
};
// Negotiate (httpx-gssapi's names): the server's token could not be verified, or a REQUIRED
// mutual authentication got no token. Carries the response that failed.
class MutualAuthenticationError : public Error {
 public:
  MutualAuthenticationError(std::string what, Response response)
      : Error(std::move(what)), response_(std::move(response)) {}
  const Response& response() const noexcept { return response_; }

 private:
  Response response_;
};
// Negotiate: a GSSAPI init/step failed: "<stage> context failed: <gss message>".
class SpnegoExchangeError : public Error {
 public:
  using Error::Error;
};

// ---------------------------------------------------------------------------------------------
// Authentication. An Auth is shared by every request of a client (it holds long-lived state: the
// Digest nonce and count, the bearer tokens); each request exchange gets its own AuthFlow.
enum class Next {
  done,   // hand the response to the caller
  retry,  // prepare() again and resend (the client caps an exchange at 6 sends)
  renew,  // Auth::async_renew, then prepare() again and resend once; at most once per exchange
};

class AuthFlow {
 public:
  virtual ~AuthFlow() = default;
  // Before every send of this exchange: the first and each retry. May set headers.
  virtual void prepare(Request& request) = 0;
  // After every response. May edit the response (e.g. sanitize it). Throws an Error to fail the
  // exchange (the sync API rethrows it; the async API passes it on).
  virtual Next on_response(Request& request, Response& response) = 0;
  // Asked once, before the first send: true makes the client renew first (Auth::async_renew with
  // the request as prepare() made it), e.g. a bearer token already known to have expired; this
  // counts as the exchange's one renewal. Default: false.
  virtual bool renew_before_send() { return false; }
};

class Client;

class Auth {
 public:
  virtual ~Auth() = default;
  virtual std::unique_ptr<AuthFlow> start(const Request& request) = 0;
  // Renew credentials after a flow answered Next::renew (bearer refresh). Completes exactly once,
  // on any thread of the client's I/O context, with null on success. Default: fails.
  // `client` shares the calling client's connections and auth and stays valid until `done` is
  // called, even when the caller's Client is destroyed meanwhile (its sends then fail with
  // TransportError "the client was shut down").
  virtual void async_renew(Client& client, const Request& failed,
                           std::function<void(std::exception_ptr)> done);
};

std::shared_ptr<Auth> no_auth();
// RFC 7617, charset UTF-8. Sent preemptively (like curl -u) when `preemptive`, else after a 401
// that offers Basic.
std::shared_ptr<Auth> basic_auth(std::string user, Secret password, bool preemptive = true);
// RFC 7616: MD5, SHA-256, SHA-512-256 and -sess; qop auth/auth-int; the strongest offered
// algorithm; nc counting per nonce; stale=true retried without new credentials; rspauth in
// Authentication-Info verified when present (a mismatch is a TransportError).
std::shared_ptr<Auth> digest_auth(std::string user, Secret password);

enum class ApiKeyPlacement { authorization, x_api_key, query };
// `Authorization: Apikey KEY` (default), `X-API-Key: KEY`, or `?api_key=KEY` (only over https
// unless allow_insecure_query).
std::shared_ptr<Auth> api_key_auth(Secret key,
                                   ApiKeyPlacement placement = ApiKeyPlacement::authorization,
                                   bool allow_insecure_query = false);

struct TokenSet {
  Secret access_token;
  Secret refresh_token;
  std::int64_t expires_at = 0;  // access token expiry, unix seconds; 0 = unknown
  // Where to refresh. gatehouse: "<base>/auth/refresh" (JSON body); any OAuth 2.0 server:
  // its token endpoint (form body, grant_type=refresh_token, client_id when set).
  std::string refresh_url;
  enum class RefreshStyle {
    gatehouse_json,
    oauth_form
  } refresh_style = RefreshStyle::gatehouse_json;
  std::string client_id;

  // Tokens of a gatehouse server at `base_url` ("http://host:port"): refreshed at
  // base_url + "/auth/refresh".
  static TokenSet gatehouse(std::string_view base_url, Secret access_token, Secret refresh_token);
};

class BearerAuth : public Auth {
 public:
  // `on_refreshed` is called (on the I/O thread, under no lock) with every new token set, e.g. to
  // write the token cache.
  virtual TokenSet tokens() const = 0;
  virtual std::uint64_t refresh_count() const noexcept = 0;
};
// Bearer with transparent refresh: a 401 makes one refresh for any number of concurrent requests
// (single-flight), then one retry each; a refused refresh fails every waiter with
// SessionExpiredError("session expired: log in again").
std::shared_ptr<BearerAuth> bearer_auth(TokenSet tokens,
                                        std::function<void(const TokenSet&)> on_refreshed = {});

enum class MutualAuthentication { required = 1, optional = 2, disabled = 3 };  // httpx-gssapi
enum class Mechanism { spnego, krb5 };
struct NegotiateOptions {
  MutualAuthentication mutual_authentication = MutualAuthentication::disabled;
  bool sanitize_mutual_error_response = true;
  bool opportunistic_auth = false;
  bool delegate = false;
  std::string target_name;  // "HTTP" (default) → HTTP@<host>; a name with '@' is used as is
  std::string principal;    // explicit initiator name; empty = the default ccache's
  std::string ccache;       // explicit credential cache ("FILE:/path"); empty = default
  Mechanism mechanism = Mechanism::spnego;
};
// RFC 4559 SPNEGO with MIT GSSAPI, httpx-gssapi's semantics; also answers proxy 407 challenges
// with Proxy-Authorization.
std::shared_ptr<Auth> negotiate_auth(NegotiateOptions options = {});

// Picks from the server's challenges (strongest first: Negotiate when a Kerberos ticket is
// available, Bearer when tokens are given, Digest, Basic) whatever the given credentials allow.
struct AutoCredentials {
  std::string user;
  std::optional<Secret> password;
  std::optional<Secret> api_key;
  std::shared_ptr<BearerAuth> bearer;
  std::optional<NegotiateOptions> negotiate;
};
std::shared_ptr<Auth> auto_auth(AutoCredentials credentials);

// ---------------------------------------------------------------------------------------------
class Client {
 public:
  // Owns one I/O thread; use the sync API (or async with handlers run on that thread).
  explicit Client(Options options = options_from_environment());
  // Runs on the caller's io_context; the caller runs it. Sync send() must not be called from a
  // thread that runs `io`.
  explicit Client(boost::asio::io_context& io, Options options = options_from_environment());
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void set_auth(std::shared_ptr<Auth> auth);
  std::shared_ptr<Auth> auth() const;
  const Options& options() const noexcept;

  // Blocking; safe from any number of threads (not from the client's I/O thread).
  Response send(Request request);
  Response get(std::string url, Headers headers = {});

  using Handler = std::function<void(std::exception_ptr, Response)>;
  // Completes exactly once, on the client's I/O context.
  void async_send(Request request, Handler handler);

 private:
  struct Impl;
  explicit Client(std::shared_ptr<Impl> impl) noexcept;  // the facade Auth::async_renew gets
  std::shared_ptr<Impl> impl_;
};

}  // namespace gatehouse::client
