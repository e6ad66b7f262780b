#pragma once
// The configuration: plain structs whose member initializers are the documented defaults
// (docs/configuration.md), loaded from TOML by load_config() and checked by validate().
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse {

using Duration = std::chrono::milliseconds;

struct ServerConfig {
  std::vector<std::string> listen{"127.0.0.1:8000"};  // "HOST:PORT", "[::1]:PORT"
  int threads = 0;                                    // I/O threads; 0 = one per core
  int workers = 0;                                    // password-hash workers; 0 = one per core
  int hash_queue = 64;  // queued verifications before 503 + Retry-After
  std::string public_url = "http://localhost:8000";
  std::size_t max_header_bytes = 16384;
  std::size_t max_body_bytes = 1048576;
  Duration read_timeout = std::chrono::seconds(15);   // whole request: headers and body
  Duration idle_timeout = std::chrono::seconds(60);   // keep-alive wait for the next request
  Duration drain_timeout = std::chrono::seconds(10);  // graceful shutdown limit
  int max_connections = 10000;
};

struct LogConfig {
  std::string access = "-";  // "-" = stdout, "" = off, else a file path
  std::string level = "info";
};

struct StoreConfig {
  std::string url;  // "sqlite:PATH"; empty = sqlite:<data dir>/gatehouse.db
};

struct StaticUser {
  std::string name;
  std::string password;  // an encoded hash, or "{PLAIN}text" (tests and examples only)
  std::vector<std::string> roles{"User"};
};

struct BasicConfig {
  std::vector<std::string> stores{"db"};  // "db", "htpasswd:PATH", "static"
  Duration cache_ttl = std::chrono::seconds(60);
  std::size_t cache_entries = 10000;
};

struct ApiKeyConfig {
  bool header = true;           // Authorization: Apikey KEY and X-API-Key: KEY
  bool query = true;            // ?api_key=KEY
  bool allow_insecure = false;  // allow query keys on non-loopback listeners without TLS
};

struct DigestConfig {
  // Offered in this order, one challenge each; put the strongest first (RFC 7616 §3.7).
  std::vector<std::string> algorithms{"SHA-256", "MD5"};
  std::vector<std::string> qop{"auth", "auth-int"};
  Duration nonce_lifetime = std::chrono::seconds(300);
  std::vector<std::string> stores{"db"};  // "db", "static", "htdigest:PATH"
  bool userhash = false;                  // offer userhash=true (RFC 7616 §3.4.4)
};

struct AuthConfig {
  std::string realm = "gatehouse";
  std::vector<std::string> schemes{"apikey", "bearer", "basic"};
  BasicConfig basic;
  DigestConfig digest;
  ApiKeyConfig apikey;
  std::vector<std::string> htpasswd_roles{"User"};  // roles given to htpasswd/htdigest users
  std::vector<StaticUser> static_users;             // [[auth.static.users]]
};

// Access and refresh tokens (SPEC §6). Enabled with the "bearer" scheme; needs the database.
struct TokensConfig {
  std::string issuer;                  // "iss"; empty = server.public_url
  std::string audience = "gatehouse";  // "aud" of the access tokens we issue and accept
  std::string alg = "EdDSA";           // EdDSA, ES256, RS256 or HS256
  Duration access_ttl = std::chrono::minutes(10);
  Duration refresh_ttl = std::chrono::days(14);
  Duration session_max_age = std::chrono::days(30);  // absolute, from login
  Duration session_idle = std::chrono::days(14);     // since the last login or refresh
  Duration reuse_grace = std::chrono::seconds(10);   // a retired refresh token gets the same pair
  Duration key_rotation = std::chrono::days(30);     // 0 = only by `gatehouse signing-key rotate`
  Duration leeway = std::chrono::seconds(30);        // clock skew allowed on exp/nbf/iat
  std::size_t cache_entries = 100000;                // verified access tokens kept in memory
  // Who may call POST /auth/introspect besides Admin (resource servers' service accounts).
  std::vector<std::string> introspection_roles{"Admin"};
};

// Roundup's API CSRF header policy (csrf = "headers"): each of "required", "yes", "logfailure" or
// "no", as Roundup's csrf_enforce_header_* settings.
struct CsrfHeadersConfig {
  std::string referer = "yes";
  std::string origin = "yes";
  std::string x_forwarded_host = "yes";
  std::string host = "yes";
  std::string x_requested_with = "yes";  // on the tracker's REST/XML-RPC only, as in Roundup
  int header_min_count = 1;
};

// Failed-login throttling, CSRF and CORS (SPEC §10).
struct GuardConfig {
  // GCRA per user name (Roundup's api_failed_login_limit/interval); 0 = off.
  int failed_login_limit = 4;
  Duration failed_login_period = std::chrono::seconds(600);
  // GCRA per client address, against password spraying across user names; 0 = off.
  int address_failed_login_limit = 100;
  Duration address_failed_login_period = std::chrono::seconds(600);
  std::string csrf = "tokenless";  // "tokenless", "headers" (Roundup's policy) or "off"
  // Exact "scheme://host[:port]" origins trusted for CSRF and answered for CORS; "*" may only
  // come first and then matches only requests without credentials.
  std::vector<std::string> allowed_origins;
  CsrfHeadersConfig csrf_headers;
};

// One tracker mounted at /{name}/ (SPEC §9).
struct TrackerConfig {
  std::string name = "demo";
  std::string schema = "classic";  // "classic" (built in) or the path of a schema file
  bool demo_data = true;           // load the classic demo data on first start
};

struct CompatConfig {
  bool auth_adventures = false;
};

struct Config {
  ServerConfig server;
  LogConfig log;
  StoreConfig store;
  AuthConfig auth;
  TokensConfig tokens;
  GuardConfig guard;
  // The trackers. None in a default-constructed Config (an embedding program adds its own); a
  // config file without a [tracker] table, and `gatehouse serve` without a file, mount the demo
  // tracker; a [tracker] table lists them exactly (an empty one mounts none).
  std::vector<TrackerConfig> trackers;
  CompatConfig compat;
  std::string data_dir = "gatehouse-data";
  std::string source;  // file it came from, for messages ("" = built-in defaults)

  // The store URL with the data-dir default applied.
  std::string store_url() const;
  // tokens.issuer, or server.public_url when that is empty.
  std::string issuer() const;
};

// Every problem found, each naming the file, line and key ("gatehouse.toml:12: auth.schemes: ...").
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// The configuration `gatehouse serve` uses without a file: the defaults and the demo tracker.
Config default_server_config();
// Parses and validates a TOML file; unknown keys are errors. Throws ConfigError.
Config load_config(const std::string& path);
Config parse_config(std::string_view toml_text, const std::string& source_name);
// Checks combinations (unknown scheme or store, bad listen address, ...). Empty = valid.
std::vector<std::string> validate(const Config& config);
// "250ms", "15s", "10m", "2h", "14d", or a bare integer (seconds); nullopt when malformed.
std::optional<Duration> parse_duration(std::string_view text);
// The effective configuration as TOML, for check-config.
std::string to_toml(const Config& config);

}  // namespace gatehouse
