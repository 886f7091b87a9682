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
#include "vramcalc/model/architecture.hpp"

namespace vramcalc::detail {

void build_deepseek_v4(ModelArch& arch, ConfigReader& text);
void build_glm_moe_dsa(ModelArch& arch, ConfigReader& text);
void build_minimax(ModelArch& arch, const Family& family, ConfigReader& text);
void build_lfm2(ModelArch& arch, ConfigReader& text);
// MiniMax M3's vision tower (a CLIP-style ViT with a temporal patch and no class or position embedding) and its two
// projectors; returns their parameter count.
std::uint64_t build_minimax_m3_vision(ModelArch& arch, const nlohmann::json& top, std::string_view origin);

// Appends weight groups (or, for MTP layers, only sums them) with checked arithmetic.
class GroupSink {
 public:
  // Groups go to `out`; nullptr: they are only counted (total()).
  GroupSink(std::vector<WeightGroup>* out, std::string origin) : out_(out), origin_(std::move(origin)) {}

  void add(std::string name, WeightRole role, int layer, std::uint64_t matrices, std::uint64_t rows, std::uint64_t cols,
           std::uint64_t extra);
  // One linear layer out x in (a bias adds `out`).
  void linear(std::string name, WeightRole role, int layer, std::uint64_t out, std::uint64_t in, bool bias = false) {
    add(std::move(name), role, layer, 1, out, in, bias ? out : 0);
  }
  // `count` routed experts, each an out x in matrix.
  void experts(std::string name, int layer, std::uint64_t count, std::uint64_t out, std::uint64_t in) {
    add(std::move(name), WeightRole::Experts, layer, count, out, in, 0);
  }
  // Parameters outside matrices: norms, biases, sinks, tables.
  void vec(std::string name, WeightRole role, int layer, std::uint64_t n) {
    add(std::move(name), role, layer, 0, 0, 0, n);
  }
  // A SwiGLU feed-forward block: gate and up (inter x hidden), down (hidden x inter), under three names.
  void swiglu(const std::string& prefix, const char* const (&names)[3], WeightRole role, int layer,
              std::uint64_t hidden, std::uint64_t inter);
  [[nodiscard]] std::uint64_t total() const { return total_; }

 private:
  std::vector<WeightGroup>* out_;
  std::string origin_;
  std::uint64_t total_ = 0;
};

// The routed-expert layers of a family: `first_dense` leading dense layers, or an explicit 0/1 list
// (MiniMax M3's moe_layer_freq). True for layer i when it holds routed experts.
std::vector<bool> moe_layer_flags(ConfigReader& cfg, std::uint64_t layers, std::uint64_t first_dense);

}  // namespace vramcalc::detail
