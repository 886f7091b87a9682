// The command line: parses flags (vLLM's names), runs the planner, prints, and returns the exit code.
#pragma once

namespace vramcalc::cli {

// Runs vram-calc with these arguments. Never throws: errors become one line on stderr and exit code 2 or 3.
int run(int argc, char** argv);

}  // namespace vramcalc::cli
