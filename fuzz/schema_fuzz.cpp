// libFuzzer target for tracker schema files: any bytes either parse into a Schema whose links,
// keys and permissions are consistent, or raise std::runtime_error naming the file; nothing else
// may escape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tracker/schema.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse::tracker;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Schema schema;
  try {
    schema = parse_schema(text, "fuzz.toml");
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).find("fuzz.toml") == std::string_view::npos) std::abort();
    return 0;
  }
  if (schema.find("user") == nullptr) std::abort();
  for (const auto& c : schema.classes) {
    if (!c.key.empty() && c.find(c.key) == nullptr) std::abort();
    for (const auto& p : c.properties) {
      if ((p.type == PropType::link || p.type == PropType::multilink) &&
          schema.find(p.target) == nullptr) {
        std::abort();
      }
      (void)type_repr(p);
    }
    (void)c.label();
  }
  for (const auto& r : schema.roles) {
    for (const auto& p : r.permissions) {
      if (p.klass && schema.find(*p.klass) == nullptr) std::abort();
    }
  }
  return 0;
}
