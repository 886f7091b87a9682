// Per-layer KV shapes (issue 14): KV bytes per token summed over the layers that hold their own cache, and vLLM's
// paged cache for layers of different page sizes (Gemma 4's sliding and global layers): one KV cache group per spec,
// the smaller pages' block size raised until every page is equal (vLLM's unify_kv_cache_spec_page_size in
// vllm/v1/core/kv_cache_utils.py), KV-shared layers given no spec at all (vLLM's kv_sharing_target_layer_name).
// The layouts are checked against three real vLLM logs at the KV budget each logged
// (tests/data/vllm_calibration_v021plus.jsonl).
#include <catch2/catch.hpp>

#include <cmath>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/kv_pages.hpp"
#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

std::int64_t gib(double g) { return static_cast<std::int64_t>(std::llround(g * static_cast<double>(kGiB))); }

const VllmKvGroup& group_of(const VllmKvLayout& l, LayerKind k) {
  for (const auto& g : l.kinds)
    if (g.kind == k) return g;
  FAIL("no group of that kind");
  return l.kinds.front();
}

}  // namespace

TEST_CASE("KV bytes per token: a sum over the layers holding their own cache", "[kv][gemma4]") {
  SECTION("E4B: 20 sliding layers of 2 x 256 and 4 global of 2 x 512 hold KV; the 18 shared layers none") {
    const auto kv = kv_cache_spec(arch_of("google--gemma-4-E4B-it"), "auto", DType::BFloat16);
    CHECK(kv.layers == 24);
    CHECK(kv.shared_layers == 18);
    CHECK(kv.per_layer_shapes);
    CHECK(kv.bytes_per_token == (20 * 2 * (256 + 256) + 4 * 2 * (512 + 512)) * 2);  // 57,344 B
    CHECK_THAT(kv.formula, Catch::Contains("18 KV-shared layers") && Catch::EndsWith("= 57,344 B"));
  }
  SECTION("E2B: one KV head; 12 sliding and 3 global layers of the first 15") {
    const auto kv = kv_cache_spec(arch_of("google--gemma-4-E2B"), "auto", DType::BFloat16);
    CHECK(kv.bytes_per_token == (12 * 1 * 512 + 3 * 1 * 1024) * 2);  // 18,432 B
  }
  SECTION("26B-A4B: 25 sliding layers of 8 x 256, 5 global of 2 x 512 (K = V still caches both)") {
    const auto kv = kv_cache_spec(arch_of("google--gemma-4-26B-A4B-it"), "auto", DType::BFloat16);
    CHECK(kv.shared_layers == 0);
    CHECK(kv.bytes_per_token == (25 * 8 * 512 + 5 * 2 * 1024) * 2);  // 225,280 B
    CHECK(kv_cache_spec(arch_of("google--gemma-4-26B-A4B-it"), "fp8", DType::BFloat16).bytes_per_token ==
          25 * 8 * 512 + 5 * 2 * 1024);
  }
  SECTION("31B: 50 sliding layers of 16 x 256, 10 global of 4 x 512") {
    const auto kv = kv_cache_spec(arch_of("google--gemma-4-31B-it"), "auto", DType::BFloat16);
    CHECK(kv.bytes_per_token == (50 * 16 * 512 + 10 * 4 * 1024) * 2);  // 901,120 B
  }
  SECTION("every other family keeps the global shape and its formula") {
    const auto llama = arch_of("meta-llama--Meta-Llama-3.1-8B");
    CHECK(llama.layer_attention.empty());
    CHECK(llama.attention_at(3).kv_heads == 8);
    CHECK(llama.attention_at(3).head_dim == 128);
    const auto kv = kv_cache_spec(llama, "auto", DType::BFloat16);
    CHECK_FALSE(kv.per_layer_shapes);
    CHECK(kv.bytes_per_token == 2 * 32 * 8 * 128 * 2);
    CHECK(kv.formula == "2 x 32 layers x 8 kv_heads x 128 head_dim x 2 B (bfloat16) = 131,072 B");
  }
}

TEST_CASE("vLLM pages: layers of different page sizes in their own groups, pages unified by block size",
          "[vllm][kv][gemma4]") {
  const auto e4b = arch_of("google--gemma-4-E4B-it");
  const auto l = vllm_kv_layout(e4b, kv_cache_spec(e4b, "auto", DType::BFloat16), {});
  // Global layers: 16 tokens x 2 heads x (512 + 512) x 2 B = 65,536 B; sliding: 2,048 B per token, so vLLM gives them
  // blocks of 32 tokens to reach the same 65,536 B page.
  CHECK(l.layers_per_gpu == 24);  // the shared layers have no KV cache spec
  CHECK(l.page_bytes == 65536);
  CHECK(l.block_size == 16);  // the smallest block, as vLLM logs tokens with
  CHECK_FALSE(l.uniform);
  const auto& full = group_of(l, LayerKind::FullAttention);
  const auto& sliding = group_of(l, LayerKind::SlidingAttention);
  CHECK(full.layers == 4);
  CHECK(full.token_bytes == 2 * 1024 * 2);
  CHECK(full.block_size == 16);
  CHECK(sliding.layers == 20);
  CHECK(sliding.token_bytes == 2 * 512 * 2);
  CHECK(sliding.block_size == 32);
  CHECK(sliding.page_bytes == 65536);
  // group_size = the fewest layers of a kind (4): 1 global group + 20 / 4 = 5 sliding groups.
  CHECK(l.group_size == 4);
  CHECK(l.num_groups == 6);
  // One request of 32,768 tokens, max_num_batched_tokens 2048: global ceil(32768 / 16) = 2048 blocks per layer,
  // sliding ceil((512 - 1 + 2048) / 32) + 1 = 81 blocks per layer.
  CHECK(vllm_request_bytes(l, 32768, 2048) == (4 * 2048 + 20 * 81) * 65536ULL);

  SECTION("tensor parallelism splits each layer's own KV heads (26B-A4B: 8 sliding, 2 global heads)") {
    const auto moe = arch_of("google--gemma-4-26B-A4B-it");
    const auto kv = kv_cache_spec(moe, "auto", DType::BFloat16);
    const auto t4 = vllm_kv_layout(moe, kv, {.tensor_parallel_size = 4});
    // Sliding: 8 / 4 = 2 heads x 512 x 2 B = 2,048 B per token; global: max(1, 2 / 4) = 1 head x 1024 x 2 B = 2,048.
    CHECK(group_of(t4, LayerKind::SlidingAttention).token_bytes == 2048);
    CHECK(group_of(t4, LayerKind::FullAttention).token_bytes == 2048);
    CHECK(group_of(t4, LayerKind::SlidingAttention).block_size == 16);
    CHECK(t4.page_bytes == 16 * 2048);
    bool replicated_note = false;
    for (const auto& n : t4.notes) replicated_note = replicated_note || n.find("of some layers") != std::string::npos;
    CHECK(replicated_note);
  }
  SECTION("every other family: one spec per kind, as before") {
    const auto gemma3 = arch_of("google--gemma-3-27b-it");
    const auto g3 = vllm_kv_layout(gemma3, kv_cache_spec(gemma3, "auto", DType::BFloat16), {});
    for (const auto& g : g3.kinds) {
      CHECK(g.block_size == 16);
      CHECK(g.page_bytes == g3.page_bytes);
    }
  }
}

TEST_CASE("vLLM logs of Gemma 4: blocks and concurrency at the logged KV budget", "[vllm][kv][gemma4]") {
  SECTION("vllm-new-004: gemma-4-E4B-it, 4.1 GiB, 32,768 tokens per request: 6.85x, 224,353 tokens") {
    const auto a = arch_of("google--gemma-4-E4B-it");
    const auto l = vllm_kv_layout(a, kv_cache_spec(a, "auto", DType::BFloat16), {});
    const auto c = vllm_kv_capacity(l, gib(4.1), 32768, 2048);
    // 4.1 GiB / 65,536 B / 4 layers per group = 16,793 blocks; a request takes 2048 (global) + 5 x 81 (sliding).
    CHECK(c.num_gpu_blocks == 16793);
    CHECK(c.max_concurrency == Approx(16793.0 / (2048 + 5 * 81)));
    CHECK(c.max_concurrency == Approx(6.85).margin(0.005));
    // v0.22.1 logs "GPU KV cache size" as concurrency x max_model_len: 224,353 (within the rounding of 4.1 GiB).
    CHECK(c.max_concurrency * 32768 == Approx(224353).epsilon(0.001));
  }
  SECTION("vllm-new-029: gemma-4-E2B-it, 155.04 GiB, 32,768 tokens: 275.45x (its KV layout; ROCm aside)") {
    const auto a = arch_of("google--gemma-4-E2B");
    const auto l = vllm_kv_layout(a, kv_cache_spec(a, "auto", DType::BFloat16), {});
    // 1 KV head: global 16 x 1 x 1024 x 2 = 32,768 B pages, sliding 1,024 B per token in blocks of 32; 3 global and
    // 12 sliding layers: 1 + 4 groups of 3. The log's batch is a whole request (mnbt >= 32,768): a sliding layer keeps
    // ceil(32768 / 32) + 1 = 1025 blocks.
    CHECK(l.page_bytes == 32768);
    CHECK(l.num_groups == 5);
    const auto c = vllm_kv_capacity(l, gib(155.04), 32768, 32768);
    CHECK(c.num_gpu_blocks == gib(155.04) / (32768 * 3));
    CHECK(c.max_concurrency == Approx(275.45).margin(0.01));
    CHECK(c.max_concurrency * 32768 == Approx(9026017).epsilon(0.0001));
  }
  SECTION("vllm-new-020: gemma-4-26B-A4B-it NVFP4 (FP8 KV cache), 7.15 GiB, 256,000 tokens: 1.74x, 62,496 tokens") {
    const auto a = arch_of("google--gemma-4-26B-A4B-it");
    const auto l = vllm_kv_layout(a, kv_cache_spec(a, "fp8", DType::BFloat16), {});
    // FP8: sliding 8 x 512 x 1 = 4,096 B per token (page 65,536), global 2 x 1024 x 1 = 2,048 (blocks of 32).
    CHECK(l.page_bytes == 65536);
    CHECK(group_of(l, LayerKind::FullAttention).block_size == 32);
    CHECK(l.num_groups == 6);  // 1 global group of 5, 5 sliding groups of 5
    const auto c = vllm_kv_capacity(l, gib(7.15), 256000, 16384);
    // A request: ceil(256000 / 32) = 8000 global blocks + 5 x (ceil((1024 - 1 + 16384) / 16) + 1) = 5 x 1089.
    CHECK(c.max_concurrency == Approx(static_cast<double>(c.num_gpu_blocks) / (8000 + 5 * 1089)));
    CHECK(c.max_concurrency == Approx(1.74).margin(0.005));
    CHECK(static_cast<double>(c.kv_cache_tokens) == Approx(62496).epsilon(0.001));  // blocks // 6 groups x 16
  }
}

TEST_CASE("vllm-new-004: the weights vLLM loaded for gemma-4-E4B-it", "[vllm][gemma4][weights]") {
  // "Model loading took 15.18 GiB": the checkpoint (7,996,156,490 bf16 parameters = 14.89 GiB, towers included) is
  // 1.9% under it; the rest is what vLLM builds at load (rotary caches of 131,072 positions for head sizes 256 and
  // 512, ~0.19 GiB), not modelled.
  const auto a = arch_of("google--gemma-4-E4B-it");
  const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
  const double per_gpu = to_gib(vllm_weights_per_gpu(a, w, 1, 1, 1, false));
  CHECK(per_gpu == Approx(2.0 * 7'996'156'490.0 / static_cast<double>(kGiB)));
  CHECK(per_gpu == Approx(15.18).epsilon(0.025));
  WeightSettings text_only;
  text_only.language_model_only = true;
  const auto t = estimate_weights(a, CheckpointSizes{}, text_only);
  CHECK(vllm_weights_per_gpu(a, t, 1, 1, 1, false) == 2 * (7'996'156'490ULL - a.vision_params));
}
