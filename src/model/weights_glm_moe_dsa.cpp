// GLM 5 (model_type glm_moe_dsa), as transformers' modeling_glm_moe_dsa.py and the checkpoint lay it out:
// DeepSeek V3.2's multi-head latent attention with the DSA (DeepSeek sparse attention) indexer in every layer
// (wq_b: index_n_heads x index_head_dim by q_lora_rank, wk: index_head_dim x hidden, k_norm a LayerNorm with bias,
// weights_proj: index_n_heads x hidden), first_k_dense_replace dense SwiGLU layers, then MoE layers (gate +
// e_score_correction_bias, routed experts, n_shared_experts shared experts). The num_nextn_predict_layers MTP layers
// (model.layers.N for N >= num_hidden_layers: a full decoder layer plus eh_proj (hidden x 2 hidden), enorm, hnorm
// and shared_head.norm) are summed into mtp_params.
#include <fmt/format.h>

#include "model/weights_moe2026.hpp"

namespace vramcalc::detail {

namespace {

struct DsaShape {
  std::uint64_t h = 0, heads = 0, q_rank = 0, kv_rank = 0, nope = 0, rope = 0, v_dim = 0;
  std::uint64_t idx_heads = 0, idx_dim = 0, experts = 0, moe_inter = 0, dense_inter = 0, shared = 0;
  bool attn_bias = false;
};

DsaShape read_shape(const ModelArch& a, ConfigReader& cfg) {
  DsaShape s;
  s.h = a.hidden_size;
  s.heads = a.num_attention_heads;
  s.q_rank = cfg.require_count({"q_lora_rank"}, kMaxWidth);
  s.kv_rank = a.kv_lora_rank;
  s.nope = cfg.require_count({"qk_nope_head_dim"}, kMaxWidth);
  s.rope = a.qk_rope_head_dim;
  s.v_dim = cfg.require_count({"v_head_dim"}, kMaxWidth);
  s.idx_heads = cfg.require_count({"index_n_heads"}, kMaxHeads);
  s.idx_dim = cfg.require_count({"index_head_dim"}, kMaxWidth);
  s.experts = a.num_experts;
  s.moe_inter = a.moe_intermediate_size;
  s.dense_inter = a.intermediate_size;
  s.shared = a.shared_experts;
  s.attn_bias = cfg.flag("attention_bias").value_or(false);
  if (!a.mla) cfg.fail("kv_lora_rank", "missing (GLM 5's attention is MLA)");
  return s;
}

void add_dsa_layer(GroupSink& b, const DsaShape& s, const std::string& p, int i, bool moe) {
  b.vec(p + "norms", WeightRole::Norm, i, 2 * s.h);  // input_layernorm, post_attention_layernorm
  const std::string at = p + "self_attn.";
  b.linear(at + "q_a_proj", WeightRole::Attention, i, s.q_rank, s.h, s.attn_bias);
  b.vec(at + "q_a_layernorm", WeightRole::Norm, i, s.q_rank);
  b.linear(at + "q_b_proj", WeightRole::Attention, i, s.heads * (s.nope + s.rope), s.q_rank);
  b.linear(at + "kv_a_proj_with_mqa", WeightRole::Attention, i, s.kv_rank + s.rope, s.h, s.attn_bias);
  b.vec(at + "kv_a_layernorm", WeightRole::Norm, i, s.kv_rank);
  b.linear(at + "kv_b_proj", WeightRole::Attention, i, s.heads * (s.nope + s.v_dim), s.kv_rank);
  b.linear(at + "o_proj", WeightRole::Attention, i, s.h, s.heads * s.v_dim, s.attn_bias);
  b.linear(at + "indexer.wq_b", WeightRole::Attention, i, s.idx_heads * s.idx_dim, s.q_rank);
  b.linear(at + "indexer.wk", WeightRole::Attention, i, s.idx_dim, s.h);
  b.vec(at + "indexer.k_norm", WeightRole::Norm, i, 2 * s.idx_dim);  // LayerNorm weight and bias
  b.linear(at + "indexer.weights_proj", WeightRole::Attention, i, s.idx_heads, s.h);
  static const char* const kNames[3] = {"gate_proj", "up_proj", "down_proj"};
  if (!moe) {
    b.swiglu(p + "mlp.", kNames, WeightRole::Mlp, i, s.h, s.dense_inter);
    return;
  }
  b.linear(p + "mlp.gate", WeightRole::Router, i, s.experts, s.h);
  b.vec(p + "mlp.gate.e_score_correction_bias", WeightRole::Router, i, s.experts);
  b.experts(p + "mlp.experts.gate_proj", i, s.experts, s.moe_inter, s.h);
  b.experts(p + "mlp.experts.up_proj", i, s.experts, s.moe_inter, s.h);
  b.experts(p + "mlp.experts.down_proj", i, s.experts, s.h, s.moe_inter);
  if (s.shared > 0) b.swiglu(p + "mlp.shared_experts.", kNames, WeightRole::Mlp, i, s.h, s.moe_inter * s.shared);
}

}  // namespace

void build_glm_moe_dsa(ModelArch& a, ConfigReader& cfg) {
  const DsaShape s = read_shape(a, cfg);
  const std::uint64_t first_dense = cfg.count_or_zero({"first_k_dense_replace"}, kMaxLayers).value_or(0);
  const std::vector<bool> moe = moe_layer_flags(cfg, a.num_hidden_layers, first_dense);
  a.indexer_head_dim = s.idx_dim;
  a.indexer_fp8 = true;  // vLLM's DSA indexer cache: FP8 keys + a float32 scale per 128, whatever the KV dtype
  a.indexer_layers.assign(a.num_hidden_layers, true);

  GroupSink b(&a.weights, cfg.origin());
  b.linear("model.embed_tokens", WeightRole::Embedding, -1, a.vocab_size, s.h);
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    if (moe[li] && s.experts > 0) ++a.moe_layers;
    add_dsa_layer(b, s, fmt::format("model.layers.{}.", i), i, moe[li] && s.experts > 0);
  }
  b.vec("model.norm", WeightRole::Norm, -1, s.h);
  if (!a.tie_word_embeddings) b.linear("lm_head", WeightRole::LmHead, -1, a.vocab_size, s.h);

  a.mtp_layers = cfg.count_or_zero({"num_nextn_predict_layers"}, kMaxLayers).value_or(0);
  GroupSink mtp(nullptr, cfg.origin());
  for (std::uint64_t k = 0; k < a.mtp_layers; ++k) {
    const std::string p = fmt::format("model.layers.{}.", a.num_hidden_layers + k);
    add_dsa_layer(mtp, s, p, -1, s.experts > 0);
    mtp.linear(p + "eh_proj", WeightRole::Attention, -1, s.h, 2 * s.h);
    mtp.vec(p + "enorm_hnorm_shared_head_norm", WeightRole::Norm, -1, 3 * s.h);
  }
  a.mtp_params = mtp.total();
}

}  // namespace vramcalc::detail
