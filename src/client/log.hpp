#pragma once
// The client library's logger, "gatehouse.client", on stderr. Its level comes from the
// environment variable GATEHOUSE_LOG_LEVEL (trace, debug, info, warning, error, off; default
// warning), read once. Never log a header value of Authorization, Proxy-Authorization, Cookie
// or Set-Cookie, nor a body: use header_for_log().
#include <spdlog/logger.h>

#include <string>
#include <string_view>

namespace gatehouse::client {

spdlog::logger& client_log();

// "Name: value" for a trace log, with the value masked for credential-bearing fields.
std::string header_for_log(std::string_view name, std::string_view value);

}  // namespace gatehouse::client
