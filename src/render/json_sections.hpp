// Pieces of the JSON renderer shared by its files (private to src/render).
#pragma once

#include <nlohmann/json.hpp>

#include "vramcalc/report.hpp"

namespace vramcalc::render_detail {

// Adds engine, fits, tgi, wizard, feasibility, suggestions, the commands and the warnings to one plan object.
void add_engine_json(nlohmann::json& j, const Report& r, const SkuPlan& sp);

}  // namespace vramcalc::render_detail
