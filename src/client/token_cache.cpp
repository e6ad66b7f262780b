#include "client/token_cache.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "client/url.hpp"
#include "util/encoding.hpp"

namespace gatehouse::client {
namespace {

constexpr std::size_t kMaxFileBytes = 64 * 1024;

std::string errno_text(int error) {
  return std::strerror(error);
}

// Overwrites a buffer that held tokens before it is freed.
void wipe(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

const char* style_name(TokenSet::RefreshStyle style) {
  switch (style) {
    case TokenSet::RefreshStyle::gatehouse_json:
      return "gatehouse_json";
    case TokenSet::RefreshStyle::oauth_form:
      return "oauth_form";
  }
  return "gatehouse_json";
}

// The directory must be ours and writable by nobody else, or another user could swap files.
void check_directory(const std::filesystem::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    throw TokenCacheError("token cache " + dir.string() + ": " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    throw TokenCacheError("token cache " + dir.string() + " is not a directory");
  }
  if (st.st_uid != ::geteuid()) {
    throw TokenCacheError("refusing to use token cache " + dir.string() +
                          ": it belongs to another user (uid " + std::to_string(st.st_uid) + ")");
  }
  if ((st.st_mode & 022) != 0) {
    throw TokenCacheError("refusing to use token cache " + dir.string() + ": mode " +
                          octal_mode(st.st_mode) + " lets other users change it; chmod 700 " +
                          dir.string());
  }
}

std::string string_member(const boost::json::object& o, const char* name, bool required) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) throw TokenCacheError(std::string("no \"") + name + "\"");
    return {};
  }
  if (!v->is_string()) throw TokenCacheError(std::string("\"") + name + "\" is not a string");
  return std::string(v->get_string());
}

}  // namespace

std::string origin_of(std::string_view url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) throw RequestError("not an absolute URL: " + detail::redact_url(url));
  std::string scheme(parsed->scheme());
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") {
    throw RequestError("not an http(s) URL: " + detail::redact_url(url));
  }
  std::string host(parsed->encoded_host_address());
  if (host.empty()) throw RequestError("no host in URL: " + detail::redact_url(url));
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string port(parsed->port());
  if (port.empty()) port = scheme == "https" ? "443" : "80";
  if (parsed->host_type() == boost::urls::host_type::ipv6 ||
      parsed->host_type() == boost::urls::host_type::ipvfuture) {
    if (!host.starts_with('[')) host = "[" + host + "]";
  }
  return scheme + "://" + host + ":" + port;
}

TokenCache::TokenCache(std::filesystem::path directory) : directory_(std::move(directory)) {}

TokenCache TokenCache::from_environment() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') return TokenCache(std::filesystem::path(xdg) / "gatehouse");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') {
    return TokenCache(std::filesystem::path(home) / ".config" / "gatehouse");
  }
  throw TokenCacheError(
      "no place for the token cache: set HOME or XDG_CONFIG_HOME to an absolute path");
}

std::filesystem::path TokenCache::file_for(std::string_view url) const {
  const std::string origin = origin_of(url);
  const auto scheme_end = origin.find("://");
  const auto port_start = origin.rfind(':');
  const std::string scheme = origin.substr(0, scheme_end);
  const std::string host = origin.substr(scheme_end + 3, port_start - scheme_end - 3);
  std::string name = scheme + "_";
  static constexpr char hex[] = "0123456789ABCDEF";
  for (const unsigned char c : host) {
    if (std::isalnum(c) || c == '.' || c == '-') {
      name.push_back(static_cast<char>(c));
    } else {
      name += {'%', hex[c >> 4], hex[c & 15]};
    }
  }
  name += "_" + origin.substr(port_start + 1) + ".json";
  return directory_ / name;
}

std::optional<CachedTokens> TokenCache::load(std::string_view url) const {
  const auto path = file_for(url);
  {
    struct stat st {};
    if (::lstat(directory_.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
  }
  check_directory(directory_);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) {
      throw TokenCacheError("refusing to read " + path.string() + ": it is a symbolic link");
    }
    throw TokenCacheError("cannot read " + path.string() + ": " + errno_text(errno));
  }
  struct stat st {};
  std::string text;
  std::string problem;
  if (::fstat(fd, &st) != 0) {
    problem = "cannot read " + path.string() + ": " + errno_text(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = "refusing to read " + path.string() + ": not a regular file";
  } else if (st.st_uid != ::geteuid()) {
    problem = "refusing to read " + path.string() + ": it belongs to another user (uid " +
              std::to_string(st.st_uid) + ")";
  } else if ((st.st_mode & 077) != 0) {
    problem = "refusing to read " + path.string() + ": mode " + octal_mode(st.st_mode) +
              " lets other users read or change it; chmod 600 " + path.string() +
              " or log in again";
  } else if (static_cast<std::size_t>(st.st_size) > kMaxFileBytes) {
    problem = path.string() + ": larger than " + std::to_string(kMaxFileBytes) + " bytes";
  } else {
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        problem = "cannot read " + path.string() + ": " + (n < 0 ? errno_text(errno) : "truncated");
        break;
      }
      got += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  if (!problem.empty()) {
    wipe(text);
    throw TokenCacheError(problem);
  }
  try {
    auto tokens = cached_tokens_from_json(text);
    wipe(text);
    return tokens;
  } catch (const TokenCacheError& e) {
    wipe(text);
    throw TokenCacheError(path.string() + ": " + e.what() + "; log in again");
  }
}

namespace {

// Creates `directory` (0700) and its parents when needed; tightens an existing one of ours that
// others could read; then checks it as check_directory does.
void ensure_directory(const std::filesystem::path& directory) {
  std::error_code ec;
  if (const auto parent = directory.parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) throw TokenCacheError("cannot create " + parent.string() + ": " + ec.message());
  }
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    throw TokenCacheError("cannot create " + directory.string() + ": " + errno_text(errno));
  }
  {
    // An existing directory of ours that is too open is tightened, not trusted as it is.
    struct stat st {};
    if (::lstat(directory.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
        (st.st_mode & 077) != 0) {
      ::chmod(directory.c_str(), 0700);
    }
  }
  check_directory(directory);
}

}  // namespace

TokenCache::Lock& TokenCache::Lock::operator=(Lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

TokenCache::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

TokenCache::Lock TokenCache::lock(std::string_view url) const {
  const std::string path = file_for(url).string() + ".lock";
  ensure_directory(directory_);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == ELOOP) {
      throw TokenCacheError("refusing to use " + path + ": it is a symbolic link");
    }
    throw TokenCacheError("cannot open " + path + ": " + errno_text(errno));
  }
  Lock lock(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw TokenCacheError("cannot stat " + path + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode))
    throw TokenCacheError("refusing to use " + path + ": not a regular file");
  if (st.st_uid != ::geteuid()) {
    throw TokenCacheError("refusing to use " + path + ": it belongs to another user (uid " +
                          std::to_string(st.st_uid) + ")");
  }
  if ((st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) {
    throw TokenCacheError("cannot chmod " + path + ": " + errno_text(errno));
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) throw TokenCacheError("cannot lock " + path + ": " + errno_text(errno));
  }
  return lock;
}

void TokenCache::store(std::string_view url, const CachedTokens& tokens) const {
  const auto path = file_for(url);
  ensure_directory(directory_);

  std::string text = to_json(tokens);
  const std::string tmp = (directory_ / ("." + path.filename().string() + ".tmp-" +
                                         util::hex_encode(util::random_bytes(8))))
                              .string();
  // 0600 from creation: the tokens are never readable by anyone else, not even briefly.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    wipe(text);
    throw TokenCacheError("cannot create " + tmp + ": " + errno_text(errno));
  }
  std::string problem;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = "cannot write " + tmp + ": " + errno_text(errno);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  wipe(text);
  // fchmod guards against a umask-free filesystem that ignored the creation mode.
  if (problem.empty() && ::fchmod(fd, 0600) != 0) problem = "cannot chmod " + tmp;
  if (problem.empty() && ::fsync(fd) != 0)
    problem = "cannot sync " + tmp + ": " + errno_text(errno);
  if (::close(fd) != 0 && problem.empty())
    problem = "cannot write " + tmp + ": " + errno_text(errno);
  if (problem.empty() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    problem = "cannot replace " + path.string() + ": " + errno_text(errno);
  }
  if (!problem.empty()) {
    ::unlink(tmp.c_str());
    throw TokenCacheError(problem);
  }
  // The rename itself is durable once the directory is synced.
  if (const int dfd = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

bool TokenCache::remove(std::string_view url) const {
  const auto path = file_for(url);
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw TokenCacheError("cannot delete " + path.string() + ": " + errno_text(errno));
}

std::string to_json(const CachedTokens& t) {
  boost::json::object o;
  o["access_token"] = t.tokens.access_token.reveal();
  o["refresh_token"] = t.tokens.refresh_token.reveal();
  o["expires_at"] = t.tokens.expires_at;
  o["refresh_url"] = t.tokens.refresh_url;
  o["refresh_style"] = style_name(t.tokens.refresh_style);
  o["client_id"] = t.tokens.client_id;
  o["token_endpoint"] = t.token_endpoint;
  o["user"] = t.user;
  std::string text = boost::json::serialize(o) + "\n";
  for (auto* key : {"access_token", "refresh_token"}) {
    auto& s = o[key].as_string();
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  }
  return text;
}

CachedTokens cached_tokens_from_json(std::string_view text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) throw TokenCacheError("not a JSON object");
  auto& o = value.as_object();
  CachedTokens t;
  t.tokens.access_token = Secret(string_member(o, "access_token", true));
  t.tokens.refresh_token = Secret(string_member(o, "refresh_token", false));
  if (const auto* e = o.if_contains("expires_at"); e != nullptr && !e->is_null()) {
    if (e->is_int64()) {
      t.tokens.expires_at = e->get_int64();
    } else if (e->is_uint64()) {
      t.tokens.expires_at = static_cast<std::int64_t>(e->get_uint64());
    } else {
      throw TokenCacheError("\"expires_at\" is not an integer");
    }
  }
  t.tokens.refresh_url = string_member(o, "refresh_url", false);
  const std::string style = string_member(o, "refresh_style", false);
  if (style.empty() || style == "gatehouse_json") {
    t.tokens.refresh_style = TokenSet::RefreshStyle::gatehouse_json;
  } else if (style == "oauth_form") {
    t.tokens.refresh_style = TokenSet::RefreshStyle::oauth_form;
  } else {
    throw TokenCacheError("unknown refresh_style \"" + style + "\"");
  }
  t.tokens.client_id = string_member(o, "client_id", false);
  t.token_endpoint = string_member(o, "token_endpoint", false);
  t.user = string_member(o, "user", false);
  for (auto* key : {"access_token", "refresh_token"}) {
    if (auto* v = o.if_contains(key); v != nullptr && v->is_string() && !v->get_string().empty()) {
      OPENSSL_cleanse(v->get_string().data(), v->get_string().size());
    }
  }
  return t;
}

}  // namespace gatehouse::client
