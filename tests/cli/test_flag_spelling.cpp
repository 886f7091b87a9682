// Flags spelled as people type them (issue 13, section 3): vLLM's own underscores and short forms, choice values in
// any case, and a suggestion for a flag that does not exist.
#include <catch2/catch.hpp>

#include <string>

#include "support.hpp"

using testsupport::run_cli;

namespace {

const std::string kPlan = "--model meta-llama/Llama-3.1-8B --sku A100-80G ";

}  // namespace

TEST_CASE("flags: underscores read as dashes, as vLLM's parser reads them", "[cli][spelling]") {
  const auto dashes = run_cli(kPlan + "--max-model-len 4096 --gpu-memory-utilization=0.95 --format json");
  const auto underscores = run_cli(kPlan + "--max_model_len 4096 --gpu_memory_utilization=0.95 --format json");
  REQUIRE(dashes.exit_code == 0);
  CHECK(underscores.exit_code == 0);
  CHECK(underscores.out == dashes.out);
  CHECK(underscores.err == dashes.err);
}

TEST_CASE("flags: choice values in any case", "[cli][spelling]") {
  const auto lower = run_cli(kPlan + "--engine vllm --estimator vllm --kv-cache-dtype fp8 --format json");
  const auto mixed = run_cli(kPlan + "--engine vLLM --estimator VLLM --kv-cache-dtype FP8 --format JSON");
  REQUIRE(lower.exit_code == 0);
  CHECK(mixed.exit_code == 0);
  CHECK(mixed.out == lower.out);
  CHECK(run_cli(kPlan + "--emit K8S,Vllm-Command").exit_code == 0);
}

TEST_CASE("flags: an unknown flag names the one it resembles, and never echoes a value", "[cli][spelling]") {
  struct Case {
    std::string args, unknown, suggestion;
  };
  for (const Case& c :
       {Case{"--tp 2", "--tp", "--tensor-parallel-size"}, Case{"--pp=2", "--pp", "--pipeline-parallel-size"},
        Case{"--tensor-paralel-size 2", "--tensor-paralel-size", "--tensor-parallel-size"},
        Case{"--max-model-lenn 4096", "--max-model-lenn", "--max-model-len"},
        Case{"--tokne hf_secretvalue", "--tokne", "--token"}}) {
    INFO(c.args);
    const auto r = run_cli(kPlan + c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err ==
          "vram-calc: unknown option " + c.unknown + ": did you mean " + c.suggestion + "? (see vram-calc --help)\n");
    CHECK(r.err.find("secretvalue") == std::string::npos);
  }
  const auto far = run_cli(kPlan + "--frobnicate 3");
  CHECK(far.exit_code == 2);
  CHECK(far.err == "vram-calc: unknown option --frobnicate (see vram-calc --help)\n");
}
