#pragma once
// Apache htpasswd files ("user:hash" lines) as a password store, re-read when the file changes.
// Usernames match exactly as written in the file (no case folding: the caller normalizes);
// when a name appears twice the first line wins, as in Apache's mod_authn_file.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "gatehouse/credential_store.hpp"

namespace gatehouse::stores {

struct HtpasswdEntry {
  std::string username;
  std::string hash;
};

// One line of an htpasswd file. Blank lines and '#' comments give std::monostate;
// a bad line gives a string saying what is wrong (without echoing the hash).
std::variant<std::monostate, HtpasswdEntry, std::string> parse_htpasswd_line(std::string_view line);

class HtpasswdStore final : public CredentialStore {
 public:
  // Throws std::runtime_error when the file cannot be read at start-up.
  HtpasswdStore(std::string path, std::vector<std::string> roles);
  std::string_view name() const noexcept override { return name_; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::password; }
  PasswordLookup find_password(std::string_view username) const override;
  void refresh() noexcept override;
  // Bad lines skipped when the current snapshot was read.
  std::size_t skipped_lines() const;

 private:
  struct Snapshot;
  std::string path_;
  std::string name_;
  std::vector<std::string> roles_;
  mutable std::mutex mutex_;  // guards snapshot_ pointer swap only
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace gatehouse::stores
