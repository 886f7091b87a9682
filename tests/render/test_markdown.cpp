// --format markdown (or md): what a CI job posts on a pull request. The verdict and the figures first, the text
// breakdown verbatim in a collapsed block, a Markdown table for several SKUs, and text from files and flags escaped
// so it cannot break the table or the page.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

using testsupport::run_cli;

namespace {

const std::string kLlama8B = testsupport::test_data("configs/meta-llama--Meta-Llama-3.1-8B/config.json").string();

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t count_prefix(const std::string& text, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& l : lines(text)) n += l.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("markdown: one SKU is the verdict, the model, the command, and the table's breakdown verbatim",
          "[markdown]") {
  const auto md = run_cli("--model " + kLlama8B + " --sku A100-80G --format markdown");
  const auto table = run_cli("--model " + kLlama8B + " --sku A100-80G");
  REQUIRE(md.exit_code == 0);
  REQUIRE(table.exit_code == 0);
  CHECK(md.out.rfind("## vram-calc: ", 0) == 0);
  CHECK_THAT(md.out, Catch::Contains("on A100-80G"));
  CHECK_THAT(md.out, Catch::Contains("**FITS**: 1 x A100-80G (1 node(s)), TP 1 x PP 1"));
  CHECK_THAT(md.out, Catch::Contains("| Parameters | 8,030,261,248 (architecture) |"));
  CHECK_THAT(md.out, Catch::Contains("| Weights | 16,060,522,496 bytes = 14.96 GiB, bfloat16"));
  CHECK_THAT(md.out, Catch::Contains("| Engine | vLLM, vLLM-faithful estimator |"));
  CHECK_THAT(md.out, Catch::Contains("```sh\nvllm serve "));
  // Everything the table explains is there, unchanged, inside the collapsed block.
  CHECK_THAT(md.out, Catch::Contains("<details><summary>Full breakdown"));
  CHECK_THAT(md.out, Catch::Contains("```text\n" + table.out + "```\n\n</details>\n"));
  // "md" is the same format.
  CHECK(run_cli("--model " + kLlama8B + " --sku A100-80G --format md").out == md.out);
}

TEST_CASE("markdown: a plan that does not fit says so, with the changes that would fit as a table", "[markdown]") {
  const auto md =
      run_cli("--model " + kLlama8B + " --sku L4 --estimator kaito --context 131072 --gpus 1 --format markdown");
  REQUIRE(md.exit_code == 1);
  CHECK_THAT(md.out, Catch::Contains("**DOES NOT FIT**"));
  CHECK_THAT(md.out, Catch::Contains("**Changes that would fit**"));
  CHECK_THAT(md.out, Catch::Contains("| change | flags | GPUs | context | headroom (GiB) | risk |"));
  // Underscores are escaped (GitHub shows max_model_len); the flags are code, left as typed.
  CHECK_THAT(md.out, Catch::Contains("| max\\_model\\_len 22020 | `--max-model-len 22020` | 1 | 22020 |"));
}

TEST_CASE("markdown: several SKUs are one table row each, those that fit first", "[markdown]") {
  const auto md = run_cli("--model " + kLlama8B + " --sku T4,A100-80G,H100-80G --estimator kaito --format markdown");
  REQUIRE(md.exit_code == 0);
  CHECK_THAT(md.out, Catch::Contains("on 3 SKUs ("));
  CHECK_THAT(md.out, Catch::Contains("| SKU | GPU | GiB/GPU | GPUs | nodes | TP x PP | context | headroom (GiB) | "
                                     "risk | fits |\n|---|---|--:|--:|--:|---|--:|--:|---|---|\n"));
  // Header, separator and one row per SKU; the model table has two columns and its own two header lines.
  CHECK(count_prefix(md.out, "| A100-80G | A100-80G | 80.00 | 1 | 1 | 1 x 1 |") == 1);
  CHECK(count_prefix(md.out, "| H100-80G |") == 1);
  CHECK(count_prefix(md.out, "| T4 |") == 1);
  CHECK_THAT(md.out, Catch::Contains("GiB (2^30 bytes) per GPU"));
  CHECK_THAT(md.out, !Catch::Contains("<details>"));
}

TEST_CASE("markdown: text from files and flags is escaped; code blocks cannot be closed early", "[markdown]") {
  testsupport::TempDir dir;
  const auto model_dir = dir.path() / "a|b_*`x`";
  std::filesystem::create_directories(model_dir);
  std::filesystem::copy_file(kLlama8B, model_dir / "config.json");
  const auto md = run_cli("--model '" + model_dir.string() + "' --sku A100-80G --format markdown");
  REQUIRE(md.exit_code == 0);
  CHECK_THAT(md.out, Catch::Contains("a\\|b\\_\\*\\`x\\`"));
  for (const auto& l : lines(md.out))
    if (l.rfind("| Model |", 0) == 0) CHECK(l.find("a|b") == std::string::npos);
}

TEST_CASE("markdown: a sweep is its table in a code block; listings refuse markdown", "[markdown]") {
  const auto md = run_cli("--model " + kLlama8B + " --sku A100-80G --sweep max-model-len=1024:4096:1024 --format md");
  REQUIRE(md.exit_code == 0);
  CHECK(md.out.rfind("## vram-calc: ", 0) == 0);
  CHECK_THAT(md.out, Catch::Contains("sweep of --max-model-len"));
  CHECK(count_prefix(md.out, "```") == 2);
  const auto skus = run_cli("skus --format markdown");
  CHECK(skus.exit_code == 2);
  CHECK_THAT(skus.err, Catch::Contains("listings are table or json"));
}
