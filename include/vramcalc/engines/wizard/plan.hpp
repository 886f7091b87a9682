// The vllm-wizard memory model: vram-calc's own weights and KV bytes per token, with the wizard's
// overhead and fragmentation factor, in GiB = 2^30 bytes as vllm-wizard computes. Pure functions.
//
// Over the N = TP GPUs of one replica:
//   allocatable = N x V x gpu_memory_utilization
//   overhead    = max(1 GiB, 0.02 x V) + 0.25 GiB x (TP - 1)      (or --overhead-gib / policy.overhead_gb)
//   kv          = kv_bytes_per_token x context x concurrency x fragmentation_factor
//   required    = weights + kv + overhead + headroom reserve (--headroom-gib)
//   headroom    = allocatable - required;  fits = headroom >= 0
//   max_concurrency_at_context = floor((allocatable - weights - overhead - reserve) / (kv per sequence at context))
//   max_context_at_concurrency = floor((allocatable - weights - overhead - reserve) / (kv per token x concurrency))
// with kv per token/sequence including the fragmentation factor, and max_context capped at max_position_embeddings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/engines/common.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

struct WizardSettings {
  double gpu_memory_utilization = 0.90;
  std::uint64_t context = 0;  // max_model_len
  std::uint64_t concurrency = 1;
  double fragmentation_factor = 1.15;
  std::optional<double> overhead_gib;                 // fixed overhead replacing the formula
  double headroom_gib = 0.0;                          // reserve required on top
  std::optional<std::uint64_t> tensor_parallel_size;  // pinned; else the smallest that fits (below)
  int gpus_per_node = 1;
  RiskThresholds thresholds;
};

struct WizardPlan {
  std::uint64_t tensor_parallel_size = 1;
  std::uint64_t gpus = 1;
  bool pinned = false;
  std::uint64_t gpu_memory_bytes = 0;   // V, per GPU
  std::uint64_t allocatable_bytes = 0;  // N x V x u
  std::uint64_t weights_bytes = 0;
  std::uint64_t kv_cache_bytes = 0;  // with the fragmentation factor
  std::uint64_t overhead_bytes = 0;
  std::uint64_t reserve_bytes = 0;  // --headroom-gib
  std::uint64_t required_bytes = 0;
  std::int64_t headroom_bytes = 0;  // allocatable - required, all N GPUs together
  OomRisk oom_risk = OomRisk::High;
  std::uint64_t context = 0;  // max_model_len used, capped at max_position_embeddings
  // Both are UINT64_MAX (unbounded) when no layer holds per-token KV and memory is left (max_context: capped first).
  std::uint64_t max_concurrency_at_context = 0;
  std::uint64_t max_context_at_concurrency = 0;
  std::string max_context_limited_by;        // "memory" or "max_position_embeddings"
  std::string overhead_formula, kv_formula;  // with their numbers
  bool fits = false;
  std::vector<std::string> not_fit_reasons;
  std::vector<std::string> warnings;  // KV share of memory > 50%, TP not dividing heads, ...
};

// Pinned TP when given; else the smallest TP in 1..gpus_per_node that divides num_attention_heads and fits
// (the largest valid one when none fits). Throws Error(BadInput) for settings out of range.
WizardPlan plan_wizard(const ModelArch& arch, std::uint64_t weight_bytes, const KvCacheSpec& kv,
                       std::uint64_t gpu_memory_bytes, const WizardSettings& settings);

// The plan in the shape every engine shares: layout (one node per gpus_per_node GPUs), context, the terms summed
// over the TP group as vllm-wizard sums them (required = weights + KV cache + overhead + reserve, of allocatable),
// its own warnings and the `vllm serve` flags it stands for. `settings` as planned with.
PlanSummary wizard_summary(const WizardPlan& plan, const WizardSettings& settings);

}  // namespace vramcalc
