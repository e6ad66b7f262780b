#include "tracker/xmlrpc_api.hpp"

#include <algorithm>
#include <boost/json/array.hpp>

namespace gatehouse::tracker {

namespace json = boost::json;
using xmlrpc::Value;

namespace {

constexpr std::size_t kMaxMulticall = 1000;

TrackerError type_error(std::string message) {
  return TrackerError(ErrorKind::type, std::move(message));
}

// A parameter that must be a string (Python would fail on anything else with a TypeError).
const std::string& text_param(const std::vector<Value>& params, std::size_t i,
                              std::string_view method, std::string_view name) {
  if (i >= params.size()) {
    throw type_error(std::string(method) + "() missing 1 required positional argument: '" +
                     std::string(name) + "'");
  }
  const std::string* s = params[i].if_string();
  if (s == nullptr) {
    throw type_error(std::string(method) + "(): " + std::string(name) + " must be a string");
  }
  return *s;
}

void at_most(const std::vector<Value>& params, std::size_t n, std::string_view method) {
  if (params.size() > n) {
    throw type_error(std::string(method) + "() takes from 1 to " + std::to_string(n) +
                     " positional arguments but " + std::to_string(params.size()) + " were given");
  }
}

// A filter or id-list element: strings as they are, integers as their decimal text.
std::optional<std::string> scalar_text(const Value& v) {
  if (const auto* s = v.if_string()) return *s;
  if (const auto* i = v.if_integer()) return std::to_string(*i);
  return std::nullopt;
}

}  // namespace

std::pair<std::string, std::string> split_designator(std::string_view designator) {
  // ^([A-Za-z](?:[A-Za-z_0-9]*[A-Za-z_]+)?)(\d+)$
  std::size_t digits = designator.size();
  while (digits > 0 && designator[digits - 1] >= '0' && designator[digits - 1] <= '9') --digits;
  const std::string_view klass = designator.substr(0, digits);
  const std::string_view id = designator.substr(digits);
  const bool ok = !klass.empty() && !id.empty() && id.size() <= 18 &&
                  std::isalpha(static_cast<unsigned char>(klass.front())) &&
                  std::all_of(klass.begin(), klass.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                  });
  if (!ok) {
    throw TrackerError(ErrorKind::designator,
                       "\"" + std::string(designator) + "\" not a node designator");
  }
  return {std::string(klass), std::string(id)};
}

bool XmlrpcApi::writes(const xmlrpc::MethodCall& call) {
  if (call.method == "create" || call.method == "set" || call.method == "action") return true;
  if (call.method != "system.multicall") return false;
  if (call.params.empty() || call.params[0].if_array() == nullptr) return false;
  for (const auto& entry : *call.params[0].if_array()) {
    const Value* name = entry.member("methodName");
    if (name == nullptr || name->if_string() == nullptr) continue;
    const std::string& m = *name->if_string();
    if (m == "create" || m == "set" || m == "action") return true;
  }
  return false;
}

std::string XmlrpcApi::dispatch(const Actor& actor, const xmlrpc::MethodCall& call) const {
  try {
    return xmlrpc::method_response(this->call(actor, call.method, call.params));
  } catch (const TrackerError& e) {
    return xmlrpc::fault_response(1, e.python_class() + ":" + e.what());
  } catch (const state::StoreError&) {
    return xmlrpc::fault_response(1,
                                  "<class 'roundup.hyperdb.DatabaseError'>:the tracker's "
                                  "store is unavailable; retry shortly");
  }
}

Value XmlrpcApi::call(const Actor& actor, std::string_view method,
                      const std::vector<Value>& params) const {
  if (method == "schema") {
    at_most(params, 0, "schema");
    return schema();
  }
  if (method == "list") return list(actor, params);
  if (method == "display") return display(actor, params);
  if (method == "create") return create(actor, params);
  if (method == "set") return set(actor, params);
  if (method == "lookup") return lookup(actor, params);
  if (method == "filter") return filter(actor, params);
  if (method == "action") return action(actor, params);
  if (method == "system.multicall") return multicall(actor, params);
  throw TrackerError(ErrorKind::method, "method \"" + std::string(method) + "\" is not supported");
}

Value XmlrpcApi::translate(const Property& p, const json::value& v) const {
  if (v.is_null()) {
    return p.type == PropType::multilink ? Value::array({}) : Value::nil();
  }
  switch (p.type) {
    case PropType::string:
      return Value::string(v.is_string() ? std::string(v.get_string()) : std::string());
    case PropType::password:
      // Roundup sends the password object's repr; gatehouse never sends a hash.
      return Value::string("<roundup.password.Password>");
    case PropType::number:
      if (v.is_int64()) return Value::real(static_cast<double>(v.get_int64()));
      return Value::real(v.is_double() ? v.get_double() : 0.0);
    case PropType::boolean:
      return Value::boolean(v.is_bool() && v.get_bool());
    case PropType::date:
      return Value::string("<Date " + std::string(v.is_string() ? v.get_string() : "") + ">");
    case PropType::interval:
      return Value::string("<Interval " + Tracker::interval_text(v.is_int64() ? v.get_int64() : 0) +
                           ">");
    case PropType::link:
      return Value::string(v.is_string() ? std::string(v.get_string()) : std::string());
    case PropType::multilink: {
      xmlrpc::Array out;
      if (v.is_array()) {
        for (const auto& e : v.get_array()) {
          if (e.is_string()) out.push_back(Value::string(std::string(e.get_string())));
        }
      }
      return Value::array(std::move(out));
    }
  }
  return Value::nil();
}

Value XmlrpcApi::schema() const {
  xmlrpc::Struct out;
  for (const auto& c : tracker_.schema().classes) {
    xmlrpc::Array props;
    for (const auto& p : c.properties) {
      props.push_back(Value::array({Value::string(p.name), Value::string(type_repr(p))}));
    }
    out.emplace_back(c.name, Value::array(std::move(props)));
  }
  return Value::structure(std::move(out));
}

Value XmlrpcApi::list(const Actor& actor, const std::vector<Value>& params) const {
  at_most(params, 2, "list");
  const std::string& klass = text_param(params, 0, "list", "classname");
  const ClassDef& c = tracker_.get_class(klass);
  std::string prop(c.label());
  if (params.size() > 1 && !params[1].is_nil()) prop = text_param(params, 1, "list", "propname");
  const Property p = tracker_.get_property(c, prop);
  xmlrpc::Array out;
  for (const ItemPtr& item : tracker_.list(klass)) {
    if (tracker_.has_permission(actor, "View", klass, prop, item->id_text())) {
      out.push_back(translate(p, item->get(prop)));
    }
  }
  return Value::array(std::move(out));
}

Value XmlrpcApi::display(const Actor& actor, const std::vector<Value>& params) const {
  const std::string& designator = text_param(params, 0, "display", "designator");
  const auto [klass, id] = split_designator(designator);
  const ClassDef& c = tracker_.get_class(klass);
  std::vector<std::string> props;
  for (std::size_t i = 1; i < params.size(); ++i) {
    props.push_back(text_param(params, i, "display", "property"));
  }
  if (props.empty()) {
    for (const auto& p : c.properties) props.push_back(p.name);
  }
  std::sort(props.begin(), props.end());
  props.erase(std::unique(props.begin(), props.end()), props.end());
  for (const auto& p : props) {
    if (!tracker_.has_permission(actor, "View", klass, p, id)) {
      throw TrackerError(ErrorKind::unauthorised,
                         "Permission to view " + p + " of " + designator + " denied");
    }
  }
  const ItemPtr item = tracker_.get(klass, id);
  xmlrpc::Struct out;
  for (const auto& p : props) {
    out.emplace_back(p, translate(tracker_.get_property(c, p), item->get(p)));
  }
  return Value::structure(std::move(out));
}

Changes XmlrpcApi::props_from_args(const ClassDef& c, const std::vector<Value>& params,
                                   std::size_t first) const {
  Changes changes;
  for (std::size_t i = first; i < params.size(); ++i) {
    const std::string* arg = params[i].if_string();
    if (arg == nullptr) throw TrackerError(ErrorKind::usage, "argument is not propname=value");
    const std::size_t eq = arg->find('=');
    if (eq == std::string::npos) {
      throw TrackerError(ErrorKind::usage, "argument \"" + *arg + "\" not propname=value");
    }
    const std::string key = arg->substr(0, eq);
    std::string_view value = std::string_view(*arg).substr(eq + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    const Property* p = c.find(key);
    if (p == nullptr) {
      throw TrackerError(ErrorKind::usage, "'" + key + "' is not a property of " + c.name);
    }
    try {
      if (value.empty()) {
        // Roundup: an empty value unsets the property, except a file's content.
        changes.emplace_back(key, key == "content" ? json::value("") : json::value(nullptr));
      } else {
        changes.emplace_back(key, tracker_.from_raw(c, *p, value));
      }
    } catch (const TrackerError& e) {
      if (e.kind() == ErrorKind::value) throw TrackerError(ErrorKind::usage, e.what());
      throw;
    }
  }
  return changes;
}

Value XmlrpcApi::create(const Actor& actor, const std::vector<Value>& params) const {
  const std::string& klass = text_param(params, 0, "create", "classname");
  if (!tracker_.has_permission(actor, "Create", klass)) {
    throw TrackerError(ErrorKind::unauthorised, "Permission to create " + klass + " denied");
  }
  const ClassDef& c = tracker_.get_class(klass);
  const Changes changes = props_from_args(c, params, 1);
  if (!c.key.empty() && std::none_of(changes.begin(), changes.end(),
                                     [&](const auto& ch) { return ch.first == c.key; })) {
    throw TrackerError(ErrorKind::usage, "you must provide the \"" + c.key + "\" property.");
  }
  for (const auto& [name, value] : changes) {
    if (!tracker_.has_permission(actor, "Create", klass, name)) {
      throw TrackerError(ErrorKind::unauthorised,
                         "Permission to create " + klass + "." + name + " denied");
    }
  }
  try {
    return Value::string(tracker_.create(actor, klass, changes));
  } catch (const TrackerError& e) {
    if (e.kind() == ErrorKind::value || e.kind() == ErrorKind::index ||
        e.kind() == ErrorKind::type) {
      throw TrackerError(ErrorKind::usage, e.what());
    }
    throw;
  }
}

Value XmlrpcApi::set(const Actor& actor, const std::vector<Value>& params) const {
  const std::string& designator = text_param(params, 0, "set", "designator");
  const auto [klass, id] = split_designator(designator);
  const ClassDef& c = tracker_.get_class(klass);
  const Changes changes = props_from_args(c, params, 1);
  for (const auto& [name, value] : changes) {
    if (!tracker_.has_permission(actor, "Edit", klass, name, id)) {
      throw TrackerError(ErrorKind::unauthorised,
                         "Permission to edit " + name + " of " + designator + " denied");
    }
  }
  try {
    tracker_.set(actor, klass, id, changes);
  } catch (const TrackerError& e) {
    if (e.kind() == ErrorKind::value || e.kind() == ErrorKind::index ||
        e.kind() == ErrorKind::type) {
      throw TrackerError(ErrorKind::usage, e.what());
    }
    throw;
  }
  return Value::nil();
}

Value XmlrpcApi::lookup(const Actor& actor, const std::vector<Value>& params) const {
  at_most(params, 2, "lookup");
  const std::string& klass = text_param(params, 0, "lookup", "classname");
  const std::string& key = text_param(params, 1, "lookup", "key");
  const ClassDef& c = tracker_.get_class(klass);
  if (!c.key.empty() && !tracker_.has_search_permission(actor, klass, c.key) &&
      !tracker_.has_permission(actor, "View", klass, c.key)) {
    throw TrackerError(ErrorKind::unauthorised, "Permission to lookup " + klass + " denied");
  }
  return Value::string(tracker_.lookup(klass, key));
}

Value XmlrpcApi::filter(const Actor& actor, const std::vector<Value>& params) const {
  at_most(params, 5, "filter");
  const std::string& klass = text_param(params, 0, "filter", "classname");
  const ClassDef& c = tracker_.get_class(klass);
  if (params.size() < 3) {
    throw type_error("filter() missing " + std::to_string(3 - params.size()) +
                     " required positional argument(s): 'search_matches', 'filterspec'");
  }
  std::optional<std::vector<std::string>> ids;
  if (!params[1].is_nil()) {
    const xmlrpc::Array* list = params[1].if_array();
    if (list == nullptr) throw type_error("filter(): search_matches must be a list or None");
    ids.emplace();
    for (const auto& v : *list) {
      auto t = scalar_text(v);
      if (!t) throw type_error("filter(): search_matches holds ids");
      ids->push_back(std::move(*t));
    }
  }
  const xmlrpc::Struct* spec = params[2].if_struct();
  if (spec == nullptr && !params[2].is_nil()) {
    throw type_error("filter(): filterspec must be a dict");
  }
  std::vector<FilterTerm> terms;
  if (spec != nullptr) {
    for (const auto& [name, value] : *spec) {
      FilterTerm term;
      term.property = name;
      if (const auto* list = value.if_array()) {
        for (const auto& v : *list) {
          if (auto t = scalar_text(v)) term.values.push_back(std::move(*t));
        }
      } else if (auto t = scalar_text(value)) {
        term.values.push_back(std::move(*t));
      } else if (const bool* b = value.if_boolean()) {
        term.values.push_back(*b ? "yes" : "no");
      } else {
        throw TrackerError(ErrorKind::value, "filter value for " + name + " is not a string");
      }
      tracker_.get_property(c, name);  // KeyError for an unknown property
      // Security.filterFilterspec: terms on properties the user may not search are dropped.
      if (tracker_.has_search_permission(actor, klass, name)) terms.push_back(std::move(term));
    }
  }
  std::vector<SortKey> sort;
  for (std::size_t which = 3; which < params.size(); ++which) {  // sort, then group
    const xmlrpc::Array* list = params[which].if_array();
    if (list == nullptr) {
      if (params[which].is_nil()) continue;
      throw type_error("filter(): sort and group are lists of (direction, property)");
    }
    for (const auto& entry : *list) {
      SortKey key;
      if (const auto* pair = entry.if_array(); pair != nullptr && pair->size() == 2 &&
                                               (*pair)[0].if_string() && (*pair)[1].if_string()) {
        key.descending = *(*pair)[0].if_string() == "-";
        key.property = *(*pair)[1].if_string();
      } else if (const auto* s = entry.if_string()) {
        key.descending = s->starts_with("-");
        key.property = s->substr(s->starts_with("-") || s->starts_with("+") ? 1 : 0);
      } else {
        throw type_error("filter(): sort and group are lists of (direction, property)");
      }
      tracker_.get_property(c, key.property);
      if (tracker_.has_search_permission(actor, klass, key.property)) sort.push_back(key);
    }
  }
  xmlrpc::Array out;
  for (const ItemPtr& item : tracker_.filter(klass, ids ? &*ids : nullptr, terms, sort)) {
    if (tracker_.has_permission(actor, "View", klass, {}, item->id_text())) {
      out.push_back(Value::string(item->id_text()));
    }
  }
  return Value::array(std::move(out));
}

Value XmlrpcApi::action(const Actor& actor, const std::vector<Value>& params) const {
  const std::string& name = text_param(params, 0, "action", "name");
  if (name != "retire" && name != "restore") {
    throw TrackerError(ErrorKind::method, "action \"" + name + "\" is not supported ");
  }
  at_most(params, 2, "action");
  const std::string& designator = text_param(params, 1, name, "designator");
  const auto [klass, id] = split_designator(designator);
  tracker_.get_class(klass);
  const bool retire = name == "retire";
  if (!tracker_.has_permission(actor, retire ? "Retire" : "Restore", klass, {}, id)) {
    throw TrackerError(ErrorKind::unauthorised, std::string("You do not have permission to ") +
                                                    (retire ? "retire" : "restore") + " the " +
                                                    klass + " class.");
  }
  if (retire && klass == "user") {
    const ItemPtr item = tracker_.get(klass, id);
    const json::value username = item->get("username");
    if (username == "admin" || username == "anonymous") {
      throw TrackerError(ErrorKind::value, "You may not retire the \"" +
                                               std::string(username.get_string()) + "\" user");
    }
  }
  if (retire) {
    tracker_.retire(actor, klass, id);
  } else {
    tracker_.restore(actor, klass, id);
  }
  return Value::nil();
}

Value XmlrpcApi::multicall(const Actor& actor, const std::vector<Value>& params) const {
  at_most(params, 1, "system.multicall");
  if (params.empty() || params[0].if_array() == nullptr) {
    throw type_error("system.multicall() takes a list of calls");
  }
  const xmlrpc::Array& calls = *params[0].if_array();
  if (calls.size() > kMaxMulticall) {
    throw TrackerError(ErrorKind::usage, "system.multicall: at most " +
                                             std::to_string(kMaxMulticall) + " calls at once");
  }
  xmlrpc::Array results;
  for (const auto& entry : calls) {
    const Value* name = entry.member("methodName");
    const Value* args = entry.member("params");
    xmlrpc::Struct fault;
    try {
      if (name == nullptr || name->if_string() == nullptr) {
        throw TrackerError(ErrorKind::key, "'methodName'");
      }
      if (*name->if_string() == "system.multicall") {
        throw TrackerError(ErrorKind::usage, "system.multicall may not be nested");
      }
      static const std::vector<Value> kNone;
      const std::vector<Value>& list =
          args == nullptr ? kNone : (args->if_array() ? *args->if_array() : kNone);
      if (args != nullptr && args->if_array() == nullptr) {
        throw type_error("params must be a list");
      }
      results.push_back(Value::array({call(actor, *name->if_string(), list)}));
      continue;
    } catch (const TrackerError& e) {
      fault.emplace_back("faultCode", Value::integer(1));
      fault.emplace_back("faultString", Value::string(e.python_class() + ":" + e.what()));
    }
    results.push_back(Value::structure(std::move(fault)));
  }
  return Value::array(std::move(results));
}

}  // namespace gatehouse::tracker
