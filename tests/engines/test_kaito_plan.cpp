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

// Whole nodes (KaitoSettings::whole_nodes, the default): a cloud instance, or --gpus-per-node. A bare GPU SKU no
// longer rents one GPU per node (issue 13, section 3: see "the bare-GPU node shape" below); one GPU per node is now
// what --gpus-per-node 1 asks for, so the first section says so instead of "bare GPUs".
TEST_CASE("Llama-3.1-70B needs two A100-80G: two nodes of one GPU, or one node of eight on ND96amsr", "[kaito]") {
  // W = 131.416519 GiB; bytes_per_token = 327680 B; L = 8192.
  // n = ceil((1.02 x 131.416519 + 0.00030518 x 8192) / 69.7) = ceil(136.544850 / 69.7) = ceil(1.959) = 2
  const auto arch = arch_of("meta-llama--Llama-3.1-70B-Instruct");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  REQUIRE(kv.bytes_per_token == 327680);
  SECTION("--gpus-per-node 1 (whole nodes of one GPU): 2 nodes, TP 1 x PP 2") {
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

// A layout vLLM refuses is part of the verdict (issue 13, section 3); it was a warning before, with the plan still
// "FITS". Replicated KV heads stay a warning: vLLM accepts them.
TEST_CASE("tensor parallel sizes vLLM refuses do not fit; replicated KV heads are a warning", "[kaito][layout]") {
  const auto joined = [](const std::vector<std::string>& lines) {
    std::string all;
    for (const auto& line : lines) all += line + "\n";
    return all;
  };
  SECTION("Qwen2.5-0.5B (14 heads, 2 KV heads), pinned TP 4: does not divide the heads") {
    const auto arch = arch_of("Qwen--Qwen2.5-0.5B");
    const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
    auto s = with_len(2048, 8);
    s.tensor_parallel_size = 4;
    const auto p = plan_kaito(arch, 1'000'000'000ULL, kv, GpuMemory{kA100, "reported"}, s);
    CHECK_FALSE(p.fits);
    CHECK_THAT(joined(p.not_fit_reasons),
               Catch::Contains("tensor parallel size 4 does not divide the 14 attention heads: vLLM refuses it"));
    CHECK_THAT(joined(p.warnings), Catch::Contains("exceeds the 2 KV heads"));  // 4 = 2 x 2: replicated
  }
  SECTION("Llama-3.1-70B (64 heads), --tensor-parallel-size 3: does not fit, whatever the memory") {
    const auto arch = arch_of("meta-llama--Llama-3.1-70B-Instruct");
    const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
    auto s = with_len(2048, 8);
    s.tensor_parallel_size = 3;
    const auto p = plan_kaito(arch, kLlama70BWeights, kv, GpuMemory{kA100, "reported"}, s);
    CHECK(p.max_model_len >= 2048);  // memory alone would hold it
    CHECK_FALSE(p.fits);
    REQUIRE(p.not_fit_reasons.size() == 1);
    CHECK(p.not_fit_reasons[0] == "tensor parallel size 3 does not divide the 64 attention heads: vLLM refuses it");
  }
  SECTION("Qwen2.5-7B (28 heads, 4 KV heads), TP 7: divides the heads, neither divides nor replicates the KV heads") {
    const auto arch = arch_of("Qwen--Qwen2.5-7B");
    REQUIRE(arch.num_attention_heads == 28);
    REQUIRE(arch.num_key_value_heads == 4);
    const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
    auto s = with_len(2048, 8);
    s.gpus = 7;
    const auto p = plan_kaito(arch, 15'000'000'000ULL, kv, GpuMemory{kA100, "reported"}, s);
    CHECK(p.tensor_parallel_size == 7);
    CHECK_FALSE(p.fits);
    CHECK_THAT(joined(p.not_fit_reasons), Catch::Contains("tensor parallel size 7 neither divides the 4 KV heads"));
  }
  SECTION("a whole node of 8 forces TP 8 on a 14-head model: does not fit; a bare GPU takes TP 1 and fits") {
    const auto arch = arch_of("Qwen--Qwen2.5-0.5B");
    const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
    const auto node = plan_kaito(arch, 1'000'000'000ULL, kv, GpuMemory{kA100, "reported"}, with_len(2048, 8));
    CHECK(node.tensor_parallel_size == 8);
    CHECK_FALSE(node.fits);
    CHECK_THAT(joined(node.not_fit_reasons), Catch::Contains("does not divide the 14 attention heads"));
    auto bare = with_len(2048, 8);
    bare.whole_nodes = false;
    const auto one = plan_kaito(arch, 1'000'000'000ULL, kv, GpuMemory{kA100, "reported"}, bare);
    CHECK(one.tensor_parallel_size == 1);
    CHECK(one.fits);
  }
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

// The bare-GPU node shape (issue 13, section 3): a bare GPU SKU (H100-80G, L4) rents one node of the smallest
// tensor-parallel size vLLM accepts that fits (at most 8); more than 8 GPUs: nodes of 8 with PP between them.
// The report plans a bare SKU with gpus_per_node = 8 and whole_nodes = false.
TEST_CASE("the bare-GPU node shape: one node of the smallest valid TP that fits, else nodes of 8 with PP",
          "[kaito][shape]") {
  const auto llama70 = arch_of("meta-llama--Llama-3.1-70B-Instruct");  // 64 heads, 8 KV heads
  const auto kv70 = kv_cache_spec(llama70, "auto", DType::BFloat16);
  auto bare = [](std::uint64_t len) {
    auto s = with_len(len, 8);
    s.whole_nodes = false;
    return s;
  };
  SECTION("Llama-3.1-70B on H100-80G at 8192 tokens: n = 2, so TP 2 on one node (not two nodes of one GPU)") {
    // n = ceil((1.02 x 131.416519 + 0.00030518 x 8192) / (79.647461 x 0.9 - 2.3)) = ceil(136.544850 / 69.382715)
    //   = ceil(1.968) = 2;  TP 2 divides 64 heads and 8 KV heads
    // len = floor((2 x 71.682715 - 134.044850 - 4.6) / 0.00030518) = floor(4.720580 / 0.00030518) = 15468
    const auto p = plan_kaito(llama70, kLlama70BWeights, kv70, GpuMemory{kH100, "reported"}, bare(8192));
    CHECK(p.gpus_needed == 2);
    CHECK(p.gpus == 2);
    CHECK(p.nodes == 1);
    CHECK(p.tensor_parallel_size == 2);
    CHECK(p.pipeline_parallel_size == 1);
    CHECK(p.max_model_len_by_memory == 15468);
    CHECK(p.fits);
  }
  SECTION("at 131072 tokens n = 3, and TP 3 does not divide 64 heads: TP 4 on one node") {
    // n = ceil(174.044850 / 69.382715) = 3; len on 4 GPUs = floor((4 x 71.682715 - 134.044850 - 9.2) / 0.00030518)
    //   = floor(143.486010 / 0.00030518) = 470174 -> min(., 131072)
    const auto p = plan_kaito(llama70, kLlama70BWeights, kv70, GpuMemory{kH100, "reported"}, bare(131072));
    CHECK(p.gpus_needed == 3);
    CHECK(p.gpus == 4);
    CHECK(p.nodes == 1);
    CHECK(p.tensor_parallel_size == 4);
    CHECK(p.max_model_len_by_memory == 470174);
    CHECK(p.max_model_len == 131072);
    CHECK(p.fits);
  }
  SECTION("the controller on bare H100s (80 GiB in KAITO's table) at 2048 tokens: minGPUs 3 at every count, TP 4") {
    // c = 1: reserve 2.3 + 0.625 = 2.925, room (67.2 - 2.925) / 1.05 = 61.214286, int(2.189764) + 1 = 3 > 1
    // c = 2: reserve 2.6125, room 61.511905, int(2.179169) + 1 = 3 > 2;  c = 3: TP 3 is refused by vLLM
    // c = 4: reserve 2.45625, room 61.660714, int(2.173910) + 1 = 3 <= 4: one node of 4
    auto s = bare(2048);
    s.rules = KaitoRules::Controller;
    const auto p = plan_kaito(llama70, kLlama70BWeights, kv70, GpuMemory{80 * kGiB, "KAITO SKU table"}, s);
    CHECK(p.gpus_needed == 3);
    CHECK(p.gpus == 4);
    CHECK(p.nodes == 1);
    CHECK(p.tensor_parallel_size == 4);
    // weights per GPU = 134.044850 / 4 = 33.511212; static = 2.3 + 1.675561; available = 67.2 - 33.511212 -
    // 3.975561 = 29.713227 GiB; KV per token = 327680 / 4 = 81920 B -> 389457 -> min(., 131072) = 131072
    CHECK(p.max_model_len_by_memory == 389457);
    CHECK(p.max_model_len == 131072);
    CHECK(p.fits);
  }
  SECTION("Llama-3.1-405B on H100-80G needs 12 GPUs: 2 nodes of 8, TP 8 x PP 2") {
    const auto arch = arch_of("meta-llama--Meta-Llama-3.1-405B");
    const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
    REQUIRE(kv.bytes_per_token == 2ULL * 126 * 8 * 128 * 2);  // 516096 B
    // W = 405,853,388,800 parameters x 2 B = 811706777600 B = 755.965 GiB
    // n = ceil((1.02 x 755.965 + 516096 B x 2048 / 2^30) / 69.382715) = ceil(772.064438 / 69.382715) = 12 > 8
    const std::uint64_t weights = 811'706'777'600ULL;
    const auto p = plan_kaito(arch, weights, kv, GpuMemory{kH100, "reported"}, bare(2048));
    CHECK(p.gpus_needed == 12);
    CHECK(p.nodes == 2);
    CHECK(p.gpus == 16);
    CHECK(p.tensor_parallel_size == 8);
    CHECK(p.pipeline_parallel_size == 2);
    // len = floor((16 x 71.682715 - 1.02 x 755.965 - 2.3 x 16) / (516096 / 2^30)) = floor(339.043375 / 0.00048065)
    CHECK(p.max_model_len_by_memory == 705382);
    CHECK(p.fits);

    SECTION("on Standard_NC48ads_A100_v4 (an instance of 2 A100s) the same n = 12 is 6 whole nodes: TP 2 x PP 6") {
      const auto nc = plan_kaito(arch, weights, kv, GpuMemory{kA100, "reported"}, with_len(2048, 2));
      CHECK(nc.gpus_needed == 12);
      CHECK(nc.nodes == 6);
      CHECK(nc.gpus == 12);
      CHECK(nc.tensor_parallel_size == 2);
      CHECK(nc.pipeline_parallel_size == 6);
      // floor((12 x 72 - 1.02 x 755.965 - 2.3 x 12) / 0.00048065) = floor(65.319937 / 0.00048065) = 135898
      CHECK(nc.max_model_len_by_memory == 135898);
    }
  }
  SECTION("an instance keeps its GPU count: Standard_NC48ads_A100_v4 (2 per node) for Llama-3.1-70B is one node") {
    const auto p = plan_kaito(llama70, kLlama70BWeights, kv70, GpuMemory{kA100, "reported"}, with_len(8192, 2));
    CHECK(p.gpus_needed == 2);
    CHECK(p.nodes == 1);
    CHECK(p.gpus == 2);
    CHECK(p.tensor_parallel_size == 2);
    CHECK(p.max_model_len_by_memory == 17547);  // the same two GPUs as the --gpus-per-node 1 plan above
  }
  SECTION("pinned --gpus 2 on a bare GPU: TP 2 on one node") {
    auto s = bare(2048);
    s.gpus = 2;
    const auto p = plan_kaito(llama70, kLlama70BWeights, kv70, GpuMemory{kA100, "reported"}, s);
    CHECK(p.pinned);
    CHECK(p.nodes == 1);
    CHECK(p.tensor_parallel_size == 2);
  }
  SECTION("a bare GPU too small for the overheads is judged on one GPU") {
    const auto llama8 = arch_of("meta-llama--Meta-Llama-3.1-8B");
    const auto kv8 = kv_cache_spec(llama8, "auto", DType::BFloat16);
    const auto p = plan_kaito(llama8, kLlama8BWeights, kv8, GpuMemory{2 * kGiB, "--gpu-memory"}, bare(2048));
    CHECK(p.gpus == 1);
    CHECK_FALSE(p.fits);
  }
}
