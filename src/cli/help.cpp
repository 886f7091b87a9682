#include "cli/help.hpp"

#include <array>

namespace vramcalc::cli {

namespace {

struct HelpEntry {
  std::string_view flag;  // the first long name, as CLI11 knows it ("--model")
  std::string_view group;
  std::string_view type;  // "" for a flag without a value
};

constexpr std::string_view kModel = "Model and GPUs";
constexpr std::string_view kPlan = "Plan";
constexpr std::string_view kMargins = "Margins and risk (every estimator)";
constexpr std::string_view kVllm = "vLLM estimator (--estimator vllm, the default)";
constexpr std::string_view kKaito = "KAITO estimator (--estimator kaito, and the baseline beside vLLM's)";
constexpr std::string_view kWizard = "vllm-wizard estimator (--estimator wizard)";
constexpr std::string_view kTgi = "TGI (--engine tgi)";
constexpr std::string_view kOutput = "Output";
constexpr std::string_view kHub = "Hugging Face Hub";

// In --help's order: a group is shown where its first option is.
constexpr std::array<HelpEntry, 63> kHelpEntries = {{
    {"--model", kModel, "ID|PATH"},
    {"--sku", kModel, "NAME[,NAME...]|all"},
    {"--gpu-memory", kModel, "SIZE"},
    {"--cuda-total", kModel, "SIZE"},
    {"--gpus-per-node", kModel, "N"},
    {"--profile", kModel, "FILE"},
    {"--engine", kPlan, "vllm|tgi"},
    {"--estimator", kPlan, "NAME"},
    {"--max-model-len", kPlan, "TOKENS|auto"},
    {"--concurrency", kPlan, "N"},
    {"--gpu-memory-utilization", kPlan, "FRACTION"},
    {"--gpus", kPlan, "N"},
    {"--tensor-parallel-size", kPlan, "N"},
    {"--pipeline-parallel-size", kPlan, "N"},
    {"--dtype", kPlan, "DTYPE"},
    {"--quantization", kPlan, "METHOD"},
    {"--kv-cache-dtype", kPlan, "DTYPE"},
    {"--params-b", kPlan, "BILLIONS"},
    {"--weight-bytes", kPlan, "SIZE"},
    {"--language-model-only", kPlan, ""},  // issue 14
    {"--fragmentation-factor", kMargins, "FACTOR"},
    {"--headroom-gib", kMargins, "GIB"},
    {"--risk-thresholds-gib", kMargins, "LOW,MEDIUM"},
    {"--vllm-version", kVllm, "VERSION"},
    {"--max-num-batched-tokens", kVllm, "TOKENS"},
    {"--max-num-seqs", kVllm, "N"},
    {"--kv-cache-memory", kVllm, "SIZE"},
    {"--enforce-eager", kVllm, ""},
    {"--cudagraph-estimate", kVllm, "on|off"},
    {"--cudagraph-memory", kVllm, "SIZE"},
    {"--max-cudagraph-capture-size", kVllm, "N"},
    {"--cudagraph-capture-sizes", kVllm, "N,N,..."},
    {"--compilation-config", kVllm, "JSON"},
    {"--speculative-config", kVllm, "JSON"},
    {"--optimization-level", kVllm, "LEVEL"},
    {"--block-size", kVllm, "TOKENS"},
    {"--data-parallel-size", kVllm, "N"},
    {"--enable-expert-parallel", kVllm, ""},
    {"--flashinfer-sampler", kVllm, ""},
    {"--limit-mm-per-prompt", kVllm, "LIMITS"},  // issue 14
    {"--skip-mm-profiling", kVllm, ""},          // issue 14
    {"--kaito-rules", kKaito, "guide|controller"},
    {"--non-torch-gib", kKaito, "GIB"},
    {"--activation-gib", kKaito, "GIB"},
    {"--overhead-gib", kWizard, "GIB"},
    {"--max-input-tokens", kTgi, "TOKENS"},
    {"--max-total-tokens", kTgi, "TOKENS"},
    {"--max-batch-prefill-tokens", kTgi, "TOKENS"},
    {"--cuda-memory-fraction", kTgi, "FRACTION"},
    {"--cuda-overhead-gb", kTgi, "GB"},
    {"--format", kOutput, "FORMAT"},
    {"--emit", kOutput, "ARTEFACT[,...]"},
    {"--force", kOutput, ""},
    {"--strict", kOutput, ""},  // issue 14
    {"--sweep", kOutput, "FLAG=START:END:STEP"},
    {"--sweep-tokens", kOutput, "START:END:STEP"},
    {"--revision", kHub, "REVISION"},
    {"--token", kHub, "TOKEN"},
    {"--offline", kHub, ""},
    {"--refresh", kHub, ""},
    {"--ca-bundle", kHub, "FILE"},
    {"--connect-timeout", kHub, "SECONDS"},
    {"--timeout", kHub, "SECONDS"},
}};

const HelpEntry* entry_for(const CLI::Option& option) {
  for (const auto& name : option.get_lnames()) {
    for (const auto& e : kHelpEntries)
      if (e.flag.substr(2) == name) return &e;
  }
  return nullptr;
}

}  // namespace

void organize_help(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (option->get_group().empty()) continue;  // hidden (--completions, --man)
    if (option->get_lnames().empty()) continue;
    const std::string& first = option->get_lnames().front();
    if (first == "help" || first == "version" || first == "help-all") continue;
    const HelpEntry* e = entry_for(*option);
    if (e == nullptr) {
      option->group("Other options");
      continue;
    }
    option->group(std::string(e->group));
    if (!e->type.empty()) option->type_name(std::string(e->type));
  }
}

std::string_view short_help_footer() {
  return R"(
SIZE: bytes, or a number with a unit (GiB = 2^30 bytes, GB = 10^9: 24GiB, 80GB, 24000MiB).
TOKENS: a count with vLLM's suffixes (32k = 32000, 32K = 32768, 1m).

Examples:
  vram-calc --model meta-llama/Llama-3.1-8B --sku A100-80G
  vram-calc --model Qwen/Qwen3-32B --sku H100-80G --max-model-len 32k --format json
  vram-calc --model ./my-model --sku all --estimator kaito --format csv

The formulas of each estimator and engine, the commands and the exit codes: vram-calc --help-all (or man vram-calc).
)";
}

}  // namespace vramcalc::cli
