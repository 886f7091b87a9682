// The vLLM memory-calculator API (POST /estimate-gpu-memory, GET /known-architectures): the seed service's field
// names and defaults, vram-calc's engine behind them. Private to the server.
#pragma once

#include <nlohmann/json.hpp>

namespace vramcalc::serve {

// What the estimate may use beyond the request.
struct EstimateContext {
  bool allow_hub = false;  // models may be fetched from the Hub (else catalog and caches only)
};

// POST /estimate-gpu-memory: the request body (already parsed JSON) to the response object. Throws ApiError: 400
// naming the field for invalid input, 502 for a remote failure.
nlohmann::json estimate_gpu_memory(const nlohmann::json& request, const EstimateContext& context);

// GET /known-architectures: the catalog's architectures and families.
nlohmann::json known_architectures();

// GET /: what the API is, its endpoints, an example request and response, the units and formulas, as JSON.
nlohmann::json api_description();

}  // namespace vramcalc::serve
