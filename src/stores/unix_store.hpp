#pragma once
// Local Unix accounts as a password store, read from the shadow database (/etc/shadow).
//
// Why shadow + libxcrypt and not PAM: the shadow hash fits gatehouse's split between a fast
// lookup (here, on an in-memory snapshot) and a slow verification (libxcrypt on the worker
// pool, behind the verified-credential cache), exactly like htpasswd files. PAM would need a
// conversation callback per check and may block or prompt in ways a server cannot bound. The
// price: modules PAM would add (LDAP, 2FA) are not consulted, and the server must be able to
// read the shadow file (root or group shadow). Locked ("!", "*"), empty and expired accounts are
// refused. Digest cannot use this store (a shadow hash cannot give HA1).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gatehouse/credential_store.hpp"
#include "util/clock.hpp"

namespace gatehouse::stores {

struct ShadowEntry {
  std::string name;
  std::string hash;
  bool usable = false;  // false when locked, passwordless or expired
};

// One line of a shadow(5) file; nullopt for blank lines and lines that are not entries.
std::optional<ShadowEntry> parse_shadow_line(std::string_view line, std::int64_t today_days);

class UnixStore final : public CredentialStore {
 public:
  // Throws std::runtime_error naming the file when it cannot be read at start-up.
  explicit UnixStore(std::vector<std::string> roles, std::string shadow_path = "/etc/shadow",
                     const Clock& clock = system_clock());
  std::string_view name() const noexcept override { return "unix"; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::password; }
  PasswordLookup find_password(std::string_view username) const override;
  void refresh() noexcept override;

 private:
  struct Snapshot;
  std::shared_ptr<const Snapshot> load() const;
  std::vector<std::string> roles_;
  std::string path_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace gatehouse::stores
