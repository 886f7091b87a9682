// The dummy item vLLM's profile run sends through a multimodal encoder (issue 14), family by family: vLLM builds
// items "of the maximum feature size" for the modality with the most tokens per item (vllm/v1/worker/gpu_model_runner
// .py, profile_run; vllm/multimodal/budget.py, MultiModalBudget), each model's processing info saying how large that
// is (get_max_tokens_per_item / get_image_size_with_most_features in vllm/model_executor/models/<family>.py). Each
// family also says what its encoder blocks hold at their peak (src/engines/vllm/activation.cpp): the pixel values one
// encoder token takes as input, and whether its MLP is gated.
#include "model/multimodal.hpp"

#include <fmt/format.h>

#include "model/config_reader.hpp"
#include "model/families.hpp"
#include "vramcalc/core/error.hpp"

namespace vramcalc::detail {

namespace {

// The largest image of the Qwen-VL processors, in pixels: Qwen2-VL's and Qwen2.5-VL's preprocessor_config.json set
// max_pixels 12845056 (= 16384 x 28 x 28); Qwen3-VL's image processor (also Qwen 3.5 / 3.6's) size.longest_edge
// 16777216 (= 16384 x 32 x 32). vLLM's logs of Qwen3-VL and Qwen3.6 read "a budget of 16384 tokens".
constexpr std::uint64_t kQwen2VlMaxPixels = 12'845'056;
constexpr std::uint64_t kQwen3VlMaxPixels = 16'777'216;
// Llama 4's image processor splits an image into at most max_patches = 16 tiles, plus one global tile when it splits.
constexpr std::uint64_t kLlama4MaxTiles = 16;

bool is_one_of(const std::string& s, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (s == n) return true;
  return false;
}

// Qwen2-VL, Qwen2.5-VL, Qwen3-VL and Qwen 3.5 / 3.6: dynamic resolution, patch x patch pixels per patch and
// merge x merge patches per token; the dummy image is the processor's largest.
MultimodalEncoder qwen_vl(const std::string& wrapper, ConfigReader& v, std::uint64_t text_hidden) {
  MultimodalEncoder e;
  e.modalities = {"image", "video"};
  const bool qwen2 = wrapper == "qwen2_vl" || wrapper == "qwen2_5_vl";
  const std::uint64_t patch = v.count({"patch_size"}, kMaxWidth).value_or(qwen2 ? 14 : 16);
  const std::uint64_t merge = v.count({"spatial_merge_size"}, 64).value_or(2);
  if (wrapper == "qwen2_vl") {  // vision_config.hidden_size is the language model's width there
    e.hidden = v.require_count({"embed_dim"}, kMaxWidth);
    e.intermediate = e.hidden * v.count({"mlp_ratio"}, 64).value_or(4);
    e.output_hidden = v.count({"hidden_size"}, kMaxWidth).value_or(text_hidden);
  } else {
    e.hidden = v.require_count({"hidden_size", "embed_dim"}, kMaxWidth);
    e.intermediate = v.require_count({"intermediate_size"}, kMaxIntermediate);
    e.output_hidden = v.count({"out_hidden_size"}, kMaxWidth).value_or(text_hidden);
  }
  e.pixels_per_token = patch * patch * merge * merge;
  e.max_pixels = qwen2 ? kQwen2VlMaxPixels : kQwen3VlMaxPixels;
  // A patch is in_channels x temporal_patch_size frames x patch x patch values (an image's frame repeated); the MLP is
  // gated in Qwen2.5-VL only (gate_up_proj); Qwen3-VL hands over deepstack_visual_indexes' merged outputs as well.
  const std::uint64_t channels = v.count({"in_channels", "in_chans"}, 64).value_or(3);
  e.input_values_per_token = channels * v.count({"temporal_patch_size"}, 64).value_or(2) * patch * patch;
  e.gated_mlp = wrapper == "qwen2_5_vl";
  e.deepstack_levels =
      v.index_list("deepstack_visual_indexes", kMaxLayers).value_or(std::vector<std::uint64_t>{}).size();
  e.encoder_tokens_per_token = merge * merge;
  e.tokens_per_item = e.max_pixels / e.pixels_per_token;
  e.encoder_tokens_per_item = e.tokens_per_item * e.encoder_tokens_per_token;
  e.rule = fmt::format("the processor's largest image, {} pixels / ({} x {} patch x {} x {} merge)", e.max_pixels,
                       patch, patch, merge, merge);
  return e;
}

// Llava 1.5: one image resized to image_size, (image / patch)^2 patches plus the class token; the "default" feature
// strategy drops the class token from what reaches the language model.
MultimodalEncoder llava(ConfigReader& top, ConfigReader& v, std::uint64_t text_hidden) {
  MultimodalEncoder e;
  e.modalities = {"image"};
  const std::uint64_t image = v.require_count({"image_size"}, kMaxWidth);
  const std::uint64_t patch = v.require_count({"patch_size"}, kMaxWidth);
  const std::uint64_t patches = (image / patch) * (image / patch);
  const bool full = top.text("vision_feature_select_strategy").value_or("default") == "full";
  e.hidden = v.require_count({"hidden_size"}, kMaxWidth);
  e.intermediate = v.require_count({"intermediate_size"}, kMaxIntermediate);
  e.output_hidden = text_hidden;
  e.tokens_per_item = patches + (full ? 1 : 0);
  e.encoder_tokens_per_item = patches + 1;
  e.input_values_per_token = v.count({"num_channels"}, 64).value_or(3) * patch * patch;  // CLIP: fc1, act, fc2
  e.rule = fmt::format("one {} x {} image: ({} / {})^2 patches{}", image, image, image, patch,
                       full ? " + the class token" : "");
  return e;
}

// Gemma 3: one 896 x 896 SigLIP image pooled to mm_tokens_per_image (pan-and-scan off, vLLM's default).
MultimodalEncoder gemma3(ConfigReader& top, ConfigReader& v, std::uint64_t text_hidden) {
  MultimodalEncoder e;
  e.modalities = {"image"};
  const std::uint64_t image = v.require_count({"image_size"}, kMaxWidth);
  const std::uint64_t patch = v.require_count({"patch_size"}, kMaxWidth);
  e.hidden = v.require_count({"hidden_size"}, kMaxWidth);
  e.intermediate = v.require_count({"intermediate_size"}, kMaxIntermediate);
  e.output_hidden = text_hidden;
  e.tokens_per_item = top.count({"mm_tokens_per_image"}, kMaxWidth).value_or(256);
  e.encoder_tokens_per_item = (image / patch) * (image / patch);
  e.input_values_per_token = v.count({"num_channels"}, 64).value_or(3) * patch * patch;  // SigLIP: fc1, act, fc2
  e.rule = fmt::format("one {} x {} image, ({} / {})^2 patches pooled to {} tokens", image, image, image, patch,
                       e.tokens_per_item);
  return e;
}

// Gemma 4: vision_soft_tokens_per_image tokens, each pooled from pooling_kernel_size^2 patches.
MultimodalEncoder gemma4(ConfigReader& top, ConfigReader& v, std::uint64_t text_hidden, bool audio) {
  MultimodalEncoder e;
  e.modalities = {"image", "video"};
  if (audio) e.modalities.emplace_back("audio");
  const std::uint64_t pool = v.count({"pooling_kernel_size"}, 64).value_or(3);
  e.hidden = v.require_count({"hidden_size"}, kMaxWidth);
  e.intermediate = v.require_count({"intermediate_size"}, kMaxIntermediate);
  e.output_hidden = text_hidden;
  e.tokens_per_item = top.count({"vision_soft_tokens_per_image"}, kMaxWidth)
                          .value_or(v.count({"default_output_length"}, kMaxWidth).value_or(280));
  e.encoder_tokens_per_item = e.tokens_per_item * pool * pool;
  // The patch embedder takes 3 x patch x patch values; the blocks' MLP is gated (gate_proj, up_proj).
  const std::uint64_t patch = v.count({"patch_size"}, kMaxWidth).value_or(16);
  e.input_values_per_token = 3 * patch * patch;
  e.gated_mlp = true;
  e.rule = fmt::format("one image of {} soft tokens, each pooled from {} x {} patches", e.tokens_per_item, pool, pool);
  return e;
}

// Mistral 3 (Pixtral): the largest image, image_size pixels a side, (side / patch)^2 patches merged merge x merge,
// with one [IMG_BREAK] / [IMG_END] token per row of merged patches.
MultimodalEncoder mistral3(ConfigReader& top, ConfigReader& v, std::uint64_t text_hidden) {
  MultimodalEncoder e;
  e.modalities = {"image"};
  const std::uint64_t patch = v.require_count({"patch_size"}, kMaxWidth);
  const std::uint64_t side = v.require_count({"image_size"}, kMaxWidth) / patch;
  const std::uint64_t merge = top.count({"spatial_merge_size"}, 64).value_or(2);
  const std::uint64_t rows = side / merge;
  e.hidden = v.require_count({"hidden_size"}, kMaxWidth);
  e.intermediate = v.require_count({"intermediate_size"}, kMaxIntermediate);
  e.output_hidden = text_hidden;
  e.tokens_per_item = rows * (rows + 1);
  e.encoder_tokens_per_item = side * side;
  e.input_values_per_token = v.count({"num_channels"}, 64).value_or(3) * patch * patch;
  e.gated_mlp = true;  // Pixtral's feed-forward: gate, up and down projections
  e.rule = fmt::format("the largest image, {} x {} patches merged {} x {}: {} rows of {} tokens + 1 break", side, side,
                       merge, merge, rows, rows);
  return e;
}

// Llama 4: up to 16 tiles plus a global one, each (image / patch)^2 patches + a class token, pixel-shuffled to
// pixel_shuffle_ratio^2 of the patches.
MultimodalEncoder llama4(ConfigReader& v, std::uint64_t text_hidden) {
  MultimodalEncoder e;
  e.modalities = {"image"};
  const std::uint64_t image = v.require_count({"image_size"}, kMaxWidth);
  const std::uint64_t patch = v.require_count({"patch_size"}, kMaxWidth);
  const std::uint64_t patches = (image / patch) * (image / patch);
  const double ratio = v.number("pixel_shuffle_ratio").value_or(0.5);
  const auto per_tile = static_cast<std::uint64_t>(static_cast<double>(patches) * ratio * ratio);
  const std::uint64_t tiles = kLlama4MaxTiles + 1;
  e.hidden = v.require_count({"hidden_size"}, kMaxWidth);
  e.intermediate = v.require_count({"intermediate_size"}, kMaxIntermediate);
  e.output_hidden = text_hidden;
  e.tokens_per_item = tiles * per_tile;
  e.encoder_tokens_per_item = tiles * (patches + 1);
  e.input_values_per_token = v.count({"num_channels"}, 64).value_or(3) * patch * patch;  // fc1, GELU, fc2
  e.rule =
      fmt::format("{} tiles + 1 global of {} x {} pixels, {} tokens each", kLlama4MaxTiles, image, image, per_tile);
  return e;
}

// The dummy item of the wrapper's family; throws Error for a field it needs that is missing or malformed.
std::optional<MultimodalEncoder> read_dummy_item(const ModelArch& arch, const nlohmann::json& top_json,
                                                 std::string_view origin) {
  const auto* vc = top_json.is_object() && top_json.contains("vision_config") ? &top_json["vision_config"] : nullptr;
  if (vc == nullptr || !vc->is_object()) return std::nullopt;
  ConfigReader top(top_json, std::string(origin), "");
  const std::string wrapper = top.text("model_type").value_or("");
  const std::string type = ConfigReader(*vc, std::string(origin), "vision_config.")
                               .text("model_type")
                               .value_or(wrapper == "llava" ? "clip_vision_model" : "");
  ConfigReader v(*vc, std::string(origin), "vision_config.", vision_defaults(type));
  const std::uint64_t text_hidden = arch.hidden_size;
  if (is_one_of(wrapper, {"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe"}))
    return qwen_vl(wrapper, v, text_hidden);
  if (wrapper == "llava") return llava(top, v, text_hidden);
  if (wrapper == "gemma3") return gemma3(top, v, text_hidden);
  if (wrapper == "gemma4") {
    const auto* audio = top.get("audio_config");
    return gemma4(top, v, text_hidden, audio != nullptr && audio->is_object());
  }
  if (wrapper == "mistral3") return mistral3(top, v, text_hidden);
  if (wrapper == "llama4") return llama4(v, text_hidden);
  return std::nullopt;
}

}  // namespace

std::optional<MultimodalEncoder> read_mm_encoder(const ModelArch& arch, const nlohmann::json& top_json,
                                                 std::string_view origin) {
  // build_vision_model has already read (and refused) the tower's fields; a field it did without and that the dummy
  // item needs leaves the encoder's profile unmodelled (the vLLM plan says so) rather than refusing the config.
  try {
    return read_dummy_item(arch, top_json, origin);
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace vramcalc::detail
