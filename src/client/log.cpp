#include "client/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <memory>

#include "gatehouse/http.hpp"

namespace gatehouse::client {
namespace {

spdlog::level::level_enum level_from_environment() {
  const char* text = std::getenv("GATEHOUSE_LOG_LEVEL");
  const std::string_view value = text ? text : "";
  if (iequals(value, "trace")) return spdlog::level::trace;
  if (iequals(value, "debug")) return spdlog::level::debug;
  if (iequals(value, "info")) return spdlog::level::info;
  if (iequals(value, "error")) return spdlog::level::err;
  if (iequals(value, "off")) return spdlog::level::off;
  return spdlog::level::warn;
}

}  // namespace

spdlog::logger& client_log() {
  static const auto logger = [] {
    auto l = std::make_shared<spdlog::logger>(
        "gatehouse.client", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    l->set_level(level_from_environment());
    return l;
  }();
  return *logger;
}

std::string header_for_log(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ": ";
  if (iequals(name, "authorization") || iequals(name, "proxy-authorization") ||
      iequals(name, "cookie") || iequals(name, "set-cookie")) {
    // Keep the scheme word ("Bearer", "Negotiate"): it is not a secret and helps debugging.
    const auto space = value.find(' ');
    out += space == std::string_view::npos ? "***" : std::string(value.substr(0, space)) + " ***";
    if (iequals(name, "cookie") || iequals(name, "set-cookie"))
      out.replace(name.size() + 2, std::string::npos, "***");
  } else {
    out += value;
  }
  return out;
}

}  // namespace gatehouse::client
