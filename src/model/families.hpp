// Per-family quirks of Hugging Face configs, in one place: which model_type spellings belong to a family,
// the defaults transformers fills in for fields a config omits, and the shape of each decoder layer.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace vramcalc::detail {

// How a family lays out its decoder stack (which weight-group builder sizes it).
enum class Stack {
  Llama,      // q/k/v/o + gated MLP + RMSNorms: Llama, Mistral, Qwen, Gemma, Cohere, Phi-3, MoE variants
  Gpt2,       // fused c_attn, learned positions, LayerNorms with bias, 4h MLP
  Bloom,      // fused qkv with bias, embedding LayerNorm, ALiBi
  GptNeoX,    // fused qkv with bias, untied embed_out
  Mpt,        // fused Wqkv without bias, weight-only LayerNorms, ALiBi
  Falcon,     // fused qkv without bias; parallel attention; one or two LayerNorms
  NemotronH,  // hybrid: Mamba2 / attention / MLP / MoE layers chosen by hybrid_override_pattern

  // issue 14, 2026 MoE families (builders in weights_moe2026.hpp):
  DeepseekV4,  // DeepSeek V4: MQA-style latent attention with compressed KV + indexer, hash-routed first layers
  GlmMoeDsa,   // GLM 5: DeepSeek MLA + DSA indexer in every layer, first_k_dense_replace dense layers, MTP layer
  MiniMax,     // MiniMax M2 / M3: GQA with q/k norms, block_sparse_moe experts w1/w2/w3 (M3: shared expert, indexer)
  Lfm2,        // LFM2: gated short-convolution and attention layers, SwiGLU feed-forward

  Gemma4,   // Gemma 4: per-layer head sizes, KV sharing, per-layer embeddings, MoE beside the MLP (weights_gemma4)
  Qwen3_5,  // issue 14: Gated DeltaNet / gated attention layers, dense MLP or MoE (weights_qwen3_5)
};

// Routed-experts layout of a family's MoE layers.
enum class MoeStyle {
  None,
  Mixtral,   // router (no bias) + experts w1/w2/w3
  Qwen,      // Qwen2/3-MoE: router + experts (+ shared expert with a sigmoid gate for qwen2_moe)
  DeepSeek,  // first_k_dense_replace dense layers, then router (+ score bias) + routed + shared experts
  GptOss,    // router with bias, experts with biases (gate_up fused)
  Llama4,    // interleaved MoE layers with one shared expert; dense layers use intermediate_size_mlp
};

struct Family {
  std::string_view name;  // canonical model_type
  Stack stack = Stack::Llama;
  MoeStyle moe = MoeStyle::None;
  bool qkv_bias = false;                // q/k/v projections carry a bias (Qwen2)
  bool qk_norm = false;                 // per-head_dim RMSNorm on q and k (Qwen3, Gemma 3)
  int norms_per_layer = 2;              // RMSNorm/LayerNorm vectors per decoder layer
  bool norm_bias = false;               // LayerNorm with bias (PhiMoE)
  bool lm_head_bias = false;            // lm_head carries a bias (PhiMoE)
  bool attention_sinks = false;         // one learned sink per head (gpt-oss)
  bool tie_default = false;             // tie_word_embeddings when the config omits it
  bool falcon_single_gpu = false;       // KAITO: Falcon models do not support multi-GPU
  std::string_view defaults_json = {};  // transformers defaults for omitted fields ("" when none apply)
};

// The family of a language model's model_type (several spellings map to one family); nullptr if unknown.
const Family* find_family(std::string_view model_type);
// The Llama layout used, with a warning, for model types vram-calc does not know.
const Family& generic_family();
// Defaults of a family as a JSON object (empty object when none).
nlohmann::json family_defaults(const Family& f);

// For multimodal wrappers: the model_type of the nested text config when it omits one
// ("llava" -> "llama", "gemma3" -> "gemma3_text"); "" when the wrapper is unknown.
std::string_view default_text_model_type(std::string_view wrapper_model_type);
// Transformers defaults of a vision tower type (clip_vision_model, siglip_vision_model, pixtral, ...).
nlohmann::json vision_defaults(std::string_view vision_model_type);

}  // namespace vramcalc::detail
