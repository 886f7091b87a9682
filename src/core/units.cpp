#include "vramcalc/core/units.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
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

TokenCount parse_token_count(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\n\r\f\v");
  const auto last = text.find_last_not_of(" \t\n\r\f\v");
  const std::string_view t =
      first == std::string_view::npos ? std::string_view{} : text.substr(first, last - first + 1);
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const std::string_view decimal_suffixes = "kmgt";
  const std::string_view binary_suffixes = "KMGT";
  const char suffix = t.empty() ? '\0' : t.back();
  const bool decimal = decimal_suffixes.find(suffix) != std::string_view::npos;
  const bool binary = binary_suffixes.find(suffix) != std::string_view::npos;
  const std::string_view number = decimal || binary ? t.substr(0, t.size() - 1) : t;
  // \d+(\.\d+)? as vLLM's pattern, or \d+ without a suffix.
  const auto dot = number.find('.');
  const std::string_view whole = number.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
  const bool shaped =
      !whole.empty() && std::all_of(whole.begin(), whole.end(), is_digit) &&
      (dot == std::string_view::npos || (!fraction.empty() && std::all_of(fraction.begin(), fraction.end(), is_digit)));
  if (!shaped || (dot != std::string_view::npos && !decimal && !binary)) return {std::nullopt, "not a whole number"};
  if (binary && dot != std::string_view::npos)
    return {std::nullopt, fmt::format("decimals are not allowed with binary suffixes like {} (did you mean {}{}?)",
                                      suffix, number, static_cast<char>(suffix - 'A' + 'a'))};
  const auto power = [](std::string_view suffixes, char s) { return static_cast<int>(suffixes.find(s)) + 1; };
  double value = 0;
  const std::string digits(number);
  if (decimal) {
    // int(float(number) * 1000^n), as Python computes it: the same IEEE doubles, truncated.
    value = std::strtod(digits.c_str(), nullptr) * std::pow(1000.0, power(decimal_suffixes, suffix));
  } else {
    value = std::strtod(digits.c_str(), nullptr) * std::pow(1024.0, binary ? power(binary_suffixes, suffix) : 0);
  }
  if (!(value < 9.2e18)) return {std::nullopt, ""};
  if (!decimal && !binary) {  // plain digits: exact, whatever their length below the bound
    errno = 0;
    const unsigned long long exact = std::strtoull(digits.c_str(), nullptr, 10);
    if (errno == ERANGE) return {std::nullopt, ""};
    return {exact, ""};
  }
  return {static_cast<std::uint64_t>(value), ""};
}

}  // namespace vramcalc
