// The renderers in process: a report built by the one pipeline (report/build.hpp) renders byte for byte what the
// binary prints for the same command, so report and render can be tested without it.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "support.hpp"
#include "vramcalc/render/render.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/local.hpp"
#include "vramcalc/sources/resolve.hpp"

using namespace vramcalc;

namespace {

// --model as the CLI resolves it offline with empty caches: a local directory, else the bundled catalog.
ModelInput resolve(const std::string& model) {
  if (looks_like_local_path(model)) return load_local_model(model);
  const ModelCatalog catalog = ModelCatalog::load_for(testsupport::repo_data("models.json"), model);
  const CatalogModel* entry = catalog.find(model);
  REQUIRE(entry != nullptr);
  return catalog_input(*entry);
}

enum class Format { Table, Json, Markdown, Csv };

const char* format_flag(Format f) {
  switch (f) {
    case Format::Table: return "table";
    case Format::Json: return "json";
    case Format::Markdown: return "markdown";
    case Format::Csv: return "csv";
  }
  return "";
}

// What `vram-calc --model MODEL --sku SKUS --format F` prints, rendered in process. The CLI asks for suggestions
// only where they are shown: JSON, and the table or Markdown of one SKU.
std::string render_in_process(const std::string& model, const std::string& sku_spec, Format format) {
  ReportRequest request;
  request.skus = select_skus(testsupport::bundled_skus(), sku_spec);
  const bool several = request.skus.size() > 1 || selects_every_sku(sku_spec);
  request.suggestions = format == Format::Json || (format != Format::Csv && !several);
  const Report r = build_report(resolve(model), request);
  switch (format) {
    case Format::Table: return render_table(r, several);
    case Format::Json: return render_json(r, several);
    case Format::Markdown: return render_markdown(r, several);
    case Format::Csv: return render_csv({SweepPoint{"", "", r}});
  }
  return "";
}

void require_same_as_cli(const std::string& model, const std::string& sku_spec) {
  for (const Format format : {Format::Table, Format::Json, Format::Markdown, Format::Csv}) {
    INFO(model << " on " << sku_spec << " as " << format_flag(format));
    const auto cli =
        testsupport::run_cli("--model '" + model + "' --sku '" + sku_spec + "' --format " + format_flag(format));
    REQUIRE(cli.err.empty());
    REQUIRE((cli.exit_code == 0 || cli.exit_code == 1));
    CHECK(render_in_process(model, sku_spec, format) == cli.out);
  }
}

// The plan object's top-level keys, as docs/json-schema.md lists them ("sweep" only in sweeps, "vllm" only with
// --estimator vllm).
// Issue 14 added "verdict": fits, does_not_fit or uncertain.
const std::set<std::string> kDocumentedKeys = {
    "schema_version", "tool",         "engine",      "estimator",   "fits",        "model", "kv_cache", "sku",
    "settings",       "per_gpu",      "plan",        "feasibility", "suggestions", "tgi",   "wizard",   "vllm",
    "baseline",       "vllm_command", "tgi_command", "warnings",    "verdict"};

std::set<std::string> keys_of(const nlohmann::json& object) {
  std::set<std::string> keys;
  for (const auto& item : object.items()) keys.insert(item.key());
  return keys;
}

}  // namespace

TEST_CASE("render in process: one SKU, every format, is byte for byte the CLI's output", "[pipeline]") {
  // One that fits, one that does not (with suggestions), and a local config directory.
  require_same_as_cli("meta-llama/Llama-3.1-8B", "H100-80G");
  require_same_as_cli("meta-llama/Llama-3.1-70B-Instruct", "RADEON-PRO-V620");
  require_same_as_cli(testsupport::test_data("configs/mistralai--Mixtral-8x7B-v0.1").string(), "a100-80g");
}

TEST_CASE("render in process: a comparison of several SKUs, every format, is byte for byte the CLI's output",
          "[pipeline]") {
  require_same_as_cli("meta-llama/Llama-3.1-70B-Instruct", "TRAINIUM,T4,H100-80G,A100-40G");
  require_same_as_cli("Qwen/Qwen3-30B-A3B-FP8", "L4, g5.xlarge");
}

TEST_CASE("render in process: render_json parses, with the documented top-level keys", "[pipeline]") {
  ReportRequest request;
  request.skus = select_skus(testsupport::bundled_skus(), "H100-80G");
  request.suggestions = true;
  const Report one = build_report(resolve("meta-llama/Llama-3.1-8B"), request);
  const auto single = nlohmann::json::parse(render_json(one, false));
  REQUIRE(single.is_object());
  CHECK(keys_of(single) == kDocumentedKeys);
  CHECK(single["schema_version"] == kJsonSchemaVersion);
  CHECK(single["tool"]["name"] == "vram-calc");
  CHECK(single["model"]["id"] == "meta-llama/Llama-3.1-8B");
  CHECK(single["sku"]["name"] == "H100-80G");
  CHECK(single["fits"] == true);
  CHECK(single["suggestions"].is_array());
  CHECK(single["warnings"].is_array());

  request.skus = select_skus(testsupport::bundled_skus(), "T4,H100-80G,TRAINIUM");
  const Report several = build_report(resolve("meta-llama/Llama-3.1-70B-Instruct"), request);
  const auto array = nlohmann::json::parse(render_json(several, true));
  REQUIRE(array.is_array());
  REQUIRE(array.size() == 3);
  for (std::size_t i = 0; i < array.size(); ++i) {
    INFO(i);
    CHECK(keys_of(array[i]) == kDocumentedKeys);
    CHECK(array[i]["sku"]["name"] == several.plans[i].sku.name);
    CHECK(array[i]["fits"] == several.plans[i].fits());
  }
  CHECK(array[0]["sku"]["name"] == "H100-80G");  // fitting first, fewest GPUs first
  CHECK(array[2]["fits"] == false);
}
