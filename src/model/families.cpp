#include "model/families.hpp"

#include <array>
#include <string>

namespace vramcalc::detail {

namespace {

// Defaults are transformers' own config defaults (configuration_<family>.py), used only for fields a config
// omits. Configs of multimodal wrappers (Llava, Gemma 3) often rely on them for the whole text model.
constexpr std::string_view kLlamaDefaults =
    R"({"vocab_size":32000,"hidden_size":4096,"intermediate_size":11008,"num_hidden_layers":32,
        "num_attention_heads":32,"max_position_embeddings":2048})";
constexpr std::string_view kMistralDefaults =
    R"({"vocab_size":32000,"hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,
        "num_attention_heads":32,"num_key_value_heads":8,"max_position_embeddings":131072,"sliding_window":4096})";
constexpr std::string_view kGemma3TextDefaults =
    R"({"vocab_size":262208,"hidden_size":2304,"intermediate_size":9216,"num_hidden_layers":26,
        "num_attention_heads":8,"num_key_value_heads":4,"head_dim":256,"max_position_embeddings":131072,
        "sliding_window":4096,"sliding_window_pattern":6})";
// transformers' Gemma4TextConfig (configuration_gemma4.py): global_head_dim is popped with 512 when absent, and
// per-layer embeddings are on (256 wide) unless hidden_size_per_layer_input is 0.
constexpr std::string_view kGemma4TextDefaults =
    R"({"vocab_size":262144,"hidden_size":2304,"intermediate_size":9216,"num_hidden_layers":30,
        "num_attention_heads":8,"num_key_value_heads":4,"head_dim":256,"global_head_dim":512,
        "max_position_embeddings":131072,"sliding_window":512,"hidden_size_per_layer_input":256,
        "vocab_size_per_layer_input":262144})";
// transformers' Qwen3_5TextConfig / Qwen3_5MoeTextConfig / Qwen3NextConfig defaults for the Gated DeltaNet layers
// (issue 14); layer_types, when absent, follow full_attention_interval (4).
constexpr std::string_view kQwen35Defaults =
    R"({"head_dim":256,"linear_conv_kernel_dim":4,"linear_key_head_dim":128,"linear_value_head_dim":128,
        "linear_num_key_heads":16,"linear_num_value_heads":32,"full_attention_interval":4})";
constexpr std::string_view kGpt2Defaults =
    R"({"vocab_size":50257,"n_positions":1024,"n_embd":768,"n_layer":12,"n_head":12})";

constexpr std::array kFamilies = {
    Family{.name = "llama", .defaults_json = kLlamaDefaults},
    Family{.name = "mistral", .defaults_json = kMistralDefaults},
    Family{.name = "mixtral", .moe = MoeStyle::Mixtral},
    Family{.name = "qwen2", .qkv_bias = true},
    Family{.name = "qwen2_moe", .moe = MoeStyle::Qwen, .qkv_bias = true},
    Family{.name = "qwen3", .qk_norm = true},
    Family{.name = "qwen3_moe", .moe = MoeStyle::Qwen, .qk_norm = true},
    Family{.name = "gemma", .tie_default = true},
    Family{.name = "gemma2", .norms_per_layer = 4, .tie_default = true},
    Family{.name = "gemma3_text",
           .qk_norm = true,
           .norms_per_layer = 4,
           .tie_default = true,
           .defaults_json = kGemma3TextDefaults},
    Family{.name = "cohere", .norms_per_layer = 1, .tie_default = true},
    Family{.name = "phi3"},
    Family{.name = "phimoe", .moe = MoeStyle::Mixtral, .norm_bias = true, .lm_head_bias = true},
    Family{.name = "gpt_oss", .moe = MoeStyle::GptOss, .attention_sinks = true},
    Family{.name = "deepseek_v3", .moe = MoeStyle::DeepSeek},
    Family{.name = "llama4_text", .moe = MoeStyle::Llama4},
    Family{.name = "mllama_text_model"},
    Family{.name = "gpt2", .stack = Stack::Gpt2, .tie_default = true, .defaults_json = kGpt2Defaults},
    Family{.name = "bloom", .stack = Stack::Bloom, .tie_default = true},
    Family{.name = "gpt_neox", .stack = Stack::GptNeoX},
    Family{.name = "mpt", .stack = Stack::Mpt, .tie_default = true},
    Family{.name = "falcon", .stack = Stack::Falcon, .tie_default = true, .falcon_single_gpu = true},
    Family{.name = "nemotron_h", .stack = Stack::NemotronH},
    // issue 14, 2026 MoE families (weights_moe2026.cpp):
    Family{.name = "deepseek_v4", .stack = Stack::DeepseekV4, .moe = MoeStyle::DeepSeek},
    Family{.name = "glm_moe_dsa", .stack = Stack::GlmMoeDsa, .moe = MoeStyle::DeepSeek},
    Family{.name = "minimax_m2", .stack = Stack::MiniMax, .moe = MoeStyle::Mixtral, .qk_norm = true},
    Family{.name = "minimax_m3", .stack = Stack::MiniMax, .moe = MoeStyle::DeepSeek, .qk_norm = true},
    Family{.name = "lfm2", .stack = Stack::Lfm2, .tie_default = true},
    Family{.name = "gemma4_text",
           .stack = Stack::Gemma4,
           .qk_norm = true,
           .norms_per_layer = 4,
           .tie_default = true,
           .defaults_json = kGemma4TextDefaults},
    // issue 14, Qwen 3.5/3.6/3.8 and Qwen3-Next hybrids (weights_qwen3_5.cpp):
    Family{.name = "qwen3_5_text", .stack = Stack::Qwen3_5, .qk_norm = true, .defaults_json = kQwen35Defaults},
    Family{.name = "qwen3_5_moe_text",
           .stack = Stack::Qwen3_5,
           .moe = MoeStyle::Qwen,
           .qk_norm = true,
           .defaults_json = kQwen35Defaults},
    Family{.name = "qwen3_next",
           .stack = Stack::Qwen3_5,
           .moe = MoeStyle::Qwen,
           .qk_norm = true,
           .defaults_json = kQwen35Defaults},
};

// Other spellings of the same layouts.
struct Alias {
  std::string_view model_type;
  std::string_view family;
};
constexpr std::array kAliases = {
    Alias{"qwen2_vl", "qwen2"},           Alias{"qwen2_5_vl", "qwen2"},
    Alias{"kimi_k2", "deepseek_v3"},      Alias{"deepseek_v2", "deepseek_v3"},
    Alias{"RefinedWeb", "falcon"},        Alias{"RefinedWebModel", "falcon"},
    Alias{"gemma3", "gemma3_text"},       Alias{"llama4", "llama4_text"},
    Alias{"mllama", "mllama_text_model"}, Alias{"gemma4", "gemma4_text"},
    Alias{"minimax_m3_vl", "minimax_m3"},                                            // issue 14
    Alias{"qwen3_5", "qwen3_5_text"},     Alias{"qwen3_5_moe", "qwen3_5_moe_text"},  // issue 14
};

}  // namespace

const Family* find_family(std::string_view model_type) {
  for (const auto& a : kAliases)
    if (a.model_type == model_type) model_type = a.family;
  for (const auto& f : kFamilies)
    if (f.name == model_type) return &f;
  return nullptr;
}

const Family& generic_family() { return kFamilies[0]; }

nlohmann::json family_defaults(const Family& f) {
  if (f.defaults_json.empty()) return nlohmann::json::object();
  return nlohmann::json::parse(f.defaults_json);
}

std::string_view default_text_model_type(std::string_view wrapper) {
  if (wrapper == "llava" || wrapper == "llava_next") return "llama";
  if (wrapper == "gemma3") return "gemma3_text";
  if (wrapper == "gemma4") return "gemma4_text";
  if (wrapper == "minimax_m3_vl") return "minimax_m3";  // issue 14
  if (wrapper == "qwen3_5") return "qwen3_5_text";      // issue 14
  if (wrapper == "qwen3_5_moe") return "qwen3_5_moe_text";
  if (wrapper == "mllama") return "mllama_text_model";
  if (wrapper == "llama4") return "llama4_text";
  if (wrapper == "mistral3") return "mistral";
  return "";
}

nlohmann::json vision_defaults(std::string_view type) {
  if (type == "clip_vision_model")
    return {{"hidden_size", 768}, {"intermediate_size", 3072}, {"num_hidden_layers", 12}, {"num_attention_heads", 12},
            {"num_channels", 3},  {"image_size", 224},         {"patch_size", 32}};
  if (type == "siglip_vision_model")
    return {{"hidden_size", 768}, {"intermediate_size", 3072}, {"num_hidden_layers", 12}, {"num_attention_heads", 12},
            {"num_channels", 3},  {"image_size", 224},         {"patch_size", 16}};
  if (type == "pixtral")
    return {{"hidden_size", 1024}, {"intermediate_size", 4096}, {"num_hidden_layers", 24}, {"num_attention_heads", 16},
            {"num_channels", 3},   {"image_size", 1024},        {"patch_size", 16}};
  return nlohmann::json::object();
}

}  // namespace vramcalc::detail
