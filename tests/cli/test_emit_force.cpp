// --emit refuses a plan that does not fit (nothing on stdout, one line on stderr, exit 1) unless --force.
#include <catch2/catch.hpp>

#include <string>

#include <yaml-cpp/yaml.h>

#include "support.hpp"

using testsupport::run_cli;

namespace {

// 70B in bfloat16 (about 131 GiB of weights) on one 24 GB L4.
const std::string kTooBig =
    "--model " + testsupport::test_data("configs/meta-llama--Meta-Llama-3.1-70B").string() + " --sku L4 --gpus 1";

void check_refused(const testsupport::RunResult& r) {
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  REQUIRE_FALSE(r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);  // one line
  CHECK_THAT(r.err, Catch::StartsWith("vram-calc: --emit: the plan on L4 does not fit ("));
  CHECK_THAT(r.err, Catch::EndsWith("; pass --force to emit it anyway\n"));
}

}  // namespace

TEST_CASE("emit force: every artefact of a plan that does not fit is refused", "[cli][emit]") {
  for (const std::string what : {"k8s", "vllm-args", "vllm-command", "vllm-command,k8s"}) {
    INFO(what);
    const std::string args = kTooBig + " --emit ";
    check_refused(run_cli(args + what));
  }
  check_refused(run_cli(kTooBig + " --engine tgi --emit tgi-command"));
  check_refused(run_cli(kTooBig + " --engine tgi --emit k8s"));
}

TEST_CASE("emit force: --force prints it, with the manifest's warning, and still exits 1", "[cli][emit]") {
  const auto r = run_cli(kTooBig + " --emit k8s --force");
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::Contains("# WARNING: the plan does not fit;"));
  YAML::Node doc;
  REQUIRE_NOTHROW(doc = YAML::Load(r.out));
  CHECK(doc["kind"].as<std::string>() == "Deployment");
  const auto command = run_cli(kTooBig + " --emit vllm-command --force");
  CHECK(command.exit_code == 1);
  CHECK_THAT(command.out, Catch::StartsWith("vllm serve "));
}

TEST_CASE("emit force: with several SKUs and none fitting, the refusal names the first", "[cli][emit]") {
  const auto r = run_cli("--model " + testsupport::test_data("configs/meta-llama--Meta-Llama-3.1-70B").string() +
                         " --sku L4,T4 --gpus 1 --emit k8s");
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("vram-calc: --emit: no SKU fits (the first, "));
  CHECK_THAT(r.err, Catch::EndsWith("; pass --force to emit it anyway\n"));
  // A plan that fits is emitted as before, without --force.
  const auto fits = run_cli("--model " + testsupport::test_data("configs/meta-llama--Meta-Llama-3.1-8B").string() +
                            " --sku H100-80G --gpus 1 --max-model-len 8192 --emit vllm-command");
  CHECK(fits.exit_code == 0);
  CHECK(fits.err.empty());
}
