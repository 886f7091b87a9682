// KAITO's plan (engines/kaito): how many GPUs and nodes a model needs and the longest max_model_len they hold.
// KAITO's sizing guide, with the config's own head_dim and only KV-holding layers in the KV term, or (--kaito-rules
// controller) what KAITO's controller computes today (controller.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vramcalc/core/hardware.hpp"
#include "vramcalc/engines/common.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

// Whose formulas plan: KAITO's published sizing guide (measured on vLLM v0.10.1), or its controller's today.
enum class KaitoRules { Guide, Controller };
std::string_view kaito_rules_name(KaitoRules rules);    // --kaito-rules: "guide", "controller"
std::string_view kaito_rules_source(KaitoRules rules);  // "KAITO sizing guide", "KAITO controller"
std::optional<KaitoRules> kaito_rules_named(std::string_view name);
std::vector<std::string> kaito_rules_names();  // guide first: the default

// The guide: nvidia-smi's reported total; where none is known, the marketed number read as GiB (warned).
// The controller: its own SKU table's gpu_mem_total / gpu_count, which is the marketed number read as GiB for every
// instance it lists (an H100 is 80 GiB there, 79.65 GiB by nvidia-smi). --gpu-memory replaces either.
GpuMemory kaito_gpu_memory(const Gpu& gpu, std::optional<std::uint64_t> override_bytes,
                           std::vector<std::string>& warnings, KaitoRules rules = KaitoRules::Guide);

struct KaitoSettings {
  KaitoRules rules = KaitoRules::Guide;       // --kaito-rules
  double gpu_memory_utilization = 0.90;       // u (the controller plans with its own 0.84)
  bool gpu_memory_utilization_given = false;  // --gpu-memory-utilization was passed
  std::uint64_t max_model_len = 2048;         // L requested
  bool max_model_len_given = false;           // --max-model-len was passed (else KAITO's default 2048)
  double non_torch_gib = 0.6;                 // non-PyTorch memory per GPU
  double activation_gib = 1.7;                // activation peak per GPU
  double weight_overhead = 1.02;              // observed VRAM / checkpoint size
  // Shared axes (issue 5), neutral by default so the guide's formula is unchanged:
  std::uint64_t concurrency = 1;  // --concurrency: sequences of max_model_len held at once
  double kv_fragmentation = 1.0;  // --fragmentation-factor on the KV term
  double reserve_gib = 0.0;       // --headroom-gib: kept free per GPU, on top of the overheads
  // The node: whole nodes of gpus_per_node GPUs (a cloud instance, or --gpus-per-node), N = ceil(n / gpus_per_node)
  // x gpus_per_node; or, for a bare GPU SKU (whole_nodes false), one node of the smallest valid TP count up to
  // gpus_per_node that fits, else nodes of gpus_per_node GPUs with pipeline parallelism between them.
  int gpus_per_node = 1;
  bool whole_nodes = true;
  std::optional<std::uint64_t> gpus;                    // --gpus: pinned GPU count
  std::optional<std::uint64_t> tensor_parallel_size;    // pinned TP
  std::optional<std::uint64_t> pipeline_parallel_size;  // pinned PP
};

struct PerGpuBreakdown {
  std::uint64_t weights_bytes = 0;          // W / N
  std::uint64_t weight_overhead_bytes = 0;  // (1.02 - 1) x W / N
  std::uint64_t kv_cache_bytes = 0;         // bytes_per_token x max_model_len / N
  std::uint64_t activation_bytes = 0;       // controller: + 0.05 x 1.02 x weights per GPU
  std::uint64_t non_torch_bytes = 0;
  std::uint64_t reserve_bytes = 0;  // --headroom-gib
  std::uint64_t total_bytes = 0;
  std::uint64_t capacity_bytes = 0;  // V
  std::uint64_t budget_bytes = 0;    // V x u (controller: V x 0.84)
};

struct KaitoPlan {
  KaitoRules rules = KaitoRules::Guide;
  std::string source;                 // kaito_rules_source(rules): "KAITO sizing guide" or "KAITO controller"
  double gpu_memory_utilization = 0;  // u planned with: --gpu-memory-utilization, or the controller's 0.84
  bool fits = false;
  std::vector<std::string> not_fit_reasons;
  bool pinned = false;            // GPU count fixed by --gpus / --tensor-parallel-size / --pipeline-parallel-size
  std::uint64_t gpus_needed = 0;  // n from the GPU-count formula
  std::uint64_t gpus = 0;         // N = nodes x gpus_per_node (or the pinned count)
  std::uint64_t nodes = 0;
  std::uint64_t tensor_parallel_size = 1;
  std::uint64_t pipeline_parallel_size = 1;
  std::uint64_t max_model_len_requested = 0;  // after the max_position_embeddings cap
  std::int64_t max_model_len_by_memory = 0;   // floor(...) of the length formula (negative: weights do not fit)
  std::uint64_t max_model_len = 0;            // min(by memory, max_position_embeddings), at least 0
  std::string max_model_len_limited_by;       // "memory" or "max_position_embeddings"
  // The two formulas under the rules planned with, with their numbers (GiB = 2^30 bytes), for the renderers.
  std::string gpus_needed_formula;
  std::string max_model_len_formula;
  PerGpuBreakdown per_gpu;
  std::vector<std::string> warnings;
};

// The KAITO plan, in double-precision GiB exactly as KAITO's sizing guide writes it:
//   n   = max(1, ceil((1.02 W + bytes_per_token L) / (V u - 2.3)))
//   N   = ceil(n / gpus_per_node) x gpus_per_node
//   len = min(floor((N V u - 1.02 W - 2.3 N) / bytes_per_token), max_position_embeddings)
// With the shared axes, bytes_per_token becomes bytes_per_token x fragmentation x concurrency and 2.3 becomes
// 2.3 + reserve; at their defaults (1, 1, 0) the formulas are the guide's. On a bare GPU SKU (whole_nodes false),
// N is the smallest valid TP count >= n (at most gpus_per_node), else whole nodes of gpus_per_node.
// KaitoRules::Controller: n is the controller's minGPUs and the length its ComputeMaxModelLen (controller.hpp).
// Either way, a TP that vLLM refuses (not dividing the attention heads, or the KV heads without replication) does
// not fit. Throws Error(BadInput) for settings out of range.
KaitoPlan plan_kaito(const ModelArch& arch, std::uint64_t weight_bytes, const KvCacheSpec& kv, const GpuMemory& gpu,
                     const KaitoSettings& settings);

// The plan in the shape every engine shares: layout, context, the per-GPU terms with their formulas, and the
// `vllm serve` flags it stands for (TP, PP, max_model_len, gpu_memory_utilization). `settings` as planned with.
PlanSummary kaito_summary(const KaitoPlan& plan, const KaitoSettings& settings, std::uint64_t weight_bytes,
                          const KvCacheSpec& kv);

}  // namespace vramcalc
