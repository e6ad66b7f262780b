#pragma once
// One JSON line per request: who, what, outcome, status, time. Never a credential: the query
// string (which may hold api_key) is not logged, nor any header value.
#include <chrono>
#include <memory>
#include <string>

#include "gatehouse/http.hpp"
#include "gatehouse/outcome.hpp"

namespace spdlog {
class logger;
}

namespace gatehouse::http {

class AccessLog {
 public:
  // target: "-" stdout, "" off, else a file path (created 0600 if missing).
  explicit AccessLog(const std::string& target);
  ~AccessLog();
  bool enabled() const noexcept { return logger_ != nullptr; }
  void write(const Request& request, const Response& response, std::chrono::nanoseconds latency,
             const Outcome* outcome) const;
  void flush() const;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace gatehouse::http
