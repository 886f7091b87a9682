// The command line: parses flags (vLLM's names), runs the planner, prints, and returns the exit code.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

namespace vramcalc::cli {

// What a command prints: its stdout, the lines it writes to stderr (without the "vram-calc: " prefix), its exit
// code.
struct CommandOutput {
  int exit_code = 0;
  std::string out;
  std::vector<std::string> stderr_lines;
};

// The plan command (`vram-calc --model ... --sku ...`) on `args` (without the program name), run in-process: the
// same flags, defaults and output bytes as the command line. Throws Error for what the command line reports as an
// error (exit 2 or 3). Pure but for the model's sources (files, caches, the Hub): safe to call from several threads.
// `local_paths` false: the model is a catalog or Hub id only, never a local path, and no profile is read.
// `catalogs`: the bundled catalogs already loaded (a server loads them once; the command line reads only the rows
// it needs, which is most of a plan's own time): the same answers, byte for byte.
struct PlanCatalogs {
  std::shared_ptr<const ModelCatalog> models;
  std::shared_ptr<const SkuCatalog> skus;
};
CommandOutput run_plan_command(const std::vector<std::string>& args, bool local_paths = true,
                               const PlanCatalogs* catalogs = nullptr);

// Runs vram-calc with these arguments. Never throws: errors become one line on stderr and exit code 2 or 3.
int run(int argc, char** argv);

}  // namespace vramcalc::cli
