// KAITO's controller (engines/kaito): the two formulas it sizes a Workspace with today, which have moved on from its
// sizing guide (plan.hpp). Read from kaito-project/kaito's source, pkg/workspace/estimator/nodesestimator/
// estimator.go (the node count) and pkg/workspace/estimator/max_model_len.go `ComputeMaxModelLen` (the
// --max-model-len it passes to vLLM), as of PR #2139 (June 2026).
// Where this differs from the project's reference notes on KAITO's controller (peers.md), the source wins:
// the node estimator divides the room per GPU by 1.05 (the 5%-of-weights overhead folded in) before int() + 1.
// In the newest snapshot read (v0.12.0, August 2026) PR #2156 had removed ComputeMaxModelLen and KAITO passes
// --max-model-len=auto to vLLM instead; its formula stays here as the length KAITO's controller computed and passed
// when it sized the context itself, and as the plan's --max-model-len.
//
//   nodes estimator, in bytes:
//     available  = per-GPU memory x 0.84
//     reserve    = 2.3 GiB + max_model_len x bytes_per_token / GPUs per node
//     room       = (available - reserve) / (1 + 0.05)      the 5%-of-weights overhead folded into the divisor
//     minGPUs    = int(1.02 x safetensors / room) + 1       (+1 even when it divides exactly)
//     nodes      = ceil(minGPUs / GPUs per node)
//   ComputeMaxModelLen, in GiB:
//     weights per GPU  = 1.02 x W / (nodes x GPUs per node)
//     static overhead  = 2.3 + 0.05 x weights per GPU
//     available        = per-GPU memory x 0.84 - weights per GPU - static overhead
//     KV per token     = bytes_per_token / GPUs per node / nodes  (MLA: / nodes only, the latent is on every rank)
//     max_model_len    = floor256(min(int(available / KV per token), max_position_embeddings))
// Here "GPUs per node" is the plan's tensor-parallel size and "nodes" its pipeline-parallel size, which they are
// on KAITO's whole nodes; 2.3 GiB is --non-torch-gib + --activation-gib (+ --headroom-gib), 2.3 by default.
#pragma once

#include <cstdint>
#include <optional>

namespace vramcalc {

constexpr double kKaitoControllerUtilization = 0.84;           // gpuMemoryUtilization
constexpr double kKaitoControllerWeightExpansion = 1.02;       // weightExpansionFactor
constexpr double kKaitoControllerWeightOverheadFactor = 0.05;  // overheadWeightFactor
constexpr std::uint64_t kKaitoControllerLengthAlignment = 256;

// The node estimator's figures, in bytes as doubles as the controller computes them.
struct KaitoControllerGpus {
  double model_bytes = 0;        // 1.02 x safetensors total
  double available_bytes = 0;    // per-GPU memory x 0.84
  double reserve_bytes = 0;      // 2.3 GiB + max_model_len x bytes_per_token / GPUs per node
  double weight_room_bytes = 0;  // (available - reserve) / 1.05
  std::uint64_t min_gpus = 0;    // int(model / room) + 1; 0 when the reserve takes the whole budget (an error)
};

// int(model / room) + 1: Go's int() truncates, and the +1 is there even when the division is exact (2.0 -> 3).
std::uint64_t kaito_controller_min_gpus(double model_bytes, double weight_room_bytes);

// kv_bytes_per_token: the model's, with any concurrency and fragmentation factors; base_overhead_gib: 2.3.
KaitoControllerGpus kaito_controller_gpus(std::uint64_t weight_bytes, double kv_bytes_per_token,
                                          std::uint64_t max_model_len, std::uint64_t gpu_bytes,
                                          std::uint64_t gpus_per_node, double base_overhead_gib);

// ComputeMaxModelLen's figures, in GiB as doubles as the controller computes them.
struct KaitoControllerLength {
  double usable_gib = 0;              // per-GPU memory x 0.84
  double weights_gib = 0;             // 1.02 x W / (nodes x GPUs per node)
  double static_overhead_gib = 0;     // 2.3 + 0.05 x weights_gib
  double available_gib = 0;           // usable - weights - static overhead
  double kv_bytes_per_token = 0;      // per GPU
  std::int64_t by_memory = 0;         // floor(available / KV per token); negative when the weights do not fit
  std::uint64_t max_model_len = 0;    // min(by_memory, max_position_embeddings) rounded down to 256; 0 if none
  bool limited_by_positions = false;  // max_position_embeddings, not memory, set the length
};

KaitoControllerLength kaito_controller_max_model_len(std::uint64_t weight_bytes, double kv_bytes_per_token, bool mla,
                                                     std::uint64_t gpu_bytes, std::uint64_t gpus_per_node,
                                                     std::uint64_t nodes,
                                                     std::optional<std::uint64_t> max_position_embeddings,
                                                     double base_overhead_gib);

}  // namespace vramcalc
