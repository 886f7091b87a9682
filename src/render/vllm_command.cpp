// The command lines a plan stands for: `vllm serve` and the TGI launcher.
#include <algorithm>

#include <fmt/format.h>

#include "vramcalc/core/printable.hpp"
#include "vramcalc/render/commands.hpp"

namespace vramcalc {

namespace {

// A bfloat16 model on a GPU without bfloat16 (T4, V100): the servers refuse it unless told --dtype float16.
bool needs_float16(const Report& r, const SkuPlan& sp) {
  return !sp.sku.gpu.bf16 && r.weights.serving_dtype == DType::BFloat16;
}

}  // namespace

std::vector<std::string> vllm_serve_args(const Report& r, const SkuPlan& sp) {
  const KaitoPlan& p = sp.plan;
  std::vector<std::string> args{r.input.id};
  auto add = [&](const std::string& flag, const auto& value) {
    args.push_back(flag);
    args.push_back(fmt::format("{}", value));
  };
  if (r.settings.revision) add("--revision", *r.settings.revision);
  if (sp.vllm) {
    const VllmPlan& v = *sp.vllm;
    if (v.tensor_parallel_size > 1) add("--tensor-parallel-size", v.tensor_parallel_size);
    if (v.pipeline_parallel_size > 1) add("--pipeline-parallel-size", v.pipeline_parallel_size);
    if (v.data_parallel_size > 1) add("--data-parallel-size", v.data_parallel_size);
    if (r.settings.vllm.expert_parallel) args.emplace_back("--enable-expert-parallel");
    add("--max-model-len", v.max_model_len);
    if (v.kv_cache_memory_given) add("--kv-cache-memory", static_cast<std::uint64_t>(v.available_kv_bytes));
    else add("--gpu-memory-utilization", v.gpu_memory_utilization);
    if (r.settings.vllm.max_num_batched_tokens) add("--max-num-batched-tokens", v.max_num_batched_tokens);
    if (r.settings.vllm.max_num_seqs) add("--max-num-seqs", v.max_num_seqs);
    if (r.settings.vllm.block_size) add("--block-size", r.settings.vllm.block_size);
    if (r.settings.vllm.enforce_eager) args.emplace_back("--enforce-eager");
  } else if (sp.wizard) {
    if (sp.wizard->tensor_parallel_size > 1) add("--tensor-parallel-size", sp.wizard->tensor_parallel_size);
    add("--max-model-len", sp.feasibility.context);
    add("--gpu-memory-utilization", r.settings.kaito.gpu_memory_utilization);
  } else {
    if (p.tensor_parallel_size > 1) add("--tensor-parallel-size", p.tensor_parallel_size);
    if (p.pipeline_parallel_size > 1) add("--pipeline-parallel-size", p.pipeline_parallel_size);
    // An explicit --max-model-len is kept; otherwise the plan's final length, as KAITO configures vLLM.
    const std::uint64_t len =
        r.settings.kaito.max_model_len_given && p.fits ? p.max_model_len_requested : p.max_model_len;
    if (len > 0) add("--max-model-len", len);
    add("--gpu-memory-utilization", r.settings.kaito.gpu_memory_utilization);
  }
  if (r.settings.dtype_flag != "auto") add("--dtype", dtype_name(r.weights.serving_dtype));
  else if (needs_float16(r, sp)) add("--dtype", "float16");
  const std::string& kv = r.settings.kv_cache_dtype_flag;
  if (kv == "fp8" || kv == "fp8_e4m3" || kv == "fp8_e5m2") add("--kv-cache-dtype", kv);
  if (r.settings.quantization_flag) {
    std::string q = *r.settings.quantization_flag;
    std::transform(q.begin(), q.end(), q.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (q == "q8") q = "int8";
    if (q == "q4") q = "gptq";
    add("--quantization", q);
  }
  if (sp.nodes() > 1 && sp.pipeline_parallel_size() > 1) add("--distributed-executor-backend", "ray");
  for (const auto& [flag, value] : r.settings.extra_vllm_args) {
    args.push_back(flag);
    if (!value.empty()) args.push_back(value);
  }
  return args;
}

std::string shell_join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += shell_quote(w);
  }
  return out;
}

std::string vllm_serve_command(const Report& r, const SkuPlan& sp) {
  return "vllm serve " + shell_join(vllm_serve_args(r, sp));
}

TgiLaunchOptions tgi_launch_options(const Report& r, const SkuPlan& sp) {
  TgiLaunchOptions o;
  o.model_id = r.input.id;
  o.revision = r.settings.revision;
  if (r.settings.dtype_flag != "auto") o.dtype = std::string(dtype_name(r.weights.serving_dtype));
  else if (needs_float16(r, sp)) o.dtype = "float16";
  if (r.settings.quantization_flag) {
    std::string q = *r.settings.quantization_flag;
    std::transform(q.begin(), q.end(), q.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (q == "q8" || q == "int8") q = "bitsandbytes";
    if (q == "q4") q = "gptq";
    o.quantize = q;
  }
  const std::string& kv = r.settings.kv_cache_dtype_flag;
  if (kv == "fp8" || kv == "fp8_e4m3") o.kv_cache_dtype = "fp8_e4m3fn";
  if (kv == "fp8_e5m2") o.kv_cache_dtype = "fp8_e5m2";
  return o;
}

}  // namespace vramcalc
