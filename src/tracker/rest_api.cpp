#include "tracker/rest_api.hpp"
#include "gatehouse/http.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <ctime>
#include <set>

#include "jose/json_strict.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace gatehouse::tracker {

namespace json = boost::json;

namespace {

constexpr std::string_view kDefaultAllow = "OPTIONS, GET, POST, PUT, DELETE, PATCH";
// Roundup's RestfulInstance.max_response_row_size is 10 000 001 and a page must be smaller.
constexpr std::int64_t kMaxPageSize = 10'000'000;
constexpr std::size_t kMaxQueryFields = 256;
constexpr std::size_t kMaxJsonBody = 8 * 1024 * 1024;
constexpr std::string_view kEtagMismatch =
    "If-Match is missing or does not match. Retrieve asset and retry modification if valid.";

// A status Roundup raises outside its exception mapping (405 with its Allow list, 406, 415...).
struct RestError {
  int status;
  std::string message;
  std::string allow;  // for a 405: the methods the path has
};

TrackerError usage(std::string message) {
  return TrackerError(ErrorKind::usage, std::move(message));
}
TrackerError unauthorised(std::string message) {
  return TrackerError(ErrorKind::unauthorised, std::move(message));
}
TrackerError not_found(std::string message) {
  return TrackerError(ErrorKind::not_found, std::move(message));
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (true) {
    const std::size_t at = s.find(sep);
    out.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view string_of(const json::value& v) {
  return v.is_string() ? std::string_view(v.get_string()) : std::string_view();
}

double number_of(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return 0;
}

// Python's repr() of a float: shortest round-trip digits, positional for exponents -4..15 (with
// ".0" when integral), else "1e+16" / "1.5e-07".
void append_python_float(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
  if (!s.empty() && s.front() == '-') {
    out += '-';
    s.remove_prefix(1);
  }
  const std::size_t e = s.find('e');
  std::string digits;
  for (const char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exp = 0;
  std::string_view exp_text = s.substr(e + 1);
  const bool negative_exp = !exp_text.empty() && exp_text.front() == '-';
  if (!exp_text.empty() && (exp_text.front() == '-' || exp_text.front() == '+'))
    exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  if (negative_exp) exp = -exp;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-exp - 1), '0');
      out += digits;
    } else if (digits.size() <= static_cast<std::size_t>(exp) + 1) {
      out += digits;
      out.append(static_cast<std::size_t>(exp) + 1 - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(exp) + 1);
      out += '.';
      out += digits.substr(static_cast<std::size_t>(exp) + 1);
    }
    return;
  }
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  out += exp < 0 ? "e-" : "e+";
  const int magnitude = exp < 0 ? -exp : exp;
  if (magnitude < 10) out += '0';
  out += std::to_string(magnitude);
}

// Python's json.dumps: indent 0 = one line with ", " and ": " separators; else that many spaces
// per level. Strings are escaped by Boost.JSON (UTF-8 kept as is).
void write_json(std::string& out, const json::value& v, int indent, int level) {
  const auto newline = [&](int at) {
    out += '\n';
    out.append(static_cast<std::size_t>(at * indent), ' ');
  };
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      return;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      return;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      return;
    case json::kind::double_:
      append_python_float(out, v.get_double());
      return;
    case json::kind::string:
      out += json::serialize(v);
      return;
    case json::kind::array: {
      const json::array& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const auto& e : a) {
        if (!first) out += indent ? "," : ", ";
        first = false;
        if (indent) newline(level + 1);
        write_json(out, e, indent, level + 1);
      }
      if (indent) newline(level);
      out += ']';
      return;
    }
    case json::kind::object: {
      const json::object& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& [key, value] : o) {
        if (!first) out += indent ? "," : ", ";
        first = false;
        if (indent) newline(level + 1);
        out += json::serialize(json::string(key));
        out += ": ";
        write_json(out, value, indent, level + 1);
      }
      if (indent) newline(level);
      out += '}';
      return;
    }
  }
}

std::string to_json_text(const json::value& v, bool pretty) {
  std::string out;
  write_json(out, v, pretty ? 4 : 0, 0);
  out += '\n';
  return out;
}

json::value error_envelope(int status, std::string_view message) {
  json::object error;
  error["status"] = status;
  error["msg"] = message;
  json::object out;
  out["error"] = std::move(error);
  return out;
}

// RFC 3986 §2.1 for one path segment: '+' stays a plus.
std::optional<std::string> decode_segment(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const auto hex = util::hex_decode(s.substr(i + 1, 2));
    if (!hex) return std::nullopt;
    out += *hex;
    i += 2;
  }
  if (!util::is_valid_utf8(out) || util::has_control_chars(out)) return std::nullopt;
  return out;
}

// RFC 3986 §2.1 percent-encoding of a query component for @links.
std::string encode_component(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@' || c == ',' ||
        c == ':') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Parses a decimal integer; values beyond int64 saturate. nullopt when not an integer.
std::optional<std::int64_t> parse_int(std::string_view s) {
  s = trim(s);
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (!all_digits(s)) return std::nullopt;
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range) v = INT64_MAX;
  return negative ? -v : v;
}

std::string python_bool(bool b) {
  return b ? "True" : "False";
}

std::string number_text(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  std::string out;
  append_python_float(out, number_of(v));
  return out;
}

// A field value as text (what Roundup's FieldStorage emulation makes of it).
std::string field_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::bool_:
      return python_bool(v.get_bool());
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return number_text(v);
    case json::kind::array: {
      std::string out;
      for (const auto& e : v.get_array()) {
        if (!out.empty()) out += ',';
        out += field_text(e);
      }
      return out;
    }
    case json::kind::null:
    case json::kind::object:
      return {};
  }
  return {};
}

bool is_empty_input(const json::value& v) {
  return v.is_null() || (v.is_string() && v.get_string().empty()) ||
         (v.is_array() && v.get_array().empty());
}

std::string_view python_type(const Property& p, const json::value& stored) {
  if (stored.is_null() && p.type != PropType::multilink) return "<class 'NoneType'>";
  switch (p.type) {
    case PropType::string:
    case PropType::link:
      return "<class 'str'>";
    case PropType::number:
      return "<class 'float'>";
    case PropType::boolean:
      return "<class 'bool'>";
    case PropType::date:
      return "<class 'roundup.date.Date'>";
    case PropType::interval:
      return "<class 'roundup.date.Interval'>";
    case PropType::multilink:
      return "<class 'list'>";
    case PropType::password:
      return "<class 'roundup.password.Password'>";
  }
  return "<class 'str'>";
}

std::string password_placeholder(std::string_view hash) {
  // Roundup shows "[password hidden scheme <scheme>]"; the scheme is all that is revealed.
  std::string scheme = "ARGON2ID";
  if (hash.starts_with("$2")) scheme = "BCRYPT";
  if (hash.starts_with("{") && hash.find('}') != std::string_view::npos)
    scheme = upper(hash.substr(1, hash.find('}') - 1));
  return "[password hidden scheme " + scheme + "]";
}

std::string ctime_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

// The methods each route of Roundup's RestfulInstance answers, sorted (its 405 lists them so).
constexpr std::string_view kRootMethods = "GET, OPTIONS";
constexpr std::string_view kSummaryMethods = "GET";
constexpr std::string_view kDataMethods = "GET, OPTIONS";
constexpr std::string_view kCollectionMethods = "DELETE, GET, OPTIONS, POST";
constexpr std::string_view kItemMethods = "DELETE, GET, OPTIONS, PATCH, PUT";

void require_method(std::string_view method, std::string_view allowed) {
  for (const auto& m : split(allowed, ',')) {
    if (trim(m) == method) return;
  }
  throw RestError{
      405, "Method " + std::string(method) + " not allowed. Allowed: " + std::string(allowed),
      std::string(allowed)};
}

}  // namespace

// --- one request ---

struct Field {
  std::string name;
  json::value value;  // a string; from a JSON body also a list, number, boolean or null
  bool from_query = false;
};

struct RestApi::Call {
  const Actor& actor;
  std::string method;
  std::vector<Field> input;  // body fields, then query fields
  std::optional<std::string> if_match;
  bool pretty = true;
  int status = 200;
  std::optional<std::string> allow{std::string(kDefaultAllow)};
  std::vector<std::pair<std::string, std::string>> headers;

  const Field* field(std::string_view name) const {
    for (const auto& f : input) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
  void set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

Response rest_error_response(int status, std::string_view message) {
  Response r = Response::json(status, to_json_text(error_envelope(status, message), true));
  r.set("Allow", std::string(kDefaultAllow));
  return r;
}

RestApi::RestApi(Tracker& tracker, std::string base_url, std::string etag_key, const Clock& clock)
    : tracker_(tracker),
      base_url_(std::move(base_url)),
      data_path_(base_url_ + "rest/data"),
      etag_key_(std::move(etag_key)),
      clock_(clock) {}

bool RestApi::writes(const RestRequest& request) {
  const std::string m = upper(request.method);
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

std::string RestApi::derive_etag_key(std::string_view server_secret) {
  static constexpr std::string_view kLabel = "gatehouse tracker etags v1";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), server_secret.data(), static_cast<int>(server_secret.size()),
       reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

std::string RestApi::etag(const Item& item) const {
  std::string input = tracker_.name();
  input += '\n';
  input += item.klass;
  input += '\n';
  input += item.id_text();
  input += '\n';
  input += std::to_string(item.version);
  input += item.retired ? "\nretired\n" : "\nlive\n";
  input += json::serialize(item.values);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), etag_key_.data(), static_cast<int>(etag_key_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
  return "\"" + util::hex_encode(std::string_view(reinterpret_cast<const char*>(mac), size)) + "\"";
}

Response RestApi::handle(const Actor& actor, const RestRequest& request) const {
  Call call{actor, upper(request.method), {}, {}, true, 200, std::string(kDefaultAllow), {}};
  const auto finish = [&call](int status, const json::value* payload) {
    Response r;
    r.status = status;
    if (status != 204 && payload != nullptr) {
      r.body = to_json_text(*payload, call.pretty);
      r.set("Content-Type", "application/json");
    }
    if (call.allow) r.set("Allow", *call.allow);
    for (auto& [name, value] : call.headers) r.set(name, value);
    return r;
  };
  const auto fail = [&](int status, std::string_view message) {
    const json::value envelope = error_envelope(status, message);
    return finish(status, &envelope);
  };

  // Gate order (A3): Rest Access first.
  if (!tracker_.has_permission(actor, "Rest Access")) return fail(403, "Forbidden.");

  if (call.method == "HEAD") call.method = "GET";
  if (request.method_override) {
    if (call.method != "POST") {
      return fail(400, "X-HTTP-Method-Override: " + std::string(*request.method_override) +
                           " must be used with POST method not " + call.method + ".");
    }
    call.method = upper(trim(*request.method_override));
  }
  if (request.if_match) call.if_match = std::string(trim(*request.if_match));

  // The input: body fields first, then the query's.
  std::string query_error;
  std::vector<Field> query_fields;
  for (const auto& pair : split(request.query, '&')) {
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto name = util::percent_decode(std::string_view(pair).substr(0, eq));
    auto value = util::percent_decode(
        eq == std::string::npos ? std::string_view() : std::string_view(pair).substr(eq + 1));
    if (!name || !value || !util::is_valid_utf8(*name) || !util::is_valid_utf8(*value)) {
      query_error = "The query string is not valid percent-encoded UTF-8.";
      break;
    }
    if (query_fields.size() >= kMaxQueryFields) {
      query_error =
          "The query string has more than " + std::to_string(kMaxQueryFields) + " fields.";
      break;
    }
    query_fields.push_back(Field{std::move(*name), json::value(*value), true});
  }
  for (const auto& f : query_fields) {
    if (f.name == "@pretty") call.pretty = ascii_lower(string_of(f.value)) != "false";
  }
  if (!query_error.empty()) return fail(400, query_error);

  if (!request.body.empty() && call.method != "GET") {
    const std::string type =
        request.content_type
            ? ascii_lower(trim(request.content_type->substr(0, request.content_type->find(';'))))
            : std::string();
    if (type == "application/json") {
      std::string why;
      auto object = jose::parse_object_strict(request.body, &why, 32, kMaxJsonBody);
      if (!object) return fail(400, "Unable to parse the JSON body: " + why);
      for (auto& [key, value] : *object) {
        call.input.push_back(Field{std::string(key), std::move(value), false});
      }
    } else if (type == "application/x-www-form-urlencoded") {
      for (const auto& pair : split(request.body, '&')) {
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        auto name = util::percent_decode(std::string_view(pair).substr(0, eq));
        auto value = util::percent_decode(
            eq == std::string::npos ? std::string_view() : std::string_view(pair).substr(eq + 1));
        if (!name || !value || !util::is_valid_utf8(*name) || !util::is_valid_utf8(*value)) {
          return fail(400, "The form body is not valid percent-encoded UTF-8.");
        }
        call.input.push_back(Field{std::move(*name), json::value(*value), false});
      }
    } else {
      return fail(415, "Unable to process input of type " +
                           std::string(request.content_type.value_or("(none)")));
    }
  }
  for (auto& f : query_fields) call.input.push_back(std::move(f));
  if (const Field* p = call.field("@pretty"))
    call.pretty = ascii_lower(field_text(p->value)) != "false";

  // Content negotiation: JSON only (Roundup's XML needs dicttoxml). Roundup's Accept parser,
  // with vendor types ("application/vnd.x-v1+json") and a version parameter.
  std::optional<std::int64_t> api_version;
  if (request.accept && !trim(*request.accept).empty()) {
    struct Range {
      std::string type;
      std::optional<std::string> version;
      double q = 1.0;
    };
    std::vector<Range> ranges;
    for (const auto& part : split(*request.accept, ',')) {
      auto params = split(part, ';');
      Range range;
      range.type = ascii_lower(trim(params[0]));
      const std::size_t slash = range.type.find('/');
      if (slash == std::string::npos) {
        return fail(406, "Unable to parse Accept Header. Invalid media type: " + range.type +
                             ". Acceptable types: */* application/json");
      }
      std::string subtype = range.type.substr(slash + 1);
      if (const std::size_t plus = subtype.find('+'); plus != std::string::npos) {
        std::string vnd = subtype.substr(0, plus);
        if (vnd.starts_with("vnd")) {
          if (const std::size_t v = vnd.rfind("-v"); v != std::string::npos && v + 2 < vnd.size())
            range.version = vnd.substr(v + 2);
          range.type = range.type.substr(0, slash + 1) + subtype.substr(plus + 1);
        }
      }
      for (std::size_t i = 1; i < params.size(); ++i) {
        const std::string_view param = trim(params[i]);
        const std::size_t eq = param.find('=');
        if (eq == std::string_view::npos) {
          return fail(406, "Unable to parse Accept Header. Invalid param: " + std::string(param) +
                               ". Acceptable types: */* application/json");
        }
        const std::string key(trim(param.substr(0, eq)));
        const std::string value(trim(param.substr(eq + 1)));
        if (key == "q") {
          double q = 0;
          const auto r = std::from_chars(value.data(), value.data() + value.size(), q);
          range.q = r.ec == std::errc() ? (q > 1.0 ? 0.0001 : q) : 0.0;
        } else if (key == "version") {
          range.version = value;
        }
      }
      ranges.push_back(std::move(range));
    }
    std::stable_sort(ranges.begin(), ranges.end(),
                     [](const Range& a, const Range& b) { return a.q > b.q; });
    const auto chosen = std::find_if(ranges.begin(), ranges.end(), [](const Range& r) {
      return r.type == "application/json" || r.type == "*/*";
    });
    if (chosen == ranges.end()) {
      Response r = Response::text(406, "Requested content type '" + std::string(*request.accept) +
                                           "' is not available.\nAcceptable types: */*, "
                                           "application/json\n");
      if (call.allow) r.set("Allow", *call.allow);
      return r;
    }
    if (chosen->version) {
      api_version = parse_int(*chosen->version);
      if (!api_version) {
        return fail(400, "Unrecognized api version: " + *chosen->version +
                             ". See /rest without specifying api version for supported "
                             "versions.");
      }
    }
  }
  if (!api_version) {
    if (const Field* v = call.field("@apiver")) {
      api_version = parse_int(field_text(v->value));
      if (!api_version) {
        return fail(400, "Unrecognized api version: " + field_text(v->value) +
                             ". See /rest without specifying api version for supported "
                             "versions.");
      }
    }
  }
  if (api_version && *api_version != 1) {
    return fail(400, "Unrecognized api version: " + std::to_string(*api_version) +
                         ". See /rest without specifying api version for supported versions.");
  }

  try {
    return [&] {
      std::string path(request.path);
      // A ".json" suffix asks for JSON; ".xml" for XML, which is not available (406).
      if (path.ends_with(".json")) path.resize(path.size() - 5);
      if (path.ends_with(".xml")) {
        throw RestError{406,
                        "Requested content type 'xml' is not available. Acceptable types: */*, "
                        "application/json",
                        {}};
      }
      std::string_view trimmed = path;
      while (!trimmed.empty() && trimmed.front() == '/') trimmed.remove_prefix(1);
      while (!trimmed.empty() && trimmed.back() == '/') trimmed.remove_suffix(1);
      std::vector<std::string> segments;
      if (!trimmed.empty()) {
        for (const auto& raw : split(trimmed, '/')) {
          auto decoded = decode_segment(raw);
          if (!decoded || decoded->empty()) throw not_found("Nothing matches the given URI");
          segments.push_back(std::move(*decoded));
        }
      }
      // Roundup's route variables never start with '@' (its @poe routes are not offered).
      for (std::size_t i = 2; i < segments.size(); ++i) {
        if (segments[i].starts_with("@")) throw not_found("Nothing matches the given URI");
      }
      const std::string& m = call.method;
      json::value data;
      if (segments.empty()) {
        require_method(m, kRootMethods);
        if (m == "OPTIONS") {
          call.allow = "OPTIONS, GET";
          call.set_header("Access-Control-Allow-Methods", "OPTIONS, GET");
          call.status = 204;
        } else {
          data = describe();
        }
      } else if (segments[0] == "summary" && segments.size() == 1) {
        require_method(m, kSummaryMethods);
        data = summary(call);
      } else if (segments[0] != "data" || segments.size() > 4) {
        throw not_found("Nothing matches the given URI");
      } else if (segments.size() == 1) {
        require_method(m, kDataMethods);
        if (m == "OPTIONS") {
          call.allow = "OPTIONS, GET";
          call.set_header("Access-Control-Allow-Methods", "OPTIONS, GET");
          call.status = 204;
        } else {
          data = data_index(call);
        }
      } else {
        require_method(m, segments.size() == 2 ? kCollectionMethods : kItemMethods);
        const ClassDef* c = tracker_.schema().find(segments[1]);
        if (c == nullptr) throw not_found("Class " + segments[1] + " not found");
        if (segments.size() == 2) {
          if (m == "GET") {
            data = get_collection(call, *c);
          } else if (m == "POST") {
            data = post_collection(call, *c);
          } else if (m == "DELETE") {
            throw unauthorised("Deletion of a whole class disabled");
          } else {
            call.allow = "OPTIONS, GET, POST";
            call.set_header("Access-Control-Allow-Methods", "OPTIONS, GET, POST");
            call.status = 204;
          }
        } else if (segments.size() == 3) {
          const std::string& id = segments[2];
          if (m == "GET") {
            data = get_element(call, *c, id);
          } else if (m == "PUT") {
            data = put_element(call, *c, id);
          } else if (m == "PATCH") {
            data = patch_element(call, *c, id);
          } else if (m == "DELETE") {
            data = delete_element(call, *c, id);
          } else {
            call.allow = "OPTIONS, GET, PUT, DELETE, PATCH";
            call.set_header("Accept-Patch", "application/json, application/x-www-form-urlencoded");
            call.set_header("Access-Control-Allow-Methods", "OPTIONS, GET, PUT, DELETE, PATCH");
            call.status = 204;
          }
        } else {
          const std::string& id = segments[2];
          const std::string& property = segments[3];
          if (m == "GET") {
            data = get_attribute(call, *c, id, property);
          } else if (m == "PUT") {
            data = put_attribute(call, *c, id, property);
          } else if (m == "PATCH") {
            data = patch_attribute(call, *c, id, property);
          } else if (m == "DELETE") {
            data = delete_attribute(call, *c, id, property);
          } else if (c->find(property) != nullptr) {
            call.allow = "OPTIONS, GET, PUT, DELETE, PATCH";
            call.set_header("Accept-Patch", "application/json, application/x-www-form-urlencoded");
            call.set_header("Access-Control-Allow-Methods", "OPTIONS, GET, PUT, DELETE, PATCH");
            call.status = 204;
          } else if (is_protected(property)) {
            call.allow = "OPTIONS, GET";
            call.set_header("Access-Control-Allow-Methods", "OPTIONS, GET");
            call.status = 204;
          } else {
            throw not_found("Attribute " + property + " not valid for Class " + c->name);
          }
        }
      }
      json::object envelope;
      envelope["data"] = std::move(data);
      const json::value out(std::move(envelope));
      return finish(call.status, &out);
    }();
  } catch (const TrackerError& e) {
    call.headers.clear();
    return fail(e.rest_status(), e.what());
  } catch (const RestError& e) {
    call.headers.clear();
    if (!e.allow.empty()) call.allow = e.allow;
    return fail(e.status, e.message);
  } catch (const state::StoreError& e) {
    util::diag().error("tracker {}: REST {} {}: store failed: {}", tracker_.name(), call.method,
                       request.path, e.what());
    call.headers.clear();
    call.set_header("Retry-After", "1");
    return fail(503, "The tracker's store is unavailable; retry shortly.");
  } catch (const std::exception& e) {
    // Roundup's catch-all: a 400 that points at the log.
    util::diag().error("tracker {}: REST {} {} failed: {}", tracker_.name(), call.method,
                       request.path, e.what());
    call.headers.clear();
    return fail(400, ctime_now() +
                         ": An error occurred. Please check the server log for more "
                         "information.");
  }
}

// --- resources ---

json::value RestApi::describe() const {
  json::object out;
  out["default_version"] = 1;
  out["supported_versions"] = json::array{1};
  json::array links;
  for (const auto& [uri, rel] : {std::pair<std::string, std::string_view>{"rest", "self"},
                                 {"rest/data", "data"},
                                 {"rest/summary", "summary"}}) {
    json::object link;
    link["uri"] = base_url_ + uri;
    link["rel"] = rel;
    links.push_back(std::move(link));
  }
  out["links"] = std::move(links);
  return out;
}

json::value RestApi::data_index(const Call& call) const {
  json::object out;
  for (const auto& c : tracker_.schema().classes) {  // sorted by name
    if (tracker_.has_permission(call.actor, "View", c.name)) {
      json::object link;
      link["link"] = base_url_ + "rest/data/" + c.name;
      out[c.name] = std::move(link);
    }
  }
  return out;
}

json::value RestApi::summary(const Call& call) const {
  // Roundup's summary: issues active during the last week, by status name; those created in it;
  // and "most discussed" as (message count, issue) pairs, in id order as Roundup leaves them.
  // gatehouse keeps no history, so the count is the issue's number of messages.
  const ClassDef* issue = tracker_.schema().find("issue");
  const ClassDef* status = tracker_.schema().find("status");
  if (issue == nullptr || status == nullptr) throw not_found("Class issue not found");
  if (!tracker_.has_permission(call.actor, "View", "issue") &&
      !tracker_.has_permission(call.actor, "View", "status")) {
    throw unauthorised("Permission to view summary denied");
  }
  const std::int64_t week_ago_ms = clock_.now_ms() - 7LL * 86400 * 1000;
  const std::time_t seconds = static_cast<std::time_t>(week_ago_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char since[64];
  std::snprintf(since, sizeof since, "%04d-%02d-%02d.%02d:%02d:%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  json::array created;
  json::object by_status;
  json::array discussed;
  for (const ItemPtr& item : tracker_.filter(
           "issue", nullptr, {FilterTerm{"activity", {std::string(since) + ";"}}}, {})) {
    if (!tracker_.has_permission(call.actor, "View", "issue", {}, item->id_text())) continue;
    json::object object;
    object["id"] = item->id_text();
    object["link"] = data_path_ + "/issue/" + item->id_text();
    object["title"] = item->get("title");
    if (string_of(item->get("creation")) >= std::string_view(since)) created.push_back(object);
    std::string status_name = "None";
    if (const ItemPtr s = tracker_.find("status", string_of(item->get("status")))) {
      status_name = std::string(string_of(s->get(status->label())));
    }
    json::value& list = by_status[status_name];
    if (!list.is_array()) list = json::array{};
    list.get_array().push_back(object);
    const json::value messages = item->get("messages");
    const std::int64_t count =
        messages.is_array() ? static_cast<std::int64_t>(messages.get_array().size()) : 0;
    if (discussed.size() < 10) discussed.push_back(json::array{count, object});
  }
  json::object out;
  out["created"] = std::move(created);
  out["summary"] = std::move(by_status);
  out["most_discussed"] = std::move(discussed);
  return out;
}

std::vector<std::string> RestApi::transitive_props(const Call& call, const ClassDef& c,
                                                   const std::vector<std::string>& names) const {
  // Roundup's transitive_props: every component exists, none is a multilink, and the actor may
  // View each one (class-wide).
  std::vector<std::string> checked;
  for (const auto& name : names) {
    const std::vector<std::string> parts = split(name, '.');
    if (parts.size() == 1) {
      try {
        tracker_.get_property(c, name);
      } catch (const TrackerError&) {
        throw TrackerError(ErrorKind::key, "'Unknown property: " + name + "'");
      }
      checked.push_back(name);
      continue;
    }
    const ClassDef* cls = &c;
    std::string consumed;
    for (const auto& part : parts) {
      if (cls == nullptr) {
        throw usage("Property " + consumed + " can not be dereferenced in " + name + ".");
      }
      Property p;
      try {
        p = tracker_.get_property(*cls, part);
      } catch (const TrackerError&) {
        throw TrackerError(ErrorKind::key, "'Unknown property: " + name + "'");
      }
      if (p.type == PropType::multilink) throw usage("Multilink Traversal not allowed: " + name);
      if (!tracker_.has_permission(call.actor, "View", cls->name, part)) {
        throw unauthorised("User does not have permission on \"" + cls->name + "." + part + "\"");
      }
      consumed += (consumed.empty() ? "" : ".") + part;
      cls = p.type == PropType::link ? tracker_.schema().find(p.target) : nullptr;
    }
    checked.push_back(name);
  }
  return checked;
}

FilterTerm RestApi::resolve_transitive(const ClassDef& c, const std::vector<std::string>& path,
                                       FilterTerm term) const {
  if (path.size() == 1) {
    term.property = path[0];
    return term;
  }
  // classes[i] holds path[i]; every path[i] but the last is a link (transitive_props checked).
  std::vector<const ClassDef*> classes{&c};
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    classes.push_back(&tracker_.get_class(tracker_.get_property(*classes[i], path[i]).target));
  }
  term.property = path.back();
  std::vector<std::string> ids;
  for (const ItemPtr& item : tracker_.filter(classes.back()->name, nullptr, {term}, {})) {
    ids.push_back(item->id_text());
  }
  for (std::size_t i = path.size() - 2; i >= 1; --i) {
    std::vector<std::string> next;
    for (const ItemPtr& item :
         tracker_.filter(classes[i]->name, nullptr, {FilterTerm{path[i], ids, false}}, {})) {
      next.push_back(item->id_text());
    }
    ids = std::move(next);
  }
  return FilterTerm{path[0], std::move(ids), false};
}

json::value RestApi::plain_value(const Property& p, const json::value& v) const {
  if (v.is_null()) return p.type == PropType::multilink ? json::value(json::array{}) : nullptr;
  switch (p.type) {
    case PropType::string:
    case PropType::link:
    case PropType::boolean:
      return v;
    case PropType::number:
      return json::value(number_of(v));
    case PropType::date:
      return json::value(Tracker::date_text(string_of(v), false));
    case PropType::interval:
      return json::value(Tracker::interval_text(v.is_int64() ? v.get_int64() : 0));
    case PropType::multilink:
      return v.is_array() ? v : json::value(json::array{});
    case PropType::password:
      return json::value(password_placeholder(string_of(v)));
  }
  return v;
}

json::object RestApi::format_item(const Call& call, const Item& item,
                                  const std::vector<std::string>& properties, int verbose) const {
  json::object out;
  std::vector<std::string> sorted = properties;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (const auto& name : sorted) {
    const std::vector<std::string> parts = split(name, '.');
    const ClassDef* cls = &tracker_.get_class(item.klass);
    const Item* node = &item;
    ItemPtr held;
    std::string id = item.id_text();
    std::optional<Property> prop;
    json::value v;
    bool ok = false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (!tracker_.has_permission(call.actor, "View", cls->name, parts[i], id)) break;
      if (i > 0) {
        held = tracker_.find(cls->name, id);
        if (!held) break;
        node = held.get();
      }
      try {
        prop = tracker_.get_property(*cls, parts[i]);
      } catch (const TrackerError&) {
        throw usage("'" + parts[i] + "' field not valid");
      }
      v = node->get(parts[i]);
      if (i + 1 == parts.size()) {
        ok = true;
        break;
      }
      if (v.is_null()) {  // an empty link on the way: the value is None
        prop.reset();
        ok = true;
        break;
      }
      if (prop->type != PropType::link) break;
      cls = &tracker_.get_class(prop->target);
      id = std::string(string_of(v));
    }
    if (!ok) continue;
    if (!prop) {
      out[name] = nullptr;
      continue;
    }
    const Property& p = *prop;
    if ((p.type == PropType::link || p.type == PropType::multilink) && verbose > 0 &&
        !v.is_null() && !(v.is_array() && v.get_array().empty())) {
      const ClassDef* target = tracker_.schema().find(p.target);
      const auto linked = [&](std::string_view target_id) {
        json::object d;
        d["id"] = target_id;
        d["link"] = data_path_ + "/" + p.target + "/" + std::string(target_id);
        if (verbose > 1 && target != nullptr) {
          const std::string label(target->label());
          const ItemPtr t = tracker_.find(p.target, target_id);
          d[label] = t ? t->get(label) : json::value(nullptr);
        }
        return d;
      };
      if (v.is_array()) {
        json::array list;
        for (const auto& e : v.get_array()) list.push_back(linked(string_of(e)));
        out[name] = std::move(list);
      } else {
        out[name] = linked(string_of(v));
      }
    } else if (p.type == PropType::string && name == "content" && verbose < 3) {
      // Roundup links to the web download instead of showing a possibly huge content; here
      // the link is the property's own REST URI.
      json::object link;
      link["link"] = data_path_ + "/" + item.klass + "/" + item.id_text() + "/content";
      out[name] = std::move(link);
    } else {
      out[name] = plain_value(p, v);
    }
  }
  return out;
}

json::value RestApi::to_stored(const ClassDef& c, const Property& p,
                               const json::value& input) const {
  if (is_empty_input(input)) {
    return p.type == PropType::multilink ? json::value(json::array{}) : json::value(nullptr);
  }
  try {
    switch (input.kind()) {
      case json::kind::object:
        throw usage("property " + p.name + ": an object is not a valid value");
      case json::kind::bool_:
        if (p.type == PropType::boolean) return input;
        return tracker_.from_raw(c, p, python_bool(input.get_bool()));
      case json::kind::int64:
      case json::kind::uint64:
      case json::kind::double_:
        if (p.type == PropType::number) return json::value(number_of(input));
        return tracker_.from_raw(c, p, number_text(input));
      case json::kind::array: {
        if (p.type != PropType::multilink) {
          throw usage("property " + p.name + ": a list is only valid for a Multilink");
        }
        std::set<std::int64_t> ids;
        for (const auto& e : input.get_array()) {
          if (!e.is_string() && !e.is_number()) {
            throw usage("property " + p.name + ": list elements must be ids or names");
          }
          const json::value one = tracker_.from_raw(c, p, field_text(e));
          for (const auto& id : one.get_array()) {
            ids.insert(std::stoll(std::string(string_of(id))));
          }
        }
        json::array out;
        for (const auto id : ids) out.emplace_back(std::to_string(id));
        return out;
      }
      case json::kind::string:
        return tracker_.from_raw(c, p, input.get_string());
      case json::kind::null:
        return nullptr;
    }
  } catch (const TrackerError& e) {
    // hyperdb.HyperdbValueError from rawToHyperdb → UsageError (400).
    if (e.kind() == ErrorKind::value) throw usage(e.what());
    throw;
  }
  return nullptr;
}

Changes RestApi::props_from_args(const Call& call, const ClassDef& c, bool skip_protected) const {
  if (call.input.empty()) throw usage("No properties found.");
  Changes changes;
  for (const auto& f : call.input) {
    if (f.name.starts_with("@")) continue;  // a meta setting
    if (is_protected(f.name)) {
      if (skip_protected) continue;  // lets a client send back a whole item it fetched
      throw usage("Property " + f.name + " of class " + c.name + " is read-only");
    }
    const Property* p = c.find(f.name);
    if (p == nullptr) throw usage("Property " + f.name + " not found in class " + c.name);
    json::value value = to_stored(c, *p, f.value);
    const auto same = std::find_if(changes.begin(), changes.end(),
                                   [&](const auto& ch) { return ch.first == f.name; });
    if (same != changes.end()) {
      same->second = std::move(value);
    } else {
      changes.emplace_back(f.name, std::move(value));
    }
  }
  return changes;
}

ItemPtr RestApi::require_etag(const Call& call, const ClassDef& c, const std::string& id) const {
  const ItemPtr item = tracker_.get(c.name, id);  // IndexError (404) when absent
  const std::string current = etag(*item);
  // Roundup's check_etag: every etag given must match, and at least one must be given. A
  // content-coding suffix ("...-gzip") is dropped first; unquoted tags are accepted too.
  std::vector<std::string> given;
  if (const Field* f = call.field("@etag")) given.push_back(field_text(f->value));
  if (call.if_match) given.push_back(*call.if_match);
  bool matched = false;
  for (std::string tag : given) {
    tag = std::string(trim(tag));
    const bool quoted = tag.starts_with("\"");
    if (const std::size_t dash = tag.rfind('-'); dash != std::string::npos) {
      tag.resize(dash);
      if (quoted) tag += '"';
    }
    if (!quoted) tag = "\"" + tag + "\"";
    if (tag != current) {
      matched = false;
      break;
    }
    matched = true;
  }
  if (!matched) throw TrackerError(ErrorKind::precondition, std::string(kEtagMismatch));
  return item;
}

json::object RestApi::apply_set(const Call& call, const ClassDef& c, const ItemPtr& item,
                                const Changes& changes) const {
  std::vector<std::string> changed;
  try {
    changed = tracker_.set(call.actor, c.name, item->id_text(), changes, item->version);
  } catch (const TrackerError& e) {
    switch (e.kind()) {
      case ErrorKind::value:
      case ErrorKind::index:
      case ErrorKind::type:
        throw TrackerError(ErrorKind::value, e.what());  // Roundup: raise ValueError(message)
      case ErrorKind::precondition:
        throw TrackerError(ErrorKind::precondition, std::string(kEtagMismatch));
      case ErrorKind::key:
        throw usage(e.what());
      case ErrorKind::unauthorised:
      case ErrorKind::not_found:
      case ErrorKind::usage:
      case ErrorKind::reject:
      case ErrorKind::method:
      case ErrorKind::designator:
        throw;
    }
    throw;
  }
  json::object out;
  const ItemPtr now = tracker_.get(c.name, item->id_text());
  for (const auto& name : changed) {
    out[name] = plain_value(tracker_.get_property(c, name), now->get(name));
  }
  return out;
}

json::value RestApi::get_collection(Call& call, const ClassDef& c) const {
  const Actor& actor = call.actor;
  if (!tracker_.has_permission(actor, "View", c.name)) {
    throw unauthorised("Permission to view " + c.name + " denied");
  }
  std::optional<std::int64_t> page_size;
  std::int64_t page_index = 1;
  int verbose = 1;
  std::vector<std::string> display;
  std::vector<SortKey> sort, group;
  struct Search {
    std::string key;  // as given, without the ':' or '~'
    FilterTerm term;  // values for the last component of key
  };
  std::vector<Search> searches;

  const auto sort_keys = [&](const std::string& value, std::vector<SortKey>& into) {
    for (const auto& p : split(value, ',')) {
      if (p.empty()) throw usage("Empty property for class " + c.name + ".");
      SortKey key;
      key.descending = p.front() == '-';
      key.property = p.front() == '-' || p.front() == '+' ? p.substr(1) : p;
      PropType type = PropType::string;
      try {
        type = tracker_.get_property(c, key.property).type;
      } catch (const TrackerError&) {
        throw TrackerError(ErrorKind::key, "'Unknown property: " + key.property + "'");
      }
      if (type == PropType::password) {
        throw usage("Field " + key.property + " can not be sorted on.");
      }
      if (!tracker_.has_search_permission(actor, c.name, key.property)) {
        throw unauthorised("User does not have search permission on \"" + c.name + "." +
                           key.property + "\"");
      }
      into.push_back(std::move(key));
    }
  };

  for (const auto& f : call.input) {
    std::string key = f.name;
    const std::string value = field_text(f.value);
    if (key.starts_with("@page_")) {
      const auto n = parse_int(value);
      if (!n) throw usage("Value of " + key + " must be an integer, got '" + value + "'.");
      if (key == "@page_size") page_size = std::min(*n, kMaxPageSize);
      if (key == "@page_index") page_index = *n;
    } else if (key == "@verbose") {
      const auto n = parse_int(value);
      if (!n) throw usage("Value of @verbose must be an integer, got '" + value + "'.");
      verbose = static_cast<int>(std::clamp<std::int64_t>(*n, -1, 10));
    } else if (key == "@fields" || key == "@attrs") {
      auto names = split(value, ',');
      if (names.size() == 1) names = split(value, ':');
      for (auto& name : transitive_props(call, c, names)) display.push_back(std::move(name));
    } else if (key == "@sort") {
      sort_keys(value, sort);
    } else if (key == "@group") {
      sort_keys(value, group);
    } else if (key.starts_with("@")) {
      continue;  // @verbose, @pretty, @apiver, ... or unknown: ignored as Roundup does
    } else {
      bool exact = false;
      if (key.ends_with(":")) {
        exact = true;
        key.pop_back();
      } else if (key.ends_with("~")) {
        key.pop_back();
      }
      const std::vector<std::string> path = split(key, '.');
      if (c.find(path[0]) == nullptr && !is_protected(path[0])) {
        throw usage("Field " + path[0] + " is not valid for " + c.name + " class.");
      }
      transitive_props(call, c, {key});
      // The final property, and the actor's Search permission along the way.
      const ClassDef* cls = &c;
      Property last;
      for (std::size_t i = 0; i < path.size(); ++i) {
        last = tracker_.get_property(*cls, path[i]);
        if (!tracker_.has_search_permission(actor, cls->name, path[i])) {
          throw unauthorised("User does not have search permission on \"" + c.name + "." + key +
                             "\"");
        }
        if (i + 1 < path.size()) cls = &tracker_.get_class(last.target);
      }
      // Matching substrings of a password hash would leak it piece by piece.
      if (last.type == PropType::password) throw usage("Field " + key + " can not be searched.");
      std::vector<std::string> values;
      if (last.type == PropType::link || last.type == PropType::multilink) {
        for (const auto& p : split(value, ',')) {
          const std::string_view digits = !p.empty() && (p.front() == '-' || p.front() == '+')
                                              ? std::string_view(p).substr(1)
                                              : std::string_view(p);
          if (all_digits(digits)) {
            values.push_back(p.front() == '+' ? std::string(digits) : p);
          } else {
            values.push_back(tracker_.lookup(last.target, p));  // KeyError (400) when unknown
          }
        }
      } else {
        if (last.type != PropType::string) exact = false;
        values.push_back(value);
      }
      const auto same = std::find_if(searches.begin(), searches.end(), [&](const Search& s) {
        return s.key == key && s.term.exact == exact;
      });
      if (same != searches.end()) {
        for (auto& v : values) same->term.values.push_back(std::move(v));
      } else {
        searches.push_back(Search{key, FilterTerm{path.back(), std::move(values), exact}});
      }
    }
  }

  std::vector<FilterTerm> terms;
  for (auto& s : searches) terms.push_back(resolve_transitive(c, split(s.key, '.'), s.term));
  std::vector<SortKey> order = group;
  order.insert(order.end(), sort.begin(), sort.end());
  const std::vector<ItemPtr> items = tracker_.filter(c.name, nullptr, terms, order);

  if (verbose > 1) display.emplace_back(c.label());
  json::array collection;
  const std::string class_path = data_path_ + "/" + c.name + "/";
  for (const ItemPtr& item : items) {
    json::object r;
    if (tracker_.has_permission(actor, "View", c.name, "id", item->id_text())) {
      r["id"] = item->id_text();
      r["link"] = class_path + item->id_text();
    }
    if (!display.empty()) {
      for (auto& [name, value] : format_item(call, *item, display, verbose)) r[name] = value;
    }
    if (!r.empty()) collection.push_back(std::move(r));
  }
  const auto total = static_cast<std::int64_t>(collection.size());

  json::object out;
  if (page_size && *page_size > 0) {
    const std::int64_t size = *page_size;
    const std::int64_t index = std::max<std::int64_t>(page_index, 1);
    const std::int64_t start = index - 1 > total / size ? total : (index - 1) * size;
    const std::int64_t end = std::min(total, start + size);
    json::array page;
    for (std::int64_t i = start; i < end; ++i) {
      page.push_back(std::move(collection[static_cast<std::size_t>(i)]));
    }
    out["collection"] = std::move(page);
    // Each link repeats the query's other fields after @page_index, as Roundup writes them.
    std::string rest;
    for (const auto& f : call.input) {
      if (!f.from_query || f.name == "@page_index") continue;
      rest += (rest.empty() ? "" : "&") + encode_component(f.name) + "=" +
              encode_component(field_text(f.value));
    }
    json::object links;
    const auto link = [&](std::string_view rel, std::int64_t at) {
      json::object l;
      l["rel"] = rel;
      l["uri"] = data_path_ + "/" + c.name + "?@page_index=" + std::to_string(at) + "&" + rest;
      links[rel] = json::array{std::move(l)};
    };
    if (index <= total / size && index * size < total) link("next", index + 1);
    if (index > 1) link("prev", index - 1);
    link("self", index);
    out["@links"] = std::move(links);
  } else {
    out["collection"] = std::move(collection);
  }
  out["@total_size"] = total;
  call.set_header("X-Count-Total", std::to_string(total));
  call.allow = "OPTIONS, GET, POST";
  return out;
}

json::value RestApi::post_collection(Call& call, const ClassDef& c) const {
  if (!tracker_.has_permission(call.actor, "Create", c.name)) {
    throw unauthorised("Permission to create " + c.name + " denied");
  }
  const Changes changes = props_from_args(call, c, true);
  if (!c.key.empty() && std::none_of(changes.begin(), changes.end(),
                                     [&](const auto& ch) { return ch.first == c.key; })) {
    throw usage("Must provide the '" + c.key + "' property.");
  }
  for (const auto& [name, value] : changes) {
    if (!tracker_.has_permission(call.actor, "Create", c.name, name)) {
      throw unauthorised("Permission to create " + c.name + "." + name + " denied");
    }
  }
  std::string id;
  try {
    id = tracker_.create(call.actor, c.name, changes);
  } catch (const TrackerError& e) {
    if (e.kind() == ErrorKind::value || e.kind() == ErrorKind::index ||
        e.kind() == ErrorKind::type) {
      throw TrackerError(ErrorKind::value, e.what());
    }
    if (e.kind() == ErrorKind::key)
      throw usage(std::string("Must provide the ") + e.what() + " property.");
    throw;
  }
  const std::string link = data_path_ + "/" + c.name + "/" + id;
  call.set_header("Location", link);
  call.allow.reset();
  call.status = 201;
  json::object out;
  out["id"] = id;
  out["link"] = link;
  return out;
}

json::value RestApi::get_element(Call& call, const ClassDef& c, const std::string& item_id) const {
  std::string id = item_id;
  if (!all_digits(item_id)) {
    // A key: "closed" or "name=closed".
    std::string value = item_id;
    if (const std::size_t eq = item_id.find('='); eq != std::string::npos) {
      const std::string k = item_id.substr(0, eq);
      if (k != c.key) throw usage("Field " + k + " is not key property");
      value = item_id.substr(eq + 1);
    }
    if (!tracker_.has_permission(call.actor, "View", c.name, c.key, item_id)) {
      throw unauthorised("Permission to view " + c.name + item_id + "." + c.key + " denied");
    }
    if (c.key.empty()) throw not_found("Item '" + value + "' not found");
    try {
      id = tracker_.lookup(c.name, value);
    } catch (const TrackerError&) {
      throw not_found("Item '" + value + "' not found");
    }
  }
  if (!tracker_.has_permission(call.actor, "View", c.name, {}, id)) {
    throw unauthorised("Permission to view " + c.name + id + " denied");
  }
  const ItemPtr item = tracker_.get(c.name, id);
  const std::string tag = etag(*item);
  std::optional<std::vector<std::string>> fields;
  bool with_protected = false;
  int verbose = 1;
  for (const auto& f : call.input) {
    const std::string value = field_text(f.value);
    if (f.name == "@fields" || f.name == "@attrs") {
      if (!fields) fields.emplace();
      auto names = split(value, ',');
      if (names.size() == 1) names = split(value, ':');
      for (auto& n : transitive_props(call, c, names)) fields->push_back(std::move(n));
    } else if (f.name == "@protected") {
      with_protected = ascii_lower(value) == "true";
    } else if (f.name == "@verbose") {
      const auto n = parse_int(value);
      if (!n) throw usage("Value of @verbose must be an integer, got '" + value + "'.");
      verbose = static_cast<int>(std::clamp<std::int64_t>(*n, -1, 10));
    }
  }
  std::vector<std::string> props;
  if (fields) {
    props = *fields;
    if (verbose > 1) props.emplace_back(c.label());
  } else {
    for (const auto& p : c.properties) props.push_back(p.name);
    if (with_protected) {
      for (const auto p : kProtected) props.emplace_back(p);
    }
  }
  json::object out;
  out["id"] = id;
  out["type"] = c.name;
  out["link"] = data_path_ + "/" + c.name + "/" + item_id;
  out["attributes"] = format_item(call, *item, props, verbose);
  out["@etag"] = tag;
  call.set_header("ETag", tag);
  return out;
}

json::value RestApi::get_attribute(Call& call, const ClassDef& c, const std::string& id,
                                   const std::string& property) const {
  if (!tracker_.has_permission(call.actor, "View", c.name, property, id)) {
    throw unauthorised("Permission to view " + c.name + id + " " + property + " denied");
  }
  const ItemPtr item = tracker_.get(c.name, id);
  const std::string tag = etag(*item);
  Property p;
  try {
    p = tracker_.get_property(c, property);
  } catch (const TrackerError&) {
    throw usage("Invalid attribute " + property);
  }
  const json::value stored = item->get(property);
  json::object out;
  out["id"] = id;
  out["type"] = python_type(p, stored);
  out["link"] = data_path_ + "/" + c.name + "/" + id + "/" + property;
  out["data"] = plain_value(p, stored);
  out["@etag"] = tag;
  call.set_header("ETag", tag);
  return out;
}

json::value RestApi::put_element(Call& call, const ClassDef& c, const std::string& id) const {
  const Changes changes = props_from_args(call, c, true);
  for (const auto& [name, value] : changes) {
    if (!tracker_.has_permission(call.actor, "Edit", c.name, name, id)) {
      throw unauthorised("Permission to edit " + name + " of " + c.name + id + " denied");
    }
  }
  const ItemPtr item = require_etag(call, c, id);
  json::object out;
  out["id"] = id;
  out["type"] = c.name;
  out["link"] = data_path_ + "/" + c.name + "/" + id;
  out["attribute"] = apply_set(call, c, item, changes);
  return out;
}

json::value RestApi::put_attribute(Call& call, const ClassDef& c, const std::string& id,
                                   const std::string& property) const {
  if (!tracker_.has_permission(call.actor, "Edit", c.name, property, id)) {
    throw unauthorised("Permission to edit " + c.name + id + " " + property + " denied");
  }
  const Field* data = call.field("data");
  if (data == nullptr) throw TrackerError(ErrorKind::key, "'data'");
  const Property* p = c.find(property);
  if (p == nullptr) throw TrackerError(ErrorKind::key, "'" + property + "'");
  const Changes changes{{property, to_stored(c, *p, data->value)}};
  const ItemPtr item = require_etag(call, c, id);
  json::object out;
  out["id"] = id;
  out["type"] = c.name;
  out["link"] = data_path_ + "/" + c.name + "/" + id;
  out["attribute"] = apply_set(call, c, item, changes);
  return out;
}

namespace {

// Roundup's patch_data on stored values: add appends (multilinks: union, strings: concatenation,
// numbers: sum), replace replaces, remove drops the given multilink members or unsets.
json::value patch_value(std::string_view op, const Property& p, const json::value& old_value,
                        const json::value& new_value) {
  const bool list = p.type == PropType::multilink;
  const json::value old_v = list && old_value.is_null() ? json::value(json::array{}) : old_value;
  if (op == "replace") return new_value;
  if (op == "add") {
    if (old_v.is_null() || (list && old_v.get_array().empty())) return new_value;
    if (new_value.is_null()) return old_v;
    switch (p.type) {
      case PropType::multilink: {
        std::set<std::int64_t> ids;
        for (const auto* a : {&old_v, &new_value}) {
          for (const auto& e : a->get_array()) ids.insert(std::stoll(std::string(string_of(e))));
        }
        json::array out;
        for (const auto id : ids) out.emplace_back(std::to_string(id));
        return out;
      }
      case PropType::string:
        return json::value(std::string(string_of(old_v)) + std::string(string_of(new_value)));
      case PropType::number:
        return json::value(number_of(old_v) + number_of(new_value));
      case PropType::boolean:
      case PropType::date:
      case PropType::interval:
      case PropType::link:
      case PropType::password:
        break;
    }
    throw TrackerError(ErrorKind::usage, "PATCH Operation add is not supported for property " +
                                             p.name + " (" + std::string(type_name(p.type)) + ")");
  }
  if (op == "remove") {
    if (!list) return nullptr;
    if (new_value.is_null() || (new_value.is_array() && new_value.get_array().empty())) {
      return json::array{};
    }
    json::array out;
    for (const auto& e : old_v.get_array()) {
      const auto& drop = new_value.get_array();
      if (std::find(drop.begin(), drop.end(), e) == drop.end()) out.push_back(e);
    }
    return out;
  }
  throw TrackerError(ErrorKind::usage, "PATCH Operation " + std::string(op) + " is not allowed");
}

}  // namespace

json::value RestApi::patch_element(Call& call, const ClassDef& c, const std::string& id) const {
  const Field* op_field = call.field("@op");
  const std::string op = op_field ? ascii_lower(field_text(op_field->value)) : "replace";
  const ItemPtr item = require_etag(call, c, id);
  json::object out;
  out["id"] = id;
  out["type"] = c.name;
  out["link"] = data_path_ + "/" + c.name + "/" + id;
  if (op == "action") {
    const Field* name_field = call.field("@action_name");
    const std::string name = name_field ? field_text(name_field->value) : "None";
    if (name != "retire" && name != "restore") {
      throw usage("action \"" + name + "\" is not supported, allowed: retire, restore");
    }
    const bool retire = name == "retire";
    // As the XML-RPC action (Roundup's actions.Retire / actions.Restore).
    if (!tracker_.has_permission(call.actor, retire ? "Retire" : "Restore", c.name, {}, id)) {
      throw unauthorised("You do not have permission to " + name + " the " + c.name + " class.");
    }
    if (retire && c.name == "user") {
      const json::value username = item->get("username");
      if (username == "admin" || username == "anonymous") {
        throw TrackerError(ErrorKind::value, "You may not retire the \"" +
                                                 std::string(string_of(username)) + "\" user");
      }
    }
    if (retire) {
      tracker_.retire(call.actor, c.name, id);
    } else {
      tracker_.restore(call.actor, c.name, id);
    }
    out["result"] = nullptr;
    return out;
  }
  Changes changes = props_from_args(call, c, false);
  for (auto& [name, value] : changes) {
    if (!tracker_.has_permission(call.actor, "Edit", c.name, name, id)) {
      throw unauthorised("Permission to edit " + name + " of " + c.name + id + " denied");
    }
    if (op == "remove" && name == c.key) {
      throw usage("Attribute '" + name + "' is required by class " + c.name +
                  " and can not be removed.");
    }
    value = patch_value(op, *c.find(name), item->get(name), value);
  }
  out["attribute"] = apply_set(call, c, item, changes);
  return out;
}

json::value RestApi::patch_attribute(Call& call, const ClassDef& c, const std::string& id,
                                     const std::string& property) const {
  const Field* op_field = call.field("@op");
  const std::string op = op_field ? ascii_lower(field_text(op_field->value)) : "replace";
  if (!tracker_.has_permission(call.actor, "Edit", c.name, property, id)) {
    throw unauthorised("Permission to edit " + c.name + id + " " + property + " denied");
  }
  const Property* p = c.find(property);
  if (p == nullptr && is_protected(property)) {
    throw TrackerError(ErrorKind::reject,
                       "Attribute '" + property + "' can not be updated for class " + c.name + ".");
  }
  const ItemPtr item = require_etag(call, c, id);
  const Field* data = call.field("data");
  if (data == nullptr) throw TrackerError(ErrorKind::key, "'data'");
  if (p == nullptr) throw TrackerError(ErrorKind::key, "'" + property + "'");
  const Changes changes{
      {property, patch_value(op, *p, item->get(property), to_stored(c, *p, data->value))}};
  json::object out;
  out["id"] = id;
  out["type"] = c.name;
  out["link"] = data_path_ + "/" + c.name + "/" + id;
  out["attribute"] = apply_set(call, c, item, changes);
  return out;
}

json::value RestApi::delete_element(Call& call, const ClassDef& c, const std::string& id) const {
  if (!tracker_.has_permission(call.actor, "Retire", c.name, {}, id)) {
    throw unauthorised("Permission to retire " + c.name + " " + id + " denied");
  }
  const ItemPtr item = require_etag(call, c, id);
  if (c.name == "user") {  // as the XML-RPC retire action
    const json::value username = item->get("username");
    if (username == "admin" || username == "anonymous") {
      throw TrackerError(ErrorKind::value, "You may not retire the \"" +
                                               std::string(string_of(username)) + "\" user");
    }
  }
  tracker_.retire(call.actor, c.name, id);
  json::object out;
  out["status"] = "ok";
  return out;
}

json::value RestApi::delete_attribute(Call& call, const ClassDef& c, const std::string& id,
                                      const std::string& property) const {
  if (!tracker_.has_permission(call.actor, "Edit", c.name, property, id)) {
    throw unauthorised("Permission to delete " + c.name + id + " " + property + " denied");
  }
  const Property* p = c.find(property);
  if (p == nullptr) {
    if (is_protected(property)) {
      throw TrackerError(ErrorKind::reject, "Attribute '" + property +
                                                "' can not be deleted for class " + c.name + ".");
    }
    throw usage("Attribute '" + property + "' not valid for class " + c.name + ".");
  }
  if (property == c.key) {
    throw usage("Attribute '" + property + "' is required by class " + c.name +
                " and can not be deleted.");
  }
  const ItemPtr item = require_etag(call, c, id);
  const json::value empty =
      p->type == PropType::multilink ? json::value(json::array{}) : json::value(nullptr);
  apply_set(call, c, item, {{property, empty}});
  json::object out;
  out["status"] = "ok";
  return out;
}

}  // namespace gatehouse::tracker
