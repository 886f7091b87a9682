// LFM2 / LFM2.5 (model_type lfm2), as transformers' modeling_lfm2.py and vLLM's lfm2.py lay it out: each layer is
// a gated short convolution ("conv": in_proj hidden -> 3 hidden (B, C, x), a depthwise conv of conv_L_cache taps,
// out_proj) or GQA attention (q/k/v/out_proj with per-head RMSNorms q_layernorm, k_layernorm), then a SwiGLU
// feed-forward w1/w3/w2 whose width transformers derives from block_ff_dim (or intermediate_size):
// block_auto_adjust_ff_dim takes 2/3 of it, times block_ffn_dim_multiplier, rounded up to block_multiple_of.
// Norms: operator_norm and ffn_norm per layer, embedding_norm at the top; embeddings tied ("tie_embedding").
#include <cmath>

#include <fmt/format.h>

#include "model/weights_moe2026.hpp"

namespace vramcalc::detail {

namespace {

std::uint64_t lfm2_ff_dim(ConfigReader& cfg, std::uint64_t intermediate) {
  std::uint64_t ff = cfg.count({"block_ff_dim"}, kMaxIntermediate).value_or(intermediate);
  if (!cfg.flag("block_auto_adjust_ff_dim").value_or(true)) return ff;
  ff = 2 * ff / 3;  // transformers: int(2 * ff / 3)
  if (auto m = cfg.number("block_ffn_dim_multiplier"))
    ff = static_cast<std::uint64_t>(std::floor(*m * static_cast<double>(ff)));
  const std::uint64_t multiple = cfg.count({"block_multiple_of"}, kMaxIntermediate).value_or(256);
  return multiple * ((ff + multiple - 1) / multiple);
}

}  // namespace

void build_lfm2(ModelArch& a, ConfigReader& cfg) {
  const std::uint64_t h = a.hidden_size;
  if (auto tie = cfg.flag("tie_embedding")) a.tie_word_embeddings = *tie;  // LFM2's own spelling
  const bool conv_bias = cfg.flag("conv_bias").value_or(false);
  a.short_conv_kernel = cfg.count({"conv_L_cache"}, 64).value_or(3);
  a.short_conv_dim = cfg.count({"conv_dim"}, kMaxWidth).value_or(h);
  const std::uint64_t ff = lfm2_ff_dim(cfg, a.intermediate_size);
  a.intermediate_size = ff;
  const std::uint64_t q_out = a.num_attention_heads * a.head_dim;
  const std::uint64_t kv_out = a.num_key_value_heads * a.head_dim;

  GroupSink b(&a.weights, cfg.origin());
  b.linear("model.embed_tokens", WeightRole::Embedding, -1, a.vocab_size, h);
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    const std::string p = fmt::format("model.layers.{}.", i);
    b.vec(p + "norms", WeightRole::Norm, i, 2 * h);  // operator_norm, ffn_norm
    if (a.layer_kinds[li] == LayerKind::ShortConv) {
      b.linear(p + "conv.in_proj", WeightRole::Mamba, i, 3 * a.short_conv_dim, h, conv_bias);
      b.add(p + "conv.conv", WeightRole::Mamba, i, 0, 0, 0,
            a.short_conv_dim * a.short_conv_kernel + (conv_bias ? a.short_conv_dim : 0));
      b.linear(p + "conv.out_proj", WeightRole::Mamba, i, h, a.short_conv_dim, conv_bias);
    } else {
      b.linear(p + "self_attn.q_proj", WeightRole::Attention, i, q_out, h);
      b.linear(p + "self_attn.k_proj", WeightRole::Attention, i, kv_out, h);
      b.linear(p + "self_attn.v_proj", WeightRole::Attention, i, kv_out, h);
      b.linear(p + "self_attn.out_proj", WeightRole::Attention, i, h, q_out);
      b.vec(p + "self_attn.q_layernorm_k_layernorm", WeightRole::Norm, i, 2 * a.head_dim);
    }
    static const char* const kNames[3] = {"w1", "w3", "w2"};
    b.swiglu(p + "feed_forward.", kNames, WeightRole::Mlp, i, h, ff);
  }
  b.vec("model.embedding_norm", WeightRole::Norm, -1, h);
  if (!a.tie_word_embeddings) b.linear("lm_head", WeightRole::LmHead, -1, a.vocab_size, h);
}

}  // namespace vramcalc::detail
