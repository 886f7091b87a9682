// One run's result: the model, its weights and KV cache, and a plan per SKU. Renderers read only this.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vramcalc/memory.hpp"
#include "vramcalc/model.hpp"
#include "vramcalc/planner.hpp"
#include "vramcalc/sku.hpp"
#include "vramcalc/sources.hpp"
#include "vramcalc/vllm_planner.hpp"
#include "vramcalc/weights.hpp"

namespace vramcalc {

inline constexpr int kJsonSchemaVersion = 1;

// Settings that shape the plan and the emitted command, as the user gave them.
struct ReportSettings {
  KaitoSettings kaito;
  std::string dtype_flag = "auto";
  std::string kv_cache_dtype_flag = "auto";
  std::optional<std::string> quantization_flag;
  std::optional<std::uint64_t> gpu_memory_override;
  std::optional<int> gpus_per_node_override;
  std::string estimator = "kaito";      // --estimator: kaito | vllm
  VllmSettings vllm;                    // settings of the vLLM-faithful estimator
};

struct SkuPlan {
  Sku sku;
  GpuMemory gpu_memory;
  KaitoPlan plan;
  std::optional<VllmPlan> vllm;       // with --estimator vllm
  GpuMemory vllm_total;               // the CUDA-reported total the vLLM estimator used
  std::vector<std::string> warnings;  // SKU-specific (memory figure guessed, unsupported accelerator, ...)

  // The verdict and layout of the chosen estimator.
  [[nodiscard]] bool fits() const { return vllm ? vllm->fits : plan.fits; }
  [[nodiscard]] std::uint64_t gpus() const { return vllm ? vllm->gpus : plan.gpus; }
};

struct Report {
  ModelInput input;          // id, origin, warnings of the source
  ModelArch arch;
  WeightEstimate weights;
  KvCacheSpec kv;
  ReportSettings settings;
  std::vector<SkuPlan> plans;  // one per SKU, fewest GPUs first when several

  // Model-level warnings (source, architecture, weights), without duplicates, in order.
  [[nodiscard]] std::vector<std::string> model_warnings() const;
  // Every warning that applies to one SKU's plan: the model's, the SKU's and the plan's.
  [[nodiscard]] std::vector<std::string> all_warnings(const SkuPlan& p) const;
};

// Builds a plan for one SKU (pure: no I/O).
SkuPlan plan_for_sku(const Report& report, const Sku& sku);

// The `vllm serve` command line equivalent to a plan.
std::string vllm_serve_command(const Report& report, const SkuPlan& plan);

}  // namespace vramcalc
