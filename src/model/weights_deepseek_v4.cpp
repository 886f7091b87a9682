// DeepSeek V4 (model_type deepseek_v4), as its checkpoint and vLLM's deepseek_v4.py lay it out:
//   attention: wq_a (q_lora_rank x hidden) + q_norm, wq_b (heads x head_dim x q_lora_rank), one shared KV head
//     wkv (head_dim x hidden) + kv_norm, a grouped low-rank output wo_a (o_groups x o_lora_rank by
//     heads x head_dim / o_groups) and wo_b (hidden x o_groups x o_lora_rank), one attention sink per head;
//   compress_ratios[i] > 1: a compressor (wkv and wgate of coff x head_dim rows, coff = 2 for ratio 4 whose windows
//     overlap, else 1; a position table `ape` of ratio x coff x head_dim; a norm); ratio 4 layers also hold the
//     lightning indexer (wq_b, weights_proj and its own compressor of index_head_dim);
//   MoE in every layer: gate (+ e_score_correction_bias, or a token-to-expert table tid2eid in the first
//     num_hash_layers hash-routed layers), routed experts w1/w3/w2, n_shared_experts shared experts;
//   hyper-connections (hc_mult residual streams): hc_{attn,ffn}_{fn,base,scale} per layer, hc_head at the top.
// MTP layers (mtp.N: one more such layer with e_proj, h_proj and their norms) are summed into mtp_params.
#include <fmt/format.h>

#include "model/weights_moe2026.hpp"
#include "vramcalc/core/error.hpp"

namespace vramcalc::detail {

namespace {

struct V4Shape {
  std::uint64_t h = 0, heads = 0, head_dim = 0, q_rank = 0, o_rank = 0, o_groups = 0;
  std::uint64_t idx_heads = 0, idx_dim = 0, experts = 0, inter = 0, shared = 0, hc_mult = 0, vocab = 0, top_k = 0;
  [[nodiscard]] std::uint64_t hc_mix() const { return (2 + hc_mult) * hc_mult; }  // pre, post and res mixes
  [[nodiscard]] std::uint64_t hc_dim() const { return hc_mult * h; }
};

V4Shape read_shape(const ModelArch& a, ConfigReader& cfg) {
  V4Shape s;
  s.h = a.hidden_size;
  s.heads = a.num_attention_heads;
  s.head_dim = a.head_dim;
  s.q_rank = cfg.require_count({"q_lora_rank"}, kMaxWidth);
  s.o_rank = cfg.require_count({"o_lora_rank"}, kMaxWidth);
  s.o_groups = cfg.require_count({"o_groups"}, kMaxHeads);
  s.idx_heads = cfg.require_count({"index_n_heads"}, kMaxHeads);
  s.idx_dim = cfg.require_count({"index_head_dim"}, kMaxWidth);
  s.experts = a.num_experts;
  s.inter = a.moe_intermediate_size;
  s.shared = a.shared_experts;
  s.hc_mult = cfg.count({"hc_mult"}, 64).value_or(4);
  s.vocab = a.vocab_size;
  s.top_k = a.experts_per_token;
  if (s.experts == 0) cfg.fail("n_routed_experts", "DeepSeek V4 needs routed experts");
  if ((s.heads * s.head_dim) % s.o_groups != 0)
    cfg.fail("o_groups",
             fmt::format("{} groups do not divide {} heads x {} head_dim", s.o_groups, s.heads, s.head_dim));
  return s;
}

// A compressor of `dim`-wide entries for `ratio` tokens each.
void add_compressor(GroupSink& b, const std::string& p, int i, std::uint64_t hidden, std::uint64_t dim,
                    std::uint64_t ratio) {
  const std::uint64_t coff = ratio == 4 ? 2 : 1;
  b.linear(p + "wkv", WeightRole::Attention, i, coff * dim, hidden);
  b.linear(p + "wgate", WeightRole::Attention, i, coff * dim, hidden);
  b.vec(p + "ape", WeightRole::Norm, i, ratio * coff * dim);
  b.vec(p + "norm", WeightRole::Norm, i, dim);
}

// One decoder layer (also the body of an MTP layer).
void add_v4_layer(GroupSink& b, const V4Shape& s, const std::string& p, int i, std::uint64_t ratio, bool hash_routed) {
  const std::uint64_t q_out = s.heads * s.head_dim;
  b.linear(p + "attn.wq_a", WeightRole::Attention, i, s.q_rank, s.h);
  b.vec(p + "attn.q_norm", WeightRole::Norm, i, s.q_rank);
  b.linear(p + "attn.wq_b", WeightRole::Attention, i, q_out, s.q_rank);
  b.linear(p + "attn.wkv", WeightRole::Attention, i, s.head_dim, s.h);
  b.vec(p + "attn.kv_norm", WeightRole::Norm, i, s.head_dim);
  b.linear(p + "attn.wo_a", WeightRole::Attention, i, s.o_groups * s.o_rank, q_out / s.o_groups);
  b.linear(p + "attn.wo_b", WeightRole::Attention, i, s.h, s.o_groups * s.o_rank);
  b.vec(p + "attn.attn_sink", WeightRole::Norm, i, s.heads);
  if (ratio > 1) add_compressor(b, p + "attn.compressor.", i, s.h, s.head_dim, ratio);
  if (ratio == 4) {  // only the ratio-4 layers attend sparsely, through the indexer
    b.linear(p + "attn.indexer.wq_b", WeightRole::Attention, i, s.idx_heads * s.idx_dim, s.q_rank);
    b.linear(p + "attn.indexer.weights_proj", WeightRole::Attention, i, s.idx_heads, s.h);
    add_compressor(b, p + "attn.indexer.compressor.", i, s.h, s.idx_dim, ratio);
  }
  b.linear(p + "ffn.gate", WeightRole::Router, i, s.experts, s.h);
  if (hash_routed) b.vec(p + "ffn.gate.tid2eid", WeightRole::Router, i, s.vocab * s.top_k);
  else b.vec(p + "ffn.gate.bias", WeightRole::Router, i, s.experts);  // e_score_correction_bias
  b.experts(p + "ffn.experts.w1", i, s.experts, s.inter, s.h);
  b.experts(p + "ffn.experts.w3", i, s.experts, s.inter, s.h);
  b.experts(p + "ffn.experts.w2", i, s.experts, s.h, s.inter);
  if (s.shared > 0) {
    static const char* const kNames[3] = {"w1", "w3", "w2"};
    b.swiglu(p + "ffn.shared_experts.", kNames, WeightRole::Mlp, i, s.h, s.inter * s.shared);
  }
  b.vec(p + "norms", WeightRole::Norm, i, 2 * s.h);  // attn_norm, ffn_norm
  b.vec(p + "hc_attn_ffn", WeightRole::Norm, i, 2 * (s.hc_mix() * s.hc_dim() + s.hc_mix() + 3));
}

// compress_ratios: one entry per decoder layer (the list may go on with the MTP layers' entries).
std::vector<std::uint64_t> read_ratios(ConfigReader& cfg, std::uint64_t layers) {
  const auto* list = cfg.get("compress_ratios");
  if (list == nullptr) return std::vector<std::uint64_t>(layers, 0);
  if (!list->is_array()) cfg.fail("compress_ratios", "expected a list of integers");
  std::vector<std::uint64_t> r;
  for (const auto& e : *list) {
    if (!e.is_number_integer() || e.get<std::int64_t>() < 0)
      cfg.fail("compress_ratios", "expected non-negative integers");
    r.push_back(e.get<std::uint64_t>());
  }
  if (r.size() < layers) cfg.fail("compress_ratios", fmt::format("has {} entries for {} layers", r.size(), layers));
  r.resize(layers);
  return r;
}

// vLLM's DeepseekV4FP8Config: FP8 128x128 blocks (UE8M0 scales) for the linear layers, the routed experts in the
// format `expert_dtype` names (default fp4: MXFP4, an E8M0 scale per 32), compressors and weights_proj in bf16.
void apply_v4_quantization(ModelArch& a, ConfigReader& cfg) {
  if (a.quant.method != QuantScheme::Method::Fp8) return;
  a.quant.ignore.emplace_back("compressor");
  a.quant.ignore.emplace_back("weights_proj");
  const std::string expert_dtype = cfg.text("expert_dtype").value_or("fp4");
  if (expert_dtype != "fp4") return;  // fp8 experts (V4-Flash-Base): the same FP8 blocks as the rest
  QuantScheme fp4;
  fp4.method = QuantScheme::Method::Mxfp4;
  fp4.method_name = "deepseek_v4 expert_dtype fp4";
  fp4.bits = 4;
  fp4.is_float = true;
  fp4.group_size = 32;
  fp4.scale_bytes = 1;
  a.quant.overrides.push_back({"@experts", std::make_shared<const QuantScheme>(std::move(fp4))});
}

}  // namespace

void build_deepseek_v4(ModelArch& a, ConfigReader& cfg) {
  const V4Shape s = read_shape(a, cfg);
  const std::uint64_t rope = cfg.require_count({"qk_rope_head_dim"}, kMaxWidth);
  const std::uint64_t hash_layers = cfg.count_or_zero({"num_hash_layers"}, kMaxLayers).value_or(0);
  a.compress_ratios = read_ratios(cfg, a.num_hidden_layers);
  // vLLM serves the single 512-wide KV head as MLA (kv_lora_rank = head_dim): nope 448 + rope 64 per token.
  a.mla = true;
  a.qk_rope_head_dim = rope;
  a.kv_lora_rank = s.head_dim - rope;
  a.indexer_head_dim = s.idx_dim;
  a.indexer_fp8 = true;
  a.indexer_layers.assign(a.num_hidden_layers, false);
  for (std::uint64_t i = 0; i < a.num_hidden_layers; ++i) {
    a.indexer_layers[i] = a.compress_ratios[i] == 4;
    // Ratio 0: a sliding window only; otherwise compressed entries for the whole context (plus the window).
    a.layer_kinds[i] = a.compress_ratios[i] > 1 ? LayerKind::FullAttention : LayerKind::SlidingAttention;
  }
  a.layer_attention.clear();
  for (std::size_t i = 0; i < a.layer_kinds.size(); ++i) a.layer_attention.push_back(a.attention_at(i));
  apply_v4_quantization(a, cfg);

  GroupSink b(&a.weights, cfg.origin());
  b.linear("model.embed_tokens", WeightRole::Embedding, -1, s.vocab, s.h);
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    add_v4_layer(b, s, fmt::format("model.layers.{}.", i), i, a.compress_ratios[li], li < hash_layers);
    ++a.moe_layers;
  }
  b.vec("model.norm", WeightRole::Norm, -1, s.h);
  b.vec("model.hc_head", WeightRole::Norm, -1, s.hc_mult * s.hc_dim() + s.hc_mult + 1);
  if (!a.tie_word_embeddings) b.linear("lm_head", WeightRole::LmHead, -1, s.vocab, s.h);

  // MTP: a decoder layer without compressor, e_proj/h_proj (hidden x hidden) with enorm/hnorm, its own norm and
  // hc_head; it shares the embedding and the head.
  a.mtp_layers = cfg.count_or_zero({"num_nextn_predict_layers"}, kMaxLayers).value_or(0);
  GroupSink mtp(nullptr, cfg.origin());
  for (std::uint64_t k = 0; k < a.mtp_layers; ++k) {
    const std::string p = fmt::format("mtp.{}.", k);
    add_v4_layer(mtp, s, p, -1, 0, false);
    mtp.linear(p + "e_proj", WeightRole::Attention, -1, s.h, s.h);
    mtp.linear(p + "h_proj", WeightRole::Attention, -1, s.h, s.h);
    mtp.vec(p + "enorm_hnorm_norm", WeightRole::Norm, -1, 3 * s.h);
    mtp.vec(p + "hc_head", WeightRole::Norm, -1, s.hc_mult * s.hc_dim() + s.hc_mult + 1);
  }
  a.mtp_params = mtp.total();
}

}  // namespace vramcalc::detail
