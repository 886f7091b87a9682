// TGI sizing (TGI's estimation notebook, "Estimate VRAM usage for TGI": its simplified check), in GB = 10^9 bytes as
// the notebook uses. Pure functions of the architecture, the weight bytes and the TGI launcher settings.
//
//   batch      = ceil(max_batch_prefill_tokens / max_input_tokens)
//   cuda       = cuda_overhead_gb x 10^9 x num_shard                         (1 GB x 1.2 buffer per GPU)
//   prefill    = per-layer forward intermediates at seq = max_input_tokens  (MLP + flash attention + 2 layer norms)
//   decode     = the same at seq = 1
//   kv         = batch x (max_total_tokens - 1) x kv_bytes_per_token
//   needed     = weights + cuda + prefill + decode + kv
//   available  = num_shard x gpu_memory x cuda_memory_fraction x 0.95
//   is_enough_vram = needed <= available
// plus the notebook's first version: free = (num_shard x gpu_memory - cuda - weights - prefill - decode)
//   x cuda_memory_fraction x 0.95, kv_token_budget = floor(free / kv_bytes_per_token).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/core/dtype.hpp"
#include "vramcalc/engines/common.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

struct TgiSettings {
  std::optional<std::uint64_t> max_input_tokens;          // --max-input-tokens (default: TGI's, see tgi.cpp)
  std::optional<std::uint64_t> max_total_tokens;          // --max-total-tokens
  std::optional<std::uint64_t> max_batch_prefill_tokens;  // --max-batch-prefill-tokens
  double cuda_memory_fraction = 1.0;                      // --cuda-memory-fraction, in (0, 1]
  std::uint64_t num_shard = 1;                            // --num-shard: GPUs (tensor parallel)
  double cuda_overhead_gb = 1.2;                          // --cuda-overhead-gb: per GPU, GB (1 GB x 1.2 buffer)
  std::uint64_t gpu_memory_bytes = 0;                     // per GPU: the marketed GB x 10^9, or --gpu-memory
};

struct TgiPlan {
  // The token settings used (given or TGI's defaults) and which were defaulted, in words.
  std::uint64_t max_input_tokens = 0, max_total_tokens = 0, max_batch_prefill_tokens = 0;
  std::vector<std::string>
      defaults_used;  // e.g. "max_total_tokens 4096 (TGI default: min(max_position_embeddings, 4096))"
  std::uint64_t num_shard = 1;
  double cuda_memory_fraction = 1.0;
  std::uint64_t batch_size = 0;
  std::uint64_t gpu_memory_bytes = 0;  // per GPU

  std::uint64_t cuda_overhead_bytes = 0;  // all GPUs
  std::uint64_t model_bytes = 0;          // weights
  std::uint64_t prefill_bytes = 0;
  std::uint64_t decode_bytes = 0;
  std::uint64_t kv_bytes_per_token = 0;
  std::uint64_t kv_tokens_needed = 0;  // batch x (max_total_tokens - 1)
  std::uint64_t kv_cache_bytes = 0;
  std::uint64_t total_needed_bytes = 0;
  std::uint64_t available_bytes = 0;  // all GPUs
  bool is_enough_vram = false;

  std::int64_t free_for_kv_bytes = 0;  // the first version's free memory for the KV cache (can be negative)
  std::uint64_t kv_token_budget = 0;   // floor(free / kv_bytes_per_token), 0 when free <= 0

  std::string prefill_formula, decode_formula, kv_formula;  // with their numbers, for the breakdown
  std::vector<std::string> notes;                           // always includes the head_dim correction note
  std::vector<std::string> warnings;  // guesses (MoE intermediate, defaults), settings out of the ordinary
  bool fits = false;                  // is_enough_vram, and settings TGI would accept
  std::vector<std::string> not_fit_reasons;
};

// Throws Error(BadInput) naming the TGI flag for settings TGI rejects (max_input_tokens >= max_total_tokens,
// max_batch_prefill_tokens < max_input_tokens, zero values, a fraction outside (0, 1], no GPU memory).
TgiPlan plan_tgi(const ModelArch& arch, std::uint64_t weight_bytes, const KvCacheSpec& kv, DType activation_dtype,
                 const TgiSettings& settings);

// The plan in the shape every engine shares: num_shard GPUs as TP (one node per gpus_per_node), max_total_tokens as
// the context, the terms summed over the shards as the notebook sums them (needed = model + CUDA overhead +
// prefill + decode + KV cache, of available), its own warnings, the launcher flags it stands for (--num-shard and
// the token settings) and the notebook's figures the CSV shows. `pinned`: --num-shard was given.
PlanSummary tgi_summary(const TgiPlan& plan, const TgiSettings& settings, int gpus_per_node, bool pinned);

// `text-generation-launcher --model-id MODEL [--revision R] <the method's flags> [--dtype D] [--quantize Q]
// [--kv-cache-dtype K]`, as words: TGI's spellings (Q8 and int8 are bitsandbytes, Q4 gptq; fp8 KV is fp8_e4m3fn).
std::vector<std::string> tgi_launcher_words(const std::vector<std::string>& method_flags, const ServeOptions& options);

// The notebook's bytes_to_gb: bytes / 10^9 rounded to 5 decimals (3156720000 -> 3.15672).
double tgi_gb(std::uint64_t bytes);

}  // namespace vramcalc
