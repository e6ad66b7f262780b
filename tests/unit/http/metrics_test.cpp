// Prometheus text exposition of the request counters, the latency histogram, the auth outcome
// counters and the gauges.
#include "http/metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::http {
namespace {

using namespace std::chrono_literals;

// The sample lines of a rendering: "name{labels}" -> value.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    if (space == std::string::npos) continue;
    const std::string key = line.substr(0, space);
    EXPECT_EQ(out.count(key), 0u) << "duplicate sample " << key;
    out[key] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

// The histogram's buckets in rendering order: (le, cumulative count).
std::vector<std::pair<double, double>> buckets(const std::string& text) {
  std::vector<std::pair<double, double>> out;
  std::istringstream in(text);
  std::string line;
  const std::string prefix = "gatehouse_http_request_duration_seconds_bucket{le=\"";
  while (std::getline(in, line)) {
    if (!line.starts_with(prefix)) continue;
    const auto end = line.find('"', prefix.size());
    const std::string le = line.substr(prefix.size(), end - prefix.size());
    const double bound =
        le == "+Inf" ? std::numeric_limits<double>::infinity() : std::strtod(le.c_str(), nullptr);
    out.emplace_back(bound, std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr));
  }
  return out;
}

double bucket_at(const std::string& text, double le) {
  for (const auto& [bound, count] : buckets(text)) {
    if (bound == le) return count;
  }
  ADD_FAILURE() << "no bucket le=" << le;
  return -1;
}

TEST(Metrics, FreshMetricsRenderTypesAndAnEmptyHistogram) {
  const Metrics m({"GET /healthz"});
  const std::string text = m.render();
  EXPECT_NE(text.find("# TYPE gatehouse_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE gatehouse_auth_outcomes_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE gatehouse_http_request_duration_seconds histogram\n"),
            std::string::npos);
  EXPECT_EQ(text.find("gatehouse_http_requests_total{"), std::string::npos);
  const auto s = samples(text);
  EXPECT_EQ(s.at("gatehouse_http_request_duration_seconds_count"), 0);
  EXPECT_EQ(s.at("gatehouse_http_request_duration_seconds_sum"), 0);
  EXPECT_EQ(s.at("gatehouse_http_request_duration_seconds_bucket{le=\"+Inf\"}"), 0);
}

TEST(Metrics, RequestsAreCountedByRouteAndStatus) {
  Metrics m({"GET /healthz", "POST /auth/login"});
  m.record_request(0, 200, 1ms);
  m.record_request(0, 200, 1ms);
  m.record_request(1, 401, 1ms);
  m.record_request(1, 200, 1ms);
  m.record_request(m.unmatched_route(), 404, 1ms);
  const auto s = samples(m.render());
  EXPECT_EQ(s.at("gatehouse_http_requests_total{route=\"GET /healthz\",status=\"200\"}"), 2);
  EXPECT_EQ(s.at("gatehouse_http_requests_total{route=\"POST /auth/login\",status=\"401\"}"), 1);
  EXPECT_EQ(s.at("gatehouse_http_requests_total{route=\"POST /auth/login\",status=\"200\"}"), 1);
  EXPECT_EQ(s.at("gatehouse_http_requests_total{route=\"unmatched\",status=\"404\"}"), 1);
  EXPECT_EQ(s.count("gatehouse_http_requests_total{route=\"GET /healthz\",status=\"401\"}"), 0u);
}

TEST(Metrics, UnlistedStatusIsOtherAndOutOfRangeRouteIsUnmatched) {
  Metrics m({"GET /a"});
  m.record_request(0, 418, 1ms);
  m.record_request(0, 999, 1ms);
  m.record_request(57, 200, 1ms);
  const auto s = samples(m.render());
  EXPECT_EQ(s.at("gatehouse_http_requests_total{route=\"GET /a\",status=\"other\"}"), 2);
  EXPECT_EQ(s.at("gatehouse_http_requests_total{route=\"unmatched\",status=\"200\"}"), 1);
}

TEST(Metrics, UnmatchedRouteIsAppendedAfterTheNamedOnes) {
  const Metrics m({"GET /a", "GET /b", "GET /c"});
  EXPECT_EQ(m.unmatched_route(), 3u);
}

TEST(Metrics, HistogramBucketsAreCumulativeAndCountEqualsInf) {
  Metrics m({"GET /a"});
  const std::vector<std::chrono::nanoseconds> latencies = {
      50us, 100us /* exactly the first bound: le is inclusive */, 101us, 3ms, 3ms, 40ms, 2s, 10s};
  std::chrono::nanoseconds total{0};
  for (auto l : latencies) {
    m.record_request(0, 200, l);
    total += l;
  }
  const std::string text = m.render();
  const auto b = buckets(text);
  ASSERT_GE(b.size(), 2u);
  EXPECT_EQ(b.back().first, std::numeric_limits<double>::infinity());
  for (std::size_t i = 1; i < b.size(); ++i) {
    EXPECT_LT(b[i - 1].first, b[i].first) << "bounds increase";
    EXPECT_LE(b[i - 1].second, b[i].second) << "counts are cumulative";
  }
  const auto s = samples(text);
  EXPECT_EQ(b.back().second, static_cast<double>(latencies.size()));
  EXPECT_EQ(s.at("gatehouse_http_request_duration_seconds_count"), b.back().second);
  EXPECT_NEAR(s.at("gatehouse_http_request_duration_seconds_sum"),
              std::chrono::duration<double>(total).count(), 1e-6);

  EXPECT_EQ(bucket_at(text, 0.0001), 2);  // 50us, 100us
  EXPECT_EQ(bucket_at(text, 0.00025), 3);
  EXPECT_EQ(bucket_at(text, 0.0025), 3);
  EXPECT_EQ(bucket_at(text, 0.005), 5);  // + 3ms twice
  EXPECT_EQ(bucket_at(text, 0.05), 6);   // + 40ms
  EXPECT_EQ(bucket_at(text, 1.0), 6);
  EXPECT_EQ(bucket_at(text, std::numeric_limits<double>::infinity()), 8);  // + 2s, 10s
}

TEST(Metrics, AuthOutcomesAreCountedBySchemeAndOutcome) {
  Metrics m({});
  m.record_auth("basic", OutcomeKind::granted);
  m.record_auth("basic", OutcomeKind::granted);
  m.record_auth("basic", OutcomeKind::denied);
  m.record_auth("apikey", OutcomeKind::malformed);
  m.record_auth("bearer", OutcomeKind::busy);
  m.record_auth("none", OutcomeKind::denied);
  m.record_auth("something-else", OutcomeKind::unknown_user);
  m.record_auth("digest", OutcomeKind::error);
  m.record_auth("negotiate", OutcomeKind::stale);
  const auto s = samples(m.render());
  EXPECT_EQ(s.at("gatehouse_auth_outcomes_total{scheme=\"basic\",outcome=\"granted\"}"), 2);
  EXPECT_EQ(s.at("gatehouse_auth_outcomes_total{scheme=\"basic\",outcome=\"denied\"}"), 1);
  EXPECT_EQ(s.at("gatehouse_auth_outcomes_total{scheme=\"apikey\",outcome=\"malformed\"}"), 1);
  EXPECT_EQ(s.at("gatehouse_auth_outcomes_total{scheme=\"bearer\",outcome=\"busy\"}"), 1);
  EXPECT_EQ(s.at("gatehouse_auth_outcomes_total{scheme=\"none\",outcome=\"denied\"}"), 1);
  EXPECT_EQ(s.at("gatehouse_auth_outcomes_total{scheme=\"none\",outcome=\"unknown_user\"}"), 1);
  EXPECT_EQ(s.at("gatehouse_auth_outcomes_total{scheme=\"digest\",outcome=\"error\"}"), 1);
  EXPECT_EQ(s.at("gatehouse_auth_outcomes_total{scheme=\"negotiate\",outcome=\"stale\"}"), 1);
  EXPECT_EQ(s.count("gatehouse_auth_outcomes_total{scheme=\"apikey\",outcome=\"granted\"}"), 0u);
}

TEST(Metrics, GaugesAreReadAtRenderTime) {
  Metrics m({});
  double connections = 3;
  m.add_gauge("gatehouse_connections", "Open connections.", [&connections] { return connections; });
  m.add_gauge("gatehouse_worker_queue", "Queued password checks.", [] { return 0.5; });
  std::string text = m.render();
  EXPECT_NE(text.find("# HELP gatehouse_connections Open connections.\n"
                      "# TYPE gatehouse_connections gauge\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE gatehouse_worker_queue gauge\n"), std::string::npos);
  EXPECT_EQ(samples(text).at("gatehouse_connections"), 3);
  EXPECT_EQ(samples(text).at("gatehouse_worker_queue"), 0.5);
  connections = 17;
  EXPECT_EQ(samples(m.render()).at("gatehouse_connections"), 17);
}

TEST(Metrics, ConcurrentRecordingLosesNothing) {
  Metrics m({"GET /a"});
  constexpr int kThreads = 4, kEach = 2500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < kEach; ++i) {
        m.record_request(0, 200, 1ms);
        m.record_auth("basic", OutcomeKind::granted);
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto s = samples(m.render());
  EXPECT_EQ(s.at("gatehouse_http_requests_total{route=\"GET /a\",status=\"200\"}"),
            kThreads * kEach);
  EXPECT_EQ(s.at("gatehouse_auth_outcomes_total{scheme=\"basic\",outcome=\"granted\"}"),
            kThreads * kEach);
  EXPECT_EQ(s.at("gatehouse_http_request_duration_seconds_count"), kThreads * kEach);
}

}  // namespace
}  // namespace gatehouse::http
