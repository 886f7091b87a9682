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
