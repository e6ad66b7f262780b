#include "stores/unix_store.hpp"

#include <string.h>

#include <optional>
#include <stdexcept>

#include "stores/watched_file.hpp"
#include "util/string_map.hpp"

namespace gatehouse::stores {

namespace {
std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = line.find(sep);
    out.push_back(line.substr(0, at));
    if (at == std::string_view::npos) return out;
    line.remove_prefix(at + 1);
  }
}

}  // namespace

std::optional<ShadowEntry> parse_shadow_line(std::string_view line, std::int64_t today_days) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() || line.front() == '#' || line.size() > 4096) return std::nullopt;
  const auto fields = split(line, ':');
  if (fields.size() < 2 || fields[0].empty()) return std::nullopt;
  ShadowEntry entry{std::string(fields[0]), std::string(fields[1]), true};
  const std::string_view hash = fields[1];
  // shadow(5): empty = no password (refused here), '!' or '*' prefix = locked.
  if (hash.empty() || hash.front() == '!' || hash.front() == '*') entry.usable = false;
  // Field 8: account expiry in days since the epoch; empty = never.
  if (fields.size() > 7 && !fields[7].empty()) {
    std::int64_t expire = 0;
    for (char c : fields[7]) {
      if (c < '0' || c > '9') return entry.usable = false, entry;
      expire = expire * 10 + (c - '0');
      if (expire > 10'000'000) break;
    }
    if (expire <= today_days) entry.usable = false;
  }
  return entry;
}

struct UnixStore::Snapshot {
  FileVersion version;
  util::StringMap<ShadowEntry> users;
};

UnixStore::UnixStore(std::vector<std::string> roles, std::string shadow_path, const Clock& clock)
    : roles_(std::move(roles)), path_(std::move(shadow_path)), clock_(clock) {
  snapshot_ = load();  // throws, naming the file
}

std::shared_ptr<const UnixStore::Snapshot> UnixStore::load() const {
  FileText text = read_credential_file(path_, "shadow");
  auto snap = std::make_shared<Snapshot>();
  snap->version = text.version;
  const std::int64_t today = clock_.now_s() / 86400;
  for_each_line(text.content, [&](std::string_view line) {
    if (auto entry = parse_shadow_line(line, today)) {
      const std::string name = entry->name;
      snap->users.try_emplace(name, std::move(*entry));
    }
  });
  ::explicit_bzero(text.content.data(), text.content.size());  // it held every hash
  return snap;
}

PasswordLookup UnixStore::find_password(std::string_view username) const {
  std::shared_ptr<const Snapshot> snap;
  {
    std::lock_guard lock(mutex_);
    snap = snapshot_;
  }
  const auto it = snap->users.find(username);
  if (it == snap->users.end()) return {LookupStatus::unknown_user, {}, {}};
  // A locked account still goes through verification (same cost), then is refused as disabled.
  return {LookupStatus::found,
          PasswordRecord{it->second.name, it->second.hash, roles_, !it->second.usable},
          {}};
}

void UnixStore::refresh() noexcept {
  try {
    FileVersion version;
    {
      std::lock_guard lock(mutex_);
      version = snapshot_->version;
    }
    if (!may_have_changed(path_, version)) return;
    auto fresh = load();
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(fresh);
  } catch (const std::exception&) {
    // Keep the last good snapshot.
  }
}

}  // namespace gatehouse::stores
