// Every parameter of a model, as named groups. The layouts follow the transformers modeling code of each
// family; tests check the totals against exact counts of real configs (tests/data/param_counts.jsonl).
#include <fmt/format.h>

#include "model/build.hpp"
#include "model/config_reader.hpp"
#include "model/families.hpp"
#include "model/group_sink.hpp"
#include "model/weights_gemma4.hpp"   // build_gemma4_text
#include "model/weights_moe2026.hpp"  // issue 14: DeepSeek V4, GLM 5, MiniMax M2/M3, LFM2
#include "model/weights_qwen3_5.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc::detail {

namespace {

// Every group goes through the model layer's one sink (model/group_sink.hpp), under its older name here.
using Builder = GroupSink;

std::string layer_prefix(int i) { return fmt::format("model.layers.{}.", i); }

// A gated (SwiGLU) or plain MLP of `inter` intermediate size.
void add_mlp(Builder& b, const std::string& p, int i, std::uint64_t hidden, std::uint64_t inter, bool bias,
             WeightRole role = WeightRole::Mlp) {
  b.linear(p + "gate_proj", role, i, inter, hidden, bias);
  b.linear(p + "up_proj", role, i, inter, hidden, bias);
  b.linear(p + "down_proj", role, i, hidden, inter, bias);
}

struct AttentionLayout {
  bool q_bias = false;
  bool kv_bias = false;
  bool o_bias = false;
  bool qk_norm = false;
  bool sinks = false;
};

void add_attention(Builder& b, const ModelArch& a, const std::string& p, int i, const AttentionLayout& l) {
  const std::uint64_t q_out = a.num_attention_heads * a.head_dim;
  const std::uint64_t kv_out = a.num_key_value_heads * a.head_dim;
  b.linear(p + "self_attn.q_proj", WeightRole::Attention, i, q_out, a.hidden_size, l.q_bias);
  b.linear(p + "self_attn.k_proj", WeightRole::Attention, i, kv_out, a.hidden_size, l.kv_bias);
  b.linear(p + "self_attn.v_proj", WeightRole::Attention, i, kv_out, a.hidden_size, l.kv_bias);
  b.linear(p + "self_attn.o_proj", WeightRole::Attention, i, a.hidden_size, q_out, l.o_bias);
  if (l.qk_norm) b.vec(p + "self_attn.qk_norm", WeightRole::Norm, i, 2 * a.head_dim);
  if (l.sinks) b.vec(p + "self_attn.sinks", WeightRole::Norm, i, a.num_attention_heads);
}

// Multi-head latent attention (DeepSeek-V2/V3): low-rank q (optional) and a shared compressed KV latent.
void add_mla(Builder& b, const ModelArch& a, ConfigReader& cfg, const std::string& p, int i) {
  const std::uint64_t heads = a.num_attention_heads;
  const std::uint64_t nope = cfg.require_count({"qk_nope_head_dim"}, kMaxWidth);
  const std::uint64_t rope = a.qk_rope_head_dim;
  const std::uint64_t v_dim = cfg.require_count({"v_head_dim"}, kMaxWidth);
  const bool bias = cfg.flag("attention_bias").value_or(false);
  if (auto q_rank = cfg.count({"q_lora_rank"}, kMaxWidth)) {
    b.linear(p + "self_attn.q_a_proj", WeightRole::Attention, i, *q_rank, a.hidden_size, bias);
    b.vec(p + "self_attn.q_a_layernorm", WeightRole::Norm, i, *q_rank);
    b.linear(p + "self_attn.q_b_proj", WeightRole::Attention, i, heads * (nope + rope), *q_rank, false);
  } else {
    b.linear(p + "self_attn.q_proj", WeightRole::Attention, i, heads * (nope + rope), a.hidden_size, false);
  }
  b.linear(p + "self_attn.kv_a_proj_with_mqa", WeightRole::Attention, i, a.kv_lora_rank + rope, a.hidden_size, bias);
  b.vec(p + "self_attn.kv_a_layernorm", WeightRole::Norm, i, a.kv_lora_rank);
  b.linear(p + "self_attn.kv_b_proj", WeightRole::Attention, i, heads * (nope + v_dim), a.kv_lora_rank, false);
  b.linear(p + "self_attn.o_proj", WeightRole::Attention, i, a.hidden_size, heads * v_dim, bias);
}

// Which layers of a Llama-stack family hold routed experts, and the dense intermediate size of the others.
bool is_moe_layer(const ModelArch& a, const Family& f, ConfigReader& cfg, std::uint64_t i) {
  if (a.num_experts == 0) return false;
  switch (f.moe) {
    case MoeStyle::None: return false;
    case MoeStyle::Mixtral:
    case MoeStyle::GptOss: return true;
    case MoeStyle::Qwen: {
      for (auto l : cfg.index_list("mlp_only_layers", kMaxLayers).value_or(std::vector<std::uint64_t>{}))
        if (l == i) return false;
      const std::uint64_t step = cfg.count({"decoder_sparse_step"}, kMaxLayers).value_or(1);
      return (i + 1) % step == 0;
    }
    case MoeStyle::DeepSeek: {
      const std::uint64_t first_dense = cfg.count_or_zero({"first_k_dense_replace"}, kMaxLayers).value_or(0);
      const std::uint64_t freq = cfg.count({"moe_layer_freq"}, kMaxLayers).value_or(1);
      return i >= first_dense && i % freq == 0;
    }
    case MoeStyle::Llama4: {
      if (auto listed = cfg.index_list("moe_layers", kMaxLayers)) {
        for (auto l : *listed)
          if (l == i) return true;
        return false;
      }
      const std::uint64_t step = cfg.count({"interleave_moe_layer_step"}, kMaxLayers).value_or(1);
      return (i + 1) % step == 0;
    }
  }
  return false;
}

void add_moe(Builder& b, const ModelArch& a, const Family& f, ConfigReader& cfg, const std::string& p, int i) {
  const std::uint64_t h = a.hidden_size;
  const std::uint64_t e = a.num_experts;
  const std::uint64_t inter = a.moe_intermediate_size;
  switch (f.moe) {
    case MoeStyle::GptOss:
      b.linear(p + "mlp.router", WeightRole::Router, i, e, h, true);
      b.experts(p + "mlp.experts.gate_up_proj", i, e, 2 * inter, h, true);
      b.experts(p + "mlp.experts.down_proj", i, e, h, inter, true);
      return;
    default:  // DeepSeek's e_score_correction_bias is a buffer, not a parameter: not counted
      b.linear(p + "mlp.gate", WeightRole::Router, i, e, h, false);
      break;
  }
  b.experts(p + "mlp.experts.gate_proj", i, e, inter, h, false);
  b.experts(p + "mlp.experts.up_proj", i, e, inter, h, false);
  b.experts(p + "mlp.experts.down_proj", i, e, h, inter, false);

  if (f.moe == MoeStyle::DeepSeek && a.shared_experts > 0)
    add_mlp(b, p + "mlp.shared_experts.", i, h, inter * a.shared_experts, false);
  if (f.moe == MoeStyle::Llama4) add_mlp(b, p + "feed_forward.shared_expert.", i, h, a.intermediate_size, false);
  if (f.moe == MoeStyle::Qwen) {
    if (auto shared = cfg.count({"shared_expert_intermediate_size"}, kMaxIntermediate)) {
      add_mlp(b, p + "mlp.shared_expert.", i, h, *shared, false);
      b.linear(p + "mlp.shared_expert_gate", WeightRole::Router, i, 1, h, false);
    }
  }
}

// DeepSeek-V3 / R1's multi-token-prediction layers (num_nextn_predict_layers, 1; model.layers.61 in the checkpoint's
// last shard): a decoder layer numbered after the model's (MLA, and routed experts past first_k_dense_replace) with
// enorm, hnorm, eh_proj (hidden x 2 hidden) and shared_head.norm. Only summed into mtp_params: vLLM loads them as a
// speculative-decoding draft (vllm/model_executor/models/deepseek_mtp.py), sharing the target's embedding and head,
// which the checkpoint repeats in that layer (embed_tokens, shared_head.head) and which are not counted here.
void count_deepseek_mtp(ModelArch& a, const Family& f, ConfigReader& cfg) {
  a.mtp_layers = cfg.count_or_zero({"num_nextn_predict_layers"}, kMaxLayers).value_or(0);
  Builder mtp(nullptr, cfg.origin());
  const std::uint64_t h = a.hidden_size;
  for (std::uint64_t k = 0; k < a.mtp_layers; ++k) {
    const std::uint64_t li = a.num_hidden_layers + k;
    const std::string p = layer_prefix(static_cast<int>(li));
    add_mla(mtp, a, cfg, p, -1);
    if (is_moe_layer(a, f, cfg, li)) add_moe(mtp, a, f, cfg, p, -1);
    else add_mlp(mtp, p + "mlp.", -1, h, a.intermediate_size, false);
    mtp.vec(p + "norms", WeightRole::Norm, -1, static_cast<std::uint64_t>(f.norms_per_layer) * h);
    mtp.linear(p + "eh_proj", WeightRole::Attention, -1, h, 2 * h);
    mtp.vec(p + "enorm_hnorm_shared_head_norm", WeightRole::Norm, -1, 3 * h);
  }
  a.mtp_params = mtp.total();
}

// Llama, Mistral, Qwen, Gemma, Cohere, Phi-3, Mixtral, DeepSeek, gpt-oss, Llama 4 text, Mllama text.
void build_llama_stack(Builder& b, ModelArch& a, const Family& f, ConfigReader& cfg) {
  const std::uint64_t h = a.hidden_size;
  const bool attention_bias = cfg.flag("attention_bias").value_or(false);
  const bool mlp_bias = cfg.flag("mlp_bias").value_or(false);
  AttentionLayout attn{.q_bias = attention_bias || f.qkv_bias,
                       .kv_bias = attention_bias || f.qkv_bias,
                       .o_bias = attention_bias,
                       .qk_norm = f.qk_norm || cfg.flag("use_qk_norm").value_or(false),
                       .sinks = f.attention_sinks};
  // Llama 4's qk norm is a parameter-free L2 norm; Cohere's is a LayerNorm over every head.
  if (f.moe == MoeStyle::Llama4) attn.qk_norm = false;
  const bool cohere_qk_norm = f.name == "cohere" && cfg.flag("use_qk_norm").value_or(false);
  if (cohere_qk_norm) attn.qk_norm = false;
  const std::uint64_t norm_width = f.norm_bias ? 2 * h : h;
  // Mllama reserves 8 extra embedding rows for image tokens.
  const std::uint64_t embed_rows = a.vocab_size + (f.name == "mllama_text_model" ? 8 : 0);
  const std::uint64_t dense_inter =
      f.moe == MoeStyle::Llama4 ? cfg.count({"intermediate_size_mlp"}, kMaxIntermediate).value_or(a.intermediate_size)
                                : a.intermediate_size;

  b.linear("model.embed_tokens", WeightRole::Embedding, -1, embed_rows, h, false);
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    const std::string p = layer_prefix(i);
    if (a.mla) {
      add_mla(b, a, cfg, p, i);
    } else {
      add_attention(b, a, p, i, attn);
      if (cohere_qk_norm)
        b.vec(p + "self_attn.qk_norm", WeightRole::Norm, i,
              (a.num_attention_heads + a.num_key_value_heads) * a.head_dim);
    }
    if (a.layer_kinds[li] == LayerKind::CrossAttention) {
      b.vec(p + "cross_attn.qk_norm", WeightRole::Norm, i, 2 * a.head_dim);
      b.vec(p + "cross_attn_gates", WeightRole::Norm, i, 2);
    }
    if (is_moe_layer(a, f, cfg, li)) {
      ++a.moe_layers;
      add_moe(b, a, f, cfg, p, i);
    } else {
      add_mlp(b, p + "mlp.", i, h, dense_inter, mlp_bias);
    }
    b.vec(p + "norms", WeightRole::Norm, i, static_cast<std::uint64_t>(f.norms_per_layer) * norm_width);
  }
  b.vec("model.norm", WeightRole::Norm, -1, norm_width);
  if (!a.tie_word_embeddings) b.linear("lm_head", WeightRole::LmHead, -1, a.vocab_size, h, f.lm_head_bias);
  if (f.moe == MoeStyle::DeepSeek && a.mla) count_deepseek_mtp(a, f, cfg);
}

void build_gpt2(Builder& b, ModelArch& a, ConfigReader& cfg) {
  const std::uint64_t h = a.hidden_size;
  const std::uint64_t positions = cfg.count({"n_positions", "max_position_embeddings"}, kMaxPositions).value_or(1024);
  b.linear("transformer.wte", WeightRole::Embedding, -1, a.vocab_size, h, false);
  b.linear("transformer.wpe", WeightRole::Embedding, -1, positions, h, false);
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    const std::string p = fmt::format("transformer.h.{}.", i);
    b.vec(p + "ln_1", WeightRole::Norm, i, 2 * h);
    b.linear(p + "attn.c_attn", WeightRole::Attention, i, 3 * h, h, true);
    b.linear(p + "attn.c_proj", WeightRole::Attention, i, h, h, true);
    b.vec(p + "ln_2", WeightRole::Norm, i, 2 * h);
    b.linear(p + "mlp.c_fc", WeightRole::Mlp, i, a.intermediate_size, h, true);
    b.linear(p + "mlp.c_proj", WeightRole::Mlp, i, h, a.intermediate_size, true);
  }
  b.vec("transformer.ln_f", WeightRole::Norm, -1, 2 * h);
  if (!a.tie_word_embeddings) b.linear("lm_head", WeightRole::LmHead, -1, a.vocab_size, h, false);
}

// BLOOM and GPT-NeoX share a layout: fused qkv with bias, LayerNorms with bias, a 2-matrix MLP with bias.
void build_bloom_or_neox(Builder& b, ModelArch& a, bool bloom) {
  const std::uint64_t h = a.hidden_size;
  const std::string base = bloom ? "transformer." : "gpt_neox.";
  b.linear(base + (bloom ? "word_embeddings" : "embed_in"), WeightRole::Embedding, -1, a.vocab_size, h, false);
  if (bloom) b.vec(base + "word_embeddings_layernorm", WeightRole::Norm, -1, 2 * h);
  const std::uint64_t qkv_out = (a.num_attention_heads + 2 * a.num_key_value_heads) * a.head_dim;
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    const std::string p = base + (bloom ? "h." : "layers.") + std::to_string(i) + ".";
    const std::string attn = p + (bloom ? "self_attention." : "attention.");
    const std::string mlp = p + "mlp.";
    b.vec(p + "layernorms", WeightRole::Norm, i, 4 * h);
    b.linear(attn + "query_key_value", WeightRole::Attention, i, qkv_out, h, true);
    b.linear(attn + "dense", WeightRole::Attention, i, h, a.num_attention_heads * a.head_dim, true);
    b.linear(mlp + "dense_h_to_4h", WeightRole::Mlp, i, a.intermediate_size, h, true);
    b.linear(mlp + "dense_4h_to_h", WeightRole::Mlp, i, h, a.intermediate_size, true);
  }
  b.vec(base + (bloom ? "ln_f" : "final_layer_norm"), WeightRole::Norm, -1, 2 * h);
  if (!a.tie_word_embeddings) b.linear(bloom ? "lm_head" : "embed_out", WeightRole::LmHead, -1, a.vocab_size, h, false);
}

void build_mpt(Builder& b, ModelArch& a, ConfigReader& cfg) {
  const std::uint64_t h = a.hidden_size;
  const bool bias = !cfg.flag("no_bias").value_or(false);
  const std::uint64_t norm = bias ? 2 * h : h;  // transformers drops the LayerNorm biases when no_bias
  b.linear("transformer.wte", WeightRole::Embedding, -1, a.vocab_size, h, false);
  // Read through ConfigReader, not json::value(), so that a mistyped attn_config is a clean error, not a
  // json::type_error (tests/test_fuzz_regressions.cpp).
  bool alibi = false;
  if (const auto* attn = cfg.get("attn_config"); attn != nullptr && attn->is_object())
    alibi = ConfigReader(*attn, cfg.origin(), cfg.prefix() + "attn_config.").flag("alibi").value_or(false);
  if (cfg.flag("learned_pos_emb").value_or(true) && !alibi) {
    const std::uint64_t positions = a.max_position_embeddings.value_or(2048);
    b.linear("transformer.wpe", WeightRole::Embedding, -1, positions, h, false);
  }
  const std::uint64_t qkv_out = (a.num_attention_heads + 2 * a.num_key_value_heads) * a.head_dim;
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    const std::string p = fmt::format("transformer.blocks.{}.", i);
    b.vec(p + "norms", WeightRole::Norm, i, 2 * norm);
    b.linear(p + "attn.Wqkv", WeightRole::Attention, i, qkv_out, h, bias);
    b.linear(p + "attn.out_proj", WeightRole::Attention, i, h, h, bias);
    b.linear(p + "ffn.up_proj", WeightRole::Mlp, i, a.intermediate_size, h, bias);
    b.linear(p + "ffn.down_proj", WeightRole::Mlp, i, h, a.intermediate_size, bias);
  }
  b.vec("transformer.norm_f", WeightRole::Norm, -1, norm);
  if (!a.tie_word_embeddings) b.linear("lm_head", WeightRole::LmHead, -1, a.vocab_size, h, false);
}

void build_falcon(Builder& b, ModelArch& a, ConfigReader& cfg) {
  const std::uint64_t h = a.hidden_size;
  const bool bias = cfg.flag("bias").value_or(false);
  const bool new_arch =
      cfg.flag("new_decoder_architecture").value_or(false) || cfg.text("model_type").value_or("") == "RefinedWeb";
  const bool parallel = cfg.flag("parallel_attn").value_or(true);
  const std::uint64_t norms = new_arch ? 2 : (parallel ? 1 : 2);
  const std::uint64_t qkv_out = (a.num_attention_heads + 2 * a.num_key_value_heads) * a.head_dim;
  b.linear("transformer.word_embeddings", WeightRole::Embedding, -1, a.vocab_size, h, false);
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    const std::string p = fmt::format("transformer.h.{}.", i);
    b.vec(p + "layernorms", WeightRole::Norm, i, norms * 2 * h);
    b.linear(p + "self_attention.query_key_value", WeightRole::Attention, i, qkv_out, h, bias);
    b.linear(p + "self_attention.dense", WeightRole::Attention, i, h, h, bias);
    b.linear(p + "mlp.dense_h_to_4h", WeightRole::Mlp, i, a.intermediate_size, h, bias);
    b.linear(p + "mlp.dense_4h_to_h", WeightRole::Mlp, i, h, a.intermediate_size, bias);
  }
  b.vec("transformer.ln_f", WeightRole::Norm, -1, 2 * h);
  if (!a.tie_word_embeddings) b.linear("lm_head", WeightRole::LmHead, -1, a.vocab_size, h, false);
}

// Nemotron-H: each layer is one of Mamba2 ('M'), attention ('*'), MLP ('-') or MoE ('E'), with one norm.
void build_nemotron_h(Builder& b, ModelArch& a, ConfigReader& cfg) {
  const std::uint64_t h = a.hidden_size;
  const std::string pattern = cfg.text("hybrid_override_pattern").value_or("");
  const bool attn_bias = cfg.flag("attention_bias").value_or(false);
  const bool mlp_bias = cfg.flag("mlp_bias").value_or(false);
  const bool proj_bias = cfg.flag("mamba_proj_bias").value_or(false);
  const bool conv_bias = cfg.flag("use_conv_bias").value_or(true);
  const std::uint64_t inner = a.mamba_num_heads * a.mamba_head_dim;
  const std::uint64_t groups_state = 2 * a.mamba_n_groups * a.ssm_state_size;
  const std::uint64_t conv_dim = inner + groups_state;
  b.linear("backbone.embeddings", WeightRole::Embedding, -1, a.vocab_size, h, false);
  for (std::uint64_t li = 0; li < a.num_hidden_layers; ++li) {
    const int i = static_cast<int>(li);
    const std::string p = fmt::format("backbone.layers.{}.", i);
    b.vec(p + "norm", WeightRole::Norm, i, h);
    switch (pattern[li]) {
      case 'M':
        b.linear(p + "mixer.in_proj", WeightRole::Mamba, i, 2 * inner + groups_state + a.mamba_num_heads, h, proj_bias);
        b.add(p + "mixer.conv1d", WeightRole::Mamba, i, 0, 0, 0,
              conv_dim * a.mamba_conv_kernel + (conv_bias ? conv_dim : 0));
        b.vec(p + "mixer.dt_bias_A_log_D", WeightRole::Norm, i, 3 * a.mamba_num_heads);
        b.vec(p + "mixer.norm", WeightRole::Norm, i, inner);
        b.linear(p + "mixer.out_proj", WeightRole::Mamba, i, h, inner, proj_bias);
        break;
      case '*':
        add_attention(b, a, p + "mixer.", i, AttentionLayout{attn_bias, attn_bias, attn_bias, false, false});
        break;
      case '-':
        b.linear(p + "mixer.up_proj", WeightRole::Mlp, i, a.intermediate_size, h, mlp_bias);
        b.linear(p + "mixer.down_proj", WeightRole::Mlp, i, h, a.intermediate_size, mlp_bias);
        break;
      default: {  // 'E': routed experts (non-gated relu^2) plus one shared expert
        ++a.moe_layers;
        const std::uint64_t e = a.num_experts;
        const std::uint64_t inter = a.moe_intermediate_size;
        const std::uint64_t shared =
            cfg.count({"moe_shared_expert_intermediate_size"}, kMaxIntermediate).value_or(inter) * a.shared_experts;
        b.linear(p + "mixer.gate", WeightRole::Router, i, e, h, false);  // (+ a score-bias buffer, not counted)
        b.experts(p + "mixer.experts.up_proj", i, e, inter, h, mlp_bias);
        b.experts(p + "mixer.experts.down_proj", i, e, h, inter, mlp_bias);
        if (shared > 0) {
          b.linear(p + "mixer.shared_experts.up_proj", WeightRole::Mlp, i, shared, h, mlp_bias);
          b.linear(p + "mixer.shared_experts.down_proj", WeightRole::Mlp, i, h, shared, mlp_bias);
        }
        break;
      }
    }
  }
  b.vec("backbone.norm_f", WeightRole::Norm, -1, h);
  if (!a.tie_word_embeddings) b.linear("lm_head", WeightRole::LmHead, -1, a.vocab_size, h, false);
}

// ---- Vision towers -------------------------------------------------------------------------------------

struct VitLayout {
  bool attn_bias = true;
  bool gated_mlp = false;
  bool mlp_bias = true;
  std::uint64_t norm_params_per_width = 2;  // LayerNorm with bias: 2; RMSNorm: 1
  bool patch_bias = false;
  bool class_token = false;
  bool position_embedding = true;
  std::uint64_t extra_norms = 0;  // pre/post layernorms outside the layers
};

struct VitShape {
  std::uint64_t hidden = 0, intermediate = 0, layers = 0, channels = 3, image = 0, patch = 0;
};

VitShape read_vit_shape(ConfigReader& v) {
  VitShape s;
  s.hidden = v.require_count({"hidden_size", "embed_dim"}, kMaxWidth);
  s.intermediate = v.require_count({"intermediate_size"}, kMaxIntermediate);
  s.layers = v.require_count({"num_hidden_layers", "depth"}, kMaxLayers);
  s.channels = v.count({"num_channels", "in_chans"}, 16).value_or(3);
  s.image = v.count({"image_size"}, kMaxWidth).value_or(224);
  s.patch = v.require_count({"patch_size"}, kMaxWidth);
  return s;
}

// A ViT encoder: patch embedding, positions, `layers` pre-norm blocks, outer norms.
void add_vit(Builder& b, const std::string& base, const VitShape& s, const VitLayout& l) {
  const std::uint64_t h = s.hidden;
  const std::uint64_t patches = (s.image / s.patch) * (s.image / s.patch);
  b.add(base + "patch_embedding", WeightRole::Vision, -1, 1, h, s.channels * s.patch * s.patch, l.patch_bias ? h : 0);
  if (l.class_token) b.vec(base + "class_embedding", WeightRole::Vision, -1, h);
  if (l.position_embedding)
    b.vec(base + "position_embedding", WeightRole::Vision, -1, (patches + (l.class_token ? 1 : 0)) * h);
  for (std::uint64_t i = 0; i < s.layers; ++i) {
    const std::string p = base + "layers." + std::to_string(i) + ".";
    b.add(p + "self_attn", WeightRole::Vision, -1, 4, h, h, l.attn_bias ? 4 * h : 0);
    b.add(p + "mlp", WeightRole::Vision, -1, l.gated_mlp ? 3 : 2, s.intermediate, h,
          l.mlp_bias ? s.intermediate + h : 0);
    b.vec(p + "norms", WeightRole::Vision, -1, 2 * l.norm_params_per_width * h);
  }
  if (l.extra_norms > 0) b.vec(base + "outer_norms", WeightRole::Vision, -1, l.extra_norms * 2 * h);
}

}  // namespace

void build_language_model(ModelArch& arch, const Family& family, ConfigReader& text) {
  Builder b(&arch.weights, text.origin());
  switch (family.stack) {
    case Stack::Llama: build_llama_stack(b, arch, family, text); break;
    case Stack::Gpt2: build_gpt2(b, arch, text); break;
    case Stack::Bloom: build_bloom_or_neox(b, arch, true); break;
    case Stack::GptNeoX: build_bloom_or_neox(b, arch, false); break;
    case Stack::Mpt: build_mpt(b, arch, text); break;
    case Stack::Falcon: build_falcon(b, arch, text); break;
    case Stack::NemotronH: build_nemotron_h(b, arch, text); break;
    case Stack::Gemma4: build_gemma4_text(arch, text); break;  // weights_gemma4.cpp
    case Stack::Qwen3_5: build_qwen3_5_text(arch, family, text); break;
    case Stack::DeepseekV4: build_deepseek_v4(arch, text); break;   // weights_deepseek_v4.cpp
    case Stack::GlmMoeDsa: build_glm_moe_dsa(arch, text); break;    // weights_glm_moe_dsa.cpp
    case Stack::MiniMax: build_minimax(arch, family, text); break;  // weights_minimax.cpp
    case Stack::Lfm2: build_lfm2(arch, text); break;                // weights_lfm2.cpp
  }
}

// Qwen2.5-VL's tower: vision_config.hidden_size is the tower's own width (Qwen2-VL's embed_dim), with RMSNorms, a
// gated SwiGLU MLP of intermediate_size (biases everywhere, as transformers' Qwen2_5_VisionTransformer) and a merger
// into out_hidden_size.
void build_qwen2_5_vision(Builder& b, ConfigReader& v, std::uint64_t text_h) {
  const std::uint64_t e = v.require_count({"hidden_size", "embed_dim"}, kMaxWidth);
  const std::uint64_t depth = v.require_count({"depth"}, kMaxLayers);
  const std::uint64_t inter = v.require_count({"intermediate_size"}, kMaxIntermediate);
  const std::uint64_t patch = v.require_count({"patch_size"}, kMaxWidth);
  const std::uint64_t temporal = v.count({"temporal_patch_size"}, 64).value_or(2);
  const std::uint64_t chans = v.count({"in_chans", "in_channels"}, 16).value_or(3);
  const std::uint64_t merge = v.count({"spatial_merge_size"}, 64).value_or(2);
  const std::uint64_t out = v.count({"out_hidden_size"}, kMaxWidth).value_or(text_h);
  b.add("visual.patch_embed", WeightRole::Vision, -1, 1, e, chans * temporal * patch * patch, 0);
  for (std::uint64_t i = 0; i < depth; ++i) {
    const std::string p = "visual.blocks." + std::to_string(i) + ".";
    b.vec(p + "norms", WeightRole::Vision, -1, 2 * e);
    b.linear(p + "attn.qkv", WeightRole::Vision, -1, 3 * e, e, true);
    b.linear(p + "attn.proj", WeightRole::Vision, -1, e, e, true);
    b.linear(p + "mlp.gate_proj", WeightRole::Vision, -1, inter, e, true);
    b.linear(p + "mlp.up_proj", WeightRole::Vision, -1, inter, e, true);
    b.linear(p + "mlp.down_proj", WeightRole::Vision, -1, e, inter, true);
  }
  const std::uint64_t merged = e * merge * merge;
  b.vec("visual.merger.ln_q", WeightRole::Vision, -1, e);
  b.linear("visual.merger.mlp.0", WeightRole::Vision, -1, merged, merged, true);
  b.linear("visual.merger.mlp.2", WeightRole::Vision, -1, out, merged, true);
}

std::uint64_t build_vision_model(ModelArch& arch, const nlohmann::json& top, std::string_view origin) {
  const std::size_t first = arch.weights.size();
  Builder b(&arch.weights, std::string(origin));
  const nlohmann::json& vc = top["vision_config"];
  if (!vc.is_object()) fail_input(fmt::format("{}: vision_config: expected an object", origin));
  // Fields the wrapper and the vision config hold are read through ConfigReader, not json::value(): a value of the
  // wrong type (or null) is then a clean error naming the field, not a json::type_error (test_fuzz_regressions).
  ConfigReader wrapper_cfg(top, std::string(origin), "");
  const std::string wrapper = wrapper_cfg.text("model_type").value_or("");
  const std::string type = ConfigReader(vc, std::string(origin), "vision_config.")
                               .text("model_type")
                               .value_or(wrapper == "llava" ? "clip_vision_model" : "");
  ConfigReader v(vc, std::string(origin), "vision_config.", vision_defaults(type));
  const std::uint64_t text_h = arch.hidden_size;
  if (wrapper == "qwen3_5" || wrapper == "qwen3_5_moe") return build_qwen3_5_vision(arch, vc, origin);  // issue 14
  if (wrapper == "minimax_m3_vl") return build_minimax_m3_vision(arch, top, origin);  // issue 14, weights_minimax.cpp

  if (wrapper == "qwen2_5_vl") {
    build_qwen2_5_vision(b, v, text_h);
  } else if (wrapper == "qwen2_vl") {
    const std::uint64_t e = v.require_count({"embed_dim"}, kMaxWidth);
    const std::uint64_t depth = v.require_count({"depth"}, kMaxLayers);
    const std::uint64_t ratio = v.count({"mlp_ratio"}, 64).value_or(4);
    const std::uint64_t patch = v.require_count({"patch_size"}, kMaxWidth);
    const std::uint64_t temporal = v.count({"temporal_patch_size"}, 64).value_or(2);
    const std::uint64_t chans = v.count({"in_chans", "in_channels"}, 16).value_or(3);
    const std::uint64_t merge = v.count({"spatial_merge_size"}, 64).value_or(2);
    const std::uint64_t out = v.count({"hidden_size"}, kMaxWidth).value_or(text_h);
    b.add("visual.patch_embed", WeightRole::Vision, -1, 1, e, chans * temporal * patch * patch, 0);
    for (std::uint64_t i = 0; i < depth; ++i) {
      const std::string p = "visual.blocks." + std::to_string(i) + ".";
      b.vec(p + "norms", WeightRole::Vision, -1, 4 * e);
      b.linear(p + "attn.qkv", WeightRole::Vision, -1, 3 * e, e, true);
      b.linear(p + "attn.proj", WeightRole::Vision, -1, e, e, true);
      b.linear(p + "mlp.fc1", WeightRole::Vision, -1, e * ratio, e, true);
      b.linear(p + "mlp.fc2", WeightRole::Vision, -1, e, e * ratio, true);
    }
    const std::uint64_t merged = e * merge * merge;
    b.vec("visual.merger.ln_q", WeightRole::Vision, -1, 2 * e);
    b.linear("visual.merger.mlp.0", WeightRole::Vision, -1, merged, merged, true);
    b.linear("visual.merger.mlp.2", WeightRole::Vision, -1, out, merged, true);
  } else if (type == "mllama_vision_model") {
    VitShape s = read_vit_shape(v);
    const std::uint64_t h = s.hidden;
    const std::uint64_t tiles = v.count({"max_num_tiles"}, 64).value_or(4);
    const std::uint64_t ratios = vc.contains("supported_aspect_ratios") && vc["supported_aspect_ratios"].is_array()
                                     ? vc["supported_aspect_ratios"].size()
                                     : 8;
    const std::uint64_t positions = (s.image / s.patch) * (s.image / s.patch) + 1;
    const std::uint64_t global = v.count_or_zero({"num_global_layers"}, kMaxLayers).value_or(8);
    b.add("vision_model.patch_embedding", WeightRole::Vision, -1, 1, h, s.channels * s.patch * s.patch, 0);
    b.vec("vision_model.class_embedding", WeightRole::Vision, -1, h);
    // Gated positional embedding with per-aspect-ratio tile embeddings, plus pre/post tile embeddings.
    b.vec("vision_model.gated_positional_embedding", WeightRole::Vision, -1,
          positions * h + 1 + (ratios + 1) * tiles * positions * h);
    b.vec("vision_model.tile_positional_embeddings", WeightRole::Vision, -1, 2 * ((ratios + 1) * tiles * h + 1));
    b.vec("vision_model.layernorm_pre_post", WeightRole::Vision, -1, 4 * h);
    for (std::uint64_t i = 0; i < s.layers + global; ++i) {
      const std::string p = "vision_model.layers." + std::to_string(i) + ".";
      b.add(p + "self_attn", WeightRole::Vision, -1, 4, h, h, 0);
      b.add(p + "mlp", WeightRole::Vision, -1, 2, s.intermediate, h, s.intermediate + h);
      b.vec(p + "norms", WeightRole::Vision, -1, 4 * h + (i >= s.layers ? 2 : 0));
    }
    const std::uint64_t out = v.count({"vision_output_dim"}, kMaxWidth).value_or(h);
    b.linear("multi_modal_projector", WeightRole::Vision, -1, text_h, out, true);
  } else if (type == "llama4_vision_model") {
    VitShape s = read_vit_shape(v);
    add_vit(b, "vision_model.", s, VitLayout{.class_token = true, .extra_norms = 2});
    const std::uint64_t adapter_in = v.require_count({"projector_input_dim"}, kMaxWidth);
    const std::uint64_t adapter_out = v.require_count({"projector_output_dim"}, kMaxWidth);
    b.linear("vision_model.vision_adapter.mlp.fc1", WeightRole::Vision, -1, adapter_in, s.intermediate, false);
    b.linear("vision_model.vision_adapter.mlp.fc2", WeightRole::Vision, -1, adapter_out, adapter_out, false);
    const std::uint64_t out = v.count({"vision_output_dim"}, kMaxWidth).value_or(adapter_out);
    b.linear("multi_modal_projector.linear_1", WeightRole::Vision, -1, text_h, out,
             v.flag("multi_modal_projector_bias").value_or(false));
  } else {
    VitShape s = read_vit_shape(v);
    const std::uint64_t h = s.hidden;
    if (type == "siglip_vision_model") {
      add_vit(b, "vision_tower.", s, VitLayout{.patch_bias = true, .extra_norms = 1});
      if (v.flag("vision_use_head").value_or(true)) {  // attention-pooling head
        b.vec("vision_tower.head.probe", WeightRole::Vision, -1, h);
        b.add("vision_tower.head.attention", WeightRole::Vision, -1, 4, h, h, 4 * h);
        b.vec("vision_tower.head.layernorm", WeightRole::Vision, -1, 2 * h);
        b.add("vision_tower.head.mlp", WeightRole::Vision, -1, 2, s.intermediate, h, s.intermediate + h);
      }
    } else if (type == "pixtral") {
      add_vit(b, "vision_tower.", s,
              VitLayout{.attn_bias = false,
                        .gated_mlp = true,
                        .mlp_bias = false,
                        .norm_params_per_width = 1,
                        .position_embedding = false});
      b.vec("vision_tower.ln_pre", WeightRole::Vision, -1, h);
    } else {
      if (type != "clip_vision_model")
        arch.warnings.push_back(fmt::format(
            "vision tower type '{}' is not one vram-calc knows: its weights are estimated as a CLIP ViT", type));
      add_vit(b, "vision_tower.", s, VitLayout{.class_token = true, .extra_norms = 2});
    }
    // Projectors of the wrappers.
    if (wrapper == "gemma3") {
      b.vec("multi_modal_projector.mm_soft_emb_norm", WeightRole::Vision, -1, h);
      b.add("multi_modal_projector.mm_input_projection", WeightRole::Vision, -1, 1, text_h, h, 0);
    } else if (wrapper == "mistral3") {
      const bool bias = wrapper_cfg.flag("multimodal_projector_bias").value_or(false);
      const std::uint64_t merge = wrapper_cfg.count({"spatial_merge_size"}, 64).value_or(2);
      b.vec("multi_modal_projector.norm", WeightRole::Vision, -1, h);
      b.linear("multi_modal_projector.patch_merger", WeightRole::Vision, -1, h, h * merge * merge, false);
      b.linear("multi_modal_projector.linear_1", WeightRole::Vision, -1, text_h, h, bias);
      b.linear("multi_modal_projector.linear_2", WeightRole::Vision, -1, text_h, text_h, bias);
    } else {  // Llava-style two-layer MLP projector
      const bool bias = wrapper_cfg.flag("multimodal_projector_bias").value_or(true);
      b.linear("multi_modal_projector.linear_1", WeightRole::Vision, -1, text_h, h, bias);
      b.linear("multi_modal_projector.linear_2", WeightRole::Vision, -1, text_h, text_h, bias);
    }
  }
  std::uint64_t total = 0;
  for (std::size_t i = first; i < arch.weights.size(); ++i) total += arch.weights[i].params();
  return total;
}

}  // namespace vramcalc::detail
