// Qwen 3.5 / 3.6 / 3.8 hybrids (qwen3_5, qwen3_5_moe) and Qwen3-Next, read from their configs (issue 14): Gated
// DeltaNet and gated full-attention layers, MoE, the vision tower, the MTP layers counted apart. Every expected count
// is written out from the config's numbers, and the totals are checked against the published safetensors counts
// (data/published_params.json: Hub safetensors.total, which includes the vision tower and the MTP layer).
#include <catch2/catch.hpp>

#include <cmath>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"
#include "vramcalc/model/quantization.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

const WeightGroup* group(const ModelArch& a, const std::string& name) {
  for (const auto& g : a.weights)
    if (g.name == name) return &g;
  return nullptr;
}

bool within(double value, double target, double share) { return std::fabs(value - target) <= share * target; }

// The vision tower of Qwen 3.5 (Qwen3-VL's), hidden 1152, intermediate 4304, 27 blocks, 16 x 16 x 2 patches of 3
// channels, 2304 learned positions, a 2 x 2 merger into the text width `out`.
constexpr std::uint64_t qwen35_vision(std::uint64_t out) {
  const std::uint64_t h = 1152, inter = 4304, merged = 1152ULL * 2ULL * 2;
  const std::uint64_t patch_embed = h * (3ULL * 2ULL * 16ULL * 16) + h;  // Conv3d with bias
  const std::uint64_t positions = 2304 * h;
  const std::uint64_t block = 2ULL * 2 * h           // norm1, norm2 (LayerNorm weight + bias)
                              + (3 * h * h + 3 * h)  // attn.qkv
                              + (h * h + h)          // attn.proj
                              + (inter * h + inter)  // mlp.linear_fc1
                              + (h * inter + h);     // mlp.linear_fc2
  const std::uint64_t merger = 2 * h + (merged * merged + merged) + (out * merged + out);
  return patch_embed + positions + 27 * block + merger;
}

}  // namespace

TEST_CASE("Qwen3.6-35B-A3B: 30 Gated DeltaNet + 10 gated attention layers, 256 experts, vision, one MTP layer",
          "[model][family][qwen3_5]") {
  const auto a = arch_of("Qwen--Qwen3.6-35B-A3B");
  CHECK(a.model_type == "qwen3_5_moe");
  CHECK(a.text_model_type == "qwen3_5_moe_text");
  CHECK(a.known_family);
  REQUIRE(a.layer_kinds.size() == 40);
  CHECK(a.layer_kinds[0] == LayerKind::LinearAttention);
  CHECK(a.layer_kinds[3] == LayerKind::FullAttention);
  CHECK(a.count_layers(LayerKind::LinearAttention) == 30);
  CHECK(a.count_layers(LayerKind::Mamba) == 0);
  CHECK(a.kv_layers() == 10);
  CHECK(a.state_layers() == 30);
  CHECK(a.linear_num_key_heads == 16);
  CHECK(a.linear_num_value_heads == 32);
  CHECK(a.linear_key_head_dim == 128);
  CHECK(a.linear_value_head_dim == 128);
  CHECK(a.linear_conv_kernel == 4);
  CHECK(a.mamba_ssm_cache_dtype == DType::Float32);  // "mamba_ssm_dtype": "float32"
  CHECK(a.num_experts == 256);
  CHECK(a.experts_per_token == 8);
  CHECK(a.moe_layers == 40);

  // Per Gated DeltaNet layer (hidden 2048; keys 16 x 128 = 2048, values 32 x 128 = 4096, conv channels 8192).
  const std::uint64_t gdn = 8192ULL * 2048         // in_proj_qkv
                            + 4096ULL * 2048       // in_proj_z
                            + 2ULL * 32ULL * 2048  // in_proj_b, in_proj_a
                            + 8192ULL * 4          // conv1d, no bias
                            + 2ULL * 32            // A_log, dt_bias
                            + 128                  // gated RMSNorm
                            + 2048ULL * 4096;      // out_proj
  CHECK(gdn == 33'718'464);
  // Per gated attention layer: q_proj 2 x 16 heads x 256 (query + gate), k/v 2 x 256, o_proj, q/k norms.
  const std::uint64_t attn =
      2ULL * 16ULL * 256ULL * 2048 + 2ULL * (2ULL * 256ULL * 2048) + 2048ULL * 16ULL * 256 + 2ULL * 256;
  CHECK(attn == 27'263'488);
  // Per MoE block: router, 256 experts x (gate, up, down) of 512, shared expert of 512 and its 1-logit gate.
  const std::uint64_t moe = 256ULL * 2048 + 256ULL * 3ULL * 512ULL * 2048 + 3ULL * 512ULL * 2048 + 2048;
  const std::uint64_t moe_active = 256ULL * 2048 + 8ULL * 3ULL * 512ULL * 2048 + 3ULL * 512ULL * 2048 + 2048;
  const std::uint64_t embed = 248320ULL * 2048;  // embed_tokens; lm_head the same (untied)
  const std::uint64_t language = 2 * embed + 2048 + 30 * gdn + 10 * attn + 40ULL * (moe + 2ULL * 2048);
  CHECK(language == 34'660'610'688ULL);
  CHECK(a.vision_params == qwen35_vision(2048));
  CHECK(a.vision_params == 446'571'248ULL);
  CHECK(a.num_params() == language + a.vision_params);

  // The MTP layer (not served): fc 2048 x 4096, two pre-fc norms, one gated attention + MoE layer, its norms, a norm.
  CHECK(a.mtp_layers == 1);
  CHECK(a.mtp_params == 2048ULL * 4096 + 2ULL * 2048 + attn + moe + 2ULL * 2048 + 2048);
  // Published: Hub safetensors.total 35,951,822,704 (vision and MTP included): exact.
  CHECK(a.num_params() + a.mtp_params == 35'951'822'704ULL);
  // The card: "35B in total" for the language model (1% off; with the vision tower, 0.3%).
  CHECK(within(static_cast<double>(language), 35e9, 0.01));
  // Active: 8 of 256 routed experts. The card's "3B activated" is rounded to the billion; Qwen counts embedding and
  // LM head in it (Qwen3-30B-A3B's 3.3B does), so the language model's 3.45 B rounds to 3 B.
  const std::uint64_t active_language = 2 * embed + 2048 + 30 * gdn + 10 * attn + 40ULL * (moe_active + 2ULL * 2048);
  CHECK(active_language == 3'454'988'928ULL);
  CHECK(a.active_params() == active_language + a.vision_params);
  CHECK(std::llround(static_cast<double>(active_language) / 1e9) == 3);

  // Checkpoint names (what quantization ignore lists match).
  const auto* qkv = group(a, "model.language_model.layers.0.linear_attn.in_proj_qkv");
  REQUIRE(qkv != nullptr);
  CHECK(qkv->rows == 8192);
  CHECK(qkv->role == WeightRole::Mamba);
  const auto* q = group(a, "model.language_model.layers.3.self_attn.q_proj");
  REQUIRE(q != nullptr);
  CHECK(q->rows == 8192);
  CHECK(group(a, "model.language_model.layers.0.self_attn.q_proj") == nullptr);
  CHECK(group(a, "model.visual.merger.linear_fc2") != nullptr);
  CHECK(group(a, "lm_head") != nullptr);
  bool mtp_warned = false;
  for (const auto& w : a.warnings) mtp_warned = mtp_warned || w.find("multi-token-prediction") != std::string::npos;
  CHECK(mtp_warned);
}

TEST_CASE("Qwen3.6-27B and Qwen3.8-27B: 48 Gated DeltaNet + 16 gated attention layers, dense",
          "[model][family][qwen3_5]") {
  for (const char* dir : {"Qwen--Qwen3.6-27B", "Qwen--Qwen3.8-27B"}) {
    INFO(dir);
    const auto a = arch_of(dir);
    CHECK(a.text_model_type == "qwen3_5_text");
    CHECK(a.count_layers(LayerKind::LinearAttention) == 48);
    CHECK(a.kv_layers() == 16);
    CHECK(a.num_experts == 0);
    // Hidden 5120; keys 16 x 128 = 2048, values 48 x 128 = 6144, conv channels 2 x 2048 + 6144 = 10240.
    const std::uint64_t gdn =
        10240ULL * 5120 + 6144ULL * 5120 + 2ULL * 48ULL * 5120 + 10240ULL * 4 + 2ULL * 48 + 128 + 5120ULL * 6144;
    CHECK(gdn == 115'876'064);
    const std::uint64_t attn =
        2ULL * 24ULL * 256ULL * 5120 + 2ULL * (4ULL * 256ULL * 5120) + 5120ULL * 24ULL * 256 + 2ULL * 256;
    const std::uint64_t mlp = 3ULL * 17408ULL * 5120;
    const std::uint64_t language = 2ULL * 248320ULL * 5120 + 5120 + 48 * gdn + 16 * attn + 64ULL * (mlp + 2ULL * 5120);
    CHECK(language == 26'895'998'464ULL);
    CHECK(a.vision_params == qwen35_vision(5120));
    CHECK(a.vision_params == 460'730'096ULL);  // published split of the Qwen3.8-27B checkpoint
    CHECK(a.num_params() == language + a.vision_params);
    CHECK(a.active_params() == a.num_params());
    CHECK(a.mtp_params == 5120ULL * 10240 + 2ULL * 5120 + attn + mlp + 2ULL * 5120 + 5120);
    // Published: Hub safetensors.total 27,781,427,952 (the model info report: 51.75 GiB of BF16): exact.
    CHECK(a.num_params() + a.mtp_params == 27'781'427'952ULL);
  }
  SECTION("the served BF16 weights against vLLM's \"Model loading took\" (Qwen3.8-27B, vllm-new-015 and -016)") {
    const auto a = arch_of("Qwen--Qwen3.8-27B");
    const double served_gib = static_cast<double>(a.num_params()) * 2 / static_cast<double>(kGiB);
    CHECK(within(served_gib, 51.1, 0.01));  // without MTP: 50.96 GiB computed
    const double with_mtp_gib = static_cast<double>(a.num_params() + a.mtp_params) * 2 / static_cast<double>(kGiB);
    CHECK(within(with_mtp_gib, 51.89, 0.01));  // with --speculative-config mtp: 51.75 GiB computed
  }
  SECTION("Qwen3.8-27B-FP8 (vllm-new-008/010 logged 28.51 GiB): FP8 linear layers, BF16 embeddings and vision") {
    const auto a = arch_of("Qwen--Qwen3.8-27B");
    WeightSettings ws;
    ws.load_quantization = quantization_flag_scheme("fp8");
    const auto w = estimate_weights(a, CheckpointSizes{}, ws);
    CHECK(within(to_gib(w.bytes), 28.51, 0.01));
  }
}

TEST_CASE("Qwen 3.5 layer pattern, tied embeddings and Qwen3-Next's fused projections", "[model][family][qwen3_5]") {
  SECTION("without layer_types, every full_attention_interval-th layer is full attention") {
    auto c = testsupport::load_test_config("Qwen--Qwen3.6-27B");
    c["text_config"].erase("layer_types");
    c["text_config"]["full_attention_interval"] = 2;
    const auto a = normalize_config(c, "qwen3_5");
    CHECK(a.count_layers(LayerKind::FullAttention) == 32);
    CHECK(a.layer_kinds[0] == LayerKind::LinearAttention);
    CHECK(a.layer_kinds[1] == LayerKind::FullAttention);
  }
  SECTION("tie_word_embeddings drops the LM head") {
    auto c = testsupport::load_test_config("Qwen--Qwen3.6-27B");
    const auto untied = normalize_config(c, "qwen3_5");
    c["text_config"]["tie_word_embeddings"] = true;
    const auto tied = normalize_config(c, "qwen3_5");
    CHECK(untied.num_params() - tied.num_params() == 248320ULL * 5120);
  }
  SECTION("Qwen3-Next: in_proj_qkvz / in_proj_ba, dense layers by mlp_only_layers, no vision") {
    // A small Qwen3-Next: 4 layers (3 GDN + 1 attention), hidden 64, experts on layers 1-3 only.
    const json c = {{"model_type", "qwen3_next"},
                    {"hidden_size", 64},
                    {"num_hidden_layers", 4},
                    {"num_attention_heads", 4},
                    {"num_key_value_heads", 2},
                    {"head_dim", 16},
                    {"intermediate_size", 128},
                    {"vocab_size", 256},
                    {"linear_conv_kernel_dim", 4},
                    {"linear_key_head_dim", 8},
                    {"linear_value_head_dim", 8},
                    {"linear_num_key_heads", 4},
                    {"linear_num_value_heads", 4},
                    {"num_experts", 4},
                    {"num_experts_per_tok", 2},
                    {"moe_intermediate_size", 32},
                    {"shared_expert_intermediate_size", 0},
                    {"mlp_only_layers", {0}},
                    {"tie_word_embeddings", false},
                    {"layer_types", {"linear_attention", "linear_attention", "linear_attention", "full_attention"}}};
    const auto a = normalize_config(c, "qwen3_next");
    const std::uint64_t gdn = (2ULL * 32 + 2ULL * 32) * 64  // in_proj_qkvz: q, k of 4 x 8, v, z of 4 x 8
                              + 2ULL * 4ULL * 64            // in_proj_ba
                              + (2ULL * 32 + 32) * 4        // conv1d over q, k, v
                              + 2ULL * 4 + 8                // A_log, dt_bias, norm
                              + 64ULL * 32;                 // out_proj
    const std::uint64_t attn = 2ULL * 4ULL * 16ULL * 64 + 2ULL * (2ULL * 16ULL * 64) + 64ULL * 4ULL * 16 + 2ULL * 16;
    const std::uint64_t dense = 3ULL * 128ULL * 64;
    const std::uint64_t moe = 4ULL * 64 + 4ULL * 3ULL * 32ULL * 64;  // router + experts, no shared expert
    CHECK(a.moe_layers == 3);
    CHECK(a.num_params() == 2ULL * 256ULL * 64 + 64 + 3 * gdn + attn + dense + 3 * moe + 4ULL * 2ULL * 64);
    CHECK(group(a, "model.layers.0.linear_attn.in_proj_qkvz") != nullptr);
    CHECK(a.mtp_params == 0);
    CHECK_FALSE(a.mamba_ssm_cache_dtype.has_value());  // vLLM keeps Qwen3-Next's state in the model dtype
  }
}
