// The one pipeline (report/build.hpp) in process: catalog models planned on catalog SKUs, with no binary run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/resolve.hpp"

using namespace vramcalc;

namespace {

// A bundled-catalog model as the CLI resolves it (no cache, no network).
ModelInput catalog_model(const std::string& id) {
  const CatalogModel* entry = testsupport::bundled_models().find(id);
  REQUIRE(entry != nullptr);
  return catalog_input(*entry);
}

ReportRequest request_for(const std::string& sku_spec, bool suggestions = false) {
  ReportRequest request;
  request.skus = select_skus(testsupport::bundled_skus(), sku_spec);
  request.suggestions = suggestions;
  return request;
}

std::vector<std::string> sku_order(const Report& r) {
  std::vector<std::string> names;
  for (const auto& p : r.plans) names.push_back(p.sku.name);
  return names;
}

bool has_warning(const std::vector<std::string>& warnings, const std::string& text) {
  for (const auto& w : warnings)
    if (w.find(text) != std::string::npos) return true;
  return false;
}

// The Error `body` throws: its exit code and message.
template <typename Body>
std::pair<ExitCode, std::string> error_of(Body&& body) {
  try {
    body();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  FAIL("no vramcalc::Error thrown");
  return {};
}

}  // namespace

TEST_CASE("pipeline: several SKUs are ordered those that fit first, then fewest GPUs, then as asked", "[pipeline]") {
  // Llama-3.1-70B (141 GB in bfloat16): 2 H100 or A100 80 GB, 4 A100 40 GB, 8 L4, 13 T4; Trainium and the Radeon
  // Pro V620 do not fit.
  // Planned with the KAITO sizing guide, whose GPU counts are round (vLLM's own accounting takes 4 H100s).
  ReportRequest ordered = request_for("TRAINIUM,T4,A100-40G,H100-80G,L4,A100-80G,RADEON-PRO-V620");
  ordered.settings.method = Method::Kaito;
  const Report r = build_report(catalog_model("meta-llama/Llama-3.1-70B-Instruct"), ordered);
  CHECK(sku_order(r) ==
        std::vector<std::string>{"H100-80G", "A100-80G", "A100-40G", "L4", "T4", "TRAINIUM", "RADEON-PRO-V620"});
  for (std::size_t i = 1; i < r.plans.size(); ++i) {
    INFO(r.plans[i].sku.name);
    CHECK((r.plans[i - 1].fits() || !r.plans[i].fits()));
    if (r.plans[i - 1].fits() == r.plans[i].fits()) CHECK(r.plans[i - 1].gpus() <= r.plans[i].gpus());
  }
  CHECK(r.plans.front().gpus() == 2);
  CHECK_FALSE(r.plans.back().fits());

  // One SKU, or the same SKUs asked in another order: the same plans, in the same order.
  ReportRequest reordered = request_for("RADEON-PRO-V620,A100-80G,L4,H100-80G,A100-40G,T4,TRAINIUM");
  reordered.settings.method = Method::Kaito;
  const Report reversed = build_report(catalog_model("meta-llama/Llama-3.1-70B-Instruct"), reordered);
  CHECK(sku_order(reversed) ==
        std::vector<std::string>{"A100-80G", "H100-80G", "A100-40G", "L4", "T4", "RADEON-PRO-V620", "TRAINIUM"});
  CHECK(sku_order(build_report(catalog_model("meta-llama/Llama-3.1-70B-Instruct"), request_for("T4"))) ==
        std::vector<std::string>{"T4"});
}

TEST_CASE("pipeline: suggestions only when asked, and only for the plans that do not fit", "[pipeline]") {
  // Llama-3.1-8B pinned to one GPU: 16 GB of weights fit an H100, not a T4.
  ReportRequest request = request_for("T4,H100-80G", true);
  request.settings.method = Method::Kaito;
  request.settings.kaito.gpus = 1;
  const ModelInput input = catalog_model("meta-llama/Llama-3.1-8B");
  const Report with = build_report(input, request);
  REQUIRE(sku_order(with) == std::vector<std::string>{"H100-80G", "T4"});
  CHECK(with.plans[0].fits());
  CHECK(with.plans[0].suggestions.empty());
  CHECK_FALSE(with.plans[1].fits());
  CHECK_FALSE(with.plans[1].suggestions.empty());
  for (const auto& s : with.plans[1].suggestions) {
    INFO(s.change);
    CHECK(s.fits);
    CHECK_FALSE(s.flags.empty());
  }

  request.suggestions = false;
  const Report without = build_report(input, request);
  for (const auto& p : without.plans) CHECK(p.suggestions.empty());
  // The plans themselves do not depend on it.
  REQUIRE(without.plans.size() == with.plans.size());
  for (std::size_t i = 0; i < with.plans.size(); ++i) {
    CHECK(without.plans[i].sku.name == with.plans[i].sku.name);
    CHECK(without.plans[i].fits() == with.plans[i].fits());
    CHECK(without.plans[i].gpus() == with.plans[i].gpus());
  }
}

TEST_CASE("pipeline: model-level warnings and profile notes", "[pipeline]") {
  ModelInput input = catalog_model("meta-llama/Llama-3.1-8B");
  REQUIRE(input.catalog_num_params);
  const std::string mismatch = "the computed parameter count";

  SECTION("none for a catalog model as it is") {
    const Report r = build_report(input, request_for("H100-80G"));
    CHECK_FALSE(has_warning(r.model_warnings(), mismatch));
    CHECK_FALSE(has_warning(r.model_warnings(), "is a what-if"));
  }
  SECTION("a computed parameter count more than 1% off the known one") {
    input.catalog_num_params = *input.catalog_num_params / 100 * 90;
    const Report r = build_report(input, request_for("H100-80G"));
    CHECK(has_warning(r.model_warnings(), mismatch));
    CHECK(has_warning(r.all_warnings(r.plans.front()), "differs from the known"));
  }
  SECTION("no parameter-count warning when --params-b sets the count") {
    input.catalog_num_params = *input.catalog_num_params / 100 * 90;
    ReportRequest request = request_for("H100-80G");
    request.settings.weights.params_b = 8.0;
    const Report r = build_report(input, request);
    CHECK(r.weights.num_params_source == "--params-b");
    CHECK_FALSE(has_warning(r.model_warnings(), mismatch));
  }
  SECTION("a KV cache dtype other than the weights' (not fp8) is a what-if") {
    ReportRequest request = request_for("H100-80G");
    request.settings.kv_cache_dtype_flag = "float32";
    const Report r = build_report(input, request);
    CHECK(has_warning(r.model_warnings(), "--kv-cache-dtype float32 is a what-if"));
  }
  SECTION("a profile's notes are source warnings, once") {
    ReportRequest request = request_for("H100-80G");
    request.profile_notes = {"workload.mode chat does not change memory sizing",
                             "workload.mode chat does not change memory sizing"};
    const Report r = build_report(input, request);
    const auto warnings = r.model_warnings();
    CHECK(std::count(warnings.begin(), warnings.end(), "profile: workload.mode chat does not change memory sizing") ==
          1);
  }
}

TEST_CASE("pipeline: the model-level half alone, and an unreadable config", "[pipeline]") {
  const Report r = model_report(catalog_model("meta-llama/Llama-3.1-8B"), ReportSettings{});
  CHECK(r.plans.empty());
  CHECK(r.arch.num_params() > 7'000'000'000ULL);
  CHECK(r.kv.bytes_per_token == 131072);  // 2 x 32 layers x 8 KV heads x 128 x 2 bytes

  ModelInput bad;
  bad.id = "acme/not-a-config";
  bad.config = nlohmann::json::array();
  const auto [code, message] = error_of([&] { (void)build_report(bad, request_for("H100-80G")); });
  CHECK(code == ExitCode::BadInput);
  CHECK(message == "acme/not-a-config: config.json must be a JSON object");
}

TEST_CASE("pipeline: SKU selection by name, alias and case; an unknown SKU names close matches", "[pipeline]") {
  CHECK(select_skus(testsupport::bundled_skus(), "all").size() == testsupport::bundled_skus().all().size());
  CHECK(select_skus(testsupport::bundled_skus(), "ALL").size() == testsupport::bundled_skus().all().size());
  CHECK(selects_every_sku("all"));
  CHECK_FALSE(selects_every_sku("All"));  // as the CLI always took it: a SKU called "All" would be looked up
  CHECK(sku_names(" H100-80G , ,t4,") == std::vector<std::string>{"H100-80G", "t4"});

  const auto two = select_skus(testsupport::bundled_skus(), "h100-80g, T4");
  REQUIRE(two.size() == 2);
  CHECK(two[0]->name == "H100-80G");
  CHECK(two[1]->name == "T4");

  const auto [code, message] = error_of([] { (void)select_skus(testsupport::bundled_skus(), "T4,H100-80"); });
  CHECK(code == ExitCode::BadInput);
  CHECK_THAT(message, Catch::StartsWith("--sku H100-80: unknown SKU. Did you mean H100-80G"));
  CHECK_THAT(message, Catch::EndsWith("? (vram-calc skus lists them all)"));

  const auto [empty_code, empty_message] = error_of([] { (void)select_skus(testsupport::bundled_skus(), " , "); });
  CHECK(empty_code == ExitCode::BadInput);
  CHECK(empty_message == "--sku: no SKU named");
}
