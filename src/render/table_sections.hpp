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

void warnings_section(std::string& out, const std::vector<std::string>& warnings);

// One row of a comparison over SKUs: the per-GPU memory the chosen engine sized against, the context it reports
// (vLLM's estimated max_model_len when the requested one does not fit) and the verdict in words.
struct ComparisonRow {
  std::uint64_t memory_bytes = 0;
  std::uint64_t context = 0;
  std::string fits;
};
ComparisonRow comparison_row(const SkuPlan& sp);

// The TGI breakdown (seed 001) and the vllm-wizard breakdown (seed 003) for one SKU.
void tgi_plan_section(std::string& out, const Report& r, const SkuPlan& sp);
void wizard_plan_section(std::string& out, const Report& r, const SkuPlan& sp);
// Feasibility (headroom, OOM risk, concurrency and context bounds) and, when it does not fit, the suggestions.
void feasibility_section(std::string& out, const Report& r, const SkuPlan& sp);

}  // namespace vramcalc::render_detail
