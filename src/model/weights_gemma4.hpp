// Gemma 4 (model_type gemma4 / gemma4_text), read as transformers' Gemma4TextConfig and Gemma4 modeling code define
// it and as vLLM's gemma4.py serves it. Private to the model layer.
//   - sliding layers: head_dim and num_key_value_heads; full ("global") layers: global_head_dim, and
//     num_global_key_value_heads where attention_k_eq_v (K and V share one projection there: no v_proj weight);
//   - the last num_kv_shared_layers layers read the KV cache of the last earlier layer of the same kind: no cache,
//     no k/v projections of their own (and, with use_double_wide_mlp, a MLP twice as wide);
//   - per-layer embeddings (PLE): a vocab_size_per_layer_input x (layers x hidden_size_per_layer_input) table, its
//     projection from the hidden state, and a gate, projection and norm in every layer;
//   - enable_moe_block (26B-A4B): a router and num_experts experts of moe_intermediate_size beside the dense MLP;
//   - a vision tower (gemma4_vision) and an audio tower (gemma4_audio), each with its projection into the text
//     model, counted as Vision-role weights.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/config_reader.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc::detail {

// The fields the generic reader gets wrong or does not know: experts (top_k_experts, enable_moe_block), the layer
// kinds when layer_types is absent (every 6th layer global, the last one always), and arch.layer_attention.
void read_gemma4_text(ModelArch& arch, ConfigReader& text);

// Every weight group of the language model.
void build_gemma4_text(ModelArch& arch, ConfigReader& text);

// The vision and audio towers of a gemma4 wrapper config and their embedders; returns their parameter count.
std::uint64_t build_gemma4_towers(ModelArch& arch, const nlohmann::json& top, std::string_view origin);

}  // namespace vramcalc::detail
