// Weight-group builders, shared by normalize.cpp. Private to the model layer.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "model/config_reader.hpp"
#include "model/families.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc::detail {

// Appends the embedding, every decoder layer, the final norm and the LM head to arch.weights.
// Reads the few layout-only fields it needs (MLA ranks, MoE layer placement, ...) from `text`.
void build_language_model(ModelArch& arch, const Family& family, ConfigReader& text);

// Appends the vision tower and multimodal projector of a wrapper config (Llava, Gemma 3, Mllama, Llama 4,
// Mistral 3, Qwen2-VL) and returns their parameter count; adds a warning for tower types it does not know.
std::uint64_t build_vision_model(ModelArch& arch, const nlohmann::json& top, std::string_view origin);

}  // namespace vramcalc::detail
