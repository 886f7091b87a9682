// DeepSeek-V3 / R1's multi-token-prediction layer (num_nextn_predict_layers: 1, stored as model.layers.61 in the
// checkpoint's last shard, model-00163-of-000163): read into ModelArch::mtp_layers / mtp_params, so that vLLM's MTP
// speculation (--speculative-config '{"method": "mtp", ...}') counts its drafter. The published split (DeepSeek-V3's
// README_WEIGHTS.md): 671 B main-model parameters + the MTP module, 685 B on the Hub with the embedding and output
// head the module repeats (shared with the main model when vLLM loads it, so not in mtp_params).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/speculative.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;

namespace {

using U = std::uint64_t;

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

VllmSpeculativeSettings mtp_tokens(std::uint64_t n) {
  VllmSpeculativeSettings s;
  parse_speculative_config(R"({"method": "mtp", "num_speculative_tokens": )" + std::to_string(n) + "}", s);
  return s;
}

}  // namespace

TEST_CASE("DeepSeek-V3 and R1 carry one MTP layer: a decoder layer with eh_proj and three norms", "[model][mtp]") {
  // The config's numbers: hidden 7168, MLA (q_lora 1536, kv_lora 512, 128 heads of 128 + 64 rope, v 128), 256
  // routed experts of 2048 and one shared, layer 61 past first_k_dense_replace 3 (so routed).
  const U h = 7168, heads = 128, q_rank = 1536, kv_rank = 512, nope = 128, rope = 64, v = 128, e = 256, inter = 2048;
  const U attention = q_rank * h + q_rank + heads * (nope + rope) * q_rank + (kv_rank + rope) * h + kv_rank +
                      heads * (nope + v) * kv_rank + h * heads * v;
  const U moe = e * h + e * 3 * inter * h + 3 * inter * h;      // gate, routed experts, the shared expert
  const U mtp = attention + moe + 2 * h + h * (2 * h) + 3 * h;  // + eh_proj, enorm, hnorm, shared_head.norm
  for (const char* dir : {"deepseek-ai--DeepSeek-V3", "deepseek-ai--DeepSeek-R1"}) {
    INFO(dir);
    const auto a = arch_of(dir);
    CHECK(a.mtp_layers == 1);
    CHECK(a.mtp_params == mtp);
    // README_WEIGHTS.md: "11.5B unique parameters, excluding 0.9B shared Embedding and 0.9B shared output Head".
    CHECK(a.mtp_params > 11'500'000'000ULL);
    CHECK(a.mtp_params < 11'700'000'000ULL);
    // The served model is unchanged (tests/data/param_counts.jsonl: 671,026,404,352), and with the module and the
    // embedding and head it repeats, the Hub's 685 B (which also counts the FP8 blocks' float32 scales).
    CHECK(a.num_params() == 671'026'404'352ULL);
    const U embed = a.vocab_size * h;
    const double hub = static_cast<double>(a.num_params() + a.mtp_params + 2 * embed);
    CHECK(std::fabs(hub - 685e9) / 685e9 < 0.005);
  }
}

TEST_CASE("Kimi-K2 (a deepseek_v3 layout) ships no MTP layer: num_nextn_predict_layers 0", "[model][mtp]") {
  const auto a = arch_of("moonshotai--Kimi-K2-Instruct");
  CHECK(a.mla);
  CHECK(a.mtp_layers == 0);
  CHECK(a.mtp_params == 0);
}

TEST_CASE("vLLM's MTP speculation on DeepSeek-V3 counts the drafter", "[model][mtp][vllm][speculative]") {
  const auto a = arch_of("deepseek-ai--DeepSeek-V3");
  const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
  const auto p = plan_vllm_speculative(a, w, mtp_tokens(1), 8, 1, 1, false);
  CHECK(p.warnings.empty());  // before: "no multi-token-prediction layers are read from this model's config"
  CHECK(p.draft_layers == 1);
  CHECK(p.uniform_decode_query_len == 2);
  // The last decoder layer (FP8 128x128 blocks, about 1 B per parameter) scaled to the MTP layer's parameters, split
  // over TP 8: 11.61 B / 8 x ~1 B = about 1.35 GiB per GPU.
  CHECK(to_gib(p.draft_weight_bytes) > 1.3);
  CHECK(to_gib(p.draft_weight_bytes) < 1.45);
  CHECK_THAT(p.draft_weights_formula, Catch::Contains("MTP drafter: 1 layer(s)"));
  // Without a count, vLLM takes the checkpoint's MTP layers: one token.
  VllmSpeculativeSettings bare;
  parse_speculative_config(R"({"method": "deepseek_mtp"})", bare);
  CHECK(plan_vllm_speculative(a, w, bare, 8, 1, 1, false).num_speculative_tokens == 1);
  // A checkpoint total (the Hub's safetensors) already holds the layer: nothing is added.
  auto from_index = w;
  from_index.source = WeightSource::SafetensorsIndex;
  const auto q = plan_vllm_speculative(a, from_index, mtp_tokens(1), 8, 1, 1, false);
  CHECK(q.draft_layers == 1);
  CHECK(q.draft_weight_bytes == 0);
}
