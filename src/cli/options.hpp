// Command-line options, parsed and validated. Private to the CLI.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/render/choices.hpp"
#include "vramcalc/report/report.hpp"
#include "vramcalc/sources/hub.hpp"
#include "vramcalc/sources/profile.hpp"

namespace vramcalc::cli {

enum class Command { Plan, ListSkus, ListModels, Help, Version };

// --sweep FLAG=a:b:step or --sweep-tokens a:b:step: one plan per value (values as they will be passed to FLAG).
struct Sweep {
  std::string flag;  // "--max-model-len", or "tokens" for --sweep-tokens
  std::vector<std::string> values;
};

struct Options {
  Command command = Command::Plan;
  Format format = Format::Table;
  std::string model;
  std::string sku;
  WeightSettings weights;
  ReportSettings report;
  std::optional<std::string> profile;             // --profile FILE
  std::shared_ptr<const Profile> loaded_profile;  // its contents, read once: a sweep re-parses with them
  HubOptions hub;
  std::string help_text;   // what Command::Help prints: --help, or the hidden --completions / --man
  std::vector<Emit> emit;  // --emit, in the order given
  bool force = false;      // --force: --emit prints the plan even when it does not fit
  bool strict = false;     // --strict: an uncertain plan (a guessed parameter count, weights or KV cache) exits 1
  std::optional<Sweep> sweep;
  std::vector<std::string> args;   // argv[1..], so a sweep can re-parse with one flag replaced
  std::vector<std::string> notes;  // what a profile set that vram-calc records but does not size with
};

// The flags --sweep accepts (numeric ones), with their aliases.
bool sweepable_flag(const std::string& flag);
// a:b:step, inclusive of b when the steps land on it; numbers as they will be passed on. Throws Error(BadInput).
std::vector<std::string> sweep_values(const std::string& flag, const std::string& range);
// argv for one sweep value: `args` without --sweep/--sweep-tokens and the swept flags, plus the swept value(s).
std::vector<std::string> args_for_sweep_value(const std::vector<std::string>& args, const Sweep& sweep,
                                              const std::string& value);

// Parses argv. Throws Error(BadInput) with a one-line message for anything CLI11 or our checks reject.
// `preloaded`: the --profile file's contents when they were already read (each sweep value re-parses argv; a
// profile of up to 1 MiB read again for each of 10000 values would take many minutes).
Options parse_options(int argc, char** argv, std::shared_ptr<const Profile> preloaded = nullptr);
// parse_options over words built in code (`words[0]` is the program name): the commands that plan from what they
// read (check, explain-log) go through the same parser as the command line.
Options parse_option_words(std::vector<std::string> words);

// "vram-calc 0.1.0 (commit abc1234, catalog 2026-11-23)"; JSON tool.version is the plain version.
std::string version_string();

// The values each choice flag takes, read from its table (engines/method.hpp, render/choices.hpp) in table order,
// for the parser, its messages, --help and the completions.
std::vector<std::string> engine_names();               // --engine: vllm, tgi
std::vector<std::string> estimator_names();            // --estimator: kaito, vllm, wizard
std::vector<std::string> format_names(bool listings);  // --format: table, json, csv, markdown; listings: table, json
std::vector<std::string> emit_names();                 // --emit: vllm-args, vllm-command, tgi-command, k8s
// What a profile may name, from the same tables (its emit list also takes vllm-wizard's spellings).
ProfileChoices profile_choices();

}  // namespace vramcalc::cli
