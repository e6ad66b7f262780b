#include "tracker/schema.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "gatehouse/http.hpp"

namespace gatehouse::tracker {

namespace {

// Roundup's classic template (share/roundup/templates/classic/schema.py and initial_data.py),
// written in gatehouse's schema format.
constexpr std::string_view kClassic = R"toml(
# Roundup's classic template.
new_user_roles = ["User"]

[class.priority]
key = "name"
properties = { name = "String", order = "Number" }

[class.status]
key = "name"
properties = { name = "String", order = "Number" }

[class.keyword]
key = "name"
properties = { name = "String" }

[class.query]
properties = { klass = "String", name = "String", url = "String", private_for = "Link(user)" }

[class.user]
key = "username"
properties = { username = "String", password = "Password", address = "String", realname = "String", phone = "String", organisation = "String", alternate_addresses = "String", queries = "Multilink(query)", roles = "String", timezone = "String" }

[class.msg]
properties = { content = "String", type = "String", author = "Link(user)", recipients = "Multilink(user)", date = "Date", summary = "String", files = "Multilink(file)", messageid = "String", inreplyto = "String" }

[class.file]
properties = { content = "String", type = "String", name = "String" }

[class.issue]
properties = { title = "String", messages = "Multilink(msg)", files = "Multilink(file)", nosy = "Multilink(user)", superseder = "Multilink(issue)", assignedto = "Link(user)", keyword = "Multilink(keyword)", priority = "Link(priority)", status = "Link(status)" }

[role.Admin]
all = true

[role.User]
permissions = [
  "Web Access", "Email Access", "Rest Access", "Xmlrpc Access",
  "View issue", "Edit issue", "Create issue",
  "View file", "Edit file", "Create file",
  "View msg", "Edit msg", "Create msg",
  "View keyword", "Edit keyword", "Create keyword",
  "View priority", "View status",
  "View user(id,organisation,phone,realname,timezone,username)",
  "View user if self",
  "Edit user(username,password,address,realname,phone,organisation,alternate_addresses,queries,timezone) if self",
  "View query if private_for", "Search query",
  "Edit query if creator", "Retire query if creator", "Restore query if creator",
  "Create query",
]

[role.Anonymous]
permissions = [
  "Web Access", "Register user",
  "View issue", "View file", "View msg", "View keyword", "View priority", "View status",
  "Search user",
]
)toml";

constexpr std::string_view kGlobalPermissions[] = {"Web Access", "Email Access", "Rest Access",
                                                   "Xmlrpc Access"};

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (!std::isalpha(static_cast<unsigned char>(s.front()))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::optional<PropType> parse_type_name(std::string_view name) {
  constexpr std::pair<std::string_view, PropType> kNames[] = {
      {"String", PropType::string},       {"Number", PropType::number},
      {"Boolean", PropType::boolean},     {"Date", PropType::date},
      {"Interval", PropType::interval},   {"Link", PropType::link},
      {"Multilink", PropType::multilink}, {"Password", PropType::password}};
  for (const auto& [text, type] : kNames) {
    if (text == name) return type;
  }
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  Schema parse(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, source_);
    } catch (const toml::parse_error& e) {
      throw std::runtime_error(source_ + ":" + std::to_string(e.source().begin.line) + ": " +
                               std::string(e.description()));
    }
    Schema schema;
    for (const auto& [key, node] : root) {
      const std::string_view k = key.str();
      if (k == "class") {
        read_classes(node, schema);
      } else if (k == "role") {
        read_roles(node, schema);
      } else if (k == "new_user_roles") {
        schema.new_user_roles = strings(node, "new_user_roles");
      } else {
        problem(std::string(k) + ": unknown key; known: class, role, new_user_roles");
      }
    }
    std::sort(schema.classes.begin(), schema.classes.end(),
              [](const ClassDef& a, const ClassDef& b) { return a.name < b.name; });
    check_links(schema);
    if (!problems_.empty()) {
      std::string all;
      for (const auto& p : problems_) all += (all.empty() ? "" : "\n") + source_ + ": " + p;
      throw std::runtime_error(all);
    }
    return schema;
  }

 private:
  void problem(std::string text) { problems_.push_back(std::move(text)); }

  std::vector<std::string> strings(const toml::node& node, const std::string& where) {
    std::vector<std::string> out;
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      problem(where + ": expected an array of strings");
      return out;
    }
    for (const auto& item : *array) {
      if (const auto* s = item.as_string()) {
        out.push_back(s->get());
      } else {
        problem(where + ": expected an array of strings");
      }
    }
    return out;
  }

  void read_classes(const toml::node& node, Schema& schema) {
    const toml::table* classes = node.as_table();
    if (classes == nullptr) return problem("class: expected tables [class.NAME]");
    for (const auto& [name, body] : *classes) {
      ClassDef c;
      c.name = std::string(name.str());
      const std::string where = "class." + c.name;
      if (!is_identifier(c.name))
        problem(where + ": a class name is a letter, then letters, digits or _");
      if (!c.name.empty() && std::isdigit(static_cast<unsigned char>(c.name.back())))
        problem(where + ": a class name must not end in a digit (designators are NAME + id)");
      const toml::table* table = body.as_table();
      if (table == nullptr) {
        problem(where + ": expected a table");
        continue;
      }
      for (const auto& [key, value] : *table) {
        const std::string_view k = key.str();
        if (k == "key") {
          if (const auto* s = value.as_string()) {
            c.key = s->get();
          } else {
            problem(where + ".key: expected a string");
          }
        } else if (k == "properties") {
          read_properties(value, where, c);
        } else {
          problem(where + "." + std::string(k) + ": unknown key; known: key, properties");
        }
      }
      std::sort(c.properties.begin(), c.properties.end(),
                [](const Property& a, const Property& b) { return a.name < b.name; });
      if (!c.key.empty()) {
        const Property* key = c.find(c.key);
        if (key == nullptr || key->type != PropType::string)
          problem(where + ".key: \"" + c.key + "\" is not a String property of the class");
      }
      schema.classes.push_back(std::move(c));
    }
  }

  void read_properties(const toml::node& node, const std::string& where, ClassDef& c) {
    const toml::table* props = node.as_table();
    if (props == nullptr) return problem(where + ".properties: expected a table");
    for (const auto& [name, type_node] : *props) {
      Property p;
      p.name = std::string(name.str());
      const std::string at = where + ".properties." + p.name;
      if (!is_identifier(p.name))
        problem(at + ": a property name is a letter, then letters, digits or _");
      if (is_protected(p.name))
        problem(at + ": is maintained by the tracker and cannot be declared");
      const auto* text = type_node.as_string();
      if (text == nullptr) {
        problem(at + ": expected a type like \"String\" or \"Link(status)\"");
        continue;
      }
      std::string_view type = text->get();
      const std::size_t open = type.find('(');
      std::string_view base = type.substr(0, open);
      const auto parsed = parse_type_name(base);
      if (!parsed) {
        problem(at + ": unknown type \"" + std::string(type) +
                "\" (String, Number, Boolean, Date, Interval, Link(C), Multilink(C), Password)");
        continue;
      }
      p.type = *parsed;
      const bool linky = p.type == PropType::link || p.type == PropType::multilink;
      if (linky) {
        if (open == std::string_view::npos || type.back() != ')') {
          problem(at + ": " + std::string(base) + " needs its class: " + std::string(base) +
                  "(NAME)");
          continue;
        }
        p.target = std::string(type.substr(open + 1, type.size() - open - 2));
      } else if (open != std::string_view::npos) {
        problem(at + ": only Link and Multilink take a class");
      }
      c.properties.push_back(std::move(p));
    }
  }

  void read_roles(const toml::node& node, Schema& schema) {
    const toml::table* roles = node.as_table();
    if (roles == nullptr) return problem("role: expected tables [role.NAME]");
    for (const auto& [name, body] : *roles) {
      Role role;
      role.name = std::string(name.str());
      const std::string where = "role." + role.name;
      const toml::table* table = body.as_table();
      if (table == nullptr) {
        problem(where + ": expected a table");
        continue;
      }
      for (const auto& [key, value] : *table) {
        const std::string_view k = key.str();
        if (k == "all") {
          if (const auto* b = value.as_boolean()) {
            role.all = b->get();
          } else {
            problem(where + ".all: expected true or false");
          }
        } else if (k == "permissions") {
          for (const auto& text : strings(value, where + ".permissions")) {
            if (auto p = parse_permission(text, where)) role.permissions.push_back(std::move(*p));
          }
        } else {
          problem(where + "." + std::string(k) + ": unknown key; known: all, permissions");
        }
      }
      schema.roles.push_back(std::move(role));
    }
  }

  // "NAME", "NAME CLASS", "NAME CLASS(p1,p2)", each optionally followed by "if CHECK".
  std::optional<Permission> parse_permission(std::string_view text, const std::string& where) {
    const std::string at = where + ".permissions: \"" + std::string(text) + "\"";
    for (const auto global : kGlobalPermissions) {
      if (text == global) return Permission{std::string(global), std::nullopt, {}, ItemCheck::none};
    }
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && text[i] == ' ') ++i;
      const std::size_t start = i;
      while (i < text.size() && text[i] != ' ') ++i;
      if (i > start) words.push_back(text.substr(start, i - start));
    }
    Permission p;
    if (words.empty()) {
      problem(at + ": empty");
      return std::nullopt;
    }
    p.name = std::string(words[0]);
    if (!is_identifier(p.name)) {
      problem(at + ": a permission is NAME [CLASS[(prop,...)]] [if self|creator|private_for]");
      return std::nullopt;
    }
    std::size_t w = 1;
    if (w < words.size() && words[w] != "if") {
      std::string_view klass = words[w++];
      const std::size_t open = klass.find('(');
      if (open != std::string_view::npos) {
        if (klass.back() != ')') {
          problem(at + ": unbalanced parentheses");
          return std::nullopt;
        }
        std::string_view list = klass.substr(open + 1, klass.size() - open - 2);
        while (!list.empty()) {
          const std::size_t comma = list.find(',');
          p.properties.emplace_back(list.substr(0, comma));
          if (comma == std::string_view::npos) break;
          list.remove_prefix(comma + 1);
        }
        klass = klass.substr(0, open);
      }
      p.klass = std::string(klass);
    }
    if (w < words.size()) {
      if (words[w] != "if" || w + 2 != words.size()) {
        problem(at + ": expected \"if self\", \"if creator\" or \"if private_for\" at the end");
        return std::nullopt;
      }
      const std::string_view check = words[w + 1];
      if (check == "self") {
        p.check = ItemCheck::self;
      } else if (check == "creator") {
        p.check = ItemCheck::creator;
      } else if (check == "private_for") {
        p.check = ItemCheck::private_for;
      } else {
        problem(at + ": unknown check \"" + std::string(check) + "\" (self, creator, private_for)");
        return std::nullopt;
      }
      if (!p.klass) {
        problem(at + ": a check needs a class");
        return std::nullopt;
      }
    }
    return p;
  }

  void check_links(const Schema& schema) {
    for (const auto& c : schema.classes) {
      for (const auto& p : c.properties) {
        if ((p.type == PropType::link || p.type == PropType::multilink) &&
            schema.find(p.target) == nullptr) {
          problem("class." + c.name + ".properties." + p.name + ": links to unknown class \"" +
                  p.target + "\"");
        }
      }
    }
    for (const auto& r : schema.roles) {
      for (const auto& p : r.permissions) {
        if (!p.klass) continue;
        const ClassDef* c = schema.find(*p.klass);
        if (c == nullptr) {
          problem("role." + r.name + ": permission " + p.name + " names unknown class \"" +
                  *p.klass + "\"");
          continue;
        }
        for (const auto& prop : p.properties) {
          if (c->find(prop) == nullptr && !is_protected(prop))
            problem("role." + r.name + ": permission " + p.name + " " + c->name +
                    " names unknown property \"" + prop + "\"");
        }
        if (p.check == ItemCheck::self && c->name != "user")
          problem("role." + r.name + ": \"if self\" applies to the user class only");
        if (p.check == ItemCheck::private_for) {
          const Property* pf = c->find("private_for");
          if (pf == nullptr || pf->type != PropType::link || pf->target != "user")
            problem("role." + r.name + ": \"if private_for\" needs a Link(user) private_for on " +
                    c->name);
        }
      }
    }
    if (schema.find("user") == nullptr || schema.find("user")->find("username") == nullptr ||
        schema.find("user")->find("roles") == nullptr) {
      problem("class.user: a tracker needs a user class with username and roles properties");
    }
    std::set<std::string, std::less<>> lower;
    for (const auto& r : schema.roles) {
      std::string l = r.name;
      std::transform(l.begin(), l.end(), l.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (!lower.insert(l).second)
        problem("role." + r.name + ": defined twice (names ignore case)");
    }
  }

  std::string source_;
  std::vector<std::string> problems_;
};

}  // namespace

const Property* ClassDef::find(std::string_view property) const noexcept {
  for (const auto& p : properties) {
    if (p.name == property) return &p;
  }
  return nullptr;
}

std::string_view ClassDef::label() const noexcept {
  if (!key.empty()) return key;
  if (find("name") != nullptr) return "name";
  if (find("title") != nullptr) return "title";
  return "id";
}

bool is_protected(std::string_view property) noexcept {
  return std::find(std::begin(kProtected), std::end(kProtected), property) != std::end(kProtected);
}

PropType protected_type(std::string_view property) noexcept {
  if (property == "creation" || property == "activity") return PropType::date;
  if (property == "creator" || property == "actor") return PropType::link;
  return PropType::string;  // id
}

const ClassDef* Schema::find(std::string_view klass) const noexcept {
  for (const auto& c : classes) {
    if (c.name == klass) return &c;
  }
  return nullptr;
}

const Role* Schema::find_role(std::string_view role) const noexcept {
  for (const auto& r : roles) {
    if (iequals(r.name, role)) return &r;
  }
  return nullptr;
}

Schema parse_schema(std::string_view toml_text, const std::string& source) {
  return Parser(source).parse(toml_text);
}

Schema load_schema(const std::string& name_or_path) {
  if (name_or_path == "classic") return parse_schema(kClassic, "classic");
  std::ifstream in(name_or_path, std::ios::binary);
  if (!in) throw std::runtime_error(name_or_path + ": cannot read the schema file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_schema(text.str(), name_or_path);
}

std::string_view classic_schema_text() noexcept {
  return kClassic;
}

std::string_view type_name(PropType type) noexcept {
  switch (type) {
    case PropType::string:
      return "String";
    case PropType::number:
      return "Number";
    case PropType::boolean:
      return "Boolean";
    case PropType::date:
      return "Date";
    case PropType::interval:
      return "Interval";
    case PropType::link:
      return "Link";
    case PropType::multilink:
      return "Multilink";
    case PropType::password:
      return "Password";
  }
  return "String";
}

std::string type_repr(const Property& property) {
  std::string out = "<roundup.hyperdb.";
  out += type_name(property.type);
  if (property.type == PropType::link || property.type == PropType::multilink) {
    out += " to \"" + property.target + "\"";
  }
  return out + ">";
}

}  // namespace gatehouse::tracker
