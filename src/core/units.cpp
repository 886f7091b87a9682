#include "vramcalc/core/units.hpp"

#include <cctype>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"

namespace vramcalc {

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, std::string_view what) {
  std::uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) fail_input(fmt::format("{} overflows 64 bits", what));
  return r;
}

std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, std::string_view what) {
  std::uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) fail_input(fmt::format("{} overflows 64 bits", what));
  return r;
}

std::uint64_t round_bytes(double bytes, std::string_view what) {
  // 2^63 keeps the conversion exact and well away from the top of the range.
  if (!std::isfinite(bytes) || bytes < 0 || bytes >= 9.2e18)
    fail_input(fmt::format("{} is out of range ({})", what, bytes));
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) ++i;
  const std::string number(text.substr(0, i));
  std::string unit(text.substr(i));
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  if (number.empty() || number.find('.') != number.rfind('.') || number == ".") return std::nullopt;
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "kib") scale = static_cast<double>(kKiB);
  else if (unit == "mib") scale = static_cast<double>(kMiB);
  else if (unit == "gib") scale = static_cast<double>(kGiB);
  else if (unit == "tib") scale = static_cast<double>(kTiB);
  else if (unit == "kb") scale = 1e3;
  else if (unit == "mb") scale = 1e6;
  else if (unit == "gb") scale = 1e9;
  else if (unit == "tb") scale = 1e12;
  else return std::nullopt;
  const double value = std::stod(number) * scale;
  constexpr double kPiB = 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0;
  if (!std::isfinite(value) || value < 1 || value > kPiB) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(value));
}

std::string format_gib(std::uint64_t bytes) { return fmt::format("{:.2f} GiB", to_gib(bytes)); }
std::string format_gb(std::uint64_t bytes) { return fmt::format("{:.2f} GB", to_gb(bytes)); }

std::string format_count(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  const std::size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  out = digits.substr(0, first);
  for (std::size_t i = first; i < digits.size(); i += 3) {
    out.push_back(',');
    out.append(digits, i, 3);
  }
  return out;
}

}  // namespace vramcalc
