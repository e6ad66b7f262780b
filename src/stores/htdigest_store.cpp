#include "stores/htdigest_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <stdexcept>

#include "schemes/digest_compute.hpp"
#include "stores/watched_file.hpp"
#include "util/encoding.hpp"
#include "util/string_map.hpp"

namespace gatehouse::stores {
namespace {

constexpr std::size_t kMaxLineBytes = 4096;
constexpr std::size_t kAlgorithms = 3;
constexpr std::array<Ha1Algorithm, kAlgorithms> kAllAlgorithms = {
    Ha1Algorithm::md5, Ha1Algorithm::sha256, Ha1Algorithm::sha512_256};

std::size_t index_of(Ha1Algorithm algorithm) noexcept {
  switch (algorithm) {
    case Ha1Algorithm::md5:
      return 0;
    case Ha1Algorithm::sha256:
      return 1;
    case Ha1Algorithm::sha512_256:
      return 2;
  }
  return 0;
}

std::size_t hex_digits(Ha1Algorithm algorithm) noexcept {
  return algorithm == Ha1Algorithm::md5 ? 32 : 64;
}

bool is_hex(std::string_view text) noexcept {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string lower_hex(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The base algorithm named by a file's algorithm field; nullopt for anything else (-sess too).
std::optional<Ha1Algorithm> parse_file_algorithm(std::string_view name) noexcept {
  const auto parsed = schemes::parse_digest_algorithm(name);
  if (!parsed) return std::nullopt;
  switch (*parsed) {
    case schemes::DigestAlgorithm::md5:
      return Ha1Algorithm::md5;
    case schemes::DigestAlgorithm::sha256:
      return Ha1Algorithm::sha256;
    case schemes::DigestAlgorithm::sha512_256:
      return Ha1Algorithm::sha512_256;
    default:
      return std::nullopt;
  }
}

// The next ':'-separated field of `rest`, removed from it with its ':'.
std::string_view next_field(std::string_view& rest) noexcept {
  const std::size_t colon = rest.find(':');
  const std::string_view field = rest.substr(0, colon);
  rest.remove_prefix(colon == rest.npos ? rest.size() : colon + 1);
  return field;
}

}  // namespace

std::string_view to_string(Ha1Algorithm algorithm) noexcept {
  return schemes::to_string(schemes::to_digest_algorithm(algorithm));
}

std::string format_htdigest_line(const HtdigestEntry& entry) {
  std::string line = entry.username + ":" + entry.realm + ":";
  if (entry.algorithm != Ha1Algorithm::md5) {
    line += to_string(entry.algorithm);
    line += ':';
  }
  return line + entry.ha1;
}

std::variant<std::monostate, HtdigestEntry, std::string> parse_htdigest_line(
    std::string_view line) {
  if (line.size() > kMaxLineBytes) return std::string("line longer than 4096 bytes");
  if (line.ends_with('\r')) line.remove_suffix(1);
  if (line.find('\0') != line.npos) return std::string("NUL byte in line");
  if (line.find_first_not_of(" \t") == line.npos) return std::monostate{};
  if (line.starts_with('#')) return std::monostate{};

  std::string_view rest = line;
  const std::size_t fields =
      static_cast<std::size_t>(std::count(line.begin(), line.end(), ':')) + 1;
  if (fields < 3) return std::string("expected user:realm:HA1 or user:realm:ALGORITHM:HA1");
  const std::string_view username = next_field(rest);
  const std::string_view realm = next_field(rest);
  if (username.empty()) return std::string("empty user name");
  if (util::has_control_chars(username)) return std::string("control character in user name");
  if (realm.empty()) return std::string("empty realm");
  if (util::has_control_chars(realm)) return std::string("control character in realm");

  // The field after the realm is the MD5 HA1 (Apache's form) unless it names an algorithm. Hex
  // never spells an algorithm name, so the two readings cannot be confused.
  std::string_view hash = next_field(rest);
  Ha1Algorithm algorithm = Ha1Algorithm::md5;
  if (const auto named = parse_file_algorithm(hash)) {
    algorithm = *named;
    if (fields < 4) return std::string("no HA1 after the algorithm");
    hash = next_field(rest);
  } else if (!is_hex(hash)) {
    // Either a bad MD5 HA1 or an unknown algorithm (SHA-512, MD5-sess, ...): both refused.
    return std::string(
        "field after the realm is neither a hex HA1 nor MD5, SHA-256 or SHA-512-256");
  }
  // Anything after the HA1 and a ':' is ignored, as in Apache's mod_authn_file.
  if (hash.empty()) return std::string("empty HA1");
  if (!is_hex(hash)) return std::string("HA1 is not hexadecimal");
  if (hash.size() != hex_digits(algorithm)) {
    return std::string("HA1 of ") + std::string(to_string(algorithm)) + " must have " +
           std::to_string(hex_digits(algorithm)) + " hex digits";
  }
  return HtdigestEntry{std::string(username), std::string(realm), algorithm, lower_hex(hash)};
}

namespace {

struct FileContents {
  std::vector<HtdigestEntry> entries;  // first line of each (user, realm, algorithm)
  // [algorithm][realm][user] -> index into entries.
  std::array<util::StringMap<util::StringMap<std::size_t>>, kAlgorithms> by_name;
  // [algorithm][H(user ":" realm) in that algorithm] -> index of an entry (any algorithm) with
  // that user and realm: the userhash resolves to the name, then by_name gives the HA1.
  std::array<util::StringMap<std::size_t>, kAlgorithms> by_userhash;
  FileVersion version;
  std::size_t skipped_lines = 0;
};

// Reads and parses the whole file. Throws std::runtime_error naming the path.
FileContents load_htdigest_file(const std::string& path) {
  FileText raw = read_credential_file(path, "htdigest");
  FileContents snapshot;
  snapshot.version = raw.version;
  for_each_line(raw.content, [&](std::string_view line) {
    auto parsed = parse_htdigest_line(line);
    if (auto* entry = std::get_if<HtdigestEntry>(&parsed)) {
      auto& users = snapshot.by_name[index_of(entry->algorithm)][entry->realm];
      const bool new_user_and_realm = [&] {
        for (const auto algorithm : kAllAlgorithms) {
          const auto& by_realm = snapshot.by_name[index_of(algorithm)];
          const auto realm = by_realm.find(entry->realm);
          if (realm != by_realm.end() && realm->second.contains(entry->username)) return false;
        }
        return true;
      }();
      const std::size_t index = snapshot.entries.size();
      if (!users.try_emplace(entry->username, index).second) return;  // first line wins
      if (new_user_and_realm) {
        for (const auto algorithm : kAllAlgorithms) {
          std::string hash = schemes::userhash(schemes::to_digest_algorithm(algorithm),
                                               entry->username, entry->realm);
          if (!hash.empty()) {
            snapshot.by_userhash[index_of(algorithm)].try_emplace(std::move(hash), index);
          }
        }
      }
      snapshot.entries.push_back(std::move(*entry));
    } else if (std::holds_alternative<std::string>(parsed)) {
      ++snapshot.skipped_lines;
    }
  });
  // Wipe the file's text: it held every HA1.
  ::explicit_bzero(raw.content.data(), raw.content.size());
  return snapshot;
}

}  // namespace

struct HtdigestStore::Snapshot {
  FileContents file;
};

HtdigestStore::HtdigestStore(std::string path, std::vector<std::string> roles)
    : path_(std::move(path)),
      name_("htdigest:" + path_),
      roles_(std::move(roles)),
      snapshot_(std::make_shared<const Snapshot>(Snapshot{load_htdigest_file(path_)})) {}

Ha1Lookup HtdigestStore::find_ha1(std::string_view name, bool is_userhash, std::string_view realm,
                                  Ha1Algorithm algorithm) const {
  std::shared_ptr<const Snapshot> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = snapshot_;
  }
  const FileContents& file = snapshot->file;
  std::string_view username = name;
  if (is_userhash) {
    if (name.size() != hex_digits(algorithm) || !is_hex(name)) return {};
    const std::string hash = lower_hex(name);
    const auto& by_userhash = file.by_userhash[index_of(algorithm)];
    const auto found = by_userhash.find(hash);
    if (found == by_userhash.end()) return {};
    const HtdigestEntry& named = file.entries[found->second];
    if (named.realm != realm) return {};
    username = named.username;
  }
  const auto& by_realm = file.by_name[index_of(algorithm)];
  const auto users = by_realm.find(realm);
  if (users == by_realm.end()) return {};
  const auto found = users->second.find(username);
  if (found == users->second.end()) return {};
  const HtdigestEntry& entry = file.entries[found->second];
  return {LookupStatus::found, Ha1Record{entry.username, entry.ha1, roles_, false}};
}

void HtdigestStore::refresh() noexcept {
  try {
    std::shared_ptr<const Snapshot> current;
    {
      std::lock_guard lock(mutex_);
      current = snapshot_;
    }
    if (!may_have_changed(path_, current->file.version)) return;
    auto fresh = std::make_shared<const Snapshot>(Snapshot{load_htdigest_file(path_)});
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(fresh);
  } catch (...) {
    // Unreadable or half-replaced file, or no memory: keep serving the last good snapshot.
  }
}

std::size_t HtdigestStore::skipped_lines() const {
  std::lock_guard lock(mutex_);
  return snapshot_->file.skipped_lines;
}

}  // namespace gatehouse::stores
