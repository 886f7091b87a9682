// The model layer: a Hugging Face config.json becomes one normalized architecture description.
// Family quirks (field names, defaults, weight layouts) live in src/model/families.cpp and nowhere else.
#pragma once

#include <cstdint>
#include <memory>  // issue 14: QuantScheme::Override
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vramcalc/core/dtype.hpp"
#include "vramcalc/model/confidence.hpp"  // issue 14: ModelArch::confidence
#include "vramcalc/model/multimodal.hpp"  // issue 14: ModelArch::mm_encoder

namespace vramcalc {

// What a decoder layer does with the sequence; decides whether (and how) it holds KV cache.
enum class LayerKind {
  FullAttention,     // global attention: KV for every token
  SlidingAttention,  // local attention over `sliding_window` tokens (Mistral v0.1, Gemma 2/3, gpt-oss)
  ChunkedAttention,  // local attention in chunks of `attention_chunk_size` tokens (Llama 4)
  CrossAttention,    // attends to image tokens only: no KV per text token (Mllama)
  Mamba,             // state-space layer: a fixed-size state, no KV per token (Nemotron-H)
  MlpOnly,           // no token mixing at all (Nemotron-H '-' and 'E' layers)
  ShortConv,         // LFM2's gated short convolution: a fixed (kernel - 1) x channels state per request (issue 14)
  LinearAttention,   // Gated DeltaNet: a fixed-size state per request, no KV per token (Qwen3-Next, Qwen 3.5/3.6/3.8)
};
std::string_view layer_kind_name(LayerKind k);
// True for the kinds whose KV cache grows with each text token (full, sliding, chunked attention).
bool holds_kv_per_token(LayerKind k);
// True for the kinds that keep one fixed-size state per request instead (Mamba, Gated DeltaNet, short convolution).
bool holds_state_per_request(LayerKind k);

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
  enum class Method {
    None,
    Gptq,
    Awq,
    Fp8,
    FbgemmFp8,
    CompressedTensors,
    Mxfp4,
    BitsAndBytes,
    Int8,
    // issue 14, 2026 formats:
    Nvfp4,          // ModelOpt NVFP4: 4-bit E2M1, an FP8 (E4M3) scale per 16, a float32 scale per tensor
    AutoRound,      // Intel AutoRound int (GPTQ-style packing: packed weights, fp16 scales, packed zeros)
    ModelOptMixed,  // ModelOpt MIXED_PRECISION: only the modules in quantized_layers are converted (overrides)
  };
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
  // ---- issue 14: 2026 quantization formats ----
  int scale_bytes = 0;        // bytes of one group scale (0: the method's default); FP8 E4M3 / E8M0 scales: 1
  bool global_scale = false;  // a float32 scale per tensor beside the group scales (NVFP4's weight_scale_2)
  // Formats that differ by module (DeepSeek V4's FP4 experts beside FP8 block linears; ModelOpt mixed precision):
  // the first override whose pattern matches a group converts it instead of this scheme. Pattern "@experts" matches
  // the routed experts; other patterns match module names as the ignore list does.
  struct Override {
    std::string pattern;
    std::shared_ptr<const QuantScheme> scheme;
  };
  std::vector<Override> overrides;
  // ---- end issue 14 ----
  [[nodiscard]] bool active() const { return method != Method::None; }
};

// The KV cache of one decoder layer (issue 14). Most families give every attention layer the same shape, derived
// from the global fields; Gemma 4's sliding and global layers differ in head size and KV heads, and its last
// `num_kv_shared_layers` layers read the cache of an earlier layer instead of holding their own.
struct LayerAttention {
  std::uint64_t kv_heads = 0;    // KV heads of the layer (0: no KV per token: Mamba, MLP-only, cross-attention)
  std::uint64_t head_dim = 0;    // K head size
  std::uint64_t v_head_dim = 0;  // V head size (K and V are both cached, even where K = V share a projection)
  std::uint64_t window = 0;      // sliding window or attention chunk in tokens, 0 for full attention
  int shares_kv_with = -1;       // the earlier layer whose KV cache this layer reads; -1: its own (or none)
  [[nodiscard]] bool holds_own_kv() const { return kv_heads > 0 && shares_kv_with < 0; }
  // K and V elements one token takes in this layer's own cache (0 when it holds none).
  [[nodiscard]] std::uint64_t elements_per_token() const {
    return holds_own_kv() ? kv_heads * (head_dim + v_head_dim) : 0;
  }
};

// A rotary-position table the attention builds when the model is constructed: cos and sin for every position over
// the rotated part of a head (vLLM's RotaryEmbedding.cos_sin_cache, a buffer in the model dtype, one per distinct
// rope configuration, on every GPU: src/model/rotary.cpp has the rules).
struct RotaryTable {
  std::uint64_t positions = 0;
  std::uint64_t rotary_dim = 0;
  std::string what;  // which layers and which rule gave the positions, for the breakdown
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
  // One entry per decoder layer, for the families whose layers differ (Gemma 4); empty for the others, whose layers
  // all have the global shape. Read it through attention_at(i), which derives a layer's shape when it is empty
  // (MLA layers: kv_heads 1, head_dim the latent, no V).
  std::vector<LayerAttention> layer_attention;
  // The rotary-position tables (empty: ALiBi, learned or no positions).
  std::vector<RotaryTable> rotary_tables;

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

  // ---- Gated DeltaNet linear attention (issue 14: Qwen3-Next, Qwen 3.5/3.6/3.8, "linear_*" fields) ----
  // The recurrent state is kept in mamba_ssm_cache_dtype (Qwen 3.5's "mamba_ssm_dtype": float32).
  std::uint64_t linear_num_key_heads = 0;
  std::uint64_t linear_num_value_heads = 0;
  std::uint64_t linear_key_head_dim = 0;
  std::uint64_t linear_value_head_dim = 0;
  std::uint64_t linear_conv_kernel = 0;  // "linear_conv_kernel_dim"
  // ---- end Gated DeltaNet ----

  // ---- 2026 MoE families (issue 14: DeepSeek V4, GLM 5, MiniMax M2/M3, LFM2) ----
  // Multi-token-prediction ("nextn", MTP) layers the checkpoint carries: counted here, not in `weights`, since vLLM
  // loads them only as a speculative-decoding draft.
  std::uint64_t mtp_layers = 0;
  std::uint64_t mtp_params = 0;
  // A sparse-attention indexer's key cache beside the layer's KV (DeepSeek sparse attention in GLM 5 / V3.2 / V4,
  // MiniMax M3's block index): one key of indexer_head_dim per token in each layer flagged in indexer_layers.
  std::uint64_t indexer_head_dim = 0;
  std::vector<bool> indexer_layers;  // one entry per decoder layer (empty: no indexer)
  bool indexer_fp8 = false;          // DSA's key cache is FP8 + one float32 scale per 128, whatever the KV dtype
  // DeepSeek V4: per decoder layer, how many tokens one compressed KV entry stands for (0: sliding window only).
  std::vector<std::uint64_t> compress_ratios;
  // LFM2 short convolutions (LayerKind::ShortConv): channels and kernel length (conv_L_cache).
  std::uint64_t short_conv_dim = 0;
  std::uint64_t short_conv_kernel = 0;
  [[nodiscard]] std::uint64_t count_indexer_layers() const;
  // Parameters one token runs through: routed experts counted top-k of num_experts (shared experts in full).
  [[nodiscard]] std::uint64_t active_params() const;
  // ---- end issue 14 (2026 MoE families) ----

  // Data type and quantization as the checkpoint declares them.
  std::optional<DType> config_dtype;  // torch_dtype / dtype; nullopt when absent
  QuantScheme quant;

  // Every parameter, by group. num_params() is the logical count (tied embeddings counted once).
  std::vector<WeightGroup> weights;
  std::uint64_t vision_params = 0;  // vision tower + projector, included in weights

  // Guesses and facts worth telling the user (missing fields, defaults used, unknown family).
  std::vector<std::string> warnings;
  // ---- issue 14: how far the parameter count and the KV cache can be trusted (src/model/confidence.cpp) ----
  ModelConfidence confidence;
  // ---- end confidence ----
  // ---- issue 14: the dummy item vLLM profiles the multimodal encoder with (src/model/multimodal.cpp); nullopt for a
  // text-only model or a tower whose processor vram-calc does not know ----
  std::optional<MultimodalEncoder> mm_encoder;
  // ---- end mm_encoder ----

  [[nodiscard]] std::uint64_t num_params() const;
  [[nodiscard]] std::uint64_t params_with_role(WeightRole role) const;
  // Layers whose KV cache grows per token (full + sliding + chunked attention).
  [[nodiscard]] std::uint64_t kv_layers() const;
  [[nodiscard]] std::uint64_t count_layers(LayerKind k) const;
  // Layers with a fixed state per request (Mamba, linear attention, short convolution).
  [[nodiscard]] std::uint64_t state_layers() const;
  // Tensor parallelism splits the attention heads evenly across the ranks: tp must divide them.
  [[nodiscard]] bool tp_divides_heads(std::uint64_t tp) const;
  // KV heads are split across ranks (kv_heads % tp == 0) or replicated (tp % kv_heads == 0); MLA has none.
  [[nodiscard]] bool tp_matches_kv_heads(std::uint64_t tp) const;
  // Both of the above: a tensor parallel size vLLM accepts for this model.
  [[nodiscard]] bool tp_valid(std::uint64_t tp) const { return tp_divides_heads(tp) && tp_matches_kv_heads(tp); }
  // The KV shape of decoder layer i: layer_attention[i], else derived from the global fields and layer_kinds[i].
  [[nodiscard]] LayerAttention attention_at(std::size_t i) const;
};

// Normalizes a parsed config.json. `origin` names the file in error messages.
// Throws Error(BadInput, "<origin>: <field>: <problem>") for missing required fields, wrong types,
// zero, negative or absurd values, and shapes that do not divide.
ModelArch normalize_config(const nlohmann::json& config, std::string_view origin);

}  // namespace vramcalc
