// The command lines a plan stands for, as shell text: the words are the plan's (PlanSummary::command, composed in
// report/sku_plan.cpp from the engine's flags and the report's settings).
#include "vramcalc/core/printable.hpp"
#include "vramcalc/render/commands.hpp"

namespace vramcalc {

std::vector<std::string> vllm_serve_args(const Report& r, const SkuPlan& sp) {
  const auto& words = sp.summary.command;
  // A plan for another server has no `vllm serve` line (the CLI refuses the combination): the model alone.
  if (words.size() < 2 || words[0] != "vllm" || words[1] != "serve") return {r.input.id};
  return {words.begin() + 2, words.end()};
}

std::string shell_join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += shell_quote(w);
  }
  return out;
}

std::string vllm_serve_command(const Report& r, const SkuPlan& sp) {
  return "vllm serve " + shell_join(vllm_serve_args(r, sp));
}

std::string launch_command(const SkuPlan& sp) { return shell_join(sp.summary.command); }

}  // namespace vramcalc
