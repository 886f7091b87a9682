// The flags (CLI11), --help, and parse_options: define the flags -> parse argv -> apply the profile -> build the
// settings -> build the Hub options (the steps after parsing are settings.cpp). Flags use vLLM's names where vLLM
// has one. Numbers are read as text and validated after, so every rejection is one line naming the flag. The
// choice flags' values come from their tables: engines/method.hpp and render/choices.hpp.
#include "cli/options.hpp"
#include "cli/completions.hpp"
#include "cli/flags.hpp"
#include "cli/help.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/core/text.hpp"
#include "vramcalc/engines/method.hpp"
#include "vramcalc/render/choices.hpp"

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
The KAITO plan (--kaito-rules guide: KAITO sizing guide, measured on vLLM v0.10.1), in GiB = 2^30 bytes:
  bytes_per_token = 2 x attention_layers x kv_heads x head_dim x kv_dtype_bytes
                    (the config's own head_dim; only layers that hold KV per token;
                     MLA models: layers x (kv_lora_rank + qk_rope_head_dim) x kv_dtype_bytes)
  n   = max(1, ceil((1.02 W + bytes_per_token L) / (V u - 2.3)))     2.3 = 0.6 non-PyTorch + 1.7 activations
  N   = ceil(n / gpus_per_node) x gpus_per_node on an instance; a bare GPU: one node of the smallest TP >= n
        that vLLM accepts (up to 8), else nodes of 8 with pipeline parallelism between them
  max_model_len = min(floor((N V u - 1.02 W - 2.3 N) / bytes_per_token), max_position_embeddings)
  W = weight GiB, V = GPU memory GiB (nvidia-smi total), u = --gpu-memory-utilization, L = --max-model-len.
  --kaito-rules controller (KAITO controller, what it provisions today; V: its SKU table's GiB, g = GPUs per
  node, nodes = N / g, w = 1.02 W / N):
  n   = int(1.02 W / ((0.84 V - 2.3 - bytes_per_token L / g) / 1.05)) + 1      (+1 even when it divides exactly)
  max_model_len = min(int((0.84 V - w - (2.3 + 0.05 w)) / (bytes_per_token / g / nodes)),
                      max_position_embeddings), rounded down to a multiple of 256; MLA: not divided by g

Estimators (--estimator):
  vllm   (default) What vLLM itself will compute at startup (--vllm-version, the newest modelled release by
         default), per GPU: total as CUDA reports it x utilization, minus weights on that GPU (with the rotary
         tables vLLM builds at load), the profiled activation peak, non-PyTorch memory and (v0.20+) the CUDA-graph
         estimate, gives "Available KV cache memory"; then blocks, "GPU KV cache size", "Maximum concurrency" and
         the max_model_len check. Without
         --max-model-len, KAITO's shape: the fewest GPUs that hold a 2048-token request, then the longest
         context they hold (rounded down to 256), up to the model's maximum. The KAITO plan is shown beside it.
  kaito  KAITO's rule of thumb above (--kaito-rules guide), or what KAITO's controller provisions today
         (--kaito-rules controller): conservative fixed overheads, KV divided over all GPUs.
  wizard vllm-wizard's model: vram-calc's weights and KV with overhead max(1 GiB, 2% of the GPU)
         + 0.25 GiB per extra TP rank and a 1.15 fragmentation factor on the KV cache. A quick, simple margin.

Engines (--engine):
  vllm   (default) sized by the estimator above.
  tgi    Text Generation Inference, per the TGI estimation notebook, in GB = 10^9 bytes:
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
  vram-calc check FILE_OR_DIR...                       gate Kubernetes manifests that run vLLM or TGI
                                                       (vram-calc check --help)
  vram-calc serve [--host H] [--port P]                the planner over HTTP, and a web page at /ui
                                                       (vram-calc serve --help)
  vram-calc explain-log FILE|-                         a vLLM startup log beside vram-calc's prediction
                                                       (vram-calc explain-log --help)

Exit codes:
  0  the plan fits (with several SKUs or --sweep: at least one fits); listings succeeded
  1  the plan was computed and does not fit; with --strict, also a plan that is uncertain (a guessed
     parameter count, weights or KV cache: an architecture or a field vram-calc does not know)
  2  bad usage or bad local input (flags, files, configs)
  3  a remote source failed (network, authentication, not found, malformed remote data)
)";

// "a, b or c".
std::string or_list(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

void add_unique(std::vector<std::string>& names, std::string_view name) {
  if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
}

// --format's help: the names, and for a format with another spelling or a particular use, both in brackets.
std::string format_help() {
  std::string out = "Output: " + or_list(format_names(false));
  for (const auto& info : kFormats)
    if (!info.alias.empty() || !info.use.empty())
      out += fmt::format(" ({}{}{})", info.alias, !info.alias.empty() && !info.use.empty() ? "; " : "", info.use);
  return out;
}

// --estimator's help: each memory model of the engine that has several, with the source its formulas follow.
std::string estimator_help() {
  std::vector<std::string> models;
  std::string_view engine;
  for (const auto& info : kMethods) {
    if (info.estimator.empty()) continue;
    engine = info.engine;
    models.push_back(fmt::format("{} ({})", info.estimator, info.source));
  }
  return fmt::format("Memory model for --engine {}: {}", engine, or_list(models));
}

// The model, the SKUs, the profile, the output, and the sizing flags every engine reads (in --help's order).
void define_plan_flags(CLI::App& app, RawFlags& f) {
  app.add_option("-m,--model", f.model,
                 "Model: a config.json path, a model directory (config.json + safetensors headers), or a Hugging Face "
                 "id (bundled catalog, caches, or the Hub)");
  app.add_option("-s,--sku", f.sku,
                 "GPU or instance SKU (A100-80G, Standard_NC24ads_A100_v4, ...), a comma list, or all");
  app.add_option("--profile", f.profile,
                 "YAML deployment profile (vllm-wizard's sections: model, hardware, workload, policy, outputs; "
                 "_gb keys are GiB); flags override it");
  app.add_option("--format", f.format, format_help())->default_str(std::string(kFormats.front().name));
  app.add_option("--engine", f.engine, "Server to size: " + or_list(engine_names()))
      ->default_str(engine_names().front());
  app.add_option("--dtype", f.dtype,
                 "Weight dtype: auto|float16|bfloat16|float32 (auto: the config's; float32 served as bfloat16)")
      ->default_str("auto");
  app.add_option("--quantization,-q", f.quantization,
                 "Quantize an unquantized checkpoint at load time: fp8|awq|gptq|int8|bitsandbytes (Q8, Q4 accepted)");
  app.add_option("--kv-cache-dtype", f.kv_cache_dtype,
                 "KV cache dtype: auto|fp8|fp8_e4m3|fp8_e5m2 (what-if: float16|bfloat16|float32)")
      ->default_str("auto");
  app.add_option("--max-model-len,--context", f.max_model_len,
                 "Context length to size for (vllm: kept, or it does not fit; without it, the longest the fewest GPUs "
                 "hold, up to the model's maximum; kaito: 2048, as KAITO; wizard: the model's maximum; tgi: sets "
                 "--max-total-tokens)");
  app.add_option("--concurrency", f.concurrency, "Sequences of max_model_len that must fit at once")->default_str("1");
  app.add_option("--gpu-memory-utilization", f.gpu_memory_utilization,
                 "Fraction u of GPU memory vLLM may use, in (0, 1]")
      ->default_str("vLLM's for --vllm-version (0.92 from 0.20, 0.90 before); kaito 0.90");
  app.add_option("--gpu-memory", f.gpu_memory,
                 "Per-GPU memory as nvidia-smi reports it (memory.total), replacing the SKU's: 24GiB, 80GB, "
                 "24000MiB; without --sku, sizes a GPU known only by its memory");
  app.add_option("--cuda-total", f.cuda_total,
                 "Per-GPU memory as CUDA reports it to a process (torch.cuda.mem_get_info, what vLLM logs): "
                 "23.5GiB; the other convention is derived with the median 459 MiB gap between the two");
  app.add_option("--gpus", f.gpus, "Pin the GPU count instead of searching it");
  app.add_option("--tensor-parallel-size,--num-shard", f.tensor_parallel_size,
                 "Pin tensor parallelism (TGI: --num-shard)");
  app.add_option("--pipeline-parallel-size", f.pipeline_parallel_size, "Pin pipeline parallelism");
  app.add_option(
      "--gpus-per-node", f.gpus_per_node,
      "GPUs per node, planned as whole nodes (default: an instance's GPUs; a bare GPU SKU is one node of up to 8)");
  app.add_option("--fragmentation-factor", f.fragmentation_factor, "Multiplier on the KV cache, from 1 to 10")
      ->default_str("1.0; wizard: 1.15");
  app.add_option("--headroom-gib", f.headroom_gib, "GiB per GPU to keep free beyond the estimate")->default_str("0");
  app.add_option("--risk-thresholds-gib", f.risk_thresholds_gib, "Headroom per GPU for low,medium OOM risk")
      ->default_str("2,0");
  app.add_option("--non-torch-gib", f.non_torch_gib, "kaito: non-PyTorch memory per GPU in GiB")->default_str("0.6");
  app.add_option("--activation-gib", f.activation_gib, "kaito: activation peak per GPU in GiB")->default_str("1.7");
  app.add_option("--kaito-rules", f.kaito_rules,
                 "kaito: whose formulas plan: guide (KAITO sizing guide) or controller (KAITO controller: u 0.84, "
                 "2.3 GiB + 5% of the per-GPU weights, lengths rounded down to 256)")
      ->default_str("guide");
  app.add_option("--overhead-gib", f.overhead_gib,
                 "wizard: fixed overhead in GiB replacing max(1 GiB, 2%) + 0.25 GiB x (TP - 1)");
  app.add_option("--params-b", f.params_b, "Override the parameter count, in billions");
  app.add_option("--weight-bytes", f.weight_bytes, "Override the weight size: bytes or a size with a unit (15GiB)");
  app.add_flag("--language-model-only", f.language_model_only,
               "Serve the language model alone, as vLLM's --language-model-only: the vision and audio towers are not "
               "loaded (their weights leave the plan)");
}

// The flags of one memory model: --estimator vllm's, then --engine tgi's.
void define_engine_flags(CLI::App& app, RawFlags& f) {
  app.add_option("--estimator", f.estimator, estimator_help())->default_str(estimator_names().front());
  app.add_option("--vllm-version", f.vllm_version,
                 "vLLM release whose accounting to follow (0.29, 0.22.1, 0.11, v0.10.1.1, ...)")
      ->default_str("0.29, the newest modelled");
  app.add_option("--kv-cache-memory", f.kv_cache_memory,
                 "vllm: per-GPU KV cache budget (bytes or 11.03GiB); skips the profile model as vLLM does");
  app.add_option("--cudagraph-memory", f.cudagraph_memory,
                 "vllm: CUDA-graph memory per GPU (the \"Estimated CUDA graph memory\" vLLM logs), replacing the "
                 "estimate; v0.20+ subtracts it from the KV budget");
  app.add_flag("--enforce-eager", f.enforce_eager, "vllm: no CUDA graphs (no graph pool)");
  app.add_option("--cudagraph-estimate", f.cudagraph_estimate,
                 "vllm: on|off; off = VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0: the graph estimate is not "
                 "subtracted from the KV budget (graphs then fill the headroom)")
      ->default_str("on (v0.20+)");
  app.add_option("--max-cudagraph-capture-size", f.max_cudagraph_capture_size,
                 "vllm: largest batch captured as a CUDA graph (default min(2 x max_num_seqs, 512))");
  app.add_option("--cudagraph-capture-sizes", f.cudagraph_capture_sizes,
                 "vllm: the batch sizes captured as CUDA graphs, as vLLM takes them: 1,2,4,8");
  app.add_option("--compilation-config", f.compilation_config,
                 "vllm: vLLM's compilation config as JSON; cudagraph_mode, cudagraph_capture_sizes and "
                 "max_cudagraph_capture_size are modelled");
  app.add_option("--speculative-config", f.speculative_config,
                 "vllm: vLLM's speculative decoding config as JSON ('{\"method\": \"mtp\", \"num_speculative_tokens\": "
                 "2}'); MTP's draft layers and ngram are sized, the capture list follows the draft tokens");
  app.add_option("-O,--optimization-level", f.optimization_level,
                 "vllm: vLLM's -O level: 0 no CUDA graphs, 1 PIECEWISE, 2 (default) and 3 FULL_AND_PIECEWISE");
  app.add_option("--max-num-batched-tokens", f.max_num_batched_tokens,
                 "vllm: tokens per profiled batch (default by GPU class)");
  app.add_option("--max-num-seqs", f.max_num_seqs, "vllm: sequences per batch (default by GPU class)");
  app.add_option("--block-size", f.block_size, "vllm: KV cache block size in tokens (default 16; 64 for MLA)");
  app.add_option("--data-parallel-size", f.data_parallel_size, "vllm: data-parallel replicas")->default_str("1");
  app.add_flag("--enable-expert-parallel", f.enable_expert_parallel, "vllm: spread MoE experts over DP x TP ranks");
  app.add_flag("--flashinfer-sampler", f.flashinfer_sampler,
               "vllm: the server samples with FlashInfer (VLLM_USE_FLASHINFER_SAMPLER=1; default in v0.11.0 and "
               "v0.20+), which profiles fewer vocab-sized copies");
  app.add_option("--limit-mm-per-prompt", f.limit_mm_per_prompt,
                 "vllm: multimodal items per prompt, as vLLM takes it: image=2,video=0 or JSON "
                 "('{\"image\": {\"count\": 1, \"width\": 512, \"height\": 512}}'); sizes the encoder's profile run");
  app.add_flag("--skip-mm-profiling", f.skip_mm_profiling,
               "vllm: vLLM does not profile the multimodal encoder (its peak is then outside the KV budget)");

  app.add_option(
      "--max-input-tokens", f.max_input_tokens,
      "tgi: longest prompt (default: max_total_tokens - 1; TGI v2's min(max_position_embeddings, 4096) - 1)");
  app.add_option(
      "--max-total-tokens", f.max_total_tokens,
      "tgi: prompt + generated tokens per request (default: --context, else min(max_position_embeddings, 4096))");
  app.add_option(
      "--max-batch-prefill-tokens", f.max_batch_prefill_tokens,
      "tgi: tokens per prefill batch (default: max_input_tokens + 50; with --concurrency N: N x max_input_tokens)");
  app.add_option("--cuda-memory-fraction", f.cuda_memory_fraction, "tgi: fraction of GPU memory TGI may use")
      ->default_str("1.0");
  app.add_option("--cuda-overhead-gb", f.cuda_overhead_gb, "tgi: CUDA context per GPU in GB (1 GB x 1.2 buffer)")
      ->default_str("1.2");
}

// Sweeps and --emit, then the Hub's flags.
void define_output_and_hub_flags(CLI::App& app, RawFlags& f) {
  app.add_option("--sweep", f.sweep,
                 fmt::format("One plan per value: FLAG=START:END:STEP (e.g. --sweep max-model-len=4096:32768:4096); at "
                             "most {} rows (values x SKUs)",
                             limits::kMaxSweepRows));
  app.add_option(
      "--sweep-tokens", f.sweep_tokens,
      "tgi: START:END:STEP over t, with max_input_tokens t-1, max_total_tokens t, max_batch_prefill_tokens t");
  app.add_option("--emit", f.emit, "Print only a ready-to-run artefact: " + or_list(emit_names()) + " (comma list)");
  app.add_flag("--force", f.force, "With --emit: print it even when the plan does not fit (the exit code stays 1)");
  app.add_flag("--strict", f.strict,
               "Exit 1 when the plan is uncertain (an architecture or field vram-calc does not know: the parameter "
               "count, weights or KV cache are guesses), even if it fits");

  app.add_option("--revision", f.revision, "Hub revision: branch, tag or commit (bypasses the catalog)");
  app.add_option("--token", f.token, "Hugging Face token (else HF_TOKEN, else the huggingface_hub token file)");
  app.add_flag("--offline", f.offline, "Use only local sources: files, caches, the catalog (also HF_HUB_OFFLINE=1)");
  app.add_flag("--refresh", f.refresh, "Fetch from the hub again, skipping the caches and the catalog");
  app.add_option("--ca-bundle", f.ca_bundle,
                 "CA certificates for TLS (else CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE)");
  app.add_option("--connect-timeout", f.connect_timeout, "Seconds to connect to the hub")->default_str("10");
  app.add_option("--timeout", f.timeout, "Seconds for one whole transfer")->default_str("60");
}

struct Listings {
  CLI::App* skus;
  CLI::App* models;
};

// The listing subcommands, and the hidden options the build runs to write the completions and the man page.
Listings define_commands(CLI::App& app, RawFlags& f) {
  const std::string listing_format = "Output: " + or_list(format_names(true));
  auto* skus = app.add_subcommand("skus", "List GPU and instance SKUs");
  auto* models = app.add_subcommand("models", "List the bundled model catalog");
  // Listed here for --help; `vram-calc check ...` is dispatched before this parser runs (cli/check/check.hpp).
  app.add_subcommand("check",
                     "Check Kubernetes manifests that run vLLM or TGI: vram-calc check FILE_OR_DIR... "
                     "(vram-calc check --help)");
  app.add_subcommand("serve",
                     "Serve the planner over HTTP: POST /plan, POST /estimate-gpu-memory, GET /ui "
                     "(vram-calc serve --help)");
  app.add_subcommand("explain-log",
                     "Explain a vLLM startup log: logged vs predicted memory, component by "
                     "component, and what to change (vram-calc explain-log --help)");
  skus->add_option("--format", f.format, listing_format);
  models->add_option("--format", f.format, listing_format);
  app.require_subcommand(0, 1);
  // Group "" hides an option from --help (and from the completions and the man page).
  app.add_option("--completions", f.completions, "Print a completion script: bash, zsh or fish")->group("");
  app.add_flag("--man", f.man, "Print the man page (roff)")->group("");
  return {skus, models};
}

// vLLM's short spellings and common shorthands, for the "did you mean" of an unknown flag.
constexpr std::pair<std::string_view, std::string_view> kFlagShorthands[] = {
    {"tp", "--tensor-parallel-size"},   {"pp", "--pipeline-parallel-size"}, {"dp", "--data-parallel-size"},
    {"ep", "--enable-expert-parallel"}, {"max-len", "--max-model-len"},     {"gpu-util", "--gpu-memory-utilization"}};

// The long option an unknown `--flag` most likely meant: a known shorthand, else the closest name within two edits
// (underscores read as dashes, as vLLM reads them); "" when none is close.
std::string closest_flag(const CLI::App& app, std::string_view given) {
  std::string name = ascii_lower(given.substr(given.find_first_not_of('-')));
  name = name.substr(0, name.find('='));
  std::replace(name.begin(), name.end(), '_', '-');
  for (const auto& [shorthand, flag] : kFlagShorthands)
    if (name == shorthand) return std::string(flag);
  std::string best;
  std::size_t best_distance = 3;
  for (const CLI::Option* option : app.get_options()) {
    for (const auto& long_name : option->get_lnames()) {
      const std::size_t d = edit_distance(name, long_name);
      if (d < best_distance) best_distance = d, best = "--" + long_name;
    }
  }
  return best;
}

// CLI11's "The following arguments were not expected: ..." for an unknown flag, with the flag it resembles.
void fail_unknown_flags(const CLI::App& app, const CLI::ExtrasError& e) {
  for (const auto& extra : app.remaining()) {
    if (extra.size() < 2 || extra[0] != '-' || (extra[1] >= '0' && extra[1] <= '9')) continue;
    const std::string suggestion = closest_flag(app, extra);
    fail_input(fmt::format("unknown option {}{} (see vram-calc --help)", extra.substr(0, extra.find('=')),
                           suggestion.empty() ? std::string() : fmt::format(": did you mean {}?", suggestion)));
  }
  std::string what = e.what();
  std::replace(what.begin(), what.end(), '\n', ' ');
  fail_input(fmt::format("{} (see vram-calc --help)", what));
}

// Runs CLI11 over argv. True when the command is already done: --help, --version, or the hidden --completions and
// --man, with the text to print in `o`.
bool parse_command_line(CLI::App& app, int argc, char** argv, RawFlags& f, Options& o) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    o.command = Command::Help;
    o.help_text = app.help();
    return true;
  } catch (const CLI::CallForAllHelp&) {
    o.command = Command::Help;
    app.footer(kFooter);
    o.help_text = app.help("", CLI::AppFormatMode::All);
    return true;
  } catch (const CLI::CallForVersion&) {
    o.command = Command::Version;
    return true;
  } catch (const CLI::ExtrasError& e) {
    fail_unknown_flags(app, e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own exit codes are folded into ours: every usage error is exit 2.
    std::string what = e.what();
    for (auto& c : what)
      if (c == '\n') c = ' ';
    fail_input(fmt::format("{} (see vram-calc --help)", what));
  }
  f.emit_given = app.count("--emit") > 0;
  if (f.completions.empty() && !f.man) return false;
  // Printed as is, like --help.
  if (!f.man) require_one_of(f.completions, completion_shells(), "--completions");
  const CommandSpec cli = describe_cli(app);
  o.command = Command::Help;
  o.help_text = f.man ? man_page(cli, kFooter, fmt::format("vram-calc {}", VRAMCALC_VERSION), VRAMCALC_CATALOG_DATE)
                      : completion_script(cli, f.completions);
  return true;
}

// --format, for a plan or (`listing`) for `vram-calc skus` / `models`.
Format chosen_format(const std::string& name, bool listing) {
  const auto format = format_named(name);
  if (!format) {
    std::string list;
    for (const auto& n : format_names(false)) list += (list.empty() ? "" : ", ") + n;
    fail_input(fmt::format("--format: \"{}\" is not one of {}", name, list));
  }
  if (listing && !format_info(*format).listings)
    fail_input(fmt::format("--format {} is for plans; listings are {}", name, or_list(format_names(true))));
  return *format;
}

}  // namespace

std::string version_string() {
  return fmt::format("vram-calc {} (commit {}, catalog {})", VRAMCALC_VERSION, VRAMCALC_COMMIT, VRAMCALC_CATALOG_DATE);
}

std::vector<std::string> engine_names() {
  std::vector<std::string> names;
  for (const auto& info : kMethods) add_unique(names, info.engine);
  return names;
}

std::vector<std::string> estimator_names() {
  std::vector<std::string> names;
  for (const auto& info : kMethods) add_unique(names, info.estimator);
  return names;
}

std::vector<std::string> format_names(bool listings) {
  std::vector<std::string> names;
  for (const auto& info : kFormats)
    if (info.listings || !listings) names.emplace_back(info.name);
  return names;
}

std::vector<std::string> emit_names() {
  std::vector<std::string> names;
  for (const auto& info : kEmits) names.emplace_back(info.name);
  return names;
}

ProfileChoices profile_choices() {
  ProfileChoices choices;
  for (const auto& info : kEmits) choices.emit_names.push_back(info.name);
  for (const auto& alias : kEmitAliases) choices.emit_aliases.emplace_back(alias.alias, emit_info(alias.emit).name);
  return choices;
}

// Define the flags -> parse the command line -> apply the profile -> build the settings -> build the Hub options.
Options parse_options(int argc, char** argv, std::shared_ptr<const Profile> preloaded) {
  Options o;
  for (int i = 1; i < argc; ++i) o.args.emplace_back(argv[i]);
  CLI::App app{
      "vram-calc: how much GPU memory an LLM needs to be served with vLLM or TGI, how many GPUs and nodes "
      "of a SKU that takes, and the longest max_model_len they hold.",
      "vram-calc"};
  app.footer(std::string(short_help_footer()));
  app.set_help_all_flag("--help-all", "Print this help with the formulas, the commands and the exit codes");
  app.set_version_flag("--version", version_string());
  app.get_formatter()->column_width(36);
  // A flag given twice takes its last value, as vLLM's argparse does, so a script can append overrides.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  RawFlags flags;
  flags.format = std::string(kFormats.front().name);
  define_plan_flags(app, flags);
  define_engine_flags(app, flags);
  define_output_and_hub_flags(app, flags);
  const Listings listings = define_commands(app, flags);
  organize_help(app);
  // vLLM's parser reads --max_model_len as --max-model-len: so does this one.
  std::vector<std::string> words(argv, argv + argc);
  for (std::size_t i = 1; i < words.size(); ++i) {
    std::string& w = words[i];
    if (w.size() <= 2 || w.rfind("--", 0) != 0) continue;
    const std::size_t name_end = std::min(w.find('='), w.size());
    for (std::size_t k = 2; k < name_end; ++k)
      if (w[k] == '_') w[k] = '-';
  }
  std::vector<char*> normalized;
  for (auto& w : words) normalized.push_back(w.data());
  if (parse_command_line(app, argc, normalized.data(), flags, o)) return o;
  // Choice values are case-insensitive (--engine vLLM, --format JSON, --kv-cache-dtype FP8).
  for (std::string* value : {&flags.format, &flags.engine, &flags.estimator, &flags.emit, &flags.kv_cache_dtype})
    *value = ascii_lower(*value);

  const bool listing = listings.skus->parsed() || listings.models->parsed();
  o.format = chosen_format(flags.format, listing);
  if (listing) {
    o.command = listings.skus->parsed() ? Command::ListSkus : Command::ListModels;
    return o;
  }

  if (!flags.profile.empty()) apply_profile(o, flags, std::move(preloaded));
  o.model = flags.model;
  o.sku = flags.sku;
  if (o.model.empty())
    fail_input("--model is required (a config.json, a model directory or a catalog id; see vram-calc models)");
  if (o.sku.empty() && flags.gpu_memory.empty() && flags.cuda_total.empty())
    fail_input(
        "--sku is required (a GPU or instance name, a comma list, or all; see vram-calc skus), or --gpu-memory / "
        "--cuda-total for a GPU known only by its memory");

  build_settings(o, flags);
  build_outputs(o, flags);
  o.force = flags.force;
  o.strict = flags.strict;  // issue 14
  o.hub = build_hub_options(flags);
  return o;
}

Options parse_option_words(std::vector<std::string> words) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(words.size()), argv.data());
}

}  // namespace vramcalc::cli
