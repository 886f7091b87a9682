// TGI sizing (TGI's estimation notebook, "Estimate VRAM usage for TGI"), checked against the notebook's own printed
// figures and against values worked out by hand with the corrected head_dim. GB = 10^9 bytes, as the notebook uses.
//
// Llama-3.1-8B: hidden 4096, intermediate 14336, 32 heads, 8 KV heads, 32 layers, head_dim 128, float16 (B = 2).
// Forward bytes per (batch x token), the notebook's terms:
//   MLP        = 4096 x 2 + 2 x 14336 x 2 + 4096 x 1                                      = 69,632
//   attention  = 4096x2 (input) + 128x32x2 (q) + 2x128x8x2 (k, v) + 32x2 (softmax out)
//              + 32x128x2 (out_proj input) + 32x1 (softmax mask) + 32x2 (dropout out) + 4096x1 (mask)
//              = 8192 + 8192 + 4096 + 64 + 8192 + 32 + 64 + 4096                           = 32,928
//   2 layer norms = 2 x 4096 x 2                                                           = 16,384
//   total                                                                                  = 118,944
// With the notebook's buggy head_dim 512: attention = 8192 + 32768 + 16384 + 64 + 32768 + 32 + 64 + 4096 = 94,368,
// total = 180,384. KV bytes per token: 2 x 32 x 8 x 128 x 2 = 131,072 (x4 = 524,288 with head_dim 512).
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/tgi/plan.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"
#include "vramcalc/render/commands.hpp"

using namespace vramcalc;

namespace {

constexpr std::uint64_t kLlama8BWeights = 16'060'522'496ULL;  // safetensors total of Llama-3.1-8B
constexpr std::uint64_t k24GB = 24'000'000'000ULL;

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

TgiSettings settings(std::uint64_t input, std::uint64_t total, std::uint64_t prefill, std::uint64_t shards = 1) {
  TgiSettings s;
  s.max_input_tokens = input;
  s.max_total_tokens = total;
  s.max_batch_prefill_tokens = prefill;
  s.num_shard = shards;
  s.gpu_memory_bytes = k24GB;
  return s;
}

TgiPlan plan_for(const ModelArch& arch, const TgiSettings& s, std::uint64_t weights = kLlama8BWeights) {
  return plan_tgi(arch, weights, kv_cache_spec(arch, "auto", DType::Float16), DType::Float16, s);
}

// The notebook's example (In [56]): one 24 GB GPU, 8750 / 8782 / 8782.
TgiSettings notebook_example() { return settings(8750, 8782, 8782); }

ModelArch llama8b_with_notebook_head_dim() {
  auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
  arch.head_dim = 512;  // hidden_size // num_key_value_heads = 4096 // 8, the notebook's fallback
  return arch;
}

}  // namespace

TEST_CASE("TGI: the notebook's example with the corrected head_dim fits one 24 GB GPU", "[tgi]") {
  const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), notebook_example());
  // batch = ceil(8782 / 8750) = 2
  CHECK(p.batch_size == 2);
  CHECK(p.cuda_overhead_bytes == 1'200'000'000ULL);
  CHECK(p.model_bytes == kLlama8BWeights);
  // prefill = 2 x 8750 x 118,944 = 2,081,520,000; decode = 2 x 1 x 118,944 = 237,888
  CHECK(p.prefill_bytes == 2'081'520'000ULL);
  CHECK(p.decode_bytes == 237'888ULL);
  // KV = 2 x (8782 - 1) x 131,072 = 17,562 x 131,072 = 2,301,886,464
  CHECK(p.kv_bytes_per_token == 131'072ULL);
  CHECK(p.kv_tokens_needed == 17'562ULL);
  CHECK(p.kv_cache_bytes == 2'301'886'464ULL);
  // needed = 16,060,522,496 + 1,200,000,000 + 2,081,520,000 + 237,888 + 2,301,886,464
  CHECK(p.total_needed_bytes == 21'644'166'848ULL);
  // available = 1 x 24e9 x 1.0 x 0.95
  CHECK(p.available_bytes == 22'800'000'000ULL);
  CHECK(p.is_enough_vram);
  CHECK(p.fits);
  CHECK(p.not_fit_reasons.empty());
  // The notebook's bytes_to_gb figures.
  CHECK(tgi_gb(p.prefill_bytes) == Approx(2.08152));
  CHECK(tgi_gb(p.decode_bytes) == Approx(0.00024));
  CHECK(tgi_gb(p.kv_cache_bytes) == Approx(2.30189));
  CHECK(tgi_gb(p.total_needed_bytes) == Approx(21.64417));
  CHECK(tgi_gb(p.available_bytes) == Approx(22.8));
  // The formulas carry their numbers, in GB with 5 decimals.
  CHECK_THAT(p.prefill_formula,
             Catch::Contains("2 batch x 8750 tokens x 118,944 B/token") && Catch::EndsWith("= 2.08152 GB"));
  CHECK_THAT(p.decode_formula, Catch::EndsWith("= 0.00024 GB"));
  CHECK_THAT(p.kv_formula,
             Catch::StartsWith("2 batch x (8782 - 1) tokens x 131,072 B/token") && Catch::EndsWith("= 2.30189 GB"));
}

TEST_CASE("TGI: with the notebook's head_dim 512 the figures are the notebook's printed ones", "[tgi]") {
  const auto p = plan_for(llama8b_with_notebook_head_dim(), notebook_example());
  // prefill = 2 x 8750 x 180,384 = 3,156,720,000; decode = 2 x 180,384 = 360,768;
  // KV = 17,562 x 524,288 = 9,207,545,856; needed = 29,625,149,120
  CHECK(p.prefill_bytes == 3'156'720'000ULL);
  CHECK(p.decode_bytes == 360'768ULL);
  CHECK(p.kv_cache_bytes == 9'207'545'856ULL);
  CHECK(p.total_needed_bytes == 29'625'149'120ULL);
  // Out[56]: prefill 3.15672, decode 0.00036, kv 9.20755, needed 29.62515, available 22.8, not enough.
  CHECK(tgi_gb(p.cuda_overhead_bytes) == Approx(1.2));
  CHECK(tgi_gb(p.model_bytes) == Approx(16.06052));
  CHECK(tgi_gb(p.prefill_bytes) == Approx(3.15672));
  CHECK(tgi_gb(p.decode_bytes) == Approx(0.00036));
  CHECK(tgi_gb(p.kv_cache_bytes) == Approx(9.20755));
  CHECK(tgi_gb(p.total_needed_bytes) == Approx(29.62515));
  CHECK(tgi_gb(p.available_bytes) == Approx(22.8));
  CHECK_FALSE(p.is_enough_vram);
  CHECK_FALSE(p.fits);
  REQUIRE(p.not_fit_reasons.size() == 1);
  CHECK_THAT(p.not_fit_reasons[0], Catch::StartsWith("needs 29.63 GB, 22.80 GB available (GB = 10^9 bytes)"));
}

TEST_CASE("TGI: the notebook's sweep on 4 x 24 GB", "[tgi]") {
  SECTION("tok = 10000 with the corrected head_dim, worked by hand") {
    // batch = ceil(10000 / 9999) = 2; prefill = 2 x 9999 x 118,944 = 19,998 x 118,944 = 2,378,642,112;
    // decode = 237,888; KV = 19,998 x 131,072 = 2,621,177,856; cuda = 4 x 1.2e9 = 4.8e9;
    // needed = 16,060,522,496 + 4,800,000,000 + 2,378,642,112 + 237,888 + 2,621,177,856 = 25,860,580,352;
    // available = 4 x 24e9 x 0.95 = 91.2e9
    const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), settings(9999, 10000, 10000, 4));
    CHECK(p.batch_size == 2);
    CHECK(p.cuda_overhead_bytes == 4'800'000'000ULL);
    CHECK(p.prefill_bytes == 2'378'642'112ULL);
    CHECK(p.decode_bytes == 237'888ULL);
    CHECK(p.kv_cache_bytes == 2'621'177'856ULL);
    CHECK(p.total_needed_bytes == 25'860'580'352ULL);
    CHECK(p.available_bytes == 91'200'000'000ULL);
    CHECK(p.is_enough_vram);
  }
  SECTION("tok = 20000 with the corrected head_dim, worked by hand") {
    // prefill = 39,998 x 118,944 = 4,757,522,112; KV = 39,998 x 131,072 = 5,242,617,856;
    // needed = 16,060,522,496 + 4,800,000,000 + 4,757,522,112 + 237,888 + 5,242,617,856 = 30,860,900,352
    const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), settings(19999, 20000, 20000, 4));
    CHECK(p.prefill_bytes == 4'757'522'112ULL);
    CHECK(p.kv_cache_bytes == 5'242'617'856ULL);
    CHECK(p.total_needed_bytes == 30'860'900'352ULL);
    CHECK(p.is_enough_vram);
  }
  SECTION("with head_dim 512, rows 0 and 9 of the notebook's table (Out[58])") {
    const auto row0 = plan_for(llama8b_with_notebook_head_dim(), settings(9999, 10000, 10000, 4));
    CHECK(tgi_gb(row0.cuda_overhead_bytes) == Approx(4.8));
    CHECK(tgi_gb(row0.prefill_bytes) == Approx(3.60732));
    CHECK(tgi_gb(row0.decode_bytes) == Approx(0.00036));
    CHECK(tgi_gb(row0.kv_cache_bytes) == Approx(10.48471));
    CHECK(tgi_gb(row0.available_bytes) == Approx(91.2));
    CHECK(tgi_gb(row0.total_needed_bytes) == Approx(34.95291));
    CHECK(row0.is_enough_vram);
    const auto row9 = plan_for(llama8b_with_notebook_head_dim(), settings(18999, 19000, 19000, 4));
    CHECK(tgi_gb(row9.prefill_bytes) == Approx(6.85423));
    CHECK(tgi_gb(row9.kv_cache_bytes) == Approx(19.9219));
    CHECK(tgi_gb(row9.total_needed_bytes) == Approx(47.63701));
    CHECK(row9.is_enough_vram);
  }
}

TEST_CASE("TGI: the notebook's first version gives the KV token budget", "[tgi]") {
  SECTION("corrected head_dim") {
    // free = (24e9 - 1.2e9 - 16,060,522,496 - 2,081,520,000 - 237,888) x 1.0 x 0.95
    //      = 4,657,719,616 x 0.95 = 4,424,833,635.2
    // budget = floor(4,424,833,635.2 / 131,072) = 33,758 (33,758 x 131,072 = 4,424,728,576)
    const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), notebook_example());
    CHECK(p.free_for_kv_bytes == 4'424'833'635LL);
    CHECK(p.kv_token_budget == 33'758ULL);
    CHECK(p.kv_token_budget >= p.kv_tokens_needed);
  }
  SECTION("head_dim 512: the budget falls below the 17,562 tokens needed") {
    // free = (24e9 - 1.2e9 - 16,060,522,496 - 3,156,720,000 - 360,768) x 0.95 = 3,403,276,899.2
    // budget = floor(3,403,276,899.2 / 524,288) = 6,491
    const auto p = plan_for(llama8b_with_notebook_head_dim(), notebook_example());
    CHECK(p.free_for_kv_bytes == 3'403'276'899LL);
    CHECK(p.kv_token_budget == 6'491ULL);
  }
  SECTION("weights larger than the GPUs: negative free memory, no budget") {
    const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), notebook_example(), 30'000'000'000ULL);
    // (24e9 - 1.2e9 - 30e9 - 2,081,520,000 - 237,888) x 0.95 = -9,281,757,888 x 0.95 = -8,817,669,993.6
    CHECK(p.free_for_kv_bytes == -8'817'669'994LL);
    CHECK(p.kv_token_budget == 0);
    CHECK_FALSE(p.fits);
  }
}

TEST_CASE("TGI: --cuda-memory-fraction scales the available memory", "[tgi]") {
  auto s = notebook_example();
  s.cuda_memory_fraction = 0.9;
  const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), s);
  // 24e9 x 0.9 x 0.95 = 20.52e9 < 21,644,166,848 needed
  CHECK(p.available_bytes == 20'520'000'000ULL);
  CHECK_FALSE(p.is_enough_vram);
  REQUIRE_FALSE(p.not_fit_reasons.empty());
  CHECK_THAT(p.not_fit_reasons[0], Catch::StartsWith("needs 21.64 GB, 20.52 GB available"));
}

TEST_CASE("TGI: the head_dim correction is always noted", "[tgi]") {
  SECTION("Llama-3.1-8B has no head_dim in its config: the notebook would use 4096 / 8 = 512") {
    const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), notebook_example());
    REQUIRE_FALSE(p.notes.empty());
    CHECK_THAT(p.notes[0], Catch::Contains("head_dim 128") && Catch::Contains("hidden_size / num_key_value_heads") &&
                               Catch::Contains("4096 / 8 = 512"));
  }
  SECTION("Qwen3-8B declares head_dim: the note says it changes nothing") {
    const auto arch = arch_of("Qwen--Qwen3-8B");
    const auto p = plan_tgi(arch, 16'000'000'000ULL, kv_cache_spec(arch, "auto", DType::BFloat16), DType::BFloat16,
                            notebook_example());
    REQUIRE_FALSE(p.notes.empty());
    CHECK_THAT(p.notes[0], Catch::Contains("bug fixed") && Catch::Contains("would not change this model"));
  }
}

TEST_CASE("TGI: token settings default as TGI v2's launcher does", "[tgi]") {
  TgiSettings s;
  s.gpu_memory_bytes = k24GB;
  SECTION("max_position_embeddings above 4096 is capped to 4096") {
    const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), s);
    CHECK(p.max_total_tokens == 4096);
    CHECK(p.max_input_tokens == 4095);
    CHECK(p.max_batch_prefill_tokens == 4145);  // max_input_tokens + 50
    CHECK(p.batch_size == 2);                   // ceil(4145 / 4095)
    REQUIRE(p.defaults_used.size() == 3);
    CHECK_THAT(p.defaults_used[0], Catch::StartsWith("max_total_tokens 4096") &&
                                       Catch::Contains("min(max_position_embeddings 131072, 4096)"));
    CHECK_THAT(p.defaults_used[2], Catch::StartsWith("max_batch_prefill_tokens 4145"));
  }
  SECTION("a shorter max_position_embeddings (n_positions 1024 in GPT-2 large) is used as is") {
    const auto p = plan_for(arch_of("openai-community--gpt2-large"), s, 1'548'000'000ULL);
    CHECK(p.max_total_tokens == 1024);
    CHECK(p.max_input_tokens == 1023);
    CHECK(p.max_batch_prefill_tokens == 1073);
  }
  SECTION("no max_position_embeddings: 4096-based defaults, with a warning") {
    // (normalize_config fills the Llama family's default, so the field is cleared on the description itself)
    auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
    arch.max_position_embeddings.reset();
    arch.max_position_source.clear();
    const auto p = plan_for(arch, s);
    CHECK(p.max_total_tokens == 4096);
    CHECK(p.max_input_tokens == 4095);
    CHECK(p.max_batch_prefill_tokens == 4145);
    REQUIRE_FALSE(p.warnings.empty());
    CHECK_THAT(p.warnings[0], Catch::Contains("no max_position_embeddings"));
  }
  SECTION("only --max-input-tokens given: the prefill default follows it, the total stays TGI's") {
    s.max_input_tokens = 1000;
    const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), s);
    CHECK(p.max_total_tokens == 4096);
    CHECK(p.max_batch_prefill_tokens == 1050);
    CHECK(p.defaults_used.size() == 2);
  }
  SECTION("all given: nothing defaulted") {
    const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), notebook_example());
    CHECK(p.defaults_used.empty());
  }
  SECTION("a --max-total-tokens below TGI's default input is refused, as TGI refuses it") {
    s.max_total_tokens = 2048;
    CHECK_THROWS_AS(plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), s), Error);
    CHECK_THROWS_WITH(plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), s),
                      Catch::StartsWith("--max-input-tokens: 4095 (TGI's default"));
  }
}

TEST_CASE("TGI: settings TGI rejects are bad input naming the flag", "[tgi]") {
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto expect_bad = [&](const TgiSettings& s, const std::string& flag) {
    CHECK_THROWS_AS(plan_for(arch, s), Error);
    CHECK_THROWS_WITH(plan_for(arch, s), Catch::StartsWith(flag + ":"));
    try {
      plan_for(arch, s);
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::BadInput);
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  };
  SECTION("max_input_tokens must be below max_total_tokens") {
    expect_bad(settings(8782, 8782, 8782), "--max-input-tokens");
  }
  SECTION("max_batch_prefill_tokens must hold one prompt") {
    expect_bad(settings(8750, 8782, 8000), "--max-batch-prefill-tokens");
  }
  SECTION("zero tokens") {
    expect_bad(settings(0, 8782, 8782), "--max-input-tokens");
    expect_bad(settings(10, 0, 8782), "--max-total-tokens");
    expect_bad(settings(10, 8782, 0), "--max-batch-prefill-tokens");
  }
  SECTION("cuda_memory_fraction outside (0, 1]") {
    for (double f : {0.0, -0.5, 1.01, std::nan("")}) {
      auto s = notebook_example();
      s.cuda_memory_fraction = f;
      expect_bad(s, "--cuda-memory-fraction");
    }
  }
  SECTION("no shard, no GPU memory") {
    auto s = notebook_example();
    s.num_shard = 0;
    expect_bad(s, "--num-shard");
    s = notebook_example();
    s.gpu_memory_bytes = 0;
    expect_bad(s, "--gpu-memory");
  }
  SECTION("cuda_overhead_gb outside [0, 1000]") {
    for (double gb : {-0.1, 1000.5, std::nan("")}) {
      auto s = notebook_example();
      s.cuda_overhead_gb = gb;
      expect_bad(s, "--cuda-overhead-gb");
    }
  }
}

TEST_CASE("TGI: absurd token counts fail instead of wrapping", "[tgi]") {
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
  constexpr std::uint64_t k2p40 = 1ULL << 40;
  SECTION("2^40 tokens in one prompt still fit in 64 bits, and do not fit the GPU") {
    // prefill = 1 x 2^40 x 118,944 (about 1.3e17); KV = 1 x 2^40 x 131,072 = 2^57
    const auto p = plan_for(arch, settings(k2p40, k2p40 + 1, k2p40));
    CHECK(p.prefill_bytes == k2p40 * 118'944ULL);
    CHECK(p.kv_cache_bytes == (1ULL << 57));
    CHECK_FALSE(p.fits);
  }
  SECTION("a prefill batch whose activations pass 2^64") {
    // batch = 2^62 / 2^40 = 2^22; 2^22 x 2^40 x 118,944 > 2^64
    CHECK_THROWS_AS(plan_for(arch, settings(k2p40, k2p40 + 1, 1ULL << 62)), Error);
    CHECK_THROWS_WITH(plan_for(arch, settings(k2p40, k2p40 + 1, 1ULL << 62)), Catch::Contains("overflows 64 bits"));
  }
  SECTION("a KV cache that passes 2^64") {
    // 1 x (2^62 - 1) x 131,072 > 2^64
    CHECK_THROWS_WITH(plan_for(arch, settings(k2p40, 1ULL << 62, k2p40)),
                      Catch::Contains("--max-total-tokens") && Catch::Contains("overflows 64 bits"));
  }
  SECTION("the default prefill (input + 50) at the top of the range") {
    TgiSettings s =
        settings(std::numeric_limits<std::uint64_t>::max() - 10, std::numeric_limits<std::uint64_t>::max(), 1);
    s.max_batch_prefill_tokens.reset();
    CHECK_THROWS_AS(plan_for(arch, s), Error);
  }
}

TEST_CASE("TGI: warnings for MoE widths and over-long contexts", "[tgi]") {
  SECTION("Mixtral-8x7B: the MLP term uses the 2 activated experts, 14336 x 2 = 28672") {
    const auto arch = arch_of("mistralai--Mixtral-8x7B-v0.1");
    const auto p = plan_for(arch, settings(1000, 2000, 1000), 93'000'000'000ULL);
    // MLP = 4096x2 + 2x28672x2 + 4096 = 126,976; attention 32,928; layer norms 16,384 -> 176,288 B/token;
    // prefill = 1 x 1000 x 176,288
    CHECK(p.prefill_bytes == 176'288'000ULL);
    bool warned = false;
    for (const auto& w : p.warnings) warned = warned || w.find("MoE") != std::string::npos;
    CHECK(warned);
    CHECK_THAT(p.prefill_formula, Catch::Contains("intermediate 28672"));
  }
  SECTION("DeepSeek-V3: 2048 x (8 routed + 1 shared) against the dense layers' 18432") {
    const auto arch = arch_of("deepseek-ai--DeepSeek-V3");
    const auto p = plan_tgi(arch, 700'000'000'000ULL, kv_cache_spec(arch, "auto", DType::BFloat16), DType::BFloat16,
                            settings(1000, 2000, 1000, 8));
    CHECK_THAT(p.prefill_formula, Catch::Contains("intermediate 18432"));
    bool moe = false, mla = false;
    for (const auto& w : p.warnings) {
      moe = moe || w.find("MoE") != std::string::npos;
      mla = mla || w.find("MLA") != std::string::npos;
    }
    CHECK(moe);
    CHECK(mla);
  }
  SECTION("a dense model gets no MoE warning") {
    const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), notebook_example());
    int moe_warnings = 0;
    for (const auto& w : p.warnings) moe_warnings += w.find("MoE") != std::string::npos ? 1 : 0;
    CHECK(moe_warnings == 0);
    CHECK_THAT(p.prefill_formula, Catch::Contains("intermediate 14336"));
  }
  SECTION("--max-total-tokens beyond max_position_embeddings") {
    const auto p = plan_for(arch_of("openai-community--gpt2-large"), settings(1000, 2048, 1000), 1'548'000'000ULL);
    REQUIRE_FALSE(p.warnings.empty());
    CHECK_THAT(p.warnings[0], Catch::Contains("--max-total-tokens 2048 exceeds") && Catch::Contains("1024"));
  }
}

TEST_CASE("TGI: the launcher command", "[tgi]") {
  const auto p = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), notebook_example());
  const auto line = [](const TgiPlan& plan, const ServeOptions& o) {
    return shell_join(tgi_launcher_words(tgi_summary(plan, TgiSettings{}, 8, false).command, o));
  };
  SECTION("the notebook's settings") {
    ServeOptions o;
    o.model = "meta-llama/Llama-3.1-8B-Instruct";
    CHECK(line(p, o) ==
          "text-generation-launcher --model-id meta-llama/Llama-3.1-8B-Instruct --num-shard 1 --max-input-tokens 8750 "
          "--max-total-tokens 8782 --max-batch-prefill-tokens 8782");
  }
  SECTION("every option, with quoting") {
    auto s = settings(8750, 8782, 8782, 2);
    s.cuda_memory_fraction = 0.9;
    const auto p2 = plan_for(arch_of("meta-llama--Meta-Llama-3.1-8B"), s);
    ServeOptions o;
    o.model = "/models/my llama's";
    o.revision = "refs/pr/2";
    o.dtype = "bfloat16";
    o.quantization = "fp8";
    o.kv_cache_dtype = "fp8_e5m2";
    CHECK(line(p2, o) ==
          "text-generation-launcher --model-id '/models/my llama'\\''s' --revision refs/pr/2 --num-shard 2 "
          "--max-input-tokens 8750 --max-total-tokens 8782 --max-batch-prefill-tokens 8782 "
          "--cuda-memory-fraction 0.9 --dtype bfloat16 --quantize fp8 --kv-cache-dtype fp8_e5m2");
  }
}
