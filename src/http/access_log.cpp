#include "http/access_log.hpp"

#include <fcntl.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace gatehouse::http {

namespace {
// RFC 3339 UTC with milliseconds.
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
  return buf;
}
}  // namespace

AccessLog::AccessLog(const std::string& target) {
  if (target.empty()) return;
  if (target == "-") {
    logger_ = std::make_shared<spdlog::logger>("access",
                                               std::make_shared<spdlog::sinks::stdout_sink_mt>());
  } else {
    const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    logger_ = std::make_shared<spdlog::logger>(
        "access", std::make_shared<spdlog::sinks::basic_file_sink_mt>(target));
  }
  logger_->set_pattern("%v");
  logger_->flush_on(spdlog::level::warn);
}

AccessLog::~AccessLog() {
  flush();
}

void AccessLog::flush() const {
  if (logger_) logger_->flush();
}

void AccessLog::write(const Request& request, const Response& response,
                      std::chrono::nanoseconds latency, const Outcome* outcome) const {
  if (!logger_) return;
  boost::json::object line;
  line["ts"] = timestamp();
  line["remote"] = request.remote_address;
  line["method"] = request.method;
  line["path"] = request.path;
  line["status"] = response.status;
  line["bytes"] = response.body.size();
  line["us"] = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  if (outcome != nullptr) {
    line["scheme"] = outcome->scheme;
    line["outcome"] = to_string(outcome->kind);
    line["reason"] = outcome->reason;
    if (outcome->identity) line["user"] = outcome->identity->subject;
  }
  logger_->info(boost::json::serialize(line));
}

}  // namespace gatehouse::http
