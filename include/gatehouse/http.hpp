#pragma once
// The HTTP request and response as the pipeline sees them: plain types with no Boost.Beast in
// sight, so that schemes, stores and handlers compile without the networking headers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse {

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// A request that has been fully read and passed the size and time limits. All views point into
// buffers the connection keeps alive until the response has been sent.
class Request {
 public:
  std::string_view method;
  std::string_view target;  // as sent: path and query
  std::string_view path;    // target up to '?'
  std::string_view query;   // after '?', without it; empty when absent
  std::string_view body;
  std::string_view remote_address;
  bool secure = false;  // arrived over TLS
  std::vector<HeaderField> headers;
  // {name} segments of the matched route pattern, filled by the router.
  std::vector<std::pair<std::string_view, std::string_view>> path_params;

  // First value of a header (names compare case-insensitively); nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  std::size_t header_count(std::string_view name) const noexcept;
  std::optional<std::string_view> path_param(std::string_view name) const noexcept;
  // A query parameter, percent-decoded; nullopt when absent or not decodable.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;  // close the connection after sending

  Response& set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  const std::string* find(std::string_view name) const noexcept;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body, std::string content_type = "text/plain");
  // OAuth-style error body: {"error": code, "error_description": description}.
  static Response error(int status, std::string_view code, std::string_view description);
};

bool iequals(std::string_view a, std::string_view b) noexcept;
// A copy with ASCII A-Z lowered (no locale; other bytes unchanged).
std::string ascii_lower(std::string_view s);
// RFC 9110 §5.6.4 quoted-string.
std::string quote_string(std::string_view s);
std::string_view trim(std::string_view s) noexcept;
std::string_view reason_phrase(int status) noexcept;

}  // namespace gatehouse
