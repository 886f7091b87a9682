// vLLM's KV cache arithmetic (v0.10.x V1: vllm/v1/kv_cache_interface.py and vllm/v1/core/kv_cache_utils.py),
// reimplemented from its documented behaviour. All sizes are per GPU, in bytes.
#include "vramcalc/engines/vllm/kv_pages.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc {

namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// Blocks one layer of `group` holds for a request of `len` tokens (vLLM's max_memory_usage_bytes / page).
std::uint64_t blocks_per_layer(const VllmKvGroup& g, std::uint64_t block, std::uint64_t len, std::uint64_t mnbt) {
  switch (g.kind) {
    case LayerKind::SlidingAttention:
      // The window need not start on a block boundary: one block more.
      return ceil_div(std::min(g.window - 1 + mnbt, len), block) + 1;
    case LayerKind::ChunkedAttention: return ceil_div(std::min(g.window + mnbt, len), block);
    case LayerKind::Mamba: return 1;  // one state per request, whatever its length
    default: return ceil_div(len, block);
  }
}

}  // namespace

std::vector<std::uint64_t> vllm_pp_partition(std::uint64_t layers, std::uint64_t pp) {
  if (pp == 0) fail_input("--pipeline-parallel-size must be positive");
  std::vector<std::uint64_t> parts(pp, layers / pp);
  // The remainder goes to the stages before the last one, from the second-to-last backwards.
  const std::uint64_t rest = layers % pp;
  for (std::uint64_t i = 2; i < rest + 2; ++i) ++parts[pp - i];
  return parts;
}

VllmKvLayout vllm_kv_layout(const ModelArch& arch, const KvCacheSpec& kv, const VllmKvSettings& s) {
  if (s.tensor_parallel_size == 0 || s.pipeline_parallel_size == 0) fail_input("parallel sizes must be positive");
  VllmKvLayout l;
  l.block_size = s.block_size != 0 ? s.block_size : (arch.mla ? 64 : 16);
  if (s.block_size == 0 && arch.mla) l.notes.push_back("MLA: vLLM forces a KV block size of 64 (FlashMLA)");
  l.kv_bytes = static_cast<std::uint64_t>(dtype_bytes(kv.dtype));
  std::uint64_t coef = 2;
  if (arch.mla) {
    coef = 1;
    l.kv_heads_per_gpu = 1;
    l.head_size = arch.kv_lora_rank + arch.qk_rope_head_dim;
    if (s.tensor_parallel_size > 1) l.notes.push_back("MLA: every tensor-parallel rank holds the whole latent cache");
  } else {
    l.kv_heads_per_gpu = std::max<std::uint64_t>(1, arch.num_key_value_heads / s.tensor_parallel_size);
    l.head_size = arch.head_dim;
    if (s.tensor_parallel_size > arch.num_key_value_heads)
      l.notes.push_back(fmt::format("tensor parallel size {} exceeds the {} KV heads: each GPU keeps one (replicated)",
                                    s.tensor_parallel_size, arch.num_key_value_heads));
  }
  const std::uint64_t per_token = coef * l.kv_heads_per_gpu * l.head_size * l.kv_bytes;
  const bool hybrid_mamba = arch.count_layers(LayerKind::Mamba) > 0;
  if (hybrid_mamba) {
    // Mamba2 state of one layer on one GPU: conv state (conv_dim x (kernel - 1)) in the model dtype and SSM state
    // (heads x head_dim x state) in mamba_ssm_cache_dtype, both split by TP.
    const std::uint64_t tp = s.tensor_parallel_size;
    const std::uint64_t conv_dim =
        arch.mamba_num_heads * arch.mamba_head_dim + 2 * arch.mamba_n_groups * arch.ssm_state_size;
    const auto model_bytes = static_cast<std::uint64_t>(
        dtype_bytes(kv.dtype == DType::Float8E4M3 || kv.dtype == DType::Float8E5M2 ? DType::BFloat16 : kv.dtype));
    const auto ssm_bytes =
        static_cast<std::uint64_t>(dtype_bytes(arch.mamba_ssm_cache_dtype.value_or(DType::BFloat16)));
    const std::uint64_t conv =
        conv_dim / tp * (arch.mamba_conv_kernel > 0 ? arch.mamba_conv_kernel - 1 : 0) * model_bytes;
    const std::uint64_t ssm =
        std::max<std::uint64_t>(1, arch.mamba_num_heads / tp) * arch.mamba_head_dim * arch.ssm_state_size * ssm_bytes;
    l.mamba_page_bytes = conv + ssm;
    // A state the model layer could not size (0 bytes) leaves vLLM's default block: never a 0-token block.
    if (s.block_size == 0 && per_token > 0 && l.mamba_page_bytes > 0) {
      constexpr std::uint64_t kAlignment = 16;
      l.block_size = kAlignment * ceil_div(l.mamba_page_bytes, kAlignment * per_token);
      l.notes.push_back(
          fmt::format("hybrid Mamba model: vLLM raises the attention block size to {} tokens so that an "
                      "attention page holds a Mamba state page ({} bytes)",
                      l.block_size, format_count(l.mamba_page_bytes)));
    }
  }
  l.page_bytes = checked_mul(l.block_size, per_token, "KV page");
  if (hybrid_mamba && l.page_bytes < l.mamba_page_bytes) l.page_bytes = l.mamba_page_bytes;  // --block-size too small

  // The pipeline stage with the most KV layers decides (vLLM keeps the minimum block count over ranks).
  const auto parts = vllm_pp_partition(arch.layer_kinds.size(), s.pipeline_parallel_size);
  std::uint64_t start = 0;
  std::map<std::pair<int, std::uint64_t>, std::uint64_t> best;
  std::uint64_t best_layers = 0;
  for (auto n : parts) {
    std::map<std::pair<int, std::uint64_t>, std::uint64_t> kinds;
    std::uint64_t kv_layers = 0;
    for (std::uint64_t i = start; i < start + n; ++i) {
      const LayerKind k = arch.layer_kinds[i];
      if (!holds_kv_per_token(k) && k != LayerKind::Mamba) continue;
      const std::uint64_t window = k == LayerKind::SlidingAttention   ? arch.sliding_window.value_or(0)
                                   : k == LayerKind::ChunkedAttention ? arch.attention_chunk_size.value_or(0)
                                                                      : 0;
      ++kinds[{static_cast<int>(k), window}];
      ++kv_layers;
    }
    if (kv_layers > best_layers) {
      best_layers = kv_layers;
      best = kinds;
    }
    start += n;
  }
  l.layers_per_gpu = best_layers;
  for (const auto& [key, count] : best)
    l.kinds.push_back(VllmKvGroup{static_cast<LayerKind>(key.first), count, key.second});
  l.uniform = l.kinds.size() <= 1;
  if (l.uniform) {
    l.group_size = l.layers_per_gpu;
    l.num_groups = 1;
  } else {
    l.group_size = l.kinds.front().layers;
    for (const auto& g : l.kinds) l.group_size = std::min(l.group_size, g.layers);
    l.num_groups = 0;
    for (const auto& g : l.kinds) l.num_groups += ceil_div(g.layers, l.group_size);
  }
  return l;
}

std::uint64_t vllm_request_bytes(const VllmKvLayout& l, std::uint64_t len, std::uint64_t mnbt) {
  std::uint64_t blocks = 0;
  for (const auto& g : l.kinds) blocks += g.layers * blocks_per_layer(g, l.block_size, len, mnbt);
  return checked_mul(blocks, l.page_bytes, "KV bytes per request");
}

VllmKvCapacity vllm_kv_capacity(const VllmKvLayout& l, std::int64_t available, std::uint64_t len, std::uint64_t mnbt) {
  VllmKvCapacity c;
  c.available_bytes = available;
  c.needed_bytes = vllm_request_bytes(l, len, mnbt);
  if (available <= 0 || l.page_bytes == 0 || l.group_size == 0) {
    c.fits = l.layers_per_gpu == 0 && available > 0;  // an attention-free model needs no KV cache
    return c;
  }
  const auto avail = static_cast<std::uint64_t>(available);
  c.num_gpu_blocks = static_cast<std::int64_t>(avail / l.page_bytes / l.group_size);
  const auto blocks = static_cast<std::uint64_t>(c.num_gpu_blocks);
  c.kv_cache_tokens = (l.uniform ? blocks : blocks / l.num_groups) * l.block_size;

  // Blocks a request takes from the shared pool: per group, the blocks one of its layers holds.
  std::uint64_t per_request = 0;
  for (const auto& g : l.kinds)
    per_request += ceil_div(g.layers, l.group_size) * blocks_per_layer(g, l.block_size, len, mnbt);
  c.max_concurrency = per_request > 0 ? static_cast<double>(blocks) / static_cast<double>(per_request) : 0.0;

  c.fits = c.needed_bytes <= avail;
  if (!c.fits) {
    // vLLM's estimate_max_model_len: the largest length in [1, len] whose need fits.
    std::uint64_t lo = 1, hi = len, best = 0;
    while (lo <= hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      if (vllm_request_bytes(l, mid, mnbt) <= avail) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    c.estimated_max_model_len = best;
  }
  return c;
}

}  // namespace vramcalc
