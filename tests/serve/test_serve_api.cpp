// vram-calc serve: every endpoint, the errors, /plan byte-equal with the CLI (issue 16).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "serve_support.hpp"
#include "support.hpp"

using testsupport::http;
using testsupport::TestServer;

TEST_CASE("serve: /healthz, and /plan byte-equal with the CLI's --format json", "[serve]") {
  TestServer server;
  CHECK(http(server.port(), "GET", "/healthz").body == "ok\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G"})", "--model meta-llama/Llama-3.1-8B --sku A100-80G"},
      {R"({"model": "Qwen/Qwen3-32B", "sku": "H100-80G", "max-model-len": "32k"})",
       "--model Qwen/Qwen3-32B --sku H100-80G --max-model-len 32k"},
      {R"({"model": "meta-llama/Llama-3.1-70B", "sku": "L4,A100-80G", "estimator": "kaito"})",
       "--model meta-llama/Llama-3.1-70B --sku L4,A100-80G --estimator kaito"},
      {R"({"model": "mistralai/Mistral-7B-v0.1", "sku": "L4", "engine": "tgi", "max_total_tokens": 8192})",
       "--model mistralai/Mistral-7B-v0.1 --sku L4 --engine tgi --max-total-tokens 8192"},
      {R"({"model": "openai/gpt-oss-120b", "sku": "H100-80G", "enforce-eager": true, "gpu-memory-utilization": 0.9})",
       "--model openai/gpt-oss-120b --sku H100-80G --enforce-eager --gpu-memory-utilization 0.9"},
  };
  for (const auto& [request, flags] : cases) {
    INFO(request);
    const auto reply = http(server.port(), "POST", "/plan", request);
    CHECK(reply.status == 200);
    const auto cli = testsupport::run_cli(flags + " --format json");
    CHECK(reply.body == cli.out);
    CHECK(reply.headers.at("x-vram-calc-exit-code") == std::to_string(cli.exit_code));
  }
}
