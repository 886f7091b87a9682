// The profile run's terms counted from vLLM's code (src/engines/vllm/activation.cpp): the multimodal encoder's pass,
// the Gated DeltaNet prefill, unified-memory devices and the Mamba cache blocks check. Every figure by hand from the
// configs in tests/data/configs.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/activation.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

}  // namespace

TEST_CASE("the encoder's pass: the blocks' MLP moment, the pixel values and the outputs", "[vllm][activation]") {
  const auto a = arch_of("Qwen--Qwen3.8-27B");
  REQUIRE(a.mm_encoder);
  SECTION("Qwen3.8-27B's dummy image: 65,536 patches through a 1152-wide tower with a 4304 MLP") {
    const auto p = vllm_encoder_pass(*a.mm_encoder, 1, 65536, 16384, 1, 2.0);
    // (3 x 1152 + 2 x 4304) x 2 B = 24,128 B a patch; 1.47 GiB over the image.
    CHECK(p.row_bytes == Approx(24128));
    CHECK(p.blocks_bytes == 65536ULL * 24128);
    // 3 channels x 2 frames x 16 x 16 = 1536 values a patch, bf16: 0.19 GiB.
    CHECK(p.input_bytes == 65536ULL * 1536 * 2);
    // 16,384 tokens x the model's 5120 x 2 B.
    CHECK(p.cache_bytes == 16384ULL * 5120 * 2);
    CHECK_THAT(p.formula, Catch::Contains("(3 x 1152 hidden + 2 x 4304 MLP)"));
    CHECK_THAT(p.input_formula, Catch::Contains("1536"));
  }
  SECTION("TP 2 splits the MLP rows, not the residual") {
    const auto p = vllm_encoder_pass(*a.mm_encoder, 1, 65536, 16384, 2, 2.0);
    CHECK(p.blocks_bytes == 65536ULL * (3 * 1152 + 4304) * 2);
  }
  SECTION("a gated MLP holds three intermediate-wide rows; deepstack outputs are held and handed over") {
    MultimodalEncoder m = *a.mm_encoder;
    m.gated_mlp = true;
    m.deepstack_levels = 3;
    const auto p = vllm_encoder_pass(m, 2, 65536, 16384, 1, 2.0);
    const std::uint64_t outputs = 2ULL * 16384 * 5120 * 2;
    CHECK(p.blocks_bytes == 2ULL * 65536 * (3 * 1152 + 3 * 4304) * 2 + 3 * outputs);
    CHECK(p.cache_bytes == 4 * outputs);
    CHECK_THAT(p.formula, Catch::Contains("gated MLP") && Catch::Contains("3 deepstack outputs"));
  }
  SECTION("a tower whose pixel values are not known adds none") {
    MultimodalEncoder m = *a.mm_encoder;
    m.input_values_per_token = 0;
    const auto p = vllm_encoder_pass(m, 1, 65536, 16384, 1, 2.0);
    CHECK(p.input_bytes == 0);
    CHECK(p.input_formula.empty());
  }
}

TEST_CASE("the Gated DeltaNet prefill over max_num_batched_tokens", "[vllm][activation][qwen3_5]") {
  const auto a = arch_of("Qwen--Qwen3.8-27B");
  // 16 key / 48 value heads of 128, hidden 5120, bf16, per token:
  //   projections (2 x 2048 + 2 x 6144) + (2 x 2048 + 6144) = 26,624 elements
  //   kernels     4096 (q, k normalised) + 48 x 64 (A) + 6144 (w) + 3 x 6144 (u, v_new, o) + 6144 x 128 / 64 = 44,032
  //   residual    2 x 5120 = 10,240
  // (26,624 + 44,032 + 10,240) x 2 B + 3 x 48 x 4 B (g, its cumsum, beta) = 162,368 B.
  const auto g = vllm_gdn_prefill(a, 2048, 1, 2.0);
  CHECK(g.token_bytes == Approx(162368));
  CHECK(g.bytes == 2048ULL * 162368);
  CHECK_THAT(g.formula, Catch::Contains("16 key / 48 value heads"));
  // At 2048 tokens: 0.31 GiB, under the sampler pass (0.58 GiB at 256 sequences) and far under the encoder's pass.
  CHECK(to_gib(g.bytes) == Approx(0.31).margin(0.005));
  SECTION("TP 2 halves the heads") {
    const auto half = vllm_gdn_prefill(a, 2048, 2, 2.0);
    CHECK(half.token_bytes < g.token_bytes);
    CHECK(half.token_bytes == Approx(((2 * 1024 + 2 * 3072) + (2 * 1024 + 3072) +
                                      (2048 + 24 * 64 + 3072 + 3 * 3072 + 3072.0 * 128 / 64) + 10240) *
                                         2.0 +
                                     3 * 24 * 4));
  }
  SECTION("a model without linear-attention layers has none") {
    CHECK(vllm_gdn_prefill(arch_of("Qwen--Qwen3-8B"), 8192, 1, 2.0).bytes == 0);
  }
}

TEST_CASE("unified-memory GPUs, as vLLM tells them apart", "[vllm][activation]") {
  Gpu gpu;
  gpu.name = "NVIDIA GB10";
  CHECK(vllm_unified_memory_gpu(gpu));  // no capability: the name
  for (double cc : {8.7, 11.0, 12.1}) {
    gpu.compute_capability = cc;
    CHECK(vllm_unified_memory_gpu(gpu));
  }
  for (double cc : {8.9, 9.0, 10.0, 12.0}) {
    gpu.compute_capability = cc;
    CHECK_FALSE(vllm_unified_memory_gpu(gpu));
  }
  gpu.compute_capability.reset();
  gpu.name = "NVIDIA H100 80GB HBM3";
  CHECK_FALSE(vllm_unified_memory_gpu(gpu));
  gpu.name = "NVIDIA GB10";
  CHECK_THAT(vllm_unified_memory_note(gpu, 143'666'656), Catch::Contains("MemAvailable") && Catch::Contains("0.13"));
}

TEST_CASE("vLLM refuses FULL CUDA graphs when max_num_seqs exceeds the Mamba cache blocks", "[vllm][activation]") {
  const auto hybrid = arch_of("Qwen--Qwen3.8-27B");
  const auto v26 = parse_vllm_version("0.26.0");
  CHECK(vllm_mamba_blocks_refusal(hybrid, v26, CudagraphMode::FullAndPiecewise, false, 256, 184));
  CHECK(vllm_mamba_blocks_refusal(hybrid, v26, CudagraphMode::FullDecodeOnly, false, 256, 184));
  CHECK_FALSE(vllm_mamba_blocks_refusal(hybrid, v26, CudagraphMode::FullAndPiecewise, false, 184, 184));
  CHECK_FALSE(vllm_mamba_blocks_refusal(hybrid, v26, CudagraphMode::Piecewise, false, 256, 184));
  CHECK_FALSE(vllm_mamba_blocks_refusal(hybrid, v26, CudagraphMode::FullAndPiecewise, true, 256, 184));
  CHECK_FALSE(vllm_mamba_blocks_refusal(hybrid, parse_vllm_version("0.11.1"), CudagraphMode::FullAndPiecewise, false,
                                        256, 184));
  // A model without state layers has no Mamba cache.
  CHECK_FALSE(
      vllm_mamba_blocks_refusal(arch_of("Qwen--Qwen3-8B"), v26, CudagraphMode::FullAndPiecewise, false, 1024, 10));
  const auto why = vllm_mamba_blocks_refusal(hybrid, v26, CudagraphMode::FullAndPiecewise, false, 256, 184);
  REQUIRE(why);
  CHECK_THAT(*why, Catch::Contains("--max-num-seqs 184 or less"));
}
