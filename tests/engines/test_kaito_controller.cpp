// KAITO's controller (--kaito-rules controller), checked against worked examples computed by hand from its two
// formulas (engines/kaito/controller.hpp), and the guide's MLA warning. GiB = 2^30 bytes.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/kaito/controller.hpp"
#include "vramcalc/engines/kaito/plan.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

constexpr std::uint64_t kLlama8BWeights = 16'060'522'496ULL;      // safetensors total: 14.957527 GiB
constexpr std::uint64_t kLlama70BWeights = 141'107'412'992ULL;    // safetensors total: 131.416519 GiB
constexpr std::uint64_t kDeepSeekV3Weights = 673'150'552'416ULL;  // the catalog's weight bytes: 626.920 GiB
constexpr std::uint64_t kH200Smi = 143771ULL * kMiB;              // nvidia-smi: 140.401 GiB

KaitoSettings controller(int gpus_per_node, bool whole_nodes = true) {
  KaitoSettings s;
  s.rules = KaitoRules::Controller;
  s.gpus_per_node = gpus_per_node;
  s.whole_nodes = whole_nodes;
  return s;  // max_model_len 2048, KAITO's default
}

std::string joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const auto& line : lines) all += line + "\n";
  return all;
}

// The value that follows `flag` in a command's words, or "".
std::string flag_value(const std::vector<std::string>& words, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < words.size(); ++i)
    if (words[i] == flag) return words[i + 1];
  return "";
}

}  // namespace

TEST_CASE("the --kaito-rules names: guide (the default) and controller, with their sources", "[kaito][controller]") {
  CHECK(kaito_rules_names() == std::vector<std::string>{"guide", "controller"});
  CHECK(kaito_rules_named("controller") == KaitoRules::Controller);
  CHECK(kaito_rules_named("guide") == KaitoRules::Guide);
  CHECK_FALSE(kaito_rules_named("Controller"));  // the CLI lowercases first
  CHECK(kaito_rules_source(KaitoRules::Guide) == "KAITO sizing guide");
  CHECK(kaito_rules_source(KaitoRules::Controller) == "KAITO controller");
  CHECK(KaitoSettings{}.rules == KaitoRules::Guide);
}

TEST_CASE("the controller's GPU count is int(x) + 1, even when x is a whole number", "[kaito][controller]") {
  // Go's int() truncates and KAITO adds 1 after it: not ceil(x).
  const double room = 61.5 * static_cast<double>(kGiB);
  CHECK(kaito_controller_min_gpus(2.0 * room, room) == 3);  // ceil would say 2
  CHECK(kaito_controller_min_gpus(1.99 * room, room) == 2);
  CHECK(kaito_controller_min_gpus(0.5 * room, room) == 1);
  CHECK(kaito_controller_min_gpus(0.0, room) == 1);
  CHECK(kaito_controller_min_gpus(1.0, 0.0) == 0);  // no room at all: KAITO's "GPU memory is too small" error
}

TEST_CASE("the controller's node estimator on Standard_ND96amsr_A100_v4 (8 x 80 GiB): Llama-3.1-70B",
          "[kaito][controller]") {
  // model     = 1.02 x 141107412992 B                                  = 134.044850 GiB
  // available = 80 GiB x 0.84                                          = 67.2 GiB
  // reserve   = 2.3 GiB + 2048 tokens x 327680 B / 8 GPUs = 2.3 + 0.078125 = 2.378125 GiB
  // room      = (67.2 - 2.378125) / 1.05                               = 61.735119 GiB
  // minGPUs   = int(134.044850 / 61.735119) + 1 = int(2.171290) + 1    = 3;  nodes = ceil(3 / 8) = 1
  const auto g = kaito_controller_gpus(kLlama70BWeights, 327680.0, 2048, 80 * kGiB, 8, 2.3);
  CHECK(g.model_bytes / kGiB == Approx(134.044850).epsilon(1e-8));
  CHECK(g.available_bytes / kGiB == Approx(67.2).epsilon(1e-12));
  CHECK(g.reserve_bytes / kGiB == Approx(2.378125).epsilon(1e-12));
  CHECK(g.weight_room_bytes / kGiB == Approx(61.735119).epsilon(1e-7));
  CHECK(g.min_gpus == 3);

  const auto arch = arch_of("meta-llama--Llama-3.1-70B-Instruct");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  const auto p = plan_kaito(arch, kLlama70BWeights, kv, GpuMemory{80 * kGiB, "KAITO SKU table"}, controller(8));
  CHECK(p.source == "KAITO controller");
  CHECK(p.gpus_needed == 3);
  CHECK(p.nodes == 1);
  CHECK(p.gpus == 8);
  CHECK(p.tensor_parallel_size == 8);
  // ComputeMaxModelLen on 1 node x 8 GPUs:
  //   weights per GPU = 134.044850 / 8                   = 16.755606 GiB
  //   static overhead = 2.3 + 0.05 x 16.755606           = 3.137780 GiB
  //   available       = 67.2 - 16.755606 - 3.137780      = 47.306613 GiB
  //   KV per token    = 327680 B / 8 GPUs / 1 node       = 40960 B
  //   by memory       = int(47.306613 x 2^30 / 40960)    = 1240114;  min(., 131072) = 131072 = 512 x 256
  CHECK(p.max_model_len_by_memory == 1240114);
  CHECK(p.max_model_len == 131072);
  CHECK(p.max_model_len_limited_by == "max_position_embeddings");
  CHECK(p.fits);

  SECTION("on Standard_NC48ads_A100_v4 (2 GPUs per node) the same 3 GPUs take 2 nodes: TP 2 x PP 2") {
    // reserve = 2.3 + 0.625 / 2 = 2.6125; room = (67.2 - 2.6125) / 1.05 = 61.511905;
    // minGPUs = int(2.179169) + 1 = 3; nodes = ceil(3 / 2) = 2 (the guide's n = 2 fits one node)
    const auto two = plan_kaito(arch, kLlama70BWeights, kv, GpuMemory{80 * kGiB, "KAITO SKU table"}, controller(2));
    CHECK(two.gpus_needed == 3);
    CHECK(two.nodes == 2);
    CHECK(two.gpus == 4);
    CHECK(two.tensor_parallel_size == 2);
    CHECK(two.pipeline_parallel_size == 2);
    // weights per GPU = 134.044850 / (2 x 2) = 33.511212; static = 2.3 + 1.675561 = 3.975561;
    // available = 67.2 - 33.511212 - 3.975561 = 29.713227 GiB; KV per token = 327680 / 2 / 2 = 81920 B
    CHECK(two.max_model_len_by_memory == 389457);
  }
}

TEST_CASE("ComputeMaxModelLen: 2.3 GiB + 0.05 x the per-GPU weights, rounded down to a multiple of 256",
          "[kaito][controller]") {
  // Llama-3.1-8B on one L4, 24 GiB in KAITO's SKU table (Standard_NV... / g6: gpu_mem_total / gpu_count).
  //   usable          = 24 x 0.84                         = 20.16 GiB
  //   weights per GPU = 1.02 x 14.957527 / (1 x 1)        = 15.256678 GiB
  //   static overhead = 2.3 + 0.05 x 15.256678            = 3.062834 GiB
  //   available       = 20.16 - 15.256678 - 3.062834      = 1.840488 GiB
  //   by memory       = int(1.840488 x 2^30 / 131072 B)   = 15077
  //   max_model_len   = floor(15077 / 256) x 256 = 58 x 256 = 14848
  const auto l = kaito_controller_max_model_len(kLlama8BWeights, 131072.0, false, 24 * kGiB, 1, 1, 131072, 2.3);
  CHECK(l.usable_gib == Approx(20.16).epsilon(1e-12));
  CHECK(l.weights_gib == Approx(15.256678).epsilon(1e-7));
  CHECK(l.static_overhead_gib == Approx(2.3 + 0.05 * 15.256678).epsilon(1e-7));
  CHECK(l.available_gib == Approx(1.840488).epsilon(1e-6));
  CHECK(l.by_memory == 15077);
  CHECK(l.max_model_len == 14848);
  CHECK_FALSE(l.limited_by_positions);

  SECTION("a max_position_embeddings that is not a multiple of 256 is rounded down too") {
    const auto capped = kaito_controller_max_model_len(kLlama8BWeights, 131072.0, false, 24 * kGiB, 1, 1, 10000, 2.3);
    CHECK(capped.limited_by_positions);
    CHECK(capped.max_model_len == 9984);  // 39 x 256
  }
  SECTION("weights that do not fit give 0, as the controller refuses the Workspace") {
    const auto none = kaito_controller_max_model_len(kLlama8BWeights, 131072.0, false, 16 * kGiB, 1, 1, 131072, 2.3);
    CHECK(none.by_memory < 0);
    CHECK(none.max_model_len == 0);
  }

  SECTION("through the plan: the length, the per-GPU terms and the vllm serve flags follow the controller") {
    const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
    const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
    Gpu l4;
    l4.name = "L4";
    l4.memory_gib_marketed = 24;
    l4.memory_mib_reported = 23034;
    std::vector<std::string> warnings;
    const GpuMemory mem = kaito_gpu_memory(l4, std::nullopt, warnings, KaitoRules::Controller);
    CHECK(mem.bytes == 24 * kGiB);  // the SKU table's 24 GiB, not nvidia-smi's 23034 MiB
    CHECK(warnings.empty());
    const KaitoSettings s = controller(1);
    const auto p = plan_kaito(arch, kLlama8BWeights, kv, mem, s);
    // minGPUs: reserve = 2.3 + 2048 x 131072 B = 2.55 GiB; room = (20.16 - 2.55) / 1.05 = 16.771429;
    // int(15.256678 / 16.771429) + 1 = int(0.909683) + 1 = 1
    CHECK(p.gpus_needed == 1);
    CHECK(p.gpus == 1);
    CHECK(p.gpu_memory_utilization == 0.84);
    CHECK(p.max_model_len_by_memory == 15077);
    CHECK(p.max_model_len == 14848);
    CHECK(p.fits);
    // activations = 1.7 + 0.05 x 15.256678 = 2.462834 GiB; budget = 24 x 0.84 = 20.16 GiB
    CHECK(static_cast<double>(p.per_gpu.activation_bytes) / kGiB == Approx(2.462834).epsilon(1e-6));
    CHECK(p.per_gpu.budget_bytes == static_cast<std::uint64_t>(20.16 * kGiB + 0.5));
    CHECK(p.per_gpu.kv_cache_bytes == 131072ULL * 14848);
    const auto sum = kaito_summary(p, s, kLlama8BWeights, kv);
    CHECK(flag_value(sum.command, "--max-model-len") == "14848");
    CHECK(flag_value(sum.command, "--gpu-memory-utilization") == "0.84");
    std::string formulas;
    for (const auto& term : sum.memory) formulas += term.formula + "\n";
    CHECK_THAT(formulas, Catch::Contains("KAITO controller"));
    CHECK(sum.memory_total_bytes == p.per_gpu.total_bytes);

    SECTION("the guide on the same GPU (nvidia-smi 23034 MiB = 22.494141 GiB) allows more") {
      // floor((22.494141 x 0.9 - 1.02 x 14.957527 - 2.3) / (131072 / 2^30)) = floor(2.688049 / 0.00012207) = 22020
      KaitoSettings guide;
      const auto g = plan_kaito(arch, kLlama8BWeights, kv, GpuMemory{23034 * kMiB, "reported"}, guide);
      CHECK(g.source == "KAITO sizing guide");
      CHECK(g.max_model_len == 22020);
      CHECK(kaito_summary(g, guide, kLlama8BWeights, kv).command.back() == "0.9");
    }
  }
}

TEST_CASE("the controller keeps its 0.84 whatever --gpu-memory-utilization says, and says so", "[kaito][controller]") {
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  KaitoSettings s = controller(1);
  s.gpu_memory_utilization = 0.95;
  s.gpu_memory_utilization_given = true;
  const auto p = plan_kaito(arch, kLlama8BWeights, kv, GpuMemory{24 * kGiB, "KAITO SKU table"}, s);
  CHECK(p.gpu_memory_utilization == 0.84);
  CHECK(p.max_model_len == 14848);
  CHECK_THAT(joined(p.warnings), Catch::Contains("0.95 is not used"));
}

TEST_CASE("MLA under the controller: the latent cache is not divided by the GPUs per node", "[kaito][controller]") {
  // DeepSeek-V3 on 8 x H200 (141 GiB each in KAITO's SKU table): 70272 B of latent per token.
  //   weights per GPU = 1.02 x 626.920 / 8 = 79.932339 GiB; static = 2.3 + 0.05 x 79.932339 = 6.296617 GiB
  //   available = 141 x 0.84 - 79.932339 - 6.296617 = 118.44 - 86.228956 = 32.211044 GiB
  //   MLA: KV per token = 70272 / 1 node = 70272 B      -> int(32.211044 x 2^30 / 70272) = 492178
  //   were it divided by 8: 8784 B                        -> 3937425, eight times too long
  const auto mla =
      kaito_controller_max_model_len(kDeepSeekV3Weights, 70272.0, true, 141 * kGiB, 8, 1, std::nullopt, 2.3);
  const auto divided =
      kaito_controller_max_model_len(kDeepSeekV3Weights, 70272.0, false, 141 * kGiB, 8, 1, std::nullopt, 2.3);
  CHECK(mla.kv_bytes_per_token == 70272.0);
  CHECK(divided.kv_bytes_per_token == 8784.0);
  CHECK(mla.available_gib == Approx(32.211044).epsilon(1e-6));
  CHECK(mla.by_memory == 492178);
  CHECK(mla.max_model_len == 492032);  // 1922 x 256
  CHECK(divided.by_memory == 3937425);

  SECTION("pipeline stages still divide it: 2 nodes halve the per-GPU latent") {
    const auto two =
        kaito_controller_max_model_len(kDeepSeekV3Weights, 70272.0, true, 141 * kGiB, 8, 2, std::nullopt, 2.3);
    CHECK(two.kv_bytes_per_token == 35136.0);
  }
  SECTION("through the plan: N = 8 (minGPUs int(5.782061) + 1 = 6), the per-GPU KV holds the whole latent") {
    const auto arch = arch_of("deepseek-ai--DeepSeek-V3");
    const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
    REQUIRE(kv.mla);
    const auto p = plan_kaito(arch, kDeepSeekV3Weights, kv, GpuMemory{141 * kGiB, "KAITO SKU table"}, controller(8));
    CHECK(p.gpus_needed == 6);
    CHECK(p.gpus == 8);
    CHECK(p.max_model_len_by_memory == 492178);
    CHECK(p.max_model_len == 163840);                      // max_position_embeddings, already a multiple of 256
    CHECK(p.per_gpu.kv_cache_bytes == 70272ULL * 163840);  // not / 8
    CHECK(p.fits);
    CHECK_THAT(joined(p.warnings), !Catch::Contains("MLA"));  // the controller does not divide it: nothing to warn
  }
}

TEST_CASE("the guide divides a replicated MLA latent cache by TP: a warning with the plan's numbers", "[kaito][mla]") {
  // DeepSeek-V3 on 8 x H200 (nvidia-smi 143771 MiB = 140.401367 GiB), the guide at its default 2048 tokens:
  //   room for KV = 8 x 140.401367 x 0.9 - 1.02 x 626.920 - 2.3 x 8 = 1010.889844 - 639.458712 - 18.4 = 353.031 GiB
  //   one sequence = 70272 B x 2048 = 0.134033 GiB -> the guide: floor(353.031 / 0.134033) = 2633 sequences
  //   vLLM keeps the whole latent on each of the 8 TP ranks -> floor(353.031 / (0.134033 x 8)) = 329
  const auto arch = arch_of("deepseek-ai--DeepSeek-V3");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  KaitoSettings s;
  s.gpus_per_node = 8;
  const auto p = plan_kaito(arch, kDeepSeekV3Weights, kv, GpuMemory{kH200Smi, "reported"}, s);
  REQUIRE(p.tensor_parallel_size == 8);
  const std::string all = joined(p.warnings);
  CHECK_THAT(all, Catch::Contains("MLA"));
  CHECK_THAT(all, Catch::Contains("353.0 GiB"));
  CHECK_THAT(all, Catch::Contains("2633 sequences of 2048 tokens"));
  CHECK_THAT(all, Catch::Contains("about 329 in truth"));
  CHECK(p.fits);  // a warning: the guide's own verdict stands

  SECTION("no warning on one GPU, nor for a model without MLA") {
    const auto llama = arch_of("meta-llama--Llama-3.1-70B-Instruct");
    const auto lkv = kv_cache_spec(llama, "auto", DType::BFloat16);
    const auto lp = plan_kaito(llama, kLlama70BWeights, lkv, GpuMemory{kH200Smi, "reported"}, s);
    CHECK_THAT(joined(lp.warnings), !Catch::Contains("MLA"));
    KaitoSettings one;
    one.gpus = 1;
    const auto small = plan_kaito(arch, 1ULL << 34, kv, GpuMemory{kH200Smi, "reported"}, one);
    CHECK_THAT(joined(small.warnings), !Catch::Contains("MLA"));
  }
}
