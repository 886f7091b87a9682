// The equivalent `vllm serve` command line, and plan assembly for one SKU.
#include <algorithm>

#include <fmt/format.h>

#include "vramcalc/report.hpp"

namespace vramcalc {

namespace {

void add_unique(std::vector<std::string>& out, const std::vector<std::string>& more) {
  for (const auto& w : more)
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
}

// Shell-quotes an argument when it holds anything but safe characters.
std::string shell_arg(const std::string& s) {
  const bool safe = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("-_./:=@+").find(c) != std::string_view::npos;
  });
  if (safe) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::vector<std::string> Report::model_warnings() const {
  std::vector<std::string> out;
  add_unique(out, input.warnings);
  add_unique(out, arch.warnings);
  add_unique(out, weights.warnings);
  return out;
}

std::vector<std::string> Report::all_warnings(const SkuPlan& p) const {
  auto out = model_warnings();
  add_unique(out, p.warnings);
  add_unique(out, p.vllm ? p.vllm->warnings : p.plan.warnings);
  if (p.vllm) add_unique(out, p.vllm->layout.notes);
  return out;
}

SkuPlan plan_for_sku(const Report& report, const Sku& sku) {
  SkuPlan sp;
  sp.sku = sku;
  KaitoSettings ks = report.settings.kaito;
  ks.gpus_per_node = sku.gpus_per_node;
  if (report.settings.gpus_per_node_override) {
    ks.gpus_per_node = *report.settings.gpus_per_node_override;
    sp.sku.gpus_per_node = ks.gpus_per_node;
    if (sku.is_instance && *report.settings.gpus_per_node_override != sku.gpus_per_node)
      sp.warnings.push_back(fmt::format("--gpus-per-node {} replaces the {} GPUs of instance {}",
                                        *report.settings.gpus_per_node_override, sku.gpus_per_node, sku.name));
  }
  sp.gpu_memory = kaito_gpu_memory(sku.gpu, report.settings.gpu_memory_override, sp.warnings);
  sp.plan = plan_kaito(report.arch, report.weights.bytes, report.kv, sp.gpu_memory, ks);
  if (!sku.gpu.vllm_cuda) {
    sp.plan.fits = false;
    sp.plan.not_fit_reasons.push_back(fmt::format("vLLM's CUDA path does not serve {} ({})", sku.gpu.name,
                                                  sku.gpu.note.empty() ? sku.gpu.vendor : sku.gpu.note));
  }
  if (report.settings.estimator == "vllm") {
    VllmSettings vs = report.settings.vllm;
    vs.gpus_per_node = sp.sku.gpus_per_node;
    sp.vllm_total = vllm_gpu_total(sku.gpu, report.settings.gpu_memory_override, sp.warnings);
    sp.vllm = plan_vllm(report.arch, report.weights, report.kv, sku.gpu, sp.vllm_total, vs);
  }
  if (!sku.gpu.bf16 && report.weights.serving_dtype == DType::BFloat16)
    sp.warnings.push_back(fmt::format("{} has no bfloat16 support: vLLM serves this model as float16 there "
                                      "(same size)",
                                      sku.gpu.name));
  if (report.kv.dtype == DType::Float8E4M3 || report.kv.dtype == DType::Float8E5M2) {
    if (!sku.gpu.fp8)
      sp.warnings.push_back(fmt::format("{} has no native FP8: an fp8 KV cache still halves memory but is "
                                        "emulated (slower)",
                                        sku.gpu.name));
  }
  return sp;
}

std::string vllm_serve_command(const Report& r, const SkuPlan& sp) {
  const KaitoPlan& p = sp.plan;
  std::string cmd = "vllm serve " + shell_arg(r.input.id);
  if (sp.vllm) {
    const VllmPlan& v = *sp.vllm;
    if (v.tensor_parallel_size > 1) cmd += fmt::format(" --tensor-parallel-size {}", v.tensor_parallel_size);
    if (v.pipeline_parallel_size > 1) cmd += fmt::format(" --pipeline-parallel-size {}", v.pipeline_parallel_size);
    if (v.data_parallel_size > 1) cmd += fmt::format(" --data-parallel-size {}", v.data_parallel_size);
    if (r.settings.vllm.expert_parallel) cmd += " --enable-expert-parallel";
    cmd += fmt::format(" --max-model-len {}", v.max_model_len);
    if (v.kv_cache_memory_given)
      cmd += fmt::format(" --kv-cache-memory {}", static_cast<std::uint64_t>(v.available_kv_bytes));
    else
      cmd += fmt::format(" --gpu-memory-utilization {}", v.gpu_memory_utilization);
    if (r.settings.vllm.max_num_batched_tokens)
      cmd += fmt::format(" --max-num-batched-tokens {}", v.max_num_batched_tokens);
    if (r.settings.vllm.max_num_seqs) cmd += fmt::format(" --max-num-seqs {}", v.max_num_seqs);
    if (r.settings.vllm.block_size) cmd += fmt::format(" --block-size {}", r.settings.vllm.block_size);
    if (r.settings.vllm.enforce_eager) cmd += " --enforce-eager";
  } else {
    if (p.tensor_parallel_size > 1) cmd += fmt::format(" --tensor-parallel-size {}", p.tensor_parallel_size);
    if (p.pipeline_parallel_size > 1) cmd += fmt::format(" --pipeline-parallel-size {}", p.pipeline_parallel_size);
    // An explicit --max-model-len is kept; otherwise the plan's final length, as KAITO configures vLLM.
    const std::uint64_t len = r.settings.kaito.max_model_len_given && p.fits ? p.max_model_len_requested : p.max_model_len;
    if (len > 0) cmd += fmt::format(" --max-model-len {}", len);
    cmd += fmt::format(" --gpu-memory-utilization {}", r.settings.kaito.gpu_memory_utilization);
  }
  if (r.settings.dtype_flag != "auto") cmd += " --dtype " + std::string(dtype_name(r.weights.serving_dtype));
  const std::string& kv = r.settings.kv_cache_dtype_flag;
  if (kv == "fp8" || kv == "fp8_e4m3" || kv == "fp8_e5m2") cmd += " --kv-cache-dtype " + kv;
  if (r.settings.quantization_flag) {
    std::string q = *r.settings.quantization_flag;
    std::transform(q.begin(), q.end(), q.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (q == "q8") q = "int8";
    if (q == "q4") q = "gptq";
    cmd += " --quantization " + q;
  }
  const bool multi_node = sp.vllm ? sp.vllm->nodes > 1 && sp.vllm->pipeline_parallel_size > 1
                                  : p.pipeline_parallel_size > 1 && p.nodes > 1;
  if (multi_node) cmd += " --distributed-executor-backend ray";
  return cmd;
}

}  // namespace vramcalc
