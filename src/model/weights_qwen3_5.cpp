// Weight groups of the Qwen 3.5 / 3.6 / 3.8 and Qwen3-Next hybrids (issue 14); the layouts are described in
// weights_qwen3_5.hpp. Tests check the totals against the published safetensors counts
// (tests/model/test_family_qwen3_5.cpp).
#include "model/weights_qwen3_5.hpp"

#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "model/group_sink.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc::detail {

namespace {

using Groups = GroupSink;  // model/group_sink.hpp

// What every decoder layer of the stack reads from the config, once.
struct Layout {
  bool fused_projections = false;  // Qwen3-Next: in_proj_qkvz / in_proj_ba
  bool attention_bias = false;
  bool output_gate = true;  // attn_output_gate: q_proj holds the query and its sigmoid gate
  std::uint64_t shared_expert = 0;
  std::vector<std::uint64_t> mlp_only_layers;
  std::uint64_t sparse_step = 1;
};

Layout read_layout(const Family& f, ConfigReader& cfg) {
  Layout l;
  l.fused_projections = f.name == "qwen3_next";
  l.attention_bias = cfg.flag("attention_bias").value_or(false);
  l.output_gate = cfg.flag("attn_output_gate").value_or(true);
  l.shared_expert = cfg.count_or_zero({"shared_expert_intermediate_size"}, kMaxIntermediate).value_or(0);
  l.mlp_only_layers = cfg.index_list("mlp_only_layers", kMaxLayers).value_or(std::vector<std::uint64_t>{});
  l.sparse_step = cfg.count({"decoder_sparse_step"}, kMaxLayers).value_or(1);
  return l;
}

bool is_moe_layer(const ModelArch& a, const Layout& l, std::uint64_t i) {
  if (a.num_experts == 0) return false;
  for (auto dense : l.mlp_only_layers)
    if (dense == i) return false;
  return (i + 1) % l.sparse_step == 0;
}

// Gated DeltaNet: projections in, the depthwise causal conv over q, k, v, decay and step parameters, the gated
// RMSNorm, the projection out.
void add_gated_delta_net(Groups& g, const ModelArch& a, const Layout& l, const std::string& p, int i) {
  const std::uint64_t h = a.hidden_size;
  const std::uint64_t key = a.linear_num_key_heads * a.linear_key_head_dim;
  const std::uint64_t value = a.linear_num_value_heads * a.linear_value_head_dim;
  const std::uint64_t v_heads = a.linear_num_value_heads;
  const std::string m = p + "linear_attn.";
  if (l.fused_projections) {
    g.linear(m + "in_proj_qkvz", WeightRole::Mamba, i, 2 * key + 2 * value, h);
    g.linear(m + "in_proj_ba", WeightRole::Mamba, i, 2 * v_heads, h);
  } else {
    g.linear(m + "in_proj_qkv", WeightRole::Mamba, i, 2 * key + value, h);
    g.linear(m + "in_proj_z", WeightRole::Mamba, i, value, h);
    g.linear(m + "in_proj_b", WeightRole::Mamba, i, v_heads, h);
    g.linear(m + "in_proj_a", WeightRole::Mamba, i, v_heads, h);
  }
  // Depthwise: one filter of linear_conv_kernel_dim taps per channel, no bias; not a linear layer (never quantized).
  g.add(m + "conv1d", WeightRole::Mamba, i, 0, 0, 0, (2 * key + value) * a.linear_conv_kernel);
  g.vec(m + "A_log", WeightRole::Norm, i, v_heads);
  g.vec(m + "dt_bias", WeightRole::Norm, i, v_heads);
  g.vec(m + "norm", WeightRole::Norm, i, a.linear_value_head_dim);
  g.linear(m + "out_proj", WeightRole::Mamba, i, h, value);
}

// Gated attention: q_proj carries the query and a per-channel output gate (twice the width), q/k RMSNorms per head.
void add_gated_attention(Groups& g, const ModelArch& a, const Layout& l, const std::string& p, int i) {
  const std::uint64_t h = a.hidden_size;
  const std::uint64_t q = a.num_attention_heads * a.head_dim;
  const std::uint64_t kv = a.num_key_value_heads * a.head_dim;
  g.linear(p + "self_attn.q_proj", WeightRole::Attention, i, l.output_gate ? 2 * q : q, h, l.attention_bias);
  g.linear(p + "self_attn.k_proj", WeightRole::Attention, i, kv, h, l.attention_bias);
  g.linear(p + "self_attn.v_proj", WeightRole::Attention, i, kv, h, l.attention_bias);
  g.linear(p + "self_attn.o_proj", WeightRole::Attention, i, h, q, l.attention_bias);
  g.vec(p + "self_attn.q_norm", WeightRole::Norm, i, a.head_dim);
  g.vec(p + "self_attn.k_norm", WeightRole::Norm, i, a.head_dim);
}

void add_swiglu(Groups& g, const std::string& p, WeightRole role, int i, std::uint64_t h, std::uint64_t inter) {
  g.linear(p + "gate_proj", role, i, inter, h);
  g.linear(p + "up_proj", role, i, inter, h);
  g.linear(p + "down_proj", role, i, h, inter);
}

// The sparse MoE block: router, routed experts, and the shared expert with its sigmoid gate (one logit).
void add_sparse_moe(Groups& g, const ModelArch& a, const Layout& l, const std::string& p, int i) {
  const std::uint64_t h = a.hidden_size;
  const std::uint64_t e = a.num_experts;
  const std::uint64_t inter = a.moe_intermediate_size;
  g.linear(p + "mlp.gate", WeightRole::Router, i, e, h);
  g.add(p + "mlp.experts.gate_proj", WeightRole::Experts, i, e, inter, h, 0);
  g.add(p + "mlp.experts.up_proj", WeightRole::Experts, i, e, inter, h, 0);
  g.add(p + "mlp.experts.down_proj", WeightRole::Experts, i, e, h, inter, 0);
  if (l.shared_expert > 0) {
    add_swiglu(g, p + "mlp.shared_expert.", WeightRole::Mlp, i, h, l.shared_expert);
    g.linear(p + "mlp.shared_expert_gate", WeightRole::Router, i, 1, h);
  }
}

// One decoder layer: its token mixer, its feed-forward block, its two RMSNorms. Returns whether it is a MoE layer.
bool add_layer(Groups& g, const ModelArch& a, const Layout& l, const std::string& p, int i, LayerKind kind, bool moe) {
  if (kind == LayerKind::LinearAttention) add_gated_delta_net(g, a, l, p, i);
  else add_gated_attention(g, a, l, p, i);
  if (moe) add_sparse_moe(g, a, l, p, i);
  else add_swiglu(g, p + "mlp.", WeightRole::Mlp, i, a.hidden_size, a.intermediate_size);
  g.vec(p + "input_layernorm+post_attention_layernorm", WeightRole::Norm, i, 2 * a.hidden_size);
  return moe;
}

// The multi-token-prediction layers: counted into arch.mtp_params only (vLLM loads them for speculative decoding).
void count_mtp(ModelArch& a, const Layout& l, ConfigReader& cfg) {
  a.mtp_layers = cfg.count_or_zero({"mtp_num_hidden_layers"}, kMaxLayers).value_or(0);
  if (a.mtp_layers == 0) return;
  std::vector<WeightGroup> mtp;
  Groups g(&mtp, cfg.origin());
  const std::uint64_t h = a.hidden_size;
  if (cfg.flag("mtp_use_dedicated_embeddings").value_or(false))
    g.linear("mtp.embed_tokens", WeightRole::Embedding, -1, a.vocab_size, h);
  g.linear("mtp.fc", WeightRole::Mlp, -1, h, 2 * h);
  g.vec("mtp.pre_fc_norm_embedding+pre_fc_norm_hidden", WeightRole::Norm, -1, 2 * h);
  for (std::uint64_t k = 0; k < a.mtp_layers; ++k)
    add_layer(g, a, l, fmt::format("mtp.layers.{}.", k), -1, LayerKind::FullAttention, a.num_experts > 0);
  g.vec("mtp.norm", WeightRole::Norm, -1, h);
  a.mtp_params = g.total();
  a.warnings.push_back(fmt::format(
      "the checkpoint's {} multi-token-prediction layer(s) ({} parameters) are not counted in the served weights: "
      "vLLM loads them only for speculative decoding (--speculative-config with method mtp)",
      a.mtp_layers, format_count(a.mtp_params)));
}

}  // namespace

void build_qwen3_5_text(ModelArch& arch, const Family& family, ConfigReader& text) {
  Groups g(&arch.weights, text.origin());
  const Layout l = read_layout(family, text);
  // The wrapper's checkpoint nests the language model under model.language_model (Qwen3-VL's layout).
  const std::string base = text.prefix().empty() ? "model." : "model.language_model.";
  const std::uint64_t h = arch.hidden_size;
  g.linear(base + "embed_tokens", WeightRole::Embedding, -1, arch.vocab_size, h);
  for (std::uint64_t li = 0; li < arch.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    if (add_layer(g, arch, l, fmt::format("{}layers.{}.", base, i), i, arch.layer_kinds[li], is_moe_layer(arch, l, li)))
      ++arch.moe_layers;
  }
  g.vec(base + "norm", WeightRole::Norm, -1, h);
  if (!arch.tie_word_embeddings) g.linear("lm_head", WeightRole::LmHead, -1, arch.vocab_size, h);
  count_mtp(arch, l, text);
}

std::uint64_t build_qwen3_5_vision(ModelArch& arch, const nlohmann::json& vision_config, std::string_view origin) {
  // transformers' Qwen3_5VisionConfig defaults, for fields a config omits.
  const nlohmann::json defaults = {{"depth", 27},
                                   {"hidden_size", 1152},
                                   {"intermediate_size", 4304},
                                   {"in_channels", 3},
                                   {"patch_size", 16},
                                   {"spatial_merge_size", 2},
                                   {"temporal_patch_size", 2},
                                   {"out_hidden_size", 3584},
                                   {"num_position_embeddings", 2304}};
  ConfigReader v(vision_config, std::string(origin), "vision_config.", defaults);
  const std::uint64_t h = v.require_count({"hidden_size"}, kMaxWidth);
  const std::uint64_t inter = v.require_count({"intermediate_size"}, kMaxIntermediate);
  const std::uint64_t depth = v.require_count({"depth"}, kMaxLayers);
  const std::uint64_t patch = v.require_count({"patch_size"}, kMaxWidth);
  const std::uint64_t temporal = v.require_count({"temporal_patch_size"}, 64);
  const std::uint64_t channels = v.require_count({"in_channels"}, 16);
  const std::uint64_t merge = v.require_count({"spatial_merge_size"}, 64);
  const std::uint64_t out = v.require_count({"out_hidden_size"}, kMaxWidth);
  const std::uint64_t positions = v.require_count({"num_position_embeddings"}, kMaxPositions);
  const std::uint64_t deepstack =
      v.index_list("deepstack_visual_indexes", depth).value_or(std::vector<std::uint64_t>{}).size();

  Groups g(&arch.weights, std::string(origin));
  g.add("model.visual.patch_embed.proj", WeightRole::Vision, -1, 1, h, channels * temporal * patch * patch, h);
  g.vec("model.visual.pos_embed", WeightRole::Vision, -1, positions * h);
  for (std::uint64_t i = 0; i < depth; ++i) {
    const std::string p = fmt::format("model.visual.blocks.{}.", i);
    g.vec(p + "norm1+norm2", WeightRole::Vision, -1, 4 * h);  // two LayerNorms with bias
    g.linear(p + "attn.qkv", WeightRole::Vision, -1, 3 * h, h, true);
    g.linear(p + "attn.proj", WeightRole::Vision, -1, h, h, true);
    g.linear(p + "mlp.linear_fc1", WeightRole::Vision, -1, inter, h, true);
    g.linear(p + "mlp.linear_fc2", WeightRole::Vision, -1, h, inter, true);
  }
  // The merger concatenates merge x merge patches; deepstack mergers normalize after that shuffle (wider norm).
  const std::uint64_t merged = h * merge * merge;
  for (std::uint64_t m = 0; m <= deepstack; ++m) {
    const std::string p =
        m == 0 ? "model.visual.merger." : fmt::format("model.visual.deepstack_merger_list.{}.", m - 1);
    g.vec(p + "norm", WeightRole::Vision, -1, 2 * (m == 0 ? h : merged));
    g.linear(p + "linear_fc1", WeightRole::Vision, -1, merged, merged, true);
    g.linear(p + "linear_fc2", WeightRole::Vision, -1, out, merged, true);
  }
  if (!v.defaulted().empty()) {
    std::string omitted;
    for (const auto& f : v.defaulted()) omitted += (omitted.empty() ? "" : ", ") + f;
    arch.warnings.push_back(
        fmt::format("vision_config omits {}: using transformers' Qwen 3.5 vision defaults", omitted));
  }
  return g.total();
}

}  // namespace vramcalc::detail
