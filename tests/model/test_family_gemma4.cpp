// Gemma 4 (gemma4 / gemma4_text), issue 14: sliding and global layers with their own head sizes and KV heads, KV
// sharing, per-layer embeddings (PLE), the 26B-A4B MoE and the vision and audio towers. Every count is written out
// from the config's numbers, following transformers' modeling_gemma4.py, and checked against what was published:
//   - Hugging Face Hub safetensors.total (exact): gemma-4-E2B-it 5,123,178,051 and gemma-4-E4B-it 7,996,156,490;
//     gemma-4-31B-it 31,273,088,876 (a model-info report of the checkpoint, 2 x = its total_size 62,546,177,752);
//     all as collected in data/published_params.json, with their sources.
//   - the Gemma 4 model card: E2B "2.3B effective (5.1B with embeddings)", E4B "4.5B effective (8B with
//     embeddings)", 26B A4B "25.2B total, 3.8B active", 31B "30.7B" (the cards' figures leave the ~550M vision
//     tower out for 26B A4B and 31B).
// The checkpoints carry the k_proj, v_proj and k_norm of the KV-shared layers (transformers skips them on load,
// vLLM loads them): they are counted, which is what makes the Hub totals exact.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

std::uint64_t params_named(const ModelArch& a, const std::string& needle) {
  std::uint64_t n = 0;
  for (const auto& g : a.weights)
    if (g.name.find(needle) != std::string::npos) n += g.params();
  return n;
}

constexpr std::uint64_t kVocab = 262144;  // vocab_size = vocab_size_per_layer_input in every Gemma 4 config

// The towers of E2B and E4B (identical configs): vision hidden 768, intermediate 3072, 16 layers, 12 heads of 64,
// patch 16, 10240 positions; audio hidden 1024, 12 layers, 8 heads, channels [128, 32], kernel 5, output 1536.
constexpr std::uint64_t kSmallVisionTower = 768 * (3 * 16 * 16)          // patch_embedder.input_proj
                                            + 2 * 10240 * 768            // position_embedding_table (x and y)
                                            + 16 * (4 * 768 * 768        // q, k, v, o (12 heads x 64 = 768)
                                                    + 2 * 64             // q_norm, k_norm
                                                    + 3 * 3072 * 768     // gate, up, down
                                                    + 4 * 768);          // four RMSNorms
constexpr std::uint64_t kAudioTower = 128 * 9 + 128 + 32 * 128 * 9 + 32  // two 3x3 convolutions and their norms
                                      + 1024 * (128 / 4 * 32)            // input_proj_linear
                                      + 12 * (2 * (2 * 4 * 1024 * 1024 + 2 * 1024)  // two feed-forwards with norms
                                              + 5 * 1024 * 1024 + 1024 / 8          // q, k, v, post, relative_k; scale
                                              + 2 * 1024 * 1024 + 1024 * 1024       // linear_start, linear_end
                                              + 1024 * 5 + 2 * 1024                 // depthwise conv, two norms
                                              + 3 * 1024)                           // three layer norms
                                      + 1536 * 1024 + 1536;                         // output_proj with bias

}  // namespace

TEST_CASE("Gemma 4 E4B: per-layer shapes, 18 KV-shared layers, PLE and two towers", "[model][family][gemma4]") {
  const auto a = arch_of("google--gemma-4-E4B-it");
  CHECK(a.model_type == "gemma4");
  CHECK(a.text_model_type == "gemma4_text");
  CHECK(a.known_family);
  CHECK(a.multimodal);
  CHECK(a.num_hidden_layers == 42);
  CHECK(a.count_layers(LayerKind::FullAttention) == 7);  // layers 5, 11, ..., 41
  CHECK(a.count_layers(LayerKind::SlidingAttention) == 35);
  REQUIRE(a.layer_attention.size() == 42);
  // Sliding layers: 2 KV heads of 256, window 512; global layers: 2 KV heads of global_head_dim 512 (attention_k_eq_v
  // is false, so num_global_key_value_heads does not apply).
  CHECK(a.layer_attention[0].kv_heads == 2);
  CHECK(a.layer_attention[0].head_dim == 256);
  CHECK(a.layer_attention[0].window == 512);
  CHECK(a.layer_attention[5].kv_heads == 2);
  CHECK(a.layer_attention[5].head_dim == 512);
  CHECK(a.layer_attention[5].v_head_dim == 512);
  CHECK(a.layer_attention[5].window == 0);
  // num_kv_shared_layers 18: layers 24..41 read the last earlier layer of their kind (sliding 22, global 23).
  CHECK(a.layer_attention[23].shares_kv_with == -1);
  CHECK(a.layer_attention[24].shares_kv_with == 22);
  CHECK(a.layer_attention[29].shares_kv_with == 23);
  CHECK(a.layer_attention[41].shares_kv_with == 23);
  CHECK(a.kv_layers() == 24);
  CHECK(a.num_experts == 0);

  // Text: hidden 2560, 8 heads, intermediate 10240, PLE 256 wide per layer.
  constexpr std::uint64_t h = 2560;
  constexpr std::uint64_t sliding_attn = 8 * 256 * h * 2 + 2 * 256 * h * 2 + 2 * 256;  // q, o; k, v; q_norm, k_norm
  constexpr std::uint64_t global_attn = 8 * 512 * h * 2 + 2 * 512 * h * 2 + 2 * 512;
  constexpr std::uint64_t per_layer = 3 * h * 10240       // gate, up, down
                                      + 4 * h + 1         // four RMSNorms and layer_scalar
                                      + 2 * 256 * h + h;  // per_layer_input_gate, per_layer_projection, its norm
  constexpr std::uint64_t text = kVocab * h               // embed_tokens (tied to the LM head)
                                 + kVocab * (42 * 256)    // embed_tokens_per_layer
                                 + (42 * 256) * h + 256   // per_layer_model_projection, per_layer_projection_norm
                                 + 35 * sliding_attn + 7 * global_attn + 42 * per_layer + h;  // layers, final norm
  constexpr std::uint64_t vision = kSmallVisionTower + h * 768;  // + embed_vision projection
  constexpr std::uint64_t audio = kAudioTower + h * 1536;        // + embed_audio projection
  CHECK(a.num_params() == text + vision + audio);
  CHECK(a.vision_params == vision + audio);
  CHECK(a.params_with_role(WeightRole::Vision) == vision + audio);
  CHECK(a.num_params() == 7'996'156'490ULL);  // the Hub's safetensors.total for google/gemma-4-E4B-it, exactly
  CHECK(static_cast<double>(a.num_params()) == Approx(8e9).epsilon(0.01));  // the card's "8B with embeddings"
  // The card's "4.5B effective" is 4.4% below this count without the PLE table (4,699,496,746): a rounded figure
  // whose exact definition the card does not give (E2B's "2.3B" matches the same definition to 0.06%); checked loosely.
  const double effective = static_cast<double>(text - kVocab * 42 * 256);
  CHECK(effective == Approx(4.5e9).epsilon(0.05));
  CHECK(params_named(a, "embed_tokens_per_layer") == kVocab * 42 * 256);
}

TEST_CASE("Gemma 4 E2B: KV heads of 1, 20 shared layers with double-wide MLPs", "[model][family][gemma4]") {
  const auto a = arch_of("google--gemma-4-E2B");
  CHECK(a.count_layers(LayerKind::FullAttention) == 7);  // layers 4, 9, ..., 34
  // num_kv_shared_layers 20: layers 15..34 share, reading 13 (sliding) and 14 (global).
  CHECK(a.layer_attention[14].shares_kv_with == -1);
  CHECK(a.layer_attention[15].shares_kv_with == 13);
  CHECK(a.layer_attention[19].shares_kv_with == 14);
  CHECK(a.kv_layers() == 15);

  constexpr std::uint64_t h = 1536;
  constexpr std::uint64_t sliding_attn = 8 * 256 * h * 2 + 1 * 256 * h * 2 + 2 * 256;
  constexpr std::uint64_t global_attn = 8 * 512 * h * 2 + 1 * 512 * h * 2 + 2 * 512;
  constexpr std::uint64_t mlp = 3 * h * 6144;
  constexpr std::uint64_t rest = 4 * h + 1 + 2 * 256 * h + h;  // norms, layer_scalar, PLE gate/projection/norm
  // Layers 0..14: 12 sliding + 3 global, plain MLP; 15..34: 16 sliding + 4 global, use_double_wide_mlp (2 x 6144).
  constexpr std::uint64_t layers = 28 * sliding_attn + 7 * global_attn + 15 * mlp + 20 * 2 * mlp + 35 * rest;
  constexpr std::uint64_t text = kVocab * h + kVocab * (35 * 256) + (35 * 256) * h + 256 + layers + h;
  constexpr std::uint64_t towers = kSmallVisionTower + h * 768 + kAudioTower + h * 1536;
  CHECK(params_named(a, "layers.20.mlp.down_proj") == h * 2 * 6144);
  CHECK(a.num_params() == text + towers);
  // The Hub's safetensors.total for google/gemma-4-E2B-it (this is the base E2B: same architecture per the card).
  CHECK(a.num_params() == 5'123'178'051ULL);
  CHECK(static_cast<double>(a.num_params()) == Approx(5.1e9).epsilon(0.01));            // "5.1B with embeddings"
  CHECK(static_cast<double>(text - kVocab * 35 * 256) == Approx(2.3e9).epsilon(0.01));  // "2.3B effective"
}

TEST_CASE("Gemma 4 26B-A4B: 128 experts (top 8) beside a dense MLP, K = V global layers", "[model][family][gemma4]") {
  const auto a = arch_of("google--gemma-4-26B-A4B-it");
  CHECK(a.num_experts == 128);
  CHECK(a.experts_per_token == 8);  // top_k_experts
  CHECK(a.moe_intermediate_size == 704);
  CHECK(a.moe_layers == 30);
  CHECK_FALSE(a.multimodal);  // the reconstructed config has no vision_config (SOURCES-2026-12.md)
  // Global layers: attention_k_eq_v with num_global_key_value_heads 2 of 512; sliding: 8 of 256, window 1024.
  CHECK(a.layer_attention[5].kv_heads == 2);
  CHECK(a.layer_attention[5].head_dim == 512);
  CHECK(a.layer_attention[0].kv_heads == 8);
  CHECK(a.layer_attention[0].window == 1024);
  CHECK(a.kv_layers() == 30);
  CHECK(a.tp_valid(2));
  CHECK(a.tp_valid(8));  // 8 sliding KV heads split, the 2 global ones replicated

  constexpr std::uint64_t h = 2816;
  constexpr std::uint64_t sliding_attn = 16 * 256 * h * 2 + 8 * 256 * h * 2 + 2 * 256;
  constexpr std::uint64_t global_attn = 16 * 512 * h * 2 + 2 * 512 * h + 2 * 512;  // no v_proj where K = V
  constexpr std::uint64_t experts = 128 * (2 * 704 * h + h * 704);                 // gate_up_proj, down_proj
  constexpr std::uint64_t per_layer = 3 * h * 2112                                 // the dense MLP
                                      + 4 * h + 1                                  // norms, layer_scalar
                                      + 128 * h + h + 128  // router.proj, router.scale, per_expert_scale
                                      + 3 * h;             // the MoE block's three norms
  constexpr std::uint64_t total = kVocab * h + 25 * sliding_attn + 5 * global_attn + 30 * (per_layer + experts) + h;
  constexpr std::uint64_t active = total - 30 * experts / 128 * (128 - 8);
  CHECK(a.num_params() == total);
  CHECK(a.params_with_role(WeightRole::Experts) == 30 * experts);
  CHECK(a.active_params() == active);
  CHECK(static_cast<double>(total) == Approx(25.2e9).epsilon(0.01));  // card: 25.2B total
  CHECK(static_cast<double>(active) == Approx(3.8e9).epsilon(0.01));  // card: 3.8B active
}

TEST_CASE("Gemma 4 31B: dense, K = V global layers with 4 KV heads, a 27-layer vision tower",
          "[model][family][gemma4]") {
  const auto a = arch_of("google--gemma-4-31B-it");
  CHECK(a.layer_attention[5].kv_heads == 4);
  CHECK(a.layer_attention[5].head_dim == 512);
  CHECK(a.layer_attention[4].kv_heads == 16);
  constexpr std::uint64_t h = 5376;
  constexpr std::uint64_t sliding_attn = 32 * 256 * h * 2 + 16 * 256 * h * 2 + 2 * 256;
  constexpr std::uint64_t global_attn = 32 * 512 * h * 2 + 4 * 512 * h + 2 * 512;
  constexpr std::uint64_t per_layer = 3 * h * 21504 + 4 * h + 1;
  constexpr std::uint64_t text = kVocab * h + 50 * sliding_attn + 10 * global_attn + 60 * per_layer + h;
  // Vision: hidden 1152, intermediate 4304, 27 layers of 16 heads x 72, standardize (std_bias, std_scale).
  constexpr std::uint64_t vision = 1152 * 768 + 2 * 10240 * 1152 +
                                   27 * (4 * 1152 * 1152 + 2 * 72 + 3 * 4304 * 1152 + 4 * 1152) + 2 * 1152 +
                                   h * 1152;  // embed_vision
  CHECK(a.num_params() == text + vision);
  CHECK(a.num_params() == 31'273'088'876ULL);  // the checkpoint's count (model-info report; total_size / 2)
  CHECK(static_cast<double>(text) == Approx(30.7e9).epsilon(0.01));  // the card's 30.7B, without the tower
}

TEST_CASE("Gemma 4: --language-model-only leaves the towers out of the weights", "[model][gemma4][weights]") {
  const auto a = arch_of("google--gemma-4-E4B-it");
  WeightSettings ws;
  const auto all = estimate_weights(a, CheckpointSizes{}, ws);
  CHECK(all.bytes == 2 * 7'996'156'490ULL);
  ws.language_model_only = true;
  const auto text = estimate_weights(a, CheckpointSizes{}, ws);
  CHECK(text.bytes == 2 * (7'996'156'490ULL - a.vision_params));
  CHECK(text.towers_left_out_bytes == 2 * a.vision_params);
  CHECK(text.num_params == 7'996'156'490ULL);  // the checkpoint's count is unchanged
  CHECK_THAT(text.source_detail, Catch::Contains("--language-model-only"));
  SECTION("an exact total from the checkpoint loses the towers too") {
    CheckpointSizes sizes;
    sizes.index_total_size = 2 * 7'996'156'490ULL;
    CHECK(estimate_weights(a, sizes, ws).bytes == 2 * (7'996'156'490ULL - a.vision_params));
  }
  SECTION("a model without towers says so") {
    const auto moe = estimate_weights(arch_of("google--gemma-4-26B-A4B-it"), CheckpointSizes{}, ws);
    CHECK(moe.bytes == moe.computed_bytes);
    REQUIRE_FALSE(moe.warnings.empty());
  }
}

TEST_CASE("Gemma 4: defaults, forced global last layer and bad fields", "[model][gemma4][errors]") {
  json c = testsupport::load_test_config("google--gemma-4-E4B-it");
  SECTION("without layer_types: every 6th layer is global (transformers' default)") {
    c["text_config"].erase("layer_types");
    const auto a = normalize_config(c, "x");
    CHECK(a.count_layers(LayerKind::FullAttention) == 7);
    CHECK(a.layer_kinds[5] == LayerKind::FullAttention);
  }
  SECTION("the last layer is always global") {
    c["text_config"]["layer_types"][41] = "sliding_attention";
    const auto a = normalize_config(c, "x");
    CHECK(a.layer_kinds[41] == LayerKind::FullAttention);
    CHECK_FALSE(a.warnings.empty());
  }
  SECTION("no KV sharing: every layer holds its cache, and no MLP is doubled") {
    c["text_config"]["num_kv_shared_layers"] = 0;
    CHECK(normalize_config(c, "x").kv_layers() == 42);
  }
  SECTION("a shared-layer count that leaves no layer holding a cache") {
    c["text_config"]["num_kv_shared_layers"] = 42;
    CHECK_THROWS_WITH(normalize_config(c, "x"), Catch::Contains("num_kv_shared_layers"));
  }
  SECTION("global KV heads that do not divide the heads") {
    c["text_config"]["attention_k_eq_v"] = true;
    c["text_config"]["num_global_key_value_heads"] = 3;
    CHECK_THROWS_WITH(normalize_config(c, "x"), Catch::Contains("num_global_key_value_heads"));
  }
  SECTION("an MoE block without top_k_experts") {
    c["text_config"]["enable_moe_block"] = true;
    c["text_config"]["num_experts"] = 4;
    c["text_config"]["moe_intermediate_size"] = 64;
    CHECK_THROWS_WITH(normalize_config(c, "x"), Catch::Contains("top_k_experts"));
  }
  SECTION("a tower that is not an object") {
    c["audio_config"] = "none";
    CHECK_THROWS_WITH(normalize_config(c, "x"), Catch::Contains("audio_config"));
  }
  SECTION("a text-only gemma4_text config names its weights model.*") {
    const json text = c["text_config"];
    const auto a = normalize_config(text, "x");
    CHECK_FALSE(a.multimodal);
    CHECK(params_named(a, "model.layers.0.self_attn.q_proj") == 8 * 256 * 2560);
  }
}

TEST_CASE("flag --language-model-only: in the vllm serve line, and refused for TGI", "[cli][gemma4]") {
  const std::string model = testsupport::test_data("configs/google--gemma-4-E4B-it/config.json").string();
  const auto r =
      testsupport::run_cli("--model " + model + " --gpu-memory 24GiB --language-model-only --emit vllm-args");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("--language-model-only"));
  const auto tgi = testsupport::run_cli("--model " + model + " --gpu-memory 24GiB --engine tgi --language-model-only");
  CHECK(tgi.exit_code == 2);
  CHECK_THAT(tgi.err, Catch::Contains("--language-model-only needs --engine vllm"));
}
