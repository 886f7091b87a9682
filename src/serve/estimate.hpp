// The vLLM memory-calculator API (POST /estimate-gpu-memory, GET /known-architectures, GET /): the seed service's
// field names and defaults, vram-calc's engine behind them. Private to the server.
//
// Every `_gb` figure is GiB (2^30 bytes), per GPU of a single-GPU (TP 1) deployment, rounded to 2 decimals; `bytes`
// holds the exact integers. With B = max_batch_size, S = max_seq_len, u = gpu_memory_utilization:
//   model_params    the weights in GPU memory (memory/weights.hpp: the checkpoint's size, or the parameter groups at
//                   the dtype and quantization) with the rotary tables vLLM loads beside them (engines/vllm/rotary.hpp)
//   activation      vLLM's profile-run peak for B sequences and max_num_batched_tokens (engines/vllm/profile.hpp)
//   min_kv_cache    B x one KV block (block_size tokens, 16; 64 for MLA) in every layer (engines/vllm/kv_pages.hpp)
//   max_kv_cache    B x the KV cache of one sequence of S tokens
//   cuda_overhead   vLLM's non-PyTorch memory + its CUDA-graph estimate (engines/vllm/cudagraph.hpp; 0 with
//                   enforce_eager)
//   total_min = model_params + activation + min_kv_cache + cuda_overhead, total_max likewise with max_kv_cache,
//   recommended = total_max / u.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vramcalc/model/architecture.hpp"
#include "vramcalc/sources/local.hpp"

namespace vramcalc::serve {

// What the estimate may use beyond the request.
struct EstimateContext {
  bool allow_hub = false;  // models may be fetched from the Hub (else catalog and caches only)
};

// POST /estimate-gpu-memory: the request body (already parsed JSON) to the response object. Throws ApiError: 400
// naming the field for invalid input, 502 for a remote failure.
nlohmann::json estimate_gpu_memory(const nlohmann::json& request, const EstimateContext& context);

// The shape fields both answers give a model (layers, widths, heads, vocabulary, model_type, params_billions from
// `num_params`, and num_experts / experts_per_token for a MoE model); each adds its own.
nlohmann::json model_shape_json(const ModelArch& arch, std::uint64_t num_params);

// GET /known-architectures: the catalog's architectures and families.
nlohmann::json known_architectures();

// GET /: what the API is, its endpoints, an example request and response, the units and formulas, as JSON.
nlohmann::json api_description();

// ---- The pieces of estimate_gpu_memory (estimate_request.cpp, estimate_model.cpp) ----

// The seed's defaults.
inline constexpr const char* kDefaultEstimateDtype = "float16";
inline constexpr std::uint64_t kDefaultMaxBatchSize = 32;
inline constexpr double kDefaultEstimateUtilization = 0.9;
// vLLM's max_num_batched_tokens for the OpenAI server on a GPU under 70 GiB (its chunked-prefill default); raised to
// max_batch_size when that is larger, as vLLM requires max_num_batched_tokens >= max_num_seqs.
inline constexpr std::uint64_t kDefaultEstimateBatchedTokens = 2048;
// A model that needs more than this (recommended memory) is said to need more than one GPU of the H100 / A100 class.
inline constexpr double kLargeModelGiB = 80;

// A request, checked: every field present and of the right type and range.
struct EstimateRequest {
  std::string model_name;
  std::uint64_t max_seq_len = 0;
  std::string dtype = kDefaultEstimateDtype;  // as the request names it
  std::string weight_dtype = "float16";       // --dtype: auto, float16, bfloat16 or float32 (int8 / int4: float16)
  std::optional<std::string> kv_cache_dtype;  // --kv-cache-dtype; nullopt: as the weights
  std::uint64_t max_batch_size = kDefaultMaxBatchSize;
  std::uint64_t max_model_len = 0;  // max_seq_len when not given
  double gpu_memory_utilization = kDefaultEstimateUtilization;
  std::optional<std::string> quantization;  // --quantization (Q4, Q8, fp8, awq, gptq, int8, bitsandbytes)
  std::optional<double> params_billions;
  // architecture overrides, by the request's key (num_layers, hidden_size, num_heads, head_dim, intermediate_size,
  // num_kv_heads)
  std::map<std::string, std::uint64_t> architecture;
  // Beyond the seed.
  std::optional<std::uint64_t> max_num_batched_tokens;
  bool enforce_eager = false;
  std::optional<std::string> sku;
  std::optional<std::string> gpu_memory;  // as --gpu-memory takes it ("80GiB"); a number is GiB
  std::optional<std::string> engine;
  std::optional<std::string> estimator;
};

// Checks the body. Throws ApiError(400) naming the field: a body that is not an object, an unknown key, a wrong
// type, a missing model_name or max_seq_len, a non-positive length or batch, a utilization outside (0, 1], an
// unknown dtype, KV cache dtype, quantization, engine or estimator.
EstimateRequest parse_estimate_request(const nlohmann::json& body);

// The config keys of the architecture overrides (num_layers -> num_hidden_layers, ...), in the request's order.
const std::vector<std::pair<std::string, std::string>>& architecture_fields();

// The model an estimate is made for.
struct EstimateModel {
  ModelInput input;
  bool estimated = false;             // the architecture is estimated (the model was not found)
  std::string estimate_note;          // what was estimated and from what, for `warning`
  std::string estimate_hint;          // " Did you mean ...?" (catalog ids close to the name), or ""
  bool resolved_as_cli = false;       // the CLI reads the same model: a `plan` can be made for it
  std::vector<std::string> warnings;  // about the overrides
};

// Resolves the request's model as the CLI does (catalog, caches, the Hub when `context` allows it; never a local
// path), or estimates its architecture when it is found nowhere; then applies the architecture overrides. Throws
// ApiError: 400 for a local path, or an unknown model with no size to estimate from; 502 for a Hub failure other
// than "not found".
EstimateModel estimate_model(const EstimateRequest& request, const EstimateContext& context);

// `plan` (with sku or gpu_memory): the object `vram-calc --format json` prints for the request's model and settings
// (cli::run_plan_command; the flags it ran with in `plan_command`), or null with a warning where the CLI cannot read
// the model (an estimated architecture, architecture overrides). Throws ApiError(400) naming the field for what the
// CLI refuses (an unknown SKU, ...), 502 for a remote failure.
void add_cli_plan(nlohmann::json& response, const EstimateRequest& request, const EstimateModel& model,
                  const EstimateContext& context);
// The CLI's arguments for that plan (without the program name).
std::vector<std::string> cli_plan_arguments(const EstimateRequest& request, const EstimateContext& context);

// The request field a message of the CLI or the engine is about ("--sku: ..." -> "sku"); `fallback` when none.
std::string estimate_field_of(const std::string& message, const std::string& fallback);

}  // namespace vramcalc::serve
