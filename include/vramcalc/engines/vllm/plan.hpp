// The vLLM-faithful estimator (--estimator vllm): what vLLM v0.10.x will log at startup, per GPU:
//   requested    = total (as CUDA reports it) x gpu_memory_utilization
//   available_kv = requested - weights on this GPU - activation peak - non-PyTorch memory
//                  (- the CUDA-graph estimate, from v0.21 on)
// then blocks, tokens, concurrency and the max_model_len check as vLLM computes them (vllm_kv.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/core/hardware.hpp"
#include "vramcalc/engines/common.hpp"
#include "vramcalc/engines/vllm/kv_pages.hpp"
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

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
  bool offline_llm_class = false;   // batch defaults of the LLM class instead of the API server
  bool flashinfer_sampler = false;  // FlashInfer's sampler (images before v0.11.1): fewer logit copies
  std::uint64_t block_size = 0;     // 0: vLLM's rule
  std::optional<std::uint64_t> tensor_parallel_size;
  std::optional<std::uint64_t> pipeline_parallel_size;
  std::uint64_t data_parallel_size = 1;
  bool expert_parallel = false;
  std::optional<std::uint64_t> kv_cache_memory;   // --kv-cache-memory: per-GPU KV budget, skips the profile model
  std::optional<std::uint64_t> cudagraph_memory;  // --cudagraph-memory: the pool vLLM logs, replacing the estimate
  bool enforce_eager = false;                     // --enforce-eager: no CUDA graphs
  int gpus_per_node = 1;
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
  std::uint64_t weights_bytes = 0;    // on the busiest GPU
  VllmProfileEstimate profile;        // activation peak and non-PyTorch memory
  bool kv_cache_memory_given = false;
  std::int64_t available_kv_bytes = 0;  // "Available KV cache memory"
  std::uint64_t max_num_batched_tokens = 0, max_num_seqs = 0;
  std::string batch_defaults_reason;
  std::uint64_t max_model_len = 0;  // the length checked (requested, or auto's result)
  VllmKvLayout layout;
  VllmKvCapacity capacity;
  std::uint64_t headroom_bytes = 0;   // total - requested: room for the CUDA context and graph pool
  std::uint64_t cudagraph_bytes = 0;  // CUDA-graph pool per GPU (0 with --enforce-eager)
  bool cudagraph_estimated = false;   // the rule of thumb, not --cudagraph-memory
  bool cudagraph_in_budget = false;   // v0.21+: subtracted from available_kv; before: lives in the headroom
  std::vector<std::string> warnings;
};

// The plan for `gpu`: pinned when TP/PP are given, else the smallest valid layout (TP dividing the attention heads,
// compatible with the KV heads, within a node; PP across nodes) where `concurrency` sequences fit.
VllmPlan plan_vllm(const ModelArch& arch, const WeightEstimate& weights, const KvCacheSpec& kv, const Gpu& gpu,
                   const GpuMemory& total, const VllmSettings& settings);

// The plan in the shape every engine shares: layout, the length checked (vLLM's estimate when it does not fit),
// the per-GPU terms of the budget (requested = weights + activation + non-PyTorch [+ CUDA graphs] + KV cache), the
// `vllm serve` flags it stands for and the KV figures the CSV shows. `settings` as planned with.
PlanSummary vllm_summary(const VllmPlan& plan, const VllmSettings& settings);

}  // namespace vramcalc
