// What `vram-calc check` concludes for each workload, and what its renderers read. Private to the CLI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vramcalc/sources/manifest.hpp"

namespace vramcalc::cli {

enum class CheckVerdict { Fits, DoesNotFit, CannotTell };
std::string_view verdict_name(CheckVerdict v);   // "fits", "does_not_fit", "cannot_tell"
std::string_view verdict_words(CheckVerdict v);  // "fits", "does not fit", "cannot tell"

// The figures behind a verdict on one GPU type, per GPU (bytes) where they are memory.
struct CheckFigures {
  std::string sku;     // the SKU planned on ("A100-80G", or "40 GB (MIG 3g.40gb)")
  std::string gpu;     // its GPU ("L4" for g6.12xlarge)
  std::string label;   // the node label value it came from ("NVIDIA-A100-SXM4-80GB"), or "--sku"
  std::string engine;  // "vllm 0.11.0", "tgi"
  std::uint64_t gpus = 0, nodes = 0, tensor_parallel_size = 1, pipeline_parallel_size = 1, data_parallel_size = 1;
  std::uint64_t budget_bytes = 0;                  // what the server may use of one GPU
  std::uint64_t weights_bytes = 0;                 // weights on the busiest GPU
  std::optional<std::int64_t> kv_available_bytes;  // vLLM: "Available KV cache memory"
  std::uint64_t kv_needed_bytes = 0;               // KV cache one request of max_model_len needs on one GPU
  std::uint64_t max_model_len = 0;                 // the length checked (as asked, or the model's maximum)
  std::uint64_t longest_max_model_len = 0;         // the longest that fits these GPUs
  std::uint64_t max_concurrency = 0;               // requests of max_model_len that fit at once
  std::int64_t headroom_bytes = 0;
  bool fits = false;
  std::vector<std::string> reasons;  // why it does not fit
  std::vector<std::string>
      suggestions;  // changes that make it fit, nearest first: "--kv-cache-dtype fp8 (fp8 KV cache)"
};

struct CheckResult {
  Workload workload;
  std::string server;  // "vllm serve", "text-generation-launcher", "KAITO preset phi-4"
  std::string model;   // the model id sized ("" when unknown)
  CheckVerdict verdict = CheckVerdict::CannotTell;
  std::vector<std::string> errors;    // inconsistencies that make it fail whatever the memory says
  std::vector<std::string> unknowns;  // why it cannot tell
  std::vector<std::string> notes;     // assumptions and what was ignored
  std::vector<std::string> warnings;  // the plans' own warnings (as the main command prints them)
  std::vector<CheckFigures> plans;    // one per GPU type the workload may land on
  bool remote_failed = false;         // a model could not be fetched (exit 3)

  [[nodiscard]] std::string title() const;   // "Deployment/llama (container vllm)"
  [[nodiscard]] std::string reason() const;  // the main reason for the verdict, one line
};

// What one run of `vram-calc check` read and concluded, for the renderers.
struct CheckRun {
  ManifestSet input;
  std::vector<CheckResult> results;
};

// The formats `vram-calc check --format` takes, each a renderer (check/render_*.cpp), in one table.
struct CheckFormat {
  std::string_view name;
  std::string (*render)(const CheckRun& run);
};
const std::vector<CheckFormat>& check_formats();

std::string render_check_human(const CheckRun& run);
std::string render_check_json(const CheckRun& run);
std::string render_check_github(const CheckRun& run);
std::string render_check_junit(const CheckRun& run);
std::string render_check_markdown(const CheckRun& run);

inline constexpr int kCheckJsonSchemaVersion = 1;  // docs/json-schema.md, "vram-calc check"

}  // namespace vramcalc::cli
