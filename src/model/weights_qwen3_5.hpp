// Qwen 3.5 / 3.6 / 3.8 (model_type qwen3_5, qwen3_5_moe; text configs qwen3_5_text, qwen3_5_moe_text) and Qwen3-Next
// (qwen3_next), as transformers' modeling_qwen3_5 / modeling_qwen3_next define them and vLLM's qwen3_5.py serves them.
// Private to the model layer (issue 14).
//   - layer_types (or every full_attention_interval-th layer) picks, per layer, a Gated DeltaNet linear-attention
//     mixer or a gated full attention (q_proj twice as wide: query and output gate; q/k RMSNorms);
//   - Gated DeltaNet: in_proj_qkv (q, k of linear_num_key_heads x linear_key_head_dim, v of linear_num_value_heads x
//     linear_value_head_dim), in_proj_z (the output gate, value width), in_proj_b / in_proj_a (one per value head),
//     a depthwise conv1d over q, k, v of linear_conv_kernel_dim taps without bias, A_log and dt_bias (per value head),
//     a gated RMSNorm of linear_value_head_dim and out_proj. Qwen3-Next's checkpoints fuse them as in_proj_qkvz and
//     in_proj_ba (the same parameters);
//   - every layer's feed-forward is a SwiGLU MLP (qwen3_5) or a sparse MoE block (router, routed experts, one shared
//     expert with a sigmoid gate) on the layers decoder_sparse_step / mlp_only_layers select (all, for qwen3_5_moe);
//   - mtp_num_hidden_layers multi-token-prediction layers (fc over [embedding; hidden], two pre-fc norms, one full
//     attention decoder layer each, a norm; embeddings shared) are summed into ModelArch::mtp_params, not the weights:
//     vLLM loads them only for speculative decoding.
// Checkpoint names: the wrapper's language model is "model.language_model.", its vision tower "model.visual.".
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/config_reader.hpp"
#include "model/families.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc::detail {

// Every weight group of the language model, and mtp_layers / mtp_params (with a warning that says they are not served).
void build_qwen3_5_text(ModelArch& arch, const Family& family, ConfigReader& text);

// The vision tower of a qwen3_5 / qwen3_5_moe wrapper (Qwen3-VL's: Conv3d patch embedding with bias, a learned
// position table of num_position_embeddings, `depth` pre-LayerNorm blocks with a fused qkv and a GELU MLP, the 2x2
// patch merger into out_hidden_size, and one post-shuffle merger per deepstack_visual_indexes entry); returns its
// parameter count.
std::uint64_t build_qwen3_5_vision(ModelArch& arch, const nlohmann::json& vision_config, std::string_view origin);

}  // namespace vramcalc::detail
