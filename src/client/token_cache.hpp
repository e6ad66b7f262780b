#pragma once
// The CLI's per-server token cache: one JSON file per origin in a private directory
// ($XDG_CONFIG_HOME/gatehouse, else ~/.config/gatehouse). The directory is 0700 and each file
// 0600 from the moment it exists; a file that other users could read, or that belongs to another
// user, is refused rather than used. Writes are atomic (temp file, fsync, rename), so a reader
// sees the old tokens or the new ones, never a torn file.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "gatehouse/client.hpp"

namespace gatehouse::client {

// What `gatehouse login` stores for one server.
struct CachedTokens {
  TokenSet tokens;
  std::string token_endpoint;  // OAuth 2.0 token endpoint (device flow, RFC 6749 refresh)
  std::string user;            // for messages only; may be empty
};

// A cache file or directory that cannot be used as it is: unsafe permissions, wrong owner,
// malformed contents, or an I/O error. The message names the file and what to do.
class TokenCacheError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "scheme://host:port" in lower case with the default port filled in (RFC 6454 §4); throws
// RequestError for anything but an absolute http(s) URL.
std::string origin_of(std::string_view url);

class TokenCache {
 public:
  explicit TokenCache(std::filesystem::path directory);
  // $XDG_CONFIG_HOME/gatehouse when XDG_CONFIG_HOME is an absolute path (XDG Base Directory
  // spec), else $HOME/.config/gatehouse; throws TokenCacheError when neither is known.
  static TokenCache from_environment();

  const std::filesystem::path& directory() const noexcept { return directory_; }
  // The file that holds the tokens of `url`'s origin: "<scheme>_<host>_<port>.json" with every
  // byte of the host outside [A-Za-z0-9.-] written as %XX (so distinct origins never share one).
  std::filesystem::path file_for(std::string_view url) const;

  // nullopt when there is no file for the origin.
  std::optional<CachedTokens> load(std::string_view url) const;
  // Creates the directory (0700) when needed and replaces the file atomically.
  void store(std::string_view url, const CachedTokens& tokens) const;
  // True when a file was deleted.
  bool remove(std::string_view url) const;

 private:
  std::filesystem::path directory_;
};

// The file format, exposed for tests: {access_token, refresh_token, expires_at, refresh_url,
// refresh_style ("gatehouse_json" | "oauth_form"), client_id, token_endpoint, user}.
std::string to_json(const CachedTokens& tokens);
CachedTokens cached_tokens_from_json(std::string_view text);  // throws TokenCacheError

}  // namespace gatehouse::client
