// libFuzzer target for RFC 8265 username normalization: never crashes, and a normalized name
// is non-empty and normalizes to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/username.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto once = gatehouse::auth::normalize_username(input);
  if (!once) return 0;
  if (once->empty()) std::abort();
  const auto twice = gatehouse::auth::normalize_username(*once);
  if (twice != once) std::abort();
  return 0;
}
