// Two v0.20+ calibration follow-ups (issue 13): the non-PyTorch memory vLLM counts on unified-memory GPUs (DGX Spark:
// the host's allocations, taken as the median the GB10 logs show, activation.hpp) and the per-graph cost of breakable
// CUDA graphs (DeepSeek V4, MiniMax-M3, GLM-DSA: scaled by a factor fitted on their logs, cudagraph.cpp). The logs
// themselves are replayed in test_vllm_calibration_v021plus.cpp.
#include <catch2/catch.hpp>

#include <fstream>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/activation.hpp"
#include "vramcalc/engines/vllm/cudagraph.hpp"
#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

const json& fit() {
  static const json j = [] {
    std::ifstream in(testsupport::repo_data("vllm_cudagraph_fit.json"));
    return json::parse(in);
  }();
  return j;
}

// Qwen3-0.6B at vllm-new-030's settings (vLLM 0.27.1, 121.69 GiB, utilization 0.6) on a GPU of compute capability
// `cc`.
VllmPlan qwen3_0_6b_on(double cc) {
  const auto a = arch_of("Qwen--Qwen3-0.6B");
  const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
  const auto kv = kv_cache_spec(a, "auto", w.serving_dtype);
  Gpu gpu;
  gpu.name = cc == 12.1 ? "NVIDIA GB10" : "NVIDIA RTX PRO 6000 Blackwell Workstation Edition";
  gpu.compute_capability = cc;
  const GpuMemory total{static_cast<std::uint64_t>(121.69 * static_cast<double>(kGiB)), "logged"};
  VllmSettings s;
  s.version = parse_vllm_version("0.27.1");
  s.gpu_memory_utilization = 0.6;
  s.max_model_len = 40960;
  s.tensor_parallel_size = 1;
  s.max_num_batched_tokens = 2048;  // the GB10's defaults (NVML reports no total there), pinned for both GPUs
  s.max_num_seqs = 256;
  return plan_vllm(a, w, kv, gpu, total, s);
}

int warnings_with(const VllmPlan& p, const std::string& text) {
  int n = 0;
  for (const auto& w : p.warnings) n += w.find(text) != std::string::npos ? 1 : 0;
  return n;
}

VllmCaptureList list_of(std::uint64_t piecewise, std::uint64_t full) {
  VllmCaptureList l;
  l.mode = CudagraphMode::FullAndPiecewise;
  for (std::uint64_t i = 1; i <= piecewise; ++i) l.piecewise.push_back(i);
  for (std::uint64_t i = 1; i <= full; ++i) l.full.push_back(i);
  return l;
}

}  // namespace

TEST_CASE("unified memory: vLLM's non-torch figure is the host's, taken as the GB10 logs' median",
          "[vllm][activation][unified]") {
  const auto spark = qwen3_0_6b_on(12.1);
  const auto discrete = qwen3_0_6b_on(12.0);
  CHECK(to_gib(spark.profile.non_torch_bytes) == Approx(kVllmUnifiedNonTorchGiB).margin(1e-6));
  CHECK(kVllmUnifiedNonTorchGiB == Approx(3.61));
  CHECK(to_gib(discrete.profile.non_torch_bytes) == Approx(0.1338).margin(1e-4));
  // Everything else is the same plan but the CUDA-graph estimate (its unified-memory factor, next test case): the KV
  // budget is smaller by the two differences.
  CHECK(spark.profile.activation_bytes == discrete.profile.activation_bytes);
  CHECK(spark.available_kv_bytes ==
        discrete.available_kv_bytes - static_cast<std::int64_t>(spark.profile.non_torch_bytes) +
            static_cast<std::int64_t>(discrete.profile.non_torch_bytes) -
            static_cast<std::int64_t>(spark.cudagraph_bytes) + static_cast<std::int64_t>(discrete.cudagraph_bytes));
  // vllm-new-030 logged 69.40 GiB: within max(5%, 0.5 GiB) at the median, not at the discrete figure's 0.13 GiB.
  CHECK(std::fabs(to_gib(static_cast<std::uint64_t>(spark.available_kv_bytes)) - 69.40) <= 0.05 * 69.40);
  CHECK_THAT(spark.profile.non_torch_formula, Catch::Contains("unified-memory GPU") && Catch::Contains("median") &&
                                                  Catch::Contains("2.23") && Catch::Contains("3.61") &&
                                                  Catch::Contains("4.64") && Catch::Contains("+-1.2 GiB"));
  // One warning, the GB10 one, with what the figure is, how far it moves and how to pin the budget.
  CHECK(warnings_with(spark, "MemAvailable") == 1);
  CHECK(warnings_with(spark, "3.61 GiB is taken, the median of three DGX Spark logs") == 1);
  CHECK(warnings_with(spark, "--kv-cache-memory") == 1);
  CHECK(warnings_with(discrete, "MemAvailable") == 0);
}

TEST_CASE("unified memory: --kv-cache-memory pins the budget whatever the host holds", "[vllm][activation][unified]") {
  const auto a = arch_of("Qwen--Qwen3-0.6B");
  const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
  Gpu gpu;
  gpu.name = "NVIDIA GB10";
  gpu.compute_capability = 12.1;
  VllmSettings s;
  s.version = parse_vllm_version("0.27.1");
  s.tensor_parallel_size = 1;
  s.max_model_len = 4096;
  s.kv_cache_memory = 10ULL * kGiB;
  const auto p = plan_vllm(a, w, kv_cache_spec(a, "auto", w.serving_dtype), gpu, GpuMemory{120ULL * kGiB, "logged"}, s);
  CHECK(p.available_kv_bytes == static_cast<std::int64_t>(10ULL * kGiB));
  CHECK(p.kv_cache_memory_given);
}

TEST_CASE("breakable CUDA graphs: the per-graph cost scaled by the factor fitted on their logs",
          "[vllm][cudagraph][breakable]") {
  const auto coef = fit().at("coefficients");
  const double factor = coef.at("breakable_per_graph_factor").get<double>();
  const double per_layer_hidden = coef.at("per_graph_bytes_per_layer_hidden").get<double>();
  CHECK(factor == Approx(3.4));
  CHECK(fit().at("breakable_records").get<int>() == 3);
  CHECK(fit().at("breakable_within_tolerance").get<int>() == 3);
  const auto v4 = arch_of("deepseek-ai--DeepSeek-V4-Flash");
  const auto m3 = arch_of("MiniMaxAI--MiniMax-M3");
  const auto llama = arch_of("meta-llama--Meta-Llama-3.1-8B");
  REQUIRE(vllm_breakable_cudagraph_arch(v4));
  REQUIRE(vllm_breakable_cudagraph_arch(m3));
  REQUIRE_FALSE(vllm_breakable_cudagraph_arch(llama));

  SECTION("the C++ factor equals data/vllm_cudagraph_fit.json's; the first capture is not scaled") {
    const auto e = estimate_vllm_cudagraph(v4, 44, list_of(2, 2));
    CHECK(e.breakable);
    CHECK(static_cast<double>(e.per_graph) == Approx(per_layer_hidden * factor * 44 * 4096).margin(1));
    CHECK(to_gib(e.first_capture) == Approx(coef.at("first_capture_gib").get<double>()).margin(1e-6));
    CHECK_THAT(e.formula, Catch::Contains("x 3.4 for breakable CUDA graphs"));
    const auto plain = estimate_vllm_cudagraph(llama, 32, list_of(2, 2));
    CHECK_FALSE(plain.breakable);
    CHECK(static_cast<double>(plain.per_graph) == Approx(per_layer_hidden * 32 * 4096).margin(1));
    CHECK(plain.formula.find("breakable") == std::string::npos);
  }
  SECTION("the three breakable-graph logs that print their counts, within max(25%, 0.25 GiB)") {
    struct Log {
      const ModelArch* arch;
      std::uint64_t layers, piecewise, full;
      double logged;
      bool unified;
    };
    // vllm-new-006: V4-Flash + its MTP layer, PIECEWISE=42, FULL=26, 1.58 GiB; vllm-new-012: MiniMax-M3,
    // PIECEWISE=35, FULL=19, 1.97 GiB; vllm-new-032: a V4-class model + MTP on a DGX Spark-class device, PIECEWISE=5,
    // FULL=3, 0.55 GiB.
    for (const Log& l :
         {Log{&v4, 44, 42, 26, 1.58, false}, Log{&m3, 60, 35, 19, 1.97, false}, Log{&v4, 44, 5, 3, 0.55, true}}) {
      const double predicted =
          to_gib(estimate_vllm_cudagraph(*l.arch, l.layers, list_of(l.piecewise, l.full), l.unified).bytes);
      INFO(l.piecewise << " + " << l.full << " graphs: " << predicted << " vs " << l.logged);
      CHECK(std::fabs(predicted - l.logged) <= std::max(0.25 * l.logged, 0.25));
    }
  }
}

TEST_CASE("unified memory: the per-graph cost scaled by the factor fitted on the DGX Spark logs",
          "[vllm][cudagraph][unified-memory]") {
  const auto coef = fit().at("coefficients");
  const double factor = coef.at("unified_memory_per_graph_factor").get<double>();
  const double per_layer_hidden = coef.at("per_graph_bytes_per_layer_hidden").get<double>();
  CHECK(factor == Approx(1.92));
  CHECK(fit().at("unified_memory_records").get<int>() == 4);
  CHECK(fit().at("unified_memory_within_tolerance").get<int>() == 4);
  const auto qwen = arch_of("Qwen--Qwen3.8-27B");

  SECTION(
      "the C++ factor equals data/vllm_cudagraph_fit.json's, said in the formula; the first capture is not scaled") {
    const auto e = estimate_vllm_cudagraph(qwen, 64, list_of(51, 35), /*unified_memory=*/true);
    CHECK(e.unified_memory);
    CHECK(static_cast<double>(e.per_graph) == Approx(per_layer_hidden * factor * 64 * 5120).margin(1));
    CHECK(to_gib(e.first_capture) == Approx(coef.at("first_capture_gib").get<double>()).margin(1e-6));
    CHECK_THAT(e.formula, Catch::Contains("x 1.92 on unified memory"));
    const auto discrete = estimate_vllm_cudagraph(qwen, 64, list_of(51, 35));
    CHECK_FALSE(discrete.unified_memory);
    CHECK(discrete.formula.find("unified") == std::string::npos);
    CHECK(e.bytes > discrete.bytes);
  }
  SECTION("one model and capture list: an L40S and two DGX Spark boots, each within max(25%, 0.25 GiB)") {
    // vllm-new-008 (L40S) 1.11 GiB; vllm-new-013 and -014 (the same DGX Spark, two boots) 1.56 and 1.94 GiB.
    const double l40s = to_gib(estimate_vllm_cudagraph(qwen, 64, list_of(51, 35)).bytes);
    const double spark = to_gib(estimate_vllm_cudagraph(qwen, 64, list_of(51, 35), true).bytes);
    for (const auto& [predicted, logged] : {std::pair{l40s, 1.11}, std::pair{spark, 1.56}, std::pair{spark, 1.94}}) {
      INFO(predicted << " vs " << logged);
      CHECK(std::fabs(predicted - logged) <= std::max(0.25 * logged, 0.25));
    }
  }
  SECTION("a plan on a GB10 takes it; the same plan on a discrete GPU does not") {
    const auto on_spark = qwen3_0_6b_on(12.1);
    const auto on_discrete = qwen3_0_6b_on(12.0);
    CHECK_THAT(on_spark.cudagraph.formula, Catch::Contains("on unified memory"));
    CHECK(on_discrete.cudagraph.formula.find("unified") == std::string::npos);
    CHECK(on_spark.cudagraph_bytes > on_discrete.cudagraph_bytes);
  }
}
