// Typed, validated access to config.json fields, with the error messages users see.
// Private to the model layer.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vramcalc::detail {

// Upper bounds past which a value is "absurd" rather than merely large.
inline constexpr std::uint64_t kMaxLayers = 10'000;
inline constexpr std::uint64_t kMaxWidth = 1'000'000;  // hidden, head_dim, ranks
inline constexpr std::uint64_t kMaxHeads = 100'000;
inline constexpr std::uint64_t kMaxIntermediate = 10'000'000;
inline constexpr std::uint64_t kMaxVocab = 100'000'000;
inline constexpr std::uint64_t kMaxExperts = 1'000'000;
inline constexpr std::uint64_t kMaxPositions = 1'000'000'000'000ULL;

// Reads fields of one JSON object (the top-level config, or a nested text_config / vision_config).
// `prefix` ("text_config.") is prepended to field names in messages. Fields absent from the object are
// looked up in `defaults` (the family's transformers defaults) and recorded in defaulted().
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& object, std::string origin, std::string prefix,
               nlohmann::json defaults = nlohmann::json::object());

  [[nodiscard]] bool has(std::string_view name) const;                   // present and not null (config or defaults)
  [[nodiscard]] const nlohmann::json* get(std::string_view name) const;  // nullptr when absent or null

  // A positive integer from the first of `names` present (integral floats like 4096.0 accepted).
  // Fractions, strings, booleans, zero, negatives and values over `max` are errors naming the field.
  std::optional<std::uint64_t> count(std::initializer_list<std::string_view> names, std::uint64_t max,
                                     std::string* which = nullptr) const;
  // Like count() but zero is allowed (e.g. first_k_dense_replace, n_shared_experts).
  std::optional<std::uint64_t> count_or_zero(std::initializer_list<std::string_view> names, std::uint64_t max) const;
  // Like count() but a missing field is an error: "<origin>: missing <names>".
  std::uint64_t require_count(std::initializer_list<std::string_view> names, std::uint64_t max,
                              std::string* which = nullptr) const;
  std::optional<bool> flag(std::string_view name) const;
  std::optional<std::string> text(std::string_view name) const;
  std::optional<double> number(std::string_view name) const;
  // A list of non-negative integers (e.g. cross_attention_layers); error on other element types.
  std::optional<std::vector<std::uint64_t>> index_list(std::string_view name, std::uint64_t max) const;

  [[noreturn]] void fail(std::string_view field, const std::string& problem) const;
  [[nodiscard]] const std::set<std::string>& defaulted() const { return defaulted_; }
  [[nodiscard]] const std::string& origin() const { return origin_; }
  [[nodiscard]] const std::string& prefix() const { return prefix_; }
  [[nodiscard]] const nlohmann::json& object() const { return object_; }

 private:
  const nlohmann::json& object_;
  std::string origin_;
  std::string prefix_;
  nlohmann::json defaults_;
  mutable std::set<std::string> defaulted_;  // fields taken from defaults, for the warning
};

// "a string", "a fraction (0.5)", "true", ... for error messages.
std::string describe_json_value(const nlohmann::json& v);

// Text from a config for an error message: its first `max` bytes in JSON quotes, with control characters escaped
// so that the message stays on one line (a config's "\n" is a real newline once parsed).
std::string quoted_excerpt(std::string_view text, std::size_t max = 40);

}  // namespace vramcalc::detail
