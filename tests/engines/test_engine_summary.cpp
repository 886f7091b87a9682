// The closed set of memory models and the one summary every engine fills: the method table names each method once,
// each method's summary repeats its own plan's figures (layout, context, verdict), its memory terms add up to the
// total its table section shows, and the comparison, CSV and launch command read that summary.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <fmt/format.h>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/method.hpp"
#include "vramcalc/render/commands.hpp"
#include "vramcalc/render/render.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/local.hpp"

using namespace vramcalc;

namespace {

// Llama-3.1-8B from its config on `sku_spec`, planned with `method`.
Report plan_llama(Method method, const std::string& sku_spec) {
  ReportRequest request;
  request.settings.method = method;
  if (method == Method::Wizard) request.settings.fragmentation_factor = 1.15;  // as the CLI sets it
  request.skus = select_skus(testsupport::bundled_skus(), sku_spec);
  return build_report(load_local_model(testsupport::test_data("configs/meta-llama--Meta-Llama-3.1-8B").string()),
                      request);
}

std::string gib(std::uint64_t bytes) { return fmt::format("{:.2f}", to_gib(bytes)); }

std::uint64_t terms_sum(const PlanSummary& s) {
  std::uint64_t sum = 0;
  for (const auto& term : s.memory) sum += term.bytes;
  return sum;
}

}  // namespace

TEST_CASE("engine summary: the method table names every method once, with its engine, estimator and source",
          "[engines-summary]") {
  std::set<Method> methods;
  std::set<std::string_view> names;
  for (const auto& info : kMethods) {
    methods.insert(info.method);
    names.insert(info.name);
    CHECK(&method_info(info.method) == &info);
    CHECK(method_for(info.engine, info.estimator) == info.method);
    CHECK_FALSE(info.source.empty());
    CHECK_FALSE(info.title.empty());
    CHECK(std::string(info.source).find("seed") == std::string::npos);
  }
  CHECK(methods == std::set<Method>{Method::Kaito, Method::Vllm, Method::Wizard, Method::Tgi});
  CHECK(names.size() == kMethods.size());
  CHECK(method_for("tgi", "") == Method::Tgi);
  CHECK(method_for("vllm", "") == Method::Vllm);  // the default estimator: vLLM's own accounting
  CHECK_FALSE(method_for("tgi", "wizard").has_value());
}

TEST_CASE("engine summary: KAITO's summary is its plan, and its terms are the table's per-GPU total",
          "[engines-summary]") {
  const Report r = plan_llama(Method::Kaito, "A100-80G");
  const SkuPlan& sp = r.plans.front();
  const PlanSummary& s = sp.summary;
  CHECK(sp.method() == Method::Kaito);
  CHECK(s.method == Method::Kaito);
  CHECK(s.gpus == sp.kaito.gpus);
  CHECK(s.nodes == sp.kaito.nodes);
  CHECK(s.tensor_parallel_size == sp.kaito.tensor_parallel_size);
  CHECK(s.pipeline_parallel_size == sp.kaito.pipeline_parallel_size);
  CHECK(s.max_model_len == sp.kaito.max_model_len);
  CHECK(s.max_model_len_requested == sp.kaito.max_model_len_requested);
  CHECK(s.fits == sp.kaito.fits);
  CHECK(sp.engine_fits() == sp.kaito.fits);
  CHECK(s.memory_gpus == 1);
  CHECK(terms_sum(s) == sp.kaito.per_gpu.total_bytes);
  CHECK(s.memory_total_bytes == sp.kaito.per_gpu.total_bytes);
  CHECK(s.budget_bytes == sp.kaito.per_gpu.budget_bytes);
  const std::string table = render_table(r, false);
  CHECK_THAT(table, Catch::Contains(fmt::format("  total                    {:>9}   of budget {}", gib(terms_sum(s)),
                                                gib(s.budget_bytes))));
  CHECK_THAT(table, Catch::Contains("\nPlan (KAITO sizing guide)\n"));
  CHECK(s.command.at(0) == "vllm");
  CHECK_THAT(table, Catch::Contains("\n" + launch_command(sp) + "\n"));
}

TEST_CASE("engine summary: vLLM's summary is its plan, and its terms fill the requested budget", "[engines-summary]") {
  const Report r = plan_llama(Method::Vllm, "A100-80G");
  const SkuPlan& sp = r.plans.front();
  REQUIRE(sp.vllm);
  const VllmPlan& v = *sp.vllm;
  const PlanSummary& s = sp.summary;
  CHECK(s.method == Method::Vllm);
  CHECK(s.gpus == v.gpus);
  CHECK(s.nodes == v.nodes);
  CHECK(s.tensor_parallel_size == v.tensor_parallel_size);
  CHECK(s.pipeline_parallel_size == v.pipeline_parallel_size);
  CHECK(s.max_model_len == (v.capacity.fits ? v.max_model_len : v.capacity.estimated_max_model_len));
  CHECK(s.fits == v.fits);
  CHECK(s.gpu_memory_bytes == v.total_bytes);
  REQUIRE(v.available_kv_bytes > 0);
  // requested = weights + activation peak + non-PyTorch (+ CUDA graphs from v0.21) + available KV cache.
  CHECK(terms_sum(s) == v.requested_bytes);
  CHECK(s.budget_bytes == v.requested_bytes);
  const std::string table = render_table(r, false);
  CHECK_THAT(table, Catch::Contains(fmt::format("  requested                {:>9}", gib(terms_sum(s)))));
  CHECK_THAT(table, Catch::Contains("\n" + launch_command(sp) + "\n"));
  CHECK(launch_command(sp) == vllm_serve_command(r, sp));
}

TEST_CASE("engine summary: vllm-wizard's summary is its plan, its terms the required memory of the TP group",
          "[engines-summary]") {
  const Report r = plan_llama(Method::Wizard, "A100-80G");
  const SkuPlan& sp = r.plans.front();
  REQUIRE(sp.wizard);
  const WizardPlan& w = *sp.wizard;
  const PlanSummary& s = sp.summary;
  CHECK(s.method == Method::Wizard);
  CHECK(s.gpus == w.gpus);
  CHECK(s.tensor_parallel_size == w.tensor_parallel_size);
  CHECK(s.pipeline_parallel_size == 1);
  CHECK(s.max_model_len == w.context);
  CHECK(s.max_model_len == sp.feasibility.context);
  CHECK(s.fits == w.fits);
  CHECK(s.memory_gpus == w.gpus);
  CHECK(terms_sum(s) == w.required_bytes);
  CHECK(s.budget_bytes == w.allocatable_bytes);
  const std::string table = render_table(r, false);
  CHECK_THAT(table, Catch::Contains(fmt::format("  = headroom               {:>9}",
                                                fmt::format("{:.2f}", (static_cast<double>(s.budget_bytes) -
                                                                       static_cast<double>(terms_sum(s))) /
                                                                          static_cast<double>(kGiB)))));
  CHECK_THAT(table, Catch::Contains("\nPlan (vllm-wizard)\n"));
}

TEST_CASE("engine summary: TGI's summary is its plan, its terms the notebook's needed memory over the shards",
          "[engines-summary]") {
  const Report r = plan_llama(Method::Tgi, "A100-80G");
  const SkuPlan& sp = r.plans.front();
  REQUIRE(sp.tgi);
  const TgiPlan& t = *sp.tgi;
  const PlanSummary& s = sp.summary;
  CHECK(s.method == Method::Tgi);
  CHECK(s.gpus == t.num_shard);
  CHECK(s.tensor_parallel_size == t.num_shard);
  CHECK(s.pipeline_parallel_size == 1);
  CHECK(s.max_model_len == t.max_total_tokens);
  CHECK(s.fits == t.fits);
  CHECK(s.memory_gpus == t.num_shard);
  CHECK(terms_sum(s) == t.total_needed_bytes);
  CHECK(s.budget_bytes == t.available_bytes);
  const std::string table = render_table(r, false);
  CHECK_THAT(table, Catch::Contains(fmt::format("  = needed                 {:>12}",
                                                fmt::format("{:.5f}", static_cast<double>(terms_sum(s)) / 1e9))));
  CHECK_THAT(table, Catch::Contains("\nPlan (TGI estimation notebook)\n"));
  CHECK(s.command.at(0) == "text-generation-launcher");
  CHECK_THAT(table, Catch::Contains("\n" + launch_command(sp) + "\n"));
  // The CSV's TGI columns come from the summary's figures; the vLLM ones stay empty.
  const std::string csv = render_csv({SweepPoint{"", "", r}});
  CHECK_THAT(csv, Catch::Contains(fmt::format(",tgi,,")));
  CHECK_THAT(csv, Catch::Contains(fmt::format(",,,,{},{},", t.max_input_tokens, t.max_total_tokens)));
}

TEST_CASE("engine summary: the comparison reads every method's summary the same way", "[engines-summary]") {
  for (const auto& info : kMethods) {
    INFO(info.name);
    const Report r = plan_llama(info.method, "A100-80G,L4");
    REQUIRE(r.plans.size() == 2);
    const std::string table = render_table(r, true);
    for (const auto& sp : r.plans) {
      CHECK(sp.method() == info.method);
      CHECK(sp.gpus() == sp.summary.gpus);
      CHECK(sp.nodes() == sp.summary.nodes);
      CHECK(sp.summary.capacity_bytes == sp.summary.memory_gpus * sp.summary.gpu_memory_bytes);
      CHECK_THAT(table, Catch::Contains(fmt::format(
                            "{:>8} {:>5} {:>6} {:>9} {:>14}", gib(sp.summary.gpu_memory_bytes), sp.gpus(), sp.nodes(),
                            fmt::format("{} x {}", sp.tensor_parallel_size(), sp.pipeline_parallel_size()),
                            sp.summary.max_model_len)));
    }
  }
}
