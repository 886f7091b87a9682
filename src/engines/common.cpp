#include "vramcalc/engines/common.hpp"

#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc {

std::string_view oom_risk_name(OomRisk r) {
  switch (r) {
    case OomRisk::Low: return "low";
    case OomRisk::Medium: return "medium";
    case OomRisk::High: return "high";
  }
  return "high";
}

// vllm-wizard: headroom >= 2 GiB -> low, >= 0 -> medium, else high; the two bounds are configurable.
OomRisk classify_oom_risk(std::int64_t headroom_bytes, const RiskThresholds& t) {
  const double headroom = static_cast<double>(headroom_bytes);
  const double gib = static_cast<double>(kGiB);
  if (headroom >= t.low_gib * gib) return OomRisk::Low;
  if (headroom >= t.medium_gib * gib) return OomRisk::Medium;
  return OomRisk::High;
}

namespace {

constexpr double kMaxThresholdGib = 1024.0;

// A user's text in a one-line message: control characters (a newline) become '?'.
std::string printable(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

double parse_threshold(std::string_view part) {
  const auto first = part.find_first_not_of(" \t");
  const auto last = part.find_last_not_of(" \t");
  const std::string_view number =
      first == std::string_view::npos ? std::string_view{} : part.substr(first, last - first + 1);
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  // from_chars reads "inf" and "nan" too; neither is a threshold.
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value))
    fail_input(fmt::format("--risk-thresholds-gib: \"{}\" is not a number of GiB (expected LOW,MEDIUM such as 2,0)",
                           printable(part)));
  return value;
}

}  // namespace

void check_risk_thresholds(const RiskThresholds& t) {
  for (double v : {t.low_gib, t.medium_gib})
    if (!(v >= 0 && v <= kMaxThresholdGib))
      fail_input(fmt::format("--risk-thresholds-gib: {} is outside [0, 1024] GiB", v));
  if (t.low_gib < t.medium_gib)
    fail_input(
        fmt::format("--risk-thresholds-gib: the low-risk bound {} GiB is below the medium-risk bound {} GiB "
                    "(write LOW,MEDIUM with LOW >= MEDIUM, e.g. 2,0)",
                    t.low_gib, t.medium_gib));
}

RiskThresholds parse_risk_thresholds(const std::string& text) {
  const auto comma = text.find(',');
  if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos)
    fail_input(
        fmt::format("--risk-thresholds-gib: \"{}\" is not two numbers LOW,MEDIUM (GiB, e.g. 2,0)", printable(text)));
  RiskThresholds t;
  t.low_gib = parse_threshold(std::string_view(text).substr(0, comma));
  t.medium_gib = parse_threshold(std::string_view(text).substr(comma + 1));
  check_risk_thresholds(t);
  return t;
}

void add_flag(std::vector<std::string>& words, std::string_view flag, std::string value) {
  words.emplace_back(flag);
  words.push_back(std::move(value));
}

std::vector<std::string> serve_command_head(std::vector<std::string> program, const ServeOptions& o,
                                            const std::vector<std::string>& method_flags) {
  std::vector<std::string> words = std::move(program);
  words.push_back(o.model);
  if (o.revision) add_flag(words, "--revision", *o.revision);
  words.insert(words.end(), method_flags.begin(), method_flags.end());
  if (o.dtype) add_flag(words, "--dtype", *o.dtype);
  return words;
}

}  // namespace vramcalc
