// Checking a POST /estimate-gpu-memory body (serve/estimate.hpp): each field's type and range, the seed's defaults.
#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "serve/api_error.hpp"
#include "serve/estimate.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/core/text.hpp"
#include "vramcalc/engines/method.hpp"
#include "vramcalc/model/quantization.hpp"

namespace vramcalc::serve {

namespace {

// The longest context, batch and architecture value a request may ask for: far above any real model, low enough that
// the products (sequences x tokens x bytes per token) stay within 64 bits.
constexpr std::uint64_t kMaxTokens = std::uint64_t{1} << 24;
constexpr std::uint64_t kMaxBatch = std::uint64_t{1} << 16;
constexpr std::uint64_t kMaxArchitectureValue = std::uint64_t{1} << 20;
constexpr std::size_t kMaxNameBytes = 256;

constexpr std::array kKnownKeys = {"model_name",
                                   "max_seq_len",
                                   "dtype",
                                   "kv_cache_dtype",
                                   "max_batch_size",
                                   "max_model_len",
                                   "gpu_memory_utilization",
                                   "quantization",
                                   "params_billions",
                                   "architecture",
                                   "max_num_batched_tokens",
                                   "enforce_eager",
                                   "sku",
                                   "gpu_memory",
                                   "engine",
                                   "estimator"};

// dtype: the seed's names (float32, float16, bfloat16, int8, int4), the CLI's auto, and the usual short names.
struct DtypeName {
  std::string_view name;
  std::string_view weight_dtype;  // --dtype
  std::string_view quantization;  // implied --quantization ("" when none)
};
constexpr std::array<DtypeName, 11> kDtypes = {{
    {"float16", "float16", ""},
    {"fp16", "float16", ""},
    {"half", "float16", ""},
    {"bfloat16", "bfloat16", ""},
    {"bf16", "bfloat16", ""},
    {"float32", "float32", ""},
    {"fp32", "float32", ""},
    {"float", "float32", ""},
    {"auto", "auto", ""},
    {"int8", "float16", "Q8"},
    {"int4", "float16", "Q4"},
}};

constexpr std::array<std::string_view, 7> kKvDtypes = {"auto", "float16",  "bfloat16", "float32",
                                                       "fp8",  "fp8_e4m3", "fp8_e5m2"};

std::string list_of(const auto& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

bool present(const nlohmann::json& body, const char* key) { return body.contains(key) && !body[key].is_null(); }

std::string string_field(const nlohmann::json& body, const char* key) {
  const auto& v = body[key];
  if (!v.is_string()) bad_field(key, fmt::format("{} must be a string", key));
  std::string s = v.get<std::string>();
  if (s.empty()) bad_field(key, fmt::format("{} must not be empty", key));
  if (s.size() > kMaxNameBytes) bad_field(key, fmt::format("{} is over {} bytes", key, kMaxNameBytes));
  if (printable_line(s) != s) bad_field(key, fmt::format("{} holds control characters", key));
  return s;
}

std::uint64_t positive_integer(const nlohmann::json& v, const std::string& key, std::uint64_t max) {
  if (!v.is_number_integer()) bad_field(key, fmt::format("{} must be an integer", key));
  if (v.is_number_unsigned() ? v.get<std::uint64_t>() == 0 : v.get<std::int64_t>() <= 0)
    bad_field(key, fmt::format("{} must be positive, got {}", key, v.dump()));
  const auto n = v.get<std::uint64_t>();
  if (n > max) bad_field(key, fmt::format("{} {} is over the limit of {}", key, n, max));
  return n;
}

double number_field(const nlohmann::json& body, const char* key) {
  const auto& v = body[key];
  if (!v.is_number()) bad_field(key, fmt::format("{} must be a number", key));
  const double x = v.get<double>();
  if (!std::isfinite(x)) bad_field(key, fmt::format("{} must be finite", key));
  return x;
}

void read_dtypes(const nlohmann::json& body, EstimateRequest& r) {
  if (present(body, "dtype")) {
    r.dtype = string_field(body, "dtype");
    const std::string lower = ascii_lower(r.dtype);
    const auto* d = std::find_if(kDtypes.begin(), kDtypes.end(), [&](const DtypeName& x) { return x.name == lower; });
    if (d == kDtypes.end())
      bad_field("dtype", fmt::format("dtype \"{}\" is not one of float16, bfloat16, float32, int8, int4 or auto",
                                     printable_line(r.dtype)));
    r.weight_dtype = std::string(d->weight_dtype);
    if (!d->quantization.empty()) r.quantization = std::string(d->quantization);
  }
  if (present(body, "kv_cache_dtype")) {
    const std::string kv = ascii_lower(string_field(body, "kv_cache_dtype"));
    if (std::find(kKvDtypes.begin(), kKvDtypes.end(), kv) == kKvDtypes.end())
      bad_field("kv_cache_dtype",
                fmt::format("kv_cache_dtype \"{}\" is not one of {}", printable_line(kv), list_of(kKvDtypes)));
    r.kv_cache_dtype = kv;
  }
  if (present(body, "quantization")) {
    const std::string q = string_field(body, "quantization");
    if (ascii_lower(q) == "none") return;
    if (!quantization_flag_scheme(q))
      bad_field("quantization", fmt::format("quantization \"{}\" is not one of Q4, Q8, fp8, awq, gptq, int8, "
                                            "bitsandbytes (or null for none)",
                                            printable_line(q)));
    // dtype int8 / int4 already quantize the weights: a second, different scheme is a contradiction.
    if (r.quantization && !iequals_ascii(*r.quantization, q) &&
        quantization_flag_scheme(*r.quantization)->bits != quantization_flag_scheme(q)->bits)
      bad_field("quantization", fmt::format("quantization {} contradicts dtype {} (which quantizes to {})", q, r.dtype,
                                            *r.quantization));
    r.quantization = q;
  }
}

void read_lengths(const nlohmann::json& body, EstimateRequest& r) {
  if (!present(body, "max_seq_len")) bad_field("max_seq_len", "max_seq_len is required (tokens per sequence)");
  r.max_seq_len = positive_integer(body["max_seq_len"], "max_seq_len", kMaxTokens);
  r.max_model_len = r.max_seq_len;
  if (present(body, "max_model_len")) {
    r.max_model_len = positive_integer(body["max_model_len"], "max_model_len", kMaxTokens);
    if (r.max_seq_len > r.max_model_len)
      bad_field("max_seq_len", fmt::format("max_seq_len {} is longer than max_model_len {}, the longest sequence "
                                           "the server takes",
                                           r.max_seq_len, r.max_model_len));
  }
  if (present(body, "max_batch_size"))
    r.max_batch_size = positive_integer(body["max_batch_size"], "max_batch_size", kMaxBatch);
  if (present(body, "max_num_batched_tokens")) {
    r.max_num_batched_tokens = positive_integer(body["max_num_batched_tokens"], "max_num_batched_tokens", kMaxTokens);
    if (*r.max_num_batched_tokens < r.max_batch_size)
      bad_field("max_num_batched_tokens",
                fmt::format("max_num_batched_tokens {} is below max_batch_size {} (vLLM refuses it)",
                            *r.max_num_batched_tokens, r.max_batch_size));
  }
}

void read_sizes(const nlohmann::json& body, EstimateRequest& r) {
  if (present(body, "gpu_memory_utilization")) {
    r.gpu_memory_utilization = number_field(body, "gpu_memory_utilization");
    if (!(r.gpu_memory_utilization > 0 && r.gpu_memory_utilization <= 1))
      bad_field("gpu_memory_utilization",
                fmt::format("gpu_memory_utilization must be in (0, 1], got {}", r.gpu_memory_utilization));
  }
  if (present(body, "params_billions")) {
    const double b = number_field(body, "params_billions");
    if (!(b > 0 && b <= 1e6)) bad_field("params_billions", fmt::format("params_billions must be in (0, 1000000]"));
    r.params_billions = b;
  }
  if (!present(body, "architecture")) return;
  const auto& arch = body["architecture"];
  if (!arch.is_object()) bad_field("architecture", "architecture must be an object");
  for (const auto& [key, value] : arch.items()) {
    const std::string name = key;  // a structured binding cannot be captured (clang 14)
    const std::string field = "architecture." + name;
    const auto& known = architecture_fields();
    if (std::none_of(known.begin(), known.end(), [&](const auto& f) { return f.first == name; }))
      bad_field(field, fmt::format("architecture takes num_layers, hidden_size, num_heads, head_dim, "
                                   "intermediate_size and num_kv_heads, not \"{}\"",
                                   printable_line(key)));
    if (!value.is_null()) r.architecture[key] = positive_integer(value, field, kMaxArchitectureValue);
  }
}

void read_plan_fields(const nlohmann::json& body, EstimateRequest& r) {
  if (present(body, "enforce_eager")) {
    if (!body["enforce_eager"].is_boolean()) bad_field("enforce_eager", "enforce_eager must be true or false");
    r.enforce_eager = body["enforce_eager"].get<bool>();
  }
  if (present(body, "sku")) r.sku = string_field(body, "sku");
  if (present(body, "gpu_memory")) {
    const auto& v = body["gpu_memory"];
    if (v.is_number()) {
      const double gib = number_field(body, "gpu_memory");
      if (!(gib > 0 && gib <= 1e6)) bad_field("gpu_memory", "gpu_memory must be a positive number of GiB");
      r.gpu_memory = fmt::format("{}GiB", gib);
    } else {
      r.gpu_memory = string_field(body, "gpu_memory");
    }
  }
  if (present(body, "engine")) r.engine = ascii_lower(string_field(body, "engine"));
  if (present(body, "estimator")) r.estimator = ascii_lower(string_field(body, "estimator"));
  if ((r.engine || r.estimator) && !method_for(r.engine.value_or("vllm"), r.estimator.value_or(""))) {
    if (r.engine && *r.engine != "vllm" && *r.engine != "tgi")
      bad_field("engine", fmt::format("engine \"{}\" is not vllm or tgi", printable_line(*r.engine)));
    bad_field("estimator", fmt::format("estimator \"{}\" is not one of vllm, kaito, wizard{}",
                                       printable_line(r.estimator.value_or("")),
                                       r.engine == "tgi" ? " (and engine tgi has none)" : ""));
  }
  if ((r.engine || r.estimator) && !r.sku && !r.gpu_memory)
    bad_field(r.estimator ? "estimator" : "engine",
              "engine and estimator choose the memory model of `plan`: give sku or gpu_memory too (the top-level "
              "figures are always vLLM's own accounting)");
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& architecture_fields() {
  static const std::vector<std::pair<std::string, std::string>> fields = {
      {"num_layers", "num_hidden_layers"},        {"hidden_size", "hidden_size"},
      {"num_heads", "num_attention_heads"},       {"head_dim", "head_dim"},
      {"intermediate_size", "intermediate_size"}, {"num_kv_heads", "num_key_value_heads"},
  };
  return fields;
}

EstimateRequest parse_estimate_request(const nlohmann::json& body) {
  if (!body.is_object()) bad_field("", "the request body must be a JSON object");
  for (const auto& [key, value] : body.items())
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) == kKnownKeys.end())
      bad_field(key, fmt::format("unknown field \"{}\" (GET / lists the fields)", printable_line(key)));
  EstimateRequest r;
  if (!present(body, "model_name")) bad_field("model_name", "model_name is required (a catalog or Hugging Face id)");
  r.model_name = string_field(body, "model_name");
  read_lengths(body, r);
  read_dtypes(body, r);
  read_sizes(body, r);
  read_plan_fields(body, r);
  return r;
}

std::string estimate_field_of(const std::string& message, const std::string& fallback) {
  static const std::vector<std::pair<std::string_view, std::string_view>> flags = {
      {"--sku", "sku"},
      {"--gpu-memory-utilization", "gpu_memory_utilization"},
      {"--cuda-memory-fraction", "gpu_memory_utilization"},
      {"--gpu-memory", "gpu_memory"},
      {"--max-model-len", "max_model_len"},
      {"--max-num-batched-tokens", "max_num_batched_tokens"},
      {"--max-num-seqs", "max_batch_size"},
      {"--concurrency", "max_batch_size"},
      {"--kv-cache-dtype", "kv_cache_dtype"},
      {"--dtype", "dtype"},
      {"--quantization", "quantization"},
      {"--params-b", "params_billions"},
      {"--engine", "engine"},
      {"--estimator", "estimator"},
      {"--enforce-eager", "enforce_eager"},
      {"--model", "model_name"},
  };
  // The first flag the message names (flags that are prefixes of others are listed after them).
  std::size_t best = std::string::npos;
  std::string field = fallback;
  for (const auto& [flag, name] : flags) {
    for (std::size_t at = message.find(flag); at != std::string::npos; at = message.find(flag, at + 1)) {
      const std::size_t end = at + flag.size();
      const bool whole =
          end >= message.size() || (message[end] != '-' && std::isalnum(static_cast<unsigned char>(message[end])) == 0);
      if (whole && (best == std::string::npos || at < best)) {
        best = at;
        field = std::string(name);
      }
      if (whole) break;
    }
  }
  return field;
}

}  // namespace vramcalc::serve
