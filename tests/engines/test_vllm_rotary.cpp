// The rotary tables vLLM loads beside the parameters (engines/vllm/rotary.hpp): with them, "Model loading took"
// reproduces to the hundredth of a GiB on the logs that print it.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/engines/vllm/rotary.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"

using namespace vramcalc;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

// The vLLM plan of `dir` at TP `tp` on an H100.
VllmPlan plan_at(const std::string& dir, std::uint64_t tp) {
  const auto a = arch_of(dir);
  const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
  Gpu gpu;
  gpu.name = "NVIDIA H100 80GB HBM3";
  gpu.compute_capability = 9.0;
  VllmSettings s;
  s.tensor_parallel_size = tp;
  s.max_model_len = 4096;
  return plan_vllm(a, w, kv_cache_spec(a, "auto", w.serving_dtype), gpu,
                   GpuMemory{static_cast<std::uint64_t>(79.19 * kGiB), "logged"}, s);
}

// The weights one GPU of it holds, in GiB.
double vllm_weights_gib(const std::string& dir, std::uint64_t tp) { return to_gib(plan_at(dir, tp).weights_bytes); }

}  // namespace

TEST_CASE("vLLM's rotary tables: positions x rotary_dim x the serving dtype, on every GPU", "[vllm][rotary]") {
  const auto llama = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto t = vllm_rotary_tables(llama, DType::BFloat16);
  CHECK(t.bytes == 131072ULL * 128 * 2);
  CHECK_THAT(t.formula, Catch::Contains("131,072 positions x 128 x 2 B = 32.0 MiB"));
  CHECK(vllm_rotary_tables(llama, DType::Float32).bytes == 131072ULL * 128 * 4);
  CHECK(vllm_rotary_tables(arch_of("bigscience--bloom"), DType::BFloat16).bytes == 0);
  CHECK(vllm_rotary_tables(arch_of("bigscience--bloom"), DType::BFloat16).formula.empty());
  // Gemma 4 E4B: 64 MiB for the sliding layers, 128 MiB for the global ones.
  CHECK(vllm_rotary_tables(arch_of("google--gemma-4-E4B-it"), DType::BFloat16).bytes == (64ULL + 128) * kMiB);
}

TEST_CASE("vLLM's weights per GPU with the rotary tables equal 'Model loading took' in the logs",
          "[vllm][rotary][calibration]") {
  // vllm-log-001/002 (Llama-3.1-8B-Instruct): 14.9888 GiB = 8,030,261,248 x 2 B + 131,072 x 128 x 2 B.
  CHECK(vllm_weights_gib("meta-llama--Meta-Llama-3.1-8B", 1) == Approx(14.9888).margin(0.0001));
  // vllm-log-017 (Qwen3-0.6B) 1.12 GiB; vllm-log-019 (Qwen3-32B) 61.03 GiB.
  CHECK(vllm_weights_gib("Qwen--Qwen3-0.6B", 1) == Approx(1.12).margin(0.005));
  CHECK(vllm_weights_gib("Qwen--Qwen3-32B", 1) == Approx(61.03).margin(0.005));
  // Tensor parallelism splits the parameters, not the table: every rank holds all 10 MiB of it.
  CHECK(plan_at("Qwen--Qwen3-32B", 2).rotary_bytes == 40960ULL * 128 * 2);
  CHECK(plan_at("Qwen--Qwen3-32B", 1).rotary_bytes == 40960ULL * 128 * 2);
}

TEST_CASE("a rotary table over 1 GiB is said in a warning: it follows max_position_embeddings, not the length",
          "[vllm][rotary]") {
  const auto scout = plan_at("meta-llama--Llama-4-Scout-17B-16E-Instruct", 4);
  CHECK(scout.rotary_bytes == 10485760ULL * 128 * 2);
  const auto warned = [](const VllmPlan& p) {
    for (const auto& w : vllm_summary(p, VllmSettings{}).warnings)
      if (w.find("of rotary tables on every GPU") != std::string::npos) return true;
    return false;
  };
  CHECK(warned(scout));
  CHECK_FALSE(warned(plan_at("meta-llama--Meta-Llama-3.1-8B", 1)));
}
