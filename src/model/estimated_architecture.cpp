// An architecture estimated from a parameter count (vramcalc/model/estimated_architecture.hpp).
#include "vramcalc/model/estimated_architecture.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"

namespace vramcalc {

namespace {

// Layers and attention heads by size range (billions of parameters of the dense model, or of one expert's model),
// from the models that define each class.
struct SizeRange {
  double up_to_billions;
  std::uint64_t layers;
  std::uint64_t heads;
};
constexpr std::array<SizeRange, 10> kRanges = {{
    {0.2, 12, 12},      // GPT-2 124M, OPT-125M
    {0.6, 24, 16},      // OPT-350M, Qwen2-0.5B
    {2, 24, 16},        // TinyLlama 1.1B, Qwen2-1.5B
    {4, 28, 24},        // Llama 3.2 3B
    {10, 32, 32},       // Llama 2 7B, Mistral 7B, Llama 3 8B
    {20, 40, 40},       // Llama 2 13B
    {45, 60, 56},       // Yi 34B
    {100, 80, 64},      // Llama 2 / 3 70B
    {250, 96, 96},      // GPT-3 175B
    {1e300, 126, 128},  // Llama 3.1 405B
}};

const SizeRange& range_for(double billions) {
  for (const auto& r : kRanges)
    if (billions <= r.up_to_billions) return r;
  return kRanges.back();
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// A decimal number at `at` ("7", "1.5"); its end in `end`. nullopt when none starts there.
std::optional<double> number_at(std::string_view s, std::size_t at, std::size_t& end) {
  end = at;
  while (end < s.size() && digit(s[end])) ++end;
  if (end == at) return std::nullopt;
  if (end + 1 < s.size() && s[end] == '.' && digit(s[end + 1])) {
    ++end;
    while (end < s.size() && digit(s[end])) ++end;
  }
  if (end - at > 12) return std::nullopt;  // no size has that many digits
  return std::stod(std::string(s.substr(at, end - at)));
}

// The unit letter at `at` ('b' billions, 'm' millions) standing at the end of a word: its multiplier in billions.
std::optional<double> unit_at(std::string_view s, std::size_t at) {
  if (at >= s.size()) return std::nullopt;
  if (at + 1 < s.size() && word_char(s[at + 1])) return std::nullopt;  // "4bit", "7bn": not a size
  const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[at])));
  if (c == 'b') return 1.0;
  if (c == 'm') return 0.001;
  return std::nullopt;
}

// "-A3B": the active parameters of a mixture, not its size.
bool active_marker_before(std::string_view s, std::size_t at) {
  if (at == 0 || (s[at - 1] != 'A' && s[at - 1] != 'a')) return false;
  return at == 1 || !word_char(s[at - 2]);
}

bool in_bounds(double billions) { return billions >= kMinEstimatedBillions && billions <= kMaxEstimatedBillions; }

}  // namespace

std::optional<ModelSize> model_size_from_name(std::string_view name) {
  std::size_t i = 0;
  while (i < name.size()) {
    // A number starts here: a digit not continuing another number.
    if (!digit(name[i]) || (i > 0 && (digit(name[i - 1]) || name[i - 1] == '.'))) {
      ++i;
      continue;
    }
    std::size_t end = i;
    const auto first = number_at(name, i, end);
    if (!first) {
      ++i;
      continue;
    }
    // "8x7B": N experts of a size.
    if (end + 1 < name.size() && (name[end] == 'x' || name[end] == 'X') && digit(name[end + 1])) {
      std::size_t end2 = end + 1;
      const auto each = number_at(name, end + 1, end2);
      const auto unit = each ? unit_at(name, end2) : std::nullopt;
      const double experts = *first;
      if (unit && experts >= 2 && experts <= static_cast<double>(kMaxEstimatedExperts) &&
          std::floor(experts) == experts && in_bounds(*each * *unit))
        return ModelSize{*each * *unit, static_cast<std::uint64_t>(experts), true,
                         std::string(name.substr(i, end2 + 1 - i))};
    }
    if (const auto unit = unit_at(name, end); unit && !active_marker_before(name, i) && in_bounds(*first * *unit))
      return ModelSize{*first * *unit, 0, false, std::string(name.substr(i, end + 1 - i))};
    i = end;
  }
  return std::nullopt;
}

nlohmann::json estimated_config(const ModelSize& size) {
  if (!in_bounds(size.params_billions) || !std::isfinite(size.params_billions))
    fail_input(fmt::format("an estimated architecture needs {} to {} billion parameters, got {}", kMinEstimatedBillions,
                           kMaxEstimatedBillions, size.params_billions));
  if (size.experts > kMaxEstimatedExperts || size.experts == 1)
    fail_input(fmt::format("an estimated mixture has 2 to {} experts, got {}", kMaxEstimatedExperts, size.experts));
  const bool moe = size.experts > 0;
  const double experts = moe ? static_cast<double>(size.experts) : 1.0;
  // The range is that of one expert's model: 8x7B (46.7B in all) has the layers and heads of a 7B model.
  const double per_model = size.per_expert ? size.params_billions : size.params_billions / experts;
  const SizeRange& range = range_for(per_model);
  const auto layers = static_cast<double>(range.layers);
  // The most KV heads up to 8 that divide the heads evenly (12 heads: 6).
  std::uint64_t kv_heads = std::min(kEstimatedKvHeads, range.heads);
  while (range.heads % kv_heads != 0) --kv_heads;
  const double kv_share = static_cast<double>(kv_heads) / static_cast<double>(range.heads);
  // MLPs counted in the total: all experts for a total count, one for an expert model's count.
  const double mlps = size.per_expert ? 1.0 : experts;
  const double a = layers * (2.0 + 2.0 * kv_share + 3.0 * kEstimatedMlpFactor * mlps);
  const double b = 2.0 * static_cast<double>(kEstimatedVocab) + 2.0 * layers + 1.0;
  const double p = size.params_billions * 1e9;
  const double h = (-b + std::sqrt(b * b + 4.0 * a * p)) / (2.0 * a);
  const double unit = 16.0 * static_cast<double>(range.heads);
  const auto hidden = static_cast<std::uint64_t>(std::max(1.0, std::round(h / unit)) * unit);
  const auto intermediate = static_cast<std::uint64_t>(
      std::max(1.0, std::round(kEstimatedMlpFactor * static_cast<double>(hidden) / 256.0)) * 256.0);

  nlohmann::json config = {
      {"architectures", {moe ? "MixtralForCausalLM" : "LlamaForCausalLM"}},
      {"model_type", moe ? "mixtral" : "llama"},
      {"hidden_act", "silu"},
      {"hidden_size", hidden},
      {"intermediate_size", intermediate},
      {"num_hidden_layers", range.layers},
      {"num_attention_heads", range.heads},
      {"num_key_value_heads", kv_heads},
      {"vocab_size", kEstimatedVocab},
      {"rms_norm_eps", 1e-5},
      {"tie_word_embeddings", false},
      {"torch_dtype", "float16"},
  };
  if (moe) {
    config["num_local_experts"] = size.experts;
    config["num_experts_per_tok"] = std::min(kEstimatedExpertsPerToken, size.experts);
  }
  return config;
}

std::string describe_estimated_config(const nlohmann::json& c) {
  const auto field = [&](const char* key) -> std::uint64_t {
    return c.contains(key) && c[key].is_number_unsigned() ? c[key].get<std::uint64_t>() : 0;
  };
  const std::uint64_t experts = field("num_local_experts");
  const std::string mixture =
      experts > 0 ? fmt::format(", {} experts ({} per token)", experts, field("num_experts_per_tok")) : "";
  return fmt::format("{}-style, {} layers, hidden {}, {} heads ({} KV heads), intermediate {}{}, vocabulary {}",
                     experts > 0 ? "Mixtral" : "llama", field("num_hidden_layers"), field("hidden_size"),
                     field("num_attention_heads"), field("num_key_value_heads"), field("intermediate_size"), mixture,
                     field("vocab_size"));
}

}  // namespace vramcalc
