#include "vramcalc/engines/vllm/rotary.hpp"

#include <fmt/format.h>

#include "vramcalc/core/units.hpp"

namespace vramcalc {

VllmRotaryTables vllm_rotary_tables(const ModelArch& a, DType dtype) {
  VllmRotaryTables r;
  const auto element = static_cast<std::uint64_t>(dtype_bytes(dtype));
  for (const auto& t : a.rotary_tables) {
    const std::uint64_t bytes =
        checked_mul(checked_mul(t.positions, t.rotary_dim, "rotary table"), element, "rotary table");
    r.bytes += bytes;
    r.formula += fmt::format("{}{} positions x {} x {} B = {:.1f} MiB ({})", r.formula.empty() ? "" : "; ",
                             format_count(t.positions), t.rotary_dim, element,
                             static_cast<double>(bytes) / static_cast<double>(kMiB), t.what);
  }
  if (!r.formula.empty()) r.formula = fmt::format("rotary tables (cos/sin per position, on every GPU): {}", r.formula);
  return r;
}

}  // namespace vramcalc
