// The model layer: a Hugging Face config.json becomes one normalized architecture description.
// Family quirks (field names, defaults, weight layouts) live in src/model/families.cpp and nowhere else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vramcalc/core/dtype.hpp"

namespace vramcalc {

// What a decoder layer does with the sequence; decides whether (and how) it holds KV cache.
enum class LayerKind {
  FullAttention,     // global attention: KV for every token
  SlidingAttention,  // local attention over `sliding_window` tokens (Mistral v0.1, Gemma 2/3, gpt-oss)
  ChunkedAttention,  // local attention in chunks of `attention_chunk_size` tokens (Llama 4)
  CrossAttention,    // attends to image tokens only: no KV per text token (Mllama)
  Mamba,             // state-space layer: a fixed-size state, no KV per token (Nemotron-H)
  MlpOnly,           // no token mixing at all (Nemotron-H '-' and 'E' layers)
};
std::string_view layer_kind_name(LayerKind k);
// True for the kinds whose KV cache grows with each text token (full, sliding, chunked attention).
bool holds_kv_per_token(LayerKind k);

// What a group of weights is, for quantization (which groups a scheme converts) and for explanation.
enum class WeightRole {
  Embedding,  // token (and position) embeddings
  LmHead,     // output projection (absent when tied to the embedding)
  Attention,  // attention projections (q/k/v/o, MLA low-rank projections)
  Mlp,        // dense feed-forward projections (and MoE shared experts)
  Experts,    // routed MoE experts
  Router,     // MoE router / gate (never quantized)
  Mamba,      // state-space mixer projections
  Norm,       // normalization weights and biases, small vectors (sinks, A_log, D, ...)
  Vision,     // vision tower and multimodal projector (counted, kept in the serving dtype)
};
std::string_view weight_role_name(WeightRole r);

// One named group of parameters, named as Hugging Face checkpoints name the module
// ("model.layers.3.mlp.down_proj", "lm_head"), so quantization ignore lists can match it.
struct WeightGroup {
  std::string name;
  WeightRole role = WeightRole::Norm;
  int layer = -1;                              // decoder layer index, -1 outside the layer stack
  std::uint64_t matrices = 0;                  // number of weight matrices of rows x cols (experts: one per expert)
  std::uint64_t rows = 0;                      // out_features of one matrix
  std::uint64_t cols = 0;                      // in_features of one matrix
  std::uint64_t extra = 0;                     // parameters outside the matrices: biases, norm weights, vectors
  [[nodiscard]] std::uint64_t params() const;  // matrices * rows * cols + extra
  [[nodiscard]] std::uint64_t matrix_params() const;  // matrices * rows * cols
  [[nodiscard]] bool is_linear() const { return matrices > 0; }
};

// The parsed quantization_config of a checkpoint (or the scheme --quantization asks for).
struct QuantScheme {
  enum class Method { None, Gptq, Awq, Fp8, FbgemmFp8, CompressedTensors, Mxfp4, BitsAndBytes, Int8 };
  Method method = Method::None;
  std::string method_name;       // as written in the config ("gptq", "fp8", ...)
  int bits = 16;                 // weight bits of converted layers
  bool is_float = false;         // 8-bit float (fp8) vs integer
  std::int64_t group_size = -1;  // elements per scale group along the input dim (-1: per channel)
  std::optional<std::pair<std::uint64_t, std::uint64_t>> block;  // block-wise scales (fp8 128x128)
  bool per_tensor_scale = false;                                 // one scale per matrix
  bool zero_points = false;                                      // asymmetric integer schemes store zero points
  bool has_g_idx = false;                                        // GPTQ act-order index
  bool double_quant = false;                                     // bitsandbytes nested quantization
  bool quantize_lm_head = false;                                 // GPTQ "lm_head": true
  bool experts_only = false;                                     // MXFP4 in gpt-oss converts only the experts
  std::vector<std::string> ignore;  // modules kept unquantized (modules_to_not_convert, ignore)
  [[nodiscard]] bool active() const { return method != Method::None; }
};

// One normalized architecture description: the language model's shape, its KV-cache layout,
// every weight group, and what was guessed on the way.
struct ModelArch {
  // Identity.
  std::string model_type;          // top-level model_type ("llava", "llama", "RefinedWeb", ...)
  std::string text_model_type;     // the language model's model_type ("llama" inside llava)
  std::string architecture;        // architectures[0], or "" when absent
  bool known_family = true;        // false: sized as a generic Llama-like decoder (warned)
  bool multimodal = false;         // has a vision tower counted in the weights
  bool falcon_single_gpu = false;  // KAITO's Falcon rule: no multi-GPU support

  // Language-model shape.
  std::uint64_t num_hidden_layers = 0;
  std::uint64_t hidden_size = 0;
  std::uint64_t num_attention_heads = 0;
  std::uint64_t num_key_value_heads = 0;
  std::uint64_t head_dim = 0;
  std::string head_dim_source;  // "head_dim" or "hidden_size / num_attention_heads"
  std::string kv_heads_source;  // "num_key_value_heads", "multi_query", "n_head_kv", ...
  std::uint64_t intermediate_size = 0;
  std::uint64_t vocab_size = 0;
  std::optional<std::uint64_t> max_position_embeddings;
  std::string max_position_source;  // the field it came from, "" when none
  bool tie_word_embeddings = false;

  // Attention variants.
  bool mla = false;  // multi-head latent attention (DeepSeek-V2/V3/R1, Kimi-K2)
  std::uint64_t kv_lora_rank = 0;
  std::uint64_t qk_rope_head_dim = 0;
  std::optional<std::uint64_t> sliding_window;
  std::optional<std::uint64_t> attention_chunk_size;
  std::vector<LayerKind> layer_kinds;  // one entry per decoder layer

  // Mixture of experts.
  std::uint64_t num_experts = 0;  // routed experts per MoE layer (0: dense)
  std::uint64_t experts_per_token = 0;
  std::uint64_t shared_experts = 0;
  std::uint64_t moe_intermediate_size = 0;
  std::uint64_t moe_layers = 0;

  // State-space layers (Mamba2 in Nemotron-H).
  std::uint64_t mamba_num_heads = 0;
  std::uint64_t mamba_head_dim = 0;
  std::uint64_t ssm_state_size = 0;
  std::uint64_t mamba_n_groups = 0;
  std::uint64_t mamba_conv_kernel = 0;
  std::optional<DType> mamba_ssm_cache_dtype;  // "mamba_ssm_cache_dtype" (nullopt: the model dtype)

  // Data type and quantization as the checkpoint declares them.
  std::optional<DType> config_dtype;  // torch_dtype / dtype; nullopt when absent
  QuantScheme quant;

  // Every parameter, by group. num_params() is the logical count (tied embeddings counted once).
  std::vector<WeightGroup> weights;
  std::uint64_t vision_params = 0;  // vision tower + projector, included in weights

  // Guesses and facts worth telling the user (missing fields, defaults used, unknown family).
  std::vector<std::string> warnings;

  [[nodiscard]] std::uint64_t num_params() const;
  [[nodiscard]] std::uint64_t params_with_role(WeightRole role) const;
  // Layers whose KV cache grows per token (full + sliding + chunked attention).
  [[nodiscard]] std::uint64_t kv_layers() const;
  [[nodiscard]] std::uint64_t count_layers(LayerKind k) const;
  // Tensor parallelism splits the attention heads evenly across the ranks: tp must divide them.
  [[nodiscard]] bool tp_divides_heads(std::uint64_t tp) const;
  // KV heads are split across ranks (kv_heads % tp == 0) or replicated (tp % kv_heads == 0); MLA has none.
  [[nodiscard]] bool tp_matches_kv_heads(std::uint64_t tp) const;
  // Both of the above: a tensor parallel size vLLM accepts for this model.
  [[nodiscard]] bool tp_valid(std::uint64_t tp) const { return tp_divides_heads(tp) && tp_matches_kv_heads(tp); }
};

// Normalizes a parsed config.json. `origin` names the file in error messages.
// Throws Error(BadInput, "<origin>: <field>: <problem>") for missing required fields, wrong types,
// zero, negative or absurd values, and shapes that do not divide.
ModelArch normalize_config(const nlohmann::json& config, std::string_view origin);

}  // namespace vramcalc
