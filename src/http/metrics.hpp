#pragma once
// Prometheus counters and a latency histogram. Lock-free on the request path (relaxed atomics in
// fixed tables sized at start-up); rendered in text exposition format by render().
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gatehouse/outcome.hpp"

namespace gatehouse::http {

class Metrics {
 public:
  static constexpr std::array<std::string_view, 6> kSchemes = {"apikey", "basic",     "digest",
                                                               "bearer", "negotiate", "none"};
  explicit Metrics(std::vector<std::string> route_names);  // an "unmatched" route is appended

  std::size_t unmatched_route() const noexcept { return routes_.size() - 1; }
  void record_request(std::size_t route, int status, std::chrono::nanoseconds latency) noexcept;
  void record_auth(std::string_view scheme, OutcomeKind outcome) noexcept;
  // Extra gauges (connections, worker queue) supplied by their owners at render time.
  void add_gauge(std::string name, std::string help, std::function<double()> read,
                 std::string type = "gauge");
  std::string render() const;

 private:
  static constexpr std::array<int, 17> kStatuses = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                                    408, 412, 413, 429, 431, 500, 503, 0};
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  static constexpr std::size_t kOutcomes = 8;
  static std::size_t status_slot(int status) noexcept;

  // Counters are sharded by thread (each I/O thread settles on one shard), so threads do not
  // bounce cache lines on every request; render() sums the shards.
  struct alignas(64) Shard {
    std::unique_ptr<std::atomic<std::uint64_t>[]> requests;  // [route][status slot]
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> latency_buckets{};
    std::atomic<std::uint64_t> latency_sum_ns{0};
    std::array<std::atomic<std::uint64_t>, kSchemes.size() * kOutcomes> auth{};
  };
  static constexpr std::size_t kShards = 8;
  Shard& local() noexcept;
  std::uint64_t requests(std::size_t cell) const noexcept;

  std::vector<std::string> routes_;
  std::array<Shard, kShards> shards_;
  struct Gauge {
    std::string name, help, type;
    std::function<double()> read;
  };
  std::vector<Gauge> gauges_;
};

}  // namespace gatehouse::http
