#include "model/config_reader.hpp"

#include <cmath>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"

namespace vramcalc::detail {

ConfigReader::ConfigReader(const nlohmann::json& object, std::string origin, std::string prefix,
                           nlohmann::json defaults)
    : object_(object), origin_(std::move(origin)), prefix_(std::move(prefix)), defaults_(std::move(defaults)) {}

const nlohmann::json* ConfigReader::get(std::string_view name) const {
  const std::string key(name);
  if (object_.is_object()) {
    auto it = object_.find(key);
    // An explicit null means "none", not "use the default".
    if (it != object_.end()) return it->is_null() ? nullptr : &*it;
  }
  auto d = defaults_.find(key);
  if (d != defaults_.end() && !d->is_null()) {
    defaulted_.insert(key);
    return &*d;
  }
  return nullptr;
}

bool ConfigReader::has(std::string_view name) const {
  const std::string key(name);
  if (object_.is_object()) {
    auto it = object_.find(key);
    if (it != object_.end()) return !it->is_null();
  }
  auto d = defaults_.find(key);
  return d != defaults_.end() && !d->is_null();
}

std::string quoted_excerpt(std::string_view text, std::size_t max) {
  // A cut can split a UTF-8 sequence; the half character is written as U+FFFD rather than making dump() throw.
  const nlohmann::json excerpt = std::string(text.substr(0, max));
  return excerpt.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string describe_json_value(const nlohmann::json& v) {
  // Quoted and escaped: a string with a newline made a message of two lines (tests/test_fuzz_regressions.cpp).
  if (v.is_string()) return fmt::format("a string ({})", quoted_excerpt(v.get<std::string>()));
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  if (v.is_null()) return "null";
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d)) return "a non-finite number";
    return fmt::format("{}", d);
  }
  return v.dump();
}

void ConfigReader::fail(std::string_view field, const std::string& problem) const {
  throw Error(ExitCode::BadInput, fmt::format("{}: {}{}: {}", origin_, prefix_, field, problem));
}

namespace {

// Integer value of a JSON number, when it is one (integral floats accepted); nullopt otherwise.
std::optional<long double> integral_value(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<std::uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<std::int64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d) return static_cast<long double>(d);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> ConfigReader::count_or_zero(std::initializer_list<std::string_view> names,
                                                         std::uint64_t max) const {
  for (auto name : names) {
    const nlohmann::json* v = get(name);
    if (v == nullptr) continue;
    auto value = integral_value(*v);
    if (!value) fail(name, fmt::format("expected a whole number, got {}", describe_json_value(*v)));
    if (*value < 0) fail(name, fmt::format("expected a non-negative number, got {}", v->dump()));
    if (*value > static_cast<long double>(max))
      fail(name, fmt::format("{} is absurdly large (the limit is {})", v->dump(), max));
    return static_cast<std::uint64_t>(*value);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ConfigReader::count(std::initializer_list<std::string_view> names, std::uint64_t max,
                                                 std::string* which) const {
  for (auto name : names) {
    if (!has(name)) continue;
    auto value = count_or_zero({name}, max);
    if (value && *value == 0) fail(name, "must be positive, got 0");
    if (which != nullptr) *which = std::string(name);
    return value;
  }
  return std::nullopt;
}

std::uint64_t ConfigReader::require_count(std::initializer_list<std::string_view> names, std::uint64_t max,
                                          std::string* which) const {
  auto v = count(names, max, which);
  if (!v) {
    std::string list;
    for (auto n : names) list += (list.empty() ? "" : " / ") + prefix_ + std::string(n);
    throw Error(ExitCode::BadInput, fmt::format("{}: missing required field {}", origin_, list));
  }
  return *v;
}

std::optional<bool> ConfigReader::flag(std::string_view name) const {
  const nlohmann::json* v = get(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) fail(name, fmt::format("expected true or false, got {}", describe_json_value(*v)));
  return v->get<bool>();
}

std::optional<std::string> ConfigReader::text(std::string_view name) const {
  const nlohmann::json* v = get(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) fail(name, fmt::format("expected a string, got {}", describe_json_value(*v)));
  return v->get<std::string>();
}

std::optional<double> ConfigReader::number(std::string_view name) const {
  const nlohmann::json* v = get(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) fail(name, fmt::format("expected a number, got {}", describe_json_value(*v)));
  return v->get<double>();
}

std::optional<std::vector<std::uint64_t>> ConfigReader::index_list(std::string_view name, std::uint64_t max) const {
  const nlohmann::json* v = get(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) fail(name, fmt::format("expected a list of layer numbers, got {}", describe_json_value(*v)));
  std::vector<std::uint64_t> out;
  for (const auto& e : *v) {
    auto value = integral_value(e);
    if (!value || *value < 0 || *value > static_cast<long double>(max))
      fail(name, fmt::format("expected whole numbers from 0 to {}, found {}", max, describe_json_value(e)));
    out.push_back(static_cast<std::uint64_t>(*value));
  }
  return out;
}

}  // namespace vramcalc::detail
