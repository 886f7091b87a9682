// From the flags as text to the settings a run is made with: the profile applied, numbers read and checked (each
// rejection one line naming the flag), the flags that belong to one engine checked against it, sweeps, --emit and
// the Hub's options.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/flags.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/core/text.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/kaito/plan.hpp"
#include "vramcalc/engines/method.hpp"
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/engines/vllm/speculative.hpp"
#include "vramcalc/model/quantization.hpp"
#include "vramcalc/render/choices.hpp"
#include "vramcalc/sources/hf_cache.hpp"
#include "vramcalc/sources/profile.hpp"

namespace vramcalc::cli {

namespace {

std::uint64_t parse_count(const std::string& flag, const std::string& text, std::uint64_t max) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) fail_input(fmt::format("{}: expected a positive whole number, got \"{}\"", flag, text));
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE || v == 0 || v > max)
    fail_input(fmt::format("{}: {} is out of range (1 to {})", flag, text, max));
  return v;
}

// A token count as vLLM's parser reads it (core/units.hpp: 32k = 32000, 32K = 32768), from 1 to `max`.
std::uint64_t parse_tokens(const std::string& flag, const std::string& text, std::uint64_t max) {
  const TokenCount count = parse_token_count(text);
  if (!count.value && !count.error.empty() && count.error != "not a whole number")
    fail_input(fmt::format("{}: {}", flag, count.error));
  if (!count.value && count.error == "not a whole number")
    fail_input(
        fmt::format("{}: expected a positive whole number, or one with vLLM's suffixes (32k = 32000, 32K = "
                    "32768), got \"{}\"",
                    flag, text));
  if (!count.value || *count.value == 0 || *count.value > max)
    fail_input(fmt::format("{}: {} is out of range (1 to {})", flag, text, max));
  return *count.value;
}

double parse_number(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    fail_input(fmt::format("{}: expected a number, got \"{}\"", flag, text));
  return v;
}

// A per-GPU amount of memory in `unit`: a number from 0 to `max`, up to and including it unless `below_max` (the
// KAITO planner takes its overheads below 1024 GiB). Checked here, so the message names the flag and the range.
double parse_gib(const std::string& flag, const std::string& text, double max, bool below_max = false,
                 const char* unit = "GiB") {
  const double v = parse_number(flag, text);
  if (!(v >= 0 && (below_max ? v < max : v <= max)))
    fail_input(fmt::format("{}: {} is outside [0, {:g}{} {}", flag, text, max, below_max ? ")" : "]", unit));
  return v;
}

std::uint64_t parse_size_flag(const std::string& flag, const std::string& text) {
  auto v = parse_size(text);
  if (!v)
    fail_input(fmt::format("{}: expected a size such as 48GiB, 80GB, 15.99GiB or 24000MiB, got \"{}\"", flag, text));
  return *v;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    const auto comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Flags --sweep takes, each with the names it goes by.
const std::vector<std::vector<std::string>>& sweep_flag_groups() {
  static const std::vector<std::vector<std::string>> groups = {
      {"--max-model-len", "--context"},
      {"--concurrency"},
      {"--gpu-memory-utilization"},
      {"--tensor-parallel-size", "--num-shard"},
      {"--pipeline-parallel-size"},
      {"--gpus"},
      {"--max-num-seqs"},
      {"--max-num-batched-tokens"},
      {"--block-size"},
      {"--data-parallel-size"},
      {"--max-input-tokens"},
      {"--max-total-tokens"},
      {"--max-batch-prefill-tokens"},
      {"--cuda-memory-fraction"},
      {"--cuda-overhead-gb"},
      {"--fragmentation-factor"},
      {"--headroom-gib"},
      {"--overhead-gib"},
  };
  return groups;
}

const std::vector<std::string>* sweep_group(const std::string& flag) {
  for (const auto& g : sweep_flag_groups())
    if (std::find(g.begin(), g.end(), flag) != g.end()) return &g;
  return nullptr;
}

// The flag an argument names ("--x" of "--x" or "--x=v"), or "".
std::string flag_of(const std::string& arg) {
  if (arg.rfind("--", 0) != 0) return "";
  return arg.substr(0, arg.find('='));
}

// A number as a flag takes it: ten significant digits, never an exponent (1e+10 is not a count any flag reads).
std::string fmt_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e18) return fmt::format("{:.0f}", v);
  std::string text = fmt::format("{:.10g}", v);
  if (text.find('e') == std::string::npos) return text;
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  text = fmt::format("{:.{}f}", v, std::max(0, 9 - magnitude));
  if (text.find('.') != std::string::npos) {
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
  }
  return text;
}

// --engine and --estimator: the memory model they name (engines/method.hpp), or a message naming the flag.
Method chosen_method(const RawFlags& f) {
  const std::string engine = f.engine.empty() ? engine_names().front() : f.engine;
  require_one_of(engine, engine_names(), "--engine");
  // An engine with one memory model (TGI) takes no --estimator.
  const auto only = method_for(engine, "");
  if (only && method_info(*only).estimator.empty() && !f.estimator.empty())
    fail_input(fmt::format("--estimator chooses vLLM's memory model; --engine {} has its own ({})", engine,
                           method_info(*only).source));
  const std::string estimator = f.estimator.empty() ? estimator_names().front() : f.estimator;
  require_one_of(estimator, estimator_names(), "--estimator");
  return *method_for(engine, only && method_info(*only).estimator.empty() ? "" : estimator);
}

// Flags that belong to one engine or estimator: an error naming the first given elsewhere.
void check_engine_flags(Method method, const RawFlags& f) {
  const bool tgi = method == Method::Tgi;
  const bool vllm = method == Method::Vllm;
  const bool wizard = method == Method::Wizard;
  auto only = [](bool allowed, std::initializer_list<std::pair<const char*, bool>> flags, const char* needs) {
    if (allowed) return;
    for (const auto& [name, given] : flags)
      if (given) fail_input(fmt::format("{} needs {}", name, needs));
  };
  only(vllm,
       {{"--vllm-version", !f.vllm_version.empty()},
        {"--kv-cache-memory", !f.kv_cache_memory.empty()},
        {"--max-num-batched-tokens", !f.max_num_batched_tokens.empty()},
        {"--max-num-seqs", !f.max_num_seqs.empty()},
        {"--block-size", !f.block_size.empty()},
        {"--data-parallel-size", !f.data_parallel_size.empty()},
        {"--enable-expert-parallel", f.enable_expert_parallel},
        {"--flashinfer-sampler", f.flashinfer_sampler},
        {"--limit-mm-per-prompt", !f.limit_mm_per_prompt.empty()},  // issue 14
        {"--skip-mm-profiling", f.skip_mm_profiling},               // issue 14
        {"--cudagraph-memory", !f.cudagraph_memory.empty()},
        {"--cudagraph-estimate", !f.cudagraph_estimate.empty()},
        {"--max-cudagraph-capture-size", !f.max_cudagraph_capture_size.empty()},
        {"--cudagraph-capture-sizes", !f.cudagraph_capture_sizes.empty()},
        {"--compilation-config", !f.compilation_config.empty()},
        {"--speculative-config", !f.speculative_config.empty()},
        {"-O", !f.optimization_level.empty()},
        {"--enforce-eager", f.enforce_eager}},
       "--estimator vllm");
  only(tgi,
       {{"--max-input-tokens", !f.max_input_tokens.empty()},
        {"--max-total-tokens", !f.max_total_tokens.empty()},
        {"--max-batch-prefill-tokens", !f.max_batch_prefill_tokens.empty()},
        {"--cuda-memory-fraction", !f.cuda_memory_fraction.empty()},
        {"--cuda-overhead-gb", !f.cuda_overhead_gb.empty()},
        {"--sweep-tokens", !f.sweep_tokens.empty()}},
       "--engine tgi");
  only(wizard, {{"--overhead-gib", !f.overhead_gib.empty()}}, "--estimator wizard");
  // issue 14: vLLM's flag; TGI loads every tower.
  only(!tgi, {{"--language-model-only", f.language_model_only}}, "--engine vllm");
  only(!tgi,
       {{"--gpu-memory-utilization", !f.gpu_memory_utilization.empty()},
        {"--pipeline-parallel-size", !f.pipeline_parallel_size.empty()}},
       "--engine vllm (TGI takes --cuda-memory-fraction)");
  only(!tgi && !wizard,
       {{"--non-torch-gib", !f.non_torch_gib.empty()},
        {"--activation-gib", !f.activation_gib.empty()},
        {"--kaito-rules", !f.kaito_rules.empty()}},
       "--estimator kaito or vllm");
}

// The vLLM estimator's CUDA-graph flags (issue 13): what moves vLLM's capture list, and --cudagraph-estimate.
void build_cudagraph_settings(VllmSettings& v, const RawFlags& f) {
  VllmCompilationSettings& c = v.compilation;
  if (!f.compilation_config.empty()) parse_compilation_config(f.compilation_config, c);
  // Speculative decoding moves the capture list too (speculative.hpp).
  if (!f.speculative_config.empty()) parse_speculative_config(f.speculative_config, v.speculative);
  if (!f.cudagraph_capture_sizes.empty()) c.capture_sizes = parse_capture_sizes(f.cudagraph_capture_sizes);
  if (!f.max_cudagraph_capture_size.empty())
    c.max_capture_size = parse_count("--max-cudagraph-capture-size", f.max_cudagraph_capture_size, 1'000'000);
  if (!f.optimization_level.empty()) {
    if (f.optimization_level.size() != 1 || f.optimization_level[0] < '0' || f.optimization_level[0] > '3')
      fail_input(fmt::format("-O: '{}' is not an optimization level 0, 1, 2 or 3", f.optimization_level));
    c.optimization_level = f.optimization_level[0] - '0';
  }
  if (!f.cudagraph_estimate.empty()) {
    require_one_of(ascii_lower(f.cudagraph_estimate), {"on", "off"}, "--cudagraph-estimate");
    v.cudagraph_estimate = ascii_lower(f.cudagraph_estimate) == "on";
  }
}

// The KAITO planner's and the vLLM estimator's settings (the context, the layout and the vLLM-only knobs), which
// the wizard and TGI also read for the context and the layout.
void build_layout_settings(ReportSettings& rs, const RawFlags& f) {
  KaitoSettings& k = rs.kaito;
  VllmSettings& v = rs.vllm;
  const bool tgi = rs.method == Method::Tgi;
  const bool vllm = rs.method == Method::Vllm;
  if (!f.vllm_version.empty()) v.version = parse_vllm_version(f.vllm_version);
  if (f.max_model_len == "auto") {
    if (!vllm) fail_input("--max-model-len auto needs --estimator vllm");
    v.max_model_len_auto = true;
  } else if (!f.max_model_len.empty()) {
    k.max_model_len = parse_tokens("--max-model-len", f.max_model_len, 1ULL << 40);
    k.max_model_len_given = true;
    v.max_model_len = k.max_model_len;
  }
  if (!f.kv_cache_memory.empty()) v.kv_cache_memory = parse_size_flag("--kv-cache-memory", f.kv_cache_memory);
  if (!f.concurrency.empty()) rs.concurrency = parse_count("--concurrency", f.concurrency, 1'000'000);
  v.concurrency = rs.concurrency;
  k.concurrency = rs.concurrency;
  if (!f.max_num_batched_tokens.empty())
    v.max_num_batched_tokens = parse_tokens("--max-num-batched-tokens", f.max_num_batched_tokens, 1ULL << 32);
  if (!f.max_num_seqs.empty()) v.max_num_seqs = parse_count("--max-num-seqs", f.max_num_seqs, 1ULL << 24);
  if (!f.block_size.empty()) v.block_size = parse_count("--block-size", f.block_size, 1ULL << 20);
  if (!f.data_parallel_size.empty())
    v.data_parallel_size = parse_count("--data-parallel-size", f.data_parallel_size, 100'000);
  v.expert_parallel = f.enable_expert_parallel;
  if (!f.cudagraph_memory.empty()) v.cudagraph_memory = parse_size_flag("--cudagraph-memory", f.cudagraph_memory);
  v.enforce_eager = f.enforce_eager;
  v.language_model_only = f.language_model_only;  // issue 14: in the vllm serve command
  if (!f.limit_mm_per_prompt.empty()) {           // issue 14: the multimodal encoder's profile run
    v.multimodal.limit_per_prompt = parse_limit_mm_per_prompt(f.limit_mm_per_prompt);
    v.multimodal.limit_per_prompt_text = format_limit_mm_per_prompt(v.multimodal.limit_per_prompt);
  }
  v.multimodal.skip_mm_profiling = f.skip_mm_profiling;
  build_cudagraph_settings(v, f);
  // The sampler: --flashinfer-sampler, else VLLM_USE_FLASHINFER_SAMPLER, else (unset) the release's default.
  const char* fi = std::getenv("VLLM_USE_FLASHINFER_SAMPLER");
  if (f.flashinfer_sampler || (fi != nullptr && std::string(fi) == "1")) v.flashinfer_sampler = true;
  else if (fi != nullptr && std::string(fi) == "0") v.flashinfer_sampler = false;
  if (!f.gpu_memory_utilization.empty()) {
    k.gpu_memory_utilization = parse_number("--gpu-memory-utilization", f.gpu_memory_utilization);
    if (!(k.gpu_memory_utilization > 0 && k.gpu_memory_utilization <= 1))
      fail_input(fmt::format("--gpu-memory-utilization: {} is outside (0, 1]", f.gpu_memory_utilization));
    v.gpu_memory_utilization = k.gpu_memory_utilization;
    k.gpu_memory_utilization_given = true;
  }
  if (!f.gpus.empty()) k.gpus = parse_count("--gpus", f.gpus, 100'000);
  if (!f.tensor_parallel_size.empty())
    k.tensor_parallel_size =
        parse_count(tgi ? "--num-shard" : "--tensor-parallel-size", f.tensor_parallel_size, 100'000);
  if (!f.pipeline_parallel_size.empty())
    k.pipeline_parallel_size = parse_count("--pipeline-parallel-size", f.pipeline_parallel_size, 100'000);
  v.tensor_parallel_size = k.tensor_parallel_size;
  v.pipeline_parallel_size = k.pipeline_parallel_size;
  if (vllm && k.gpus && !k.tensor_parallel_size && !k.pipeline_parallel_size)
    v.tensor_parallel_size = k.gpus;  // --gpus N pins TP N (one node) for the vLLM estimator
  if (rs.method == Method::Wizard)
    rs.wizard.tensor_parallel_size = k.tensor_parallel_size ? k.tensor_parallel_size : k.gpus;
  if (tgi) rs.tgi_num_shard = k.tensor_parallel_size ? k.tensor_parallel_size : k.gpus;
  if (!f.gpus_per_node.empty())
    rs.gpus_per_node_override = static_cast<int>(parse_count("--gpus-per-node", f.gpus_per_node, 1024));
  if (!f.non_torch_gib.empty()) k.non_torch_gib = parse_gib("--non-torch-gib", f.non_torch_gib, 1024, true);
  if (!f.activation_gib.empty()) k.activation_gib = parse_gib("--activation-gib", f.activation_gib, 1024, true);
  if (!f.kaito_rules.empty()) {  // case-insensitive, as every choice flag
    const std::string rules = ascii_lower(f.kaito_rules);
    require_one_of(rules, kaito_rules_names(), "--kaito-rules");
    k.rules = *kaito_rules_named(rules);
  }
}

// The axes every engine shares (fragmentation, headroom, OOM risk, the wizard's overhead), then TGI's flags with
// the shared ones mapped onto them.
void build_margin_and_tgi_settings(ReportSettings& rs, const RawFlags& f) {
  const bool tgi = rs.method == Method::Tgi;
  rs.fragmentation_factor = rs.method == Method::Wizard ? 1.15 : 1.0;
  if (!f.fragmentation_factor.empty()) {
    rs.fragmentation_factor = parse_number("--fragmentation-factor", f.fragmentation_factor);
    if (!(rs.fragmentation_factor >= 1 && rs.fragmentation_factor <= 10))
      fail_input(fmt::format("--fragmentation-factor: {} is outside 1 to 10", f.fragmentation_factor));
  }
  if (!f.headroom_gib.empty()) rs.headroom_gib = parse_gib("--headroom-gib", f.headroom_gib, 1024);
  if (!f.risk_thresholds_gib.empty()) rs.risk_thresholds = parse_risk_thresholds(f.risk_thresholds_gib);
  if (!f.overhead_gib.empty()) rs.wizard.overhead_gib = parse_gib("--overhead-gib", f.overhead_gib, 1024);

  TgiSettings& t = rs.tgi;
  if (!f.max_input_tokens.empty())
    t.max_input_tokens = parse_count("--max-input-tokens", f.max_input_tokens, 1ULL << 40);
  if (!f.max_total_tokens.empty())
    t.max_total_tokens = parse_count("--max-total-tokens", f.max_total_tokens, 1ULL << 40);
  else if (tgi && rs.kaito.max_model_len_given)
    t.max_total_tokens = rs.kaito.max_model_len;  // --context sizes the request
  // A request length without a prompt length: the prompt may take all but one token (TGI v2 itself would keep its
  // own default, min(max_position_embeddings, 4096) - 1, and refuse a shorter total).
  if (tgi && t.max_total_tokens && !t.max_input_tokens)
    t.max_input_tokens = *t.max_total_tokens > 1 ? *t.max_total_tokens - 1 : 1;
  if (!f.max_batch_prefill_tokens.empty())
    t.max_batch_prefill_tokens = parse_count("--max-batch-prefill-tokens", f.max_batch_prefill_tokens, 1ULL << 40);
  if (tgi && rs.concurrency > 1 && !t.max_batch_prefill_tokens) {
    // N sequences at once: a prefill batch of N prompts, so batch = ceil(prefill / input) = N.
    if (!t.max_input_tokens)
      fail_input(
          "--concurrency with --engine tgi needs --max-input-tokens (batch = max_batch_prefill_tokens / "
          "max_input_tokens)");
    t.max_batch_prefill_tokens = *t.max_input_tokens * rs.concurrency;
  }
  if (!f.cuda_memory_fraction.empty()) {
    t.cuda_memory_fraction = parse_number("--cuda-memory-fraction", f.cuda_memory_fraction);
    if (!(t.cuda_memory_fraction > 0 && t.cuda_memory_fraction <= 1))
      fail_input(fmt::format("--cuda-memory-fraction: {} is outside (0, 1]", f.cuda_memory_fraction));
  }
  if (!f.cuda_overhead_gb.empty())
    t.cuda_overhead_gb = parse_gib("--cuda-overhead-gb", f.cuda_overhead_gb, 1000, false, "GB");
}

// The weights' overrides (parameter count, bytes, dtype, load-time quantization) and the GPU memory override.
void build_weight_settings(Options& o, const RawFlags& f) {
  ReportSettings& rs = o.report;
  if (!f.params_b.empty()) {
    o.weights.params_b = parse_number("--params-b", f.params_b);
    if (*o.weights.params_b <= 0 || *o.weights.params_b > 1e6)
      fail_input(fmt::format("--params-b: {} is out of range (0 < N <= 1000000 billion)", f.params_b));
  }
  if (!f.weight_bytes.empty()) o.weights.weight_bytes = parse_size_flag("--weight-bytes", f.weight_bytes);
  o.weights.language_model_only = f.language_model_only;  // issue 14
  if (!f.gpu_memory.empty()) rs.gpu_memory_override = parse_size_flag("--gpu-memory", f.gpu_memory);
  if (!f.cuda_total.empty()) rs.cuda_total_override = parse_size_flag("--cuda-total", f.cuda_total);
  if (rs.gpu_memory_override && rs.cuda_total_override && *rs.cuda_total_override > *rs.gpu_memory_override)
    fail_input("--cuda-total cannot exceed --gpu-memory: CUDA reports less than nvidia-smi's total");
  if (!f.dtype.empty()) o.weights.dtype = f.dtype;
  if (!f.kv_cache_dtype.empty()) rs.kv_cache_dtype_flag = f.kv_cache_dtype;
  if (!f.quantization.empty() && f.quantization != "none") {
    o.weights.load_quantization = quantization_flag_scheme(f.quantization);
    if (!o.weights.load_quantization)
      fail_input(fmt::format("--quantization: \"{}\" is not one of fp8, awq, gptq, int8, bitsandbytes (or Q8, Q4)",
                             f.quantization));
    rs.quantization_flag = f.quantization;
  }
  rs.dtype_flag = o.weights.dtype;
  rs.weights = o.weights;
}

}  // namespace

void require_one_of(const std::string& name, const std::vector<std::string>& allowed, const std::string& flag) {
  if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) return;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  fail_input(fmt::format("{}: \"{}\" is not one of {}", flag, name, list));
}

void apply_profile(Options& o, RawFlags& f, std::shared_ptr<const Profile> preloaded) {
  o.loaded_profile =
      preloaded ? std::move(preloaded) : std::make_shared<const Profile>(load_profile(f.profile, profile_choices()));
  const Profile& pr = *o.loaded_profile;
  o.profile = f.profile;
  auto fill = [](std::string& flag, const auto& value) {
    if (flag.empty() && value) flag = fmt::format("{}", *value);
  };
  fill(f.model, pr.model_id);
  fill(f.revision, pr.revision);
  fill(f.dtype, pr.dtype);
  fill(f.quantization, pr.quantization);
  fill(f.kv_cache_dtype, pr.kv_cache_dtype);
  fill(f.max_model_len, pr.max_model_len);
  if (f.max_model_len.empty() && pr.prompt_tokens && pr.gen_tokens)
    f.max_model_len = std::to_string(*pr.prompt_tokens + *pr.gen_tokens);  // vllm-wizard's context
  if (pr.params_b && f.params_b.empty()) f.params_b = fmt_number(*pr.params_b);
  fill(f.sku, pr.sku);
  fill(f.sku, pr.gpu_name);
  fill(f.gpus, pr.gpus);
  if (pr.vram_gb && f.gpu_memory.empty()) f.gpu_memory = fmt_number(*pr.vram_gb) + "GiB";
  fill(f.tensor_parallel_size, pr.tp_size);
  fill(f.concurrency, pr.concurrency);
  // The memory model the flags ask for, if they name one (they are checked, with their messages, later).
  const auto method = method_for(f.engine.empty() ? engine_names().front() : f.engine, f.estimator);
  if (pr.gpu_memory_utilization && f.gpu_memory_utilization.empty()) {
    if (method == Method::Tgi) o.notes.push_back("policy.gpu_memory_utilization is vLLM's; --engine tgi ignores it");
    else f.gpu_memory_utilization = fmt_number(*pr.gpu_memory_utilization);
  }
  if (pr.fragmentation_factor && f.fragmentation_factor.empty())
    f.fragmentation_factor = fmt_number(*pr.fragmentation_factor);
  if (pr.headroom_gb && f.headroom_gib.empty()) f.headroom_gib = fmt_number(*pr.headroom_gb);
  if (pr.overhead_gb && f.overhead_gib.empty()) {
    if (method == Method::Wizard) f.overhead_gib = fmt_number(*pr.overhead_gb);
    else o.notes.push_back("policy.overhead_gb applies to --estimator wizard only; ignored");
  }
  if (!f.emit_given)
    for (const auto& e : pr.emit) f.emit += (f.emit.empty() ? "" : ",") + e;
  o.report.extra_vllm_args = pr.vllm_args;
  if (pr.interconnect)
    o.notes.push_back(fmt::format("hardware.interconnect {} is recorded, not sized", *pr.interconnect));
  if (pr.mode) o.notes.push_back(fmt::format("workload.mode {} does not change memory sizing", *pr.mode));
  if (pr.streaming) o.notes.push_back("workload.streaming does not change memory sizing");
}

void build_settings(Options& o, const RawFlags& f) {
  ReportSettings& rs = o.report;
  rs.method = chosen_method(f);
  check_engine_flags(rs.method, f);
  build_layout_settings(rs, f);
  build_margin_and_tgi_settings(rs, f);
  build_weight_settings(o, f);
  if (!f.revision.empty()) rs.revision = f.revision;
}

void build_outputs(Options& o, const RawFlags& f) {
  if (!f.sweep.empty() && !f.sweep_tokens.empty()) fail_input("--sweep and --sweep-tokens: pass one of them");
  if (!f.sweep_tokens.empty()) o.sweep = Sweep{"tokens", sweep_values("--sweep-tokens", f.sweep_tokens)};
  if (!f.sweep.empty()) {
    const auto eq = f.sweep.find('=');
    if (eq == std::string::npos) fail_input(fmt::format("--sweep: expected FLAG=START:END:STEP, got \"{}\"", f.sweep));
    std::string flag = f.sweep.substr(0, eq);
    if (flag.rfind("--", 0) != 0) flag = "--" + flag;
    if (!sweepable_flag(flag)) {
      std::string list;
      for (const auto& g : sweep_flag_groups()) list += (list.empty() ? "" : ", ") + g.front().substr(2);
      fail_input(fmt::format("--sweep: {} is not a numeric flag it can sweep ({})", flag, list));
    }
    o.sweep = Sweep{flag, sweep_values("--sweep " + flag, f.sweep.substr(eq + 1))};
  }
  for (const auto& name : split_list(f.emit)) {
    require_one_of(name, emit_names(), "--emit");
    o.emit.push_back(*emit_named(name));
  }
  // An artefact of one engine (a launch command) needs that engine.
  const std::string_view engine = method_info(o.report.method).engine;
  for (const Emit e : o.emit) {
    const EmitInfo& info = emit_info(e);
    if (!info.engine.empty() && info.engine != engine)
      fail_input(fmt::format("--emit {} needs --engine {}", info.name, info.engine));
  }
  if (!o.emit.empty() && o.sweep) fail_input("--emit prints one plan's artefact; it does not combine with a sweep");
}

HubOptions build_hub_options(const RawFlags& f) {
  HubOptions hub = hub_options_from_environment();
  if (!f.revision.empty()) {
    hub.revision = f.revision;
    hub.revision_given = true;
  }
  hub.token = resolve_token(f.token.empty() ? std::nullopt : std::optional<std::string>(f.token));
  hub.offline = hub.offline || f.offline;
  hub.refresh = f.refresh;
  if (hub.offline && hub.refresh) fail_input("--refresh needs the network, but --offline / HF_HUB_OFFLINE is set");
  if (!f.ca_bundle.empty()) hub.http.ca_bundle = f.ca_bundle;
  if (!f.connect_timeout.empty())
    hub.http.connect_timeout_s = static_cast<long>(parse_count("--connect-timeout", f.connect_timeout, 3600));
  if (!f.timeout.empty()) hub.http.timeout_s = static_cast<long>(parse_count("--timeout", f.timeout, 86400));
  return hub;
}

bool sweepable_flag(const std::string& flag) { return sweep_group(flag) != nullptr; }
std::vector<std::string> sweep_values(const std::string& flag, const std::string& range) {
  const auto first = range.find(':');
  const auto second = first == std::string::npos ? std::string::npos : range.find(':', first + 1);
  if (second == std::string::npos || range.find(':', second + 1) != std::string::npos)
    fail_input(fmt::format("{}: expected START:END:STEP such as 10000:20000:1000, got \"{}\"", flag, range));
  const double a = parse_number(flag, range.substr(0, first));
  const double b = parse_number(flag, range.substr(first + 1, second - first - 1));
  const double step = parse_number(flag, range.substr(second + 1));
  if (!(step > 0)) fail_input(fmt::format("{}: the step must be positive", flag));
  if (b < a) fail_input(fmt::format("{}: the end {} is below the start {}", flag, fmt_number(b), fmt_number(a)));
  const double count = std::floor((b - a) / step + 1e-9) + 1;
  if (count > static_cast<double>(limits::kMaxSweepRows))
    fail_input(fmt::format("{}: {:.0f} values; at most {} per sweep", flag, count, limits::kMaxSweepRows));
  std::vector<std::string> out;
  for (int i = 0; i < static_cast<int>(count); ++i) out.push_back(fmt_number(a + step * i));
  return out;
}

std::vector<std::string> args_for_sweep_value(const std::vector<std::string>& args, const Sweep& sweep,
                                              const std::string& value) {
  std::vector<std::string> drop = {"--sweep", "--sweep-tokens"};
  if (sweep.flag == "tokens") {
    drop.insert(drop.end(), {"--max-input-tokens", "--max-total-tokens", "--max-batch-prefill-tokens"});
  } else if (const auto* g = sweep_group(sweep.flag)) {
    drop.insert(drop.end(), g->begin(), g->end());
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string f = flag_of(args[i]);
    if (!f.empty() && std::find(drop.begin(), drop.end(), f) != drop.end()) {
      if (args[i].find('=') == std::string::npos) ++i;  // its value is the next argument
      continue;
    }
    out.push_back(args[i]);
  }
  if (sweep.flag == "tokens") {
    const auto t = static_cast<std::uint64_t>(std::llround(std::stod(value)));
    out.push_back(fmt::format("--max-input-tokens={}", t > 1 ? t - 1 : 1));
    out.push_back(fmt::format("--max-total-tokens={}", t));
    out.push_back(fmt::format("--max-batch-prefill-tokens={}", t));
  } else {
    out.push_back(sweep.flag + "=" + value);
  }
  return out;
}

}  // namespace vramcalc::cli
