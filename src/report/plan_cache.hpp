// What the plans of one report's SKUs share (private to src/report). The vLLM estimator's plan depends on the SKU
// only through its GPU and node size, KAITO's only through its memory figure and node, and --sku all has 157 SKUs
// of 40-odd GPUs: the clouds' instances of one GPU, and the bare GPU itself, make the same plans, which were over
// half of that command's planning (bench/RESULTS.md).
#pragma once

#include <vector>

#include "vramcalc/core/hardware.hpp"
#include "vramcalc/engines/common.hpp"
#include "vramcalc/engines/kaito/plan.hpp"
#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/report/report.hpp"

namespace vramcalc {

// vLLM plans by GPU, CUDA total and GPUs per node, and KAITO's by GPU memory and node, for one report's settings:
// add_plans holds one while it plans every SKU; a plan with other settings (a suggestion's) must not use it.
class PlanCache {
 public:
  struct KaitoEntry {
    GpuMemory memory;
    KaitoSettings settings;
    KaitoPlan plan;
  };
  [[nodiscard]] const KaitoPlan* find_kaito(const GpuMemory& memory, const KaitoSettings& settings) const;
  const KaitoPlan& add_kaito(KaitoEntry entry);

  struct VllmEntry {
    Gpu gpu;
    GpuMemory total;
    int gpus_per_node = 0;
    VllmPlan plan;
    PlanSummary summary;  // vllm_summary of the plan
  };
  [[nodiscard]] const VllmEntry* find_vllm(const Gpu& gpu, const GpuMemory& total, int gpus_per_node) const;
  const VllmEntry& add_vllm(VllmEntry entry);

 private:
  std::vector<VllmEntry> vllm_;
  std::vector<KaitoEntry> kaito_;
};

// plan_for_sku, with the vLLM plan taken from `cache` (or made and added there) when `cache` is not null.
SkuPlan plan_for_sku(const Report& report, const Sku& sku, PlanCache* cache);

// Every field of the two GPUs is the same.
bool same_gpu(const Gpu& x, const Gpu& y);
// Two plans' SKUs (SkuPlan::sku: the node size after --gpus-per-node) that every planner treats alike: the same GPU,
// node size and kind (instance or bare GPU). A plan reads nothing else of its SKU but the name, which only its
// warnings quote, so such SKUs have the same plan figures, verdicts and suggestions.
bool same_planning(const Sku& x, const Sku& y);

}  // namespace vramcalc
