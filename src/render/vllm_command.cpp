// The command lines a plan stands for, as shell text: the words are the plan's (PlanSummary::command, composed in
// report/sku_plan.cpp from the engine's flags and the report's settings).
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string_view>

#include "vramcalc/core/printable.hpp"
#include "vramcalc/render/commands.hpp"

namespace vramcalc {

namespace {

// A model given as a path to its config.json: vLLM and TGI load a model directory (or a Hub id), so the server gets
// the directory. Anything else is served as given.
std::string served_model(const std::string& model) {
  const std::filesystem::path p(model);
  if (p.filename() != "config.json") return model;
  return p.has_parent_path() ? p.parent_path().string() : ".";
}

// Where the model is in a launch command: `vllm serve MODEL ...`, `text-generation-launcher --model-id MODEL ...`.
std::size_t model_index(const std::vector<std::string>& words) {
  if (words.size() > 2 && words[0] == "vllm" && words[1] == "serve") return 2;
  const auto at = std::find(words.begin(), words.end(), "--model-id");
  if (at != words.end() && at + 1 != words.end()) return static_cast<std::size_t>(at - words.begin()) + 1;
  return words.size();
}

// A flag's name as both servers' parsers read it: underscores as dashes, without an `=value`.
std::string flag_name(std::string_view word) {
  std::string name(word.substr(0, word.find('=')));
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

}  // namespace

std::vector<std::string> served_words(const SkuPlan& sp) {
  std::vector<std::string> words = sp.summary.command;
  const std::size_t at = model_index(words);
  if (at < words.size()) words[at] = served_model(words[at]);
  return words;
}

std::vector<std::string> vllm_serve_args(const Report& r, const SkuPlan& sp) {
  auto words = served_words(sp);
  // A plan for another server has no `vllm serve` line (the CLI refuses the combination): the model alone.
  if (words.size() < 2 || words[0] != "vllm" || words[1] != "serve") return {served_model(r.input.id)};
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

std::string launch_command(const SkuPlan& sp) { return shell_join(served_words(sp)); }

std::uint64_t gpus_in_command(const std::vector<std::string>& words) {
  std::uint64_t tp = 1, pp = 1, dp = 1, shards = 1;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string name = flag_name(words[i]);
    std::uint64_t* target = name == "--tensor-parallel-size" || name == "-tp"     ? &tp
                            : name == "--pipeline-parallel-size" || name == "-pp" ? &pp
                            : name == "--data-parallel-size" || name == "-dp"     ? &dp
                            : name == "--num-shard"                               ? &shards
                                                                                  : nullptr;
    if (target == nullptr) continue;
    const auto eq = words[i].find('=');
    const std::string_view value = eq != std::string::npos
                                       ? std::string_view(words[i]).substr(eq + 1)
                                       : (i + 1 < words.size() ? std::string_view(words[i + 1]) : std::string_view());
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec == std::errc() && end == value.data() + value.size() && n > 0) *target = n;
  }
  const bool tgi = !words.empty() && words[0] == "text-generation-launcher";
  return tgi ? shards : tp * pp * dp;
}

}  // namespace vramcalc
