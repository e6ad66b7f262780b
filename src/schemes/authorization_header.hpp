#pragma once
// RFC 9110 §11.4 credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ].
#include <optional>
#include <string_view>

namespace gatehouse::schemes {

struct AuthorizationValue {
  std::string_view scheme;  // as sent; compare case-insensitively
  std::string_view rest;    // token68 or auth-params, leading spaces removed
};

// nullopt when the value does not start with a valid token (RFC 9110 §5.6.2).
std::optional<AuthorizationValue> split_authorization(std::string_view value) noexcept;

// RFC 9110 §11.2 token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_token68(std::string_view s) noexcept;
bool is_tchar(char c) noexcept;

}  // namespace gatehouse::schemes
