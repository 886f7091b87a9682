// Shared pieces of the 2026 MoE builders (issue 14): the group sink, MoE layer placement, active parameters.
#include "model/weights_moe2026.hpp"

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc {

std::uint64_t ModelArch::count_indexer_layers() const {
  std::uint64_t n = 0;
  for (bool b : indexer_layers) n += b ? 1 : 0;
  return n;
}

std::uint64_t ModelArch::active_params() const {
  const std::uint64_t total = num_params();
  if (num_experts == 0 || experts_per_token == 0) return total;
  std::uint64_t routed = 0;
  std::uint64_t routed_active = 0;
  for (const auto& g : weights) {
    if (g.role != WeightRole::Experts) continue;
    routed += g.params();
    // Each expert group stacks one matrix per expert: a token runs through top-k of them.
    const std::uint64_t per_expert = g.matrices > 0 ? g.params() / g.matrices : g.params();
    routed_active += per_expert * std::min(experts_per_token, g.matrices > 0 ? g.matrices : experts_per_token);
  }
  return total - routed + routed_active;
}

namespace detail {

namespace {
// More parameters than this in one config is not a model but a typo (as weight_groups.cpp's builder says).
constexpr std::uint64_t kMaxTotalParams = 1'000'000'000'000'000ULL;  // 10^15
}  // namespace

void GroupSink::add(std::string name, WeightRole role, int layer, std::uint64_t matrices, std::uint64_t rows,
                    std::uint64_t cols, std::uint64_t extra) {
  const std::uint64_t params = checked_add(
      checked_mul(checked_mul(matrices, rows, "parameter count"), cols, "parameter count"), extra, "parameter count");
  total_ = checked_add(total_, params, "parameter count");
  if (total_ > kMaxTotalParams)
    fail_input(fmt::format(
        "{}: the config describes more than 10^15 parameters: check the layer, width and expert counts", origin_));
  if (out_ != nullptr) out_->push_back(WeightGroup{std::move(name), role, layer, matrices, rows, cols, extra});
}

void GroupSink::swiglu(const std::string& prefix, const char* const (&names)[3], WeightRole role, int layer,
                       std::uint64_t hidden, std::uint64_t inter) {
  linear(prefix + names[0], role, layer, inter, hidden);
  linear(prefix + names[1], role, layer, inter, hidden);
  linear(prefix + names[2], role, layer, hidden, inter);
}

std::vector<bool> moe_layer_flags(ConfigReader& cfg, std::uint64_t layers, std::uint64_t first_dense) {
  std::vector<bool> moe(layers, false);
  if (const auto* types = cfg.get("mlp_layer_types"); types != nullptr && types->is_array()) {
    // GLM 5 (transformers 5.x): "dense" or "sparse" per layer.
    if (types->size() != layers)
      cfg.fail("mlp_layer_types", fmt::format("expected {} entries (one per layer), found {}", layers, types->size()));
    for (std::uint64_t i = 0; i < layers; ++i) {
      if (!(*types)[i].is_string()) cfg.fail("mlp_layer_types", "expected \"dense\" or \"sparse\" per layer");
      moe[i] = (*types)[i].get<std::string>() == "sparse";
    }
    return moe;
  }
  if (const auto* list = cfg.get("moe_layer_freq"); list != nullptr && list->is_array()) {
    // MiniMax M3: one 0/1 entry per layer.
    const auto flags = cfg.index_list("moe_layer_freq", 1).value_or(std::vector<std::uint64_t>{});
    if (flags.size() != layers)
      cfg.fail("moe_layer_freq", fmt::format("expected {} entries (one per layer), found {}", layers, flags.size()));
    for (std::uint64_t i = 0; i < layers; ++i) moe[i] = flags[i] == 1;
    return moe;
  }
  const std::uint64_t freq = cfg.count({"moe_layer_freq"}, kMaxLayers).value_or(1);
  for (std::uint64_t i = first_dense; i < layers; ++i) moe[i] = (i % freq) == 0;
  return moe;
}

}  // namespace detail

}  // namespace vramcalc
