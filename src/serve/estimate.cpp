// Placeholder until the seed API lands (serve/estimate.hpp).
#include "serve/estimate.hpp"

#include "serve/api_error.hpp"

namespace vramcalc::serve {

nlohmann::json estimate_gpu_memory(const nlohmann::json& /*request*/, const EstimateContext& /*context*/) {
  throw ApiError(501, "not implemented yet");
}

nlohmann::json known_architectures() { return nlohmann::json::array(); }

nlohmann::json api_description() { return {{"name", "vram-calc"}}; }

}  // namespace vramcalc::serve
