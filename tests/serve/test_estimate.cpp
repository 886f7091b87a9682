// POST /estimate-gpu-memory, GET /known-architectures and GET / called directly (issue 16): the vLLM memory-calculator
// API's fields with vram-calc's engine behind them, every 400 path, the unknown-model estimate, `plan` equal to the
// CLI's JSON.
#include <catch2/catch.hpp>

#include <cmath>

#include <nlohmann/json.hpp>

#include "serve/api_error.hpp"
#include "serve/estimate.hpp"
#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/resolve.hpp"

using nlohmann::json;
using vramcalc::serve::ApiError;
using vramcalc::serve::estimate_gpu_memory;
using vramcalc::serve::EstimateContext;

namespace {

// The caches of a fresh home: nothing but the bundled catalog is found, nothing is fetched.
struct Isolated {
  testsupport::TempDir home;
  testsupport::EnvVar hf_home{"HF_HOME", (home.path() / "hf").string()};
  testsupport::EnvVar xdg{"XDG_CACHE_HOME", (home.path() / "xdg").string()};
  testsupport::EnvVar token{"HF_TOKEN", std::nullopt};
};

json estimate(const json& request) { return estimate_gpu_memory(request, EstimateContext{false}); }

json llama8b(int max_seq_len = 4096) {
  return {{"model_name", "meta-llama/Llama-3.1-8B"}, {"max_seq_len", max_seq_len}};
}

double gib2(std::uint64_t bytes) { return std::round(vramcalc::to_gib(bytes) * 100.0) / 100.0; }

// The field the 400 names ("" when no ApiError(400) is thrown).
std::string bad_field_of(const json& request) {
  try {
    estimate(request);
  } catch (const ApiError& e) {
    CHECK(e.status() == 400);
    CHECK(std::string(e.what()).size() > 5);
    return e.field();
  }
  return "<none>";
}

}  // namespace

TEST_CASE("estimate: the seed's fields from the engine, for a catalog model", "[serve][estimate]") {
  Isolated iso;
  const json out = estimate(llama8b());
  for (const char* key : {"model_name", "model_params_memory_gb", "activation_memory_gb", "min_kv_cache_memory_gb",
                          "max_kv_cache_memory_gb", "cuda_overhead_gb", "total_min_memory_gb", "total_max_memory_gb",
                          "recommended_memory_gb", "warning", "components_breakdown", "architecture_used"}) {
    INFO(key);
    CHECK(out.contains(key));
  }
  CHECK(out["warning"].is_null());
  CHECK(out["unit"] == "GiB");
  // The seed's defaults.
  CHECK(out["settings"]["weights_dtype"] == "float16");
  CHECK(out["settings"]["max_batch_size"] == 32);
  CHECK(out["settings"]["gpu_memory_utilization"] == 0.9);
  CHECK(out["settings"]["max_model_len"] == 4096);
  // The architecture the catalog's config normalizes to.
  const json& a = out["architecture_used"];
  CHECK(a["num_layers"] == 32);
  CHECK(a["hidden_size"] == 4096);
  CHECK(a["num_heads"] == 32);
  CHECK(a["head_dim"] == 128);
  CHECK(a["intermediate_size"] == 14336);
  CHECK(a["num_kv_heads"] == 8);
  CHECK(a["estimated"] == false);

  // The sums, in exact bytes, and each _gb figure is its bytes in GiB.
  const json& b = out["bytes"];
  const auto u64 = [&](const char* k) { return b[k].get<std::uint64_t>(); };
  CHECK(u64("cuda_overhead") == u64("non_torch") + u64("cuda_graphs"));
  CHECK(u64("total_min") == u64("model_params") + u64("activation") + u64("min_kv_cache") + u64("cuda_overhead"));
  CHECK(u64("total_max") == u64("model_params") + u64("activation") + u64("max_kv_cache") + u64("cuda_overhead"));
  CHECK(static_cast<double>(u64("recommended")) == Approx(static_cast<double>(u64("total_max")) / 0.9));
  CHECK(out["model_params_memory_gb"] == gib2(u64("model_params")));
  CHECK(out["total_max_memory_gb"] == gib2(u64("total_max")));
  CHECK(out["components_breakdown"]["max_kv_cache"] == out["max_kv_cache_memory_gb"]);
  // KV: 2 x 32 layers x 8 heads x 128 x 2 B per token; one block of 16 tokens or 4096 tokens per sequence, 32 of them.
  const std::uint64_t per_token = 2 * 32 * 8 * 128 * 2;
  CHECK(u64("kv_cache_per_token") == per_token);
  CHECK(u64("min_kv_cache") == 32 * 16 * per_token);
  CHECK(u64("max_kv_cache") == 32 * 4096 * per_token);
  CHECK(out["max_kv_cache_memory_gb"] == 16.0);
  // The weights are the memory layer's (the checkpoint's size at 2 bytes a parameter) and the rotary table vLLM
  // loads with them (131,072 positions x 128 x 2 B, engines/vllm/rotary.hpp).
  const auto catalog = vramcalc::ModelCatalog::load(vramcalc::find_data_file("models.json"));
  vramcalc::ReportSettings settings;
  settings.weights.dtype = "float16";
  settings.dtype_flag = "float16";
  const auto report =
      vramcalc::model_report(vramcalc::catalog_input(*catalog.find("meta-llama/Llama-3.1-8B")), settings);
  CHECK(u64("model_params") == report.weights.bytes + 131072ULL * 128 * 2);
  CHECK(u64("activation") > 0);
  CHECK(u64("non_torch") > 0);
  CHECK(out["formulas"]["activation"].get<std::string>().find("GiB") != std::string::npos);
}

TEST_CASE("estimate: the settings move the figures as they should", "[serve][estimate]") {
  Isolated iso;
  const json base = estimate(llama8b());
  const auto bytes = [](const json& r, const char* k) { return r["bytes"][k].get<std::uint64_t>(); };
  // Twice the batch: twice the KV cache.
  json req = llama8b();
  req["max_batch_size"] = 64;
  CHECK(bytes(estimate(req), "max_kv_cache") == 2 * bytes(base, "max_kv_cache"));
  // An fp8 KV cache: half.
  req = llama8b();
  req["kv_cache_dtype"] = "fp8";
  CHECK(bytes(estimate(req), "max_kv_cache") * 2 == bytes(base, "max_kv_cache"));
  // A lower utilization: more recommended memory, the same total.
  req = llama8b();
  req["gpu_memory_utilization"] = 0.5;
  const json half = estimate(req);
  CHECK(bytes(half, "total_max") == bytes(base, "total_max"));
  CHECK(bytes(half, "recommended") > bytes(base, "recommended"));
  // enforce_eager: no CUDA graphs.
  req = llama8b();
  req["enforce_eager"] = true;
  CHECK(bytes(estimate(req), "cuda_graphs") == 0);
  CHECK(bytes(base, "cuda_graphs") > 0);
  // float32 weights: twice float16's.
  req = llama8b();
  req["dtype"] = "float32";
  CHECK(static_cast<double>(bytes(estimate(req), "model_params")) ==
        Approx(2.0 * static_cast<double>(bytes(base, "model_params"))).epsilon(0.01));
  // Longer than the model's max_position_embeddings (Llama 2: 4096): said in `warning`.
  const json long_context =
      estimate({{"model_name", "meta-llama/Llama-2-7b-hf"}, {"max_seq_len", 8192}, {"max_batch_size", 1}});
  CHECK(long_context["warning"].get<std::string>().find("max_position_embeddings 4096") != std::string::npos);
  // null is as absent (the seed's example sends quantization and params_billions as null).
  req = llama8b();
  req["quantization"] = nullptr;
  req["params_billions"] = nullptr;
  req["architecture"] = nullptr;
  CHECK(bytes(estimate(req), "total_max") == bytes(base, "total_max"));
}

TEST_CASE("estimate: Q4 and Q8 shrink the weights, and dtype int4 / int8 are the same", "[serve][estimate]") {
  Isolated iso;
  const auto weights = [](const json& req) { return estimate(req)["bytes"]["model_params"].get<double>(); };
  const double full = weights(llama8b());
  json req = llama8b();
  req["quantization"] = "Q8";
  const double q8 = weights(req);
  req["quantization"] = "Q4";
  const double q4 = weights(req);
  // The embedding and LM head stay in float16: less than the seed's halving and quartering, about that on the rest.
  CHECK(q8 < 0.65 * full);
  CHECK(q8 > 0.5 * full);
  CHECK(q4 < 0.45 * full);
  CHECK(q4 > 0.25 * full);
  req = llama8b();
  req["dtype"] = "int4";
  CHECK(weights(req) == q4);
  req["dtype"] = "int8";
  CHECK(weights(req) == q8);
  req = llama8b();
  req["quantization"] = "awq";
  CHECK(weights(req) < 0.45 * full);
}

TEST_CASE("estimate: a model found nowhere has its architecture estimated, and says so", "[serve][estimate]") {
  Isolated iso;
  // A size in the name.
  json out = estimate({{"model_name", "my-org/mystery-13b"}, {"max_seq_len", 2048}});
  CHECK(out["architecture_used"]["estimated"] == true);
  CHECK(out["architecture_used"]["num_layers"] == 40);
  CHECK(out["architecture_used"]["hidden_size"] == 5120);
  CHECK(out["warning"].get<std::string>().find("estimate") != std::string::npos);
  CHECK(out["warning"].get<std::string>().find("13b") != std::string::npos);
  CHECK(out["architecture_used"]["params_billions"].get<double>() == Approx(13).epsilon(0.15));
  // params_billions for a name without a size; a name that is not an org/name id.
  out = estimate({{"model_name", "my-org/mystery"}, {"max_seq_len", 2048}, {"params_billions", 7}});
  CHECK(out["architecture_used"]["num_layers"] == 32);
  CHECK(out["architecture_used"]["hidden_size"] == 4096);
  CHECK(out["warning"].get<std::string>().find("params_billions 7") != std::string::npos);
  out = estimate({{"model_name", "llama-70b"}, {"max_seq_len", 2048}});
  CHECK(out["architecture_used"]["num_layers"] == 80);
  // 8x7B: a mixture of 8 experts, 46.7B parameters in all.
  out = estimate({{"model_name", "acme/mixtral-8x7b-custom"}, {"max_seq_len", 2048}});
  CHECK(out["architecture_used"]["num_experts"] == 8);
  CHECK(out["architecture_used"]["params_billions"].get<double>() == Approx(46.7).epsilon(0.02));
  // Large: the warning says it needs more than one GPU.
  CHECK(out["warning"].get<std::string>().find("more than one 80 GiB GPU") != std::string::npos);
  // Nothing to estimate from: 400 naming params_billions, with the catalog's close ids.
  try {
    estimate({{"model_name", "meta-llama/Llama-2-chat"}, {"max_seq_len", 2048}});
    FAIL("no error");
  } catch (const ApiError& e) {
    CHECK(e.status() == 400);
    CHECK(e.field() == "params_billions");
    CHECK(std::string(e.what()).find("Did you mean") != std::string::npos);
  }
}

TEST_CASE("estimate: the seed's example request (an unknown id with the architecture)", "[serve][estimate]") {
  Isolated iso;
  const json req = {{"model_name", "meta-llama/Llama-2-7b"},
                    {"max_seq_len", 2048},
                    {"dtype", "float16"},
                    {"max_batch_size", 32},
                    {"gpu_memory_utilization", 0.9},
                    {"quantization", nullptr},
                    {"params_billions", nullptr},
                    {"architecture",
                     {{"num_layers", 32},
                      {"hidden_size", 4096},
                      {"num_heads", 32},
                      {"head_dim", 128},
                      {"intermediate_size", 11008}}}};
  const json out = estimate(req);
  const json& a = out["architecture_used"];
  CHECK(a["num_layers"] == 32);
  CHECK(a["intermediate_size"] == 11008);
  // The seed's architecture has no KV heads: every head keeps K and V (Llama 2 7B is multi-head attention).
  CHECK(a["num_kv_heads"] == 32);
  CHECK(a["params_billions"].get<double>() == Approx(6.74).epsilon(0.01));
  // 2 x 32 layers x 32 heads x 128 x 2 B = 0.5 MiB a token: 32 x 2048 tokens = 32 GiB.
  CHECK(out["max_kv_cache_memory_gb"] == 32.0);
  CHECK(out["min_kv_cache_memory_gb"] == 0.25);
  const std::string warning = out["warning"].get<std::string>();
  CHECK(warning.find("the architecture given") != std::string::npos);
  CHECK(warning.find("meta-llama/Llama-2-7b-hf") != std::string::npos);  // did you mean
}

TEST_CASE("estimate: architecture overrides on a known model", "[serve][estimate]") {
  Isolated iso;
  json req = llama8b();
  req["architecture"] = {{"num_layers", 16}};
  const json out = estimate(req);
  CHECK(out["architecture_used"]["num_layers"] == 16);
  CHECK(out["architecture_used"]["estimated"] == false);
  CHECK(out["bytes"]["max_kv_cache"].get<std::uint64_t>() * 2 ==
        estimate(llama8b())["bytes"]["max_kv_cache"].get<std::uint64_t>());
  CHECK(out["model_params_memory_gb"].get<double>() < estimate(llama8b())["model_params_memory_gb"].get<double>());
  CHECK(out["warnings"].dump().find("overrides") != std::string::npos);
  // num_kv_heads that do not divide the heads: the model layer's 400.
  req["architecture"] = {{"num_kv_heads", 5}};
  CHECK(bad_field_of(req) == "architecture");
}

TEST_CASE("estimate: every invalid input is a 400 naming its field", "[serve][estimate]") {
  Isolated iso;
  const auto with = [](const char* key, const json& value) {
    json r = llama8b();
    r[key] = value;
    return r;
  };
  const auto without = [](const char* key) {
    json r = llama8b();
    r.erase(key);
    return r;
  };
  const std::vector<std::pair<json, std::string>> cases = {
      {json::array({1}), ""},
      {json("text"), ""},
      {with("unknown_field", 1), "unknown_field"},
      {without("model_name"), "model_name"},
      {with("model_name", 7), "model_name"},
      {with("model_name", ""), "model_name"},
      {with("model_name", "/etc/passwd"), "model_name"},
      {with("model_name", "./models/x-7b"), "model_name"},
      {with("model_name", "~/x-7b"), "model_name"},
      {with("model_name", "a/../b-7b"), "model_name"},
      {with("model_name", std::string(300, 'a')), "model_name"},
      {with("model_name", "org/model\n-7b"), "model_name"},
      {without("max_seq_len"), "max_seq_len"},
      {with("max_seq_len", 0), "max_seq_len"},
      {with("max_seq_len", -5), "max_seq_len"},
      {with("max_seq_len", "4096"), "max_seq_len"},
      {with("max_seq_len", 1.5), "max_seq_len"},
      {with("max_seq_len", 1ULL << 40), "max_seq_len"},
      {with("max_batch_size", 0), "max_batch_size"},
      {with("max_batch_size", -1), "max_batch_size"},
      {with("max_batch_size", "32"), "max_batch_size"},
      {with("max_model_len", 0), "max_model_len"},
      {with("max_model_len", 1024), "max_seq_len"},  // shorter than max_seq_len 4096
      {with("max_model_len", true), "max_model_len"},
      {with("gpu_memory_utilization", 0), "gpu_memory_utilization"},
      {with("gpu_memory_utilization", -0.5), "gpu_memory_utilization"},
      {with("gpu_memory_utilization", 1.01), "gpu_memory_utilization"},
      {with("gpu_memory_utilization", "0.9"), "gpu_memory_utilization"},
      {with("dtype", "float8"), "dtype"},
      {with("dtype", "int3"), "dtype"},
      {with("dtype", 16), "dtype"},
      {with("kv_cache_dtype", "int8"), "kv_cache_dtype"},
      {with("kv_cache_dtype", 8), "kv_cache_dtype"},
      {with("quantization", "Q3"), "quantization"},
      {with("quantization", 4), "quantization"},
      {with("params_billions", 0), "params_billions"},
      {with("params_billions", -7), "params_billions"},
      {with("params_billions", "7"), "params_billions"},
      {with("architecture", "llama"), "architecture"},
      {with("architecture", json::array()), "architecture"},
      {with("architecture", {{"layers", 32}}), "architecture.layers"},
      {with("architecture", {{"num_layers", 0}}), "architecture.num_layers"},
      {with("architecture", {{"hidden_size", "4096"}}), "architecture.hidden_size"},
      {with("architecture", {{"num_heads", -32}}), "architecture.num_heads"},
      {with("max_num_batched_tokens", 8), "max_num_batched_tokens"},  // below max_batch_size 32
      {with("max_num_batched_tokens", 0), "max_num_batched_tokens"},
      {with("enforce_eager", "yes"), "enforce_eager"},
      {with("sku", 80), "sku"},
      {with("sku", "NoSuchGPU-9000"), "sku"},
      {with("gpu_memory", -1), "gpu_memory"},
      {with("gpu_memory", "lots"), "gpu_memory"},
      {with("engine", "sglang"), "engine"},
      {with("estimator", "guess"), "estimator"},
      {with("estimator", "kaito"), "estimator"},  // without sku or gpu_memory: it has nothing to choose
  };
  for (const auto& [request, field] : cases) {
    INFO(request.dump());
    CHECK(bad_field_of(request) == field);
  }
  // dtype int4 with a different scheme of other bits contradicts itself.
  json r = llama8b();
  r["dtype"] = "int4";
  r["quantization"] = "Q8";
  CHECK(bad_field_of(r) == "quantization");
}

TEST_CASE("estimate: sku adds the CLI's own JSON plan", "[serve][estimate]") {
  Isolated iso;
  const std::vector<json> extras = {
      {{"sku", "A100-80G"}},
      {{"sku", "L4,H100-80G"}, {"quantization", "Q4"}, {"kv_cache_dtype", "fp8"}},
      {{"gpu_memory", 24}, {"max_batch_size", 4}},
      {{"sku", "A100-80G"}, {"estimator", "kaito"}},
      {{"sku", "L4"}, {"engine", "tgi"}, {"max_batch_size", 2}},
  };
  for (const auto& extra : extras) {
    json req = llama8b(8192);
    req.update(extra);
    INFO(req.dump());
    const json out = estimate(req);
    REQUIRE((out["plan"].is_object() || out["plan"].is_array()));  // an array for several SKUs, as the CLI's
    const std::string command = out["plan_command"].get<std::string>();
    REQUIRE(command.rfind("vram-calc ", 0) == 0);
    const auto cli = testsupport::run_cli(command.substr(10));
    CHECK(cli.exit_code == out["plan_exit_code"].get<int>());
    CHECK(out["plan"] == json::parse(cli.out));
    // The top-level figures are the estimate's, whatever the plan.
    CHECK(out["model_params_memory_gb"].is_number());
  }
  // An estimated model has no plan: null, and a warning says why.
  const json out = estimate({{"model_name", "acme/unknown-7b"}, {"max_seq_len", 2048}, {"sku", "L4"}});
  CHECK(out["plan"].is_null());
  CHECK(out["warnings"].dump().find("plan: not made") != std::string::npos);
}

TEST_CASE("estimate: the field of a CLI message", "[serve][estimate]") {
  using vramcalc::serve::estimate_field_of;
  CHECK(estimate_field_of("--sku: unknown SKU \"X\"", "") == "sku");
  CHECK(estimate_field_of("--gpu-memory: expected a size", "") == "gpu_memory");
  CHECK(estimate_field_of("--gpu-memory-utilization must be in (0, 1]", "") == "gpu_memory_utilization");
  CHECK(estimate_field_of("--kv-cache-dtype: bad", "") == "kv_cache_dtype");
  CHECK(estimate_field_of("--dtype: bad", "") == "dtype");
  CHECK(estimate_field_of("no flag here", "architecture") == "architecture");
}

TEST_CASE("known-architectures: the catalog by architecture and family", "[serve][estimate]") {
  const json k = vramcalc::serve::known_architectures();
  const auto catalog = vramcalc::ModelCatalog::load(vramcalc::find_data_file("models.json"));
  CHECK(k["count"] == catalog.models().size());
  CHECK(k["models"].size() == catalog.models().size());
  const json& llama = k["models"]["meta-llama/Llama-3.1-8B"];
  CHECK(llama["num_layers"] == 32);
  CHECK(llama["num_kv_heads"] == 8);
  CHECK(llama["architecture"] == "LlamaForCausalLM");
  const auto listed = [&](const json& group, const std::string& id) {
    return std::find(group.begin(), group.end(), id) != group.end();
  };
  CHECK(listed(k["architectures"]["LlamaForCausalLM"], "meta-llama/Llama-3.1-8B"));
  CHECK(listed(k["families"]["llama"], "meta-llama/Llama-3.1-8B"));
  CHECK(listed(k["architectures"]["MixtralForCausalLM"], "mistralai/Mixtral-8x7B-v0.1"));
  CHECK(k["models"]["mistralai/Mixtral-8x7B-v0.1"]["num_experts"] == 8);
  // Every model is in exactly one architecture and one family.
  std::size_t in_architectures = 0, in_families = 0;
  for (const auto& [name, ids] : k["architectures"].items()) in_architectures += ids.size();
  for (const auto& [name, ids] : k["families"].items()) in_families += ids.size();
  CHECK(in_architectures == catalog.models().size());
  CHECK(in_families == catalog.models().size());
}

TEST_CASE("GET / describes the API: endpoints, units, formulas, a computed example", "[serve][estimate]") {
  const json d = vramcalc::serve::api_description();
  CHECK(d["name"] == "vram-calc");
  std::vector<std::string> paths;
  for (const auto& e : d["endpoints"]) paths.push_back(e["path"].get<std::string>());
  for (const char* path :
       {"/estimate-gpu-memory", "/plan", "/known-architectures", "/skus", "/ui", "/healthz", "/metrics", "/"}) {
    INFO(path);
    CHECK(std::find(paths.begin(), paths.end(), path) != paths.end());
  }
  CHECK(d["units"]["_gb"].get<std::string>().find("GiB (2^30 bytes)") != std::string::npos);
  for (const char* key :
       {"model_params_memory_gb", "activation_memory_gb", "min_kv_cache_memory_gb", "max_kv_cache_memory_gb",
        "cuda_overhead_gb", "total_min_memory_gb", "total_max_memory_gb", "recommended_memory_gb"}) {
    INFO(key);
    CHECK(d["formulas"][key].is_string());
  }
  // The example's response is computed by the endpoint itself.
  CHECK(d["example"]["response"]["total_max_memory_gb"].is_number());
  CHECK(d["example"]["response"]["model_name"] == d["example"]["request"]["model_name"]);
  CHECK(d["example_unknown_model"]["response"]["architecture_used"]["estimated"] == true);
  CHECK(d["request_fields"].contains("max_seq_len"));
}
