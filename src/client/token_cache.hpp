#pragma once
// The CLI's per-server token cache: one JSON file per origin in a private directory
// ($XDG_CONFIG_HOME/gatehouse, else ~/.config/gatehouse). The directory is 0700 and each file
// 0600 from the moment it exists; a file that other users could read, or that belongs to another
// user, is refused rather than used. Writes are atomic (temp file, fsync, rename), so a reader
// sees the old tokens or the new ones, never a torn file.
//
// Writers that must not interleave (a refresh and the store of its result, a login) hold the
// origin's advisory lock: flock(2) on "<file>.lock" beside the token file. Refresh tokens are
// single use on most servers (gatehouse outside its reuse_grace; RFC 9700 §4.14.2 rotation), so
// two processes refreshing with the same one would end the session.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

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
  // An exclusive flock(2) on an origin's lock file, released when this object dies (or the
  // process exits). Movable, not copyable.
  class Lock {
   public:
    Lock() = default;
    explicit Lock(int fd) noexcept : fd_(fd) {}
    Lock(Lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Lock& operator=(Lock&& other) noexcept;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    ~Lock();
    bool held() const noexcept { return fd_ >= 0; }

   private:
    int fd_ = -1;
  };

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
  // Creates the directory (0700) when needed, opens "<file_for(url)>.lock" (0600, ours, a
  // regular file, never through a symbolic link) and blocks until it holds an exclusive flock
  // on it. The holder of a lock is bounded by its request timeout; a dead holder's lock is
  // released by the kernel. Throws TokenCacheError. load() and store() do not lock: a caller
  // holds the lock around whatever must be atomic (reload, refresh, store).
  Lock lock(std::string_view url) const;

 private:
  std::filesystem::path directory_;
};

// The file format, exposed for tests: {access_token, refresh_token, expires_at, refresh_url,
// refresh_style ("gatehouse_json" | "oauth_form"), client_id, token_endpoint, user}.
std::string to_json(const CachedTokens& tokens);
CachedTokens cached_tokens_from_json(std::string_view text);  // throws TokenCacheError

}  // namespace gatehouse::client
