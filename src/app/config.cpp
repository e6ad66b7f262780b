// The TOML configuration (SPEC §3): toml++ parses; this file maps tables onto the structs of
// gatehouse/config.hpp, reports every problem with file, line and key, checks combinations, and
// writes the effective configuration back as TOML.
#include "gatehouse/config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <variant>

namespace gatehouse {
namespace {

// The schemes this build implements; the one list auth.schemes is checked against.
constexpr std::array<std::string_view, 4> kKnownSchemes{"apikey", "basic", "bearer", "digest"};
constexpr std::array<std::string_view, 4> kTokenAlgs{"EdDSA", "ES256", "RS256", "HS256"};
constexpr std::array<std::string_view, 6> kDigestAlgorithms{
    "MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"};
constexpr std::array<std::string_view, 2> kDigestQops{"auth", "auth-int"};
constexpr std::array<std::string_view, 6> kLogLevels{"trace", "debug", "info",
                                                     "warn",  "error", "off"};
constexpr std::size_t kMinHeaderBytes = 1024;
constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

struct DurationUnit {
  std::string_view suffix;
  std::int64_t milliseconds;
};
constexpr std::array<DurationUnit, 6> kDurationUnits{{
    {"", 1000},  // bare number: seconds
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
}};

struct SizeUnit {
  std::string_view suffix;
  std::int64_t bytes;
};
constexpr std::array<SizeUnit, 6> kSizeUnits{{
    {"", 1},
    {"B", 1},
    {"KiB", std::int64_t{1} << 10},
    {"MiB", std::int64_t{1} << 20},
    {"GiB", std::int64_t{1} << 30},
    {"TiB", std::int64_t{1} << 40},
}};

constexpr std::string_view kDurationExpected =
    R"(expected a duration like "250ms", "15s", "10m", "2h", "14d" or whole seconds)";
constexpr std::string_view kSizeExpected = R"(expected a size like 16384, "16KiB" or "1MiB")";

template <typename Range>
std::string join(const Range& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

bool is_control(unsigned char byte) {
  return byte < 0x20 || byte == 0x7F;
}

void append_unicode_escape(std::string& out, unsigned char byte) {
  char escape[8];
  std::snprintf(escape, sizeof escape, "\\u%04X", static_cast<unsigned>(byte));
  out += escape;
}

// A TOML 1.0 basic string. Also used to quote values in messages, so that a problem stays on
// one line whatever the value holds.
std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '"') {
      out += "\\\"";
    } else if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (is_control(byte)) {
      append_unicode_escape(out, byte);
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

// Control characters escaped as \uXXXX, the rest unchanged: for parser messages.
std::string one_line(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (is_control(byte)) {
      append_unicode_escape(out, byte);
    } else {
      out += ch;
    }
  }
  return out;
}

bool is_bare_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
  });
}

std::string key_path(std::string_view parent, std::string_view key) {
  std::string part = is_bare_key(key) ? std::string(key) : quoted(key);
  return parent.empty() ? part : std::string(parent) + "." + part;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

// "FILE:LINE: ", "FILE: ", "line LINE: " or "" (line 0 = unknown).
std::string location(std::string_view source, std::uint32_t line) {
  std::string out(source);
  if (line != 0) out += (out.empty() ? "line " : ":") + std::to_string(line);
  if (!out.empty()) out += ": ";
  return out;
}

enum class NumberError { malformed, too_large };
struct ParsedNumber {
  std::int64_t value = 0;
  std::optional<NumberError> error;
};

// Decimal digits only (no sign, no spaces) times `scale`, at most INT64_MAX.
ParsedNumber parse_scaled(std::string_view digits, std::int64_t scale) {
  if (digits.empty()) return {0, NumberError::malformed};
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) return {0, NumberError::too_large};
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    return {0, NumberError::malformed};
  }
  if (value > static_cast<std::uint64_t>(kMaxInt64 / scale)) return {0, NumberError::too_large};
  return {static_cast<std::int64_t>(value) * scale, std::nullopt};
}

std::size_t leading_digits(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
  return n;
}

// "250ms", "15s", "10m", "2h", "14d", "30" (seconds) → milliseconds.
ParsedNumber parse_duration_text(std::string_view text) {
  const std::size_t digits = leading_digits(text);
  const std::string_view suffix = text.substr(digits);
  for (const auto& unit : kDurationUnits) {
    if (suffix == unit.suffix) return parse_scaled(text.substr(0, digits), unit.milliseconds);
  }
  return {0, NumberError::malformed};
}

// "16384", "512B", "16KiB", "1MiB", "2GiB", "1TiB" (IEC binary units) → bytes.
ParsedNumber parse_size_text(std::string_view text) {
  const std::size_t digits = leading_digits(text);
  const std::string_view suffix = text.substr(digits);
  for (const auto& unit : kSizeUnits) {
    if (suffix == unit.suffix) return parse_scaled(text.substr(0, digits), unit.bytes);
  }
  return {0, NumberError::malformed};
}

std::string duration_text(Duration duration) {
  const auto ms = duration.count();
  if (ms != 0 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// ---- Reading TOML into the structs -------------------------------------------------------

struct ByteSize {
  std::size_t* out;
};
using TableReader = std::function<void(const toml::node&, const std::string& path)>;
struct Subtable {
  TableReader read;
};
using Target = std::variant<std::string*, bool*, int*, std::size_t*, ByteSize, Duration*,
                            std::vector<std::string>*, std::vector<StaticUser>*, Subtable>;
struct Field {
  std::string_view key;
  Target target;
};

class ConfigReader {
 public:
  explicit ConfigReader(std::string_view source) : source_(source) {}

  void read(const toml::table& root, Config& config) {
    read_table(root, "",
               {
                   {"server", Subtable{[&](const toml::node& node, const std::string& path) {
                      read_server(node, path, config.server);
                    }}},
                   {"log", Subtable{[&](const toml::node& node, const std::string& path) {
                      read_table(node, path,
                                 {{"access", &config.log.access}, {"level", &config.log.level}});
                    }}},
                   {"store", Subtable{[&](const toml::node& node, const std::string& path) {
                      read_table(node, path, {{"url", &config.store.url}});
                    }}},
                   {"auth", Subtable{[&](const toml::node& node, const std::string& path) {
                      read_auth(node, path, config.auth);
                    }}},
                   {"tokens", Subtable{[&](const toml::node& node, const std::string& path) {
                      read_tokens(node, path, config.tokens);
                    }}},
                   {"guard", Subtable{[&](const toml::node& node, const std::string& path) {
                      read_guard(node, path, config.guard);
                    }}},
                   {"tracker", Subtable{[&](const toml::node& node, const std::string& path) {
                      read_trackers(node, path, config.trackers);
                    }}},
                   {"compat", Subtable{[&](const toml::node& node, const std::string& path) {
                      read_table(node, path, {{"auth_adventures", &config.compat.auth_adventures}});
                    }}},
                   {"data_dir", &config.data_dir},
               });
  }

  // In line order; problems without a line last.
  std::vector<std::string> take_problems() {
    std::stable_sort(problems_.begin(), problems_.end(), [](const auto& a, const auto& b) {
      const auto rank = [](std::uint32_t line) {
        return line == 0 ? std::numeric_limits<std::uint32_t>::max() : line;
      };
      return rank(a.first) < rank(b.first);
    });
    std::vector<std::string> out;
    out.reserve(problems_.size());
    for (auto& [line, text] : problems_) out.push_back(std::move(text));
    problems_.clear();
    return out;
  }

 private:
  void report(const toml::source_region& where, std::string_view path, std::string_view what) {
    const std::uint32_t line = where.begin.line;
    std::string text = location(source_, line);
    text += path.empty() ? std::string("(top level)") : std::string(path);
    text += ": ";
    text += what;
    problems_.emplace_back(line, std::move(text));
  }

  void read_server(const toml::node& node, const std::string& path, ServerConfig& server) {
    read_table(node, path,
               {
                   {"listen", &server.listen},
                   {"threads", &server.threads},
                   {"workers", &server.workers},
                   {"hash_queue", &server.hash_queue},
                   {"public_url", &server.public_url},
                   {"max_header_bytes", ByteSize{&server.max_header_bytes}},
                   {"max_body_bytes", ByteSize{&server.max_body_bytes}},
                   {"read_timeout", &server.read_timeout},
                   {"idle_timeout", &server.idle_timeout},
                   {"drain_timeout", &server.drain_timeout},
                   {"max_connections", &server.max_connections},
               });
  }

  void read_tokens(const toml::node& node, const std::string& path, TokensConfig& tokens) {
    read_table(node, path,
               {
                   {"issuer", &tokens.issuer},
                   {"audience", &tokens.audience},
                   {"alg", &tokens.alg},
                   {"access_ttl", &tokens.access_ttl},
                   {"refresh_ttl", &tokens.refresh_ttl},
                   {"session_max_age", &tokens.session_max_age},
                   {"session_idle", &tokens.session_idle},
                   {"reuse_grace", &tokens.reuse_grace},
                   {"key_rotation", &tokens.key_rotation},
                   {"leeway", &tokens.leeway},
                   {"cache_entries", &tokens.cache_entries},
                   {"introspection_roles", &tokens.introspection_roles},
               });
  }

  void read_guard(const toml::node& node, const std::string& path, GuardConfig& guard) {
    read_table(node, path,
               {
                   {"failed_login_limit", &guard.failed_login_limit},
                   {"failed_login_period", &guard.failed_login_period},
                   {"address_failed_login_limit", &guard.address_failed_login_limit},
                   {"address_failed_login_period", &guard.address_failed_login_period},
                   {"csrf", &guard.csrf},
                   {"allowed_origins", &guard.allowed_origins},
                   {"csrf_headers", Subtable{[&](const toml::node& headers, const std::string& at) {
                      CsrfHeadersConfig& h = guard.csrf_headers;
                      read_table(headers, at,
                                 {{"referer", &h.referer},
                                  {"origin", &h.origin},
                                  {"x_forwarded_host", &h.x_forwarded_host},
                                  {"host", &h.host},
                                  {"x_requested_with", &h.x_requested_with},
                                  {"header_min_count", &h.header_min_count}});
                    }}},
               });
  }

  // [tracker.NAME] tables, in name order (toml++ keeps a table's keys sorted).
  void read_trackers(const toml::node& node, const std::string& path,
                     std::vector<TrackerConfig>& trackers) {
    trackers.clear();
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      report(node.source(), path, "expected a table of trackers ([tracker.NAME])");
      return;
    }
    for (const auto& [key, value] : *table) {
      TrackerConfig tracker;
      tracker.name = std::string(key.str());
      read_table(value, key_path(path, key.str()),
                 {{"schema", &tracker.schema}, {"demo_data", &tracker.demo_data}});
      trackers.push_back(std::move(tracker));
    }
  }

  void read_auth(const toml::node& node, const std::string& path, AuthConfig& auth) {
    read_table(
        node, path,
        {
            {"realm", &auth.realm},
            {"schemes", &auth.schemes},
            {"htpasswd_roles", &auth.htpasswd_roles},
            {"basic", Subtable{[&](const toml::node& basic, const std::string& basic_path) {
               read_table(basic, basic_path,
                          {{"stores", &auth.basic.stores},
                           {"cache_ttl", &auth.basic.cache_ttl},
                           {"cache_entries", &auth.basic.cache_entries}});
             }}},
            {"digest", Subtable{[&](const toml::node& digest, const std::string& digest_path) {
               read_table(digest, digest_path,
                          {{"algorithms", &auth.digest.algorithms},
                           {"qop", &auth.digest.qop},
                           {"nonce_lifetime", &auth.digest.nonce_lifetime},
                           {"stores", &auth.digest.stores},
                           {"userhash", &auth.digest.userhash}});
             }}},
            {"apikey", Subtable{[&](const toml::node& apikey, const std::string& apikey_path) {
               read_table(apikey, apikey_path,
                          {{"header", &auth.apikey.header},
                           {"query", &auth.apikey.query},
                           {"allow_insecure", &auth.apikey.allow_insecure}});
             }}},
            {"static", Subtable{[&](const toml::node& fixed, const std::string& fixed_path) {
               read_table(fixed, fixed_path, {{"users", &auth.static_users}});
             }}},
        });
  }

  // Every key of the table must be one of `fields`; the others are reported.
  void read_table(const toml::node& node, const std::string& path,
                  std::initializer_list<Field> fields) {
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      report(node.source(), path, "expected a table");
      return;
    }
    for (const auto& entry : *table) {
      const toml::key& key = entry.first;
      const toml::node& value = entry.second;
      const std::string path_here = key_path(path, key.str());
      const auto field = std::find_if(fields.begin(), fields.end(),
                                      [&](const Field& f) { return f.key == key.str(); });
      if (field == fields.end()) {
        std::vector<std::string> known;
        for (const auto& f : fields) known.emplace_back(f.key);
        report(key.source(), path_here, "unknown key; known here: " + join(known, ", "));
        continue;
      }
      std::visit([&](const auto& target) { read_value(value, path_here, target); }, field->target);
    }
  }

  void read_value(const toml::node& node, const std::string& path, std::string* out) {
    if (const auto* value = node.as_string()) {
      *out = value->get();
    } else {
      report(node.source(), path, "expected a string");
    }
  }

  void read_value(const toml::node& node, const std::string& path, bool* out) {
    if (const auto* value = node.as_boolean()) {
      *out = value->get();
    } else {
      report(node.source(), path, "expected a boolean (true or false)");
    }
  }

  void read_value(const toml::node& node, const std::string& path, int* out) {
    const auto* value = node.as_integer();
    if (value == nullptr) {
      report(node.source(), path, "expected an integer");
    } else if (value->get() < std::numeric_limits<int>::min() ||
               value->get() > std::numeric_limits<int>::max()) {
      report(node.source(), path, "is out of range");
    } else {
      *out = static_cast<int>(value->get());
    }
  }

  // A count: a non-negative integer.
  void read_value(const toml::node& node, const std::string& path, std::size_t* out) {
    const auto* value = node.as_integer();
    if (value == nullptr) {
      report(node.source(), path, "expected an integer");
    } else if (value->get() < 0) {
      report(node.source(), path, "must not be negative");
    } else {
      *out = static_cast<std::size_t>(value->get());
    }
  }

  void read_value(const toml::node& node, const std::string& path, ByteSize out) {
    std::optional<std::int64_t> bytes;
    if (const auto* integer = node.as_integer()) {
      if (integer->get() < 0) {
        report(node.source(), path, "must not be negative");
        return;
      }
      bytes = integer->get();
    } else if (const auto* text = node.as_string()) {
      const ParsedNumber parsed = parse_size_text(text->get());
      if (parsed.error == NumberError::too_large) {
        report(node.source(), path, "is too large");
        return;
      }
      if (!parsed.error) bytes = parsed.value;
    }
    if (!bytes) {
      report(node.source(), path, kSizeExpected);
      return;
    }
    *out.out = static_cast<std::size_t>(*bytes);
  }

  // Whole seconds as an integer, or a string with a unit.
  void read_value(const toml::node& node, const std::string& path, Duration* out) {
    ParsedNumber parsed{0, NumberError::malformed};
    if (const auto* integer = node.as_integer()) {
      if (integer->get() < 0) {
        report(node.source(), path, "must not be negative");
        return;
      }
      parsed = integer->get() > kMaxInt64 / 1000
                   ? ParsedNumber{0, NumberError::too_large}
                   : ParsedNumber{integer->get() * 1000, std::nullopt};
    } else if (const auto* text = node.as_string()) {
      parsed = parse_duration_text(text->get());
    }
    if (parsed.error == NumberError::too_large) {
      report(node.source(), path, "is too large");
    } else if (parsed.error) {
      report(node.source(), path, kDurationExpected);
    } else {
      *out = Duration(parsed.value);
    }
  }

  // All elements must be strings; on any problem the default stays.
  void read_value(const toml::node& node, const std::string& path, std::vector<std::string>* out) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      report(node.source(), path, "expected an array of strings");
      return;
    }
    std::vector<std::string> values;
    bool all_strings = true;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      if (const auto* value = element.as_string()) {
        values.push_back(value->get());
      } else {
        report(element.source(), index_path(path, i), "expected a string");
        all_strings = false;
      }
    }
    if (all_strings) *out = std::move(values);
  }

  // [[auth.static.users]]: an array of tables with name, password, roles.
  void read_value(const toml::node& node, const std::string& path, std::vector<StaticUser>* out) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      report(node.source(), path, "expected an array of tables ([[" + path + "]])");
      return;
    }
    std::vector<StaticUser> users;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      if (!element.is_table()) {
        report(element.source(), index_path(path, i), "expected a table");
        continue;
      }
      StaticUser& user = users.emplace_back();
      read_table(element, index_path(path, i),
                 {{"name", &user.name}, {"password", &user.password}, {"roles", &user.roles}});
    }
    *out = std::move(users);
  }

  void read_value(const toml::node& node, const std::string& path, const Subtable& subtable) {
    subtable.read(node, path);
  }

  std::string source_;
  std::vector<std::pair<std::uint32_t, std::string>> problems_;
};

// ---- Validation ----------------------------------------------------------------------------

struct ListenAddress {
  std::string host;
  bool loopback = false;
};

bool is_ipv4_literal(const std::string& host, in_addr& address) {
  return inet_pton(AF_INET, host.c_str(), &address) == 1;
}

// RFC 1123 §2.1 host name: dot-separated labels of letters, digits and '-', 1 to 63 characters,
// not starting or ending with '-'; at most 253 characters.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t start = 0;
  while (start <= host.size()) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char ch : label) {
      const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                      (ch >= '0' && ch <= '9') || ch == '-';
      if (!ok) return false;
    }
    start = dot + 1;
  }
  return true;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

// "HOST:PORT" or "[IPv6]:PORT", port 0-65535 (0 = any free port). `why` says what is wrong.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& why) {
  std::string host;
  std::string_view port;
  ListenAddress result;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      why = "expected [IPv6]:PORT";
      return std::nullopt;
    }
    host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
    in6_addr address{};
    if (inet_pton(AF_INET6, host.c_str(), &address) != 1) {
      why = quoted(host) + " is not an IPv6 address";
      return std::nullopt;
    }
    result.loopback = IN6_IS_ADDR_LOOPBACK(&address) ||
                      (IN6_IS_ADDR_V4MAPPED(&address) && address.s6_addr[12] == 127);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      why = "expected HOST:PORT or [IPv6]:PORT";
      return std::nullopt;
    }
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      why = "write IPv6 addresses in brackets, as [::1]:PORT";
      return std::nullopt;
    }
    if (host.empty()) {
      why = "the host is missing (0.0.0.0 or [::] listen on every address)";
      return std::nullopt;
    }
    in_addr address{};
    const bool numeric = host.find_first_not_of("0123456789.") == std::string::npos;
    if (is_ipv4_literal(host, address)) {
      result.loopback = (ntohl(address.s_addr) >> 24) == 127;
    } else if (numeric || !is_host_name(host)) {
      why = quoted(host) + " is not an IPv4 address or host name";
      return std::nullopt;
    } else {
      result.loopback = equals_ignoring_case(host, "localhost");
    }
  }
  const ParsedNumber number = parse_scaled(port, 1);
  if (number.error || port.size() > 5 || number.value > 65535) {
    why = "the port must be a number from 0 to 65535";
    return std::nullopt;
  }
  result.host = std::move(host);
  return result;
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char ch) { return is_control(static_cast<unsigned char>(ch)); });
}

template <typename Range>
bool contains(const Range& range, std::string_view item) {
  return std::find(range.begin(), range.end(), item) != range.end();
}

class Validator {
 public:
  explicit Validator(const std::string& source) : prefix_(source.empty() ? "" : source + ": ") {}

  void problem(std::string_view key, std::string_view what) {
    problems_.push_back(prefix_ + std::string(key) + ": " + std::string(what));
  }

  std::vector<std::string> take() { return std::move(problems_); }

 private:
  std::string prefix_;
  std::vector<std::string> problems_;
};

void check_positive(Validator& v, std::string_view key, Duration duration) {
  if (duration.count() <= 0) v.problem(key, "must be longer than 0");
}

void check_no_duplicates(Validator& v, std::string_view key,
                         const std::vector<std::string>& items) {
  std::set<std::string_view> seen;
  for (const auto& item : items) {
    if (!seen.insert(item).second) v.problem(key, quoted(item) + " is listed twice");
  }
}

void check_roles(Validator& v, const std::string& key, const std::vector<std::string>& roles) {
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (roles[i].empty()) v.problem(index_path(key, i), "a role name is empty");
  }
}

// Returns the parsed addresses (unparseable ones are reported and left out).
std::vector<ListenAddress> check_server(Validator& v, const ServerConfig& server) {
  std::vector<ListenAddress> addresses;
  if (server.listen.empty()) v.problem("server.listen", "is empty; nothing to listen on");
  for (std::size_t i = 0; i < server.listen.size(); ++i) {
    std::string why;
    if (auto address = parse_listen_address(server.listen[i], why)) {
      addresses.push_back(std::move(*address));
    } else {
      v.problem(index_path("server.listen", i), quoted(server.listen[i]) + ": " + why);
    }
  }
  check_no_duplicates(v, "server.listen", server.listen);
  if (server.threads < 0) v.problem("server.threads", "must be 0 (one per core) or more");
  if (server.workers < 0) v.problem("server.workers", "must be 0 (one per core) or more");
  if (server.hash_queue < 1) v.problem("server.hash_queue", "must be at least 1");
  const std::string_view url = server.public_url;
  const bool http_url = (url.starts_with("http://") && url.size() > 7) ||
                        (url.starts_with("https://") && url.size() > 8);
  if (!http_url || has_control_character(url)) {
    v.problem("server.public_url", "must be an absolute http:// or https:// URL");
  }
  if (server.max_header_bytes < kMinHeaderBytes) {
    v.problem("server.max_header_bytes", "must be at least " + std::to_string(kMinHeaderBytes));
  }
  if (server.max_body_bytes == 0) v.problem("server.max_body_bytes", "must be more than 0");
  check_positive(v, "server.read_timeout", server.read_timeout);
  check_positive(v, "server.idle_timeout", server.idle_timeout);
  check_positive(v, "server.drain_timeout", server.drain_timeout);
  if (server.max_connections < 1) v.problem("server.max_connections", "must be at least 1");
  return addresses;
}

void check_store_url(Validator& v, std::string_view url) {
  if (url.empty()) return;
  if (url.starts_with("sqlite:")) {
    if (url.size() == 7) v.problem("store.url", "\"sqlite:\" needs a file path");
  } else if (url.starts_with("postgresql:") || url.starts_with("postgres:")) {
    v.problem("store.url", "postgresql is not supported yet");
  } else {
    v.problem("store.url", quoted(url) + ": expected \"sqlite:PATH\"");
  }
}

// Digest needs stores that can give HA1 = H(user:realm:password): a password hash cannot.
void check_digest(Validator& v, const AuthConfig& auth) {
  const auto& digest = auth.digest;
  const bool enabled = contains(auth.schemes, "digest");
  if (digest.algorithms.empty() && enabled) {
    v.problem("auth.digest.algorithms", "is empty but the digest scheme is enabled");
  }
  for (std::size_t i = 0; i < digest.algorithms.size(); ++i) {
    if (!contains(kDigestAlgorithms, digest.algorithms[i])) {
      v.problem(index_path("auth.digest.algorithms", i),
                "unknown algorithm " + quoted(digest.algorithms[i]) +
                    " (known: " + join(kDigestAlgorithms, ", ") + ")");
    }
  }
  check_no_duplicates(v, "auth.digest.algorithms", digest.algorithms);
  if (digest.qop.empty() && enabled) {
    v.problem("auth.digest.qop", "is empty; gatehouse requires qop (auth and/or auth-int)");
  }
  for (std::size_t i = 0; i < digest.qop.size(); ++i) {
    if (!contains(kDigestQops, digest.qop[i])) {
      v.problem(index_path("auth.digest.qop", i),
                "unknown qop " + quoted(digest.qop[i]) + " (known: auth, auth-int)");
    }
  }
  check_no_duplicates(v, "auth.digest.qop", digest.qop);
  if (digest.nonce_lifetime.count() <= 0) {
    v.problem("auth.digest.nonce_lifetime", "must be longer than 0");
  }
  if (digest.stores.empty() && enabled) {
    v.problem("auth.digest.stores", "is empty but the digest scheme is enabled");
  }
  for (std::size_t i = 0; i < digest.stores.size(); ++i) {
    const std::string_view store = digest.stores[i];
    const std::string key = index_path("auth.digest.stores", i);
    if (store == "db" || store == "static") continue;
    if (store.starts_with("htdigest:")) {
      if (store.size() == 9) v.problem(key, "\"htdigest:\" needs a file path");
      continue;
    }
    if (store.starts_with("htpasswd:") || store == "unix") {
      v.problem(key, "store " + quoted(store) +
                         " cannot give the Digest HA1 (it holds password hashes); use "
                         "htdigest:PATH, db or static");
      continue;
    }
    v.problem(key, "unknown store " + quoted(store) + " (known: db, static, htdigest:PATH)");
  }
  check_no_duplicates(v, "auth.digest.stores", digest.stores);
  if (enabled && contains(digest.stores, "static") && auth.static_users.empty()) {
    v.problem("auth.digest.stores", "\"static\" is listed but there are no [[auth.static.users]]");
  }
}

void check_auth(Validator& v, const AuthConfig& auth) {
  if (has_control_character(auth.realm)) {
    v.problem("auth.realm", "must not contain control characters (it is sent in challenges)");
  }
  if (auth.schemes.empty()) v.problem("auth.schemes", "is empty; enable at least one scheme");
  for (const auto& scheme : auth.schemes) {
    if (!contains(kKnownSchemes, scheme)) {
      v.problem("auth.schemes",
                "unknown scheme " + quoted(scheme) + " (known: " + join(kKnownSchemes, ", ") + ")");
    }
  }
  check_no_duplicates(v, "auth.schemes", auth.schemes);

  const auto& stores = auth.basic.stores;
  if (stores.empty() && contains(auth.schemes, "basic")) {
    v.problem("auth.basic.stores", "is empty but the basic scheme is enabled");
  }
  for (std::size_t i = 0; i < stores.size(); ++i) {
    const std::string_view store = stores[i];
    const std::string key = index_path("auth.basic.stores", i);
    if (store == "db" || store == "static" || store == "unix") continue;
    if (store.starts_with("htpasswd:")) {
      if (store.size() == 9) v.problem(key, "\"htpasswd:\" needs a file path");
      continue;
    }
    v.problem(key, "unknown store " + quoted(store) + " (known: db, static, unix, htpasswd:PATH)");
  }
  check_no_duplicates(v, "auth.basic.stores", stores);
  if (contains(stores, "static") && auth.static_users.empty()) {
    v.problem("auth.basic.stores", "\"static\" is listed but there are no [[auth.static.users]]");
  }
  if (auth.basic.cache_ttl.count() < 0) v.problem("auth.basic.cache_ttl", "must not be negative");
  check_digest(v, auth);

  check_roles(v, "auth.htpasswd_roles", auth.htpasswd_roles);
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < auth.static_users.size(); ++i) {
    const StaticUser& user = auth.static_users[i];
    const std::string key = index_path("auth.static.users", i);
    if (user.name.empty()) {
      v.problem(key + ".name", "is empty");
    } else if (!names.insert(user.name).second) {
      v.problem(key + ".name", quoted(user.name) + " is listed twice");
    }
    if (user.password.empty()) v.problem(key + ".password", "is empty");
    check_roles(v, key + ".roles", user.roles);
  }
}

bool is_origin(std::string_view text) {
  // "scheme://host[:port]" with nothing after: what a browser sends in Origin (RFC 6454 §6.1).
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  const std::string_view rest = text.substr(sep + 3);
  return !rest.empty() && rest.find_first_of("/?#@ ") == std::string_view::npos &&
         !has_control_character(text);
}

void check_guard(Validator& v, const GuardConfig& g) {
  if (g.failed_login_limit < 0) v.problem("guard.failed_login_limit", "must not be negative");
  if (g.address_failed_login_limit < 0)
    v.problem("guard.address_failed_login_limit", "must not be negative");
  check_positive(v, "guard.failed_login_period", g.failed_login_period);
  check_positive(v, "guard.address_failed_login_period", g.address_failed_login_period);
  if (g.failed_login_limit > 0 && g.address_failed_login_limit > 0 &&
      g.address_failed_login_limit < g.failed_login_limit) {
    v.problem("guard.address_failed_login_limit",
              "is lower than guard.failed_login_limit: one address (an office behind NAT) would "
              "lock itself out before any single account");
  }
  if (g.csrf != "tokenless" && g.csrf != "headers" && g.csrf != "off")
    v.problem("guard.csrf", "must be \"tokenless\", \"headers\" or \"off\"");
  for (std::size_t i = 0; i < g.allowed_origins.size(); ++i) {
    const std::string& origin = g.allowed_origins[i];
    if (origin == "*") {
      if (i != 0) v.problem(index_path("guard.allowed_origins", i), "\"*\" may only come first");
    } else if (!is_origin(origin)) {
      v.problem(index_path("guard.allowed_origins", i),
                quoted(origin) + " is not an origin like \"https://app.example.com:8443\"");
    }
  }
  const CsrfHeadersConfig& h = g.csrf_headers;
  const std::pair<std::string_view, const std::string*> policies[] = {
      {"referer", &h.referer},
      {"origin", &h.origin},
      {"x_forwarded_host", &h.x_forwarded_host},
      {"host", &h.host},
      {"x_requested_with", &h.x_requested_with}};
  for (const auto& [key, value] : policies) {
    if (*value != "required" && *value != "yes" && *value != "logfailure" && *value != "no") {
      v.problem("guard.csrf_headers." + std::string(key),
                "must be \"required\", \"yes\", \"logfailure\" or \"no\"");
    }
  }
  if (h.header_min_count < 0 || h.header_min_count > 4)
    v.problem("guard.csrf_headers.header_min_count", "must be between 0 and 4");
}

void check_trackers(Validator& v, const std::vector<TrackerConfig>& trackers) {
  std::set<std::string_view> seen;
  for (const TrackerConfig& t : trackers) {
    const std::string key = "tracker." + t.name;
    const bool name_ok =
        !t.name.empty() && t.name.size() <= 64 &&
        std::all_of(t.name.begin(), t.name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        });
    if (!name_ok) {
      v.problem(key, "a tracker name is 1-64 of a-z, 0-9, - and _ (it is the URL's first segment)");
    } else if (t.name == "auth" || t.name == "app" || t.name == "healthz" || t.name == "metrics" ||
               t.name == "data" || t.name == "login" || t.name == "refresh") {
      v.problem(key, "the name is taken by a built-in route");
    }
    if (!seen.insert(t.name).second) v.problem(key, "is defined twice");
    if (t.schema.empty()) v.problem(key + ".schema", "is empty");
  }
}

void check_tokens(Validator& v, const Config& config) {
  const TokensConfig& t = config.tokens;
  if (!contains(kTokenAlgs, t.alg)) {
    v.problem("tokens.alg",
              "unknown alg " + quoted(t.alg) + " (known: " + join(kTokenAlgs, ", ") + ")");
  }
  if (has_control_character(t.issuer)) v.problem("tokens.issuer", "has control characters");
  if (t.audience.empty()) v.problem("tokens.audience", "is empty");
  const auto positive = [&v](std::string_view key, Duration d) {
    if (d.count() <= 0) v.problem(std::string(key), "must be longer than 0");
  };
  positive("tokens.access_ttl", t.access_ttl);
  positive("tokens.refresh_ttl", t.refresh_ttl);
  positive("tokens.session_max_age", t.session_max_age);
  positive("tokens.session_idle", t.session_idle);
  if (t.reuse_grace.count() < 0) v.problem("tokens.reuse_grace", "must not be negative");
  if (t.leeway.count() < 0) v.problem("tokens.leeway", "must not be negative");
  if (t.key_rotation.count() < 0) v.problem("tokens.key_rotation", "must not be negative");
  if (t.key_rotation.count() > 0 && t.key_rotation < t.access_ttl) {
    v.problem("tokens.key_rotation", "is shorter than tokens.access_ttl");
  }
  if (t.access_ttl.count() > 0 && t.access_ttl.count() < 1000) {
    v.problem("tokens.access_ttl", "must be at least 1s");
  }
  if (t.cache_entries == 0) v.problem("tokens.cache_entries", "must be at least 1");
  check_roles(v, "tokens.introspection_roles", t.introspection_roles);
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  const ParsedNumber parsed = parse_duration_text(text);
  if (parsed.error) return std::nullopt;
  return Duration(parsed.value);
}

std::string Config::issuer() const {
  return tokens.issuer.empty() ? server.public_url : tokens.issuer;
}

std::string Config::store_url() const {
  return store.url.empty() ? "sqlite:" + data_dir + "/gatehouse.db" : store.url;
}

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join(problems, "\n")), problems_(std::move(problems)) {}

Config parse_config(std::string_view toml_text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(source_name));
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    throw ConfigError(
        {location(source_name, begin.line) + "TOML syntax error: " + one_line(error.description()) +
         (begin.column != 0 ? " (column " + std::to_string(begin.column) + ")" : "")});
  }
  Config config = default_server_config();
  config.source = source_name;
  ConfigReader reader(source_name);
  reader.read(root, config);
  std::vector<std::string> problems = reader.take_problems();
  std::vector<std::string> combination_problems = validate(config);
  problems.insert(problems.end(), std::make_move_iterator(combination_problems.begin()),
                  std::make_move_iterator(combination_problems.end()));
  if (!problems.empty()) throw ConfigError(std::move(problems));
  return config;
}

Config default_server_config() {
  Config config;
  config.trackers = {TrackerConfig{}};
  return config;
}

Config load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path + ": cannot read: " + std::strerror(errno)});
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError({path + ": cannot read: " + std::strerror(errno)});
  return parse_config(text.str(), path);
}

std::vector<std::string> validate(const Config& config) {
  Validator v(config.source);
  const std::vector<ListenAddress> addresses = check_server(v, config.server);
  if (!contains(kLogLevels, config.log.level)) {
    v.problem("log.level", "unknown level " + quoted(config.log.level) +
                               " (known: " + join(kLogLevels, ", ") + ")");
  }
  check_store_url(v, config.store.url);
  if (config.data_dir.empty()) v.problem("data_dir", "is empty");
  check_auth(v, config.auth);
  check_tokens(v, config);
  check_guard(v, config.guard);
  check_trackers(v, config.trackers);

  // ?api_key= puts the key in the request line, which proxies and access logs record; over a
  // network without TLS it is also readable on the wire. (No [tls] section exists yet, so every
  // non-loopback listener counts as clear text.)
  const auto& apikey = config.auth.apikey;
  const bool exposed = std::any_of(addresses.begin(), addresses.end(),
                                   [](const ListenAddress& a) { return !a.loopback; });
  if (contains(config.auth.schemes, "apikey") && apikey.query && !apikey.allow_insecure &&
      exposed) {
    v.problem("auth.apikey.query",
              "query API keys would travel in clear text on a non-loopback listener without "
              "TLS; set auth.apikey.query = false or allow_insecure = true");
  }
  return v.take();
}

std::string to_toml(const Config& config) {
  const auto list = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) out += ", ";
      out += quoted(items[i]);
    }
    return out + "]";
  };
  const auto boolean = [](bool value) { return value ? "true" : "false"; };
  const auto duration = [](Duration value) { return quoted(duration_text(value)); };

  std::ostringstream out;
  out << "# gatehouse effective configuration";
  if (!config.source.empty()) out << " (from " << quoted(config.source) << ")";
  out << "\n\ndata_dir = " << quoted(config.data_dir) << "\n";

  const ServerConfig& server = config.server;
  out << "\n[server]\n"
      << "listen = " << list(server.listen) << "\n"
      << "threads = " << server.threads << "\n"
      << "workers = " << server.workers << "\n"
      << "hash_queue = " << server.hash_queue << "\n"
      << "public_url = " << quoted(server.public_url) << "\n"
      << "max_header_bytes = " << server.max_header_bytes << "\n"
      << "max_body_bytes = " << server.max_body_bytes << "\n"
      << "read_timeout = " << duration(server.read_timeout) << "\n"
      << "idle_timeout = " << duration(server.idle_timeout) << "\n"
      << "drain_timeout = " << duration(server.drain_timeout) << "\n"
      << "max_connections = " << server.max_connections << "\n";

  out << "\n[log]\n"
      << "access = " << quoted(config.log.access) << "\n"
      << "level = " << quoted(config.log.level) << "\n";

  out << "\n[store]\n"
      << "url = " << quoted(config.store.url) << "  # in effect: " << quoted(config.store_url())
      << "\n";

  const AuthConfig& auth = config.auth;
  out << "\n[auth]\n"
      << "realm = " << quoted(auth.realm) << "\n"
      << "schemes = " << list(auth.schemes) << "\n"
      << "htpasswd_roles = " << list(auth.htpasswd_roles) << "\n";
  out << "\n[auth.basic]\n"
      << "stores = " << list(auth.basic.stores) << "\n"
      << "cache_ttl = " << duration(auth.basic.cache_ttl) << "\n"
      << "cache_entries = " << auth.basic.cache_entries << "\n";
  out << "\n[auth.digest]\n"
      << "algorithms = " << list(auth.digest.algorithms) << "\n"
      << "qop = " << list(auth.digest.qop) << "\n"
      << "nonce_lifetime = " << duration(auth.digest.nonce_lifetime) << "\n"
      << "stores = " << list(auth.digest.stores) << "\n"
      << "userhash = " << boolean(auth.digest.userhash) << "\n";
  out << "\n[auth.apikey]\n"
      << "header = " << boolean(auth.apikey.header) << "\n"
      << "query = " << boolean(auth.apikey.query) << "\n"
      << "allow_insecure = " << boolean(auth.apikey.allow_insecure) << "\n";
  if (auth.static_users.empty()) {
    out << "\n[auth.static]\nusers = []\n";
  }
  for (const StaticUser& user : auth.static_users) {
    out << "\n[[auth.static.users]]\n"
        << "name = " << quoted(user.name) << "\n"
        << "password = " << quoted(user.password) << "\n"
        << "roles = " << list(user.roles) << "\n";
  }

  const TokensConfig& tokens = config.tokens;
  out << "\n[tokens]\n"
      << "issuer = " << quoted(tokens.issuer) << "  # in effect: " << quoted(config.issuer())
      << "\n"
      << "audience = " << quoted(tokens.audience) << "\n"
      << "alg = " << quoted(tokens.alg) << "\n"
      << "access_ttl = " << duration(tokens.access_ttl) << "\n"
      << "refresh_ttl = " << duration(tokens.refresh_ttl) << "\n"
      << "session_max_age = " << duration(tokens.session_max_age) << "\n"
      << "session_idle = " << duration(tokens.session_idle) << "\n"
      << "reuse_grace = " << duration(tokens.reuse_grace) << "\n"
      << "key_rotation = " << duration(tokens.key_rotation) << "\n"
      << "leeway = " << duration(tokens.leeway) << "\n"
      << "cache_entries = " << tokens.cache_entries << "\n"
      << "introspection_roles = " << list(tokens.introspection_roles) << "\n";

  const GuardConfig& guard = config.guard;
  out << "\n[guard]\n"
      << "failed_login_limit = " << guard.failed_login_limit << "\n"
      << "failed_login_period = " << duration(guard.failed_login_period) << "\n"
      << "address_failed_login_limit = " << guard.address_failed_login_limit << "\n"
      << "address_failed_login_period = " << duration(guard.address_failed_login_period) << "\n"
      << "csrf = " << quoted(guard.csrf) << "\n"
      << "allowed_origins = " << list(guard.allowed_origins) << "\n";
  const CsrfHeadersConfig& h = guard.csrf_headers;
  out << "\n[guard.csrf_headers]\n"
      << "referer = " << quoted(h.referer) << "\n"
      << "origin = " << quoted(h.origin) << "\n"
      << "x_forwarded_host = " << quoted(h.x_forwarded_host) << "\n"
      << "host = " << quoted(h.host) << "\n"
      << "x_requested_with = " << quoted(h.x_requested_with) << "\n"
      << "header_min_count = " << h.header_min_count << "\n";

  if (config.trackers.empty()) out << "\n[tracker]\n";
  for (const TrackerConfig& t : config.trackers) {
    out << "\n[tracker." << t.name << "]\n"
        << "schema = " << quoted(t.schema) << "\n"
        << "demo_data = " << boolean(t.demo_data) << "\n";
  }

  out << "\n[compat]\n"
      << "auth_adventures = " << boolean(config.compat.auth_adventures) << "\n";
  return out.str();
}

}  // namespace gatehouse
