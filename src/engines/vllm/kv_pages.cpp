// vLLM's KV cache arithmetic (v0.10.x V1: vllm/v1/kv_cache_interface.py and vllm/v1/core/kv_cache_utils.py),
// reimplemented from its documented behaviour. All sizes are per GPU, in bytes.
#include "vramcalc/engines/vllm/kv_pages.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc {

namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// Blocks one layer of `group` holds for a request of `len` tokens (vLLM's max_memory_usage_bytes / page); a state
// layer holds `state_blocks` whatever the length.
std::uint64_t blocks_per_layer(const VllmKvGroup& g, std::uint64_t block, std::uint64_t len, std::uint64_t mnbt,
                               std::uint64_t state_blocks) {
  if (holds_state_per_request(g.kind)) return state_blocks;
  if (g.block_size > 0) block = g.block_size;  // a group whose page vLLM unified holds more tokens per block
  switch (g.kind) {
    case LayerKind::SlidingAttention:
      // The window need not start on a block boundary: one block more.
      return ceil_div(std::min(g.window - 1 + mnbt, len), block) + 1;
    case LayerKind::ChunkedAttention: return ceil_div(std::min(g.window + mnbt, len), block);
    default: return ceil_div(len, block);
  }
}

// ---- per-layer attention pages (issue 14) ----
// K and V of one token in layer i on one GPU: its own KV heads split by TP (at least one kept), both head sizes (MLA:
// the latent alone). 0 for a layer without a cache of its own (KV sharing, state layers, cross-attention).
std::uint64_t layer_token_bytes(const ModelArch& arch, std::size_t i, std::uint64_t tp, std::uint64_t kv_bytes) {
  const LayerAttention la = arch.attention_at(i);
  if (!la.holds_own_kv()) return 0;
  const std::uint64_t heads = arch.mla ? 1 : std::max<std::uint64_t>(1, la.kv_heads / tp);
  return heads * (la.head_dim + la.v_head_dim) * kv_bytes;
}

// vLLM's unify_kv_cache_spec_page_size: attention groups whose page is smaller than the largest get a block size
// that many times larger (vLLM requires the ratio to be whole; a remainder is rounded up here, and said), so that
// every group draws equal pages from one pool. The layout's block_size stays the smallest, as vLLM logs tokens with.
void unify_attention_pages(VllmKvLayout& l) {
  std::uint64_t largest = 0;
  for (auto& g : l.kinds) {
    if (g.token_bytes == 0) continue;
    g.block_size = l.block_size;
    g.page_bytes = checked_mul(l.block_size, g.token_bytes, "KV page");
    largest = std::max(largest, g.page_bytes);
  }
  for (auto& g : l.kinds) {
    if (g.token_bytes == 0 || g.page_bytes == largest || l.uniform) continue;
    const std::uint64_t ratio = ceil_div(largest, g.page_bytes);
    g.block_size *= ratio;
    l.notes.push_back(fmt::format(
        "{} layers: {} B per token, so vLLM gives them blocks of {} tokens to fill a {} B page like the others'{}",
        layer_kind_name(g.kind), format_count(g.token_bytes), g.block_size, format_count(largest),
        largest % g.page_bytes != 0 ? " (not a whole multiple: vLLM may refuse the model)" : ""));
    g.page_bytes = largest;
  }
  // Hybrids with state layers keep the page their state padding decided (at least the attention page).
  if (largest > 0) l.page_bytes = l.mamba_page_bytes > 0 ? std::max(l.page_bytes, largest) : largest;
  if (!l.uniform)
    for (auto& g : l.kinds) g.page_bytes = l.page_bytes;
}
// Layers with fewer KV heads of their own than the rest (Gemma 4's global layers) may be replicated where the others
// are not: said once.
void note_replicated_layers(VllmKvLayout& l, const ModelArch& arch, std::uint64_t tp) {
  for (const auto& la : arch.layer_attention) {
    if (la.kv_heads == 0 || la.kv_heads >= tp || la.kv_heads == arch.num_key_value_heads) continue;
    l.notes.push_back(fmt::format(
        "tensor parallel size {} exceeds the {} KV heads of some layers: each GPU keeps one of theirs (replicated)", tp,
        la.kv_heads));
    return;
  }
}

// The KV cache groups of the pipeline stage with the most KV layers, which decides (vLLM keeps the minimum block
// count over ranks). Layers of one kind, window and page size share a spec; KV-shared layers have none (vLLM gives
// a layer with kv_sharing_target_layer_name no spec). `layers`: the stage's layers with a spec.
std::vector<VllmKvGroup> busiest_stage_groups(const ModelArch& arch, const VllmKvSettings& s, std::uint64_t kv_bytes,
                                              std::uint64_t& layers) {
  using SpecKey = std::tuple<int, std::uint64_t, std::uint64_t>;  // kind, window, token bytes
  std::map<SpecKey, std::uint64_t> best;
  layers = 0;
  std::uint64_t start = 0;
  for (auto n : vllm_pp_partition(arch.layer_kinds.size(), s.pipeline_parallel_size)) {
    std::map<SpecKey, std::uint64_t> kinds;
    std::uint64_t kv_layers = 0;
    for (std::uint64_t i = start; i < start + n; ++i) {
      const LayerKind k = arch.layer_kinds[i];
      if (!holds_kv_per_token(k) && !holds_state_per_request(k)) continue;
      const LayerAttention la = arch.attention_at(i);
      if (holds_kv_per_token(k) && !la.holds_own_kv()) continue;
      const std::uint64_t window = la.window > 0                      ? la.window
                                   : k == LayerKind::SlidingAttention ? arch.sliding_window.value_or(0)
                                   : k == LayerKind::ChunkedAttention ? arch.attention_chunk_size.value_or(0)
                                                                      : 0;
      const std::uint64_t token_bytes =
          holds_kv_per_token(k) ? layer_token_bytes(arch, i, s.tensor_parallel_size, kv_bytes) : 0;
      ++kinds[{static_cast<int>(k), window, token_bytes}];
      ++kv_layers;
    }
    if (kv_layers > layers) {
      layers = kv_layers;
      best = kinds;
    }
    start += n;
  }
  std::vector<VllmKvGroup> groups;
  for (const auto& [key, count] : best)
    groups.push_back(VllmKvGroup{static_cast<LayerKind>(std::get<0>(key)), count, std::get<1>(key), std::get<2>(key)});
  return groups;
}
// ---- end per-layer attention pages ----

// ---- sparse-attention caches (issue 14: GLM 5's DSA indexer, MiniMax M3's index keys, DeepSeek V4) ----
// The first and last decoder layer of the pipeline stage holding the most KV layers (the one vllm_kv_layout sizes).
std::pair<std::uint64_t, std::uint64_t> busiest_stage(const ModelArch& arch, std::uint64_t pp) {
  const auto parts = vllm_pp_partition(arch.layer_kinds.size(), pp);
  std::uint64_t start = 0, best_start = 0, best_end = 0, best = 0;
  for (auto n : parts) {
    std::uint64_t layers = 0;
    for (std::uint64_t i = start; i < start + n; ++i)
      layers += holds_kv_per_token(arch.layer_kinds[i]) || holds_state_per_request(arch.layer_kinds[i]) ? 1 : 0;
    if (layers > best) {
      best = layers;
      best_start = start;
      best_end = start + n;
    }
    start += n;
  }
  return {best_start, best_end};
}

// Layers of [first, last) flagged with an indexer, and (DeepSeek V4) those of each compress ratio.
struct StageCounts {
  std::uint64_t indexer = 0, ratio4 = 0, ratio128 = 0;
};
StageCounts stage_counts(const ModelArch& arch, std::pair<std::uint64_t, std::uint64_t> range) {
  StageCounts c;
  for (std::uint64_t i = range.first; i < range.second; ++i) {
    if (i < arch.indexer_layers.size() && arch.indexer_layers[i]) ++c.indexer;
    const std::uint64_t r = i < arch.compress_ratios.size() ? arch.compress_ratios[i] : 0;
    c.ratio4 += r == 4 ? 1 : 0;
    c.ratio128 += r == 128 ? 1 : 0;
  }
  return c;
}

std::uint64_t round_up(std::uint64_t n, std::uint64_t m) { return ceil_div(n, m) * m; }

// DeepSeek V4 (vLLM's deepseek_v4 MLAAttentionSpec): blocks of 256 tokens; a ratio-r layer stores 256 / r entries of
// 584 B per block, its ratio-4 indexer 64 keys of 132 B, each page padded to a multiple of 576 B (FlashMLA). The
// sliding-window caches (128 tokens in every layer) and the compressors' partial-window states are per request, not
// per token: left out of the pool, and said.
void deepseek_v4_pages(VllmKvLayout& l, const ModelArch& arch, const StageCounts& c, bool block_given) {
  constexpr std::uint64_t kBlock = 256, kEntry = 584, kAlign = 576;
  if (!block_given) l.block_size = kBlock;
  const std::uint64_t block = l.block_size;
  const std::uint64_t index_key = arch.indexer_head_dim + ceil_div(arch.indexer_head_dim, 128) * 4;
  l.kinds.clear();
  auto add = [&](std::uint64_t layers, std::uint64_t page) {
    if (layers > 0) l.kinds.push_back(VllmKvGroup{LayerKind::FullAttention, layers, 0, 0, block, page});
  };
  add(c.ratio4, round_up(block / 4 * kEntry, kAlign));
  add(c.indexer, round_up(block / 4 * index_key, kAlign));
  add(c.ratio128, round_up(std::max<std::uint64_t>(1, block / 128) * kEntry, kAlign));
  l.uniform = true;
  l.layers_per_gpu = c.ratio4 + c.indexer + c.ratio128;
  l.group_size = l.layers_per_gpu;
  l.num_groups = 1;
  l.page_bytes = 0;
  for (const auto& g : l.kinds) l.page_bytes = std::max(l.page_bytes, g.page_bytes);
  l.kv_bytes = 1;
  l.notes.push_back(fmt::format(
      "DeepSeek V4: blocks of {} tokens of compressed FP8 entries (584 B per 4 or 128 tokens, 576-byte aligned pages); "
      "the {}-token sliding-window and compressor-state caches each request also holds are not modelled",
      block, arch.sliding_window.value_or(0)));
}

// Indexer keys as vLLM caches them beside the KV: an extra full-attention spec per flagged layer. GLM 5's DSA keys are
// FP8 with a float32 scale per 128 (132 B for 128 dims) in the MLA block of 64; with an FP8 KV cache the latent itself
// takes vLLM's fp8_ds_mla layout (656 B per token). MiniMax M3's index keys are in the KV dtype, and its sparse
// attention needs blocks of 128 tokens.
void indexer_pages(VllmKvLayout& l, const ModelArch& arch, const StageCounts& c, bool block_given) {
  if (arch.mla && arch.indexer_fp8 && l.kv_bytes == 1) {
    constexpr std::uint64_t kDsMla = 656;
    for (auto& g : l.kinds)
      if (g.token_bytes > 0) g.token_bytes = kDsMla;
    l.notes.push_back("DSA: vLLM stores the FP8 latent as fp8_ds_mla, 656 B per token per layer");
  }
  if (!arch.indexer_fp8 && !block_given) {
    l.block_size = 128;
    l.notes.push_back("MiniMax M3 sparse attention: vLLM requires KV blocks of 128 tokens");
  }
  const std::uint64_t key = arch.indexer_fp8 ? arch.indexer_head_dim + ceil_div(arch.indexer_head_dim, 128) * 4
                                             : arch.indexer_head_dim * l.kv_bytes;
  if (c.indexer > 0) l.kinds.push_back(VllmKvGroup{LayerKind::FullAttention, c.indexer, 0, key, 0, 0});
  l.layers_per_gpu += c.indexer;
  if (l.uniform) l.group_size = l.layers_per_gpu;
  l.page_bytes = 0;
  for (auto& g : l.kinds) {
    if (g.token_bytes == 0) continue;
    g.block_size = l.block_size;
    g.page_bytes = checked_mul(l.block_size, g.token_bytes, "KV page");
    l.page_bytes = std::max(l.page_bytes, g.page_bytes);
  }
  l.notes.push_back(
      fmt::format("sparse-attention indexer: {} layers cache a {} B key per token beside the KV", c.indexer, key));
}

void sparse_attention_pages(VllmKvLayout& l, const ModelArch& arch, const VllmKvSettings& s) {
  if (arch.compress_ratios.empty() && arch.count_indexer_layers() == 0) return;
  const StageCounts c = stage_counts(arch, busiest_stage(arch, s.pipeline_parallel_size));
  if (!arch.compress_ratios.empty()) {
    deepseek_v4_pages(l, arch, c, s.block_size != 0);
  } else if (l.uniform) {  // GLM 5 and MiniMax M3 are all full attention
    indexer_pages(l, arch, c, s.block_size != 0);
  }
}
// ---- end sparse-attention caches ----

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
    note_replicated_layers(l, arch, s.tensor_parallel_size);
  }
  const std::uint64_t per_token = coef * l.kv_heads_per_gpu * l.head_size * l.kv_bytes;
  const bool hybrid_mamba = arch.state_layers() > 0;
  if (hybrid_mamba) {
    // One state layer's state on one GPU (memory/kv_cache.cpp): conv state in the model dtype, SSM / recurrent state
    // in mamba_ssm_cache_dtype, both split by TP; speculative tokens widen the conv state and add blocks.
    l.mamba_page_bytes = layer_state_bytes(arch, kv, s.tensor_parallel_size, s.num_speculative_tokens);
    l.state_blocks_per_request = s.state_blocks_per_request + s.num_speculative_tokens;
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

  l.kinds = busiest_stage_groups(arch, s, l.kv_bytes, l.layers_per_gpu);
  // One spec type (one kind and window, whatever the page sizes: vLLM's UniformTypeKVCacheSpecs) is one group.
  l.uniform = std::all_of(l.kinds.begin(), l.kinds.end(), [&](const VllmKvGroup& g) {
    return g.kind == l.kinds.front().kind && g.window == l.kinds.front().window;
  });
  if (l.uniform) {
    l.group_size = l.layers_per_gpu;
    l.num_groups = 1;
  } else {
    l.group_size = l.kinds.front().layers;
    for (const auto& g : l.kinds) l.group_size = std::min(l.group_size, g.layers);
    l.num_groups = 0;
    for (const auto& g : l.kinds) l.num_groups += ceil_div(g.layers, l.group_size);
  }
  unify_attention_pages(l);
  sparse_attention_pages(l, arch, s);  // issue 14: indexer keys, DeepSeek V4's compressed pages
  return l;
}

std::uint64_t vllm_request_bytes(const VllmKvLayout& l, std::uint64_t len, std::uint64_t mnbt) {
  std::uint64_t bytes = 0;
  for (const auto& g : l.kinds) {
    const std::uint64_t blocks = g.layers * blocks_per_layer(g, l.block_size, len, mnbt, l.state_blocks_per_request);
    bytes =
        checked_add(bytes, checked_mul(blocks, g.page_bytes > 0 ? g.page_bytes : l.page_bytes, "KV bytes per request"),
                    "KV bytes per request");
  }
  return bytes;
}

std::uint64_t vllm_longest_length(const VllmKvLayout& l, std::uint64_t mnbt, std::uint64_t concurrency, double budget,
                                  std::uint64_t ceiling, double factor) {
  if (budget <= 0) return 0;
  const auto fits = [&](std::uint64_t len) {
    return static_cast<double>(vllm_request_bytes(l, len, mnbt)) * factor * static_cast<double>(concurrency) <= budget;
  };
  if (fits(ceiling)) return ceiling;
  std::uint64_t lo = 0, hi = ceiling;
  while (lo + 1 < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
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
  // One spec type: every layer keeps a page per block, of its own size (vLLM's UniformTypeKVCacheSpecs); hybrids:
  // group_size layers share each block's equal pages.
  std::uint64_t block_bytes = checked_mul(l.page_bytes, l.group_size, "KV block");
  if (l.uniform) {
    std::uint64_t pages = 0;
    for (const auto& g : l.kinds) pages += g.layers * (g.page_bytes > 0 ? g.page_bytes : l.page_bytes);
    if (pages > 0) block_bytes = pages;
  }
  c.num_gpu_blocks = static_cast<std::int64_t>(avail / block_bytes);
  const auto blocks = static_cast<std::uint64_t>(c.num_gpu_blocks);
  c.kv_cache_tokens = (l.uniform ? blocks : blocks / l.num_groups) * l.block_size;

  // Blocks a request takes from the shared pool: per group, the blocks one of its layers holds.
  std::uint64_t per_request = 0;
  for (const auto& g : l.kinds)
    per_request +=
        ceil_div(g.layers, l.group_size) * blocks_per_layer(g, l.block_size, len, mnbt, l.state_blocks_per_request);
  // One spec type is one group however many page sizes it holds: its block table counts once.
  if (l.uniform && !l.kinds.empty())
    per_request = blocks_per_layer(l.kinds.front(), l.block_size, len, mnbt, l.state_blocks_per_request);
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
