// Quantization schemes and what they do to weight bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vramcalc/core/dtype.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

// Parses a checkpoint's quantization_config (GPTQ, AWQ, fp8, fbgemm_fp8, compressed-tensors, mxfp4,
// bitsandbytes; and the 2026 formats: ModelOpt NVFP4 / FP8 / MIXED_PRECISION, also in hf_quant_config.json's
// shape, compressed-tensors NVFP4 ("nvfp4-pack-quantized") and MXFP4/MXFP8 groups, AutoRound). Throws
// Error(BadInput) naming the origin when the object is malformed; an unknown quant_method yields Method::None with
// method_name set (the caller warns).
QuantScheme parse_quantization_config(const nlohmann::json& qc, std::string_view origin);

// The scheme vLLM's --quantization NAME applies at load time to an unquantized checkpoint
// (fp8, awq, gptq, int8, bitsandbytes; the vLLM memory-calculator API's Q8 and Q4 too). nullopt for an unknown name.
std::optional<QuantScheme> quantization_flag_scheme(std::string_view name);

// True when `scheme` converts this group (a linear layer not kept unquantized by role or ignore list).
bool group_is_quantized(const WeightGroup& g, const QuantScheme& scheme);

// Bytes of a group in GPU memory: quantized matrices at the scheme's bits plus their scales, zero points
// and indices; everything else (biases, norms, unconverted layers) at `dtype`.
double group_bytes(const WeightGroup& g, const QuantScheme& scheme, DType dtype);

// "GPTQ 4-bit, group 128" style description for output.
std::string describe_scheme(const QuantScheme& scheme);

}  // namespace vramcalc
