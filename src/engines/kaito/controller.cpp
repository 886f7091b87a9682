// KAITO's controller: its node count and its max_model_len, as pkg/workspace/estimator computes them
// (engines/kaito/controller.hpp has the formulas and where they were read).
#include <algorithm>
#include <cmath>

#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/kaito/controller.hpp"

namespace vramcalc {

namespace {

constexpr double kGiBd = static_cast<double>(kGiB);

// floor(x) as a signed count, clamped far inside the range of int64.
std::int64_t floor_signed(double x) { return static_cast<std::int64_t>(std::floor(std::clamp(x, -9.0e18, 9.0e18))); }

}  // namespace

std::uint64_t kaito_controller_min_gpus(double model_bytes, double weight_room_bytes) {
  if (!(weight_room_bytes > 0)) return 0;
  const double ratio = std::clamp(model_bytes / weight_room_bytes, 0.0, 1.0e15);
  return static_cast<std::uint64_t>(ratio) + 1;
}

KaitoControllerGpus kaito_controller_gpus(std::uint64_t weight_bytes, double kv_bytes_per_token,
                                          std::uint64_t max_model_len, std::uint64_t gpu_bytes,
                                          std::uint64_t gpus_per_node, double base_overhead_gib) {
  KaitoControllerGpus g;
  const double per_node = static_cast<double>(std::max<std::uint64_t>(1, gpus_per_node));
  g.model_bytes = static_cast<double>(weight_bytes) * kKaitoControllerWeightExpansion;
  g.available_bytes = static_cast<double>(gpu_bytes) * kKaitoControllerUtilization;
  // The whole context's KV cache, spread over the node's GPUs only (not over several nodes).
  g.reserve_bytes = base_overhead_gib * kGiBd + static_cast<double>(max_model_len) * kv_bytes_per_token / per_node;
  if (g.available_bytes <= g.reserve_bytes) return g;  // the controller's "GPU memory ... is too small" error
  g.weight_room_bytes = (g.available_bytes - g.reserve_bytes) / (1 + kKaitoControllerWeightOverheadFactor);
  g.min_gpus = kaito_controller_min_gpus(g.model_bytes, g.weight_room_bytes);
  return g;
}

KaitoControllerLength kaito_controller_max_model_len(std::uint64_t weight_bytes, double kv_bytes_per_token, bool mla,
                                                     std::uint64_t gpu_bytes, std::uint64_t gpus_per_node,
                                                     std::uint64_t nodes,
                                                     std::optional<std::uint64_t> max_position_embeddings,
                                                     double base_overhead_gib) {
  KaitoControllerLength l;
  const double per_node = static_cast<double>(std::max<std::uint64_t>(1, gpus_per_node));
  const double stages = static_cast<double>(std::max<std::uint64_t>(1, nodes));
  l.usable_gib = static_cast<double>(gpu_bytes) / kGiBd * kKaitoControllerUtilization;
  l.weights_gib = static_cast<double>(weight_bytes) / kGiBd * kKaitoControllerWeightExpansion / (stages * per_node);
  l.static_overhead_gib = base_overhead_gib + kKaitoControllerWeightOverheadFactor * l.weights_gib;
  l.available_gib = l.usable_gib - l.weights_gib - l.static_overhead_gib;
  // Tensor parallelism splits the KV heads over a node's GPUs; MLA's one latent is kept whole on every rank.
  // Pipeline stages (nodes) each hold their own layers' share.
  l.kv_bytes_per_token = mla ? kv_bytes_per_token / stages : kv_bytes_per_token / per_node / stages;
  const double available_bytes = l.available_gib * kGiBd;
  // No KV-holding layer (a pure state-space model): any length fits once the weights do.
  const double by_memory =
      l.kv_bytes_per_token > 0 ? available_bytes / l.kv_bytes_per_token : (available_bytes >= 0 ? 9.0e18 : -1.0);
  l.by_memory = floor_signed(by_memory);
  if (l.by_memory <= 0) return l;  // ComputeMaxModelLen returns 0: KAITO refuses the Workspace
  auto length = static_cast<std::uint64_t>(l.by_memory);
  if (max_position_embeddings && *max_position_embeddings <= length) {
    length = *max_position_embeddings;
    l.limited_by_positions = true;
  }
  // Rounded down after the cap, so a limit that is not a multiple of 256 is rounded too.
  l.max_model_len = length / kKaitoControllerLengthAlignment * kKaitoControllerLengthAlignment;
  return l;
}

}  // namespace vramcalc
