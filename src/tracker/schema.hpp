#pragma once
// A tracker's schema and security (SPEC §9; reference/seed-systems.md A3, Roundup's hyperdb and
// security model): classes of items with typed properties, a key property, and roles that grant
// permissions per class and property, optionally limited by a check on the item.
//
// Schemas are declared in TOML (docs/tracker.md has the format); "classic" is built in and
// mirrors Roundup's classic template.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::tracker {

enum class PropType { string, number, boolean, date, interval, link, multilink, password };

struct Property {
  std::string name;
  PropType type = PropType::string;
  std::string target;  // the linked class, for link and multilink
};

struct ClassDef {
  std::string name;
  std::vector<Property> properties;  // user-defined, sorted by name
  std::string key;                   // "" = no key property

  const Property* find(std::string_view property) const noexcept;
  // Roundup's labelprop(): the key, else "name", else "title", else "id".
  std::string_view label() const noexcept;
};

// Every class also has these, maintained by the tracker (hyperdb's protected properties).
inline constexpr std::string_view kProtected[] = {"id", "creation", "activity", "creator", "actor"};
bool is_protected(std::string_view property) noexcept;
// The type of a protected property.
PropType protected_type(std::string_view property) noexcept;

// Which items a permission covers, beyond its class and properties (Roundup's check functions in
// the classic schema).
enum class ItemCheck {
  none,
  self,         // the item is the acting user's own user record
  creator,      // the acting user created the item
  private_for,  // the item's private_for is empty or the acting user
};

struct Permission {
  std::string name;                     // "View", "Edit", "Create", "Search", "Retire", ...
  std::optional<std::string> klass;     // nullopt = every class (or a global permission)
  std::vector<std::string> properties;  // empty = every property
  ItemCheck check = ItemCheck::none;
};

struct Role {
  std::string name;
  bool all = false;  // every permission (Admin)
  std::vector<Permission> permissions;
};

struct Schema {
  std::vector<ClassDef> classes;  // sorted by name
  std::vector<Role> roles;
  std::vector<std::string> new_user_roles{"User"};

  const ClassDef* find(std::string_view klass) const noexcept;
  const Role* find_role(std::string_view role) const noexcept;  // case-insensitive
};

// Parses a schema file's text; throws std::runtime_error naming `source` and every problem.
Schema parse_schema(std::string_view toml_text, const std::string& source);
// "classic" or a file path.
Schema load_schema(const std::string& name_or_path);
// The built-in classic schema's TOML text (docs and tests).
std::string_view classic_schema_text() noexcept;

// Roundup's repr of a property type: "<roundup.hyperdb.String>",
// "<roundup.hyperdb.Link to \"status\">", ...
std::string type_repr(const Property& property);
std::string_view type_name(PropType type) noexcept;  // "String", "Link", ...

}  // namespace gatehouse::tracker
