#include "tracker/xmlrpc_codec.hpp"
#include "gatehouse/http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <system_error>

#include <pugixml.hpp>

#include "util/encoding.hpp"

namespace gatehouse::tracker::xmlrpc {

const Value* Value::member(std::string_view name) const noexcept {
  const Struct* members = if_struct();
  if (members == nullptr) return nullptr;
  for (const Member& m : *members) {
    if (m.first == name) return &m.second;
  }
  return nullptr;
}

bool Value::operator==(const Value& other) const {
  return data == other.data;
}

namespace {

constexpr std::size_t kMaxMethodName = 256;
constexpr std::size_t kMaxDateTime = 64;

// ---------------------------------------------------------------------------------------------
// Characters.

// XML 1.0 §2.2 Char.
bool is_xml_char(char32_t c) noexcept {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// XML 1.0 §2.3 S.
bool is_xml_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool all_space(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), is_xml_space);
}

std::string_view trim_space(std::string_view s) noexcept {
  while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
  return s;
}

// Decodes one UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) at
// the start of `s`; returns the code point and sets `length`, or returns nullopt.
std::optional<char32_t> decode_utf8(std::string_view s, std::size_t& length) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) {
    length = 1;
    return lead;
  }
  std::size_t n = 0;
  char32_t c = 0;
  char32_t min = 0;
  if ((lead & 0xE0) == 0xC0) {
    n = 2, c = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    n = 3, c = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    n = 4, c = lead & 0x07, min = 0x10000;
  } else {
    return std::nullopt;
  }
  if (s.size() < n) return std::nullopt;
  for (std::size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return std::nullopt;
    c = (c << 6) | (byte(i) & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return std::nullopt;
  length = n;
  return c;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Every character of the document must be an XML Char encoded as UTF-8 (XML 1.0 §2.2, §4.3.3).
const char* check_characters(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t length = 0;
    const auto c = decode_utf8(s.substr(i), length);
    if (!c) return "request is not valid UTF-8";
    if (!is_xml_char(*c)) return "request contains a character XML 1.0 does not allow";
    i += length;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Markup pugixml would skip silently. pugixml never expands entities and, without parse_doctype,
// skips a DOCTYPE unread; refusing every markup declaration and processing instruction here
// keeps the accepted language to what this file says, whatever a later pugixml does with them.
// Comments and CDATA sections are skipped exactly as pugixml skips them (to the first --> or ]]>).
const char* check_markup(std::string_view s) noexcept {
  for (std::size_t i = s.find('<'); i != std::string_view::npos; i = s.find('<', i)) {
    const std::string_view rest = s.substr(i);
    if (rest.starts_with("<!--")) {
      const std::size_t end = s.find("-->", i + 4);
      if (end == std::string_view::npos) return "unterminated comment";
      i = end + 3;
    } else if (rest.starts_with("<![CDATA[")) {
      const std::size_t end = s.find("]]>", i + 9);
      if (end == std::string_view::npos) return "unterminated CDATA section";
      i = end + 3;
    } else if (rest.starts_with("<!")) {
      return "DOCTYPE and markup declarations are not allowed";
    } else if (rest.starts_with("<?")) {
      // XML 1.0 §2.8: the declaration, if any, comes first; no other PI is accepted.
      if (i != 0 || rest.size() < 6 || !rest.starts_with("<?xml") || !is_xml_space(rest[5])) {
        return "processing instructions are not allowed";
      }
      const std::size_t end = s.find("?>", i + 5);
      if (end == std::string_view::npos) return "unterminated XML declaration";
      i = end + 2;
    } else {
      ++i;
    }
  }
  return nullptr;
}

// XML 1.0 §2.8 XMLDecl: version 1.0, an encoding this parser reads, standalone yes or no.
const char* check_declaration(pugi::xml_node declaration) noexcept {
  bool version = false;
  bool encoding = false;
  bool standalone = false;
  for (const pugi::xml_attribute attribute : declaration.attributes()) {
    const std::string_view name = attribute.name();
    const std::string_view value = attribute.value();
    if (name == "version" && !version) {
      version = true;
      if (value != "1.0") return "unsupported XML version";
    } else if (name == "encoding" && !encoding) {
      encoding = true;
      if (!iequals(value, "UTF-8") && !iequals(value, "US-ASCII") && !iequals(value, "ASCII")) {
        return "unsupported encoding (only UTF-8 is accepted)";
      }
    } else if (name == "standalone" && !standalone) {
      standalone = true;
      if (value != "yes" && value != "no") return "bad XML declaration";
    } else {
      return "bad XML declaration";
    }
  }
  return version ? nullptr : "bad XML declaration";
}

// ---------------------------------------------------------------------------------------------
// Conversion of the pugixml tree.

class Reader {
 public:
  explicit Reader(const Limits& limits) : limits_(limits) {}

  const std::string& error() const noexcept { return error_; }

  std::optional<MethodCall> method_call(pugi::xml_node root) {
    if (std::string_view(root.name()) != "methodCall")
      return fail("root element is not methodCall");
    std::vector<pugi::xml_node> children;
    if (!elements(root, children)) return std::nullopt;
    if (children.empty() || std::string_view(children[0].name()) != "methodName") {
      return fail("missing methodName");
    }
    MethodCall call;
    auto name = text(children[0]);
    if (!name) return std::nullopt;
    if (name->empty() || name->size() > kMaxMethodName ||
        !std::all_of(name->begin(), name->end(), [](char c) {
          return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == ':' || c == '/';
        })) {
      return fail("bad methodName");
    }
    call.method = std::move(*name);
    if (children.size() > 2 || (children.size() == 2 && !named(children[1], "params"))) {
      return fail("unexpected element in methodCall");
    }
    if (children.size() == 2) {
      std::vector<pugi::xml_node> params;
      if (!elements(children[1], params)) return std::nullopt;
      for (const pugi::xml_node param : params) {
        if (!named(param, "param")) return fail("unexpected element in params");
        std::vector<pugi::xml_node> inner;
        if (!elements(param, inner)) return std::nullopt;
        if (inner.size() != 1 || !named(inner[0], "value")) {
          return fail("a param must hold exactly one value");
        }
        auto value = convert(inner[0], 0);
        if (!value) return std::nullopt;
        call.params.push_back(std::move(*value));
      }
    }
    return call;
  }

 private:
  static bool named(pugi::xml_node node, std::string_view name) {
    return std::string_view(node.name()) == name;
  }

  std::nullopt_t fail(std::string message) {
    error_ = std::move(message);
    return std::nullopt;
  }

  bool refuse(std::string message) {
    error_ = std::move(message);
    return false;
  }

  // The element children of `node`, which may hold nothing else but whitespace.
  bool elements(pugi::xml_node node, std::vector<pugi::xml_node>& out) {
    for (const pugi::xml_node child : node.children()) {
      switch (child.type()) {
        case pugi::node_element:
          if (child.first_attribute()) return refuse("attributes are not allowed");
          out.push_back(child);
          break;
        case pugi::node_pcdata:
          if (!all_space(child.value())) return refuse("unexpected text between elements");
          break;
        default:
          return refuse("unexpected content between elements");
      }
    }
    return true;
  }

  // XML 1.0 §4.1, §4.6: appends the character data `raw`, resolving the predefined entities and
  // character references and refusing any other reference, a bare '&' and "]]>" (§2.4).
  bool decode_text(std::string_view raw, std::string& out) {
    if (raw.find("]]>") != std::string_view::npos) return refuse("]]> in character data");
    for (std::size_t i = 0; i < raw.size();) {
      const std::size_t amp = raw.find('&', i);
      out.append(raw.substr(i, amp - i));
      if (amp == std::string_view::npos) break;
      const std::size_t semi = raw.find(';', amp);
      if (semi == std::string_view::npos || semi - amp > 12) {
        return refuse("bad entity or character reference");
      }
      const std::string_view ref = raw.substr(amp + 1, semi - amp - 1);
      if (ref == "lt") {
        out += '<';
      } else if (ref == "gt") {
        out += '>';
      } else if (ref == "amp") {
        out += '&';
      } else if (ref == "apos") {
        out += '\'';
      } else if (ref == "quot") {
        out += '"';
      } else if (ref.size() >= 2 && ref[0] == '#') {
        const bool hex = ref[1] == 'x';
        const std::string_view digits = ref.substr(hex ? 2 : 1);
        std::uint32_t code = 0;
        const auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
        if (digits.empty() || digits[0] == '-' || digits[0] == '+' || ec != std::errc() ||
            end != digits.data() + digits.size() || !is_xml_char(code)) {
          return refuse("bad character reference");
        }
        append_utf8(out, code);
      } else {
        return refuse("entity references other than the predefined ones are not allowed");
      }
      i = semi + 1;
    }
    return true;
  }

  // The character data of an element that holds no elements.
  std::optional<std::string> text(pugi::xml_node node) {
    if (node.first_attribute()) return fail("attributes are not allowed");
    std::string out;
    for (const pugi::xml_node child : node.children()) {
      switch (child.type()) {
        case pugi::node_pcdata:
          if (!decode_text(child.value(), out)) return std::nullopt;
          break;
        case pugi::node_cdata:
          out += child.value();
          break;
        default:
          return fail("unexpected element inside a scalar");
      }
    }
    return out;
  }

  std::optional<Value> convert(pugi::xml_node value, std::size_t depth) {
    if (++values_ > limits_.max_values) return fail("too many values");
    if (value.first_attribute()) return fail("attributes are not allowed");
    pugi::xml_node typed;
    bool only_space = true;
    for (const pugi::xml_node child : value.children()) {
      if (child.type() == pugi::node_element) {
        if (typed) return fail("a value must hold one type element");
        typed = child;
      } else if (child.type() != pugi::node_pcdata || !all_space(child.value())) {
        only_space = false;
      }
    }
    if (!typed) {  // spec: "If no type is indicated, the type is string."
      auto s = text(value);
      if (!s) return std::nullopt;
      return Value::string(std::move(*s));
    }
    if (!only_space) return fail("text beside a type element in a value");
    if (typed.first_attribute()) return fail("attributes are not allowed");
    const std::string_view type = typed.name();
    if (type == "array" || type == "struct") {
      if (depth + 1 > limits_.max_depth) return fail("values nested too deeply");
      return type == "array" ? array(typed, depth + 1) : structure(typed, depth + 1);
    }
    auto body = text(typed);
    if (!body) return std::nullopt;
    if (type == "string") return Value::string(std::move(*body));
    if (type == "int" || type == "i4") return integer(*body, true);
    if (type == "i8") return integer(*body, false);
    if (type == "boolean") {
      // Spec: 0 (false) or 1 (true); Python's xmlrpc.client accepts nothing else either.
      if (*body == "0" || *body == "1") return Value::boolean(*body == "1");
      return fail("bad boolean");
    }
    if (type == "double") return real(*body);
    if (type == "dateTime.iso8601") return date_time(*body);
    if (type == "base64") return base64(*body);
    if (type == "nil") {
      if (!all_space(*body)) return fail("nil must be empty");
      return Value::nil();
    }
    return fail("unknown value type");
  }

  std::optional<Value> array(pugi::xml_node node, std::size_t depth) {
    std::vector<pugi::xml_node> data;
    if (!elements(node, data)) return std::nullopt;
    if (data.size() != 1 || !named(data[0], "data")) return fail("an array must hold one data");
    std::vector<pugi::xml_node> items;
    if (!elements(data[0], items)) return std::nullopt;
    Array out;
    out.reserve(std::min<std::size_t>(items.size(), limits_.max_values));
    for (const pugi::xml_node item : items) {
      if (!named(item, "value")) return fail("unexpected element in array data");
      auto value = convert(item, depth);
      if (!value) return std::nullopt;
      out.push_back(std::move(*value));
    }
    return Value::array(std::move(out));
  }

  std::optional<Value> structure(pugi::xml_node node, std::size_t depth) {
    std::vector<pugi::xml_node> members;
    if (!elements(node, members)) return std::nullopt;
    Struct out;
    out.reserve(std::min<std::size_t>(members.size(), limits_.max_values));
    for (const pugi::xml_node member : members) {
      if (!named(member, "member")) return fail("unexpected element in struct");
      std::vector<pugi::xml_node> parts;
      if (!elements(member, parts)) return std::nullopt;
      if (parts.size() != 2 || !named(parts[0], "name") || !named(parts[1], "value")) {
        return fail("a member must hold a name and then a value");
      }
      auto name = text(parts[0]);
      if (!name) return std::nullopt;
      auto value = convert(parts[1], depth);
      if (!value) return std::nullopt;
      out.emplace_back(std::move(*name), std::move(*value));
    }
    std::vector<std::size_t> order(out.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return out[a].first < out[b].first; });
    for (std::size_t i = 1; i < order.size(); ++i) {
      if (out[order[i]].first == out[order[i - 1]].first) return fail("duplicate member name");
    }
    return Value::structure(std::move(out));
  }

  // Optional sign and decimal digits, surrounding whitespace allowed (as Python's int() does).
  std::optional<Value> integer(std::string_view body, bool thirty_two_bits) {
    std::string_view digits = trim_space(body);
    if (digits.starts_with("+-")) return fail("bad integer");
    if (digits.starts_with('+')) digits.remove_prefix(1);
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || digits[0] == '+' || ec != std::errc() ||
        end != digits.data() + digits.size()) {
      return fail("bad integer");
    }
    if (thirty_two_bits && (n < std::numeric_limits<std::int32_t>::min() ||
                            n > std::numeric_limits<std::int32_t>::max())) {
      return fail("integer out of 32-bit range");
    }
    return Value::integer(n);
  }

  // Spec: sign, digits, point, digits; the exponent form Python writes (repr) is accepted too.
  // Infinities and NaN are refused (spec: no representation for them).
  std::optional<Value> real(std::string_view body) {
    std::string_view digits = trim_space(body);
    if (digits.starts_with("+-")) return fail("bad double");
    if (digits.starts_with('+')) digits.remove_prefix(1);
    const std::string_view unsigned_part =
        !digits.empty() && digits[0] == '-' ? digits.substr(1) : digits;
    if (unsigned_part.empty() ||
        !(std::isdigit(static_cast<unsigned char>(unsigned_part[0])) || unsigned_part[0] == '.')) {
      return fail("bad double");
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (ec != std::errc() || end != digits.data() + digits.size() || !std::isfinite(d)) {
      return fail("bad double");
    }
    return Value::real(d);
  }

  std::optional<Value> date_time(std::string_view body) {
    const std::string_view text = trim_space(body);
    if (text.empty() || text.size() > kMaxDateTime ||
        !std::all_of(text.begin(), text.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '-' || c == '+' ||
                 c == '.';
        })) {
      return fail("bad dateTime.iso8601");
    }
    return Value::date_time(std::string(text));
  }

  // RFC 4648 §4 with padding; line breaks and other XML whitespace are ignored (Python writes
  // base64.encodebytes: 76-character lines).
  std::optional<Value> base64(std::string_view body) {
    std::string compact;
    compact.reserve(body.size());
    for (const char c : body) {
      if (!is_xml_space(c)) compact += c;
    }
    if (compact.empty()) return Value::base64({});
    auto bytes = util::base64_decode(compact);
    if (!bytes) return fail("bad base64");
    return Value::base64(std::move(*bytes));
  }

  const Limits& limits_;
  std::string error_;
  std::size_t values_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Writing.

// Character data; see the header for what is replaced and why.
void append_escaped(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t length = 1;
    const auto c = decode_utf8(s.substr(i), length);
    if (!c || !is_xml_char(*c)) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else if (*c == '&') {
      out += "&amp;";
    } else if (*c == '<') {
      out += "&lt;";
    } else if (*c == '>') {
      out += "&gt;";
    } else if (*c == '\r') {
      out += "&#13;";
    } else {
      out.append(s.substr(i, length));
    }
    i += c ? length : 1;
  }
}

// Python's repr(float): the shortest digits that read back exactly, positional notation for
// decimal exponents -4..15 (with ".0" when integral), else d.ddde+XX.
void append_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "nan";
    return;
  }
  if (std::isinf(d)) {
    out += d < 0 ? "-inf" : "inf";
    return;
  }
  char buffer[64];
  const auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, d, std::chars_format::scientific);
  std::string_view sci(buffer, static_cast<std::size_t>(end - buffer));
  std::string sign;
  if (sci.front() == '-') {
    sign = "-";
    sci.remove_prefix(1);
  }
  const std::size_t e_pos = sci.find('e');
  int exponent = 0;
  const std::string_view exponent_text = sci.substr(e_pos + 1);
  std::from_chars(exponent_text.data() + (exponent_text[0] == '+' ? 1 : 0),
                  exponent_text.data() + exponent_text.size(), exponent);
  if (exponent < -4 || exponent >= 16) {
    out += sign;
    out += sci;
    return;
  }
  std::string digits;
  for (const char c : sci.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  out += sign;
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out += digits;
    return;
  }
  const auto integral = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= integral) {
    out += digits;
    out.append(integral - digits.size(), '0');
    out += ".0";
  } else {
    out += digits.substr(0, integral);
    out += '.';
    out += digits.substr(integral);
  }
}

// xmlrpc.client.Marshaller layout.
void append_value(std::string& out, const Value& value) {
  switch (value.kind()) {
    case Kind::nil:
      out += "<value><nil/></value>";
      return;
    case Kind::boolean:
      out += *value.if_boolean() ? "<value><boolean>1</boolean></value>\n"
                                 : "<value><boolean>0</boolean></value>\n";
      return;
    case Kind::integer: {
      const std::int64_t n = *value.if_integer();
      const bool small = n >= std::numeric_limits<std::int32_t>::min() &&
                         n <= std::numeric_limits<std::int32_t>::max();
      out += small ? "<value><int>" : "<value><i8>";
      out += std::to_string(n);
      out += small ? "</int></value>\n" : "</i8></value>\n";
      return;
    }
    case Kind::real:
      out += "<value><double>";
      append_double(out, *value.if_real());
      out += "</double></value>\n";
      return;
    case Kind::string:
      out += "<value><string>";
      append_escaped(out, *value.if_string());
      out += "</string></value>\n";
      return;
    case Kind::date_time:
      out += "<value><dateTime.iso8601>";
      append_escaped(out, value.if_date_time()->iso8601);
      out += "</dateTime.iso8601></value>\n";
      return;
    case Kind::base64: {
      out += "<value><base64>\n";
      const std::string encoded = util::base64_encode(value.if_base64()->bytes);
      for (std::size_t i = 0; i < encoded.size(); i += 76) {
        out.append(encoded, i, 76);
        out += '\n';
      }
      out += "</base64></value>\n";
      return;
    }
    case Kind::array:
      out += "<value><array><data>\n";
      for (const Value& item : *value.if_array()) append_value(out, item);
      out += "</data></array></value>\n";
      return;
    case Kind::structure:
      out += "<value><struct>\n";
      for (const Member& member : *value.if_struct()) {
        out += "<member>\n<name>";
        append_escaped(out, member.first);
        out += "</name>\n";
        append_value(out, member.second);
        out += "</member>\n";
      }
      out += "</struct></value>\n";
      return;
  }
}

constexpr std::string_view kDeclaration = "<?xml version='1.0'?>\n";

}  // namespace

std::variant<MethodCall, ParseError> parse_method_call(std::string_view xml, const Limits& limits) {
  if (xml.size() > limits.max_bytes) return ParseError{"request too large"};
  if (xml.starts_with("\xEF\xBB\xBF")) xml.remove_prefix(3);  // UTF-8 byte order mark
  if (const char* error = check_characters(xml)) return ParseError{error};
  if (const char* error = check_markup(xml)) return ParseError{error};

  // No parse_escapes: references are resolved (and refused) by Reader::decode_text. No
  // parse_doctype, parse_pi, parse_comments: check_markup has refused the first two already.
  // parse_fragment keeps text outside the root element so that it can be refused below.
  constexpr unsigned options = pugi::parse_cdata | pugi::parse_eol | pugi::parse_ws_pcdata |
                               pugi::parse_declaration | pugi::parse_fragment;
  pugi::xml_document document;
  const pugi::xml_parse_result parsed =
      document.load_buffer(xml.data(), xml.size(), options, pugi::encoding_utf8);
  if (!parsed) return ParseError{"malformed XML at byte " + std::to_string(parsed.offset)};

  pugi::xml_node root;
  bool first = true;
  for (const pugi::xml_node node : document.children()) {
    switch (node.type()) {
      case pugi::node_declaration:
        if (!first) return ParseError{"misplaced XML declaration"};
        if (const char* error = check_declaration(node)) return ParseError{error};
        break;
      case pugi::node_element:
        if (root) return ParseError{"more than one root element"};
        root = node;
        break;
      case pugi::node_pcdata:
        if (!all_space(node.value())) return ParseError{"text outside the root element"};
        break;
      default:
        return ParseError{"unexpected content outside the root element"};
    }
    first = false;
  }
  if (!root) return ParseError{"no root element"};
  if (root.first_attribute()) return ParseError{"attributes are not allowed"};

  Reader reader(limits);
  auto call = reader.method_call(root);
  if (!call) return ParseError{reader.error()};
  return std::move(*call);
}

std::string method_response(const Value& result) {
  std::string out(kDeclaration);
  out += "<methodResponse>\n<params>\n<param>\n";
  append_value(out, result);
  out += "</param>\n</params>\n</methodResponse>\n";
  return out;
}

std::string fault_response(int code, std::string_view message) {
  std::string out(kDeclaration);
  out += "<methodResponse>\n<fault>\n";
  append_value(out, Value::structure({{"faultCode", Value::integer(code)},
                                      {"faultString", Value::string(std::string(message))}}));
  out += "</fault>\n</methodResponse>\n";
  return out;
}

std::string method_call(const MethodCall& call) {
  std::string out(kDeclaration);
  out += "<methodCall>\n<methodName>";
  append_escaped(out, call.method);
  out += "</methodName>\n<params>\n";
  for (const Value& param : call.params) {
    out += "<param>\n";
    append_value(out, param);
    out += "</param>\n";
  }
  out += "</params>\n</methodCall>\n";
  return out;
}

}  // namespace gatehouse::tracker::xmlrpc
