// The model layer's part of the confidence record (include/vramcalc/model/confidence.hpp): what normalize_config
// found that it could only guess. Private to the model layer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vramcalc/model/architecture.hpp"

namespace vramcalc::detail {

// layer_types entries vram-calc does not know, each with the layers that have it: they were sized as full attention,
// so the parameter count and the KV cache are guesses.
void note_unknown_layer_types(ModelArch& arch, const std::map<std::string, std::vector<std::uint64_t>>& unknown);

// Once the weights are built: an architecture sized as a generic Llama-style decoder, experts that no decoder layer
// holds (never multiplied by zero layers silently), experts without a count per token.
void assess_confidence(ModelArch& arch);

}  // namespace vramcalc::detail
