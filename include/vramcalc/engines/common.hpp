// What every engine shares, whatever its memory model: the per-GPU memory figure it plans with, the OOM risk
// classes, the feasibility report (vllm-wizard's) and the changes that would make a plan fit.
//
// headroom is per GPU (the busiest one), after everything the chosen memory model counts and the --headroom-gib
// reserve:
//   kaito   V x u - (1.02 W + KV(context x concurrency x fragmentation)) / N - 2.3 GiB - reserve
//   vllm    available KV cache - concurrency x KV of one max_model_len sequence x fragmentation - reserve
//   wizard  (allocatable - required) / TP, the wizard's own sum over the TP GPUs
//   tgi     (available - needed) / num_shard, the notebook's sum over the shards, less the reserve
// oom_risk: low when headroom >= 2 GiB, medium from 0 to 2, high below 0 (--risk-thresholds-gib LOW,MEDIUM).
// fits is the engine's own verdict and headroom >= 0; the exit code follows fits, whatever the risk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vramcalc/engines/method.hpp"

namespace vramcalc {

// The per-GPU memory figure a planner uses, and which of the SKU's figures it is.
struct GpuMemory {
  std::uint64_t bytes = 0;
  std::string source;  // "reported" (nvidia-smi), "marketed" (label number read as GiB), "cuda", "--gpu-memory"
};

// Nodes of `gpus_per_node` GPUs (at least 1) that `gpus` GPUs fill: ceil(gpus / gpus_per_node).
constexpr std::uint64_t nodes_for(std::uint64_t gpus, int gpus_per_node) {
  const auto per_node = static_cast<std::uint64_t>(gpus_per_node > 1 ? gpus_per_node : 1);
  return (gpus + per_node - 1) / per_node;
}

enum class OomRisk { Low, Medium, High };
std::string_view oom_risk_name(OomRisk r);  // "low", "medium", "high"

// --risk-thresholds-gib LOW,MEDIUM: headroom >= low -> low; >= medium -> medium; else high. Default 2,0.
struct RiskThresholds {
  double low_gib = 2.0;
  double medium_gib = 0.0;
};
OomRisk classify_oom_risk(std::int64_t headroom_bytes, const RiskThresholds& t);
// Parses "2,0" (two numbers, the first >= the second). Throws Error(BadInput) naming --risk-thresholds-gib.
RiskThresholds parse_risk_thresholds(const std::string& text);
// Both bounds in [0, 1024] GiB and LOW >= MEDIUM; Error(BadInput) naming --risk-thresholds-gib otherwise.
void check_risk_thresholds(const RiskThresholds& t);

struct Feasibility {
  bool fits = false;
  OomRisk oom_risk = OomRisk::High;
  std::int64_t headroom_bytes = 0;               // per GPU
  std::string headroom_formula;                  // with its numbers
  std::uint64_t context = 0;                     // the length checked
  std::uint64_t concurrency = 1;                 // sequences of that length that must fit at once
  std::uint64_t max_concurrency_at_context = 0;  // sequences of `context` tokens that fit at once
  std::uint64_t max_context_at_concurrency = 0;  // the longest length `concurrency` sequences can each have
  std::vector<std::string> warnings;             // KV share of memory, context capped, risk explained
  // The context was chosen to fill a cache the server preallocates (vLLM, no --max-model-len): the small KV
  // headroom is by design and no OOM risk, since requests beyond the cache wait or are preempted.
  bool context_fills_cache = false;
};

// One change to the settings and what the plan becomes with it.
struct Suggestion {
  std::string change;  // in words: "fp8 KV cache"
  std::string flags;   // what to add to the command line: "--kv-cache-dtype fp8"
  bool fits = false;
  std::uint64_t gpus = 0;
  std::uint64_t tensor_parallel_size = 1;
  std::uint64_t context = 0;
  std::int64_t headroom_bytes = 0;
  OomRisk oom_risk = OomRisk::High;
  std::uint64_t max_concurrency_at_context = 0;
};

// One term of a memory breakdown: what it holds, its bytes and how they were computed.
struct MemoryTerm {
  std::string name;  // "weights", "KV cache", "activation peak", ...
  std::uint64_t bytes = 0;
  std::string formula;  // with its numbers; empty where the name says it all
};

// What a plan comes to, whichever memory model made it: every engine fills one (engines/<e>/plan.hpp,
// <e>_summary), and whatever compares SKUs or writes one row per plan (the comparison table, CSV, Markdown, the
// plan's layout accessors) reads this and nothing engine-specific.
// What a server's command line takes from the run, beside the method's own flags (PlanSummary::command).
struct ServeOptions {
  std::string model;                        // the id or path the server loads
  std::optional<std::string> revision;      // --revision
  std::optional<std::string> dtype;         // --dtype to pass: the flag's, or float16 where the GPU lacks bfloat16
  std::string kv_cache_dtype = "auto";      // --kv-cache-dtype as given
  std::optional<std::string> quantization;  // --quantization as given (vLLM's names; Q8 and Q4 accepted)
  bool ray = false;                         // several nodes with pipeline stages (vLLM's Ray backend)
  std::vector<std::pair<std::string, std::string>> extra_args;  // a profile's outputs.vllm_args (vLLM only)
};

// The start every server's command shares: `program` (its words, ending where the model goes), the model,
// --revision, the method's flags, --dtype. Each server adds its own spellings of the rest.
std::vector<std::string> serve_command_head(std::vector<std::string> program, const ServeOptions& options,
                                            const std::vector<std::string>& method_flags);
// words += flag, value.
void add_flag(std::vector<std::string>& words, std::string_view flag, std::string value);

struct PlanSummary {
  Method method = Method::Kaito;
  bool fits = false;  // the engine's own verdict; Feasibility::fits adds the headroom check
  std::vector<std::string> not_fit_reasons;
  bool pinned = false;  // the layout was fixed by flags, not searched
  std::uint64_t gpus = 0;
  std::uint64_t gpus_needed = 0;  // what the memory model asks for (KAITO's n; the others: gpus)
  std::uint64_t nodes = 0;
  std::uint64_t tensor_parallel_size = 1;
  std::uint64_t pipeline_parallel_size = 1;
  std::uint64_t data_parallel_size = 1;
  // Context: the length asked for (after the model's cap) and the one the plan holds (checked against memory).
  std::uint64_t max_model_len_requested = 0;
  std::uint64_t max_model_len = 0;
  std::optional<std::int64_t> max_model_len_by_memory;  // where the memory model computes one
  std::string max_model_len_limited_by;                 // "memory", "max_position_embeddings", "requested", or ""
  // The memory breakdown, in the engine's order, summed over `memory_gpus` GPUs: 1 (per GPU) for KAITO and vLLM,
  // the TP group for vllm-wizard and the shards for TGI, as their sources sum them.
  std::uint64_t gpu_memory_bytes = 0;  // one GPU's memory as this engine counts it
  std::uint64_t memory_gpus = 1;
  std::vector<MemoryTerm> memory;
  std::uint64_t memory_total_bytes = 0;  // the sum of the terms
  std::uint64_t capacity_bytes = 0;      // memory_gpus x gpu_memory_bytes
  std::uint64_t budget_bytes = 0;        // what the engine lets itself use of the capacity
  // Warnings: `warnings` join the report's (Report::all_warnings, without duplicates); `engine_warnings` are the
  // engine's own, listed after those in the table and JSON.
  std::vector<std::string> warnings;
  std::vector<std::string> engine_warnings;
  // The launch command's words: the engine fills its own flags; the report puts the program, the model and the
  // flags every plan shares around them (report/sku_plan.cpp); render/commands writes it as shell text.
  std::vector<std::string> command;
  // Figures only this engine has, by the CSV column that shows them ("vllm_kv_cache_tokens"), as written there.
  std::vector<std::pair<std::string, std::string>> figures;
};

}  // namespace vramcalc
