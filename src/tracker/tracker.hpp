#pragma once
// One tracker (SPEC §9): a schema, its items and its security, kept in memory for reads and
// written through the state store. Reads run on any thread under a shared lock and return
// immutable snapshots of items; writes (create, set, retire, restore) are serialized, stored
// durably first and then applied, and must run off the I/O threads (they hit the database and
// may hash a password).
//
// Errors are Roundup's exceptions (TrackerError with the kind the API front ends map to XML-RPC
// faults and REST statuses). They never leave a front end's handler.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "state/state_store.hpp"
#include "tracker/schema.hpp"
#include "util/clock.hpp"

namespace gatehouse::tracker {

// Roundup's exceptions (roundup/exceptions.py, hyperdb, and the Python built-ins it raises).
enum class ErrorKind {
  unauthorised,  // roundup.exceptions.Unauthorised: REST 403
  index,         // IndexError (no such item): REST 404
  not_found,     // roundup.exceptions.NotFound: REST 404
  key,           // KeyError (no such class, property or key value): REST 400
  usage,         // roundup.exceptions.UsageError: REST 400
  type,          // TypeError (wrong arguments): REST 400
  value,         // ValueError / HyperdbValueError: REST 409
  reject,        // roundup.exceptions.Reject: REST 405
  precondition,  // roundup.rest.PreconditionFailed: REST 412
  method,        // Exception('method "x" is not supported'): REST 400
  designator,    // roundup.hyperdb.DesignatorError: REST 400
};

class TrackerError : public std::runtime_error {
 public:
  TrackerError(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }
  // "<class 'roundup.exceptions.Unauthorised'>", as Python's str(exc.__class__).
  std::string python_class() const;
  int rest_status() const noexcept;

 private:
  ErrorKind kind_;
};

// Who acts: the user item and the roles that grant permissions.
struct Actor {
  std::string user_id;  // the user item's id, "" when it has none
  std::string username;
  std::vector<std::string> roles;
};

// An item as stored: protected and user properties in their stored forms —
// String/Password: string; Number: double; Boolean: bool; Date: "YYYY-MM-DD.HH:MM:SS.mmm" (UTC);
// Interval: integer seconds; Link: id string; Multilink: array of id strings in id order; unset:
// null or absent.
struct Item {
  std::string klass;
  std::int64_t id = 0;
  bool retired = false;
  std::int64_t version = 1;
  boost::json::object values;

  std::string id_text() const { return std::to_string(id); }
  // The stored value of `property` ("id" included), null when unset.
  boost::json::value get(std::string_view property) const;
};
using ItemPtr = std::shared_ptr<const Item>;

// One condition of a filter (Roundup's filterspec entry).
struct FilterTerm {
  std::string property;
  std::vector<std::string> values;  // any of them matches
  bool exact = false;               // String: whole value instead of case-insensitive substring
};

struct SortKey {
  std::string property;
  bool descending = false;
};

// Property name → value in stored form, for create and set.
using Changes = std::vector<std::pair<std::string, boost::json::value>>;

class Tracker {
 public:
  Tracker(std::string name, Schema schema, std::shared_ptr<state::StateStore> store,
          const Clock& clock);

  const std::string& name() const noexcept { return name_; }
  const Schema& schema() const noexcept { return schema_; }

  // Loads every item from the store; with `demo_data` on an empty tracker, first stores the
  // classic demo data (users admin, anonymous, demo; issue1). Throws StoreError.
  void load(bool demo_data);
  // Reloads when another process changed items; cheap when nothing changed.
  void refresh();

  // --- security (Roundup's Security.hasPermission; roles compare case-insensitively) ---
  bool has_permission(const Actor& actor, std::string_view permission, std::string_view klass = {},
                      std::string_view property = {}, std::string_view item_id = {}) const;
  // Search on a property: a Search permission, or a View permission without an item check.
  bool has_search_permission(const Actor& actor, std::string_view klass,
                             std::string_view property) const;

  // The actor for an authenticated user: its user item (nullopt when it has none yet) and the
  // credential's roles. anonymous(): the "anonymous" user item with the Anonymous role.
  std::optional<Actor> actor_for(std::string_view username,
                                 const std::vector<std::string>& roles) const;
  Actor anonymous() const;
  // Creates the user item of an authenticated user who has none (write: off the I/O threads).
  Actor ensure_user(std::string_view username, const std::vector<std::string>& roles);

  // --- reads ---
  const ClassDef& get_class(std::string_view klass) const;  // KeyError when unknown
  // The type of a user or protected property; KeyError when unknown.
  Property get_property(const ClassDef& c, std::string_view property) const;
  ItemPtr get(std::string_view klass, std::string_view id) const;   // IndexError when absent
  ItemPtr find(std::string_view klass, std::string_view id) const;  // nullptr when absent
  // Ids of the items not retired, in id order.
  std::vector<ItemPtr> list(std::string_view klass) const;
  // The id of the live item whose key property is `key`; KeyError when none (TypeError when the
  // class has no key).
  std::string lookup(std::string_view klass, std::string_view key) const;
  // Live items matching every term, optionally only among `ids`, sorted (default: by id).
  // Password properties can be neither searched nor sorted on (UsageError).
  std::vector<ItemPtr> filter(std::string_view klass, const std::vector<std::string>* ids,
                              const std::vector<FilterTerm>& terms,
                              const std::vector<SortKey>& sort) const;
  std::uint64_t generation() const noexcept { return loaded_generation_; }

  // --- values ---
  // Roundup's rawToHyperdb: text (already stripped by the caller if wanted) to stored form.
  // Links and multilinks accept ids or key values. ValueError for a bad value.
  boost::json::value from_raw(const ClassDef& c, const Property& p, std::string_view raw) const;
  // Roundup's str() of a stored value ("2017-10-30.00:53:15" for dates, "1" for links).
  static std::string date_text(std::string_view stored, bool with_millis);
  static std::string interval_text(std::int64_t seconds);

  // --- writes (off the I/O threads) ---
  // Validates (links exist, key unique) and stores; returns the new id.
  std::string create(const Actor& actor, std::string_view klass, const Changes& changes);
  // With `expected_version`, refuses (PreconditionFailed) when the item changed since.
  // Returns the properties whose value changed.
  std::vector<std::string> set(const Actor& actor, std::string_view klass, std::string_view id,
                               const Changes& changes,
                               std::optional<std::int64_t> expected_version = std::nullopt);
  void retire(const Actor& actor, std::string_view klass, std::string_view id);
  void restore(const Actor& actor, std::string_view klass, std::string_view id);

 private:
  struct ClassItems {
    std::map<std::int64_t, ItemPtr> items;
    std::unordered_map<std::string, std::int64_t> keys;  // key value → id, live items only
  };
  using Data = std::unordered_map<std::string, ClassItems>;

  Data build(const std::vector<state::TrackerItemRow>& rows) const;
  void seed_demo();
  std::string now_text() const;
  void validate(const ClassDef& c, const boost::json::object& values, std::int64_t id) const;
  void store_update(const Item& next);
  bool check_passes(ItemCheck check, const Actor& actor, std::string_view klass,
                    std::string_view item_id) const;
  bool permission_matches(const Permission& p, std::string_view permission, std::string_view klass,
                          std::string_view property, std::string_view item_id,
                          const Actor& actor) const;

  std::string name_;
  Schema schema_;
  std::shared_ptr<state::StateStore> store_;
  const Clock& clock_;

  mutable std::shared_mutex mutex_;  // guards data_
  Data data_;
  std::mutex write_mutex_;  // one writer at a time: validate, store, apply
  std::uint64_t loaded_generation_ = 0;
};

}  // namespace gatehouse::tracker
