#include "stores/htpasswd_store.hpp"

#include "stores/watched_file.hpp"
#include "util/encoding.hpp"
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
  if (util::has_control_chars(username)) return std::string("control character in user name");
  if (hash.empty()) return std::string("empty hash");
  return HtpasswdEntry{std::string(username), std::string(hash)};
}

namespace {

struct FileContents {
  util::StringMap<std::string> hashes;
  FileVersion version;
  std::size_t skipped_lines = 0;
};

// Reads and parses the whole file. Throws std::runtime_error naming the path.
FileContents load_htpasswd_file(const std::string& path) {
  const FileText text = read_credential_file(path, "htpasswd");
  FileContents snapshot;
  snapshot.version = text.version;
  for_each_line(text.content, [&](std::string_view line) {
    auto parsed = parse_htpasswd_line(line);
    if (auto* entry = std::get_if<HtpasswdEntry>(&parsed)) {
      snapshot.hashes.try_emplace(std::move(entry->username), std::move(entry->hash));
    } else if (std::holds_alternative<std::string>(parsed)) {
      ++snapshot.skipped_lines;
    }
  });
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
    if (!may_have_changed(path_, current->file.version)) return;
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
