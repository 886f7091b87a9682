// The one pipeline from a model's sources to a Report, shared by the CLI and the fuzz targets: the architecture,
// the weights, the KV cache, the model-level warnings, one plan per SKU, suggestions, and the order of several
// SKUs. Pure: no I/O (the caller resolves the model and loads the SKUs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vramcalc/core/hardware.hpp"
#include "vramcalc/report/report.hpp"
#include "vramcalc/sources/local.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

namespace vramcalc {

// What a report is planned with, besides the model.
struct ReportRequest {
  ReportSettings settings;                 // settings.weights: the weight settings the weights are estimated with
  std::vector<std::string> profile_notes;  // what a profile set that is recorded, not sized: "profile: ..." warnings
  std::vector<const Sku*> skus;            // in the order asked; several are reordered (see build_report)
  bool suggestions = false;                // re-plan each SKU that does not fit with the nearest changes that would
};

// The report of `input` on every SKU of `request`: model_report, then add_plans.
Report build_report(const ModelInput& input, const ReportRequest& request);

// The two halves of build_report, for a caller that selects the SKUs in between (the CLI: an unreadable config is
// reported before an unknown --sku, as it always was).
// The model-level half: normalize_config, estimate_weights, kv_cache_spec and the model-level warnings (a what-if KV
// cache dtype, a computed parameter count off the known one), the profile's notes among the source's warnings; no
// plans yet. Throws Error(BadInput) for a config it cannot read.
Report model_report(const ModelInput& input, const ReportSettings& settings,
                    const std::vector<std::string>& profile_notes = {});
// The SKU half: report.plans replaced by plan_for_sku for each SKU, add_suggestions to each when `suggestions`, and
// several ordered: those that fit first, then fewest GPUs, then as asked.
void add_plans(Report& report, const std::vector<const Sku*>& skus, bool suggestions);

// A GPU known only by its memory (--gpu-memory and/or --cuda-total without --sku): a bare NVIDIA GPU with bfloat16,
// without FP8, served by vLLM's CUDA path, nodes of up to 8; its warning says so.
Sku gpu_known_by_memory(const ReportSettings& settings);
inline constexpr std::string_view kMemoryOnlyGpuNote =
    "known only by its memory: assumed an NVIDIA GPU with bfloat16, without FP8, served by vLLM's CUDA path (pass "
    "--sku for a catalog GPU's real features)";

// --sku's value: "all" (or "ALL") names every SKU of the catalog, anything else a comma-separated list of names.
bool selects_every_sku(std::string_view spec);
// The names a comma-separated --sku value lists, blanks around each trimmed, empty ones dropped.
std::vector<std::string> sku_names(const std::string& spec);
// The SKUs `spec` selects from `catalog`, in the order named (catalog order for "all"). Throws Error(BadInput) for a
// spec that names none, or for an unknown name, with up to three close matches ("Did you mean ...?").
std::vector<const Sku*> select_skus(const SkuCatalog& catalog, const std::string& spec);

}  // namespace vramcalc
