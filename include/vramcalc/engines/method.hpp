// The closed set of memory models a plan is made with, and how each is named on the command line and in output.
// `--engine` picks the server (vLLM or TGI); under vLLM, `--estimator` picks the memory model. The first row of an
// engine is its default: vLLM's own accounting, since a plan a user acts on must be one vLLM accepts. Every choice list
// (options, completions, profiles, help) reads this table: a new memory model is one row here and a folder under
// engines/.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace vramcalc {

enum class Method { Kaito, Vllm, Wizard, Tgi };

struct MethodInfo {
  Method method;
  std::string_view name;       // "kaito", "vllm", "wizard", "tgi": what output calls the plan
  std::string_view engine;     // the server it sizes, as --engine names it: "vllm" or "tgi"
  std::string_view estimator;  // its --estimator value under --engine vllm; "" when the engine has only this one
  std::string_view source;     // what its formulas follow, as output names it
  std::string_view title;      // the server and memory model in words, as Markdown's summary names them
};

inline constexpr std::array<MethodInfo, 4> kMethods = {{
    {Method::Vllm, "vllm", "vllm", "vllm", "vLLM's memory profiling", "vLLM, vLLM-faithful estimator"},
    {Method::Kaito, "kaito", "vllm", "kaito", "KAITO sizing guide", "vLLM, KAITO estimator"},
    {Method::Wizard, "wizard", "vllm", "wizard", "vllm-wizard", "vLLM, vllm-wizard estimator"},
    {Method::Tgi, "tgi", "tgi", "", "TGI estimation notebook", "TGI (text-generation-inference)"},
}};

constexpr const MethodInfo& method_info(Method m) {
  for (const auto& info : kMethods)
    if (info.method == m) return info;
  return kMethods[0];
}

// The method --engine and --estimator select (both as canonical lower-case names; an empty estimator is the
// engine's default); nullopt for a pair that names none.
constexpr std::optional<Method> method_for(std::string_view engine, std::string_view estimator) {
  if (estimator.empty()) estimator = engine == "tgi" ? "" : "vllm";
  for (const auto& info : kMethods)
    if (info.engine == engine && info.estimator == estimator) return info.method;
  return std::nullopt;
}

}  // namespace vramcalc
