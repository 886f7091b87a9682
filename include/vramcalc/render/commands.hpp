// The command lines a plan stands for: `vllm serve` and `text-generation-launcher`, as words and as shell text.
// The words are the plan's own (PlanSummary::command); these write them.
#pragma once

#include <string>
#include <vector>

#include "vramcalc/report/report.hpp"

namespace vramcalc {

// The plan's launch command as one shell line, whichever server it is for.
std::string launch_command(const SkuPlan& plan);
// The `vllm serve` arguments equivalent to a plan (the model first, then flags), and the shell command line.
std::vector<std::string> vllm_serve_args(const Report& report, const SkuPlan& plan);
std::string vllm_serve_command(const Report& report, const SkuPlan& plan);
// Words joined with spaces, single-quoted where the shell needs it.
std::string shell_join(const std::vector<std::string>& words);

}  // namespace vramcalc
