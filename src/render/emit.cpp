// --emit: ready-to-run artefacts for a plan — the `vllm serve` flags or command, the TGI launcher command, or a
// Kubernetes manifest (emit_k8s.cpp) — and why a plan that does not fit is not emitted.
#include <fmt/format.h>

#include "vramcalc/core/printable.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/render/commands.hpp"
#include "vramcalc/render/render.hpp"

namespace vramcalc {

namespace {

// The plan's reasons it does not fit, or (when the engine's own verdict is yes) the headroom that fails it.
std::string not_fit_reason(const SkuPlan& sp) {
  std::string out;
  for (const auto& reason : sp.summary.not_fit_reasons) out += (out.empty() ? "" : "; ") + reason;
  if (out.empty())
    out = fmt::format("{:.2f} GiB of headroom per GPU is below zero",
                      static_cast<double>(sp.feasibility.headroom_bytes) / static_cast<double>(kGiB));
  return out;
}

}  // namespace

std::string emit_refusal(const Report& r) {
  if (r.plans.empty()) return "no plan to emit";
  const SkuPlan& sp = r.plans.front();
  const std::string why = r.plans.size() > 1
                              ? fmt::format("no SKU fits (the first, {}: {})", sp.sku.name, not_fit_reason(sp))
                              : fmt::format("the plan on {} does not fit ({})", sp.sku.name, not_fit_reason(sp));
  return printable_line(why + "; pass --force to emit it anyway");
}

std::string render_emit(const Report& r, const SkuPlan& sp, Emit what) {
  switch (what) {
    case Emit::VllmArgs: {
      auto args = vllm_serve_args(r, sp);
      args.erase(args.begin());  // the model comes first: `vllm serve MODEL <these>`
      return shell_join(args) + "\n";
    }
    case Emit::VllmCommand: return vllm_serve_command(r, sp) + "\n";
    case Emit::TgiCommand: return sp.tgi ? launch_command(sp) + "\n" : "";
    case Emit::K8s: return k8s_manifest(r, sp);
  }
  return "";
}

}  // namespace vramcalc
