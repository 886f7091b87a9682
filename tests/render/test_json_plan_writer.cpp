// The JSON written without a DOM (src/render/json_writer.hpp) and the plans of one report that share their vLLM and
// KAITO plans (src/report/plan_cache.hpp): the text is nlohmann's dump() byte for byte, and a shared plan is the
// plan each SKU would have had alone.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "render/json_sections.hpp"
#include "render/json_writer.hpp"
#include "support.hpp"
#include "vramcalc/render/render.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/resolve.hpp"

using namespace vramcalc;
using render_detail::JsonWriter;

namespace {

ModelInput catalog_model(const std::string& id) {
  const ModelCatalog catalog = ModelCatalog::load_for(testsupport::repo_data("models.json"), id);
  const CatalogModel* entry = catalog.find(id);
  REQUIRE(entry != nullptr);
  return catalog_input(*entry);
}

// nlohmann's dump of `j` with what the writer escapes besides (render_detail::escape_yaml_unsafe).
std::string nlohmann_text(const nlohmann::json& j, int indent) {
  return render_detail::escape_yaml_unsafe(j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace));
}

// A document with every kind of value, empty containers and nesting, written by the writer.
std::string written(int indent, const std::vector<std::string>& strings, const std::vector<double>& doubles) {
  JsonWriter w(indent);
  w.begin_object();
  w.key("a_empty_array");
  w.begin_array();
  w.end_array();
  w.key("b_empty_object");
  w.begin_object();
  w.end_object();
  w.key("c_doubles");
  w.begin_array();
  for (const double d : doubles) w.value(d);
  w.end_array();
  w.member("d_false", false);
  w.member("e_int_min", std::numeric_limits<std::int64_t>::min());
  w.member("f_null", nullptr);
  w.key("g_nested");
  w.begin_array();
  w.begin_object();
  w.member("x", 1);
  w.end_object();
  w.begin_array();
  w.value(2);
  w.end_array();
  w.end_array();
  w.member("h_strings", strings);
  w.member("i_uint_max", std::numeric_limits<std::uint64_t>::max());
  w.member("j_optional", std::optional<std::uint64_t>());
  w.key_text("k_\xc3\xa9\x7f\"");  // a name known only when running, escaped as a string
  w.value(true);
  w.end_object();
  return w.take();
}

nlohmann::json as_dom(const std::vector<std::string>& strings, const std::vector<double>& doubles) {
  nlohmann::json j = nlohmann::json::object();
  j["a_empty_array"] = nlohmann::json::array();
  j["b_empty_object"] = nlohmann::json::object();
  j["c_doubles"] = nlohmann::json::array();
  for (const double d : doubles) j["c_doubles"].push_back(d);
  j["d_false"] = false;
  j["e_int_min"] = std::numeric_limits<std::int64_t>::min();
  j["f_null"] = nullptr;
  j["g_nested"] = nlohmann::json::array({nlohmann::json{{"x", 1}}, nlohmann::json::array({2})});
  j["h_strings"] = strings;
  j["i_uint_max"] = std::numeric_limits<std::uint64_t>::max();
  j["j_optional"] = nullptr;
  j["k_\xc3\xa9\x7f\""] = true;
  return j;
}

std::string plan_text(const Report& r, const SkuPlan& sp) { return render_detail::plan_json_text(r, sp, 2, nullptr); }

}  // namespace

TEST_CASE("JsonWriter: nlohmann's layout, numbers and escapes, indented and on one line", "[render][json]") {
  const std::vector<std::string> strings = {
      "",
      "plain",
      "quote \" backslash \\ slash /",
      "\b\f\n\r\t\x01\x1f",
      "DEL \x7f, NEL \xc2\x85, C1 \xc2\x9f, U+2028 \xe2\x80\xa8, BOM \xef\xbb\xbf, U+FFFF \xef\xbf\xbf",
      "UTF-8 kept: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
      "invalid \xff UTF-8 \xc3",
      std::string("a NUL \0 inside", 14),
  };
  const std::vector<double> doubles = {0.0,           -0.0,    0.92,      1.0,   1.02, 1e20, 1e-7,
                                       123456789.125, 1.0 / 3, -2.5e-300, 1e308, 0.1,  1e16, 1e15};
  for (const int indent : {2, 4, 0, -1}) {
    INFO("indent " << indent);
    CHECK(written(indent, strings, doubles) == nlohmann_text(as_dom(strings, doubles), indent));
  }
  // What JSON cannot hold is null, as nlohmann writes it.
  JsonWriter w(-1);
  w.begin_array();
  w.value(std::nan(""));
  w.value(std::numeric_limits<double>::infinity());
  w.end_array();
  CHECK(w.take() == "[null,null]");
}

TEST_CASE("JsonWriter: text written at a depth splices into a document", "[render][json]") {
  JsonWriter inner(2, 2);
  inner.begin_object();
  inner.member("b", 1);
  inner.end_object();
  const std::string section = inner.take();
  JsonWriter outer(2);
  outer.begin_array();
  outer.begin_object();
  outer.key("a");
  outer.raw(section);
  outer.end_object();
  outer.end_array();
  CHECK(outer.take() == nlohmann::json::parse("[{\"a\": {\"b\": 1}}]").dump(2));
}

TEST_CASE("render_json: --sku all is nlohmann's dump byte for byte, every method", "[render][json]") {
  // The members of each object are written in nlohmann's order by hand (render/json_writer.hpp): a name out of
  // order or written twice would differ from a dump of the parsed text. Models with MoE, MLA, quantization and an
  // encoder section; settings that bring suggestions.
  for (const char* args : {"--model meta-llama/Llama-3.1-8B --sku all --format json",
                           "--model deepseek-ai/DeepSeek-V3 --sku all --format json --max-model-len 65536",
                           "--model openai/gpt-oss-120b --sku all --format json --estimator kaito",
                           "--model google/gemma-3-27b-it --sku all --format json --estimator wizard",
                           "--model Qwen/Qwen3-30B-A3B --sku all --format json --engine tgi",
                           "--model Qwen/Qwen3-30B-A3B --sku L4,A100-80G --format json --concurrency 16"}) {
    INFO(args);
    const auto r = testsupport::run_cli(args);
    REQUIRE((r.exit_code == 0 || r.exit_code == 1));
    CHECK(r.out == nlohmann::json::parse(r.out).dump(2) + "\n");
  }
}

TEST_CASE("plan_json is the plan object render_json writes", "[render][json]") {
  ReportRequest request;
  request.skus = select_skus(testsupport::bundled_skus(), "H100-80G,TRAINIUM");
  request.suggestions = true;
  const Report r = build_report(catalog_model("meta-llama/Llama-3.1-70B-Instruct"), request);
  const auto array = nlohmann::json::parse(render_json(r, true));
  REQUIRE(array.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(plan_json(r, r.plans[i]) == array[i]);
    CHECK(nlohmann::json::parse(plan_text(r, r.plans[i])) == array[i]);
  }
  CHECK(render_json(r, false) == plan_text(r, r.plans.front()) + "\n");
}

TEST_CASE("plans of one report share vLLM and KAITO plans: each SKU's is the plan it has alone", "[report][json]") {
  for (const Method method : {Method::Vllm, Method::Kaito}) {
    for (const char* model : {"meta-llama/Llama-3.1-8B", "Qwen/Qwen3-30B-A3B"}) {
      INFO(model << " " << method_info(method).name);
      ReportRequest request;
      request.settings.method = method;
      request.skus = select_skus(testsupport::bundled_skus(), "all");
      Report r = build_report(catalog_model(model), request);
      REQUIRE(r.plans.size() == testsupport::bundled_skus().all().size());
      const std::vector<SkuPlan> shared = r.plans;
      r.plans.clear();
      for (const auto& sp : shared) {
        INFO(sp.sku.name);
        const Sku* sku = testsupport::bundled_skus().find(sp.sku.name);
        REQUIRE(sku != nullptr);
        CHECK(plan_text(r, plan_for_sku(r, *sku)) == plan_text(r, sp));
      }
    }
  }
}

TEST_CASE("SKUs planned alike share their suggestions: each SKU's are those it has alone", "[report][json]") {
  // add_plans computes the suggestions of one SKU per GPU, node size and kind (report/plan_cache.hpp, same_planning).
  std::size_t with_suggestions = 0;
  for (const Method method : {Method::Wizard, Method::Tgi}) {
    INFO(method_info(method).name);
    ReportRequest request;
    request.settings.method = method;
    request.skus = select_skus(testsupport::bundled_skus(), "all");
    request.suggestions = true;
    Report r = build_report(catalog_model("meta-llama/Llama-3.1-8B"), request);
    const std::vector<SkuPlan> shared = r.plans;
    r.plans.clear();
    for (const auto& sp : shared) {
      INFO(sp.sku.name);
      SkuPlan alone = plan_for_sku(r, *testsupport::bundled_skus().find(sp.sku.name));
      add_suggestions(r, alone);
      CHECK(plan_text(r, alone) == plan_text(r, sp));
      if (!sp.suggestions.empty()) ++with_suggestions;
    }
  }
  CHECK(with_suggestions > 20);
}

TEST_CASE("a GPU no server's CUDA path serves never fits, whatever the settings: no suggestion to look for",
          "[report]") {
  // add_suggestions skips such SKUs (src/report/suggestions.cpp); every method's plan of them must say no, whatever
  // the changes a suggestion tries.
  const ModelInput input = catalog_model("Qwen/Qwen3-8B");
  for (const Method method : {Method::Vllm, Method::Kaito, Method::Wizard, Method::Tgi}) {
    for (const char* sku_name : {"TRAINIUM", "RADEON-PRO-V620", "inf2.48xlarge"}) {
      const Sku* sku = testsupport::bundled_skus().find(sku_name);
      REQUIRE(sku != nullptr);
      REQUIRE_FALSE(sku->gpu.cuda_served);
      for (const int change : {0, 1, 2, 3}) {
        INFO(method_info(method).name << " on " << sku_name << ", change " << change);
        ReportSettings settings;
        settings.method = method;
        if (change == 1) settings.kv_cache_dtype_flag = "fp8";
        if (change == 2) {
          settings.kaito.max_model_len = 16;
          settings.kaito.max_model_len_given = true;
          settings.vllm.max_model_len = 16;
          settings.tgi.max_total_tokens = 16;
          settings.tgi.max_input_tokens = 15;
        }
        if (change == 3) {
          settings.vllm.gpu_memory_utilization = 0.95;
          settings.kaito.gpu_memory_utilization = 0.95;
          settings.tgi_num_shard = 1;
        }
        const Report r = model_report(input, settings);
        const SkuPlan plan = plan_for_sku(r, *sku);
        CHECK_FALSE(plan.fits());
        SkuPlan with = plan;
        add_suggestions(r, with);
        CHECK(with.suggestions.empty());
      }
    }
  }
}
