// What --sku all's plans share (src/report/plan_cache.hpp): plans of SKUs planned alike are copied with the SKU's own
// name put where the plan quotes it, vLLM and KAITO plans are shared by GPU, and the vLLM estimator keeps its
// per-layout steps (engines/vllm/memo.hpp). Every plan made that way must be the plan made on its own, to the byte as
// JSON.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"
#include "vramcalc/render/json_stream.hpp"
#include "vramcalc/render/render.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/resolve.hpp"

using namespace vramcalc;

namespace {

std::string plan_text(const Report& r, const SkuPlan& plan) {
  Report one = r;
  one.plans = {plan};
  return render_json(one, false);
}

// Plans every SKU of the catalog through add_plans and each on its own; compares them. Returns how many plans
// quote their SKU's name in a warning (where a copied plan must hold its own name).
int check_all_skus(const std::string& model, const ReportSettings& settings) {
  const CatalogModel* entry = testsupport::bundled_models().find(model);
  REQUIRE(entry != nullptr);
  const Report base = model_report(catalog_input(*entry), settings);
  Report all = base;
  const auto every = select_skus(testsupport::bundled_skus(), "all");
  add_plans(all, every, false);
  REQUIRE(all.plans.size() == every.size());
  // The array as render_json writes it, plans alike copied from the first of them, is the array written plan by plan.
  Report unshared = all;
  for (auto& p : unshared.plans) p.alike.reset();
  CHECK(render_json(all, true) == render_json(unshared, true));
  int quoting = 0;
  for (const SkuPlan& shared : all.plans) {
    const auto sku = std::find_if(every.begin(), every.end(), [&](const Sku* s) { return s->name == shared.sku.name; });
    REQUIRE(sku != every.end());
    INFO(model << " on " << shared.sku.name);
    const SkuPlan alone = plan_for_sku(base, **sku);
    CHECK(plan_text(all, shared) == plan_text(base, alone));
    if (shared.sku.is_instance &&
        std::any_of(shared.warnings.begin(), shared.warnings.end(),
                    [&](const std::string& w) { return w.find(shared.sku.name) != std::string::npos; }))
      ++quoting;
  }
  return quoting;
}

}  // namespace

TEST_CASE("plan cache: every SKU's shared plan is its own plan, with every method", "[plan-cache]") {
  for (const Method method : {Method::Vllm, Method::Kaito, Method::Wizard, Method::Tgi}) {
    ReportSettings settings;
    settings.method = method;
    INFO("method " << static_cast<int>(method));
    check_all_skus("meta-llama/Llama-3.1-8B", settings);
  }
}

TEST_CASE("plan cache: a copied plan quotes its own SKU's name, not its twin's", "[plan-cache]") {
  // --gpus-per-node 4 names each instance of another size in a warning; KAITO's guide and vLLM disagree on whether
  // 8 requests of Gemma 3 27B fit on some instances, a warning that names the instance too.
  ReportSettings settings;
  settings.gpus_per_node_override = 4;
  CHECK(check_all_skus("meta-llama/Llama-3.1-8B", settings) > 10);
  ReportSettings busy;
  busy.concurrency = 8;
  CHECK(check_all_skus("google/gemma-3-27b-it", busy) > 10);
}

TEST_CASE("plan cache: mixture-of-experts and MLA models share plans as they plan alone", "[plan-cache]") {
  check_all_skus("Qwen/Qwen3-30B-A3B", ReportSettings{});
  check_all_skus("deepseek-ai/DeepSeek-V3", ReportSettings{});
}

TEST_CASE("render_json_to: the pieces make render_json's text", "[plan-cache][render]") {
  const CatalogModel* entry = testsupport::bundled_models().find("meta-llama/Llama-3.1-8B");
  REQUIRE(entry != nullptr);
  Report r = model_report(catalog_input(*entry), ReportSettings{});
  add_plans(r, select_skus(testsupport::bundled_skus(), "all"), false);
  CHECK(std::count_if(r.plans.begin(), r.plans.end(), [](const SkuPlan& p) { return p.alike != nullptr; }) > 20);
  for (const bool as_array : {true, false}) {
    std::string joined;
    int pieces = 0;
    render_json_to(r, as_array, [&](std::string_view piece) {
      joined += piece;
      ++pieces;
    });
    CHECK(joined == render_json(r, as_array));
    if (as_array) CHECK(pieces > 10);  // over a megabyte, in pieces of about 64 KB
  }
}
