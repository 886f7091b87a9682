// `vram-calc explain-log FILE`: a real vLLM startup log beside vram-calc's prediction for the same settings,
// component by component, and what to change. Private to the CLI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/sources/vllm_log.hpp"

namespace vramcalc::cli {

// Runs the command; argv[0] is "explain-log". Exit: 0 the log's engine started, 1 it failed for memory, 2 not a vLLM
// startup log (or bad usage), 3 the model could not be fetched.
int run_explain_log(int argc, char** argv);

// One memory component: what the log says, what vram-calc predicts, per GPU.
struct ComponentRow {
  std::string name;  // "weights", "activation peak", ...
  std::string unit;  // "GiB", "tokens", "blocks", "x"
  std::optional<double> logged;
  std::optional<double> predicted;
  std::string note;  // how the prediction was made, or why it is missing
};

// A change and what vram-calc predicts with it.
struct WhatIf {
  std::string change;  // in words
  std::string flags;   // the vLLM flags (or environment) to set
  bool fits = false;
  std::optional<double> available_kv_gib;
  std::uint64_t kv_cache_tokens = 0;
  std::uint64_t max_model_len = 0;  // the length checked with it
  std::uint64_t longest_max_model_len = 0;
};

struct Explanation {
  VllmLog log;
  std::vector<std::string> args;  // the vram-calc arguments the prediction used
  std::string gpu;                // the GPU it was planned on, and how it was known
  std::vector<ComponentRow> rows;
  std::vector<WhatIf> what_ifs;
  std::vector<std::string> notes;  // assumptions (settings the log does not state), warnings of the plan
  bool predicted_fits = false;
};

inline constexpr int kExplainJsonSchemaVersion = 1;  // docs/json-schema.md, "vram-calc explain-log"

std::string render_explanation_human(const Explanation& e);
std::string render_explanation_json(const Explanation& e);

}  // namespace vramcalc::cli
