// Rendering a report: a readable table, stable JSON for scripts (docs/json-schema.md), CSV, or Markdown.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "vramcalc/render/choices.hpp"
#include "vramcalc/report/report.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

namespace vramcalc {

// One plan as the documented JSON object (schema_version 1). Byte values are integers.
nlohmann::json plan_json(const Report& report, const SkuPlan& plan);
// One object for one SKU, an array of objects for several; pretty-printed, newline-terminated.
std::string render_json(const Report& report, bool as_array);

// The full breakdown for one SKU; a comparison table (one row per SKU) when the report has several.
std::string render_table(const Report& report, bool comparison);
// GitHub-flavoured Markdown for pull-request comments and CI summaries: the verdict, the model, the suggestions,
// warnings and the serve command, then render_table's breakdown verbatim in a collapsed block; for several SKUs,
// the comparison as a Markdown table.
std::string render_markdown(const Report& report, bool comparison);

// One point of a sweep (--sweep / --sweep-tokens): the flag, its value and the report planned with it.
// A run without a sweep is one point with an empty flag.
struct SweepPoint {
  std::string flag;
  std::string value;
  Report report;
};
// CSV (RFC 4180): a header, then one row per point and SKU; bytes as integers.
std::string render_csv(const std::vector<SweepPoint>& points);
// A sweep as a table (one row per point and SKU) or a JSON array of plan objects, each with a "sweep" object.
std::string render_sweep_table(const std::vector<SweepPoint>& points);
std::string render_sweep_json(const std::vector<SweepPoint>& points);
// A sweep in Markdown: a heading and the sweep table in a code block.
std::string render_sweep_markdown(const std::vector<SweepPoint>& points);

// --emit: vllm-args (the flags after `vllm serve MODEL`), vllm-command, tgi-command, or k8s (a minimal Deployment:
// image, args, GPU limit, a GPU-feature-discovery node selector). Newline-terminated. The CLI checks that the
// artefact suits the engine (render/choices.hpp, EmitInfo::engine); tgi-command of a plan without TGI is "".
std::string render_emit(const Report& report, const SkuPlan& plan, Emit what);

// `vram-calc skus` and `vram-calc models` listings.
std::string render_sku_list_table(const SkuCatalog& skus);
nlohmann::json sku_list_json(const SkuCatalog& skus);

}  // namespace vramcalc
