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
};

// Other spellings of the same layouts.
struct Alias {
  std::string_view model_type;
  std::string_view family;
};
constexpr std::array kAliases = {
    Alias{"qwen2_vl", "qwen2"},          Alias{"qwen2_5_vl", "qwen2"},   Alias{"kimi_k2", "deepseek_v3"},
    Alias{"deepseek_v2", "deepseek_v3"}, Alias{"RefinedWeb", "falcon"},  Alias{"RefinedWebModel", "falcon"},
    Alias{"gemma3", "gemma3_text"},      Alias{"llama4", "llama4_text"}, Alias{"mllama", "mllama_text_model"},
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
