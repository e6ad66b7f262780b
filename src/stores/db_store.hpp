#pragma once
// The gatehouse database as a credential store: users' password hashes and API keys, served from
// an in-memory snapshot that refresh() reloads when the store's generation changes (a write by
// this server, the CLI or another instance). API-key last-use times are flushed lazily.
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "gatehouse/credential_store.hpp"
#include "state/state_store.hpp"
#include "util/clock.hpp"
#include "util/snapshot.hpp"
#include "util/string_map.hpp"

namespace gatehouse::stores {

class DbStore final : public CredentialStore {
 public:
  // Loads the first snapshot; throws state::StoreError when the store cannot be read.
  explicit DbStore(std::shared_ptr<state::StateStore> store, const Clock& clock = system_clock());
  std::string_view name() const noexcept override { return "db"; }
  bool can(StoreCapability c) const noexcept override {
    return c == StoreCapability::password || c == StoreCapability::api_key ||
           c == StoreCapability::digest_ha1;
  }
  PasswordLookup find_password(std::string_view username) const override;
  std::optional<bool> user_active(std::string_view username) const override;
  // Users who opted in to Digest (`gatehouse user passwd --digest`) have HA1 rows.
  Ha1Lookup find_ha1(std::string_view name, bool is_userhash, std::string_view realm,
                     Ha1Algorithm algorithm) const override;
  ApiKeyLookup find_api_key(std::string_view id) const override;
  void refresh() noexcept override;  // single caller: the refresher thread
  void upgrade_hash(std::string_view username, std::string_view old_hash,
                    std::string_view new_hash) noexcept override;
  bool upgrades_hashes() const noexcept override { return true; }

  // Writes pending last-use times; refresh() calls it, and so does shutdown.
  void flush_last_used() noexcept;

 private:
  struct Snapshot {
    std::uint64_t generation = 0;
    util::StringMap<PasswordRecord> users;
    util::StringMap<std::shared_ptr<const ApiKeyRecord>> keys;
    // "algorithm\x1frealm\x1fusername" -> HA1, and "algorithm\x1frealm\x1fuserhash" -> username.
    util::StringMap<std::string> ha1;
    util::StringMap<std::string> userhash;
  };
  // `previous` lends its last-use counters to keys that survive the reload.
  std::shared_ptr<const Snapshot> load(std::uint64_t generation,
                                       const std::shared_ptr<const Snapshot>& previous) const;
  // The snapshot as this thread last saw it (util::SharedSnapshot): lookups on the I/O threads
  // take no lock and share no reference count.
  const Snapshot& current() const;

  std::shared_ptr<state::StateStore> store_;
  const Clock& clock_;
  util::SharedSnapshot<Snapshot> snapshot_;
  mutable std::mutex mutex_;                               // guards flushed_
  std::unordered_map<std::string, std::int64_t> flushed_;  // id -> last_used written
};

}  // namespace gatehouse::stores
