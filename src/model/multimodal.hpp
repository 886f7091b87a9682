// Reads ModelArch::mm_encoder from a multimodal wrapper config (issue 14). Private to the model layer.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vramcalc/model/architecture.hpp"

namespace vramcalc::detail {

// The dummy item vLLM profiles the encoder with, for the wrappers whose processor vram-calc knows (Llava, Qwen2-VL,
// Qwen2.5-VL, Qwen3-VL / 3.5 / 3.6, Gemma 3, Gemma 4, Mistral 3, Llama 4); nullopt for the others (and for Mllama,
// which vLLM's V1 engine never ran).
std::optional<MultimodalEncoder> read_mm_encoder(const ModelArch& arch, const nlohmann::json& top,
                                                 std::string_view origin);

}  // namespace vramcalc::detail
