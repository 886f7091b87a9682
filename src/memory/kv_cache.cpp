#include "vramcalc/memory/kv_cache.hpp"

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

}  // namespace

KvCacheSpec kv_cache_spec(const ModelArch& arch, const std::string& kv_cache_dtype, DType serving_dtype) {
  KvCacheSpec kv;
  kv.dtype_flag = kv_cache_dtype;
  kv.dtype = parse_kv_dtype(kv_cache_dtype, serving_dtype);
  const auto bytes = static_cast<std::uint64_t>(dtype_bytes(kv.dtype));
  kv.layers = arch.kv_layers();
  kv.head_dim = arch.head_dim;
  if (arch.mla) {
    kv.mla = true;
    kv.mla_latent = arch.kv_lora_rank + arch.qk_rope_head_dim;
    kv.bytes_per_token =
        checked_mul(checked_mul(kv.layers, kv.mla_latent, "KV bytes per token"), bytes, "KV bytes per token");
    kv.formula = fmt::format("{} layers x ({} kv_lora_rank + {} qk_rope_head_dim) x {} B ({}) = {} B (MLA latent)",
                             kv.layers, arch.kv_lora_rank, arch.qk_rope_head_dim, bytes, dtype_name(kv.dtype),
                             format_count(kv.bytes_per_token));
    return kv;
  }
  kv.kv_heads = arch.num_key_value_heads;
  std::uint64_t b = checked_mul(2, kv.layers, "KV bytes per token");
  b = checked_mul(b, kv.kv_heads, "KV bytes per token");
  b = checked_mul(b, kv.head_dim, "KV bytes per token");
  kv.bytes_per_token = checked_mul(b, bytes, "KV bytes per token");
  kv.formula = fmt::format("2 x {} layers x {} kv_heads x {} head_dim x {} B ({}) = {} B", kv.layers, kv.kv_heads,
                           kv.head_dim, bytes, dtype_name(kv.dtype), format_count(kv.bytes_per_token));
  return kv;
}

}  // namespace vramcalc
