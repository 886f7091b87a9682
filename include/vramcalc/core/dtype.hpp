// Data types of weights and caches, with their sizes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vramcalc {

enum class DType { Float32, Float16, BFloat16, Float8E4M3, Float8E5M2, Int8, Float64 };

// Bytes per element.
double dtype_bytes(DType t);
// Canonical name as vLLM / PyTorch spell it: "float32", "float16", "bfloat16", "fp8_e4m3", "fp8_e5m2", "int8",
// "float64".
std::string_view dtype_name(DType t);
// Accepts torch names ("torch.bfloat16", "bfloat16", "bf16", "half", "float", "fp16", "fp32", ...).
std::optional<DType> parse_torch_dtype(std::string_view name);

// Bytes of one element of a safetensors dtype ("BF16" -> 2, "F8_E4M3" -> 1, "I4"/"U4"/"F4" -> 0.5),
// or nullopt when unknown.
std::optional<double> safetensors_dtype_bytes(std::string_view name);

}  // namespace vramcalc
