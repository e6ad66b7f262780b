#pragma once
// Byte encodings on libsodium (strict base64 and hex) and a percent-decoder.
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::util {

// RFC 4648 §4 base64 with padding; nullopt on any character outside the alphabet, bad padding
// or trailing garbage (strict: no whitespace, no line breaks).
std::optional<std::string> base64_decode(std::string_view in);
std::string base64_encode(std::string_view in);
std::string hex_encode(std::string_view bytes);
std::optional<std::string> hex_decode(std::string_view hex);
// RFC 3986 §2.1 percent-decoding of a query component ('+' is a space, as in forms).
std::optional<std::string> percent_decode(std::string_view in);
// Valid UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;
// True when `s` holds a C0 control character or DEL (never allowed in user names, realms,
// credentials or header values).
inline bool has_control_chars(std::string_view s) noexcept {
  for (const unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}
// Random bytes from the OS CSPRNG.
std::string random_bytes(std::size_t n);

}  // namespace gatehouse::util
