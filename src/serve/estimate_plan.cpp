// `plan` of POST /estimate-gpu-memory (serve/estimate.hpp): with sku or gpu_memory, the CLI's own JSON for the
// request's model and settings, so that the seed's endpoint and `vram-calc --format json` give one answer.
#include <algorithm>

#include <fmt/format.h>

#include "serve/api_error.hpp"
#include "serve/estimate.hpp"
#include "vramcalc/cli/cli.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/engines/method.hpp"

namespace vramcalc::serve {

namespace {

// A word as a POSIX shell reads it back: bare when it is plain, else in single quotes.
std::string shell_word(const std::string& w) {
  const bool plain = !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("-_./:=,+@%").find(c) != std::string_view::npos;
  });
  if (plain) return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::vector<std::string> cli_plan_arguments(const EstimateRequest& r, const EstimateContext& context) {
  const Method method = method_for(r.engine.value_or("vllm"), r.estimator.value_or("")).value_or(Method::Vllm);
  std::vector<std::string> a = {"--model", r.model_name};
  if (r.sku) a.insert(a.end(), {"--sku", *r.sku});
  if (r.gpu_memory) a.insert(a.end(), {"--gpu-memory", *r.gpu_memory});
  if (r.engine) a.insert(a.end(), {"--engine", *r.engine});
  if (r.estimator) a.insert(a.end(), {"--estimator", *r.estimator});
  a.insert(a.end(), {"--max-model-len", std::to_string(r.max_model_len), "--concurrency",
                     std::to_string(r.max_batch_size), "--dtype", r.weight_dtype});
  if (r.kv_cache_dtype) a.insert(a.end(), {"--kv-cache-dtype", *r.kv_cache_dtype});
  if (r.quantization) a.insert(a.end(), {"--quantization", *r.quantization});
  if (r.params_billions) a.insert(a.end(), {"--params-b", fmt::format("{}", *r.params_billions)});
  const std::string utilization = fmt::format("{}", r.gpu_memory_utilization);
  if (method == Method::Tgi) a.insert(a.end(), {"--cuda-memory-fraction", utilization});
  else a.insert(a.end(), {"--gpu-memory-utilization", utilization});
  if (method == Method::Vllm) {  // the vLLM-faithful estimator's batch flags (the CLI refuses them elsewhere)
    a.insert(a.end(), {"--max-num-seqs", std::to_string(r.max_batch_size)});
    if (r.max_num_batched_tokens)
      a.insert(a.end(), {"--max-num-batched-tokens", std::to_string(*r.max_num_batched_tokens)});
    if (r.enforce_eager) a.emplace_back("--enforce-eager");
  }
  // The model was resolved already: without --allow-hub the plan reads it offline, as the estimate did.
  if (!context.allow_hub) a.emplace_back("--offline");
  a.insert(a.end(), {"--format", "json"});
  return a;
}

void add_cli_plan(nlohmann::json& response, const EstimateRequest& r, const EstimateModel& m,
                  const EstimateContext& context) {
  if (!m.resolved_as_cli) {
    response["plan"] = nullptr;
    response["plan_command"] = nullptr;
    response["warnings"].push_back(
        m.estimated ? "plan: not made, the command line cannot read an estimated architecture (the figures above are "
                      "the estimate)"
                    : "plan: not made, the command line has no architecture overrides (the figures above use them)");
    return;
  }
  const std::vector<std::string> args = cli_plan_arguments(r, context);
  cli::CommandOutput out;
  try {
    out = cli::run_plan_command(args, /*local_paths=*/false);
  } catch (const Error& e) {
    if (e.code() == ExitCode::RemoteFailed) throw ApiError(502, e.what(), "model_name");
    throw ApiError(400, e.what(), estimate_field_of(e.what(), r.sku ? "sku" : "gpu_memory"));
  }
  std::string command = "vram-calc";
  for (const auto& w : args) {
    command += ' ';  // (not " " + word: GCC 12 warns about that concatenation, -Wrestrict, a known false positive)
    command += shell_word(w);
  }
  response["plan_command"] = command;
  response["plan_exit_code"] = out.exit_code;
  response["plan"] = nlohmann::json::parse(out.out);
}

}  // namespace vramcalc::serve
