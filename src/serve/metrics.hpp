// Request counters and a latency histogram, in Prometheus' text format (GET /metrics). Thread-safe: every request
// thread records into it. Private to the server.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace vramcalc::serve {

class Metrics {
 public:
  // One request to `route` (a known path, or "other") that ended with `status`, after `seconds`.
  void record(const std::string& route, int status, double seconds);
  // Every series, as text/plain; version=0.0.4.
  [[nodiscard]] std::string prometheus_text() const;

  // Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 10> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5};

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // (route, status) -> count
  std::array<std::uint64_t, kBuckets.size()> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace vramcalc::serve
