// Rendering a report: a readable table, or stable JSON for scripts (docs/json-schema.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "vramcalc/report.hpp"
#include "vramcalc/sku.hpp"

namespace vramcalc {

// One plan as the documented JSON object (schema_version 1). Byte values are integers.
nlohmann::json plan_json(const Report& report, const SkuPlan& plan);
// One object for one SKU, an array of objects for several; pretty-printed, newline-terminated.
std::string render_json(const Report& report, bool as_array);

// The full breakdown for one SKU; a comparison table (one row per SKU) when the report has several.
std::string render_table(const Report& report, bool comparison);

// `vram-calc skus` and `vram-calc models` listings.
std::string render_sku_list_table(const SkuCatalog& skus);
nlohmann::json sku_list_json(const SkuCatalog& skus);

}  // namespace vramcalc
