// The memory layer, part 2: KV-cache bytes per token. Pure functions of the description and settings.
#pragma once

#include <cstdint>
#include <string>

#include "vramcalc/core/dtype.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

struct KvCacheSpec {
  std::string dtype_flag;         // --kv-cache-dtype as given ("auto", "fp8", ...)
  DType dtype = DType::BFloat16;  // element type of the cache
  std::uint64_t layers = 0;       // layers holding KV per token
  std::uint64_t kv_heads = 0;     // KV heads per layer (0 for MLA)
  std::uint64_t head_dim = 0;
  bool mla = false;  // one latent per token: kv_lora_rank + qk_rope_head_dim elements, no x2
  std::uint64_t mla_latent = 0;
  std::uint64_t shared_layers = 0;  // layers reading another layer's KV (Gemma 4's KV sharing): no cache of their own
  bool per_layer_shapes = false;    // layers differ in KV heads or head size (Gemma 4); kv_heads, head_dim: the globals
  std::uint64_t bytes_per_token = 0;  // for the whole model, all layers, one token
  std::string formula;                // the formula with its numbers, for the breakdown
  // ---- Per-request state (issue 14) ----
  // Layers with a fixed state per request (Mamba2, Gated DeltaNet linear attention, short convolutions) are not in
  // bytes_per_token: each keeps, per request, a conv state in the model dtype (vLLM's mamba_cache_dtype "auto") and,
  // Mamba and Gated DeltaNet, an SSM / recurrent state in mamba_ssm_cache_dtype (Qwen 3.5: float32), whatever the
  // KV cache dtype.
  std::uint64_t state_layers = 0;
  DType conv_state_dtype = DType::BFloat16;
  DType ssm_state_dtype = DType::BFloat16;
  std::uint64_t state_bytes_per_request = 0;  // all state layers, one request, the whole model (TP 1)
  std::string state_formula;                  // "" when there are no state layers
  // ---- end per-request state ----
};

// KV bytes per token:
//   standard: 2 (K and V) x layers holding KV x kv_heads x head_dim x dtype bytes; where layers differ (Gemma 4's
//             sliding and global layers), the sum over layers of kv_heads x (head_dim + v_head_dim) x dtype bytes.
//             Layers that read another layer's cache (KV sharing) add nothing.
//   MLA:      layers x (kv_lora_rank + qk_rope_head_dim) x dtype bytes
// --kv-cache-dtype: auto (= serving dtype), fp8 / fp8_e4m3 / fp8_e5m2 (1 byte), float16 / bfloat16 / float32.
// Throws Error(BadInput) for other names.
KvCacheSpec kv_cache_spec(const ModelArch& arch, const std::string& kv_cache_dtype, DType serving_dtype);

// ---- Per-request state (issue 14) ----
// One state layer's state on one GPU of `tp` tensor-parallel ranks, in elements, as vLLM's MambaStateShapeCalculator
// shapes it. Conv state: the conv channels split by TP, times kernel - 1 rows (+ num_speculative_tokens for Mamba2 and
// Gated DeltaNet). SSM / recurrent state, per head split by TP: Mamba2 heads x head_dim x ssm_state_size; Gated
// DeltaNet value heads x value head dim x key head dim; none for short convolutions.
struct LayerStateShape {
  std::uint64_t conv_elements = 0;
  std::uint64_t ssm_elements = 0;
};
LayerStateShape layer_state_shape(const ModelArch& arch, std::uint64_t tp, std::uint64_t num_speculative_tokens = 0);
// Bytes of that state (vLLM's MambaSpec page before padding): conv elements at conv_state_dtype, SSM elements at
// ssm_state_dtype. 0 for a model without state layers.
std::uint64_t layer_state_bytes(const ModelArch& arch, const KvCacheSpec& kv, std::uint64_t tp,
                                std::uint64_t num_speculative_tokens = 0);
// ---- end per-request state ----

}  // namespace vramcalc
