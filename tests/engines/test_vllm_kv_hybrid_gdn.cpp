// vLLM's cache for the Gated DeltaNet hybrids (Qwen 3.6 / 3.8, issue 14): KV per token for the full-attention layers
// only, a fixed state per request for the linear-attention layers (vLLM's gated_delta_net_state_shape: conv state in
// the model dtype, recurrent state in float32 per "mamba_ssm_dtype"), the attention block raised until a page holds a
// state, and the blocks, tokens and concurrency real v0.20+ logs printed (tests/data/vllm_calibration_v021plus.jsonl),
// reproduced from the "Available KV cache memory" they logged.
#include <catch2/catch.hpp>

#include <cmath>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/kv_pages.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

std::int64_t gib(double g) { return static_cast<std::int64_t>(std::llround(g * static_cast<double>(kGiB))); }

// Newer vLLM (v0.23 on) logs "GPU KV cache size" as int(max_concurrency x max_model_len).
std::uint64_t concurrency_tokens(const VllmKvCapacity& c, std::uint64_t len) {
  return static_cast<std::uint64_t>(c.max_concurrency * static_cast<double>(len));
}

struct Replay {
  VllmKvLayout layout;
  VllmKvCapacity capacity;
};

Replay replay(const std::string& dir, const std::string& kv_dtype, std::uint64_t tp, std::uint64_t state_blocks,
              double available_gib, std::uint64_t len, std::uint64_t spec = 0) {
  const auto a = arch_of(dir);
  VllmKvSettings s;
  s.tensor_parallel_size = tp;
  s.state_blocks_per_request = state_blocks;
  s.num_speculative_tokens = spec;
  Replay r{vllm_kv_layout(a, kv_cache_spec(a, kv_dtype, DType::BFloat16), s), {}};
  r.capacity = vllm_kv_capacity(r.layout, gib(available_gib), len, 2048);
  return r;
}

}  // namespace

TEST_CASE("Gated DeltaNet hybrids: KV per token for full-attention layers, a state per request for the others",
          "[kv][qwen3_5]") {
  SECTION("Qwen3.6-35B-A3B, fp8 KV cache") {
    const auto a = arch_of("Qwen--Qwen3.6-35B-A3B");
    const auto kv = kv_cache_spec(a, "fp8_e4m3", DType::BFloat16);
    CHECK(kv.layers == 10);
    CHECK(kv.bytes_per_token == 2ULL * 10ULL * 2ULL * 256ULL * 1);  // K and V x 10 layers x 2 KV heads x 256 x 1 B
    CHECK(kv.state_layers == 30);
    CHECK(kv.conv_state_dtype == DType::BFloat16);  // the model dtype, not the fp8 KV dtype
    CHECK(kv.ssm_state_dtype == DType::Float32);
    // Conv state: (2 x 16 x 128 + 32 x 128 = 8192 channels) x (4 - 1) taps x 2 B; recurrent: 32 heads x 128 x 128 x 4
    // B.
    const std::uint64_t state = 8192ULL * 3ULL * 2 + 32ULL * 128ULL * 128ULL * 4;
    CHECK(state == 2'146'304);
    CHECK(layer_state_bytes(a, kv, 1) == state);
    CHECK(kv.state_bytes_per_request == 30 * state);
    CHECK_THAT(kv.state_formula, Catch::Contains("30 state layers"));
    // TP 2 splits channels and heads: 4096 x 3 x 2 + 16 x 128 x 128 x 4.
    CHECK(layer_state_bytes(a, kv, 2) == 4096ULL * 3ULL * 2 + 16ULL * 128ULL * 128ULL * 4);
  }
  SECTION("Qwen3.6-27B, bf16 KV cache") {
    const auto a = arch_of("Qwen--Qwen3.6-27B");
    const auto kv = kv_cache_spec(a, "auto", DType::BFloat16);
    CHECK(kv.bytes_per_token == 2ULL * 16ULL * 4ULL * 256ULL * 2);  // 64 KiB: 16 full-attention layers only
    // (2 x 16 x 128 + 48 x 128 = 10240 channels) x 3 x 2 B + 48 x 128 x 128 x 4 B, 48 layers.
    CHECK(kv.state_bytes_per_request == 48ULL * (10240ULL * 3ULL * 2 + 48ULL * 128ULL * 128ULL * 4));
  }
  SECTION("a model without state layers reports none") {
    const auto a = arch_of("Qwen--Qwen3-8B");
    const auto kv = kv_cache_spec(a, "auto", DType::BFloat16);
    CHECK(kv.state_layers == 0);
    CHECK(kv.state_bytes_per_request == 0);
    CHECK(kv.state_formula.empty());
  }
}

TEST_CASE("vLLM's attention block for Gated DeltaNet hybrids, against the logged block sizes", "[vllm][kv][qwen3_5]") {
  SECTION("Qwen3.6-35B-A3B, fp8 cache: 2096 tokens (vllm-new-001, -002)") {
    // One attention token on one layer: 2 x 2 KV heads x 256 x 1 B = 1024 B; the state page 2,146,304 B:
    // 16 x ceil(2,146,304 / (16 x 1024)) = 16 x 131 = 2096, and the page is exactly the state (no padding).
    const auto r = replay("Qwen--Qwen3.6-35B-A3B", "fp8_e4m3", 1, 1, 1.0, 1024);
    CHECK(r.layout.mamba_page_bytes == 2'146'304);
    CHECK(r.layout.block_size == 2096);
    CHECK(r.layout.page_bytes == 2096ULL * 1024);
    CHECK(r.layout.layers_per_gpu == 40);
    CHECK(r.layout.group_size == 10);
    CHECK(r.layout.num_groups == 4);  // 10 attention layers, 30 GDN layers in 3 groups of 10
  }
  SECTION("Qwen3.6-27B, fp8 cache: 1568 tokens (vllm-new-003)") {
    // 2 x 4 x 256 x 1 B = 2048 B per token; state 10240 x 3 x 2 + 48 x 128 x 128 x 4 = 3,207,168 B:
    // 16 x ceil(3,207,168 / 32768) = 16 x 98 = 1568; the state page is padded to 1568 x 2048 = 3,211,264 B.
    const auto r = replay("Qwen--Qwen3.6-27B", "fp8", 1, 1, 1.0, 1024);
    CHECK(r.layout.mamba_page_bytes == 3'207'168);
    CHECK(r.layout.block_size == 1568);
    CHECK(r.layout.page_bytes == 3'211'264);
    CHECK(r.layout.num_groups == 4);
  }
  SECTION("Qwen3.8-27B, bf16 cache: 784 tokens, and 784 / 800 at TP 2 without / with MTP (vllm-new-007)") {
    CHECK(replay("Qwen--Qwen3.8-27B", "auto", 1, 1, 1.0, 1024).layout.block_size ==
          784);  // 16 x ceil(3,207,168 / 65536)
    // TP 2: 2 KV heads per GPU (2048 B per token); state 5120 x 3 x 2 + 24 x 128 x 128 x 4 = 1,603,584 B -> 784.
    CHECK(replay("Qwen--Qwen3.8-27B", "auto", 2, 1, 1.0, 1024).layout.block_size == 784);
    // MTP with 2 draft tokens: the conv state keeps 3 + 2 rows: 5120 x 5 x 2 + 1,572,864 = 1,624,064 B -> 16 x 50.
    const auto mtp = replay("Qwen--Qwen3.8-27B", "auto", 2, 1, 1.0, 1024, 2);
    CHECK(mtp.layout.mamba_page_bytes == 5120ULL * 5ULL * 2 + 24ULL * 128ULL * 128ULL * 4);
    CHECK(mtp.layout.block_size == 800);
    CHECK(mtp.layout.state_blocks_per_request == 3);  // 1 + one block per draft token
  }
}

TEST_CASE("blocks, tokens and concurrency of the Qwen 3.6 / 3.8 v0.20+ logs", "[vllm][kv][qwen3_5][calibration]") {
  // Per request: the full-attention group's ceil(len / block) blocks plus, per GDN group, the state blocks: 2 in the
  // v0.20-v0.24 logs (vLLM's "align" mamba cache mode with prefix caching), 1 in the v0.26.0 and v0.27.1 logs.
  SECTION("v0.20.0, Qwen3.6-35B-A3B NVFP4, fp8 cache: tokens = blocks / 4 groups x 2096") {
    // vllm-new-001: 3.07 GiB / 2,146,304 B / 10 layers = 153 blocks; 38 x 2096 = 79,648 tokens;
    // 153 / (ceil(65536 / 2096) = 32 + 3 x 2) = 4.03x.
    auto r = replay("Qwen--Qwen3.6-35B-A3B", "fp8_e4m3", 1, 2, 3.07, 65536);
    CHECK(r.capacity.num_gpu_blocks == 153);
    CHECK(r.capacity.kv_cache_tokens == 79'648);
    CHECK(r.capacity.max_concurrency == Approx(153.0 / 38).epsilon(1e-9));
    CHECK(std::round(r.capacity.max_concurrency * 100) / 100 == Approx(4.03));
    // vllm-new-002: 66.93 GiB, 262,144 tokens: 3348 blocks, 837 x 2096 = 1,754,352 tokens, 3348 / 132 = 25.36x.
    r = replay("Qwen--Qwen3.6-35B-A3B", "fp8_e4m3", 1, 2, 66.93, 262144);
    CHECK(r.capacity.kv_cache_tokens == 1'754'352);
    CHECK(std::round(r.capacity.max_concurrency * 100) / 100 == Approx(25.36));
    // vllm-new-017 / -018: 7.33 and 6.64 GiB -> 190,736 and 173,968 tokens, 2.77x and 2.52x.
    r = replay("Qwen--Qwen3.6-35B-A3B", "fp8_e4m3", 1, 2, 7.33, 262144);
    CHECK(r.capacity.kv_cache_tokens == 190'736);
    CHECK(std::round(r.capacity.max_concurrency * 100) / 100 == Approx(2.77));
    r = replay("Qwen--Qwen3.6-35B-A3B", "fp8_e4m3", 1, 2, 6.64, 262144);
    CHECK(r.capacity.kv_cache_tokens == 173'968);
    CHECK(std::round(r.capacity.max_concurrency * 100) / 100 == Approx(2.52));
  }
  SECTION("v0.23-v0.24: tokens logged as int(concurrency x max_model_len)") {
    // vllm-new-003, Qwen3.6-27B, fp8: 47.84 GiB / 3,211,264 / 16 = 999 blocks; 999 / (168 + 3 x 2) = 5.74x,
    // 262,144 x 999 / 174 = 1,505,068 tokens.
    auto r = replay("Qwen--Qwen3.6-27B", "fp8", 1, 2, 47.84, 262144);
    CHECK(r.capacity.num_gpu_blocks == 999);
    CHECK(concurrency_tokens(r.capacity, 262144) == 1'505'068);
    // vllm-new-024 / -025, Qwen3.6-35B-A3B, fp8, 131,072: 300 and 299 blocks / (63 + 6) -> 569,878 and 567,978.
    r = replay("Qwen--Qwen3.6-35B-A3B", "fp8", 1, 2, 6.01, 131072);
    CHECK(concurrency_tokens(r.capacity, 131072) == 569'878);
    r = replay("Qwen--Qwen3.6-35B-A3B", "fp8", 1, 2, 5.98, 131072);
    CHECK(concurrency_tokens(r.capacity, 131072) == 567'978);
    // vllm-new-031, Qwen3.6-35B-A3B at TP 2 (1 KV head per GPU): the logged 903,602 tokens at 3.45x come out with an
    // fp8 cache (block 2096, state 1,073,152 B): 455 blocks / (126 + 6) x 262,144.
    r = replay("Qwen--Qwen3.6-35B-A3B", "fp8", 2, 2, 4.55, 262144);
    CHECK(r.layout.block_size == 2096);
    CHECK(concurrency_tokens(r.capacity, 262144) == 903'602);
    // vllm-new-015 (ROCm build of main), Qwen3.8-27B bf16: 408 blocks / (335 + 6) -> 313,650 tokens.
    r = replay("Qwen--Qwen3.8-27B", "auto", 1, 2, 19.54, 262144);
    CHECK(r.layout.block_size == 784);
    CHECK(concurrency_tokens(r.capacity, 262144) == 313'650);
  }
  SECTION("v0.26.0 and v0.27.1: one state block per request") {
    // vllm-new-009 / -010, Qwen3.8-27B-FP8 (bf16 cache), 131,072: 184 blocks -- the "Mamba cache blocks (184)" its
    // max_num_seqs 256 exceeded -- / (168 + 3) -> 141,036 tokens, 1.08x; 203 blocks -> 155,600 tokens, 1.19x.
    auto r = replay("Qwen--Qwen3.8-27B", "auto", 1, 1, 8.82, 131072);
    CHECK(r.capacity.num_gpu_blocks == 184);
    CHECK(concurrency_tokens(r.capacity, 131072) == 141'036);
    r = replay("Qwen--Qwen3.8-27B", "auto", 1, 1, 9.75, 131072);
    CHECK(concurrency_tokens(r.capacity, 131072) == 155'600);
    // vllm-new-008: 131,072 tokens need (16 x 168 + 48) pages = 8.18 GiB, more than the 7.04 available; vLLM's
    // estimate: (7.04 GiB / page - 48 state pages) / 16 = 144 blocks = 112,896 tokens.
    r = replay("Qwen--Qwen3.8-27B", "auto", 1, 1, 7.04, 131072);
    CHECK(r.capacity.needed_bytes == (16ULL * 168 + 48) * 3'211'264);
    CHECK_FALSE(r.capacity.fits);
    CHECK(r.capacity.estimated_max_model_len == 112'896);
    // vllm-new-013 / -014 (v0.27.1): 1080 blocks / (42 + 3) = 24.00x at 32,768; 1050 / (1004 + 3) at 786,432.
    r = replay("Qwen--Qwen3.8-27B", "auto", 1, 1, 51.7, 32768);
    CHECK(concurrency_tokens(r.capacity, 32768) == 786'432);
    r = replay("Qwen--Qwen3.8-27B", "auto", 1, 1, 50.29, 786432);
    CHECK(concurrency_tokens(r.capacity, 786432) == 820'013);
  }
}
