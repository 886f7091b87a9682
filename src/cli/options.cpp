// Flags use vLLM's names where vLLM has one. Numbers are read as text and validated here, so every
// rejection is one line naming the flag.
#include "cli/options.hpp"
#include "cli/completions.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/model/quantization.hpp"
#include "vramcalc/sources/hf_cache.hpp"
#include "vramcalc/sources/profile.hpp"

#ifndef VRAMCALC_VERSION
#define VRAMCALC_VERSION "0.0.0"
#endif
// Both set at configure time (cmake/build_info.cmake): `git rev-parse --short HEAD` and the catalog's date.
#ifndef VRAMCALC_COMMIT
#define VRAMCALC_COMMIT "unknown"
#endif
#ifndef VRAMCALC_CATALOG_DATE
#define VRAMCALC_CATALOG_DATE "unknown"
#endif

namespace vramcalc::cli {

namespace {

constexpr const char* kFooter = R"(
The KAITO plan (seed 000: KAITO's sizing guide, measured on vLLM v0.10.1), in GiB = 2^30 bytes:
  bytes_per_token = 2 x attention_layers x kv_heads x head_dim x kv_dtype_bytes
                    (the config's own head_dim; only layers that hold KV per token;
                     MLA models: layers x (kv_lora_rank + qk_rope_head_dim) x kv_dtype_bytes)
  n   = max(1, ceil((1.02 W + bytes_per_token L) / (V u - 2.3)))     2.3 = 0.6 non-PyTorch + 1.7 activations
  N   = ceil(n / gpus_per_node) x gpus_per_node
  max_model_len = min(floor((N V u - 1.02 W - 2.3 N) / bytes_per_token), max_position_embeddings)
  W = weight GiB, V = GPU memory GiB (nvidia-smi total), u = --gpu-memory-utilization, L = --max-model-len.

Estimators (--estimator):
  kaito  (default) KAITO's rule of thumb above: conservative fixed overheads, KV divided over all GPUs.
         Use it to size a KAITO workspace, or when you want margin.
  vllm   What vLLM v0.10.x itself will compute at startup, per GPU: total as CUDA reports it x utilization,
         minus weights on that GPU, the profiled activation peak and non-PyTorch memory, gives "Available KV
         cache memory"; then blocks, "GPU KV cache size", "Maximum concurrency" and the max_model_len check.
         Use it to choose --gpu-memory-utilization, --max-model-len and --max-num-seqs for a real deployment;
         --kv-cache-memory SIZE reproduces vLLM's numbers from a budget you already know.
  wizard vllm-wizard's model (seed 003): vram-calc's weights and KV with overhead max(1 GiB, 2% of the GPU)
         + 0.25 GiB per extra TP rank and a 1.15 fragmentation factor on the KV cache. A quick, simple margin.

Engines (--engine):
  vllm   (default) sized by the estimator above.
  tgi    Text Generation Inference, per its estimation notebook (seed 001), in GB = 10^9 bytes:
         needed = weights + 1.2 GB CUDA per GPU + prefill + decode forward passes
                  + ceil(max_batch_prefill_tokens / max_input_tokens) x (max_total_tokens - 1) x KV bytes per token
         available = GPUs x marketed GB x --cuda-memory-fraction x 0.95.

Every engine and estimator ends in a feasibility report: headroom per GPU (after --headroom-gib), OOM risk
(low >= 2 GiB, medium 0-2, high < 0; --risk-thresholds-gib), the most sequences at the context and the longest
context at --concurrency; when it does not fit, the nearest changes that would make it fit.

Commands:
  vram-calc --model ID|PATH --sku NAME[,NAME...|all]   plan (default command)
  vram-calc skus                                       list GPU and instance SKUs
  vram-calc models                                     list the bundled model catalog

Exit codes:
  0  the plan fits (with several SKUs or --sweep: at least one fits); listings succeeded
  1  the plan was computed and does not fit
  2  bad usage or bad local input (flags, files, configs)
  3  a remote source failed (network, authentication, not found, malformed remote data)
)";

std::uint64_t parse_count(const std::string& flag, const std::string& text, std::uint64_t max) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) fail_input(fmt::format("{}: expected a positive whole number, got \"{}\"", flag, text));
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE || v == 0 || v > max)
    fail_input(fmt::format("{}: {} is out of range (1 to {})", flag, text, max));
  return v;
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

}  // namespace

std::string version_string() {
  return fmt::format("vram-calc {} (commit {}, catalog {})", VRAMCALC_VERSION, VRAMCALC_COMMIT, VRAMCALC_CATALOG_DATE);
}

namespace {

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

std::string canonical_name(std::string name, const std::vector<std::string>& allowed, const std::string& flag) {
  if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail_input(fmt::format("{}: \"{}\" is not one of {}", flag, name, list));
  }
  return name;
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

}  // namespace

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

Options parse_options(int argc, char** argv, std::shared_ptr<const Profile> preloaded) {
  Options o;
  for (int i = 1; i < argc; ++i) o.args.emplace_back(argv[i]);
  CLI::App app{
      "vram-calc: how much GPU memory an LLM needs to be served with vLLM or TGI, how many GPUs and nodes "
      "of a SKU that takes, and the longest max_model_len they hold.",
      "vram-calc"};
  app.footer(kFooter);
  app.set_version_flag("--version", version_string());
  app.get_formatter()->column_width(36);
  // A flag given twice takes its last value, as vLLM's argparse does, so a script can append overrides.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  std::string format = "table";
  std::string max_model_len, utilization, gpus, tp, pp, gpn, non_torch, activation, params_b, weight_bytes, gpu_memory;
  std::string quantization, dtype, kv_dtype, model, sku;
  std::string revision, token, ca_bundle, connect_timeout, timeout;
  std::string engine, estimator, vllm_version, kv_cache_memory, concurrency, mnbt, mns, block_size, dp;
  std::string cudagraph_memory, fragmentation, headroom, risk, overhead;
  std::string max_input, max_total, max_prefill, cuda_fraction, cuda_overhead;
  std::string sweep, sweep_tokens, emit, profile;
  bool expert_parallel = false, flashinfer_sampler = false, enforce_eager = false;
  bool offline = false, refresh = false;
  app.add_option("-m,--model", model,
                 "Model: a config.json path, a model directory (config.json + safetensors headers), or a Hugging Face "
                 "id (bundled catalog, caches, or the Hub)");
  app.add_option("-s,--sku", sku,
                 "GPU or instance SKU (A100-80G, Standard_NC24ads_A100_v4, ...), a comma list, or all");
  app.add_option("--profile", profile,
                 "YAML deployment profile (vllm-wizard's sections: model, hardware, workload, policy, outputs; "
                 "_gb keys are GiB); flags override it");
  app.add_option("--format", format,
                 "Output: table, json, csv or markdown (md; for pull-request comments and CI summaries)")
      ->default_str("table");
  app.add_option("--engine", engine, "Server to size: vllm or tgi")->default_str("vllm");
  app.add_option("--dtype", dtype,
                 "Weight dtype: auto|float16|bfloat16|float32 (auto: the config's; float32 served as bfloat16)")
      ->default_str("auto");
  app.add_option("--quantization,-q", quantization,
                 "Quantize an unquantized checkpoint at load time: fp8|awq|gptq|int8|bitsandbytes (Q8, Q4 accepted)");
  app.add_option("--kv-cache-dtype", kv_dtype,
                 "KV cache dtype: auto|fp8|fp8_e4m3|fp8_e5m2 (what-if: float16|bfloat16|float32)")
      ->default_str("auto");
  app.add_option("--max-model-len,--context", max_model_len,
                 "Context length L to size for (kaito: 2048, as KAITO; vllm, wizard: the model's maximum; tgi: sets "
                 "--max-total-tokens)");
  app.add_option("--concurrency", concurrency, "Sequences of max_model_len that must fit at once")->default_str("1");
  app.add_option("--gpu-memory-utilization", utilization, "Fraction u of GPU memory vLLM may use, in (0, 1]")
      ->default_str("0.90; vllm estimator: 0.92 from --vllm-version 0.22");
  app.add_option("--gpu-memory", gpu_memory, "Per-GPU memory V replacing the SKU's figure: 48GiB, 80GB, 24000MiB, ...");
  app.add_option("--gpus", gpus, "Pin the GPU count instead of searching it");
  app.add_option("--tensor-parallel-size,--num-shard", tp, "Pin tensor parallelism (TGI: --num-shard)");
  app.add_option("--pipeline-parallel-size", pp, "Pin pipeline parallelism");
  app.add_option("--gpus-per-node", gpn, "GPUs per node (bare GPU SKUs default to 1)");
  app.add_option("--fragmentation-factor", fragmentation, "Multiplier on the KV cache, from 1 to 10")
      ->default_str("1.0; wizard: 1.15");
  app.add_option("--headroom-gib", headroom, "GiB per GPU to keep free beyond the estimate")->default_str("0");
  app.add_option("--risk-thresholds-gib", risk, "Headroom per GPU for low,medium OOM risk")->default_str("2,0");
  app.add_option("--non-torch-gib", non_torch, "kaito: non-PyTorch memory per GPU in GiB")->default_str("0.6");
  app.add_option("--activation-gib", activation, "kaito: activation peak per GPU in GiB")->default_str("1.7");
  app.add_option("--overhead-gib", overhead,
                 "wizard: fixed overhead in GiB replacing max(1 GiB, 2%) + 0.25 GiB x (TP - 1)");
  app.add_option("--params-b", params_b, "Override the parameter count, in billions");
  app.add_option("--weight-bytes", weight_bytes, "Override the weight size: bytes or a size with a unit (15GiB)");

  app.add_option("--estimator", estimator,
                 "Memory model for --engine vllm: kaito (KAITO's rule of thumb, seed 000), vllm (what vLLM v0.10.x "
                 "will log) or wizard (vllm-wizard, seed 003)")
      ->default_str("kaito");
  app.add_option("--vllm-version", vllm_version, "vLLM release whose accounting to follow (0.10, 0.11, v0.10.1.1, ...)")
      ->default_str("0.10");
  app.add_option("--kv-cache-memory", kv_cache_memory,
                 "vllm: per-GPU KV cache budget (bytes or 11.03GiB); skips the profile model as vLLM does");
  app.add_option("--cudagraph-memory", cudagraph_memory,
                 "vllm: CUDA-graph pool per GPU (the figure vLLM logs), replacing the 0.5 GiB rule of thumb; "
                 "v0.21+ subtracts it from the KV budget");
  app.add_flag("--enforce-eager", enforce_eager, "vllm: no CUDA graphs (no graph pool)");
  app.add_option("--max-num-batched-tokens", mnbt, "vllm: tokens per profiled batch (default by GPU class)");
  app.add_option("--max-num-seqs", mns, "vllm: sequences per batch (default by GPU class)");
  app.add_option("--block-size", block_size, "vllm: KV cache block size in tokens (default 16; 64 for MLA)");
  app.add_option("--data-parallel-size", dp, "vllm: data-parallel replicas")->default_str("1");
  app.add_flag("--enable-expert-parallel", expert_parallel, "vllm: spread MoE experts over DP x TP ranks");
  app.add_flag("--flashinfer-sampler", flashinfer_sampler,
               "vllm: the server samples with FlashInfer (VLLM_USE_FLASHINFER_SAMPLER=1; images before v0.11.1), "
               "which profiles fewer vocab-sized copies");

  app.add_option(
      "--max-input-tokens", max_input,
      "tgi: longest prompt (default: max_total_tokens - 1; TGI v2's min(max_position_embeddings, 4096) - 1)");
  app.add_option(
      "--max-total-tokens", max_total,
      "tgi: prompt + generated tokens per request (default: --context, else min(max_position_embeddings, 4096))");
  app.add_option(
      "--max-batch-prefill-tokens", max_prefill,
      "tgi: tokens per prefill batch (default: max_input_tokens + 50; with --concurrency N: N x max_input_tokens)");
  app.add_option("--cuda-memory-fraction", cuda_fraction, "tgi: fraction of GPU memory TGI may use")
      ->default_str("1.0");
  app.add_option("--cuda-overhead-gb", cuda_overhead, "tgi: CUDA context per GPU in GB (1 GB x 1.2 buffer)")
      ->default_str("1.2");

  app.add_option("--sweep", sweep,
                 fmt::format("One plan per value: FLAG=START:END:STEP (e.g. --sweep max-model-len=4096:32768:4096); at "
                             "most {} rows (values x SKUs)",
                             limits::kMaxSweepRows));
  app.add_option(
      "--sweep-tokens", sweep_tokens,
      "tgi: START:END:STEP over t, with max_input_tokens t-1, max_total_tokens t, max_batch_prefill_tokens t");
  app.add_option("--emit", emit,
                 "Print only a ready-to-run artefact: vllm-args, vllm-command, tgi-command or k8s (comma list)");

  app.add_option("--revision", revision, "Hub revision: branch, tag or commit (bypasses the catalog)");
  app.add_option("--token", token, "Hugging Face token (else HF_TOKEN, else the huggingface_hub token file)");
  app.add_flag("--offline", offline, "Use only local sources: files, caches, the catalog (also HF_HUB_OFFLINE=1)");
  app.add_flag("--refresh", refresh, "Fetch from the hub again, skipping the caches and the catalog");
  app.add_option("--ca-bundle", ca_bundle,
                 "CA certificates for TLS (else CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE)");
  app.add_option("--connect-timeout", connect_timeout, "Seconds to connect to the hub")->default_str("10");
  app.add_option("--timeout", timeout, "Seconds for one whole transfer")->default_str("60");

  auto* skus_cmd = app.add_subcommand("skus", "List GPU and instance SKUs");
  auto* models_cmd = app.add_subcommand("models", "List the bundled model catalog");
  skus_cmd->add_option("--format", format, "Output: table or json");
  models_cmd->add_option("--format", format, "Output: table or json");
  app.require_subcommand(0, 1);

  // Hidden (group ""): what the build runs to write the shell completions and the man page.
  std::string completions;
  bool man = false;
  app.add_option("--completions", completions, "Print a completion script: bash, zsh or fish")->group("");
  app.add_flag("--man", man, "Print the man page (roff)")->group("");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    o.command = Command::Help;
    o.help_text = app.help();
    return o;
  } catch (const CLI::CallForAllHelp&) {
    o.command = Command::Help;
    o.help_text = app.help("", CLI::AppFormatMode::All);
    return o;
  } catch (const CLI::CallForVersion&) {
    o.command = Command::Version;
    return o;
  } catch (const CLI::ParseError& e) {
    // CLI11's own exit codes are folded into ours: every usage error is exit 2.
    std::string what = e.what();
    for (auto& c : what)
      if (c == '\n') c = ' ';
    fail_input(fmt::format("{} (see vram-calc --help)", what));
  }

  if (!completions.empty() || man) {
    // Printed as is, like --help.
    const std::string shell = man ? "" : canonical_name(completions, completion_shells(), "--completions");
    const CommandSpec cli = describe_cli(app);
    o.command = Command::Help;
    o.help_text = man ? man_page(cli, kFooter, fmt::format("vram-calc {}", VRAMCALC_VERSION), VRAMCALC_CATALOG_DATE)
                      : completion_script(cli, shell);
    return o;
  }

  if (format == "table") o.format = Format::Table;
  else if (format == "json") o.format = Format::Json;
  else if (format == "csv") o.format = Format::Csv;
  else if (format == "markdown" || format == "md") o.format = Format::Markdown;
  else fail_input(fmt::format("--format: \"{}\" is not one of table, json, csv, markdown", format));

  if (skus_cmd->parsed() || models_cmd->parsed()) {
    if (o.format == Format::Csv || o.format == Format::Markdown)
      fail_input(fmt::format("--format {} is for plans; listings are table or json", format));
    o.command = skus_cmd->parsed() ? Command::ListSkus : Command::ListModels;
    return o;
  }

  // A profile fills what the command line left unset (flags override it).
  if (!profile.empty()) {
    o.loaded_profile = preloaded ? std::move(preloaded) : std::make_shared<const Profile>(load_profile(profile));
    const Profile& pr = *o.loaded_profile;
    o.profile = profile;
    auto fill = [](std::string& flag, const auto& value) {
      if (flag.empty() && value) flag = fmt::format("{}", *value);
    };
    fill(model, pr.model_id);
    fill(revision, pr.revision);
    fill(dtype, pr.dtype);
    fill(quantization, pr.quantization);
    fill(kv_dtype, pr.kv_cache_dtype);
    fill(max_model_len, pr.max_model_len);
    if (max_model_len.empty() && pr.prompt_tokens && pr.gen_tokens)
      max_model_len = std::to_string(*pr.prompt_tokens + *pr.gen_tokens);  // vllm-wizard's context
    if (pr.params_b && params_b.empty()) params_b = fmt_number(*pr.params_b);
    fill(sku, pr.sku);
    fill(sku, pr.gpu_name);
    fill(gpus, pr.gpus);
    if (pr.vram_gb && gpu_memory.empty()) gpu_memory = fmt_number(*pr.vram_gb) + "GiB";
    fill(tp, pr.tp_size);
    fill(concurrency, pr.concurrency);
    if (pr.gpu_memory_utilization && utilization.empty()) {
      if (engine == "tgi") o.notes.push_back("policy.gpu_memory_utilization is vLLM's; --engine tgi ignores it");
      else utilization = fmt_number(*pr.gpu_memory_utilization);
    }
    if (pr.fragmentation_factor && fragmentation.empty()) fragmentation = fmt_number(*pr.fragmentation_factor);
    if (pr.headroom_gb && headroom.empty()) headroom = fmt_number(*pr.headroom_gb);
    if (pr.overhead_gb && overhead.empty()) {
      if (estimator == "wizard") overhead = fmt_number(*pr.overhead_gb);
      else o.notes.push_back("policy.overhead_gb applies to --estimator wizard only; ignored");
    }
    if (app.count("--emit") == 0)
      for (const auto& e : pr.emit) emit += (emit.empty() ? "" : ",") + e;
    o.report.extra_vllm_args = pr.vllm_args;
    if (pr.interconnect)
      o.notes.push_back(fmt::format("hardware.interconnect {} is recorded, not sized", *pr.interconnect));
    if (pr.mode) o.notes.push_back(fmt::format("workload.mode {} does not change memory sizing", *pr.mode));
    if (pr.streaming) o.notes.push_back("workload.streaming does not change memory sizing");
  }
  o.model = model;
  o.sku = sku;
  if (o.model.empty())
    fail_input("--model is required (a config.json, a model directory or a catalog id; see vram-calc models)");
  if (o.sku.empty()) fail_input("--sku is required (a GPU or instance name, a comma list, or all; see vram-calc skus)");

  // Engine and estimator.
  ReportSettings& rs = o.report;
  KaitoSettings& k = rs.kaito;
  VllmSettings& v = rs.vllm;
  TgiSettings& t = rs.tgi;
  if (engine.empty()) engine = "vllm";
  rs.engine = canonical_name(engine, {"vllm", "tgi"}, "--engine");
  if (rs.engine == "tgi" && !estimator.empty())
    fail_input("--estimator chooses vLLM's memory model; --engine tgi has its own (seed 001)");
  if (estimator.empty()) estimator = "kaito";
  rs.estimator = canonical_name(estimator, {"kaito", "vllm", "wizard"}, "--estimator");
  const bool tgi = rs.engine == "tgi";
  const bool vllm_est = !tgi && rs.estimator == "vllm";
  const bool wizard = !tgi && rs.estimator == "wizard";

  // Flags that belong to one engine or estimator.
  auto only = [](bool allowed, std::initializer_list<std::pair<const char*, bool>> flags, const char* needs) {
    if (allowed) return;
    for (const auto& [name, given] : flags)
      if (given) fail_input(fmt::format("{} needs {}", name, needs));
  };
  only(vllm_est,
       {{"--vllm-version", !vllm_version.empty()},
        {"--kv-cache-memory", !kv_cache_memory.empty()},
        {"--max-num-batched-tokens", !mnbt.empty()},
        {"--max-num-seqs", !mns.empty()},
        {"--block-size", !block_size.empty()},
        {"--data-parallel-size", !dp.empty()},
        {"--enable-expert-parallel", expert_parallel},
        {"--flashinfer-sampler", flashinfer_sampler},
        {"--cudagraph-memory", !cudagraph_memory.empty()},
        {"--enforce-eager", enforce_eager}},
       "--estimator vllm");
  only(tgi,
       {{"--max-input-tokens", !max_input.empty()},
        {"--max-total-tokens", !max_total.empty()},
        {"--max-batch-prefill-tokens", !max_prefill.empty()},
        {"--cuda-memory-fraction", !cuda_fraction.empty()},
        {"--cuda-overhead-gb", !cuda_overhead.empty()},
        {"--sweep-tokens", !sweep_tokens.empty()}},
       "--engine tgi");
  only(wizard, {{"--overhead-gib", !overhead.empty()}}, "--estimator wizard");
  only(!tgi, {{"--gpu-memory-utilization", !utilization.empty()}, {"--pipeline-parallel-size", !pp.empty()}},
       "--engine vllm (TGI takes --cuda-memory-fraction)");
  only(!tgi && !wizard, {{"--non-torch-gib", !non_torch.empty()}, {"--activation-gib", !activation.empty()}},
       "--estimator kaito or vllm");

  if (!vllm_version.empty()) v.version = parse_vllm_version(vllm_version);
  if (max_model_len == "auto") {
    if (!vllm_est) fail_input("--max-model-len auto needs --estimator vllm");
    v.max_model_len_auto = true;
  } else if (!max_model_len.empty()) {
    k.max_model_len = parse_count("--max-model-len", max_model_len, 1ULL << 40);
    k.max_model_len_given = true;
    v.max_model_len = k.max_model_len;
  }
  if (!kv_cache_memory.empty()) v.kv_cache_memory = parse_size_flag("--kv-cache-memory", kv_cache_memory);
  if (!concurrency.empty()) rs.concurrency = parse_count("--concurrency", concurrency, 1'000'000);
  v.concurrency = rs.concurrency;
  k.concurrency = rs.concurrency;
  if (!mnbt.empty()) v.max_num_batched_tokens = parse_count("--max-num-batched-tokens", mnbt, 1ULL << 32);
  if (!mns.empty()) v.max_num_seqs = parse_count("--max-num-seqs", mns, 1ULL << 24);
  if (!block_size.empty()) v.block_size = parse_count("--block-size", block_size, 1ULL << 20);
  if (!dp.empty()) v.data_parallel_size = parse_count("--data-parallel-size", dp, 100'000);
  v.expert_parallel = expert_parallel;
  if (!cudagraph_memory.empty()) v.cudagraph_memory = parse_size_flag("--cudagraph-memory", cudagraph_memory);
  v.enforce_eager = enforce_eager;
  const char* fi = std::getenv("VLLM_USE_FLASHINFER_SAMPLER");
  v.flashinfer_sampler = flashinfer_sampler || (fi != nullptr && std::string(fi) == "1");
  if (!utilization.empty()) {
    k.gpu_memory_utilization = parse_number("--gpu-memory-utilization", utilization);
    if (!(k.gpu_memory_utilization > 0 && k.gpu_memory_utilization <= 1))
      fail_input(fmt::format("--gpu-memory-utilization: {} is outside (0, 1]", utilization));
    v.gpu_memory_utilization = k.gpu_memory_utilization;
  }
  if (!gpus.empty()) k.gpus = parse_count("--gpus", gpus, 100'000);
  if (!tp.empty()) k.tensor_parallel_size = parse_count(tgi ? "--num-shard" : "--tensor-parallel-size", tp, 100'000);
  if (!pp.empty()) k.pipeline_parallel_size = parse_count("--pipeline-parallel-size", pp, 100'000);
  v.tensor_parallel_size = k.tensor_parallel_size;
  v.pipeline_parallel_size = k.pipeline_parallel_size;
  if (vllm_est && k.gpus && !k.tensor_parallel_size && !k.pipeline_parallel_size)
    v.tensor_parallel_size = k.gpus;  // --gpus N pins TP N (one node) for the vLLM estimator
  if (wizard) rs.wizard.tensor_parallel_size = k.tensor_parallel_size ? k.tensor_parallel_size : k.gpus;
  if (tgi) rs.tgi_num_shard = k.tensor_parallel_size ? k.tensor_parallel_size : k.gpus;
  if (!gpn.empty()) rs.gpus_per_node_override = static_cast<int>(parse_count("--gpus-per-node", gpn, 1024));
  if (!non_torch.empty()) k.non_torch_gib = parse_gib("--non-torch-gib", non_torch, 1024, true);
  if (!activation.empty()) k.activation_gib = parse_gib("--activation-gib", activation, 1024, true);

  // Shared axes.
  rs.fragmentation_factor = wizard ? 1.15 : 1.0;
  if (!fragmentation.empty()) {
    rs.fragmentation_factor = parse_number("--fragmentation-factor", fragmentation);
    if (!(rs.fragmentation_factor >= 1 && rs.fragmentation_factor <= 10))
      fail_input(fmt::format("--fragmentation-factor: {} is outside 1 to 10", fragmentation));
  }
  if (!headroom.empty()) rs.headroom_gib = parse_gib("--headroom-gib", headroom, 1024);
  if (!risk.empty()) rs.risk_thresholds = parse_risk_thresholds(risk);
  if (!overhead.empty()) rs.wizard.overhead_gib = parse_gib("--overhead-gib", overhead, 1024);

  // TGI's flags, with the shared ones mapped onto them.
  if (!max_input.empty()) t.max_input_tokens = parse_count("--max-input-tokens", max_input, 1ULL << 40);
  if (!max_total.empty()) t.max_total_tokens = parse_count("--max-total-tokens", max_total, 1ULL << 40);
  else if (tgi && k.max_model_len_given) t.max_total_tokens = k.max_model_len;  // --context sizes the request
  // A request length without a prompt length: the prompt may take all but one token (TGI v2 itself would keep its
  // own default, min(max_position_embeddings, 4096) - 1, and refuse a shorter total).
  if (tgi && t.max_total_tokens && !t.max_input_tokens)
    t.max_input_tokens = *t.max_total_tokens > 1 ? *t.max_total_tokens - 1 : 1;
  if (!max_prefill.empty())
    t.max_batch_prefill_tokens = parse_count("--max-batch-prefill-tokens", max_prefill, 1ULL << 40);
  if (tgi && rs.concurrency > 1 && !t.max_batch_prefill_tokens) {
    // N sequences at once: a prefill batch of N prompts, so batch = ceil(prefill / input) = N.
    if (!t.max_input_tokens)
      fail_input(
          "--concurrency with --engine tgi needs --max-input-tokens (batch = max_batch_prefill_tokens / "
          "max_input_tokens)");
    t.max_batch_prefill_tokens = *t.max_input_tokens * rs.concurrency;
  }
  if (!cuda_fraction.empty()) {
    t.cuda_memory_fraction = parse_number("--cuda-memory-fraction", cuda_fraction);
    if (!(t.cuda_memory_fraction > 0 && t.cuda_memory_fraction <= 1))
      fail_input(fmt::format("--cuda-memory-fraction: {} is outside (0, 1]", cuda_fraction));
  }
  if (!cuda_overhead.empty()) t.cuda_overhead_gb = parse_gib("--cuda-overhead-gb", cuda_overhead, 1000, false, "GB");

  if (!params_b.empty()) {
    o.weights.params_b = parse_number("--params-b", params_b);
    if (*o.weights.params_b <= 0 || *o.weights.params_b > 1e6)
      fail_input(fmt::format("--params-b: {} is out of range (0 < N <= 1000000 billion)", params_b));
  }
  if (!weight_bytes.empty()) o.weights.weight_bytes = parse_size_flag("--weight-bytes", weight_bytes);
  if (!gpu_memory.empty()) rs.gpu_memory_override = parse_size_flag("--gpu-memory", gpu_memory);
  if (!dtype.empty()) o.weights.dtype = dtype;
  if (!kv_dtype.empty()) rs.kv_cache_dtype_flag = kv_dtype;
  if (!quantization.empty() && quantization != "none") {
    o.weights.load_quantization = quantization_flag_scheme(quantization);
    if (!o.weights.load_quantization)
      fail_input(fmt::format("--quantization: \"{}\" is not one of fp8, awq, gptq, int8, bitsandbytes (or Q8, Q4)",
                             quantization));
    rs.quantization_flag = quantization;
  }
  rs.dtype_flag = o.weights.dtype;
  rs.weights = o.weights;

  // Sweeps and emitted artefacts.
  if (!sweep.empty() && !sweep_tokens.empty()) fail_input("--sweep and --sweep-tokens: pass one of them");
  if (!sweep_tokens.empty()) o.sweep = Sweep{"tokens", sweep_values("--sweep-tokens", sweep_tokens)};
  if (!sweep.empty()) {
    const auto eq = sweep.find('=');
    if (eq == std::string::npos) fail_input(fmt::format("--sweep: expected FLAG=START:END:STEP, got \"{}\"", sweep));
    std::string flag = sweep.substr(0, eq);
    if (flag.rfind("--", 0) != 0) flag = "--" + flag;
    if (!sweepable_flag(flag)) {
      std::string list;
      for (const auto& g : sweep_flag_groups()) list += (list.empty() ? "" : ", ") + g.front().substr(2);
      fail_input(fmt::format("--sweep: {} is not a numeric flag it can sweep ({})", flag, list));
    }
    o.sweep = Sweep{flag, sweep_values("--sweep " + flag, sweep.substr(eq + 1))};
  }
  for (const auto& e : split_list(emit))
    o.emit.push_back(canonical_name(e, {"vllm-args", "vllm-command", "tgi-command", "k8s"}, "--emit"));
  for (const auto& e : o.emit) {
    if (e == "tgi-command" && !tgi) fail_input("--emit tgi-command needs --engine tgi");
    if ((e == "vllm-args" || e == "vllm-command") && tgi) fail_input(fmt::format("--emit {} needs --engine vllm", e));
  }
  if (!o.emit.empty() && o.sweep) fail_input("--emit prints one plan's artefact; it does not combine with a sweep");

  o.hub = hub_options_from_environment();
  if (!revision.empty()) {
    o.hub.revision = revision;
    o.hub.revision_given = true;
    rs.revision = revision;
  }
  o.hub.token = resolve_token(token.empty() ? std::nullopt : std::optional<std::string>(token));
  o.hub.offline = o.hub.offline || offline;
  o.hub.refresh = refresh;
  if (o.hub.offline && o.hub.refresh) fail_input("--refresh needs the network, but --offline / HF_HUB_OFFLINE is set");
  if (!ca_bundle.empty()) o.hub.http.ca_bundle = ca_bundle;
  if (!connect_timeout.empty())
    o.hub.http.connect_timeout_s = static_cast<long>(parse_count("--connect-timeout", connect_timeout, 3600));
  if (!timeout.empty()) o.hub.http.timeout_s = static_cast<long>(parse_count("--timeout", timeout, 86400));
  return o;
}

}  // namespace vramcalc::cli
