// MiniMax M2 (model_type minimax_m2) and M3 (minimax_m3_vl wrapping a minimax_m3 text model), as their checkpoints
// and vLLM's minimax_m2.py lay them out: GQA attention (q/k/v/o_proj) with RMSNorms on q and k over the whole
// projection (qk_norm_type "per_layer") or per head ("per_head"); block_sparse_moe with a gate, the routing bias
// e_score_correction_bias (use_routing_bias) and routed experts w1/w3 (intermediate_size x hidden) and w2.
// M3 adds: leading dense layers (moe_layer_freq 0 entries, dense_intermediate_size), a shared expert
// (shared_intermediate_size x n_shared_experts), and in its sparse-attention layers (sparse_attention_config's
// sparse_attention_freq) an index branch: index_q_proj (sparse_num_index_heads x sparse_index_dim by hidden),
// index_k_proj (sparse_index_dim x hidden) and their norms, whose keys vLLM caches beside the KV.
// Neither checkpoint ships MTP weights, whatever num_mtp_modules says: nothing is counted for them.
#include <fmt/format.h>

#include "model/weights_moe2026.hpp"

namespace vramcalc::detail {

namespace {

struct MiniMaxShape {
  std::uint64_t h = 0, q_out = 0, kv_out = 0, head_dim = 0, experts = 0, inter = 0, dense_inter = 0, shared = 0;
  std::uint64_t idx_heads = 0, idx_dim = 0;
  bool qk_norm = false, per_head_norm = false, routing_bias = false;
};

// The sparse-attention layers of M3 and their index width; empty when the model has none.
std::vector<bool> read_index_layers(ConfigReader& cfg, std::uint64_t layers, MiniMaxShape& s) {
  const auto* sac = cfg.get("sparse_attention_config");
  if (sac == nullptr || !sac->is_object()) return {};
  ConfigReader sparse(*sac, cfg.origin(), cfg.prefix() + "sparse_attention_config.");
  if (!sparse.flag("use_sparse_attention").value_or(false)) return {};
  s.idx_dim = sparse.require_count({"sparse_index_dim"}, kMaxWidth);
  s.idx_heads = sparse.require_count({"sparse_num_index_heads"}, kMaxHeads);
  std::vector<bool> on(layers, true);
  if (auto freq = sparse.index_list("sparse_attention_freq", 1)) {
    if (freq->size() != layers)
      sparse.fail("sparse_attention_freq", fmt::format("expected {} entries, found {}", layers, freq->size()));
    for (std::uint64_t i = 0; i < layers; ++i) on[i] = (*freq)[i] == 1;
  }
  return on;
}

void add_minimax_layer(GroupSink& b, const MiniMaxShape& s, const std::string& p, int i, bool moe, bool index) {
  b.vec(p + "norms", WeightRole::Norm, i, 2 * s.h);  // input_layernorm, post_attention_layernorm
  const std::string at = p + "self_attn.";
  b.linear(at + "q_proj", WeightRole::Attention, i, s.q_out, s.h);
  b.linear(at + "k_proj", WeightRole::Attention, i, s.kv_out, s.h);
  b.linear(at + "v_proj", WeightRole::Attention, i, s.kv_out, s.h);
  b.linear(at + "o_proj", WeightRole::Attention, i, s.h, s.q_out);
  if (s.qk_norm)
    b.vec(at + "q_norm_k_norm", WeightRole::Norm, i, s.per_head_norm ? 2 * s.head_dim : s.q_out + s.kv_out);
  if (index) {
    b.linear(at + "index_q_proj", WeightRole::Attention, i, s.idx_heads * s.idx_dim, s.h);
    b.linear(at + "index_k_proj", WeightRole::Attention, i, s.idx_dim, s.h);
    b.vec(at + "index_q_norm_k_norm", WeightRole::Norm, i, 2 * s.idx_dim);
  }
  static const char* const kNames[3] = {"gate_proj", "up_proj", "down_proj"};
  if (!moe) {
    b.swiglu(p + "mlp.", kNames, WeightRole::Mlp, i, s.h, s.dense_inter);
    return;
  }
  const std::string m = p + "block_sparse_moe.";
  b.linear(m + "gate", WeightRole::Router, i, s.experts, s.h);
  if (s.routing_bias) b.vec(m + "e_score_correction_bias", WeightRole::Router, i, s.experts);
  b.experts(m + "experts.w1", i, s.experts, s.inter, s.h);
  b.experts(m + "experts.w3", i, s.experts, s.inter, s.h);
  b.experts(m + "experts.w2", i, s.experts, s.h, s.inter);
  if (s.shared > 0) b.swiglu(m + "shared_experts.", kNames, WeightRole::Mlp, i, s.h, s.shared);
}

}  // namespace

void build_minimax(ModelArch& a, const Family& /*family*/, ConfigReader& cfg) {
  MiniMaxShape s;
  s.h = a.hidden_size;
  s.head_dim = a.head_dim;
  s.q_out = a.num_attention_heads * a.head_dim;
  s.kv_out = a.num_key_value_heads * a.head_dim;
  s.experts = a.num_experts;
  s.inter = a.moe_intermediate_size;
  s.dense_inter = cfg.count({"dense_intermediate_size"}, kMaxIntermediate).value_or(a.intermediate_size);
  const std::uint64_t n_shared = cfg.count_or_zero({"n_shared_experts"}, kMaxExperts).value_or(1);
  s.shared = cfg.count_or_zero({"shared_intermediate_size"}, kMaxIntermediate).value_or(0) * n_shared;
  s.qk_norm = cfg.flag("use_qk_norm").value_or(true);
  s.per_head_norm = cfg.text("qk_norm_type").value_or("per_layer") == "per_head";
  s.routing_bias = cfg.flag("use_routing_bias").value_or(false);
  if (s.experts == 0) cfg.fail("num_local_experts", "MiniMax M2/M3 need routed experts");
  const std::vector<bool> moe = moe_layer_flags(cfg, a.num_hidden_layers, 0);
  const std::vector<bool> index = read_index_layers(cfg, a.num_hidden_layers, s);
  if (!index.empty()) {
    a.indexer_head_dim = s.idx_dim;
    a.indexer_layers = index;  // keys cached in the KV dtype (vLLM's MiniMax M3 index cache)
  }

  GroupSink b(&a.weights, cfg.origin());
  b.linear("model.embed_tokens", WeightRole::Embedding, -1, a.vocab_size, s.h);
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    if (moe[li]) ++a.moe_layers;
    add_minimax_layer(b, s, fmt::format("model.layers.{}.", i), i, moe[li], !index.empty() && index[li]);
  }
  b.vec("model.norm", WeightRole::Norm, -1, s.h);
  if (!a.tie_word_embeddings) b.linear("lm_head", WeightRole::LmHead, -1, a.vocab_size, s.h);
}

std::uint64_t build_minimax_m3_vision(ModelArch& a, const nlohmann::json& top, std::string_view origin) {
  ConfigReader wrapper(top, std::string(origin), "");
  const auto* vc = wrapper.get("vision_config");
  if (vc == nullptr || !vc->is_object()) wrapper.fail("vision_config", "expected an object");
  ConfigReader v(*vc, std::string(origin), "vision_config.");
  const std::uint64_t h = v.require_count({"hidden_size"}, kMaxWidth);
  const std::uint64_t inter = v.require_count({"intermediate_size"}, kMaxIntermediate);
  const std::uint64_t layers = v.require_count({"num_hidden_layers"}, kMaxLayers);
  const std::uint64_t patch = v.require_count({"patch_size"}, kMaxWidth);
  const std::uint64_t channels = v.count({"num_channels"}, 16).value_or(3);
  std::uint64_t temporal = 2;
  std::uint64_t merge = 2;
  if (const auto* itc = wrapper.get("img_token_compression_config"); itc != nullptr && itc->is_object()) {
    ConfigReader c(*itc, std::string(origin), "img_token_compression_config.");
    temporal = c.count({"temporal_patch_size"}, 64).value_or(2);
    merge = c.count({"spatial_merge_size"}, 64).value_or(2);
  }
  const std::uint64_t proj = wrapper.count({"projector_hidden_size"}, kMaxWidth).value_or(a.hidden_size);
  const std::uint64_t text_h = a.hidden_size;

  GroupSink b(&a.weights, std::string(origin));
  const std::string base = "vision_tower.vision_model.";
  // A 3-D patch embedding over `temporal` frames, no bias, no class token, rotary positions (no table).
  b.add(base + "embeddings.patch_embedding", WeightRole::Vision, -1, 1, h, channels * temporal * patch * patch, 0);
  b.vec(base + "pre_layrnorm", WeightRole::Vision, -1, 2 * h);
  for (std::uint64_t i = 0; i < layers; ++i) {
    const std::string p = fmt::format("{}encoder.layers.{}.", base, i);
    b.add(p + "self_attn", WeightRole::Vision, -1, 4, h, h, 4 * h);    // q/k/v/out_proj with biases
    b.add(p + "mlp", WeightRole::Vision, -1, 2, inter, h, inter + h);  // fc1, fc2 with biases
    b.vec(p + "layer_norms", WeightRole::Vision, -1, 4 * h);           // two LayerNorms with biases
  }
  b.linear("multi_modal_projector.linear_1", WeightRole::Vision, -1, proj, h, true);
  b.linear("multi_modal_projector.linear_2", WeightRole::Vision, -1, text_h, proj, true);
  b.linear("patch_merge_mlp.linear_1", WeightRole::Vision, -1, text_h, text_h * merge * merge, true);
  b.linear("patch_merge_mlp.linear_2", WeightRole::Vision, -1, text_h, text_h, true);
  return b.total();
}

}  // namespace vramcalc::detail
