#include "auth/identity_json.hpp"

#include <string_view>

namespace gatehouse::auth {

namespace {
// RFC 8259 §7 string: quotes, backslash and control characters escaped; the text is valid UTF-8
// already (names and roles are checked where they enter).
void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xF]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

// Built by appending rather than through a JSON DOM: whoami is on the hot path of every
// benchmark row.
std::string identity_json(const Identity& who) {
  std::string out;
  out.reserve(96 + who.subject.size() + who.session_id.size());
  out += "{\"user\":";
  append_json_string(out, who.subject);
  out += ",\"scheme\":";
  append_json_string(out, who.scheme);
  out += ",\"roles\":[";
  for (std::size_t i = 0; i < who.roles.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_string(out, who.roles[i]);
  }
  out.push_back(']');
  if (!who.session_id.empty()) {
    out += ",\"session\":";
    append_json_string(out, who.session_id);
  }
  if (who.expires_at) {
    out += ",\"expires_at\":";
    out += std::to_string(*who.expires_at);
  }
  out.push_back('}');
  return out;
}

}  // namespace gatehouse::auth
