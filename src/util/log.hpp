#pragma once
// Diagnostics (not the access log): always stderr, never the application's stdout.
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <memory>

namespace gatehouse::util {
inline spdlog::logger& diag() {
  static const auto logger = std::make_shared<spdlog::logger>(
      "gatehouse", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  return *logger;
}
}  // namespace gatehouse::util
