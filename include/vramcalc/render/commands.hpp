// The command lines a plan stands for: `vllm serve` and `text-generation-launcher`, as words and as shell text.
#pragma once

#include <string>
#include <vector>

#include "vramcalc/engines/tgi/plan.hpp"
#include "vramcalc/report/report.hpp"

namespace vramcalc {

// The `vllm serve` arguments equivalent to a plan (the model first, then flags), and the shell command line.
std::vector<std::string> vllm_serve_args(const Report& report, const SkuPlan& plan);
std::string vllm_serve_command(const Report& report, const SkuPlan& plan);
// Words joined with spaces, single-quoted where the shell needs it.
std::string shell_join(const std::vector<std::string>& words);
// What the TGI launcher line needs from the report (model, revision, dtype, quantization, KV dtype).
TgiLaunchOptions tgi_launch_options(const Report& report, const SkuPlan& plan);

}  // namespace vramcalc
