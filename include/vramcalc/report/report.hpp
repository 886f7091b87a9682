// One run's result: the model, its weights and KV cache, and a plan per SKU. Renderers read only this.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vramcalc/engines/common.hpp"
#include "vramcalc/engines/kaito/plan.hpp"
#include "vramcalc/engines/method.hpp"
#include "vramcalc/engines/tgi/plan.hpp"
#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/engines/wizard/plan.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"
#include "vramcalc/sources/local.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

namespace vramcalc {

inline constexpr int kJsonSchemaVersion = 2;  // docs/json-schema.md, "Changes"

// Settings that shape the plan and the emitted command, as the user gave them.
struct ReportSettings {
  KaitoSettings kaito;
  std::string dtype_flag = "auto";
  std::string kv_cache_dtype_flag = "auto";
  std::optional<std::string> quantization_flag;
  std::optional<std::uint64_t> gpu_memory_override;  // --gpu-memory: per GPU, as nvidia-smi reports it
  std::optional<std::uint64_t> cuda_total_override;  // --cuda-total: per GPU, as CUDA reports it to a process
  std::optional<int> gpus_per_node_override;
  Method method = Method::Vllm;  // --engine and --estimator (method_for): the memory model every SKU is planned with
  VllmSettings vllm;             // settings of the vLLM-faithful estimator
  WizardSettings wizard;         // settings of the vllm-wizard estimator (context, TP, GPUs filled per SKU)
  TgiSettings tgi;               // settings of the TGI engine (num_shard, GPU memory filled per SKU)
  std::optional<std::uint64_t> tgi_num_shard;  // --num-shard pinned (else the smallest that fits in a node)
  // Shared axes: every engine and estimator.
  double fragmentation_factor = 1.0;    // --fragmentation-factor (1.15 under wizard)
  double headroom_gib = 0.0;            // --headroom-gib: kept free per GPU
  RiskThresholds risk_thresholds;       // --risk-thresholds-gib
  std::uint64_t concurrency = 1;        // --concurrency
  WeightSettings weights;               // as given, so suggestions can re-estimate the weights
  std::optional<std::string> revision;  // --revision, for the emitted commands
  std::vector<std::pair<std::string, std::string>> extra_vllm_args;  // a profile's outputs.vllm_args
};

struct SkuPlan {
  Sku sku;
  GpuMemory gpu_memory;
  // KAITO's plan, always made: it is the chosen plan under --estimator kaito, and the baseline beside any other.
  KaitoPlan kaito;
  std::optional<VllmPlan> vllm;      // with --estimator vllm
  GpuMemory vllm_total;              // the CUDA-reported total the vLLM estimator used
  std::optional<WizardPlan> wizard;  // with --estimator wizard
  std::optional<TgiPlan> tgi;        // with --engine tgi
  PlanSummary summary;               // the chosen method's plan in the shape every engine shares, full command
  // The KAITO sizing guide's plan beside vLLM's own accounting (report/baseline.hpp), in the same shape, without a
  // command; empty when the chosen method is KAITO's or has its own guide (wizard, TGI).
  std::optional<PlanSummary> baseline;
  Feasibility feasibility;              // for the chosen engine and estimator
  std::vector<Suggestion> suggestions;  // when it does not fit: the nearest changes that would
  std::vector<std::string> warnings;    // SKU-specific (memory figure guessed, unsupported accelerator, ...)
  // Plans holding the same non-null `alike` are copies of one plan (add_plans: the clouds' instances of one GPU and
  // count, report/plan_cache.hpp) that differ only in `sku` and in `warnings` and `summary.warnings`, which may quote
  // the SKU's name: render_json writes their other members once. Whatever changes a plan otherwise must reset it.
  std::shared_ptr<const void> alike;

  // The verdict and layout of the chosen engine and estimator.
  [[nodiscard]] bool fits() const { return feasibility.fits; }
  [[nodiscard]] bool engine_fits() const { return summary.fits; }
  [[nodiscard]] std::uint64_t gpus() const { return summary.gpus; }
  [[nodiscard]] std::uint64_t nodes() const { return summary.nodes; }
  [[nodiscard]] std::uint64_t tensor_parallel_size() const { return summary.tensor_parallel_size; }
  [[nodiscard]] std::uint64_t pipeline_parallel_size() const { return summary.pipeline_parallel_size; }
  [[nodiscard]] Method method() const { return summary.method; }
};

struct Report {
  ModelInput input;  // id, origin, warnings of the source
  ModelArch arch;
  WeightEstimate weights;
  KvCacheSpec kv;
  ReportSettings settings;
  std::vector<SkuPlan> plans;  // one per SKU, fewest GPUs first when several

  // Model-level warnings (source, architecture, weights), without duplicates, in order.
  [[nodiscard]] std::vector<std::string> model_warnings() const;
  // Every warning that applies to one SKU's plan: the model's, the SKU's and the plan's.
  [[nodiscard]] std::vector<std::string> all_warnings(const SkuPlan& p) const;
  // The same texts, in the same order, as views into the report and the plan.
  [[nodiscard]] std::vector<std::string_view> all_warning_texts(const SkuPlan& p) const;
  // ---- issue 14: the verdict with the model's confidence (vramcalc/model/confidence.hpp) ----
  // A guess anywhere in the parameters, the weights or the KV cache: the plan is not an answer.
  [[nodiscard]] bool uncertain() const { return arch.confidence.uncertain(); }
  // "fits", "does_not_fit", or "uncertain" whatever fits says when uncertain() (JSON `verdict`, CSV `verdict`).
  [[nodiscard]] std::string_view verdict(const SkuPlan& p) const;
  // ---- end issue 14 ----
};

// What a model's source tells of the checkpoint's size, for estimate_weights.
CheckpointSizes checkpoint_sizes(const ModelInput& input);

// Builds a plan for one SKU with the report's method, its summary (launch command included) and feasibility
// (pure: no I/O). Suggestions are added by add_suggestions.
SkuPlan plan_for_sku(const Report& report, const Sku& sku);

// When a plan does not fit, re-plans with the nearest changes (fp8 KV cache, the next TP size, the longest context
// that fits, a higher utilization, weight quantization) and keeps those that fit, with their figures.
void add_suggestions(const Report& report, SkuPlan& plan);

}  // namespace vramcalc
