#include "schemes/authorization_header.hpp"

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

bool is_token68(std::string_view s) noexcept {
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
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
