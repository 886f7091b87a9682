// render_json writes nlohmann's dump() layout with its own writer (src/render/json.cpp): byte for byte the same text.
#include <catch2/catch.hpp>

#include "support.hpp"

using testsupport::run_cli;

TEST_CASE("the JSON writer matches nlohmann's dump byte for byte", "[render][json]") {
  for (const char* args : {"--model meta-llama/Llama-3.1-8B --sku A100-80G,T4,L4 --format json --offline",
                           "--model deepseek-ai/DeepSeek-V3 --sku H200 --format json --offline",
                           "--model Qwen/Qwen3-8B --sku L4 --engine tgi --format json --offline",
                           "--model Qwen/Qwen3-8B --sku L4 --sweep max-model-len=4096:8192:4096 --format json "
                           "--offline"}) {
    INFO(args);
    const auto r = run_cli(args);
    REQUIRE((r.exit_code == 0 || r.exit_code == 1));
    const auto parsed = nlohmann::json::parse(r.out);
    CHECK(r.out == parsed.dump(2) + "\n");
  }
  // Control characters, quotes, backslashes and UTF-8 in a string (a model path), as nlohmann escapes them.
  const auto dir = testsupport::test_data("configs/meta-llama--Meta-Llama-3.1-8B");
  const auto r = run_cli("--model '" + dir.string() + "' --sku L4 --format json --offline --revision 'a\"b\\\\c\tdé'");
  if (r.exit_code <= 1) CHECK(r.out == nlohmann::json::parse(r.out).dump(2) + "\n");
}
