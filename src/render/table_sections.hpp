// Pieces of the table renderer shared by its files (private to src/render).
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>

#include "vramcalc/core/units.hpp"
#include "vramcalc/report/report.hpp"

namespace vramcalc::render_detail {

inline std::string gib(std::uint64_t bytes) { return fmt::format("{:.2f}", to_gib(bytes)); }
inline std::string signed_gib(std::int64_t bytes) {
  return fmt::format("{:.2f}", static_cast<double>(bytes) / static_cast<double>(kGiB));
}
// GB = 10^9 bytes with 5 decimals, as TGI's estimation notebook prints them.
inline std::string gb5(std::uint64_t bytes) { return fmt::format("{:.5f}", static_cast<double>(bytes) / 1e9); }

// A SKU's node: "8 x NVIDIA A100" for an instance, "H100-80G GPUs, up to 8 per node" for a bare GPU.
std::string sku_shape(const SkuPlan& sp);

void warnings_section(std::string& out, const std::vector<std::string>& warnings);
// Every warning of one plan: the report's (Report::all_warnings), then the engine's own.
std::vector<std::string> plan_warnings(const Report& r, const SkuPlan& sp);

// One row of a comparison over SKUs, from the plan's summary: the per-GPU memory the chosen engine sized against,
// the context the plan holds (vLLM's estimated max_model_len when the requested one does not fit) and the verdict.
struct ComparisonRow {
  std::uint64_t memory_bytes = 0;
  std::uint64_t context = 0;
  std::string fits;
};
ComparisonRow comparison_row(const Report& r, const SkuPlan& sp);
// issue 14: "FITS" or "DOES NOT FIT", with "(uncertain: ... are guesses)" when the model's confidence holds a guess.
std::string verdict_text(const Report& r, bool fits);

// One SKU's full breakdown with the method it was planned with (table_engines.cpp: one row per method).
void plan_section(std::string& out, const Report& r, const SkuPlan& sp);
// Each method's breakdown for one SKU: KAITO's and vLLM's (table.cpp), TGI's estimation notebook's and
// vllm-wizard's (table_engines.cpp).
void kaito_plan_section(std::string& out, const Report& r, const SkuPlan& sp);
void vllm_plan_section(std::string& out, const Report& r, const SkuPlan& sp);
void tgi_plan_section(std::string& out, const Report& r, const SkuPlan& sp);
void wizard_plan_section(std::string& out, const Report& r, const SkuPlan& sp);
// Feasibility (headroom, OOM risk, concurrency and context bounds) and, when it does not fit, the suggestions.
void feasibility_section(std::string& out, const Report& r, const SkuPlan& sp);

}  // namespace vramcalc::render_detail
