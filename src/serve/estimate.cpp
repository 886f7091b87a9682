// POST /estimate-gpu-memory (serve/estimate.hpp): the seed service's response, each figure from vram-calc's engine:
// the model layer's architecture, the memory layer's weights and KV cache, and the vLLM estimator's terms for one GPU
// (TP 1), with the optional `plan` exactly as `vram-calc --format json` prints it.
#include "serve/estimate.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "serve/api_error.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/model/quantization.hpp"
#include "vramcalc/report/build.hpp"

namespace vramcalc::serve {

namespace {

// The per-GPU terms of one estimate, in bytes.
struct Terms {
  std::uint64_t weights = 0, activation = 0, non_torch = 0, cuda_graphs = 0;
  std::uint64_t min_kv = 0, max_kv = 0;
  std::uint64_t block_size = 16, max_num_batched_tokens = 0;
  std::uint64_t min_kv_per_sequence = 0, max_kv_per_sequence = 0;
  [[nodiscard]] std::uint64_t cuda_overhead() const { return non_torch + cuda_graphs; }
  [[nodiscard]] std::uint64_t total_min() const { return weights + activation + min_kv + cuda_overhead(); }
  [[nodiscard]] std::uint64_t total_max() const { return weights + activation + max_kv + cuda_overhead(); }
};

double gib2(std::uint64_t bytes) { return std::round(to_gib(bytes) * 100.0) / 100.0; }
double gib2(double bytes) { return std::round(bytes / static_cast<double>(kGiB) * 100.0) / 100.0; }

ReportSettings report_settings(const EstimateRequest& r) {
  ReportSettings s;
  s.weights.dtype = r.weight_dtype;
  if (r.quantization) {
    s.weights.load_quantization = quantization_flag_scheme(*r.quantization);
    s.quantization_flag = r.quantization;
  }
  s.weights.params_b = r.params_billions;
  s.dtype_flag = r.weight_dtype;
  s.kv_cache_dtype_flag = r.kv_cache_dtype.value_or("auto");
  return s;
}

// The model-level half of the CLI's pipeline: architecture, weights, KV cache per token, model warnings.
Report model_half(const EstimateRequest& r, const EstimateModel& m) {
  try {
    return model_report(m.input, report_settings(r));
  } catch (const Error& e) {
    throw ApiError(400, e.what(), estimate_field_of(e.what(), r.architecture.empty() ? "model_name" : "architecture"));
  }
}

// An override the model's config spells otherwise (Falcon's n_layer, GPT-2's n_embd) does not reach the
// architecture: refused rather than silently ignored.
void check_overrides_applied(const EstimateRequest& r, const ModelArch& a) {
  const std::map<std::string, std::uint64_t> got = {
      {"num_layers", a.num_hidden_layers},        {"hidden_size", a.hidden_size},
      {"num_heads", a.num_attention_heads},       {"head_dim", a.head_dim},
      {"intermediate_size", a.intermediate_size}, {"num_kv_heads", a.num_key_value_heads}};
  for (const auto& [key, value] : r.architecture)
    if (got.at(key) != value)
      bad_field("architecture." + key,
                fmt::format("this model's config ({}) does not take {} as a llama-style config.json field: the "
                            "architecture has {} = {}",
                            a.model_type, key, key, got.at(key)));
}

// vLLM's own accounting on one GPU (TP 1, PP 1), from the engine's plan with the layout pinned: the weights, the
// profile run's activation peak and non-PyTorch memory, the CUDA-graph estimate and the KV cache's pages.
Terms vllm_terms(const EstimateRequest& r, const Report& report, VllmPlan& plan) {
  VllmSettings v;
  v.gpu_memory_utilization = r.gpu_memory_utilization;
  v.max_model_len = r.max_model_len;
  v.concurrency = r.max_batch_size;
  v.max_num_seqs = r.max_batch_size;
  v.max_num_batched_tokens =
      r.max_num_batched_tokens.value_or(std::max(kDefaultEstimateBatchedTokens, r.max_batch_size));
  v.tensor_parallel_size = 1;
  v.pipeline_parallel_size = 1;
  v.enforce_eager = r.enforce_eager;
  Gpu gpu;  // the figures are the model's, not a GPU's: any NVIDIA GPU with room for them
  gpu.name = "estimate";
  gpu.vendor = "NVIDIA";
  gpu.bf16 = true;
  const GpuMemory total{kTiB, "estimate"};
  plan = plan_vllm(report.arch, report.weights, report.kv, gpu, total, v);

  Terms t;
  t.weights = plan.weights_bytes;
  t.activation = plan.profile.activation_bytes;
  t.non_torch = plan.profile.non_torch_bytes;
  t.cuda_graphs = plan.cudagraph_bytes;
  t.block_size = plan.layout.block_size;
  t.max_num_batched_tokens = plan.max_num_batched_tokens;
  try {
    t.min_kv_per_sequence = vllm_request_bytes(plan.layout, t.block_size, t.max_num_batched_tokens);
    t.max_kv_per_sequence = vllm_request_bytes(plan.layout, r.max_seq_len, t.max_num_batched_tokens);
    t.min_kv = checked_mul(r.max_batch_size, t.min_kv_per_sequence, "the minimum KV cache");
    t.max_kv = checked_mul(r.max_batch_size, t.max_kv_per_sequence, "the maximum KV cache");
    (void)checked_add(checked_add(t.weights, t.activation, "total"), checked_add(t.max_kv, t.cuda_overhead(), "total"),
                      "total");
  } catch (const Error& e) {
    bad_field("max_batch_size",
              fmt::format("{} sequences of {} tokens: {}", r.max_batch_size, r.max_seq_len, e.what()));
  }
  return t;
}

nlohmann::json architecture_used(const Report& report, const EstimateModel& m) {
  const ModelArch& a = report.arch;
  nlohmann::json j = model_shape_json(a, report.weights.num_params);
  j["architecture"] = a.architecture;
  j["max_position_embeddings"] =
      a.max_position_embeddings && !m.estimated ? nlohmann::json(*a.max_position_embeddings) : nlohmann::json(nullptr);
  j["estimated"] = m.estimated;
  j["source"] = m.input.origin;
  if (a.mla) j["kv_lora_rank"] = a.kv_lora_rank;
  return j;
}

nlohmann::json breakdown(const Terms& t) {
  return {{"model_params", gib2(t.weights)},          {"activation", gib2(t.activation)},
          {"min_kv_cache", gib2(t.min_kv)},           {"max_kv_cache", gib2(t.max_kv)},
          {"cuda_overhead", gib2(t.cuda_overhead())}, {"non_torch", gib2(t.non_torch)},
          {"cuda_graphs", gib2(t.cuda_graphs)}};
}

nlohmann::json exact_bytes(const Terms& t, const EstimateRequest& r) {
  return {{"model_params", t.weights},
          {"activation", t.activation},
          {"min_kv_cache", t.min_kv},
          {"max_kv_cache", t.max_kv},
          {"cuda_overhead", t.cuda_overhead()},
          {"non_torch", t.non_torch},
          {"cuda_graphs", t.cuda_graphs},
          {"total_min", t.total_min()},
          {"total_max", t.total_max()},
          {"recommended",
           static_cast<std::uint64_t>(std::ceil(static_cast<double>(t.total_max()) / r.gpu_memory_utilization))},
          {"kv_cache_per_token", 0},  // filled by the caller, from the memory layer
          {"min_kv_cache_per_sequence", t.min_kv_per_sequence},
          {"max_kv_cache_per_sequence", t.max_kv_per_sequence}};
}

nlohmann::json formulas(const EstimateRequest& r, const Report& report, const VllmPlan& plan, const Terms& t) {
  return {
      {"model_params", report.weights.source_detail},
      {"activation", plan.profile.activation_formula},
      {"kv_cache_per_token", report.kv.formula},
      {"min_kv_cache",
       fmt::format("{} sequences x one block of {} tokens in every KV layer ({:.4f} GiB each) = {:.2f} GiB",
                   r.max_batch_size, t.block_size, to_gib(t.min_kv_per_sequence), to_gib(t.min_kv))},
      {"max_kv_cache", fmt::format("{} sequences x {} tokens ({:.4f} GiB each) = {:.2f} GiB", r.max_batch_size,
                                   r.max_seq_len, to_gib(t.max_kv_per_sequence), to_gib(t.max_kv))},
      {"non_torch", plan.profile.non_torch_formula},
      {"cuda_graphs", r.enforce_eager ? std::string("enforce_eager: no CUDA graphs") : plan.cudagraph.formula},
      {"cuda_overhead",
       fmt::format("non-PyTorch {:.2f} GiB + CUDA graphs {:.2f} GiB", to_gib(t.non_torch), to_gib(t.cuda_graphs))},
      {"total_min_memory", "model_params + activation + min_kv_cache + cuda_overhead"},
      {"total_max_memory", "model_params + activation + max_kv_cache + cuda_overhead"},
      {"recommended_memory", fmt::format("total_max_memory / gpu_memory_utilization {}", r.gpu_memory_utilization)},
  };
}

nlohmann::json settings_used(const EstimateRequest& r, const Report& report, const Terms& t) {
  return {{"dtype", r.dtype},
          {"weights_dtype", std::string(dtype_name(report.weights.serving_dtype))},
          {"kv_cache_dtype", std::string(dtype_name(report.kv.dtype))},
          {"quantization", r.quantization ? nlohmann::json(*r.quantization) : nlohmann::json(nullptr)},
          {"max_seq_len", r.max_seq_len},
          {"max_model_len", r.max_model_len},
          {"max_batch_size", r.max_batch_size},
          {"max_num_batched_tokens", t.max_num_batched_tokens},
          {"block_size", t.block_size},
          {"gpu_memory_utilization", r.gpu_memory_utilization},
          {"enforce_eager", r.enforce_eager},
          {"vllm_version", VllmVersion{}.str()},
          {"tensor_parallel_size", 1}};
}

std::string describe_arch(const ModelArch& a) {
  std::string text =
      fmt::format("{} layers, hidden {}, {} heads ({} KV heads, head_dim {}), intermediate {}", a.num_hidden_layers,
                  a.hidden_size, a.num_attention_heads, a.num_key_value_heads, a.head_dim, a.intermediate_size);
  if (a.num_experts > 0) text += fmt::format(", {} experts ({} per token)", a.num_experts, a.experts_per_token);
  return text + fmt::format(", vocabulary {}", a.vocab_size);
}

std::string join_warnings(const std::vector<std::string>& warnings) {
  std::string out;
  for (const auto& w : warnings) out += (out.empty() ? "" : "; ") + w;
  return out;
}

// The caveats of this estimate, most important first.
std::vector<std::string> caveats(const EstimateRequest& r, const EstimateModel& m, const Report& report,
                                 double recommended_gib) {
  std::vector<std::string> out;
  if (m.estimated) {
    std::string note = m.estimate_note + fmt::format(" ({})", describe_arch(report.arch));
    if (report.arch.num_key_value_heads < report.arch.num_attention_heads && !r.architecture.contains("num_kv_heads"))
      note +=
          "; grouped-query attention is assumed: for a multi-head attention model (Llama 2, num_kv_heads = "
          "num_heads) the KV cache is larger, pass architecture.num_kv_heads";
    out.push_back(note + "." + m.estimate_hint);
  }
  const auto max_pos = report.arch.max_position_embeddings;
  if (max_pos && !m.estimated && r.max_model_len > *max_pos)
    out.push_back(
        fmt::format("max_model_len {} is beyond the model's max_position_embeddings {}: vLLM refuses it "
                    "unless told otherwise (VLLM_ALLOW_LONG_MAX_MODEL_LEN=1)",
                    r.max_model_len, *max_pos));
  if (recommended_gib > kLargeModelGiB)
    out.push_back(fmt::format(
        "the recommended {:.2f} GiB is more than one {:.0f} GiB GPU holds: serve it over several "
        "GPUs (tensor parallelism) or quantize it{}",
        recommended_gib, kLargeModelGiB, r.sku || r.gpu_memory ? "" : "; give sku or gpu_memory for a plan"));
  return out;
}

}  // namespace

nlohmann::json estimate_gpu_memory(const nlohmann::json& request, const EstimateContext& context) {
  const EstimateRequest r = parse_estimate_request(request);
  const EstimateModel m = estimate_model(r, context);
  const Report report = model_half(r, m);
  check_overrides_applied(r, report.arch);
  VllmPlan plan;
  const Terms t = vllm_terms(r, report, plan);
  const double recommended = static_cast<double>(t.total_max()) / r.gpu_memory_utilization;

  std::vector<std::string> important = caveats(r, m, report, to_gib(static_cast<std::uint64_t>(recommended)));
  std::vector<std::string> warnings = important;
  warnings.insert(warnings.end(), m.warnings.begin(), m.warnings.end());
  for (const auto& w : report.model_warnings())
    if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(w);

  nlohmann::json out = {
      {"model_name", r.model_name},
      {"model_params_memory_gb", gib2(t.weights)},
      {"activation_memory_gb", gib2(t.activation)},
      {"min_kv_cache_memory_gb", gib2(t.min_kv)},
      {"max_kv_cache_memory_gb", gib2(t.max_kv)},
      {"cuda_overhead_gb", gib2(t.cuda_overhead())},
      {"total_min_memory_gb", gib2(t.total_min())},
      {"total_max_memory_gb", gib2(t.total_max())},
      {"recommended_memory_gb", gib2(recommended)},
      {"warning", important.empty() ? nlohmann::json(nullptr) : nlohmann::json(join_warnings(important))},
      {"components_breakdown", breakdown(t)},
      {"architecture_used", architecture_used(report, m)},
      {"unit", "GiB"},
      {"warnings", warnings},
      {"settings", settings_used(r, report, t)},
      {"bytes", exact_bytes(t, r)},
      {"formulas", formulas(r, report, plan, t)},
  };
  out["bytes"]["kv_cache_per_token"] = report.kv.bytes_per_token;
  if (r.sku || r.gpu_memory) add_cli_plan(out, r, m, context);
  return out;
}

}  // namespace vramcalc::serve
