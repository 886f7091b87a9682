// What plan_vllm works out per layout for one model, kept for the next GPU (bench/RESULTS.md: --sku all plans 85 GPU
// shapes, two evaluations each, and the weights per GPU, the profile run's estimate, the CUDA-graph estimate and the
// KV cache's page layout were two thirds of the estimator's time though none of them reads the GPU beyond a few of
// its figures, which are part of the keys below).
//
// A memo serves the one model it was made for: the ModelArch, WeightEstimate and KvCacheSpec objects it was given
// (by address), which must outlive it and not change while it is used. plan_vllm ignores a memo made for other
// objects. Every other input of a memoized step is part of its key, compared field by field, so that plans with other
// settings (another length, another utilization, a suggestion's) can share one memo and still get exactly what the
// step computes.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "vramcalc/engines/vllm/cudagraph.hpp"
#include "vramcalc/engines/vllm/kv_pages.hpp"
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/engines/vllm/rotary.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

class VllmPlanMemo {
 public:
  VllmPlanMemo(const ModelArch& arch, const WeightEstimate& weights, const KvCacheSpec& kv)
      : arch_(&arch), weights_(&weights), kv_(&kv) {}

  // Whether the memo was made for these objects.
  [[nodiscard]] bool serves(const ModelArch& arch, const WeightEstimate& weights, const KvCacheSpec& kv) const {
    return &arch == arch_ && &weights == weights_ && &kv == kv_;
  }

  // vllm_weights_per_gpu(arch, weights, tp, pp, dp, expert_parallel).
  std::uint64_t weights_per_gpu(std::uint64_t tp, std::uint64_t pp, std::uint64_t dp, bool expert_parallel);
  // estimate_vllm_profile(arch, settings).
  VllmProfileEstimate profile(const VllmProfileSettings& settings);
  // plan_vllm_cudagraphs(arch, compilation, inputs, tp, pp, given).
  VllmCudagraphPlan cudagraphs(const VllmCompilationSettings& compilation, const VllmCaptureInputs& inputs,
                               std::uint64_t tp, std::uint64_t pp, std::optional<std::uint64_t> given);
  // vllm_kv_layout(arch with `draft_layers` more layers (vllm_arch_with_draft_layers) or arch itself, kv, settings).
  VllmKvLayout kv_layout(const VllmKvSettings& settings, std::uint64_t draft_layers);
  // vllm_rotary_tables(arch, weights.serving_dtype): the same for every layout.
  const VllmRotaryTables& rotary_tables();

 private:
  struct WeightsEntry {
    std::uint64_t tp = 1, pp = 1, dp = 1;
    bool expert_parallel = false;
    std::uint64_t bytes = 0;
  };
  struct ProfileEntry {
    VllmProfileSettings settings;
    VllmProfileEstimate estimate;
  };
  struct CudagraphEntry {
    VllmCompilationSettings compilation;
    VllmCaptureInputs inputs;
    std::uint64_t tp = 1, pp = 1;
    std::optional<std::uint64_t> given;
    VllmCudagraphPlan plan;
  };
  struct KvLayoutEntry {
    VllmKvSettings settings;
    std::uint64_t draft_layers = 0;
    VllmKvLayout layout;
  };

  const ModelArch* arch_;
  const WeightEstimate* weights_;
  const KvCacheSpec* kv_;
  std::vector<WeightsEntry> weights_entries_;
  std::vector<ProfileEntry> profile_entries_;
  std::vector<CudagraphEntry> cudagraph_entries_;
  std::vector<KvLayoutEntry> kv_layout_entries_;
  std::optional<VllmRotaryTables> rotary_tables_;
};

}  // namespace vramcalc
