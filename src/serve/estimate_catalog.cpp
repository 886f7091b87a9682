// GET /known-architectures and GET / (serve/estimate.hpp): the bundled catalog's architectures, and what the API is.
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "serve/estimate.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/model/architecture.hpp"
#include "vramcalc/sources/catalog.hpp"

#ifndef VRAMCALC_VERSION
#define VRAMCALC_VERSION "0"
#endif

namespace vramcalc::serve {

nlohmann::json model_shape_json(const ModelArch& a, std::uint64_t num_params) {
  nlohmann::json j = {
      {"num_layers", a.num_hidden_layers},
      {"hidden_size", a.hidden_size},
      {"num_heads", a.num_attention_heads},
      {"head_dim", a.head_dim},
      {"intermediate_size", a.intermediate_size},
      {"num_kv_heads", a.num_key_value_heads},
      {"vocab_size", a.vocab_size},
      {"model_type", a.model_type},
      {"params_billions", std::round(static_cast<double>(num_params) / 1e7) / 100.0},
  };
  if (a.num_experts > 0) {
    j["num_experts"] = a.num_experts;
    j["experts_per_token"] = a.experts_per_token;
  }
  return j;
}

namespace {

nlohmann::json catalog_architectures() {
  const ModelCatalog catalog = ModelCatalog::load(find_data_file("models.json"));
  nlohmann::json models = nlohmann::json::object();
  std::map<std::string, std::vector<std::string>> by_architecture;
  std::map<std::string, std::vector<std::string>> by_family;
  for (const auto& m : catalog.models()) {
    const ModelArch a = normalize_config(m.config, m.id);
    const std::string architecture = a.architecture.empty() ? a.model_type : a.architecture;
    const std::string family = a.text_model_type.empty() ? a.model_type : a.text_model_type;
    nlohmann::json entry = model_shape_json(a, m.num_params.value_or(a.num_params()));
    entry["architecture"] = architecture;
    entry["family"] = family;
    entry["max_position_embeddings"] =
        a.max_position_embeddings ? nlohmann::json(*a.max_position_embeddings) : nlohmann::json(nullptr);
    entry["aliases"] = m.aliases;
    models[m.id] = std::move(entry);
    by_architecture[architecture].push_back(m.id);
    by_family[family].push_back(m.id);
  }
  return {{"catalog_date", catalog.generated()},
          {"count", catalog.models().size()},
          {"architectures", by_architecture},
          {"families", by_family},
          {"models", models},
          {"unknown_models",
           "a model in neither the catalog, the caches nor (with --allow-hub) the Hub has its architecture estimated "
           "from params_billions or a size in its name (-7b, 8x7B): GET / says how"}};
}

nlohmann::json example_request() {
  return {{"model_name", "meta-llama/Llama-3.1-8B"},
          {"max_seq_len", 4096},
          {"dtype", "float16"},
          {"max_batch_size", 32},
          {"gpu_memory_utilization", 0.9}};
}

nlohmann::json example_estimated_request() {
  return {{"model_name", "my-org/my-model-13b"}, {"max_seq_len", 2048}, {"max_batch_size", 8}};
}

// The example responses, computed once (the catalog's model: no network).
nlohmann::json example_response(const nlohmann::json& request) {
  try {
    return estimate_gpu_memory(request, EstimateContext{false});
  } catch (const std::exception& e) {
    return {{"error", e.what()}};
  }
}

nlohmann::json endpoints() {
  return nlohmann::json::array({
      {{"method", "POST"},
       {"path", "/estimate-gpu-memory"},
       {"description", "GPU memory for serving a model with vLLM: the vLLM memory-calculator API's fields"}},
      {{"method", "POST"},
       {"path", "/plan"},
       {"description",
        "the command line's options as JSON ({\"model\": ..., \"sku\": ..., \"max-model-len\": ...}); "
        "answers exactly what `vram-calc --format json` prints"}},
      {{"method", "GET"}, {"path", "/known-architectures"}, {"description", "the bundled catalog's architectures"}},
      {{"method", "GET"}, {"path", "/skus"}, {"description", "the GPU and instance catalog"}},
      {{"method", "GET"}, {"path", "/ui"}, {"description", "a page that draws a plan's per-GPU memory"}},
      {{"method", "GET"}, {"path", "/healthz"}, {"description", "liveness: \"ok\""}},
      {{"method", "GET"}, {"path", "/metrics"}, {"description", "Prometheus text: requests, errors, latency"}},
      {{"method", "GET"}, {"path", "/"}, {"description", "this description"}},
  });
}

nlohmann::json request_fields() {
  return {
      {"model_name", "string, required: a catalog or Hugging Face id (org/name); never a local path"},
      {"max_seq_len", "integer, required: tokens per sequence"},
      {"dtype", "float16 (default), bfloat16, float32, auto (the checkpoint's), int8 (= quantization Q8), int4 (= Q4)"},
      {"kv_cache_dtype", "auto (default: as the weights), float16, bfloat16, float32, fp8, fp8_e4m3, fp8_e5m2"},
      {"max_batch_size", "integer, default 32: sequences at once (vLLM's max_num_seqs)"},
      {"max_model_len", "integer, default max_seq_len: the server's longest sequence (at least max_seq_len)"},
      {"gpu_memory_utilization", "number in (0, 1], default 0.9"},
      {"quantization", "Q4 (GPTQ 4-bit, group 128), Q8 (int8), fp8, awq, gptq, int8, bitsandbytes, or null"},
      {"params_billions", "number: the parameter count the weights are sized from, and an unknown model's size"},
      {"architecture",
       "object of num_layers, hidden_size, num_heads, head_dim, intermediate_size, num_kv_heads (config.json's "
       "llama-style fields, replacing the model's)"},
      {"max_num_batched_tokens", "integer, default max(2048, max_batch_size): tokens of one profile-run batch"},
      {"enforce_eager", "boolean, default false: no CUDA graphs"},
      {"sku", "a GPU or instance name (GET /skus), a comma list or all: adds `plan`, the CLI's JSON"},
      {"gpu_memory", "per-GPU memory (\"80GiB\", or a number of GiB) instead of a SKU: adds `plan`"},
      {"engine", "vllm (default) or tgi: the memory model of `plan`"},
      {"estimator", "vllm (default), kaito or wizard: the memory model of `plan` under engine vllm"},
  };
}

nlohmann::json formulas_text() {
  return {
      {"model_params_memory_gb",
       "the weights: the checkpoint's size where known (safetensors headers, index, catalog), else every parameter "
       "group at the dtype's bytes, quantized groups at the scheme's bits plus scales"},
      {"activation_memory_gb",
       "vLLM's profile-run peak for max_num_batched_tokens T and B sequences: the larger of the forward pass over T "
       "tokens through the widest layer and the sampler's float32 logits over min(B, T) x vocabulary, plus a constant; "
       "coefficients fitted on vLLM's startup logs (each response's `formulas` shows them with their numbers)"},
      {"min_kv_cache_memory_gb", "B x one PagedAttention block (16 tokens; 64 for MLA) in every KV layer"},
      {"max_kv_cache_memory_gb",
       "B x max_seq_len tokens x KV bytes per token (2 x layers x KV heads x head_dim x the KV dtype's bytes; MLA: "
       "layers x latent; sliding-window layers hold their window)"},
      {"cuda_overhead_gb",
       "vLLM's non-PyTorch memory (cuBLAS workspaces and the like) + its CUDA-graph estimate for the capture sizes "
       "up to B (0 with enforce_eager)"},
      {"total_min_memory_gb", "model_params + activation + min_kv_cache + cuda_overhead"},
      {"total_max_memory_gb", "model_params + activation + max_kv_cache + cuda_overhead"},
      {"recommended_memory_gb",
       "total_max / gpu_memory_utilization: vLLM may use that share of the GPU; the rest holds the CUDA context "
       "(about 0.5 GiB)"},
  };
}

nlohmann::json description() {
  const nlohmann::json request = example_request();
  const nlohmann::json estimated = example_estimated_request();
  return {
      {"name", "vram-calc"},
      {"version", VRAMCALC_VERSION},
      {"description",
       "GPU memory for serving LLMs with vLLM (and TGI): the vLLM memory-calculator API's POST /estimate-gpu-memory, "
       "and vram-calc's own plan (POST /plan), from one engine"},
      {"endpoints", endpoints()},
      {"units",
       {{"_gb",
         "GiB (2^30 bytes), per GPU of a single-GPU deployment (tensor parallel size 1), rounded to 2 "
         "decimals, as everything vram-calc prints per GPU"},
        {"bytes", "the same figures as exact byte counts"}}},
      {"request_fields", request_fields()},
      {"formulas", formulas_text()},
      {"unknown_models",
       "a model in neither the catalog, the caches nor (with --allow-hub) the Hub: a llama-style architecture is "
       "estimated from params_billions or a size in the name (-7b, 70B, 1.5b, 8x7B): layers and heads by size range, "
       "the hidden size solving the parameter count's quadratic, intermediate 3.5 x hidden, 8 KV heads, vocabulary "
       "32000; `warning` says so"},
      {"errors",
       "400 {\"error\", \"field\"} for invalid input (wrong type, missing or non-positive length or batch, "
       "utilization outside (0, 1], unknown dtype or quantization, malformed JSON, a body over 1 MiB); 404 unknown "
       "path; 405 wrong method; 502 a Hub failure"},
      {"example",
       {{"request", request},
        {"response", example_response(request)},
        {"curl", fmt::format("curl -s localhost:8000/estimate-gpu-memory -d '{}'", request.dump())}}},
      {"example_unknown_model", {{"request", estimated}, {"response", example_response(estimated)}}},
  };
}

}  // namespace

nlohmann::json known_architectures() {
  static const nlohmann::json answer = catalog_architectures();
  return answer;
}

nlohmann::json api_description() {
  static const nlohmann::json answer = description();
  return answer;
}

}  // namespace vramcalc::serve
