// Gemma 4: per-layer attention shapes, KV sharing, per-layer embeddings, the MoE block and the vision and audio
// towers (see weights_gemma4.hpp). Layouts follow transformers' modeling_gemma4.py and vLLM's gemma4.py; the
// parameter counts match the checkpoints' safetensors totals (tests/model/test_family_gemma4.cpp).
#include "model/weights_gemma4.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "model/group_sink.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc::detail {

namespace {

using Groups = GroupSink;  // model/group_sink.hpp

// The Gemma 4 fields beyond the generic ones, with transformers' defaults.
struct Gemma4Text {
  std::uint64_t global_head_dim = 0;  // head size of the full-attention layers
  std::uint64_t global_kv_heads = 0;  // KV heads of the full-attention layers
  bool k_eq_v = false;                // full-attention layers: V reuses K's projection (no v_proj)
  std::uint64_t kv_shared = 0;        // the last num_kv_shared_layers layers read an earlier layer's cache
  bool double_wide_mlp = false;       // KV-shared layers have a MLP of 2 x intermediate_size
  std::uint64_t ple_width = 0;        // hidden_size_per_layer_input (0: no per-layer embeddings)
  std::uint64_t ple_vocab = 0;        // vocab_size_per_layer_input
  bool attention_bias = false;
};

Gemma4Text read_fields(const ModelArch& a, ConfigReader& cfg) {
  Gemma4Text t;
  t.global_head_dim = cfg.count({"global_head_dim"}, kMaxWidth).value_or(a.head_dim);
  t.k_eq_v = cfg.flag("attention_k_eq_v").value_or(false);
  // transformers and vLLM use num_global_key_value_heads only where K = V; null means num_key_value_heads.
  t.global_kv_heads = a.num_key_value_heads;
  if (t.k_eq_v)
    t.global_kv_heads = cfg.count({"num_global_key_value_heads"}, kMaxHeads).value_or(a.num_key_value_heads);
  if (a.num_attention_heads % t.global_kv_heads != 0)
    cfg.fail("num_global_key_value_heads",
             fmt::format("{} KV heads do not divide the {} attention heads", t.global_kv_heads, a.num_attention_heads));
  t.kv_shared = cfg.count_or_zero({"num_kv_shared_layers"}, kMaxLayers).value_or(0);
  if (t.kv_shared >= a.num_hidden_layers && t.kv_shared > 0)
    cfg.fail("num_kv_shared_layers", fmt::format("{} shared layers leave none of the {} layers to hold a cache",
                                                 t.kv_shared, a.num_hidden_layers));
  t.double_wide_mlp = cfg.flag("use_double_wide_mlp").value_or(false);
  t.ple_width = cfg.count_or_zero({"hidden_size_per_layer_input"}, kMaxWidth).value_or(0);
  t.ple_vocab = t.ple_width > 0 ? cfg.count({"vocab_size_per_layer_input"}, kMaxVocab).value_or(a.vocab_size) : 0;
  t.attention_bias = cfg.flag("attention_bias").value_or(false);
  return t;
}

// The first KV-shared layer (num_hidden_layers when none is shared).
std::uint64_t first_shared(const ModelArch& a, const Gemma4Text& t) { return a.num_hidden_layers - t.kv_shared; }

// Layer kinds: layer_types as read, else transformers' default (every 6th layer global); the last layer is always
// global (transformers forces it, with a warning). Only sliding and full attention exist in Gemma 4.
void fix_layer_kinds(ModelArch& a, ConfigReader& cfg) {
  auto& kinds = a.layer_kinds;
  if (cfg.get("layer_types") == nullptr)
    for (std::size_t i = 0; i < kinds.size(); ++i)
      kinds[i] = (i + 1) % 6 != 0 ? LayerKind::SlidingAttention : LayerKind::FullAttention;
  for (auto k : kinds)
    if (k != LayerKind::SlidingAttention && k != LayerKind::FullAttention)
      cfg.fail("layer_types", "Gemma 4 layers are sliding_attention or full_attention");
  if (!kinds.empty() && kinds.back() != LayerKind::FullAttention) {
    kinds.back() = LayerKind::FullAttention;
    a.warnings.push_back("layer_types: the last Gemma 4 layer must use full attention; transformers forces it");
  }
  // A window the context never exceeds is no window (read_sliding_window dropped it): those layers attend fully.
  if (!a.sliding_window)
    std::replace(kinds.begin(), kinds.end(), LayerKind::SlidingAttention, LayerKind::FullAttention);
}

void read_experts(ModelArch& a, ConfigReader& cfg) {
  a.moe_layers = 0;
  if (!cfg.flag("enable_moe_block").value_or(false)) {
    a.num_experts = 0;
    a.experts_per_token = 0;
    a.moe_intermediate_size = 0;
    return;
  }
  a.num_experts = cfg.require_count({"num_experts"}, kMaxExperts);
  a.experts_per_token = cfg.require_count({"top_k_experts", "num_experts_per_tok"}, kMaxExperts);
  a.moe_intermediate_size = cfg.require_count({"moe_intermediate_size", "expert_intermediate_size"}, kMaxIntermediate);
  a.shared_experts = 0;
  if (a.experts_per_token > a.num_experts)
    cfg.fail("top_k_experts", fmt::format("{} is more than the {} experts", a.experts_per_token, a.num_experts));
}

// One decoder layer of the language model.
void add_layer(Groups& g, const ModelArch& a, const Gemma4Text& t, const std::string& base, std::uint64_t li) {
  const int i = static_cast<int>(li);
  const std::string p = fmt::format("{}layers.{}.", base, li);
  const std::uint64_t h = a.hidden_size;
  const bool global = a.layer_kinds[li] == LayerKind::FullAttention;
  const std::uint64_t d = global ? t.global_head_dim : a.head_dim;
  const std::uint64_t kv = global ? t.global_kv_heads : a.num_key_value_heads;
  const std::uint64_t q_out = a.num_attention_heads * d;
  const bool shared = li >= first_shared(a, t);

  g.linear(p + "self_attn.q_proj", WeightRole::Attention, i, q_out, h, t.attention_bias);
  // KV-shared layers compute no K or V, but the checkpoints still carry their k_proj, v_proj and k_norm
  // (transformers skips them on load; vLLM allocates and loads them): counted, as the safetensors totals do.
  g.linear(p + "self_attn.k_proj", WeightRole::Attention, i, kv * d, h, t.attention_bias);
  if (!(global && t.k_eq_v)) g.linear(p + "self_attn.v_proj", WeightRole::Attention, i, kv * d, h, t.attention_bias);
  g.linear(p + "self_attn.o_proj", WeightRole::Attention, i, h, q_out, t.attention_bias);
  g.vec(p + "self_attn.q_norm_k_norm", WeightRole::Norm, i, 2 * d);  // v_norm has no weight

  const std::uint64_t inter = a.intermediate_size * (t.double_wide_mlp && shared && t.kv_shared > 0 ? 2 : 1);
  g.linear(p + "mlp.gate_proj", WeightRole::Mlp, i, inter, h);
  g.linear(p + "mlp.up_proj", WeightRole::Mlp, i, inter, h);
  g.linear(p + "mlp.down_proj", WeightRole::Mlp, i, h, inter);
  // input, post-attention, pre- and post-feed-forward RMSNorms, and the layer_scalar the checkpoint stores.
  g.vec(p + "norms_and_layer_scalar", WeightRole::Norm, i, 4 * h + 1);

  if (a.num_experts > 0) {  // the MoE block runs beside the dense MLP, on the same residual
    const std::uint64_t e = a.num_experts;
    const std::uint64_t mi = a.moe_intermediate_size;
    g.linear(p + "router.proj", WeightRole::Router, i, e, h);
    g.vec(p + "router.scale_and_per_expert_scale", WeightRole::Norm, i, h + e);
    g.add(p + "experts.gate_up_proj", WeightRole::Experts, i, e, 2 * mi, h, 0);
    g.add(p + "experts.down_proj", WeightRole::Experts, i, e, h, mi, 0);
    g.vec(p + "moe_norms", WeightRole::Norm, i, 3 * h);  // post_feedforward_layernorm_1/_2, pre_feedforward_layernorm_2
  }
  if (t.ple_width > 0) {
    g.linear(p + "per_layer_input_gate", WeightRole::Mlp, i, t.ple_width, h);
    g.linear(p + "per_layer_projection", WeightRole::Mlp, i, h, t.ple_width);
    g.vec(p + "post_per_layer_input_norm", WeightRole::Norm, i, h);
  }
}

// ---- Towers ----------------------------------------------------------------------------------------------

// transformers' Gemma4VisionConfig and Gemma4AudioConfig defaults, for fields a config omits.
nlohmann::json vision_tower_defaults() {
  return {{"hidden_size", 768},        {"intermediate_size", 3072},       {"num_hidden_layers", 16},
          {"num_attention_heads", 12}, {"num_key_value_heads", 12},       {"head_dim", 64},
          {"patch_size", 16},          {"position_embedding_size", 10240}};
}
nlohmann::json audio_tower_defaults() {
  return {{"hidden_size", 1024},
          {"num_hidden_layers", 12},
          {"num_attention_heads", 8},
          {"conv_kernel_size", 5},
          {"output_proj_dims", 1536}};
}

// The vision encoder (a ViT with 2-D RoPE, q/k norms and a gated MLP; no class token) and its embedder.
void add_vision_tower(Groups& g, ConfigReader& v, std::uint64_t text_h) {
  const std::uint64_t h = v.require_count({"hidden_size"}, kMaxWidth);
  const std::uint64_t inter = v.require_count({"intermediate_size"}, kMaxIntermediate);
  const std::uint64_t layers = v.require_count({"num_hidden_layers"}, kMaxLayers);
  const std::uint64_t heads = v.require_count({"num_attention_heads"}, kMaxHeads);
  const std::uint64_t kv = v.count({"num_key_value_heads"}, kMaxHeads).value_or(heads);
  const std::uint64_t d = v.count({"head_dim"}, kMaxWidth).value_or(h / heads);
  const std::uint64_t patch = v.require_count({"patch_size"}, kMaxWidth);
  const std::uint64_t positions = v.require_count({"position_embedding_size"}, kMaxPositions);
  const std::string base = "model.vision_tower.";
  g.linear(base + "patch_embedder.input_proj", WeightRole::Vision, -1, h, 3 * patch * patch);
  g.vec(base + "patch_embedder.position_embedding_table", WeightRole::Vision, -1,
        checked_mul(2 * positions, h, "parameter count"));  // one table per image axis
  for (std::uint64_t i = 0; i < layers; ++i) {
    const std::string p = fmt::format("{}encoder.layers.{}.", base, i);
    g.linear(p + "self_attn.q_proj", WeightRole::Vision, -1, heads * d, h);
    g.linear(p + "self_attn.k_proj", WeightRole::Vision, -1, kv * d, h);
    g.linear(p + "self_attn.v_proj", WeightRole::Vision, -1, kv * d, h);
    g.linear(p + "self_attn.o_proj", WeightRole::Vision, -1, h, heads * d);
    g.vec(p + "self_attn.q_norm_k_norm", WeightRole::Vision, -1, 2 * d);
    g.add(p + "mlp", WeightRole::Vision, -1, 2, inter, h, 0);  // gate_proj, up_proj
    g.linear(p + "mlp.down_proj", WeightRole::Vision, -1, h, inter);
    g.vec(p + "norms", WeightRole::Vision, -1, 4 * h);
  }
  if (v.flag("standardize").value_or(false)) g.vec(base + "std_bias_and_scale", WeightRole::Vision, -1, 2 * h);
  g.linear("model.embed_vision.embedding_projection", WeightRole::Vision, -1, text_h, h);
}

// The audio encoder (a Conformer: sub-sampling convolutions, then layers of feed-forward, chunked local attention
// with relative positions, a light convolution and a second feed-forward) and its embedder.
void add_audio_tower(Groups& g, ConfigReader& c, std::uint64_t text_h) {
  const std::uint64_t h = c.require_count({"hidden_size"}, kMaxWidth);
  const std::uint64_t layers = c.require_count({"num_hidden_layers"}, kMaxLayers);
  const std::uint64_t heads = c.require_count({"num_attention_heads"}, kMaxHeads);
  const std::uint64_t kernel = c.require_count({"conv_kernel_size"}, kMaxWidth);
  const std::uint64_t out = c.require_count({"output_proj_dims"}, kMaxWidth);
  std::uint64_t c0 = 128, c1 = 32;  // subsampling_conv_channels
  if (auto ch = c.index_list("subsampling_conv_channels", kMaxWidth)) {
    if (ch->size() != 2 || (*ch)[0] == 0 || (*ch)[1] == 0)
      c.fail("subsampling_conv_channels", "expected two positive channel counts");
    c0 = (*ch)[0];
    c1 = (*ch)[1];
  }
  const std::string base = "model.audio_tower.";
  // Two 3x3 stride-2 convolutions without bias, each with a weight-only LayerNorm, then a linear projection of
  // (c0 / 4) x c1 features (transformers' Gemma4AudioSubSampleConvProjection).
  g.vec(base + "subsample_conv_projection.convs_and_norms", WeightRole::Vision, -1, c0 * 9 + c0 + c1 * c0 * 9 + c1);
  g.linear(base + "subsample_conv_projection.input_proj_linear", WeightRole::Vision, -1, h, (c0 / 4) * c1);
  for (std::uint64_t i = 0; i < layers; ++i) {
    const std::string p = fmt::format("{}layers.{}.", base, i);
    g.add(p + "feed_forward1_2", WeightRole::Vision, -1, 4, 4 * h, h, 4 * h);  // 2 x (ffw_layer_1, ffw_layer_2), norms
    g.add(p + "self_attn", WeightRole::Vision, -1, 5, h, h,
          h / heads);  // q, k, v, post, relative_k_proj; per_dim_scale
    g.linear(p + "lconv1d.linear_start", WeightRole::Vision, -1, 2 * h, h);
    g.linear(p + "lconv1d.linear_end", WeightRole::Vision, -1, h, h);
    g.vec(p + "lconv1d.depthwise_conv1d_and_norms", WeightRole::Vision, -1, h * kernel + 2 * h);
    g.vec(p + "norms", WeightRole::Vision, -1, 3 * h);  // norm_pre_attn, norm_post_attn, norm_out
  }
  g.linear(base + "output_proj", WeightRole::Vision, -1, out, h, true);
  g.linear("model.embed_audio.embedding_projection", WeightRole::Vision, -1, text_h, out);
}

// A tower config: an object, or null / absent (no tower).
const nlohmann::json* tower(const nlohmann::json& top, const char* key, std::string_view origin) {
  if (!top.contains(key) || top[key].is_null()) return nullptr;
  if (!top[key].is_object()) fail_input(fmt::format("{}: {}: expected an object", origin, key));
  return &top[key];
}

}  // namespace

void read_gemma4_text(ModelArch& a, ConfigReader& cfg) {
  fix_layer_kinds(a, cfg);
  read_experts(a, cfg);
  const Gemma4Text t = read_fields(a, cfg);
  const std::uint64_t first = first_shared(a, t);
  a.layer_attention.assign(a.num_hidden_layers, LayerAttention{});
  for (std::uint64_t i = 0; i < a.num_hidden_layers; ++i) {
    const bool global = a.layer_kinds[i] == LayerKind::FullAttention;
    LayerAttention& la = a.layer_attention[i];
    la.kv_heads = global ? t.global_kv_heads : a.num_key_value_heads;
    la.head_dim = global ? t.global_head_dim : a.head_dim;
    la.v_head_dim = la.head_dim;  // K = V layers still cache both (vLLM's Attention keeps K and V pages)
    la.window = global ? 0 : a.sliding_window.value_or(0);
    if (i < first) continue;
    // A shared layer reads the cache of the last non-shared layer of its own kind (none: it keeps its own).
    for (std::uint64_t j = first; j-- > 0;) {
      if (a.layer_kinds[j] == a.layer_kinds[i]) {
        la.shares_kv_with = static_cast<int>(j);
        break;
      }
    }
  }
}

void build_gemma4_text(ModelArch& a, ConfigReader& cfg) {
  Groups g(&a.weights, cfg.origin());
  const Gemma4Text t = read_fields(a, cfg);
  // Checkpoint names: model.language_model.* inside the multimodal wrapper, model.* for Gemma4ForCausalLM.
  const std::string base = a.model_type == "gemma4" ? "model.language_model." : "model.";
  const std::uint64_t h = a.hidden_size;
  const std::uint64_t l = a.num_hidden_layers;
  g.linear(base + "embed_tokens", WeightRole::Embedding, -1, a.vocab_size, h);
  if (t.ple_width > 0) {
    const std::uint64_t packed = checked_mul(l, t.ple_width, "parameter count");  // every layer's slice, packed
    g.linear(base + "embed_tokens_per_layer", WeightRole::Embedding, -1, t.ple_vocab, packed);
    g.linear(base + "per_layer_model_projection", WeightRole::Mlp, -1, packed, h);
    g.vec(base + "per_layer_projection_norm", WeightRole::Norm, -1, t.ple_width);
  }
  for (std::uint64_t li = 0; li < l; ++li) add_layer(g, a, t, base, li);
  a.moe_layers = a.num_experts > 0 ? l : 0;
  g.vec(base + "norm", WeightRole::Norm, -1, h);
  if (!a.tie_word_embeddings) g.linear("lm_head", WeightRole::LmHead, -1, a.vocab_size, h);
}

std::uint64_t build_gemma4_towers(ModelArch& a, const nlohmann::json& top, std::string_view origin) {
  Groups g(&a.weights, std::string(origin));
  if (const auto* vc = tower(top, "vision_config", origin)) {
    ConfigReader v(*vc, std::string(origin), "vision_config.", vision_tower_defaults());
    add_vision_tower(g, v, a.hidden_size);
  }
  if (const auto* ac = tower(top, "audio_config", origin)) {
    ConfigReader c(*ac, std::string(origin), "audio_config.", audio_tower_defaults());
    add_audio_tower(g, c, a.hidden_size);
  }
  return g.total();
}

}  // namespace vramcalc::detail
