#include "vramcalc/memory/weights.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/model/quantization.hpp"

namespace vramcalc {

std::string_view weight_source_name(WeightSource s) {
  switch (s) {
    case WeightSource::Override: return "override";
    case WeightSource::SafetensorsHeaders: return "safetensors_headers";
    case WeightSource::SafetensorsIndex: return "safetensors_index";
    case WeightSource::CheckpointSize: return "checkpoint_size";
    case WeightSource::CatalogSize: return "catalog";
    case WeightSource::ParameterCount: return "parameter_count";
  }
  return "unknown";
}

DType resolve_serving_dtype(const ModelArch& arch, const std::string& flag, std::string* reason) {
  auto say = [&](std::string text) {
    if (reason != nullptr) *reason = std::move(text);
  };
  if (flag != "auto") {
    auto t = parse_torch_dtype(flag);
    if (!t || (*t != DType::Float16 && *t != DType::BFloat16 && *t != DType::Float32))
      fail_input(fmt::format("--dtype: \"{}\" is not one of auto, float16, bfloat16, float32", flag));
    say(fmt::format("--dtype {}", dtype_name(*t)));
    return *t;
  }
  // vLLM's "auto": the checkpoint's dtype, except that float32 checkpoints (or configs without a dtype,
  // which transformers reads as float32) are served in bfloat16.
  if (!arch.config_dtype) {
    say("no torch_dtype in config: treated as float32, served as bfloat16 as vLLM does");
    return DType::BFloat16;
  }
  if (*arch.config_dtype == DType::Float32 || *arch.config_dtype == DType::Float64) {
    say(fmt::format("{} checkpoint served as bfloat16, as vLLM does", dtype_name(*arch.config_dtype)));
    return DType::BFloat16;
  }
  if (*arch.config_dtype == DType::Float16 || *arch.config_dtype == DType::BFloat16) {
    say(fmt::format("config torch_dtype {}", dtype_name(*arch.config_dtype)));
    return *arch.config_dtype;
  }
  say(fmt::format("config torch_dtype {} is not a serving dtype: bfloat16 assumed", dtype_name(*arch.config_dtype)));
  return DType::BFloat16;
}

std::uint64_t weight_bytes_from_groups(const ModelArch& arch, const std::optional<QuantScheme>& scheme, DType dtype,
                                       std::uint64_t* quantized_params) {
  const QuantScheme none;
  const QuantScheme& s = scheme ? *scheme : none;
  double total = 0;
  std::uint64_t converted = 0;
  for (const auto& g : arch.weights) {
    total += group_bytes(g, s, dtype);
    if (group_is_quantized(g, s)) converted += g.params();
  }
  if (quantized_params != nullptr) *quantized_params = converted;
  return round_bytes(total, "weight bytes");
}

namespace {

bool is_float_storage(const std::string& st_dtype) {
  return st_dtype == "F64" || st_dtype == "F32" || st_dtype == "F16" || st_dtype == "BF16";
}

// Bytes of a stored total once its floating-point tensors are cast to the serving dtype.
// Only possible when the checkpoint is unquantized and its dtype is known.
std::optional<std::uint64_t> recast_total(std::uint64_t stored, const ModelArch& arch, DType serving, bool quantized) {
  if (quantized) return stored;
  if (!arch.config_dtype) return std::nullopt;
  const double ratio = dtype_bytes(serving) / dtype_bytes(*arch.config_dtype);
  return round_bytes(static_cast<double>(stored) * ratio, "weight bytes");
}

}  // namespace

namespace {

// Every weight the checkpoint holds, from the best source (estimate_weights leaves the towers out when asked).
WeightEstimate estimate_checkpoint_weights(const ModelArch& arch, const CheckpointSizes& sizes,
                                           const WeightSettings& settings) {
  WeightEstimate w;
  w.serving_dtype = resolve_serving_dtype(arch, settings.dtype, &w.serving_dtype_reason);

  // The quantization in effect: the checkpoint's, or the one --quantization applies at load time.
  if (settings.load_quantization) {
    if (arch.quant.active() && arch.quant.method != settings.load_quantization->method)
      fail_input(fmt::format("--quantization {}: the checkpoint is already quantized ({}); drop the flag",
                             settings.load_quantization->method_name, describe_scheme(arch.quant)));
    w.quantization = arch.quant.active() ? arch.quant : *settings.load_quantization;
  } else if (arch.quant.active()) {
    w.quantization = arch.quant;
  } else if (!arch.quant.method_name.empty()) {
    w.warnings.push_back(
        fmt::format("quantization method '{}' is not one vram-calc knows: weights are sized as "
                    "unquantized {} (likely an overestimate)",
                    arch.quant.method_name, dtype_name(w.serving_dtype)));
  }
  const bool quantized = w.quantization.has_value();

  w.computed_bytes = weight_bytes_from_groups(arch, w.quantization, w.serving_dtype, &w.quantized_params);
  w.num_params = arch.num_params();
  w.num_params_source = "architecture";
  if (settings.params_b) {
    if (!std::isfinite(*settings.params_b) || *settings.params_b <= 0 || *settings.params_b > 1e6)
      fail_input(
          fmt::format("--params-b: {} is not a parameter count in billions (0 < N <= 1000000)", *settings.params_b));
    const std::uint64_t overridden = round_bytes(*settings.params_b * 1e9, "--params-b");
    // Keep the architecture's mix of quantized and unquantized groups, scaled to the stated count.
    const double scale =
        static_cast<double>(overridden) / static_cast<double>(std::max<std::uint64_t>(w.num_params, 1));
    w.computed_bytes = round_bytes(static_cast<double>(w.computed_bytes) * scale, "weight bytes");
    w.quantized_params = round_bytes(static_cast<double>(w.quantized_params) * scale, "parameters");
    w.num_params = overridden;
    w.num_params_source = "--params-b";
  }
  w.stored_bytes_by_dtype = sizes.header_bytes_by_dtype;

  const std::string quant_note = quantized ? fmt::format(", {}", describe_scheme(*w.quantization)) : std::string();
  if (settings.weight_bytes) {
    w.bytes = *settings.weight_bytes;
    w.source = WeightSource::Override;
    w.source_detail = "--weight-bytes";
    return w;
  }
  if (settings.params_b || (settings.load_quantization && !arch.quant.active())) {
    w.bytes = w.computed_bytes;
    w.source = WeightSource::ParameterCount;
    w.source_detail = fmt::format("{} parameters ({}) x {}{}", format_count(w.num_params), w.num_params_source,
                                  dtype_name(w.serving_dtype), quant_note);
    if (settings.load_quantization && !arch.quant.active()) w.source_detail += " applied at load time";
    return w;
  }
  if (sizes.header_total_bytes > 0) {
    // Exact: floating-point tensors are cast to the serving dtype, packed/quantized tensors kept as stored.
    double bytes = 0;
    for (const auto& [dtype, stored] : sizes.header_bytes_by_dtype) {
      if (is_float_storage(dtype)) {
        const std::uint64_t elements = sizes.header_elements_by_dtype.at(dtype);
        bytes += static_cast<double>(elements) * dtype_bytes(w.serving_dtype);
      } else {
        bytes += static_cast<double>(stored);
      }
    }
    w.bytes = round_bytes(bytes, "weight bytes");
    w.source = WeightSource::SafetensorsHeaders;
    w.source_detail = fmt::format("{} tensors in {} safetensors file(s), floating-point tensors as {}",
                                  format_count(sizes.header_tensors), sizes.header_files, dtype_name(w.serving_dtype));
    return w;
  }
  auto from_total = [&](std::uint64_t stored, WeightSource source, std::string what) {
    auto recast = recast_total(stored, arch, w.serving_dtype, quantized);
    if (!recast) return false;
    w.bytes = *recast;
    w.source = source;
    w.source_detail = *recast == stored ? what
                                        : fmt::format("{} ({} stored as {}, scaled to {})", what, format_count(stored),
                                                      dtype_name(*arch.config_dtype), dtype_name(w.serving_dtype));
    return true;
  };
  if (sizes.index_total_size && from_total(*sizes.index_total_size, WeightSource::SafetensorsIndex,
                                           "metadata.total_size of model.safetensors.index.json"))
    return w;
  if (sizes.checkpoint_total_size &&
      from_total(*sizes.checkpoint_total_size, WeightSource::CheckpointSize, sizes.checkpoint_total_source))
    return w;
  if (sizes.catalog_weight_bytes &&
      from_total(*sizes.catalog_weight_bytes, WeightSource::CatalogSize, "checkpoint size recorded in the catalog"))
    return w;
  w.bytes = w.computed_bytes;
  w.source = WeightSource::ParameterCount;
  w.source_detail =
      fmt::format("{} parameters x {}{}", format_count(w.num_params), dtype_name(w.serving_dtype), quant_note);
  return w;
}

// --language-model-only (vLLM's flag): the vision and audio towers are not loaded. They are never quantized (kept in
// the serving dtype), so their bytes come off every figure exactly; --weight-bytes is taken as given.
void leave_out_towers(WeightEstimate& w, const ModelArch& arch) {
  w.language_model_only = true;
  const std::uint64_t params = arch.params_with_role(WeightRole::Vision);
  if (params == 0) {
    w.warnings.push_back("--language-model-only: the model has no vision or audio tower to leave out");
    return;
  }
  const std::uint64_t towers = round_bytes(static_cast<double>(params) * dtype_bytes(w.serving_dtype), "weight bytes");
  w.towers_left_out_bytes = towers;
  w.computed_bytes -= std::min(w.computed_bytes, towers);
  if (w.source == WeightSource::Override) return;
  w.bytes -= std::min(w.bytes, towers);
  w.source_detail += fmt::format(", less the vision/audio towers ({} parameters x {}: --language-model-only)",
                                 format_count(params), dtype_name(w.serving_dtype));
}

}  // namespace

WeightEstimate estimate_weights(const ModelArch& arch, const CheckpointSizes& sizes, const WeightSettings& settings) {
  WeightEstimate w = estimate_checkpoint_weights(arch, sizes, settings);
  if (settings.language_model_only) leave_out_towers(w, arch);
  return w;
}

}  // namespace vramcalc
