// vLLM's paged KV cache (V1 engine, v0.10 and later), as vLLM itself sizes it once it knows
// the memory left for the cache: pages per layer, layer groups of hybrid models, blocks, the token count and
// concurrency it logs, and the capacity check with its estimated maximum model length.
// The formulas follow vLLM v0.10.x (vllm/v1/kv_cache_interface.py, vllm/v1/core/kv_cache_utils.py); see README.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

struct VllmKvSettings {
  std::uint64_t block_size = 0;  // 0: vLLM's default (16; 64 for MLA, as FlashMLA forces)
  std::uint64_t tensor_parallel_size = 1;
  std::uint64_t pipeline_parallel_size = 1;
  std::uint64_t max_num_batched_tokens = 2048;  // sliding and chunked layers keep window + this many tokens
  // ---- State layers (issue 14) ----
  // Draft tokens of speculative decoding (MTP): Mamba2 and Gated DeltaNet conv states keep this many more rows, and
  // each state layer one more block per request (vLLM's num_speculative_blocks).
  std::uint64_t num_speculative_tokens = 0;
  // Blocks one request holds in each state layer, speculation aside: 1, or 2 in vLLM's "align" mamba cache mode (prefix
  // caching on a hybrid model: the v0.20-v0.23 logs of Qwen 3.6 / 3.8 count 2).
  std::uint64_t state_blocks_per_request = 1;
  // ---- end state layers ----
};

// One group of layers sharing a KV spec (vLLM's KV cache groups of a hybrid model).
struct VllmKvGroup {
  LayerKind kind = LayerKind::FullAttention;
  std::uint64_t layers = 0;  // real layers of this kind on the GPU
  std::uint64_t window = 0;  // sliding window or attention chunk (0 for full attention)
  // ---- per-layer attention pages (issue 14: Gemma 4's layers differ in head size and KV heads) ----
  std::uint64_t token_bytes = 0;  // K and V of one token in one layer of the group on one GPU (0: a state layer)
  std::uint64_t block_size = 0;   // tokens per block: the layout's, or a multiple where vLLM unified the page sizes
  std::uint64_t page_bytes = 0;   // one block of one layer of the group (0: the layout's page_bytes)
  // ---- end per-layer attention pages ----
};

struct VllmKvLayout {
  std::uint64_t block_size = 16;
  std::uint64_t kv_heads_per_gpu = 0;  // max(1, kv_heads / TP); 1 for MLA (replicated latent)
  std::uint64_t head_size = 0;         // head_dim; kv_lora_rank + qk_rope_head_dim for MLA
  std::uint64_t kv_bytes = 2;          // bytes per element of the cache dtype
  std::uint64_t page_bytes = 0;        // one block of one layer: (2 or 1 for MLA) x block x heads x size x bytes
  std::uint64_t mamba_page_bytes = 0;  // one state layer's state (conv + SSM / recurrent), before padding
  std::uint64_t layers_per_gpu = 0;    // KV layers on the busiest pipeline stage (state layers included)
  std::vector<VllmKvGroup> kinds;      // layers of each spec type on that stage
  bool uniform = true;                 // one spec type: num_blocks = available / page / layers
  std::uint64_t group_size = 0;        // layers per group (uniform: all layers)
  std::uint64_t num_groups = 1;        // groups after splitting each type into group_size layers
  std::vector<std::string> notes;      // what was assumed (block size forced, heads replicated, gaps)
  // Blocks a request holds in each state layer: the settings' state_blocks_per_request + num_speculative_tokens.
  std::uint64_t state_blocks_per_request = 1;
};

struct VllmKvCapacity {
  std::int64_t available_bytes = 0;  // per GPU, as vLLM logs it ("Available KV cache memory")
  std::int64_t num_gpu_blocks = 0;
  std::uint64_t kv_cache_tokens = 0;          // "GPU KV cache size: N tokens"
  double max_concurrency = 0;                 // "Maximum concurrency for L tokens per request: X.XXx"
  std::uint64_t needed_bytes = 0;             // KV one request of max_model_len needs on this GPU
  bool fits = false;                          // needed <= available (and available > 0)
  std::uint64_t estimated_max_model_len = 0;  // vLLM's binary search when it does not fit (0 when it fits)
};

// The layout of the cache on one GPU. Hybrid attention + state models (Mamba2, Gated DeltaNet, short convolutions):
// each state layer keeps one state page per request; vLLM raises the attention block size until an attention page is
// at least a state page, then pads the state page to the same size, so both share one pool of equal pages.
VllmKvLayout vllm_kv_layout(const ModelArch& arch, const KvCacheSpec& kv, const VllmKvSettings& settings);

// Bytes one request of `max_model_len` tokens needs on one GPU (vLLM's max_memory_usage_bytes summed over layers).
std::uint64_t vllm_request_bytes(const VllmKvLayout& layout, std::uint64_t max_model_len,
                                 std::uint64_t max_num_batched_tokens);

// The longest length, 0 to `ceiling`, at which `concurrency` requests of vllm_request_bytes each, times `factor`
// (a fragmentation allowance; 1 for none), fit in `budget_bytes` per GPU; 0 when none does or the budget is not
// positive. The bytes only grow with the length, so it is found by bisection.
std::uint64_t vllm_longest_length(const VllmKvLayout& layout, std::uint64_t max_num_batched_tokens,
                                  std::uint64_t concurrency, double budget_bytes, std::uint64_t ceiling,
                                  double factor = 1.0);

// Blocks, tokens, concurrency and the capacity check for `available_bytes` of KV cache memory per GPU.
VllmKvCapacity vllm_kv_capacity(const VllmKvLayout& layout, std::int64_t available_bytes, std::uint64_t max_model_len,
                                std::uint64_t max_num_batched_tokens);

// vLLM's pipeline split of `layers` over `pp` stages: even, with the remainder on the stages before the last.
std::vector<std::uint64_t> vllm_pp_partition(std::uint64_t layers, std::uint64_t pp);

}  // namespace vramcalc
