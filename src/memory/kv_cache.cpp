#include "vramcalc/memory/kv_cache.hpp"

#include <map>
#include <tuple>

#include <algorithm>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc {

namespace {

DType parse_kv_dtype(const std::string& flag, DType serving) {
  if (flag == "auto") return serving;
  if (flag == "fp8" || flag == "fp8_e4m3") return DType::Float8E4M3;
  if (flag == "fp8_e5m2") return DType::Float8E5M2;
  if (flag == "float16" || flag == "half") return DType::Float16;
  if (flag == "bfloat16") return DType::BFloat16;
  if (flag == "float32" || flag == "float") return DType::Float32;
  fail_input(
      fmt::format("--kv-cache-dtype: \"{}\" is not one of auto, fp8, fp8_e4m3, fp8_e5m2, float16, bfloat16, "
                  "float32",
                  flag));
}

// The KV shape of a layer holding its own cache, as a key for counting layers alike.
struct Shape {
  std::uint64_t kv_heads = 0, head_dim = 0, v_head_dim = 0;
  [[nodiscard]] std::uint64_t elements() const { return kv_heads * (head_dim + v_head_dim); }
  bool operator<(const Shape& o) const {
    return std::tie(kv_heads, head_dim, v_head_dim) < std::tie(o.kv_heads, o.head_dim, o.v_head_dim);
  }
};

// Layers holding their own KV cache, by shape; `shared`: layers reading another layer's cache.
std::map<Shape, std::uint64_t> layer_shapes(const ModelArch& arch, std::uint64_t& shared) {
  std::map<Shape, std::uint64_t> shapes;
  shared = 0;
  for (std::size_t i = 0; i < arch.layer_kinds.size(); ++i) {
    const LayerAttention la = arch.attention_at(i);
    if (la.kv_heads > 0 && la.shares_kv_with >= 0) ++shared;
    if (la.holds_own_kv()) ++shapes[Shape{la.kv_heads, la.head_dim, la.v_head_dim}];
  }
  return shapes;
}

// ---- Per-request state (issue 14) ----
// The state layers' kind (a model mixes attention with one kind of state layer) and their state per request.
void fill_state(KvCacheSpec& kv, const ModelArch& arch, DType serving_dtype) {
  kv.state_layers = arch.state_layers();
  if (kv.state_layers == 0) return;
  kv.conv_state_dtype = serving_dtype;
  kv.ssm_state_dtype = arch.mamba_ssm_cache_dtype.value_or(serving_dtype);
  const LayerStateShape shape = layer_state_shape(arch, 1);
  const std::uint64_t per_layer = layer_state_bytes(arch, kv, 1);
  kv.state_bytes_per_request = checked_mul(kv.state_layers, per_layer, "state bytes per request");
  const auto conv_b = static_cast<std::uint64_t>(dtype_bytes(kv.conv_state_dtype));
  const auto ssm_b = static_cast<std::uint64_t>(dtype_bytes(kv.ssm_state_dtype));
  kv.state_formula =
      shape.ssm_elements > 0
          ? fmt::format("{} state layers x (conv {} x {} B ({}) + SSM {} x {} B ({})) = {} B per request",
                        kv.state_layers, format_count(shape.conv_elements), conv_b, dtype_name(kv.conv_state_dtype),
                        format_count(shape.ssm_elements), ssm_b, dtype_name(kv.ssm_state_dtype),
                        format_count(kv.state_bytes_per_request))
          : fmt::format("{} state layers x conv {} x {} B ({}) = {} B per request", kv.state_layers,
                        format_count(shape.conv_elements), conv_b, dtype_name(kv.conv_state_dtype),
                        format_count(kv.state_bytes_per_request));
}
// ---- end per-request state ----

// ---- Sparse attention: indexer caches, DeepSeek V4's compressed KV (issue 14, 2026 MoE families) ----
// vLLM's DSA indexer key (GLM 5, DeepSeek V3.2 / V4): FP8 with one float32 scale per 128 elements.
std::uint64_t dsa_index_key_bytes(std::uint64_t dim) { return dim + (dim + 127) / 128 * 4; }
// DeepSeek V4 (vLLM's fp8_ds_mla layout for model_version deepseek_v4): 448 FP8 "nope" bytes + 64 bf16 rope values
// (128 B) + 8 bytes of scales = 584 B per stored entry, whatever --kv-cache-dtype says (vLLM serves V4 in FP8 only).
constexpr std::uint64_t kDeepseekV4EntryBytes = 584;

// DeepSeek V4: a layer of compress ratio r > 1 stores one 584-byte entry per r tokens, and a ratio-4 layer one
// indexer key per 4 tokens; every layer also keeps a sliding window of the last `sliding_window` tokens, a fixed
// amount per request that is not in the per-token figure. Rounded up to whole bytes per token.
void deepseek_v4_kv(KvCacheSpec& kv, const ModelArch& arch) {
  kv.mla = true;
  kv.mla_latent = arch.kv_lora_rank + arch.qk_rope_head_dim;
  kv.dtype = DType::Float8E4M3;
  std::uint64_t compressed = 0, c4 = 0, c128 = 0, other = 0;
  // Bytes per `span` tokens, span the product of the distinct ratios (exact for 4 and 128).
  std::uint64_t span = 1;
  for (auto r : arch.compress_ratios)
    if (r > 1 && span % r != 0) span = checked_mul(span, r, "KV bytes per token");
  std::uint64_t per_span = 0;
  const std::uint64_t index_key = dsa_index_key_bytes(arch.indexer_head_dim);
  for (std::size_t i = 0; i < arch.compress_ratios.size(); ++i) {
    const std::uint64_t r = arch.compress_ratios[i];
    if (r <= 1) continue;
    ++compressed;
    (r == 4 ? c4 : r == 128 ? c128 : other) += 1;
    per_span += span / r * kDeepseekV4EntryBytes;
    if (i < arch.indexer_layers.size() && arch.indexer_layers[i]) per_span += span / r * index_key;
  }
  kv.layers = compressed;
  kv.bytes_per_token = (per_span + span - 1) / span;
  const std::uint64_t window = arch.sliding_window.value_or(0);
  kv.formula = fmt::format(
      "DeepSeek V4 compressed KV in fp8_ds_mla (vLLM's only V4 format; every layer also keeps a {}-token window x "
      "584 B per request): {} layers of ratio 4 x (584 + {} indexer) B / 4 + {} layers of ratio 128 x 584 B / 128{} "
      "= {} B",
      window, c4, index_key, c128, other > 0 ? fmt::format(" + {} layers of other ratios", other) : std::string(),
      format_count(kv.bytes_per_token));
}

// Indexer keys beside the KV of each flagged layer (GLM 5's DSA: FP8 + scales; MiniMax M3: the KV dtype), and the
// FP8 layout vLLM gives DSA's MLA latent (fp8_ds_mla: 512 FP8 + 16 B of float32 scales + 64 bf16 rope = 656 B).
void add_indexer(KvCacheSpec& kv, const ModelArch& arch, std::uint64_t kv_bytes) {
  const std::uint64_t layers = arch.count_indexer_layers();
  if (layers == 0 || arch.indexer_head_dim == 0) return;
  if (arch.mla && arch.indexer_fp8 && kv_bytes == 1) {
    constexpr std::uint64_t kDsMlaBytes = 656;
    kv.bytes_per_token = checked_mul(kv.layers, kDsMlaBytes, "KV bytes per token");
    kv.formula = fmt::format("{} layers x 656 B (fp8_ds_mla: 512 FP8 latent + 16 B scales + 64 bf16 rope) = {} B",
                             kv.layers, format_count(kv.bytes_per_token));
  }
  const std::uint64_t key =
      arch.indexer_fp8 ? dsa_index_key_bytes(arch.indexer_head_dim) : arch.indexer_head_dim * kv_bytes;
  const std::uint64_t index = checked_mul(layers, key, "KV bytes per token");
  kv.bytes_per_token = checked_add(kv.bytes_per_token, index, "KV bytes per token");
  kv.formula += fmt::format(" + indexer keys: {} layers x {} B{} = {} B", layers, key,
                            arch.indexer_fp8 ? " (FP8 + float32 scale per 128)" : "", format_count(kv.bytes_per_token));
}
// ---- end sparse attention ----

}  // namespace

// ---- Per-request state (issue 14) ----
LayerStateShape layer_state_shape(const ModelArch& arch, std::uint64_t tp, std::uint64_t num_speculative_tokens) {
  LayerStateShape s;
  if (tp == 0) fail_input("--tensor-parallel-size must be positive");
  LayerKind kind = LayerKind::Mamba;
  for (auto k : arch.layer_kinds)
    if (holds_state_per_request(k)) {
      kind = k;
      break;
    }
  const auto rows = [&](std::uint64_t kernel, std::uint64_t spec) { return (kernel > 0 ? kernel - 1 : 0) + spec; };
  switch (kind) {
    case LayerKind::LinearAttention: {  // MambaStateShapeCalculator.gated_delta_net_state_shape
      const std::uint64_t conv_dim = 2 * arch.linear_num_key_heads * arch.linear_key_head_dim +
                                     arch.linear_num_value_heads * arch.linear_value_head_dim;
      s.conv_elements = conv_dim / tp * rows(arch.linear_conv_kernel, num_speculative_tokens);
      s.ssm_elements = std::max<std::uint64_t>(1, arch.linear_num_value_heads / tp) * arch.linear_value_head_dim *
                       arch.linear_key_head_dim;
      break;
    }
    case LayerKind::ShortConv:  // short_conv_state_shape: no SSM state
      s.conv_elements = arch.short_conv_dim / tp * rows(arch.short_conv_kernel, 0);
      break;
    default: {  // Mamba2: mamba2_state_shape
      const std::uint64_t conv_dim =
          arch.mamba_num_heads * arch.mamba_head_dim + 2 * arch.mamba_n_groups * arch.ssm_state_size;
      s.conv_elements = conv_dim / tp * rows(arch.mamba_conv_kernel, num_speculative_tokens);
      s.ssm_elements =
          std::max<std::uint64_t>(1, arch.mamba_num_heads / tp) * arch.mamba_head_dim * arch.ssm_state_size;
      break;
    }
  }
  return s;
}

std::uint64_t layer_state_bytes(const ModelArch& arch, const KvCacheSpec& kv, std::uint64_t tp,
                                std::uint64_t num_speculative_tokens) {
  if (arch.state_layers() == 0) return 0;
  const LayerStateShape s = layer_state_shape(arch, tp, num_speculative_tokens);
  const auto conv =
      checked_mul(s.conv_elements, static_cast<std::uint64_t>(dtype_bytes(kv.conv_state_dtype)), "state bytes");
  const auto ssm =
      checked_mul(s.ssm_elements, static_cast<std::uint64_t>(dtype_bytes(kv.ssm_state_dtype)), "state bytes");
  return checked_add(conv, ssm, "state bytes");
}
// ---- end per-request state ----

KvCacheSpec kv_cache_spec(const ModelArch& arch, const std::string& kv_cache_dtype, DType serving_dtype) {
  KvCacheSpec kv;
  kv.dtype_flag = kv_cache_dtype;
  kv.dtype = parse_kv_dtype(kv_cache_dtype, serving_dtype);
  const auto bytes = static_cast<std::uint64_t>(dtype_bytes(kv.dtype));
  kv.layers = arch.kv_layers();
  kv.head_dim = arch.head_dim;
  fill_state(kv, arch, serving_dtype);  // issue 14: state layers, reported beside bytes_per_token
  if (!arch.compress_ratios.empty()) {  // issue 14: DeepSeek V4's compressed KV
    deepseek_v4_kv(kv, arch);
    return kv;
  }
  if (arch.mla) {
    kv.mla = true;
    kv.mla_latent = arch.kv_lora_rank + arch.qk_rope_head_dim;
    kv.bytes_per_token =
        checked_mul(checked_mul(kv.layers, kv.mla_latent, "KV bytes per token"), bytes, "KV bytes per token");
    kv.formula = fmt::format("{} layers x ({} kv_lora_rank + {} qk_rope_head_dim) x {} B ({}) = {} B (MLA latent)",
                             kv.layers, arch.kv_lora_rank, arch.qk_rope_head_dim, bytes, dtype_name(kv.dtype),
                             format_count(kv.bytes_per_token));
    add_indexer(kv, arch, bytes);  // issue 14: GLM 5's DSA indexer keys
    return kv;
  }
  kv.kv_heads = arch.num_key_value_heads;
  const auto shapes = layer_shapes(arch, kv.shared_layers);
  kv.per_layer_shapes = shapes.size() > 1 || (shapes.size() == 1 && (shapes.begin()->first.kv_heads != kv.kv_heads ||
                                                                     shapes.begin()->first.head_dim != kv.head_dim ||
                                                                     shapes.begin()->first.v_head_dim != kv.head_dim));
  if (!kv.per_layer_shapes) {
    std::uint64_t b = checked_mul(2, kv.layers, "KV bytes per token");
    b = checked_mul(b, kv.kv_heads, "KV bytes per token");
    b = checked_mul(b, kv.head_dim, "KV bytes per token");
    kv.bytes_per_token = checked_mul(b, bytes, "KV bytes per token");
    kv.formula = fmt::format("2 x {} layers x {} kv_heads x {} head_dim x {} B ({}) = {} B", kv.layers, kv.kv_heads,
                             kv.head_dim, bytes, dtype_name(kv.dtype), format_count(kv.bytes_per_token));
  } else {
    // Sum over the distinct layer shapes: "(20 layers x 2 kv_heads x (256 + 256) + 4 layers x ...) x 2 B".
    std::uint64_t elements = 0;
    std::string terms;
    for (const auto& [shape, layers] : shapes) {
      elements =
          checked_add(elements, checked_mul(layers, shape.elements(), "KV bytes per token"), "KV bytes per token");
      terms += fmt::format("{}{} layers x {} kv_heads x ({} + {}) head_dims", terms.empty() ? "" : " + ", layers,
                           shape.kv_heads, shape.head_dim, shape.v_head_dim);
    }
    kv.bytes_per_token = checked_mul(elements, bytes, "KV bytes per token");
    kv.formula =
        fmt::format("({}) x {} B ({}) = {} B", terms, bytes, dtype_name(kv.dtype), format_count(kv.bytes_per_token));
  }
  if (kv.shared_layers > 0)
    kv.formula = fmt::format("{} layers hold KV, {} KV-shared layers read an earlier layer's: {}", kv.layers,
                             kv.shared_layers, kv.formula);
  add_indexer(kv, arch, bytes);  // issue 14: MiniMax M3's index keys
  return kv;
}

}  // namespace vramcalc
