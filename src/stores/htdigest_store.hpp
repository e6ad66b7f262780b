#pragma once
// Apache htdigest files as a Digest HA1 store (capability digest_ha1), re-read when the file
// changes, like HtpasswdStore.
//
// File format, one entry per line:
//
//   user:realm:HA1                 MD5, exactly what Apache's htdigest writes
//   user:realm:MD5:HA1             the same, with the algorithm spelled out
//   user:realm:SHA-256:HA1         gatehouse extension
//   user:realm:SHA-512-256:HA1     gatehouse extension
//
// where HA1 = H(user ":" realm ":" password) in hex (RFC 7616 §3.4.2): 32 digits for MD5, 64 for
// SHA-256 and SHA-512-256. Hex is read in either case and kept in lower case. The algorithm name
// is case-insensitive; "-sess" names are refused (the -sess variants use the base HA1). As in
// Apache's mod_authn_file, anything after the HA1 and a further ':' is ignored. Blank lines and
// lines starting with '#' are skipped; a bad line is skipped and counted.
//
// Apache's mod_auth_digest reads the field after the realm as the MD5 HA1, so it never matches an
// extension line (the field is "SHA-256"): such lines are inert for Apache, and gatehouse reads
// both forms. Note that Apache's htdigest tool, asked to change user+realm, replaces the first
// line with that user and realm whatever its algorithm; `gatehouse htdigest` matches the algorithm
// too.
//
// User names and realms match exactly as written (no case folding: the caller normalizes); when
// the same (user, realm, algorithm) appears twice the first line wins, as in Apache.
//
// HA1 is password-equivalent: whoever knows it can answer any challenge of the realm. Keep the file
// as private as a password database (gatehouse htdigest creates it with mode 0600).
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gatehouse/credential_store.hpp"

namespace gatehouse::stores {

struct HtdigestEntry {
  std::string username;
  std::string realm;
  Ha1Algorithm algorithm = Ha1Algorithm::md5;
  std::string ha1;  // lower-case hex of the algorithm's length
};

// One line of an htdigest file. Blank lines and '#' comments give std::monostate; a bad line
// gives a string saying what is wrong (never echoing the hash).
std::variant<std::monostate, HtdigestEntry, std::string> parse_htdigest_line(std::string_view line);

// "MD5", "SHA-256", "SHA-512-256": the spelling used in the file and in Digest challenges.
std::string_view to_string(Ha1Algorithm algorithm) noexcept;

// The line `gatehouse htdigest` writes for an entry: the Apache form for MD5, the extension form
// otherwise. parse_htdigest_line reads it back unchanged.
std::string format_htdigest_line(const HtdigestEntry& entry);

class HtdigestStore final : public CredentialStore {
 public:
  // Throws std::runtime_error naming the path when the file cannot be read at start-up.
  HtdigestStore(std::string path, std::vector<std::string> roles);
  std::string_view name() const noexcept override { return name_; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::digest_ha1; }
  // Exact (user, realm, algorithm) match. With `is_userhash`, `name` is the client's
  // H(user ":" realm) in the algorithm's hash (hex, either case), precomputed at load for every
  // user and realm of the file in all three algorithms.
  Ha1Lookup find_ha1(std::string_view name, bool is_userhash, std::string_view realm,
                     Ha1Algorithm algorithm) const override;
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
