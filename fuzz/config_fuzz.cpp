// libFuzzer target for the configuration loader: any bytes either parse into a valid Config or
// raise ConfigError; nothing else may escape. An accepted Config must pass validate() and
// survive to_toml() → parse_config() unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gatehouse/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  gatehouse::Config config;
  try {
    config = gatehouse::parse_config(text, "fuzz.toml");
  } catch (const gatehouse::ConfigError& error) {
    if (error.problems().empty()) std::abort();
    for (const auto& problem : error.problems()) {
      if (problem.find('\n') != std::string::npos) std::abort();  // one problem per line
    }
    return 0;
  }
  if (!gatehouse::validate(config).empty()) std::abort();
  const std::string written = gatehouse::to_toml(config);
  gatehouse::Config again;
  try {
    again = gatehouse::parse_config(written, "fuzz.toml");
  } catch (const gatehouse::ConfigError&) {
    std::abort();  // to_toml wrote something parse_config refuses
  }
  if (gatehouse::to_toml(again) != written) std::abort();
  (void)config.store_url();
  return 0;
}
