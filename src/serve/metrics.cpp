// Prometheus text for the server's requests (serve/metrics.hpp).
#include "serve/metrics.hpp"

#include <fmt/format.h>

namespace vramcalc::serve {

void Metrics::record(const std::string& route, int status, double seconds) {
  const std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++buckets_[i];
  ++count_;
  sum_ += seconds;
}

std::string Metrics::prometheus_text() const {
  const std::lock_guard lock(mutex_);
  std::string out =
      "# HELP vramcalc_requests_total Requests answered, by route and HTTP status.\n"
      "# TYPE vramcalc_requests_total counter\n";
  std::uint64_t errors = 0;
  for (const auto& [key, n] : requests_) {
    out += fmt::format("vramcalc_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", key.first, key.second, n);
    if (key.second >= 400) errors += n;
  }
  out += fmt::format(
      "# HELP vramcalc_request_errors_total Requests answered with an HTTP status of 400 or more.\n"
      "# TYPE vramcalc_request_errors_total counter\n"
      "vramcalc_request_errors_total {}\n"
      "# HELP vramcalc_request_duration_seconds Time from a request's arrival to its answer.\n"
      "# TYPE vramcalc_request_duration_seconds histogram\n",
      errors);
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    out += fmt::format("vramcalc_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i], buckets_[i]);
  out += fmt::format("vramcalc_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", count_);
  out += fmt::format("vramcalc_request_duration_seconds_sum {:.6f}\n", sum_);
  out += fmt::format("vramcalc_request_duration_seconds_count {}\n", count_);
  return out;
}

}  // namespace vramcalc::serve
