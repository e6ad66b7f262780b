// Fuzzes the Authorization header path: split_authorization, is_token68 and the Basic
// credentials parser (base64, ':' split, UTF-8 and username normalization).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "schemes/authorization_header.hpp"
#include "schemes/basic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const auto value = gatehouse::schemes::split_authorization(input)) {
    (void)gatehouse::schemes::is_token68(value->rest);
    const auto parsed = gatehouse::schemes::parse_basic_credentials(value->rest);
    if (parsed.kind == gatehouse::Parsed::Kind::present) {
      const auto& creds = std::get<gatehouse::PasswordCredentials>(parsed.credentials);
      if (creds.username.empty()) __builtin_trap();  // present credentials always name a user
    }
  }
  (void)gatehouse::schemes::parse_basic_credentials(input);
  return 0;
}
