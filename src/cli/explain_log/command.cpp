// `vram-calc explain-log` (explain_log/explain.hpp): read the log, replay its settings through the vLLM estimator,
// compare component by component, try the usual changes.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/explain_log/explain.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/subcommand.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/resolve.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

namespace vramcalc::cli {

namespace {

constexpr std::size_t kMaxLogBytes = 64u << 20;

struct Flags {
  std::string input;
  std::string model, sku, gpu_memory, cuda_total, vllm_version;
  std::string format = "human";
  bool record = false;
  bool offline = false;
  std::string token, ca_bundle, connect_timeout, timeout;
};

std::string read_input(const std::string& input) {
  std::string text;
  if (input == "-") {
    char buffer[65536];
    while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
      text.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
      if (text.size() > kMaxLogBytes) fail_input("explain-log: standard input is over 64 MiB");
    }
    return text;
  }
  std::FILE* f = std::fopen(input.c_str(), "rb");
  if (f == nullptr) fail_input(fmt::format("explain-log: cannot read {}", input));
  char buffer[65536];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
    text.append(buffer, n);
    if (text.size() > kMaxLogBytes) {
      std::fclose(f);
      fail_input(fmt::format("explain-log: {} is over 64 MiB", input));
    }
  }
  std::fclose(f);
  return text;
}

std::string gib_arg(double gib) { return fmt::format("{:.4f}GiB", gib); }

// vLLM's dtype spellings as vram-calc's --dtype takes them.
std::optional<std::string> dtype_flag(std::string d) {
  if (d.rfind("torch.", 0) == 0) d = d.substr(6);
  if (d == "bfloat16" || d == "float16" || d == "float32") return d;
  if (d == "half") return "float16";
  if (d == "float") return "float32";
  return std::nullopt;
}

// The GPU: the flags, else the GPU the log names, else its total derived from a memory line. False when none says.
bool gpu_args(const VllmLog& log, const Flags& f, std::vector<std::string>& args, Explanation& e) {
  if (!f.sku.empty()) {
    args.insert(args.end(), {"--sku", f.sku});
    e.gpu = f.sku + " (--sku)";
  }
  if (!f.gpu_memory.empty()) args.insert(args.end(), {"--gpu-memory", f.gpu_memory});
  if (!f.cuda_total.empty()) args.insert(args.end(), {"--cuda-total", f.cuda_total});
  if (!f.sku.empty() || !f.gpu_memory.empty() || !f.cuda_total.empty()) {
    if (e.gpu.empty())
      e.gpu = f.gpu_memory.empty() ? f.cuda_total + " (--cuda-total)" : f.gpu_memory + " (--gpu-memory)";
    return true;
  }
  const VllmLogFigures& g = log.figures;
  const auto u = log.settings.gpu_memory_utilization;
  if (log.settings.gpu_name) {
    const SkuCatalog skus = SkuCatalog::load(find_data_file("skus.json"));
    const SkuMatch m = skus.match(*log.settings.gpu_name);
    if (m.sku != nullptr) {
      args.insert(args.end(), {"--sku", m.sku->name});
      e.gpu = fmt::format("{} (the log names {})", m.sku->name, *log.settings.gpu_name);
    }
  }
  // The CUDA total the log implies is more exact than a catalog figure: it is what this GPU reported.
  std::optional<double> total = g.total_gpu_gib;
  std::string how = "the log's memory profiling line";
  if (!total && g.requested_gib && u && *u > 0) {
    total = *g.requested_gib / *u;
    how = "the log's requested memory / utilization";
  }
  if (!total && g.equivalent_utilization && g.cuda_graph_estimated_gib && u && *u > *g.equivalent_utilization) {
    total = *g.cuda_graph_estimated_gib / (*u - *g.equivalent_utilization);
    how = "the CUDA-graph estimate / the utilization it is equivalent to (rounded in the log: about +-2%)";
  }
  if (total) {
    args.insert(args.end(), {"--cuda-total", gib_arg(*total)});
    e.gpu += fmt::format("{}CUDA total {:.2f} GiB from {}", e.gpu.empty() ? "" : ", ", *total, how);
    return true;
  }
  return !e.gpu.empty();
}

// The release as --vllm-version takes it: 0.6.3.post1, 0.11.0+cu128, 0.12.0rc1 -> their numbers.
std::string release_numbers(const std::string& version) {
  std::size_t end = version.rfind('v', 0) == 0 ? 1 : 0;
  while (end < version.size() && (std::isdigit(static_cast<unsigned char>(version[end])) != 0 || version[end] == '.'))
    ++end;
  std::string out = version.substr(0, end);
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// vram-calc's arguments for the log's settings (what it does not state stays vLLM's default, with a note).
std::vector<std::string> plan_args(const VllmLog& log, const Flags& f, Explanation& e) {
  const VllmLogSettings& s = log.settings;
  std::string model = f.model.empty() ? s.model.value_or("") : f.model;
  if (model.empty()) fail_input("explain-log: the log names no model: pass --model");
  if (f.model.empty() && (model.front() == '/' || model.find("<redacted>") != std::string::npos))
    fail_input(
        fmt::format("explain-log: the log's model is a local path ({}): pass --model with its Hub id or "
                    "a local copy of its config.json",
                    model));
  std::vector<std::string> args{"vram-calc", "--model", model};
  auto count = [&](const char* flag, const std::optional<std::uint64_t>& v) {
    if (v) args.insert(args.end(), {flag, std::to_string(*v)});
  };
  count("--tensor-parallel-size", s.tensor_parallel_size);
  count("--pipeline-parallel-size", s.pipeline_parallel_size);
  if (s.data_parallel_size && *s.data_parallel_size > 1) count("--data-parallel-size", s.data_parallel_size);
  if (s.enable_expert_parallel.value_or(false)) args.emplace_back("--enable-expert-parallel");
  if (s.gpu_memory_utilization)
    args.insert(args.end(), {"--gpu-memory-utilization", fmt::format("{}", *s.gpu_memory_utilization)});
  count("--max-model-len", s.max_model_len);
  count("--max-num-batched-tokens", s.max_num_batched_tokens);
  count("--max-num-seqs", s.max_num_seqs);
  count("--block-size", s.block_size);
  if (s.dtype)
    if (auto d = dtype_flag(*s.dtype)) args.insert(args.end(), {"--dtype", *d});
  if (s.kv_cache_dtype && s.kv_cache_dtype->rfind("fp8", 0) == 0)
    args.insert(args.end(), {"--kv-cache-dtype", *s.kv_cache_dtype});
  if (s.quantization && (*s.quantization == "fp8" || *s.quantization == "bitsandbytes"))
    args.insert(args.end(), {"--quantization", *s.quantization});
  if (s.enforce_eager.value_or(false)) args.emplace_back("--enforce-eager");
  nlohmann::json compilation = nlohmann::json::object();
  if (s.cudagraph_mode) compilation["cudagraph_mode"] = *s.cudagraph_mode;
  if (!s.cudagraph_capture_sizes.empty()) compilation["cudagraph_capture_sizes"] = s.cudagraph_capture_sizes;
  if (!compilation.empty()) args.insert(args.end(), {"--compilation-config", compilation.dump()});
  const std::string version = !f.vllm_version.empty() ? f.vllm_version : release_numbers(s.version.value_or(""));
  if (!version.empty()) args.insert(args.end(), {"--vllm-version", version});
  else e.notes.emplace_back("the log does not state its vLLM release: planned with the newest modelled one");
  if (!s.max_model_len)
    e.notes.emplace_back("the log does not state max_model_len: the model's maximum (vLLM's default)");
  if (!s.gpu_memory_utilization)
    e.notes.emplace_back("the log does not state the utilization: vLLM's default for the release");
  if (!gpu_args(log, f, args, e)) {
    e.gpu = "not named in the log, and no line gives its total";
    e.notes.emplace_back(
        "no prediction: the log does not say which GPU it ran on (pass --sku, --gpu-memory or "
        "--cuda-total); the logged figures are shown alone");
    args.clear();
    return args;
  }
  if (f.offline) args.emplace_back("--offline");
  for (const auto& [flag, value] : {std::pair{"--token", f.token},
                                    {"--ca-bundle", f.ca_bundle},
                                    {"--connect-timeout", f.connect_timeout},
                                    {"--timeout", f.timeout}})
    if (!value.empty()) args.insert(args.end(), {flag, value});
  return args;
}

// The plan for `args` on its one GPU, the model resolved once (`input`).
struct Planned {
  Report report;
  const SkuPlan* plan = nullptr;
};

Planned plan_for(const std::vector<std::string>& args, const ModelInput& input, bool max_len_given) {
  const Options o = parse_option_words(args);
  Planned p{model_report(input, o.report, o.notes), nullptr};
  if (!max_len_given && p.report.arch.max_position_embeddings)
    p.report.settings.vllm.max_model_len = *p.report.arch.max_position_embeddings;
  const Sku by_memory = gpu_known_by_memory(o.report);
  const SkuCatalog skus =
      o.sku.empty() ? SkuCatalog() : SkuCatalog::load_for(find_data_file("skus.json"), sku_names(o.sku));
  const auto selected = o.sku.empty() ? std::vector<const Sku*>{&by_memory} : select_skus(skus, o.sku);
  add_plans(p.report, {selected.front()}, false);
  p.plan = &p.report.plans.front();
  return p;
}

ModelInput resolve_for(const std::vector<std::string>& args) {
  const Options o = parse_option_words(args);
  ResolveOptions ro;
  ro.hub = o.hub;
  std::optional<ModelCatalog> catalog;
  ro.catalog = [&]() -> const ModelCatalog& {
    if (!catalog) catalog = ModelCatalog::load_for(find_data_file("models.json"), o.model);
    return *catalog;
  };
  return resolve_model(o.model, ro);
}

double gib(std::int64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kGiB); }

// The logged figures without a prediction (the GPU is unknown).
void add_logged_rows(const VllmLog& log, Explanation& e) {
  const VllmLogFigures& g = log.figures;
  auto row = [&](const char* name, const char* unit, std::optional<double> v) {
    if (v) e.rows.push_back({name, unit, v, std::nullopt, ""});
  };
  auto count = [](const std::optional<std::uint64_t>& v) {
    return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
  };
  row("total, as CUDA reports it", "GiB", g.total_gpu_gib);
  row("requested (total x utilization)", "GiB", g.requested_gib);
  row("weights", "GiB", g.weights_gib);
  row("activation peak", "GiB", g.activation_peak_gib);
  row("non-PyTorch", "GiB", g.non_torch_gib);
  row("CUDA graphs (estimate)", "GiB", g.cuda_graph_estimated_gib);
  row("CUDA graphs (captured)", "GiB", g.cuda_graph_actual_gib);
  row("available KV cache", "GiB", g.kv_cache_gib);
  row("GPU blocks", "blocks", count(g.gpu_blocks));
  row("GPU KV cache size", "tokens", count(g.kv_cache_tokens));
  row("max concurrency", "x", g.max_concurrency);
  row("KV cache one max_model_len request needs", "GiB", log.error.needed_kv_gib);
  row("estimated maximum model length", "tokens", count(log.error.estimated_max_model_len));
}

void add_rows(const VllmLog& log, const SkuPlan& p, bool log_release_at_least_0_20, Explanation& e) {
  const VllmLogFigures& g = log.figures;
  const VllmPlan& v = *p.vllm;
  auto row = [&](std::string name, std::string unit, std::optional<double> logged, std::optional<double> predicted,
                 std::string note = "") {
    e.rows.push_back({std::move(name), std::move(unit), logged, predicted, std::move(note)});
  };
  row("total, as CUDA reports it", "GiB", g.total_gpu_gib, gib(static_cast<std::int64_t>(v.total_bytes)));
  row("requested (total x utilization)", "GiB", g.requested_gib, gib(static_cast<std::int64_t>(v.requested_bytes)));
  row("weights", "GiB", g.weights_gib, gib(static_cast<std::int64_t>(v.weights_bytes)));
  row("activation peak", "GiB", g.activation_peak_gib, gib(static_cast<std::int64_t>(v.profile.activation_bytes)));
  row("non-PyTorch", "GiB", g.non_torch_gib, gib(static_cast<std::int64_t>(v.profile.non_torch_bytes)));
  row(v.cudagraph_in_budget ? "CUDA graphs (estimate, in the budget)" : "CUDA graphs (estimate)", "GiB",
      g.cuda_graph_estimated_gib, gib(static_cast<std::int64_t>(v.cudagraph_bytes)));
  if (g.cuda_graph_actual_gib)
    row("CUDA graphs (captured)", "GiB", g.cuda_graph_actual_gib, gib(static_cast<std::int64_t>(v.cudagraph_bytes)),
        "vram-calc predicts the estimate; the captured pool is usually close");
  row("available KV cache", "GiB", g.kv_cache_gib, gib(v.available_kv_bytes));
  row("GPU blocks", "blocks", g.gpu_blocks ? std::optional<double>(static_cast<double>(*g.gpu_blocks)) : std::nullopt,
      static_cast<double>(v.capacity.num_gpu_blocks));
  // What vLLM prints as "GPU KV cache size": blocks x block size up to v0.11; from v0.20 the tokens its maximum
  // concurrency serves (concurrency x max_model_len), which differs for sliding-window and hybrid layouts (the
  // calibration logs of Gemma 4, Qwen 3.8 and LFM2.5 show it). Tokens either way, never bytes.
  const bool served_tokens = p.vllm && v.max_model_len > 0 && log_release_at_least_0_20;
  row("GPU KV cache size", "tokens",
      g.kv_cache_tokens ? std::optional<double>(static_cast<double>(*g.kv_cache_tokens)) : std::nullopt,
      served_tokens ? std::floor(v.capacity.max_concurrency * static_cast<double>(v.max_model_len))
                    : static_cast<double>(v.capacity.kv_cache_tokens),
      served_tokens ? "max concurrency x max_model_len, as v0.20+ prints it" : "blocks x block size");
  row(fmt::format("max concurrency for {} tokens", g.concurrency_tokens_per_request.value_or(v.max_model_len)), "x",
      g.max_concurrency, v.capacity.max_concurrency);
  const VllmLogError& err = log.error;
  if (err.needed_kv_gib || !v.capacity.fits)
    row(fmt::format("KV cache one {}-token request needs", v.max_model_len), "GiB", err.needed_kv_gib,
        gib(static_cast<std::int64_t>(v.capacity.needed_bytes)));
  if (err.estimated_max_model_len || !v.capacity.fits)
    row("estimated maximum model length", "tokens",
        err.estimated_max_model_len ? std::optional<double>(static_cast<double>(*err.estimated_max_model_len))
                                    : std::nullopt,
        static_cast<double>(v.capacity.estimated_max_model_len));
}

// The usual changes, each re-planned: the longest length, fp8 KV cache, more utilization, TP x 2, fewer sequences,
// no CUDA graphs, the graph estimate off.
void add_what_ifs(const std::vector<std::string>& args, const ModelInput& input, const VllmLog& log,
                  const SkuPlan& base, Explanation& e) {
  const VllmPlan& v = *base.vllm;
  std::vector<std::pair<std::string, std::vector<std::string>>> changes;
  const std::uint64_t longest =
      v.capacity.fits ? base.feasibility.max_context_at_concurrency : v.capacity.estimated_max_model_len;
  if (longest > 0 && longest != v.max_model_len)
    changes.push_back({"the longest max_model_len the cache holds", {"--max-model-len", std::to_string(longest)}});
  if (log.settings.kv_cache_dtype.value_or("auto").rfind("fp8", 0) != 0)
    changes.push_back({"an fp8 KV cache (half the bytes per token)", {"--kv-cache-dtype", "fp8"}});
  const double u = v.gpu_memory_utilization;
  if (u < 0.95) changes.push_back({"a higher utilization", {"--gpu-memory-utilization", "0.95"}});
  changes.push_back({"twice the tensor parallelism (twice the GPUs)",
                     {"--tensor-parallel-size", std::to_string(v.tensor_parallel_size * 2)}});
  if (v.max_num_seqs > 64)
    changes.push_back({"fewer sequences per batch (a smaller sampler and fewer CUDA graphs)",
                       {"--max-num-seqs", std::to_string(v.max_num_seqs / 2)}});
  if (v.cudagraph_bytes > 0) changes.push_back({"no CUDA graphs (slower decoding)", {"--enforce-eager"}});
  if (v.cudagraph_in_budget)
    changes.push_back(
        {"the CUDA-graph estimate off (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0; graphs then use the "
         "headroom)",
         {"--cudagraph-estimate", "off"}});
  for (const auto& [change, extra] : changes) {
    std::vector<std::string> a = args;
    // The later flag wins, as on vLLM's command line.
    a.insert(a.end(), extra.begin(), extra.end());
    try {
      const Planned p =
          plan_for(a, input, log.settings.max_model_len.has_value() || extra.front() == "--max-model-len");
      const VllmPlan& w = *p.plan->vllm;
      std::string flags;
      for (const auto& x : extra) flags += (flags.empty() ? "" : " ") + x;
      if (extra.front() == "--cudagraph-estimate") flags = "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0";
      e.what_ifs.push_back({change, flags, p.plan->fits(), gib(w.available_kv_bytes), w.capacity.kv_cache_tokens,
                            w.max_model_len, p.plan->feasibility.max_context_at_concurrency});
    } catch (const Error& err) {
      e.notes.push_back(fmt::format("{}: {}", change, err.what()));
    }
  }
}

void define(CLI::App& app, Flags& f) {
  app.add_option("log", f.input, "The vLLM log (a whole container log is fine), or - for stdin")
      ->type_name("FILE")
      ->required();
  app.add_option("--format", f.format, "Output: human or json")->capture_default_str();
  app.add_flag(
      "--record", f.record,
      "Print the log as one JSON line of the calibration data set (tests/data/vllm_calibration_v021plus.jsonl) "
      "instead, keys and paths redacted");
  app.add_option("-m,--model", f.model, "The model's Hub id or local directory, when the log's is a local path")
      ->type_name("ID|PATH");
  app.add_option("-s,--sku", f.sku, "The GPU, when the log does not name it")->type_name("NAME");
  app.add_option("--gpu-memory", f.gpu_memory, "Per-GPU memory as nvidia-smi reports it")->type_name("SIZE");
  app.add_option("--cuda-total", f.cuda_total, "Per-GPU memory as CUDA reports it")->type_name("SIZE");
  app.add_option("--vllm-version", f.vllm_version, "The release, when the log does not say")->type_name("VERSION");
  app.add_flag("--offline", f.offline, "Use only local sources: the catalog and caches");
  app.add_option("--token", f.token, "Hugging Face token (else HF_TOKEN)")->type_name("TOKEN");
  app.add_option("--ca-bundle", f.ca_bundle, "CA certificates for TLS")->type_name("FILE");
  app.add_option("--connect-timeout", f.connect_timeout, "Seconds to connect to the hub")->type_name("SECONDS");
  app.add_option("--timeout", f.timeout, "Seconds for one whole transfer")->type_name("SECONDS");
  app.footer(R"(
Exit codes: 0 the log's engine started; 1 it failed for memory; 2 not a vLLM startup log, or bad usage; 3 the model
could not be fetched.

Examples:
  kubectl logs deploy/llama | vram-calc explain-log -
  vram-calc explain-log vllm.log --sku H100-80G --format json
  vram-calc explain-log vllm.log --record >> my-logs.jsonl
)");
}

int exit_code_of(const VllmLog& log) {
  if (log.engine_started) return static_cast<int>(ExitCode::Fits);
  return static_cast<int>(log.error.kind == VllmLogFailure::None ? ExitCode::Fits : ExitCode::DoesNotFit);
}

}  // namespace

int run_explain_log(int argc, char** argv) {
  const std::vector<std::string> raw(argv, argv + argc);
  try {
    CLI::App app("vram-calc explain-log: a vLLM startup log beside vram-calc's prediction, component by component",
                 "vram-calc explain-log");
    Flags f;
    define(app, f);
    if (!parse_subcommand_flags(app, argc, argv, "explain-log")) return 0;
    if (f.format != "human" && f.format != "json" && f.format != "table")
      fail_input(fmt::format("explain-log --format: '{}' is not one of human, json", f.format));
    Explanation e;
    e.log = parse_vllm_log(read_input(f.input));
    if (e.log.memory_lines == 0) {
      std::fputs("vram-calc: explain-log: not a vLLM startup log (no memory profiling line found)\n", stderr);
      return static_cast<int>(ExitCode::BadInput);
    }
    if (f.record) {
      write_output(vllm_log_record(e.log) + "\n");
      return 0;
    }
    std::vector<std::string> args = plan_args(e.log, f, e);
    if (args.empty()) {  // no GPU: the logged figures alone
      add_logged_rows(e.log, e);
      write_output(f.format == "json" ? render_explanation_json(e) : render_explanation_human(e));
      return exit_code_of(e.log);
    }
    const ModelInput input = resolve_for(args);
    const Planned p = plan_for(args, input, e.log.settings.max_model_len.has_value());
    if (!p.plan->vllm) fail_input("explain-log: the plan has no vLLM estimate");
    e.args.assign(args.begin() + 1, args.end());
    if (e.gpu.empty()) e.gpu = p.plan->sku.name;
    e.predicted_fits = p.plan->fits();
    add_rows(e.log, *p.plan, p.report.settings.vllm.version.at_least(0, 20), e);
    add_what_ifs(args, input, e.log, *p.plan, e);
    for (const auto& w : p.report.all_warnings(*p.plan)) e.notes.push_back(w);
    write_output(f.format == "json" ? render_explanation_json(e) : render_explanation_human(e));
    return exit_code_of(e.log);
  } catch (...) {
    return report_failure(raw);
  }
}

}  // namespace vramcalc::cli
