// The multimodal encoder as vLLM's profile run feeds it (issue 14): the dummy item of the modality with the most
// tokens per item, its size in the prompt and in the encoder, and the encoder's widths. src/model/multimodal.cpp
// reads it from the wrapper config of each family whose dummy input vram-calc knows; src/engines/vllm/profile.cpp
// turns it into the encoder's share of the activation peak.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vramcalc {

struct MultimodalEncoder {
  std::string modality = "image";             // the modality vLLM profiles: the one with the most tokens per item
  std::vector<std::string> modalities;        // every non-text modality the model takes ("image", "video", "audio")
  std::uint64_t tokens_per_item = 0;          // placeholder tokens the largest item takes in the prompt
  std::uint64_t encoder_tokens_per_item = 0;  // the encoder's sequence over that item (patches, every tile)
  std::uint64_t hidden = 0;                   // encoder width
  std::uint64_t intermediate = 0;             // encoder MLP width
  std::uint64_t output_hidden = 0;            // width of the embeddings handed to the language model
  // Dynamic resolution (Qwen-VL): an image of W x H pixels takes about W x H / pixels_per_token tokens, up to
  // max_pixels, and each token is encoder_tokens_per_token patches. 0 for towers that resize to a fixed size.
  std::uint64_t pixels_per_token = 0;
  std::uint64_t max_pixels = 0;
  std::uint64_t encoder_tokens_per_token = 1;
  std::string rule;  // how the item was sized, for the breakdown
  // What the encoder's blocks hold at their peak (src/engines/vllm/activation.cpp): the values of one encoder token's
  // input (channels x frames x patch x patch pixels, which vLLM hands over in the model dtype; 0: not known), whether
  // the MLP is gated (gate and up projections, 3 intermediate-wide rows at its peak instead of 2), and how many
  // intermediate blocks' merged outputs are kept and handed over beside the last one's (Qwen3-VL's deepstack).
  std::uint64_t input_values_per_token = 0;
  bool gated_mlp = false;
  std::uint64_t deepstack_levels = 0;
};

}  // namespace vramcalc
