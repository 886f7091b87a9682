// The memory layer, part 1: bytes the weights take in GPU memory, and where that figure came from.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/core/dtype.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

// Where the weight figure comes from, best first.
enum class WeightSource {
  Override,            // --weight-bytes
  SafetensorsHeaders,  // exact: every tensor's dtype and shape, from the shard headers
  SafetensorsIndex,    // metadata.total_size of model.safetensors.index.json
  CheckpointSize,      // pytorch_model.bin.index.json total, or a single checkpoint file's size
  CatalogSize,         // checkpoint size recorded in the bundled catalog
  ParameterCount,      // computed: parameter groups x bytes of the serving dtype (and quantization)
};
std::string_view weight_source_name(WeightSource s);  // "safetensors_headers", ...

struct WeightSettings {
  std::string dtype = "auto";                    // --dtype: auto|float16|bfloat16|float32
  std::optional<QuantScheme> load_quantization;  // --quantization applied at load time
  std::optional<double> params_b;                // --params-b: parameter count in billions
  std::optional<std::uint64_t> weight_bytes;     // --weight-bytes
  bool language_model_only = false;              // --language-model-only: the vision/audio towers are not loaded
};

struct WeightEstimate {
  std::uint64_t bytes = 0;  // weight bytes in GPU memory
  WeightSource source = WeightSource::ParameterCount;
  std::string source_detail;                // human explanation of how `bytes` was obtained
  std::uint64_t num_params = 0;             // logical parameter count
  std::string num_params_source;            // "architecture" or "--params-b"
  DType serving_dtype = DType::BFloat16;    // dtype unquantized weights are served in
  std::string serving_dtype_reason;         // "config torch_dtype bfloat16", "float32 checkpoint served as bfloat16"
  std::optional<QuantScheme> quantization;  // scheme in effect (checkpoint's or --quantization)
  std::uint64_t quantized_params = 0;       // parameters in converted groups
  std::uint64_t computed_bytes = 0;         // the parameter-count figure, for comparison with the chosen one
  std::map<std::string, std::uint64_t> stored_bytes_by_dtype;  // from headers, as stored on disk
  std::vector<std::string> warnings;
  // --language-model-only: the Vision-role groups (vision and audio towers, projectors) are left out of `bytes` and
  // `computed_bytes` (num_params still counts the whole checkpoint).
  bool language_model_only = false;
  std::uint64_t towers_left_out_bytes = 0;
};

// The dtype vLLM serves unquantized weights in for --dtype `flag` ("auto": the config's torch_dtype, with
// float32 served as bfloat16 and a missing dtype treated as float32). Throws Error(BadInput) for unknown names.
DType resolve_serving_dtype(const ModelArch& arch, const std::string& flag, std::string* reason);

// Bytes from the parameter groups: quantized groups per the scheme, the rest at `dtype`.
std::uint64_t weight_bytes_from_groups(const ModelArch& arch, const std::optional<QuantScheme>& scheme, DType dtype,
                                       std::uint64_t* quantized_params = nullptr);

// What the checkpoint tells of its own size, from its source (the report fills it: report/report.hpp).
struct CheckpointSizes {
  // Totals of the safetensors headers per dtype as stored ("BF16", "F8_E4M3", "U8", ...): exact, when read.
  std::map<std::string, std::uint64_t> header_bytes_by_dtype;
  std::map<std::string, std::uint64_t> header_elements_by_dtype;
  std::uint64_t header_total_bytes = 0;
  std::uint64_t header_tensors = 0;
  std::uint64_t header_files = 0;
  std::optional<std::uint64_t> index_total_size;       // metadata.total_size of model.safetensors.index.json
  std::optional<std::uint64_t> checkpoint_total_size;  // pytorch_model.bin.index.json total, or one file's size
  std::string checkpoint_total_source;                 // where checkpoint_total_size came from
  std::optional<std::uint64_t> catalog_weight_bytes;   // checkpoint bytes recorded in the bundled catalog
};

// Chooses the best available source for the weight figure and explains it.
WeightEstimate estimate_weights(const ModelArch& arch, const CheckpointSizes& sizes, const WeightSettings& settings);

}  // namespace vramcalc
