// The KAITO plan (KAITO's sizing guide), checked against worked examples computed by hand.
// Units: GiB = 2^30 bytes. Defaults: u = 0.90, 0.6 GiB non-PyTorch + 1.7 GiB activations = 2.3 GiB per GPU.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/kaito/plan.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

constexpr std::uint64_t kA100 = 81920ULL * kMiB;                // nvidia-smi: 81920 MiB = 80.00 GiB
constexpr std::uint64_t kH100 = 81559ULL * kMiB;                // nvidia-smi: 81559 MiB = 79.65 GiB
constexpr std::uint64_t kLlama8BWeights = 16'060'522'496ULL;    // safetensors total of Llama-3.1-8B
constexpr std::uint64_t kLlama70BWeights = 141'107'412'992ULL;  // safetensors total of Llama-3.1-70B

KaitoSettings with_len(std::uint64_t len, int gpus_per_node = 1) {
  KaitoSettings s;
  s.max_model_len = len;
  s.max_model_len_given = true;
  s.gpus_per_node = gpus_per_node;
  return s;
}

}  // namespace

TEST_CASE("KV bytes per token use the config's head_dim and only KV-holding layers", "[kaito][kv]") {
  SECTION("Llama-3.1-8B: 2 x 32 layers x 8 KV heads x 128 x 2 B = 131072 B") {
    auto kv = kv_cache_spec(arch_of("meta-llama--Meta-Llama-3.1-8B"), "auto", DType::BFloat16);
    CHECK(kv.bytes_per_token == 131072);
  }
  SECTION("an fp8 cache halves it") {
    auto kv = kv_cache_spec(arch_of("meta-llama--Meta-Llama-3.1-8B"), "fp8", DType::BFloat16);
    CHECK(kv.bytes_per_token == 65536);
  }
  SECTION("Gemma 2 9B: head_dim 256 from the config, not 3584 / 16 = 224") {
    auto kv = kv_cache_spec(arch_of("google--gemma-2-9b"), "auto", DType::BFloat16);
    CHECK(kv.bytes_per_token == 2ULL * 42 * 8 * 256 * 2);
  }
  SECTION("DeepSeek-V3 (MLA): 61 layers x (512 + 64) x 2 B, one latent, no x2") {
    auto kv = kv_cache_spec(arch_of("deepseek-ai--DeepSeek-V3"), "auto", DType::BFloat16);
    CHECK(kv.mla);
    CHECK(kv.bytes_per_token == 61ULL * 576 * 2);
  }
  SECTION("Nemotron-H 56B: only the 10 attention layers of 118 hold KV") {
    auto kv = kv_cache_spec(arch_of("nvidia--Nemotron-H-56B-Base-8K"), "auto", DType::BFloat16);
    CHECK(kv.layers == 10);
    CHECK(kv.bytes_per_token == 2ULL * 10 * 8 * 128 * 2);
  }
  SECTION("Mllama: the 8 cross-attention layers hold no per-token KV") {
    auto kv = kv_cache_spec(arch_of("meta-llama--Llama-3.2-11B-Vision-Instruct"), "auto", DType::BFloat16);
    CHECK(kv.layers == 32);
  }
  SECTION("an unknown cache dtype is bad input") {
    CHECK_THROWS_AS(kv_cache_spec(arch_of("meta-llama--Meta-Llama-3.1-8B"), "int4", DType::BFloat16), Error);
  }
}

TEST_CASE("Llama-3.1-8B on one A100-80G: one GPU, capped by max_position_embeddings", "[kaito]") {
  // W = 16060522496 B = 14.957527 GiB; bytes_per_token = 131072 B = 0.00012207 GiB; V = 80 GiB.
  // n = max(1, ceil((1.02 x 14.957527 + 0.00012207 x 2048) / (80 x 0.9 - 2.3)))
  //   = ceil(15.506678 / 69.7) = ceil(0.2225) = 1
  // by memory = floor((1 x 72 - 15.256678 - 2.3) / 0.00012207) = floor(445999.6) = 445999 -> min(., 131072)
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  const auto p = plan_kaito(arch, kLlama8BWeights, kv, GpuMemory{kA100, "reported"}, with_len(2048));
  CHECK(p.gpus_needed == 1);
  CHECK(p.gpus == 1);
  CHECK(p.nodes == 1);
  CHECK(p.tensor_parallel_size == 1);
  CHECK(p.pipeline_parallel_size == 1);
  CHECK(p.max_model_len_by_memory == 445999);
  CHECK(p.max_model_len == 131072);
  CHECK(p.max_model_len_limited_by == "max_position_embeddings");
  CHECK(p.fits);
  SECTION("the per-GPU breakdown adds up, in bytes") {
    CHECK(p.per_gpu.weights_bytes == kLlama8BWeights);
    CHECK(p.per_gpu.weight_overhead_bytes == 321210450);  // 0.02 x W, rounded
    CHECK(p.per_gpu.kv_cache_bytes == 131072ULL * 131072);
    CHECK(p.per_gpu.activation_bytes == 1825361101);  // 1.7 GiB, rounded
    CHECK(p.per_gpu.non_torch_bytes == 644245094);    // 0.6 GiB, rounded
    CHECK(p.per_gpu.total_bytes == p.per_gpu.weights_bytes + p.per_gpu.weight_overhead_bytes +
                                       p.per_gpu.kv_cache_bytes + p.per_gpu.activation_bytes +
                                       p.per_gpu.non_torch_bytes);
    CHECK(p.per_gpu.capacity_bytes == kA100);
    CHECK(p.per_gpu.budget_bytes == 77309411328ULL);  // 72 GiB
    CHECK(p.per_gpu.total_bytes <= p.per_gpu.budget_bytes);
  }
}

TEST_CASE("Llama-3.1-70B needs two A100-80G: one node each on bare GPUs, one node of eight on ND96amsr", "[kaito]") {
  // W = 131.416519 GiB; bytes_per_token = 327680 B; L = 8192.
  // n = ceil((1.02 x 131.416519 + 0.00030518 x 8192) / 69.7) = ceil(136.544850 / 69.7) = ceil(1.959) = 2
  const auto arch = arch_of("meta-llama--Llama-3.1-70B-Instruct");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  REQUIRE(kv.bytes_per_token == 327680);
  SECTION("bare GPUs (1 per node): 2 nodes, TP 1 x PP 2") {
    const auto p = plan_kaito(arch, kLlama70BWeights, kv, GpuMemory{kA100, "reported"}, with_len(8192, 1));
    CHECK(p.gpus_needed == 2);
    CHECK(p.gpus == 2);
    CHECK(p.nodes == 2);
    CHECK(p.tensor_parallel_size == 1);
    CHECK(p.pipeline_parallel_size == 2);
    // floor((2 x 72 - 134.044850 - 4.6) / 0.00030518) = floor(17547.9) = 17547
    CHECK(p.max_model_len_by_memory == 17547);
    CHECK(p.max_model_len == 17547);
    CHECK(p.max_model_len_limited_by == "memory");
    CHECK(p.fits);
  }
  SECTION("8 GPUs per node: the whole node, TP 8") {
    const auto p = plan_kaito(arch, kLlama70BWeights, kv, GpuMemory{kA100, "reported"}, with_len(8192, 8));
    CHECK(p.gpus_needed == 2);
    CHECK(p.gpus == 8);
    CHECK(p.nodes == 1);
    CHECK(p.tensor_parallel_size == 8);
    CHECK(p.pipeline_parallel_size == 1);
    CHECK(p.max_model_len_by_memory == 1387905);
    CHECK(p.max_model_len == 131072);
  }
  SECTION("H100-80G (79.65 GiB reported), full 131072 context: n = ceil(174.044850 / 69.382715) = 3") {
    const auto p = plan_kaito(arch, kLlama70BWeights, kv, GpuMemory{kH100, "reported"}, with_len(131072, 8));
    CHECK(p.gpus_needed == 3);
    CHECK(p.gpus == 8);
    CHECK(p.max_model_len_by_memory == 1379588);
  }
}

TEST_CASE("pinned hardware answers whether the length fits on exactly those GPUs", "[kaito][pinned]") {
  const auto arch = arch_of("meta-llama--Llama-3.1-70B-Instruct");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  SECTION("--gpus 2 at 32768 tokens: the formula wants 3, two hold 17547 tokens: does not fit") {
    auto s = with_len(32768, 8);
    s.gpus = 2;
    const auto p = plan_kaito(arch, kLlama70BWeights, kv, GpuMemory{kA100, "reported"}, s);
    CHECK(p.pinned);
    CHECK(p.gpus == 2);
    CHECK(p.gpus_needed == 3);
    CHECK(p.nodes == 1);
    CHECK(p.tensor_parallel_size == 2);
    CHECK(p.max_model_len == 17547);
    CHECK_FALSE(p.fits);
    REQUIRE(p.not_fit_reasons.size() == 1);
    CHECK_THAT(p.not_fit_reasons[0], Catch::Contains("17547"));
  }
  SECTION("--tensor-parallel-size 4 --pipeline-parallel-size 2 pins 8 GPUs") {
    auto s = with_len(32768, 8);
    s.tensor_parallel_size = 4;
    s.pipeline_parallel_size = 2;
    const auto p = plan_kaito(arch, kLlama70BWeights, kv, GpuMemory{kA100, "reported"}, s);
    CHECK(p.gpus == 8);
    CHECK(p.tensor_parallel_size == 4);
    CHECK(p.pipeline_parallel_size == 2);
    CHECK(p.fits);
  }
  SECTION("--gpus that disagrees with TP x PP is bad input") {
    auto s = with_len(2048, 8);
    s.gpus = 4;
    s.tensor_parallel_size = 2;
    s.pipeline_parallel_size = 1;
    CHECK_THROWS_AS(plan_kaito(arch, kLlama70BWeights, kv, GpuMemory{kA100, "reported"}, s), Error);
  }
}

TEST_CASE("verdicts that do not fit", "[kaito]") {
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  SECTION("V x u <= 2.3 GiB leaves nothing: 2 GiB x 0.9 = 1.8 GiB") {
    const auto p = plan_kaito(arch, kLlama8BWeights, kv, GpuMemory{2 * kGiB, "--gpu-memory"}, with_len(2048));
    CHECK_FALSE(p.fits);
  }
  SECTION("Falcon needs several GPUs: KAITO serves Falcon on one GPU only") {
    const auto falcon = arch_of("tiiuae--falcon-40b");
    CHECK(falcon.falcon_single_gpu);
    const auto fkv = kv_cache_spec(falcon, "auto", DType::BFloat16);
    const std::uint64_t weights = falcon.num_params() * 2;  // ~76.9 GiB in bfloat16
    const auto p = plan_kaito(falcon, weights, fkv, GpuMemory{kA100, "reported"}, with_len(2048, 8));
    CHECK(p.gpus_needed == 2);
    CHECK(p.gpus == 1);
    CHECK_FALSE(p.fits);
    const auto big = plan_kaito(falcon, weights, fkv, GpuMemory{143771ULL * kMiB, "reported"}, with_len(2048, 8));
    CHECK(big.gpus == 1);
    CHECK(big.fits);
  }
  SECTION("a length above max_position_embeddings is capped to it, with a warning") {
    const auto p = plan_kaito(arch, kLlama8BWeights, kv, GpuMemory{kA100, "reported"}, with_len(1'000'000));
    CHECK(p.max_model_len_requested == 131072);
    REQUIRE_FALSE(p.warnings.empty());
    CHECK_THAT(p.warnings[0], Catch::Contains("capped"));
    CHECK(p.fits);
  }
  SECTION("utilization outside (0, 1] is bad input") {
    auto s = with_len(2048);
    s.gpu_memory_utilization = 1.5;
    CHECK_THROWS_AS(plan_kaito(arch, kLlama8BWeights, kv, GpuMemory{kA100, "reported"}, s), Error);
  }
}

TEST_CASE("tensor parallelism warnings mirror what vLLM checks", "[kaito]") {
  // Qwen2.5-0.5B: 14 heads, 2 KV heads. A pinned TP of 4 divides neither.
  const auto arch = arch_of("Qwen--Qwen2.5-0.5B");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  auto s = with_len(2048, 8);
  s.tensor_parallel_size = 4;
  const auto p = plan_kaito(arch, 1'000'000'000ULL, kv, GpuMemory{kA100, "reported"}, s);
  std::string all;
  for (const auto& w : p.warnings) all += w + "\n";
  CHECK_THAT(all, Catch::Contains("does not divide the 14 attention heads"));
  CHECK_THAT(all, Catch::Contains("exceeds the 2 KV heads"));
}

TEST_CASE("the KAITO memory figure is nvidia-smi's, else the marketed number read as GiB", "[kaito][sku]") {
  Gpu a2;
  a2.name = "A2";
  a2.memory_gib_marketed = 16;
  std::vector<std::string> warnings;
  auto m = kaito_gpu_memory(a2, std::nullopt, warnings);
  CHECK(m.bytes == 16 * kGiB);
  CHECK(m.source == "marketed");
  CHECK(warnings.size() == 1);
  a2.memory_mib_reported = 15360;
  warnings.clear();
  m = kaito_gpu_memory(a2, std::nullopt, warnings);
  CHECK(m.bytes == 15360 * kMiB);
  CHECK(warnings.empty());
  m = kaito_gpu_memory(a2, 48 * kGiB, warnings);
  CHECK(m.bytes == 48 * kGiB);
  CHECK(m.source == "--gpu-memory");
}
