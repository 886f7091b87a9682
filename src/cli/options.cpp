// Flags use vLLM's names where vLLM has one. Numbers are read as text and validated here, so every
// rejection is one line naming the flag.
#include "cli/options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "vramcalc/error.hpp"
#include "vramcalc/hf_cache.hpp"
#include "vramcalc/vllm_profile.hpp"
#include "vramcalc/quant.hpp"
#include "vramcalc/units.hpp"

#ifndef VRAMCALC_VERSION
#define VRAMCALC_VERSION "0.0.0"
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

Commands:
  vram-calc --model ID|PATH --sku NAME[,NAME...|all]   plan (default command)
  vram-calc skus                                       list GPU and instance SKUs
  vram-calc models                                     list the bundled model catalog

Exit codes:
  0  the plan fits (with several SKUs: at least one fits); listings succeeded
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

std::uint64_t parse_size_flag(const std::string& flag, const std::string& text) {
  auto v = parse_size(text);
  if (!v) fail_input(fmt::format("{}: expected a size such as 48GiB, 80GB, 15.99GiB or 24000MiB, got \"{}\"", flag, text));
  return *v;
}

}  // namespace

std::string version_string() { return fmt::format("vram-calc {}", VRAMCALC_VERSION); }

Options parse_options(int argc, char** argv) {
  Options o;
  CLI::App app{"vram-calc: how much GPU memory an LLM needs to be served with vLLM, how many GPUs and nodes of a SKU "
               "that takes, and the longest max_model_len they hold.",
               "vram-calc"};
  app.footer(kFooter);
  app.set_version_flag("--version", version_string());
  app.get_formatter()->column_width(36);

  std::string format = "table";
  std::string max_model_len, utilization, gpus, tp, pp, gpn, non_torch, activation, params_b, weight_bytes, gpu_memory;
  std::string quantization;
  std::string revision, token, ca_bundle, connect_timeout, timeout;
  std::string estimator = "kaito", vllm_version, kv_cache_memory, concurrency, mnbt, mns, block_size, dp;
  std::string cudagraph_memory;
  bool expert_parallel = false, flashinfer_sampler = false, enforce_eager = false;
  bool offline = false, refresh = false;
  app.add_option("-m,--model", o.model,
                 "Model: a config.json path, a model directory (config.json + safetensors headers), or a Hugging Face "
                 "id in the bundled catalog");
  app.add_option("-s,--sku", o.sku, "GPU or instance SKU (A100-80G, Standard_NC24ads_A100_v4, ...), a comma list, or all");
  app.add_option("--format", format, "Output: table or json")->default_str("table");
  app.add_option("--dtype", o.weights.dtype, "Weight dtype: auto|float16|bfloat16|float32 (auto: the config's; float32 served as bfloat16)")
      ->default_str("auto");
  app.add_option("--quantization,-q", quantization,
                 "Quantize an unquantized checkpoint at load time: fp8|awq|gptq|int8|bitsandbytes (Q8, Q4 accepted)");
  app.add_option("--kv-cache-dtype", o.report.kv_cache_dtype_flag,
                 "KV cache dtype: auto|fp8|fp8_e4m3|fp8_e5m2 (what-if: float16|bfloat16|float32)")
      ->default_str("auto");
  app.add_option("--max-model-len,--context", max_model_len, "Context length L to size for (default 2048, as KAITO)");
  app.add_option("--gpu-memory-utilization", utilization, "Fraction u of GPU memory vLLM may use, in (0, 1]")
      ->default_str("0.90; vllm estimator: 0.92 from --vllm-version 0.22");
  app.add_option("--gpu-memory", gpu_memory, "Per-GPU memory V replacing the SKU's figure: 48GiB, 80GB, 24000MiB, ...");
  app.add_option("--gpus", gpus, "Pin the GPU count instead of searching it");
  app.add_option("--tensor-parallel-size", tp, "Pin tensor parallelism");
  app.add_option("--pipeline-parallel-size", pp, "Pin pipeline parallelism");
  app.add_option("--gpus-per-node", gpn, "GPUs per node (bare GPU SKUs default to 1)");
  app.add_option("--non-torch-gib", non_torch, "Non-PyTorch memory per GPU in GiB")->default_str("0.6");
  app.add_option("--activation-gib", activation, "Activation peak per GPU in GiB")->default_str("1.7");
  app.add_option("--params-b", params_b, "Override the parameter count, in billions");
  app.add_option("--weight-bytes", weight_bytes, "Override the weight size: bytes or a size with a unit (15GiB)");

  app.add_option("--estimator", estimator,
                 "Memory model: kaito (KAITO's rule of thumb, seed 000) or vllm (what vLLM v0.10.x will log)")
      ->default_str("kaito");
  app.add_option("--vllm-version", vllm_version, "vLLM release whose accounting to follow (0.10, 0.11, v0.10.1.1, ...)")
      ->default_str("0.10");
  app.add_option("--kv-cache-memory", kv_cache_memory,
                 "vLLM: per-GPU KV cache budget (bytes or 11.03GiB); skips the profile model as vLLM does");
  app.add_option("--cudagraph-memory", cudagraph_memory,
                 "vLLM: CUDA-graph pool per GPU (the figure vLLM logs), replacing the 0.5 GiB rule of thumb; "
                 "v0.21+ subtracts it from the KV budget");
  app.add_flag("--enforce-eager", enforce_eager, "vLLM: no CUDA graphs (no graph pool)");
  app.add_option("--concurrency", concurrency, "vLLM: sequences of max_model_len that must fit at once")->default_str("1");
  app.add_option("--max-num-batched-tokens", mnbt, "vLLM: tokens per profiled batch (default by GPU class)");
  app.add_option("--max-num-seqs", mns, "vLLM: sequences per batch (default by GPU class)");
  app.add_option("--block-size", block_size, "vLLM: KV cache block size in tokens (default 16; 64 for MLA)");
  app.add_option("--data-parallel-size", dp, "vLLM: data-parallel replicas")->default_str("1");
  app.add_flag("--enable-expert-parallel", expert_parallel, "vLLM: spread MoE experts over DP x TP ranks");
  app.add_flag("--flashinfer-sampler", flashinfer_sampler,
               "vLLM: the server samples with FlashInfer (VLLM_USE_FLASHINFER_SAMPLER=1; images before v0.11.1), "
               "which profiles fewer vocab-sized copies");
  app.add_option("--revision", revision, "Hub revision: branch, tag or commit (bypasses the catalog)");
  app.add_option("--token", token, "Hugging Face token (else HF_TOKEN, else the huggingface_hub token file)");
  app.add_flag("--offline", offline, "Use only local sources: files, caches, the catalog (also HF_HUB_OFFLINE=1)");
  app.add_flag("--refresh", refresh, "Fetch from the hub again, skipping the caches and the catalog");
  app.add_option("--ca-bundle", ca_bundle, "CA certificates for TLS (else CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE)");
  app.add_option("--connect-timeout", connect_timeout, "Seconds to connect to the hub")->default_str("10");
  app.add_option("--timeout", timeout, "Seconds for one whole transfer")->default_str("60");

  auto* skus_cmd = app.add_subcommand("skus", "List GPU and instance SKUs");
  auto* models_cmd = app.add_subcommand("models", "List the bundled model catalog");
  skus_cmd->add_option("--format", format, "Output: table or json");
  models_cmd->add_option("--format", format, "Output: table or json");
  app.require_subcommand(0, 1);

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

  if (format == "table") o.format = Format::Table;
  else if (format == "json") o.format = Format::Json;
  else fail_input(fmt::format("--format: \"{}\" is not one of table, json", format));

  if (skus_cmd->parsed()) {
    o.command = Command::ListSkus;
    return o;
  }
  if (models_cmd->parsed()) {
    o.command = Command::ListModels;
    return o;
  }
  if (o.model.empty()) fail_input("--model is required (a config.json, a model directory or a catalog id; see vram-calc models)");
  if (o.sku.empty()) fail_input("--sku is required (a GPU or instance name, a comma list, or all; see vram-calc skus)");

  KaitoSettings& k = o.report.kaito;
  VllmSettings& v = o.report.vllm;
  if (estimator != "kaito" && estimator != "vllm")
    fail_input(fmt::format("--estimator: \"{}\" is not one of kaito, vllm", estimator));
  o.report.estimator = estimator;
  if (!vllm_version.empty()) v.version = parse_vllm_version(vllm_version);
  if (max_model_len == "auto") {
    if (estimator != "vllm") fail_input("--max-model-len auto needs --estimator vllm");
    v.max_model_len_auto = true;
  } else if (!max_model_len.empty()) {
    k.max_model_len = parse_count("--max-model-len", max_model_len, 1ULL << 40);
    k.max_model_len_given = true;
    v.max_model_len = k.max_model_len;
  }
  if (!kv_cache_memory.empty()) v.kv_cache_memory = parse_size_flag("--kv-cache-memory", kv_cache_memory);
  if (!concurrency.empty()) v.concurrency = parse_count("--concurrency", concurrency, 1'000'000);
  if (!mnbt.empty()) v.max_num_batched_tokens = parse_count("--max-num-batched-tokens", mnbt, 1ULL << 32);
  if (!mns.empty()) v.max_num_seqs = parse_count("--max-num-seqs", mns, 1ULL << 24);
  if (!block_size.empty()) v.block_size = parse_count("--block-size", block_size, 1ULL << 20);
  if (!dp.empty()) v.data_parallel_size = parse_count("--data-parallel-size", dp, 100'000);
  v.expert_parallel = expert_parallel;
  if (!cudagraph_memory.empty()) v.cudagraph_memory = parse_size_flag("--cudagraph-memory", cudagraph_memory);
  v.enforce_eager = enforce_eager;
  const char* fi = std::getenv("VLLM_USE_FLASHINFER_SAMPLER");
  v.flashinfer_sampler = flashinfer_sampler || (fi != nullptr && std::string(fi) == "1");
  if (estimator != "vllm" && (!kv_cache_memory.empty() || !concurrency.empty() || !mnbt.empty() || !mns.empty() ||
                              !block_size.empty() || !dp.empty() || expert_parallel || flashinfer_sampler ||
                              !vllm_version.empty() || !cudagraph_memory.empty()))
    fail_input("--vllm-version, --kv-cache-memory, --concurrency, --max-num-batched-tokens, --max-num-seqs, "
               "--block-size, --data-parallel-size, --cudagraph-memory and --enable-expert-parallel need --estimator vllm");
  if (!utilization.empty()) {
    k.gpu_memory_utilization = parse_number("--gpu-memory-utilization", utilization);
    if (!(k.gpu_memory_utilization > 0 && k.gpu_memory_utilization <= 1))
      fail_input(fmt::format("--gpu-memory-utilization: {} is outside (0, 1]", utilization));
    v.gpu_memory_utilization = k.gpu_memory_utilization;
  }
  if (!gpus.empty()) k.gpus = parse_count("--gpus", gpus, 100'000);
  if (!tp.empty()) k.tensor_parallel_size = parse_count("--tensor-parallel-size", tp, 100'000);
  if (!pp.empty()) k.pipeline_parallel_size = parse_count("--pipeline-parallel-size", pp, 100'000);
  v.tensor_parallel_size = k.tensor_parallel_size;
  v.pipeline_parallel_size = k.pipeline_parallel_size;
  if (estimator == "vllm" && k.gpus && !k.tensor_parallel_size && !k.pipeline_parallel_size)
    v.tensor_parallel_size = k.gpus;  // --gpus N pins TP N (one node) for the vLLM estimator
  if (!gpn.empty()) o.report.gpus_per_node_override = static_cast<int>(parse_count("--gpus-per-node", gpn, 1024));
  if (!non_torch.empty()) {
    k.non_torch_gib = parse_number("--non-torch-gib", non_torch);
    if (k.non_torch_gib < 0 || k.non_torch_gib > 1024) fail_input("--non-torch-gib: must be from 0 to 1024");
  }
  if (!activation.empty()) {
    k.activation_gib = parse_number("--activation-gib", activation);
    if (k.activation_gib < 0 || k.activation_gib > 1024) fail_input("--activation-gib: must be from 0 to 1024");
  }
  if (!params_b.empty()) {
    o.weights.params_b = parse_number("--params-b", params_b);
    if (*o.weights.params_b <= 0 || *o.weights.params_b > 1e6)
      fail_input(fmt::format("--params-b: {} is out of range (0 < N <= 1000000 billion)", params_b));
  }
  if (!weight_bytes.empty()) o.weights.weight_bytes = parse_size_flag("--weight-bytes", weight_bytes);
  if (!gpu_memory.empty()) o.report.gpu_memory_override = parse_size_flag("--gpu-memory", gpu_memory);
  if (!quantization.empty()) {
    o.weights.load_quantization = quantization_flag_scheme(quantization);
    if (!o.weights.load_quantization)
      fail_input(fmt::format("--quantization: \"{}\" is not one of fp8, awq, gptq, int8, bitsandbytes (or Q8, Q4)",
                             quantization));
    o.report.quantization_flag = quantization;
  }
  o.report.dtype_flag = o.weights.dtype;

  o.hub = hub_options_from_environment();
  if (!revision.empty()) {
    o.hub.revision = revision;
    o.hub.revision_given = true;
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
