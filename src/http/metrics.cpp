#include "http/metrics.hpp"

#include <fmt/format.h>

namespace gatehouse::http {

namespace {
// Prometheus text format: label values escape backslash, double quote and newline.
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}
}  // namespace

Metrics::Metrics(std::vector<std::string> route_names) : routes_(std::move(route_names)) {
  routes_.emplace_back("unmatched");
  const std::size_t n = routes_.size() * kStatuses.size();
  for (auto& shard : shards_) {
    shard.requests = std::make_unique<std::atomic<std::uint64_t>[]>(n);
    for (std::size_t i = 0; i < n; ++i) shard.requests[i].store(0, std::memory_order_relaxed);
  }
}

Metrics::Shard& Metrics::local() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t index = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shards_[index];
}

std::uint64_t Metrics::requests(std::size_t cell) const noexcept {
  std::uint64_t sum = 0;
  for (const auto& shard : shards_) sum += shard.requests[cell].load(std::memory_order_relaxed);
  return sum;
}

std::size_t Metrics::status_slot(int status) noexcept {
  for (std::size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return i;
  }
  return kStatuses.size() - 1;  // "other"
}

void Metrics::record_request(std::size_t route, int status,
                             std::chrono::nanoseconds latency) noexcept {
  if (route >= routes_.size()) route = unmatched_route();
  Shard& shard = local();
  shard.requests[route * kStatuses.size() + status_slot(status)].fetch_add(
      1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(latency).count();
  std::size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  shard.latency_buckets[b].fetch_add(1, std::memory_order_relaxed);
  shard.latency_sum_ns.fetch_add(static_cast<std::uint64_t>(latency.count()),
                                 std::memory_order_relaxed);
}

void Metrics::record_auth(std::string_view scheme, OutcomeKind outcome) noexcept {
  std::size_t s = kSchemes.size() - 1;
  for (std::size_t i = 0; i < kSchemes.size(); ++i) {
    if (kSchemes[i] == scheme) s = i;
  }
  local().auth[s * kOutcomes + static_cast<std::size_t>(outcome)].fetch_add(
      1, std::memory_order_relaxed);
}

void Metrics::add_gauge(std::string name, std::string help, std::function<double()> read,
                        std::string type) {
  gauges_.push_back({std::move(name), std::move(help), std::move(type), std::move(read)});
}

std::string Metrics::render() const {
  std::string out;
  out += "# HELP gatehouse_http_requests_total HTTP requests by route pattern and status.\n";
  out += "# TYPE gatehouse_http_requests_total counter\n";
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    for (std::size_t s = 0; s < kStatuses.size(); ++s) {
      const auto v = requests(r * kStatuses.size() + s);
      if (v == 0) continue;
      const std::string status = kStatuses[s] == 0 ? "other" : std::to_string(kStatuses[s]);
      out += fmt::format("gatehouse_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                         label(routes_[r]), status, v);
    }
  }
  out += "# HELP gatehouse_auth_outcomes_total Authentication outcomes by scheme.\n";
  out += "# TYPE gatehouse_auth_outcomes_total counter\n";
  for (std::size_t s = 0; s < kSchemes.size(); ++s) {
    for (std::size_t o = 0; o < kOutcomes; ++o) {
      std::uint64_t v = 0;
      for (const auto& shard : shards_)
        v += shard.auth[s * kOutcomes + o].load(std::memory_order_relaxed);
      if (v == 0) continue;
      out += fmt::format("gatehouse_auth_outcomes_total{{scheme=\"{}\",outcome=\"{}\"}} {}\n",
                         kSchemes[s], to_string(static_cast<OutcomeKind>(o)), v);
    }
  }
  out += "# HELP gatehouse_http_request_duration_seconds Time from request read to response.\n";
  out += "# TYPE gatehouse_http_request_duration_seconds histogram\n";
  const auto bucket = [this](std::size_t b) {
    std::uint64_t v = 0;
    for (const auto& shard : shards_) v += shard.latency_buckets[b].load(std::memory_order_relaxed);
    return v;
  };
  std::uint64_t cumulative = 0;
  std::uint64_t sum_ns = 0;
  for (const auto& shard : shards_) sum_ns += shard.latency_sum_ns.load(std::memory_order_relaxed);
  for (std::size_t b = 0; b < kBuckets.size(); ++b) {
    cumulative += bucket(b);
    out += fmt::format("gatehouse_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                       kBuckets[b], cumulative);
  }
  cumulative += bucket(kBuckets.size());
  out +=
      fmt::format("gatehouse_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("gatehouse_http_request_duration_seconds_sum {:.9f}\n",
                     static_cast<double>(sum_ns) / 1e9);
  // The count is the +Inf bucket: the two can never disagree in one scrape.
  out += fmt::format("gatehouse_http_request_duration_seconds_count {}\n", cumulative);
  for (const auto& g : gauges_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", g.name, g.help, g.name, g.type,
                       g.name, g.read());
  }
  return out;
}

}  // namespace gatehouse::http
