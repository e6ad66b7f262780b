#include "schemes/authorization_header.hpp"

#include <array>
namespace gatehouse::schemes {

bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

namespace {
// The token68 alphabet without '=' as a table: bearer tokens are hundreds of bytes, checked on
// every request.
constexpr std::array<bool, 256> kToken68 = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (const char c : {'-', '.', '_', '~', '+', '/'}) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
}  // namespace

bool is_token68(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && kToken68[static_cast<unsigned char>(s[i])]) ++i;
  if (i == 0) return false;
  for (; i < s.size(); ++i) {
    if (s[i] != '=') return false;
  }
  return true;
}

std::optional<AuthorizationValue> split_authorization(std::string_view value) noexcept {
  std::size_t i = 0;
  while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
  const std::size_t start = i;
  while (i < value.size() && is_tchar(value[i])) ++i;
  if (i == start) return std::nullopt;
  const std::string_view scheme = value.substr(start, i - start);
  if (i < value.size() && value[i] != ' ' && value[i] != '\t') return std::nullopt;
  while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
  std::string_view rest = value.substr(i);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  return AuthorizationValue{scheme, rest};
}

}  // namespace gatehouse::schemes
