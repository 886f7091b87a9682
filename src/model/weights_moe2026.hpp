// Weight-group builders of the 2026 MoE families (issue 14): DeepSeek V4 (weights_deepseek_v4.cpp), GLM 5
// (glm_moe_dsa, weights_glm_moe_dsa.cpp), MiniMax M2 / M3 (weights_minimax.cpp) and LFM2 (weights_lfm2.cpp).
// weight_groups.cpp dispatches to them by Stack. Private to the model layer.
//
// Every layout is the checkpoint's as published (tensor names and shapes of the safetensors files), which is also
// what vLLM loads. Multi-token-prediction layers are summed into ModelArch::mtp_params, not added to the weights:
// vLLM skips them unless speculative decoding asks for them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config_reader.hpp"
#include "model/families.hpp"
#include "model/group_sink.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc::detail {

void build_deepseek_v4(ModelArch& arch, ConfigReader& text);
void build_glm_moe_dsa(ModelArch& arch, ConfigReader& text);
void build_minimax(ModelArch& arch, const Family& family, ConfigReader& text);
void build_lfm2(ModelArch& arch, ConfigReader& text);
// MiniMax M3's vision tower (a CLIP-style ViT with a temporal patch and no class or position embedding) and its two
// projectors; returns their parameter count.
std::uint64_t build_minimax_m3_vision(ModelArch& arch, const nlohmann::json& top, std::string_view origin);

// The routed-expert layers of a family: `first_dense` leading dense layers, or an explicit 0/1 list
// (MiniMax M3's moe_layer_freq). True for layer i when it holds routed experts.
std::vector<bool> moe_layer_flags(ConfigReader& cfg, std::uint64_t layers, std::uint64_t first_dense);

}  // namespace vramcalc::detail
