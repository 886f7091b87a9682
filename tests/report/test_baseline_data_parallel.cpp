// The KAITO baseline beside a data-parallel vLLM plan (report/baseline.cpp): KAITO has no data parallelism, so it
// is pinned at one replica's GPUs (TP x PP), not at all of them.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support.hpp"

TEST_CASE("a data-parallel plan with a pinned TP is planned, its KAITO baseline at one replica", "[report][baseline]") {
  const auto r = testsupport::run_cli(
      "--model meta-llama/Llama-3.1-8B --sku A100-80G --tensor-parallel-size 2 --data-parallel-size 2 "
      "--max-model-len 8192 --format json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);  // was exit 2: "--gpus 4 does not equal --tensor-parallel-size 2 x ..."
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["plan"]["gpus"] == 4);
  CHECK(j["vllm_command"].get<std::string>().find("--data-parallel-size 2") != std::string::npos);
  CHECK(j["baseline"]["gpus"] == 2);
}
