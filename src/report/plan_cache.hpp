// What the plans of one report's SKUs share (private to src/report). The vLLM estimator's plan depends on the SKU
// only through its GPU and node size, KAITO's only through its memory figure and node, and --sku all has 157 SKUs
// of 40-odd GPUs: the clouds' instances of one GPU, and the bare GPU itself, make the same plans, which were over
// half of that command's planning (bench/RESULTS.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vramcalc/core/hardware.hpp"
#include "vramcalc/engines/common.hpp"
#include "vramcalc/engines/kaito/plan.hpp"
#include "vramcalc/engines/vllm/memo.hpp"
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

  // A plan add_plan made before, whose vLLM plan and summary are those of a GPU, CUDA total and node size, and that
  // summary's command as vllm_summary made it (the plan's own is the whole launch command). Plans are not copied
  // into the cache: with over a hundred of them, copies were a megabyte of memory to touch (bench/RESULTS.md).
  struct VllmSource {
    const SkuPlan* plan = nullptr;
    const std::vector<std::string>* command = nullptr;
  };
  [[nodiscard]] std::optional<VllmSource> find_vllm(const Gpu& gpu, const GpuMemory& total, int gpus_per_node) const;
  // Notes that the plan add_plan is making holds the vLLM plan of its SKU's GPU, its vllm_total and its node size
  // (plan_with_vllm), and the summary's command. Nothing outside add_plan.
  void add_vllm(std::vector<std::string> command);

  // Appends plan_for_sku(report, sku) to `plans`, which must have room for it (reserved: plans already made are
  // read through their place there). A SKU planned like one before it, its twin (the same GPU, node size and kind:
  // the clouds' instances of one GPU and count), gets a copy of the twin's plan with its own name where the twin's
  // plan quotes the twin's: a plan reads nothing else of its SKU. Each SKU unlike those before is planned under a
  // placeholder name, so that the places where its plan quotes the name are known.
  void add_plan(std::vector<SkuPlan>& plans, const Report& report, const Sku& sku);

  // What the vLLM estimator works out per layout for the report's model, for every GPU's plan (memo.hpp). Its keys
  // hold every setting, so a plan with other settings may use it too.
  VllmPlanMemo& vllm_memo(const Report& report) {
    if (!memo_) memo_.emplace(report.arch, report.weights, report.kv);
    return *memo_;
  }

 private:
  std::optional<VllmPlanMemo> memo_;
  std::vector<SkuPlan>* plans_ = nullptr;  // add_plan's, while it plans
  struct VllmEntry {
    std::size_t plan = 0;  // its place in plans_
    std::vector<std::string> command;
  };
  std::vector<VllmEntry> vllm_;
  // A text of the first plan of a kind that quotes the SKU's name: its list (plan_cache.cpp, for_each_text_list),
  // place there, and the text with the placeholder for the name.
  struct NameSpot {
    std::size_t list = 0;
    std::size_t index = 0;
    std::string text;
  };
  struct Twin {
    std::size_t plan = 0;   // its place in add_plan's `plans`
    int gpus_per_node = 0;  // the SKU's, before plan_for_sku applies --gpus-per-node or the bare GPU's node
    std::vector<NameSpot> spots;
    bool name_only_in_warnings = true;  // every spot in sp.warnings or summary.warnings (SkuPlan::alike)
  };
  std::vector<Twin> twins_;
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
