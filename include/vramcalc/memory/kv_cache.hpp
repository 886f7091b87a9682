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
  std::uint64_t bytes_per_token = 0;  // for the whole model, all layers, one token
  std::string formula;                // the formula with its numbers, for the breakdown
};

// KV bytes per token:
//   standard: 2 (K and V) x layers holding KV x kv_heads x head_dim x dtype bytes
//   MLA:      layers x (kv_lora_rank + qk_rope_head_dim) x dtype bytes
// --kv-cache-dtype: auto (= serving dtype), fp8 / fp8_e4m3 / fp8_e5m2 (1 byte), float16 / bfloat16 / float32.
// Throws Error(BadInput) for other names.
KvCacheSpec kv_cache_spec(const ModelArch& arch, const std::string& kv_cache_dtype, DType serving_dtype);

}  // namespace vramcalc
