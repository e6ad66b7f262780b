#include "stores/htpasswd_store.hpp"

#include "util/string_map.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <stdexcept>

namespace gatehouse::stores {
namespace {

constexpr std::size_t kMaxLineBytes = 4096;
constexpr off_t kMaxFileBytes = 64 * 1024 * 1024;
// A file modified this recently may be modified again within the file system's timestamp
// granularity without its size changing, so it is re-read on every refresh until it is older
// (the "racily clean" rule git uses for its index).
constexpr std::time_t kRacySeconds = 2;

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::time_t mtime_seconds = 0;
  long mtime_nanoseconds = 0;

  static FileIdentity of(const struct stat& status) noexcept {
    return {status.st_dev, status.st_ino, status.st_size, status.st_mtim.tv_sec,
            status.st_mtim.tv_nsec};
  }
  bool operator==(const FileIdentity&) const = default;
};

bool modified_recently(const FileIdentity& identity) noexcept {
  timespec now{};
  if (clock_gettime(CLOCK_REALTIME, &now) != 0) return true;
  return identity.mtime_seconds >= now.tv_sec - kRacySeconds;
}

std::string describe_errno(const std::string& path, const char* what, int error) {
  return "htpasswd file " + path + ": " + what + ": " + std::strerror(error);
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

bool has_control_char(std::string_view text) noexcept {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::variant<std::monostate, HtpasswdEntry, std::string> parse_htpasswd_line(
    std::string_view line) {
  if (line.size() > kMaxLineBytes) return std::string("line longer than 4096 bytes");
  if (line.ends_with('\r')) line.remove_suffix(1);
  if (line.find('\0') != line.npos) return std::string("NUL byte in line");
  if (line.find_first_not_of(" \t") == line.npos) return std::monostate{};
  if (line.starts_with('#')) return std::monostate{};

  const std::size_t colon = line.find(':');
  if (colon == line.npos) return std::string("no ':' between user name and hash");
  const std::string_view username = line.substr(0, colon);
  // As Apache's mod_authn_file: the hash ends at the next ':' ("user:hash:comment" works).
  std::string_view hash = line.substr(colon + 1);
  hash = hash.substr(0, hash.find(':'));
  if (username.empty()) return std::string("empty user name");
  if (has_control_char(username)) return std::string("control character in user name");
  if (hash.empty()) return std::string("empty hash");
  return HtpasswdEntry{std::string(username), std::string(hash)};
}

namespace {

struct FileContents {
  util::StringMap<std::string> hashes;
  FileIdentity identity;
  bool racy = true;  // see kRacySeconds
  std::size_t skipped_lines = 0;
};

// Reads and parses the whole file. Throws std::runtime_error naming the path.
FileContents load_htpasswd_file(const std::string& path) {
  const FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (file.get() < 0) throw std::runtime_error(describe_errno(path, "cannot open", errno));
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) {
    throw std::runtime_error(describe_errno(path, "cannot stat", errno));
  }
  if (!S_ISREG(status.st_mode)) {
    throw std::runtime_error("htpasswd file " + path + ": not a regular file");
  }
  if (status.st_size > kMaxFileBytes) {
    throw std::runtime_error("htpasswd file " + path + ": larger than 64 MiB");
  }

  std::string content;
  content.reserve(static_cast<std::size_t>(status.st_size));
  char buffer[65536];
  for (;;) {
    const ssize_t got = ::read(file.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw std::runtime_error(describe_errno(path, "cannot read", errno));
    if (got == 0) break;
    content.append(buffer, static_cast<std::size_t>(got));
    if (content.size() > static_cast<std::size_t>(kMaxFileBytes)) {
      throw std::runtime_error("htpasswd file " + path + ": larger than 64 MiB");
    }
  }

  FileContents snapshot;
  snapshot.identity = FileIdentity::of(status);
  snapshot.racy = modified_recently(snapshot.identity);
  std::string_view rest = content;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == rest.npos ? rest.size() : newline + 1);
    auto parsed = parse_htpasswd_line(line);
    if (auto* entry = std::get_if<HtpasswdEntry>(&parsed)) {
      snapshot.hashes.try_emplace(std::move(entry->username), std::move(entry->hash));
    } else if (std::holds_alternative<std::string>(parsed)) {
      ++snapshot.skipped_lines;
    }
  }
  return snapshot;
}

}  // namespace

struct HtpasswdStore::Snapshot {
  FileContents file;
};

HtpasswdStore::HtpasswdStore(std::string path, std::vector<std::string> roles)
    : path_(std::move(path)),
      name_("htpasswd:" + path_),
      roles_(std::move(roles)),
      snapshot_(std::make_shared<const Snapshot>(Snapshot{load_htpasswd_file(path_)})) {}

PasswordLookup HtpasswdStore::find_password(std::string_view username) const {
  std::shared_ptr<const Snapshot> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = snapshot_;
  }
  const auto found = snapshot->file.hashes.find(username);
  if (found == snapshot->file.hashes.end()) return {LookupStatus::unknown_user, {}, {}};
  return {LookupStatus::found, PasswordRecord{found->first, found->second, roles_, false}, {}};
}

void HtpasswdStore::refresh() noexcept {
  try {
    std::shared_ptr<const Snapshot> current;
    {
      std::lock_guard lock(mutex_);
      current = snapshot_;
    }
    struct stat status {};
    if (::stat(path_.c_str(), &status) != 0) return;  // gone for now: keep serving the last read
    if (!current->file.racy && FileIdentity::of(status) == current->file.identity) return;
    auto fresh = std::make_shared<const Snapshot>(Snapshot{load_htpasswd_file(path_)});
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(fresh);
  } catch (...) {
    // Unreadable or half-replaced file, or no memory: keep serving the last good snapshot.
  }
}

std::size_t HtpasswdStore::skipped_lines() const {
  std::lock_guard lock(mutex_);
  return snapshot_->file.skipped_lines;
}

}  // namespace gatehouse::stores
