#include "tracker/tracker.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <ctime>
#include <set>

#include "auth/password_hash.hpp"
#include "gatehouse/http.hpp"

namespace gatehouse::tracker {

namespace json = boost::json;

namespace {

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::int64_t> parse_id(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v <= 0) return std::nullopt;
  return v;
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string quote_repr(std::string_view s) {
  // Python's repr() of a simple str, for messages.
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  for (const char c : s) {
    if (c == q || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\x";
      constexpr char hex[] = "0123456789abcdef";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
      continue;
    }
    out += c;
  }
  return out + q;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[month - 1];
}

// Reads exactly `n` digits.
bool read_digits(std::string_view& s, std::size_t n, int& out) {
  if (s.size() < n) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  s.remove_prefix(n);
  return true;
}

// "YYYY-MM-DD", optionally followed by "." / " " / "T" and "HH:MM[:SS[.fff]]", and an optional
// "Z": the stored form, or nullopt.
std::optional<std::string> parse_date(std::string_view s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!read_digits(s, 4, year) || s.empty() || s.front() != '-') return std::nullopt;
  s.remove_prefix(1);
  if (!read_digits(s, 2, month) || s.empty() || s.front() != '-') return std::nullopt;
  s.remove_prefix(1);
  if (!read_digits(s, 2, day)) return std::nullopt;
  if (!s.empty() && (s.front() == '.' || s.front() == ' ' || s.front() == 'T')) {
    s.remove_prefix(1);
    if (!read_digits(s, 2, hour) || s.empty() || s.front() != ':') return std::nullopt;
    s.remove_prefix(1);
    if (!read_digits(s, 2, minute)) return std::nullopt;
    if (!s.empty() && s.front() == ':') {
      s.remove_prefix(1);
      if (!read_digits(s, 2, second)) return std::nullopt;
      if (!s.empty() && s.front() == '.') {
        s.remove_prefix(1);
        std::size_t n = 0;
        int scale = 100;
        while (!s.empty() && s.front() >= '0' && s.front() <= '9' && n < 9) {
          millis += (s.front() - '0') * scale;
          scale /= 10;
          s.remove_prefix(1);
          ++n;
        }
        if (n == 0) return std::nullopt;
      }
    }
  }
  if (s == "Z") s.remove_prefix(1);
  if (!s.empty()) return std::nullopt;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d.%02d:%02d:%02d.%03d", year, month, day, hour,
                minute, second, millis);
  return std::string(buf);
}

// Roundup interval specs: "[+|-] [Nw] [Nd] [H:MM[:SS]]", e.g. "3w", "- 1d", "2d 1:30".
std::optional<std::int64_t> parse_interval(std::string_view s) {
  s = trim_ws(s);
  std::int64_t sign = 1;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    sign = s.front() == '-' ? -1 : 1;
    s = trim_ws(s.substr(1));
  }
  if (s.empty()) return std::nullopt;
  std::int64_t total = 0;
  bool any = false;
  while (!s.empty()) {
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
    if (n == 0 || n > 9) return std::nullopt;
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + n, v);
    std::string_view rest = s.substr(n);
    if (!rest.empty() && (rest.front() == 'w' || rest.front() == 'd')) {
      total += v * (rest.front() == 'w' ? 7 * 86400 : 86400);
      s = trim_ws(rest.substr(1));
      any = true;
      continue;
    }
    if (!rest.empty() && rest.front() == ':') {
      int minutes = 0, seconds = 0;
      rest.remove_prefix(1);
      if (!read_digits(rest, 2, minutes) || minutes > 59) return std::nullopt;
      if (!rest.empty() && rest.front() == ':') {
        rest.remove_prefix(1);
        if (!read_digits(rest, 2, seconds) || seconds > 59) return std::nullopt;
      }
      total += v * 3600 + minutes * 60 + seconds;
      s = trim_ws(rest);
      any = true;
      continue;
    }
    return std::nullopt;
  }
  if (!any) return std::nullopt;
  return sign * total;
}

std::string format_number(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string out(buf, ec == std::errc() ? end : buf);
  return out;
}

double number_of(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return 0;
}

std::string_view string_of(const json::value& v) {
  return v.is_string() ? std::string_view(v.get_string()) : std::string_view();
}

}  // namespace

std::string TrackerError::python_class() const {
  switch (kind_) {
    case ErrorKind::unauthorised:
      return "<class 'roundup.exceptions.Unauthorised'>";
    case ErrorKind::index:
      return "<class 'IndexError'>";
    case ErrorKind::not_found:
      return "<class 'roundup.exceptions.NotFound'>";
    case ErrorKind::key:
      return "<class 'KeyError'>";
    case ErrorKind::usage:
      return "<class 'roundup.exceptions.UsageError'>";
    case ErrorKind::type:
      return "<class 'TypeError'>";
    case ErrorKind::value:
      return "<class 'roundup.hyperdb.HyperdbValueError'>";
    case ErrorKind::reject:
      return "<class 'roundup.exceptions.Reject'>";
    case ErrorKind::precondition:
      return "<class 'roundup.rest.PreconditionFailed'>";
    case ErrorKind::method:
      return "<class 'Exception'>";
    case ErrorKind::designator:
      return "<class 'roundup.hyperdb.DesignatorError'>";
  }
  return "<class 'Exception'>";
}

int TrackerError::rest_status() const noexcept {
  switch (kind_) {
    case ErrorKind::unauthorised:
      return 403;
    case ErrorKind::index:
    case ErrorKind::not_found:
      return 404;
    case ErrorKind::key:
    case ErrorKind::usage:
    case ErrorKind::type:
    case ErrorKind::method:
    case ErrorKind::designator:
      return 400;
    case ErrorKind::value:
      return 409;
    case ErrorKind::reject:
      return 405;
    case ErrorKind::precondition:
      return 412;
  }
  return 400;
}

json::value Item::get(std::string_view property) const {
  if (property == "id") return json::value(id_text());
  if (const auto* v = values.if_contains(property)) return *v;
  return nullptr;
}

Tracker::Tracker(std::string name, Schema schema, std::shared_ptr<state::StateStore> store,
                 const Clock& clock)
    : name_(std::move(name)), schema_(std::move(schema)), store_(std::move(store)), clock_(clock) {}

// --- loading ---

Tracker::Data Tracker::build(const std::vector<state::TrackerItemRow>& rows) const {
  Data data;
  for (const auto& c : schema_.classes) data[c.name];
  for (const auto& row : rows) {
    const ClassDef* c = schema_.find(row.klass);
    if (c == nullptr) continue;  // a class the schema no longer has: kept in the store, unseen
    auto item = std::make_shared<Item>();
    item->klass = row.klass;
    item->id = row.id;
    item->retired = row.retired;
    item->version = row.version;
    boost::system::error_code ec;
    json::value parsed = json::parse(row.values, ec);
    if (!ec && parsed.is_object()) item->values = std::move(parsed.get_object());
    ClassItems& items = data[row.klass];
    if (!item->retired && !c->key.empty()) {
      const std::string_view key = string_of(item->get(c->key));
      if (!key.empty()) items.keys.emplace(std::string(key), item->id);
    }
    items.items.emplace(item->id, std::move(item));
  }
  return data;
}

void Tracker::load(bool demo_data) {
  std::lock_guard writer(write_mutex_);
  const std::uint64_t generation = store_->tracker_generation();
  auto rows = store_->load_tracker_items(name_);
  if (rows.empty() && demo_data) {
    seed_demo();
    rows = store_->load_tracker_items(name_);
  }
  Data data = build(rows);
  std::unique_lock lock(mutex_);
  data_ = std::move(data);
  loaded_generation_ = rows.empty() ? generation : store_->tracker_generation();
}

void Tracker::refresh() {
  const std::uint64_t generation = store_->tracker_generation();
  if (generation == loaded_generation_) return;
  std::lock_guard writer(write_mutex_);
  const std::uint64_t now_generation = store_->tracker_generation();
  if (now_generation == loaded_generation_) return;
  Data data = build(store_->load_tracker_items(name_));
  std::unique_lock lock(mutex_);
  data_ = std::move(data);
  loaded_generation_ = now_generation;
}

std::string Tracker::now_text() const {
  const std::int64_t ms = clock_.now_ms();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d.%02d:%02d:%02d.%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

void Tracker::seed_demo() {
  // Roundup's classic initial_data.py and demo.py, plus the one issue the documented XML-RPC
  // session displays (priority 1, status 2).
  std::vector<state::TrackerItemRow> rows;
  const std::string now = now_text();
  const auto add = [&](std::string klass, std::int64_t id, json::object values) {
    values["creation"] = now;
    values["activity"] = now;
    values["creator"] = "1";
    values["actor"] = "1";
    state::TrackerItemRow row;
    row.klass = std::move(klass);
    row.id = id;
    row.values = json::serialize(values);
    rows.push_back(std::move(row));
  };
  const bool classic = schema_.find("priority") && schema_.find("status") &&
                       schema_.find("issue") && schema_.find("user");
  const char* priorities[] = {"critical", "urgent", "bug", "feature", "wish"};
  const char* statuses[] = {"unread",      "deferred", "chatting", "need-eg",
                            "in-progress", "testing",  "done-cbb", "resolved"};
  if (classic) {
    for (int i = 0; i < 5; ++i)
      add("priority", i + 1, {{"name", priorities[i]}, {"order", i + 1.0}});
    for (int i = 0; i < 8; ++i) add("status", i + 1, {{"name", statuses[i]}, {"order", i + 1.0}});
  }
  // Passwords live in gatehouse's user database; the tracker keeps none (docs/tracker.md).
  add("user", 1, {{"username", "admin"}, {"roles", "Admin"}, {"address", "admin@localhost"}});
  add("user", 2, {{"username", "anonymous"}, {"roles", "Anonymous"}});
  add("user", 3,
      {{"username", "demo"},
       {"roles", "User"},
       {"realname", "Demo User"},
       {"address", "demo@localhost"}});
  if (classic) {
    add("issue", 1,
        {{"title", "yes, the demo tracker works"},
         {"priority", "1"},
         {"status", "2"},
         {"assignedto", nullptr},
         {"nosy", json::array{"3"}},
         {"messages", json::array{}},
         {"files", json::array{}},
         {"keyword", json::array{}},
         {"superseder", json::array{}}});
  }
  store_->seed_tracker_items(name_, rows);
}

// --- security ---

bool Tracker::check_passes(ItemCheck check, const Actor& actor, std::string_view klass,
                           std::string_view item_id) const {
  switch (check) {
    case ItemCheck::none:
      return true;
    case ItemCheck::self:
      return klass == "user" && !actor.user_id.empty() && item_id == actor.user_id;
    case ItemCheck::creator: {
      const ItemPtr item = find(klass, item_id);
      return item && !actor.user_id.empty() && string_of(item->get("creator")) == actor.user_id;
    }
    case ItemCheck::private_for: {
      const ItemPtr item = find(klass, item_id);
      if (!item) return false;
      const json::value pf = item->get("private_for");
      return pf.is_null() || string_of(pf).empty() ||
             (!actor.user_id.empty() && string_of(pf) == actor.user_id);
    }
  }
  return false;
}

bool Tracker::permission_matches(const Permission& p, std::string_view permission,
                                 std::string_view klass, std::string_view property,
                                 std::string_view item_id, const Actor& actor) const {
  if (p.name != permission) return false;
  if (p.klass && *p.klass != klass) return false;
  if (!property.empty() && !p.properties.empty() &&
      std::find(p.properties.begin(), p.properties.end(), property) == p.properties.end()) {
    return false;
  }
  if (!item_id.empty() && p.check != ItemCheck::none) {
    return check_passes(p.check, actor, klass, item_id);
  }
  return true;
}

bool Tracker::has_permission(const Actor& actor, std::string_view permission,
                             std::string_view klass, std::string_view property,
                             std::string_view item_id) const {
  for (const auto& role_name : actor.roles) {
    const Role* role = schema_.find_role(role_name);
    if (role == nullptr) continue;
    if (role->all) return true;
    for (const auto& p : role->permissions) {
      if (permission_matches(p, permission, klass, property, item_id, actor)) return true;
    }
  }
  return false;
}

bool Tracker::has_search_permission(const Actor& actor, std::string_view klass,
                                    std::string_view property) const {
  for (const auto& role_name : actor.roles) {
    const Role* role = schema_.find_role(role_name);
    if (role == nullptr) continue;
    if (role->all) return true;
    for (const auto& p : role->permissions) {
      if (permission_matches(p, "Search", klass, property, {}, actor)) return true;
      if (p.check == ItemCheck::none && permission_matches(p, "View", klass, property, {}, actor))
        return true;
    }
  }
  return false;
}

std::optional<Actor> Tracker::actor_for(std::string_view username,
                                        const std::vector<std::string>& roles) const {
  std::shared_lock lock(mutex_);
  const auto cls = data_.find("user");
  if (cls == data_.end()) return std::nullopt;
  const auto it = cls->second.keys.find(std::string(username));
  if (it == cls->second.keys.end()) return std::nullopt;
  return Actor{std::to_string(it->second), std::string(username), roles};
}

Actor Tracker::anonymous() const {
  std::shared_lock lock(mutex_);
  Actor a{"", "anonymous", {"Anonymous"}};
  const auto cls = data_.find("user");
  if (cls != data_.end()) {
    const auto it = cls->second.keys.find("anonymous");
    if (it != cls->second.keys.end()) a.user_id = std::to_string(it->second);
  }
  return a;
}

Actor Tracker::ensure_user(std::string_view username, const std::vector<std::string>& roles) {
  if (auto known = actor_for(username, roles)) return *known;
  std::string joined;
  for (const auto& r : roles) joined += (joined.empty() ? "" : ",") + r;
  Actor system{"", "gatehouse", {}};
  try {
    create(system, "user", {{"username", json::value(username)}, {"roles", json::value(joined)}});
  } catch (const TrackerError&) {
    // Another request created it first.
  }
  if (auto known = actor_for(username, roles)) return *known;
  throw TrackerError(ErrorKind::usage, "cannot create the user item for " + std::string(username));
}

// --- reads ---

const ClassDef& Tracker::get_class(std::string_view klass) const {
  const ClassDef* c = schema_.find(klass);
  if (c == nullptr) {
    throw TrackerError(ErrorKind::key, "'There is no class called \"" + std::string(klass) + "\"'");
  }
  return *c;
}

Property Tracker::get_property(const ClassDef& c, std::string_view property) const {
  if (const Property* p = c.find(property)) return *p;
  if (is_protected(property)) {
    Property p{std::string(property), protected_type(property), {}};
    if (p.type == PropType::link) p.target = "user";
    return p;
  }
  throw TrackerError(ErrorKind::key, quote_repr(property));
}

ItemPtr Tracker::find(std::string_view klass, std::string_view id) const {
  const auto numeric = parse_id(id);
  if (!numeric) return nullptr;
  std::shared_lock lock(mutex_);
  const auto cls = data_.find(std::string(klass));
  if (cls == data_.end()) return nullptr;
  const auto it = cls->second.items.find(*numeric);
  return it == cls->second.items.end() ? nullptr : it->second;
}

ItemPtr Tracker::get(std::string_view klass, std::string_view id) const {
  get_class(klass);
  ItemPtr item = find(klass, id);
  if (!item) {
    throw TrackerError(ErrorKind::index, std::string(klass) + " has no node " + std::string(id));
  }
  return item;
}

std::vector<ItemPtr> Tracker::list(std::string_view klass) const {
  get_class(klass);
  std::vector<ItemPtr> out;
  std::shared_lock lock(mutex_);
  const auto cls = data_.find(std::string(klass));
  if (cls == data_.end()) return out;
  out.reserve(cls->second.items.size());
  for (const auto& [id, item] : cls->second.items) {
    if (!item->retired) out.push_back(item);
  }
  return out;
}

std::string Tracker::lookup(std::string_view klass, std::string_view key) const {
  const ClassDef& c = get_class(klass);
  if (c.key.empty()) {
    throw TrackerError(ErrorKind::type, "No key property set for class " + c.name);
  }
  {
    std::shared_lock lock(mutex_);
    const auto cls = data_.find(c.name);
    if (cls != data_.end()) {
      const auto it = cls->second.keys.find(std::string(key));
      if (it != cls->second.keys.end()) return std::to_string(it->second);
    }
  }
  throw TrackerError(ErrorKind::key, quote_repr("No key (" + c.key + ") value \"" +
                                                std::string(key) + "\" for \"" + c.name + "\""));
}

std::vector<ItemPtr> Tracker::filter(std::string_view klass, const std::vector<std::string>* ids,
                                     const std::vector<FilterTerm>& terms,
                                     const std::vector<SortKey>& sort) const {
  const ClassDef& c = get_class(klass);
  std::vector<ItemPtr> items = list(klass);
  if (ids != nullptr) {
    std::set<std::int64_t> wanted;
    for (const auto& id : *ids) {
      if (auto n = parse_id(id)) wanted.insert(*n);
    }
    std::erase_if(items, [&](const ItemPtr& i) { return !wanted.contains(i->id); });
  }
  struct Compiled {
    Property property;
    std::vector<std::string> values;  // ids for links; "" stands for "unset" (-1)
    bool exact;
  };
  std::vector<Compiled> compiled;
  for (const auto& term : terms) {
    Compiled k{get_property(c, term.property), {}, term.exact};
    // Matching substrings of a password hash would reveal it piece by piece.
    if (k.property.type == PropType::password) {
      throw TrackerError(ErrorKind::usage, "Field " + term.property + " can not be searched.");
    }
    for (const auto& v : term.values) {
      if (k.property.type == PropType::link || k.property.type == PropType::multilink) {
        if (v == "-1") {
          k.values.emplace_back();
        } else if (parse_id(v)) {
          k.values.push_back(v);
        } else {
          try {
            k.values.push_back(lookup(k.property.target, v));
          } catch (const TrackerError&) {
            // No such key: matches nothing, as an unknown id would.
          }
        }
      } else {
        k.values.push_back(v);
      }
    }
    compiled.push_back(std::move(k));
  }
  const auto matches = [&](const Item& item, const Compiled& k) {
    const json::value v = item.get(k.property.name);
    for (const auto& want : k.values) {
      switch (k.property.type) {
        case PropType::string:
        case PropType::password:
          if (k.property.name == "id" ? string_of(v) == want
              : k.exact               ? string_of(v) == want
                                      : icontains(string_of(v), want)) {
            return true;
          }
          break;
        case PropType::number: {
          double d = 0;
          const auto r = std::from_chars(want.data(), want.data() + want.size(), d);
          if (r.ec == std::errc() && r.ptr == want.data() + want.size() && !v.is_null() &&
              number_of(v) == d) {
            return true;
          }
          break;
        }
        case PropType::boolean: {
          const bool b = iequals(want, "yes") || iequals(want, "true") || want == "1";
          if (v.is_bool() && v.get_bool() == b) return true;
          break;
        }
        case PropType::date: {
          const std::string text = v.is_string() ? std::string(v.get_string()) : std::string();
          const std::size_t semi = want.find(';');
          if (semi != std::string::npos) {
            const auto from = parse_date(trim_ws(std::string_view(want).substr(0, semi)));
            const auto to = parse_date(trim_ws(std::string_view(want).substr(semi + 1)));
            if (!text.empty() && (!from || text >= *from) && (!to || text <= *to)) return true;
          } else if (!text.empty() && text.starts_with(want)) {
            return true;
          }
          break;
        }
        case PropType::interval:
          if (auto secs = parse_interval(want); secs && v.is_int64() && v.get_int64() == *secs)
            return true;
          break;
        case PropType::link:
          if (want.empty() ? v.is_null() : string_of(v) == want) return true;
          break;
        case PropType::multilink:
          if (!v.is_array()) {
            if (want.empty()) return true;
            break;
          }
          if (want.empty()
                  ? v.get_array().empty()
                  : std::any_of(v.get_array().begin(), v.get_array().end(),
                                [&](const json::value& e) { return string_of(e) == want; })) {
            return true;
          }
          break;
      }
    }
    return false;
  };
  std::erase_if(items, [&](const ItemPtr& item) {
    return !std::all_of(compiled.begin(), compiled.end(),
                        [&](const Compiled& k) { return matches(*item, k); });
  });
  if (!sort.empty()) {
    std::vector<Property> keys;
    for (const auto& s : sort) {
      keys.push_back(get_property(c, s.property));
      if (keys.back().type == PropType::password) {
        throw TrackerError(ErrorKind::usage, "Field " + s.property + " can not be sorted on.");
      }
    }
    // Links sort by the linked item's order (when its class has one), else by its label.
    const auto sort_text = [this](const Property& p, const json::value& v) -> std::string {
      if (v.is_null()) return {};
      if (p.type == PropType::link) {
        const ItemPtr target = find(p.target, string_of(v));
        if (!target) return {};
        const ClassDef* tc = schema_.find(p.target);
        if (tc && tc->find("order")) return format_number(number_of(target->get("order")));
        return tc ? std::string(string_of(target->get(tc->label()))) : std::string();
      }
      if (v.is_string()) return std::string(v.get_string());
      return json::serialize(v);
    };
    std::stable_sort(items.begin(), items.end(), [&](const ItemPtr& a, const ItemPtr& b) {
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const Property& p = keys[i];
        const json::value va = a->get(p.name), vb = b->get(p.name);
        int cmp = 0;
        if (p.name == "id") {
          cmp = a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
        } else if (p.type == PropType::number || p.type == PropType::interval) {
          const double x = va.is_null() ? -INFINITY : number_of(va);
          const double y = vb.is_null() ? -INFINITY : number_of(vb);
          cmp = x < y ? -1 : x > y ? 1 : 0;
        } else if (p.type == PropType::link && schema_.find(p.target) &&
                   schema_.find(p.target)->find("order")) {
          const ItemPtr ta = va.is_null() ? nullptr : find(p.target, string_of(va));
          const ItemPtr tb = vb.is_null() ? nullptr : find(p.target, string_of(vb));
          const double x = ta ? number_of(ta->get("order")) : -INFINITY;
          const double y = tb ? number_of(tb->get("order")) : -INFINITY;
          cmp = x < y ? -1 : x > y ? 1 : 0;
        } else {
          const std::string x = sort_text(p, va), y = sort_text(p, vb);
          cmp = x < y ? -1 : x > y ? 1 : 0;
        }
        if (cmp != 0) return sort[i].descending ? cmp > 0 : cmp < 0;
      }
      return a->id < b->id;
    });
  }
  return items;
}

// --- values ---

json::value Tracker::from_raw(const ClassDef& c, const Property& p, std::string_view raw) const {
  const auto bad = [&](std::string_view what) {
    return TrackerError(ErrorKind::value,
                        "property " + p.name + ": " + quote_repr(raw) + " " + std::string(what));
  };
  switch (p.type) {
    case PropType::string:
      return json::value(raw);
    case PropType::password: {
      if (raw.size() > 1024) throw bad("is too long for a password");
      return json::value(auth::hash_argon2id(raw));
    }
    case PropType::number: {
      double d = 0;
      const std::string_view t = trim_ws(raw);
      const auto r = std::from_chars(t.data(), t.data() + t.size(), d);
      if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || !std::isfinite(d))
        throw bad("is not a number");
      return json::value(d);
    }
    case PropType::boolean: {
      const std::string_view t = trim_ws(raw);
      return json::value(iequals(t, "yes") || iequals(t, "true") || iequals(t, "on") ||
                         iequals(t, "checked") || t == "1");
    }
    case PropType::date: {
      auto d = parse_date(trim_ws(raw));
      if (!d) throw bad("is an invalid date (use yyyy-mm-dd.HH:MM:SS)");
      return json::value(*d);
    }
    case PropType::interval: {
      auto s = parse_interval(raw);
      if (!s) throw bad("is an invalid interval (use e.g. \"3w\", \"- 1d\", \"2d 1:30\")");
      return json::value(*s);
    }
    case PropType::link: {
      const std::string_view t = trim_ws(raw);
      if (t == "-1") return nullptr;
      if (parse_id(t)) return json::value(t);
      try {
        return json::value(lookup(p.target, t));
      } catch (const TrackerError&) {
        throw bad("is not a " + p.target + ".");
      }
    }
    case PropType::multilink: {
      std::vector<std::int64_t> ids;
      std::string_view rest = raw;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string_view part = trim_ws(rest.substr(0, comma));
        if (!part.empty()) {
          if (auto id = parse_id(part)) {
            ids.push_back(*id);
          } else {
            try {
              ids.push_back(*parse_id(lookup(p.target, part)));
            } catch (const TrackerError&) {
              throw TrackerError(ErrorKind::value, "property " + p.name + ": " + quote_repr(part) +
                                                       " is not a " + p.target + ".");
            }
          }
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      json::array out;
      for (const auto id : ids) out.emplace_back(std::to_string(id));
      return out;
    }
  }
  (void)c;
  return nullptr;
}

std::string Tracker::date_text(std::string_view stored, bool with_millis) {
  if (with_millis || stored.size() < 19) return std::string(stored);
  return std::string(stored.substr(0, 19));
}

std::string Tracker::interval_text(std::int64_t seconds) {
  // Roundup's Interval.__str__: "- 1d 2:00:00", "+ 3w", "+ 0:30".
  std::string out = seconds < 0 ? "- " : "+ ";
  std::uint64_t s = seconds < 0 ? static_cast<std::uint64_t>(-(seconds + 1)) + 1
                                : static_cast<std::uint64_t>(seconds);
  const std::uint64_t days = s / 86400;
  s %= 86400;
  std::string parts;
  if (days >= 7 && days % 7 == 0 && s == 0) return out + std::to_string(days / 7) + "w";
  if (days > 0) parts += std::to_string(days) + "d";
  if (s > 0 || days == 0) {
    char buf[32];
    if (s % 60 == 0) {
      std::snprintf(buf, sizeof buf, "%llu:%02llu", static_cast<unsigned long long>(s / 3600),
                    static_cast<unsigned long long>((s / 60) % 60));
    } else {
      std::snprintf(
          buf, sizeof buf, "%llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
          static_cast<unsigned long long>((s / 60) % 60), static_cast<unsigned long long>(s % 60));
    }
    if (!parts.empty()) parts += ' ';
    parts += buf;
  }
  return out + parts;
}

// --- writes ---

void Tracker::validate(const ClassDef& c, const json::object& values, std::int64_t id) const {
  for (const auto& [key_name, value] : values) {
    const std::string name(key_name);
    if (is_protected(name)) continue;
    const Property* p = c.find(name);
    if (p == nullptr) {
      throw TrackerError(ErrorKind::key, quote_repr(name));
    }
    if (value.is_null()) continue;
    switch (p->type) {
      case PropType::link:
        if (!value.is_string() || !find(p->target, value.get_string())) {
          throw TrackerError(ErrorKind::index,
                             p->target + " has no node " + std::string(string_of(value)));
        }
        break;
      case PropType::multilink:
        if (!value.is_array()) throw TrackerError(ErrorKind::value, name + " is not a list");
        for (const auto& e : value.get_array()) {
          if (!e.is_string() || !find(p->target, e.get_string())) {
            throw TrackerError(ErrorKind::index,
                               p->target + " has no node " + std::string(string_of(e)));
          }
        }
        break;
      case PropType::string:
      case PropType::password:
      case PropType::date:
        if (!value.is_string()) throw TrackerError(ErrorKind::value, name + " is not a string");
        break;
      case PropType::number:
        if (!value.is_number()) throw TrackerError(ErrorKind::value, name + " is not a number");
        break;
      case PropType::boolean:
        if (!value.is_bool()) throw TrackerError(ErrorKind::value, name + " is not a boolean");
        break;
      case PropType::interval:
        if (!value.is_int64()) throw TrackerError(ErrorKind::value, name + " is not an interval");
        break;
    }
  }
  if (!c.key.empty()) {
    const json::value* key = values.if_contains(c.key);
    if (key == nullptr || !key->is_string() || key->get_string().empty()) {
      throw TrackerError(ErrorKind::value, "key property " + c.key + " is required");
    }
    std::shared_lock lock(mutex_);
    const auto& keys = data_.at(c.name).keys;
    const auto it = keys.find(std::string(key->get_string()));
    if (it != keys.end() && it->second != id) {
      throw TrackerError(ErrorKind::value,
                         "node with key \"" + std::string(key->get_string()) + "\" exists");
    }
  }
}

std::string Tracker::create(const Actor& actor, std::string_view klass, const Changes& changes) {
  const ClassDef& c = get_class(klass);
  std::lock_guard writer(write_mutex_);
  json::object values;
  for (const auto& [name, value] : changes) {
    if (is_protected(name)) {
      throw TrackerError(ErrorKind::key, "'\"" + name + "\" is a reserved property'");
    }
    values[name] = value;
  }
  validate(c, values, 0);
  const std::string now = now_text();
  values["creation"] = now;
  values["activity"] = now;
  const json::value who = actor.user_id.empty() ? json::value(nullptr) : json::value(actor.user_id);
  values["creator"] = who;
  values["actor"] = who;
  state::TrackerItemRow row;
  row.klass = c.name;
  row.values = json::serialize(values);
  const std::uint64_t before = store_->tracker_generation();
  const std::int64_t id = store_->create_tracker_item(name_, row);
  const std::uint64_t after = store_->tracker_generation();
  auto item = std::make_shared<Item>();
  item->klass = c.name;
  item->id = id;
  item->values = std::move(values);
  std::unique_lock lock(mutex_);
  ClassItems& items = data_[c.name];
  if (!c.key.empty()) items.keys[std::string(string_of(item->get(c.key)))] = id;
  items.items[id] = std::move(item);
  if (after == before + 1 && before == loaded_generation_) loaded_generation_ = after;
  return std::to_string(id);
}

void Tracker::store_update(const Item& next) {
  state::TrackerItemRow row;
  row.klass = next.klass;
  row.id = next.id;
  row.values = json::serialize(next.values);
  row.retired = next.retired;
  row.version = next.version;
  const std::uint64_t before = store_->tracker_generation();
  if (!store_->update_tracker_item(name_, row)) {
    throw TrackerError(ErrorKind::precondition,
                       "the item changed meanwhile (another writer); fetch it and retry");
  }
  const std::uint64_t after = store_->tracker_generation();
  const ClassDef* c = schema_.find(next.klass);
  auto item = std::make_shared<Item>(next);
  std::unique_lock lock(mutex_);
  ClassItems& items = data_[next.klass];
  const auto old = items.items.find(next.id);
  if (c && !c->key.empty()) {
    if (old != items.items.end()) {
      const std::string old_key(string_of(old->second->get(c->key)));
      const auto k = items.keys.find(old_key);
      if (k != items.keys.end() && k->second == next.id) items.keys.erase(k);
    }
    if (!next.retired) items.keys[std::string(string_of(next.get(c->key)))] = next.id;
  }
  items.items[next.id] = std::move(item);
  if (after == before + 1 && before == loaded_generation_) loaded_generation_ = after;
}

std::vector<std::string> Tracker::set(const Actor& actor, std::string_view klass,
                                      std::string_view id, const Changes& changes,
                                      std::optional<std::int64_t> expected_version) {
  const ClassDef& c = get_class(klass);
  std::lock_guard writer(write_mutex_);
  const ItemPtr current = get(klass, id);
  if (expected_version && *expected_version != current->version) {
    throw TrackerError(ErrorKind::precondition, "If-Match etag does not match the item");
  }
  Item next = *current;
  std::vector<std::string> changed;
  for (const auto& [name, value] : changes) {
    if (is_protected(name)) {
      throw TrackerError(ErrorKind::key, "'\"" + name + "\" is a reserved property'");
    }
    if (c.find(name) == nullptr) throw TrackerError(ErrorKind::key, quote_repr(name));
    const json::value old = next.get(name);
    if (old != value) {
      next.values[name] = value;
      changed.push_back(name);
    }
  }
  validate(c, next.values, next.id);
  if (changed.empty()) return changed;
  next.values["activity"] = now_text();
  next.values["actor"] = actor.user_id.empty() ? json::value(nullptr) : json::value(actor.user_id);
  next.version = current->version + 1;
  store_update(next);
  return changed;
}

void Tracker::retire(const Actor& actor, std::string_view klass, std::string_view id) {
  std::lock_guard writer(write_mutex_);
  const ItemPtr current = get(klass, id);
  if (current->retired) return;
  Item next = *current;
  next.retired = true;
  next.values["activity"] = now_text();
  next.values["actor"] = actor.user_id.empty() ? json::value(nullptr) : json::value(actor.user_id);
  next.version = current->version + 1;
  store_update(next);
}

void Tracker::restore(const Actor& actor, std::string_view klass, std::string_view id) {
  const ClassDef& c = get_class(klass);
  std::lock_guard writer(write_mutex_);
  const ItemPtr current = get(klass, id);
  if (!current->retired) return;
  Item next = *current;
  next.retired = false;
  validate(c, next.values, next.id);  // its key may have been taken meanwhile
  next.values["activity"] = now_text();
  next.values["actor"] = actor.user_id.empty() ? json::value(nullptr) : json::value(actor.user_id);
  next.version = current->version + 1;
  store_update(next);
}

}  // namespace gatehouse::tracker
