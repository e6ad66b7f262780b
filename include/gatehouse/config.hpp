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

struct CompatConfig {
  bool auth_adventures = false;
};

struct Config {
  ServerConfig server;
  LogConfig log;
  StoreConfig store;
  AuthConfig auth;
  TokensConfig tokens;
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
