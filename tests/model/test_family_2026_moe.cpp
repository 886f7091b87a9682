// The 2026 MoE families (issue 14): DeepSeek V4, GLM 5 (glm_moe_dsa), MiniMax M2.7 / M3 and LFM2.5. Every count is
// written out from the config's numbers and checked against the published figure: the safetensors totals printed by
// the model reports cited in tests/data/configs/SOURCES-2026-12.md (exact: they count every stored tensor, so the
// tests add what the checkpoint stores beside the served parameters: FP8 scale tensors, packed FP4, MTP layers) and
// the model cards. KV bytes per token and vLLM's pages follow vLLM's KV cache specs (vllm/v1/kv_cache_interface.py and
// the models' attention layers) and are checked against the real startup logs where one exists.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/kv_pages.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;

namespace {

using U = std::uint64_t;

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

std::int64_t gib(double g) { return static_cast<std::int64_t>(std::llround(g * static_cast<double>(kGiB))); }

double within(U computed, U published) {
  return std::fabs(static_cast<double>(computed) - static_cast<double>(published)) / static_cast<double>(published);
}

}  // namespace

TEST_CASE("DeepSeek-V4-Flash: 284.3 B parameters, the published 158,069,433,298 stored elements exactly",
          "[model][2026]") {
  const auto a = arch_of("deepseek-ai--DeepSeek-V4-Flash");
  CHECK(a.text_model_type == "deepseek_v4");
  CHECK(a.mla);
  CHECK(a.num_experts == 256);
  CHECK(a.moe_layers == 43);
  // config: hidden 4096, vocab 129280, 43 layers, 64 heads x head_dim 512, q_lora_rank 1024, o_lora_rank 1024,
  // o_groups 8, 256 experts of 2048, 1 shared, hc_mult 4, index 64 heads x 128, 3 hash layers, top-6.
  const U h = 4096, vocab = 129280, experts = 256, inter = 2048;
  const U hc_mix = (2ULL + 4) * 4, hc_dim = 4 * h;  // 24 mixes over 4 streams of 4096
  const U attn = 1024 * h + 1024 + (64ULL * 512) * 1024 + 512 * h + 512 + (8ULL * 1024) * (64 * 512 / 8) +
                 h * (8ULL * 1024) + 64;  // wq_a, q_norm, wq_b, wkv, kv_norm, wo_a, wo_b, attn_sink
  const U routed = 3 * experts * inter * h;
  const U ffn = experts * h + routed + 3 * inter * h;  // gate, w1/w3/w2 experts, shared expert
  const U layer = attn + ffn + 2 * h + 2 * (hc_mix * hc_dim + hc_mix + 3);
  const U ratio4_extra =
      (2ULL * 2 * 512 * h + 4ULL * 2 * 512 + 512)     // compressor: wkv, wgate (2 x 512 rows), ape, norm
      + (64ULL * 128) * 1024 + 64 * h                 // indexer wq_b, weights_proj
      + (2ULL * 2 * 128 * h + 4ULL * 2 * 128 + 128);  // the indexer's compressor
  const U ratio128_extra = 2ULL * 512 * h + 128ULL * 512 + 512;
  const U total = 2 * vocab * h                                 // embed, head (untied)
                  + 43 * layer + 3 * (vocab * 6) + 40ULL * 256  // tid2eid in 3 hash layers, gate bias in 40
                  + 21 * ratio4_extra + 20 * ratio128_extra     // compress_ratios: 21 x 4, 20 x 128, 2 x 0
                  + h + (4 * hc_dim + 4 + 1);                   // norm, hc_head
  CHECK(a.num_params() == total);
  CHECK(total == 284'334'567'511ULL);
  // Active: 6 of 256 routed experts per token.
  CHECK(a.active_params() == total - 43 * routed + 43ULL * 3 * 6 * inter * h);

  // MTP (not served): one more layer without compressor, e_proj and h_proj, enorm/hnorm/norm, its hc_head.
  const U mtp = layer + 256 + 2 * h * h + 3 * h + (4 * hc_dim + 4 + 1);
  CHECK(a.mtp_layers == 1);
  CHECK(a.mtp_params == mtp);
  // The report's total counts stored elements: FP4 experts as int8 pairs (half the weights) with an E8M0 scale per
  // 32, every FP8 matrix with a UE8M0 scale per 128x128 block; and it includes the MTP layer.
  const U block_scales = 8 * 32 + 256 * 8 + 4 * 32 + 64 * 32 + 32 * 64 + 3 * (16 * 32);  // wq_a..wo_b, shared
  const U expert_scales = 3 * experts * inter * h / 32;
  const U stored = (total - 43 * routed / 2) + 43 * (block_scales + expert_scales) + 21ULL * (64ULL * 8) +
                   (mtp - routed / 2) + block_scales + expert_scales + 2ULL * (32ULL * 32);
  CHECK(stored == 158'069'433'298ULL);
}

TEST_CASE("GLM-5.1: 743.9 B served + the MTP layer = the published 753,864,139,008 exactly", "[model][2026]") {
  const auto a = arch_of("zai-org--GLM-5.1");
  CHECK(a.text_model_type == "glm_moe_dsa");
  CHECK(a.mla);
  CHECK(a.moe_layers == 75);
  CHECK(a.count_indexer_layers() == 78);
  // hidden 6144, vocab 154880, 78 layers, 64 heads, q_lora 2048, kv_lora 512, nope 192, rope 64, v 256,
  // indexer 32 heads x 128, 256 experts of 2048 + 1 shared, 3 dense layers of 12288.
  const U h = 6144, vocab = 154880;
  const U attn = 2048 * h + 2048 + (64ULL * (192 + 64)) * 2048 + (512 + 64) * h + 512 + (64ULL * (192 + 256)) * 512 +
                 h * (64ULL * 256);  // q_a, q_a_norm, q_b, kv_a, kv_a_norm, kv_b, o
  const U indexer = (32ULL * 128) * 2048 + 128 * h + 2ULL * 128 + 32 * h;  // wq_b, wk, k_norm (w + b), weights_proj
  const U dense = 3ULL * 12288 * h;
  const U routed = 3ULL * 256 * 2048 * h;
  const U moe = 256 * h + 256 + routed + 3ULL * 2048 * h;  // gate, e_score_correction_bias, experts, shared
  const U total = 2 * vocab * h + 78 * (attn + indexer + 2 * h) + 3 * dense + 75 * moe + h;
  CHECK(a.num_params() == total);
  CHECK(a.active_params() == total - 75 * routed + 75ULL * 3 * 8 * 2048 * h);
  const U mtp = attn + indexer + 2 * h + moe + h * (2 * h) + 3 * h;  // + eh_proj, enorm, hnorm, shared_head.norm
  CHECK(a.mtp_params == mtp);
  CHECK(total + mtp == 753'864'139'008ULL);
}

TEST_CASE("MiniMax-M2.7: 228.7 B; with its FP8 scale tensors the published 228,703,644,928 exactly", "[model][2026]") {
  const auto a = arch_of("MiniMaxAI--MiniMax-M2.7");
  CHECK(a.num_experts == 256);
  CHECK(a.moe_layers == 62);
  // hidden 3072, vocab 200064, 62 layers, 48 heads, 8 KV heads, head_dim 128, 256 experts of 1536, q/k norms over
  // the whole projection ("per_layer"), routing bias.
  const U h = 3072, vocab = 200064;
  const U attn = 2ULL * (48ULL * 128) * h + 2ULL * (8ULL * 128) * h + 48ULL * 128 + 8ULL * 128;
  const U routed = 3ULL * 256 * 1536 * h;
  const U layer = attn + 256 * h + 256 + routed + 2 * h;
  const U total = 2 * vocab * h + 62 * layer + h;
  CHECK(a.num_params() == total);
  CHECK(total == 228'689'764'864ULL);
  CHECK(a.active_params() == total - 62 * routed + 62ULL * 3 * 8 * 1536 * h);
  CHECK(a.mtp_params == 0);  // use_mtp, but the checkpoint holds no MTP tensors
  // float32 weight_scale_inv per 128x128 block: q (48 x 24), k, v (8 x 24 each), o (24 x 48); w1, w3 (12 x 24), w2.
  const U scales = 62 * (48 * 24 + 2 * 8 * 24 + 24 * 48) + 62 * 256 * 3 * (12 * 24);
  CHECK(total + scales == 228'703'644'928ULL);
}

TEST_CASE("MiniMax-M3: the published 427,040,140,160 exactly, vision tower included", "[model][2026]") {
  const auto a = arch_of("MiniMaxAI--MiniMax-M3");
  CHECK(a.text_model_type == "minimax_m3");
  CHECK(a.multimodal);
  CHECK(a.moe_layers == 57);
  CHECK(a.count_indexer_layers() == 57);
  // text: hidden 6144, vocab 200064, 60 layers, 64 heads, 4 KV heads, head_dim 128 (q/k norms per head), 3 dense
  // layers of 12288, 57 MoE layers of 128 experts x 3072 + a 3072 shared expert, index 4 heads x 128.
  const U h = 6144, vocab = 200064;
  const U attn = 2ULL * (64ULL * 128) * h + 2ULL * (4ULL * 128) * h + 2ULL * 128 + 2 * h;
  const U index = (4ULL * 128) * h + 128 * h + 2ULL * 128;
  const U routed = 3ULL * 128 * 3072 * h;
  const U moe = 128 * h + 128 + routed + 3ULL * 3072 * h;
  const U text = 2 * vocab * h + 60 * attn + 57 * index + 3 * (3ULL * 12288 * h) + 57 * moe + h;
  // vision: patch 1280 x (3 x 2 x 14 x 14), pre-LayerNorm, 32 CLIP layers (1280, MLP 5120, biases), a projector
  // 1280 -> 6144 -> 6144 and a patch merger 4 x 6144 -> 6144 -> 6144, both with biases.
  const U vl = 4 * 1280 * 1280 + 4 * 1280 + 2 * 5120 * 1280 + 5120 + 1280 + 4 * 1280;
  const U vision = 1280 * (3 * 2 * 14 * 14) + 2 * 1280 + 32 * vl + (6144 * 1280 + 6144) + (6144 * 6144 + 6144) +
                   (6144 * 4 * 6144 + 6144) + (6144 * 6144 + 6144);
  CHECK(a.vision_params == vision);
  CHECK(a.num_params() == text + vision);
  CHECK(text + vision == 427'040'140'160ULL);
  CHECK(a.active_params() == text + vision - 57 * routed + 57ULL * 3 * 4 * 3072 * h);
}

TEST_CASE("LFM2.5-1.2B: 1,170,340,608 parameters, the LFM2-1.2B model card's count", "[model][2026]") {
  const auto a = arch_of("LiquidAI--LFM2.5-1.2B-Instruct");
  CHECK(a.count_layers(LayerKind::ShortConv) == 10);
  CHECK(a.count_layers(LayerKind::FullAttention) == 6);
  CHECK(a.tie_word_embeddings);
  // ff: 2/3 x 12288 = 8192, already a multiple of 256. hidden 2048, 32 heads, 8 KV heads x 64, conv_L_cache 3.
  CHECK(a.intermediate_size == 8192);
  const U h = 2048;
  const U ffn = 3ULL * 8192 * h;
  const U attn = 2 * h * h + 2ULL * (8ULL * 64) * h + 2ULL * 64;
  const U conv = 3 * h * h + h * 3 + h * h;  // in_proj (B, C, x), depthwise conv of 3 taps, out_proj
  const U total = 65536 * h + 16 * (2 * h + ffn) + 6 * attn + 10 * conv + h;
  CHECK(a.num_params() == total);
  // LiquidAI's LFM2-1.2B card (the same architecture as LFM2.5-1.2B): 1,170,340,608; LFM2.5's: "1.17B".
  CHECK(total == 1'170'340'608ULL);
}

TEST_CASE("2026 families: within 1% of the published totals", "[model][2026]") {
  CHECK(within(arch_of("MiniMaxAI--MiniMax-M3").num_params(), 427'040'140'160ULL) < 0.01);
  CHECK(within(arch_of("MiniMaxAI--MiniMax-M2.7").num_params(), 228'703'644'928ULL) < 0.01);
  const auto glm = arch_of("zai-org--GLM-5.1");
  CHECK(within(glm.num_params() + glm.mtp_params, 753'864'139'008ULL) < 0.01);
}

TEST_CASE("KV bytes per token of the 2026 families", "[model][kv][2026]") {
  // DeepSeek V4: per 128 tokens, 21 ratio-4 layers store 32 entries of 584 B and 32 indexer keys of 128 + 4 B,
  // 20 ratio-128 layers one entry: (21 x 32 x (584 + 132) + 20 x 584) / 128 = 3850.25, rounded up.
  const auto v4 = kv_cache_spec(arch_of("deepseek-ai--DeepSeek-V4-Flash"), "auto", DType::BFloat16);
  CHECK(v4.bytes_per_token == (21 * 32 * (584 + 132) + 20 * 584 + 127) / 128);
  CHECK(v4.bytes_per_token == 3851);
  // GLM-5.1: 78 MLA layers x 576 x 2 B + 78 DSA index keys x 132 B; FP8: fp8_ds_mla 656 B per layer.
  const auto glm = arch_of("zai-org--GLM-5.1");
  CHECK(kv_cache_spec(glm, "auto", DType::BFloat16).bytes_per_token == 78 * 576 * 2 + 78 * 132);
  CHECK(kv_cache_spec(glm, "fp8", DType::BFloat16).bytes_per_token == 78 * 656 + 78 * 132);
  // MiniMax-M2.7: 2 x 62 layers x 8 KV heads x 128 x 2 B.
  CHECK(kv_cache_spec(arch_of("MiniMaxAI--MiniMax-M2.7"), "auto", DType::BFloat16).bytes_per_token ==
        2ULL * 62 * 8 * 128 * 2);
  // MiniMax-M3: 2 x 60 x 4 x 128 x 2 B + 57 index keys of 128 x 2 B.
  CHECK(kv_cache_spec(arch_of("MiniMaxAI--MiniMax-M3"), "auto", DType::BFloat16).bytes_per_token ==
        2 * 60 * 4 * 128 * 2 + 57 * 128 * 2);
  // LFM2.5: 6 attention layers hold KV; 10 conv layers a (3 - 1) x 2048 state per request.
  const auto lfm = kv_cache_spec(arch_of("LiquidAI--LFM2.5-1.2B-Instruct"), "auto", DType::BFloat16);
  CHECK(lfm.bytes_per_token == 2ULL * 6 * 8 * 64 * 2);
  CHECK(lfm.state_layers == 10);
  CHECK(lfm.state_bytes_per_request == 10ULL * 2 * 2048 * 2);
}

TEST_CASE("vLLM pages of MiniMax-M3 reproduce vllm-new-012's 237,312 tokens and 28.97x", "[vllm][kv][2026]") {
  // TP 2, bf16 cache, blocks of 128 (vLLM's M3 sparse attention requires them): a KV page of 128 x 2 x 2 heads x
  // 128 x 2 B in 60 layers and an index-key page of 128 x 128 x 2 B in 57; one block of every layer per 128 tokens.
  const auto a = arch_of("MiniMaxAI--MiniMax-M3");
  const auto kv = kv_cache_spec(a, "auto", DType::BFloat16);
  VllmKvSettings s;
  s.tensor_parallel_size = 2;
  s.max_num_batched_tokens = 32768;
  const auto l = vllm_kv_layout(a, kv, s);
  CHECK(l.block_size == 128);
  const U block_bytes = 60 * (128 * 2 * 2 * 128 * 2) + 57 * (128 * 128 * 2);
  const auto c = vllm_kv_capacity(l, gib(16.81), 8192, 32768);
  CHECK(c.num_gpu_blocks == static_cast<std::int64_t>(static_cast<U>(gib(16.81)) / block_bytes));
  CHECK(c.kv_cache_tokens == 237'312);                       // "GPU KV cache size: 237,312 tokens"
  CHECK(c.max_concurrency == Approx(28.97).epsilon(0.001));  // "Maximum concurrency ... 28.97x"
}

TEST_CASE("vLLM pages of GLM 5 and DeepSeek V4", "[vllm][kv][2026]") {
  // GLM-5.1, FP8 cache, TP 8: MLA blocks of 64 tokens, fp8_ds_mla 656 B per token per layer, and the DSA index key
  // cache of 132 B per token in each of the 78 layers.
  const auto glm = arch_of("zai-org--GLM-5.1");
  VllmKvSettings s;
  s.tensor_parallel_size = 8;
  const auto l = vllm_kv_layout(glm, kv_cache_spec(glm, "fp8", DType::BFloat16), s);
  CHECK(l.block_size == 64);
  const auto c = vllm_kv_capacity(l, gib(20), 65536, 8192);
  CHECK(c.num_gpu_blocks == static_cast<std::int64_t>(static_cast<U>(gib(20)) / (78 * 64 * 656 + 78 * 64 * 132)));

  // DeepSeek-V4-Flash, TP 2: blocks of 256 tokens; per block a ratio-4 layer stores 64 entries of 584 B (37,376 B,
  // padded to a multiple of 576: 37,440), its indexer 64 keys of 132 B (8,448 -> 8,640), a ratio-128 layer 2 entries
  // (1,168 -> 1,728).
  const auto v4 = arch_of("deepseek-ai--DeepSeek-V4-Flash");
  s.tensor_parallel_size = 2;
  const auto l4 = vllm_kv_layout(v4, kv_cache_spec(v4, "fp8", DType::BFloat16), s);
  CHECK(l4.block_size == 256);
  const U per_block = 21 * 37'440 + 21 * 8'640 + 20 * 1'728;
  const auto c4 = vllm_kv_capacity(l4, gib(10.29), 1'048'576, 4096);
  CHECK(c4.num_gpu_blocks == static_cast<std::int64_t>(static_cast<U>(gib(10.29)) / per_block));
  CHECK(c4.needed_bytes == per_block * (1'048'576 / 256));
}

TEST_CASE("vLLM pages of LFM2.5: conv state pages and the hybrid block size (vllm-new-019)", "[vllm][kv][2026]") {
  // fp16 model, FP8 cache: an attention token takes 2 x 8 x 64 x 1 B = 1,024 B per layer; a conv layer's state is
  // (3 - 1) x 2048 x 2 B = 8,192 B, so a 16-token block (16,384 B) already holds it: vLLM keeps blocks of 16 and pads
  // the state page by 100%, as the log says. 6 attention + 10 conv layers: groups of 6, three groups.
  const auto a = arch_of("LiquidAI--LFM2.5-1.2B-Instruct");
  const auto kv = kv_cache_spec(a, "fp8", DType::Float16);
  VllmKvSettings s;
  s.max_num_batched_tokens = 1024;
  const auto l = vllm_kv_layout(a, kv, s);
  CHECK(l.mamba_page_bytes == 2ULL * 2048 * 2);
  CHECK(l.block_size == 16);
  CHECK(l.page_bytes == 16ULL * 1024);
  CHECK(l.group_size == 6);
  CHECK(l.num_groups == 3);
  // 13.33 GiB logged: floor(13.33 GiB / 16,384 / 6) blocks; a 32,768-token request takes 2,048 attention blocks and
  // one block in each of the two conv groups: the logged concurrency is 70.93x.
  const auto c = vllm_kv_capacity(l, gib(13.33), 32768, 1024);
  CHECK(c.num_gpu_blocks == static_cast<std::int64_t>(static_cast<U>(gib(13.33)) / 16384 / 6));
  CHECK(c.max_concurrency == Approx(70.93).epsilon(0.002));
}
