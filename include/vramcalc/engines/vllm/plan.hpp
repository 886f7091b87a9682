// The vLLM-faithful estimator (--estimator vllm): what vLLM will log at startup, per GPU, for a V1 release from
// v0.10 to v0.29 (default: the newest, profile.hpp kNewestVllm*; the V0 engine is a documented legacy, not modelled):
//   requested    = total (as CUDA reports it) x gpu_memory_utilization (default 0.90, 0.92 from v0.20)
//   available_kv = requested - weights on this GPU - activation peak - non-PyTorch memory
//                  - the CUDA-graph estimate (from v0.20, unless --enforce-eager or --cudagraph-estimate off;
//                    cudagraph.hpp derives the capture list and the estimate as vLLM does)
// then blocks, tokens, concurrency and the max_model_len check as vLLM computes them (kv_pages.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/core/hardware.hpp"
#include "vramcalc/engines/common.hpp"
#include "vramcalc/engines/vllm/cudagraph.hpp"
#include "vramcalc/engines/vllm/kv_pages.hpp"
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/engines/vllm/speculative.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

class VllmPlanMemo;  // memo.hpp

// Totals CUDA reported to processes on GPUs that have both readings (MiB): nvidia-smi minus this is what a
// process sees. Median of H100 (81559 - 81082), H200 (143771 - 143156), A100-40G (40960 - 40437),
// A10G (23028 - 22587), T4 (15360 - 15095), V100-16G (16160 - 16130), from data/skus.json.
inline constexpr std::uint64_t kMedianCudaGapMiB = 459;

// The per-GPU total CUDA reports to a process: the observed reading (median), else nvidia-smi's total minus the
// median gap seen on GPUs that have both (said in `source`), else the marketed number as GiB (warned).
GpuMemory vllm_gpu_total(const Gpu& gpu, std::optional<std::uint64_t> override_bytes,
                         std::vector<std::string>& warnings);

// Weight bytes on the busiest GPU: `total_weight_bytes` split over the model's groups in proportion to their
// bytes, then tensor-parallel layers divided by TP (vocab-parallel embedding and LM head too; KV projections
// replicated past the KV heads; norms, routers, MLA down-projections and the vision tower replicated),
// pipeline stages split as vLLM splits layers, and with expert parallelism the experts spread over DP x TP ranks.
std::uint64_t vllm_weights_per_gpu(const ModelArch& arch, const WeightEstimate& weights, std::uint64_t tp,
                                   std::uint64_t pp, std::uint64_t dp, bool expert_parallel);

struct VllmSettings {
  VllmVersion version;
  std::optional<double> gpu_memory_utilization;  // default: vLLM's for the version
  std::optional<std::uint64_t> max_model_len;    // default: max_position_embeddings (as vLLM)
  bool max_model_len_auto = false;               // --max-model-len auto: the largest that fits
  std::uint64_t concurrency = 1;                 // sequences of max_model_len that must fit at once
  std::optional<std::uint64_t> max_num_batched_tokens;
  std::optional<std::uint64_t> max_num_seqs;
  bool offline_llm_class = false;  // batch defaults of the LLM class instead of the API server
  // FlashInfer's sampler (fewer logit copies): --flashinfer-sampler / VLLM_USE_FLASHINFER_SAMPLER, else the
  // release's default (vllm_default_flashinfer_sampler).
  std::optional<bool> flashinfer_sampler;
  std::uint64_t block_size = 0;  // 0: vLLM's rule
  std::optional<std::uint64_t> tensor_parallel_size;
  std::optional<std::uint64_t> pipeline_parallel_size;
  std::uint64_t data_parallel_size = 1;
  bool expert_parallel = false;
  std::optional<std::uint64_t> kv_cache_memory;   // --kv-cache-memory: per-GPU KV budget, skips the profile model
  std::optional<std::uint64_t> cudagraph_memory;  // --cudagraph-memory: the pool vLLM logs, replacing the estimate
  bool enforce_eager = false;                     // --enforce-eager: no CUDA graphs
  bool language_model_only = false;               // --language-model-only: the vision/audio towers are not loaded
  // --cudagraph-estimate off (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0): the estimate is not subtracted; graphs
  // are captured after sizing, inside the headroom.
  bool cudagraph_estimate = true;
  int gpus_per_node = 1;
  // What moves vLLM's capture list: --compilation-config, --cudagraph-capture-sizes, --max-cudagraph-capture-size, -O.
  VllmCompilationSettings compilation;
  VllmMultimodalSettings multimodal;    // issue 14: --limit-mm-per-prompt, --skip-mm-profiling (profile.hpp)
  VllmSpeculativeSettings speculative;  // --speculative-config (speculative.hpp)
};

struct VllmPlan {
  bool fits = false;
  std::vector<std::string> not_fit_reasons;
  bool pinned = false;
  std::uint64_t tensor_parallel_size = 1, pipeline_parallel_size = 1, data_parallel_size = 1;
  std::uint64_t gpus = 1, nodes = 1;
  double gpu_memory_utilization = 0.9;
  std::uint64_t total_bytes = 0;      // per GPU, as CUDA reports it
  std::uint64_t requested_bytes = 0;  // total x utilization
  std::uint64_t weights_bytes = 0;    // on the busiest GPU (with the drafter's, as "Model loading took" counts them)
  VllmSpeculativePlan speculative;    // --speculative-config: the drafter's weights (in weights_bytes) and layers
  VllmProfileEstimate profile;        // activation peak and non-PyTorch memory
  std::uint64_t attention_workspace_bytes = 0;  // in profile.activation_bytes: DeepSeek V4's (attention_workspace.hpp)
  bool kv_cache_memory_given = false;
  bool cudagraph_estimated = false;     // vLLM's estimate or the rule of thumb, not --cudagraph-memory
  bool cudagraph_in_budget = false;     // v0.20+: subtracted from available_kv; before: lives in the headroom
  std::int64_t available_kv_bytes = 0;  // "Available KV cache memory"
  std::uint64_t max_num_batched_tokens = 0, max_num_seqs = 0;
  std::string batch_defaults_reason;
  std::uint64_t max_model_len = 0;      // the length checked (requested, or auto's result)
  bool context_filled = false;          // no --max-model-len: the longest the cache holds, up to the model's maximum
  std::uint64_t fill_margin_bytes = 0;  // KV cache the filled length leaves unused: max(5%, 0.5 GiB) of the available
  std::uint64_t model_max_len = 0;      // max_position_embeddings (0: none in the config)
  VllmKvLayout layout;
  VllmKvCapacity capacity;
  std::uint64_t headroom_bytes = 0;     // total - requested: room for the CUDA context and graph pool
  std::uint64_t cudagraph_bytes = 0;    // CUDA-graph pool per GPU (0 with --enforce-eager)
  VllmCudagraphPlan cudagraph;          // the capture list (none with --enforce-eager, -O0, mode NONE), the formula
  std::uint64_t mxfp4_extra_bytes = 0;  // MXFP4 experts without native FP4: padding / copies (in weights_bytes)
  std::string mxfp4_formula;
  std::uint64_t rotary_bytes = 0;  // the rotary-position tables every GPU builds at load (in weights_bytes)
  std::string rotary_formula;
  std::vector<std::string> warnings;
};

// The plan for `gpu`: pinned when TP/PP are given, else the smallest valid layout (TP dividing the attention heads,
// compatible with the KV heads, within a node; PP across nodes) where `concurrency` sequences fit. Without a
// --max-model-len, KAITO's shape: the smallest layout where `concurrency` requests of min(2048, the model's maximum)
// tokens fit, then the longest length they can each have there with max(5%, 0.5 GiB) of the KV cache to spare (the
// estimator's calibrated error), rounded down to a multiple of 256, up to the model's maximum (context_filled).
VllmPlan plan_vllm(const ModelArch& arch, const WeightEstimate& weights, const KvCacheSpec& kv, const Gpu& gpu,
                   const GpuMemory& total, const VllmSettings& settings);
// The same plan, with what does not depend on the GPU kept in `memo` for the next GPU, when it was made for these
// arch, weights and kv objects (memo.hpp; ignored otherwise, and null is no memo).
VllmPlan plan_vllm(const ModelArch& arch, const WeightEstimate& weights, const KvCacheSpec& kv, const Gpu& gpu,
                   const GpuMemory& total, const VllmSettings& settings, VllmPlanMemo* memo);

// The plan in the shape every engine shares: layout, the length checked (vLLM's estimate when it does not fit),
// the per-GPU terms of the budget (requested = weights + activation + non-PyTorch [+ CUDA graphs] + KV cache), the
// `vllm serve` flags it stands for and the KV figures the CSV shows. `settings` as planned with.
PlanSummary vllm_summary(const VllmPlan& plan, const VllmSettings& settings);

}  // namespace vramcalc
