// Table sections for the TGI engine (TGI's estimation notebook), the vllm-wizard estimator and the feasibility report
// every engine ends with.
#include <array>
#include <utility>

#include <fmt/format.h>

#include "render/table_sections.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/render/commands.hpp"
#include "vramcalc/render/render.hpp"

namespace vramcalc::render_detail {

namespace {

std::string verdict(bool fits) { return fits ? "FITS" : "DOES NOT FIT"; }

std::string count_or_unbounded(std::uint64_t n) {
  return n >= (1ULL << 62) ? std::string("unbounded") : format_count(n);
}

}  // namespace

void tgi_plan_section(std::string& out, const Report& r, const SkuPlan& sp) {
  const TgiPlan& t = *sp.tgi;
  out +=
      fmt::format("\nSKU           {}: {}, {} GB per GPU ({})\n", printable_line(sp.sku.name), sku_shape(sp),
                  gb5(t.gpu_memory_bytes),
                  r.settings.gpu_memory_override || r.settings.cuda_total_override ? "--gpu-memory"
                                                                                   : "marketed size, GB = 10^9 bytes");
  out += fmt::format(
      "Settings      TGI: num_shard {}, max_input_tokens {}, max_total_tokens {}, max_batch_prefill_tokens "
      "{}, cuda_memory_fraction {}\n",
      t.num_shard, t.max_input_tokens, t.max_total_tokens, t.max_batch_prefill_tokens, t.cuda_memory_fraction);
  for (const auto& d : t.defaults_used) out += fmt::format("              {}\n", printable_line(d));
  out += fmt::format("\nAll {} GPU(s), as TGI's estimation notebook sums them (GB = 10^9 bytes)\n", t.num_shard);
  out += fmt::format("  model                    {:>12}   weights\n", gb5(t.model_bytes));
  out += fmt::format("  CUDA overhead            {:>12}   {} GB x {} GPU(s)\n", gb5(t.cuda_overhead_bytes),
                     r.settings.tgi.cuda_overhead_gb, t.num_shard);
  out +=
      fmt::format("  prefill                  {:>12}   {}\n", gb5(t.prefill_bytes), printable_line(t.prefill_formula));
  out += fmt::format("  decode                   {:>12}   {}\n", gb5(t.decode_bytes), printable_line(t.decode_formula));
  out += fmt::format("  KV cache                 {:>12}   {}\n", gb5(t.kv_cache_bytes), printable_line(t.kv_formula));
  out += fmt::format("  = needed                 {:>12}\n", gb5(t.total_needed_bytes));
  out += fmt::format("  available                {:>12}   {} GPU(s) x {} GB x {} x 0.95\n", gb5(t.available_bytes),
                     t.num_shard, gb5(t.gpu_memory_bytes), t.cuda_memory_fraction);
  out += fmt::format("  is_enough_vram           {}\n", t.is_enough_vram ? "True" : "False");
  out += fmt::format("  KV token budget          {} tokens (first version: {} GB free for the KV cache)\n",
                     count_or_unbounded(t.kv_token_budget),
                     fmt::format("{:.5f}", static_cast<double>(t.free_for_kv_bytes) / 1e9));
  out += fmt::format("\nPlan ({})\n  GPUs                     {} (num_shard)\n", method_info(Method::Tgi).source,
                     t.num_shard);
  out += fmt::format("  verdict                  {}\n", verdict_text(r, t.fits));
  for (const auto& reason : t.not_fit_reasons) out += fmt::format("    - {}\n", printable_line(reason));
  if (!t.notes.empty()) {
    out += "\nNotes\n";
    for (const auto& n : t.notes) out += fmt::format("  - {}\n", printable_line(n));
  }
  feasibility_section(out, r, sp);
  warnings_section(out, plan_warnings(r, sp));
  out += fmt::format("\n{}\n", launch_command(sp));
}

void wizard_plan_section(std::string& out, const Report& r, const SkuPlan& sp) {
  const WizardPlan& w = *sp.wizard;
  out += fmt::format("\nSKU           {}: {}, {} GiB per GPU ({})\n", printable_line(sp.sku.name), sku_shape(sp),
                     gib(w.gpu_memory_bytes), printable_line(sp.gpu_memory.source));
  out += fmt::format("Settings      gpu_memory_utilization {}, context {}, concurrency {}, fragmentation_factor {}\n",
                     r.settings.kaito.gpu_memory_utilization, sp.feasibility.context, r.settings.concurrency,
                     r.settings.fragmentation_factor);
  out += fmt::format("\nAll {} GPU(s) of the TP group, as vllm-wizard sums them (GiB = 2^30 bytes)\n", w.gpus);
  out += fmt::format("  allocatable              {:>9}   {} GPU(s) x {} GiB x {}\n", gib(w.allocatable_bytes), w.gpus,
                     gib(w.gpu_memory_bytes), r.settings.kaito.gpu_memory_utilization);
  out += fmt::format("  - weights                {:>9}\n", gib(w.weights_bytes));
  out += fmt::format("  - KV cache               {:>9}   {}\n", gib(w.kv_cache_bytes), printable_line(w.kv_formula));
  out +=
      fmt::format("  - overhead               {:>9}   {}\n", gib(w.overhead_bytes), printable_line(w.overhead_formula));
  if (w.reserve_bytes > 0)
    out += fmt::format("  - reserve                {:>9}   --headroom-gib\n", gib(w.reserve_bytes));
  out += fmt::format("  = headroom               {:>9}   OOM risk {}\n", signed_gib(w.headroom_bytes),
                     oom_risk_name(w.oom_risk));
  out += fmt::format("\nPlan ({})\n  GPUs                     {} (TP {}){}\n", method_info(Method::Wizard).source,
                     w.gpus, w.tensor_parallel_size, w.pinned ? ", pinned" : "");
  out += fmt::format("  verdict                  {}\n", verdict_text(r, w.fits));
  for (const auto& reason : w.not_fit_reasons) out += fmt::format("    - {}\n", printable_line(reason));
  feasibility_section(out, r, sp);
  warnings_section(out, plan_warnings(r, sp));
  out += fmt::format("\n{}\n", launch_command(sp));
}

// The one-SKU breakdown of each method: a new memory model adds its section and a row here.
using PlanSection = void (*)(std::string&, const Report&, const SkuPlan&);
constexpr std::array<std::pair<Method, PlanSection>, kMethods.size()> kPlanSections = {{
    {Method::Kaito, kaito_plan_section},
    {Method::Vllm, vllm_plan_section},
    {Method::Wizard, wizard_plan_section},
    {Method::Tgi, tgi_plan_section},
}};

void plan_section(std::string& out, const Report& r, const SkuPlan& sp) {
  for (const auto& [method, section] : kPlanSections)
    if (method == sp.method()) return section(out, r, sp);
}

// Another memory model's plan of the same SKU (SkuPlan::baseline), from its summary alone.
void baseline_section(std::string& out, const PlanSummary& b) {
  out += fmt::format("\nBaseline ({}), for comparison\n", method_info(b.method).source);
  out += fmt::format("  GPUs                     {} (TP {} x PP {} on {} node(s)){}\n", b.gpus, b.tensor_parallel_size,
                     b.pipeline_parallel_size, b.nodes, b.pinned ? ", pinned" : "");
  out += fmt::format(
      "  max_model_len            {}{}\n", b.max_model_len,
      b.max_model_len_limited_by.empty() ? std::string() : fmt::format(" (limited by {})", b.max_model_len_limited_by));
  std::string terms;
  for (const auto& t : b.memory) terms += fmt::format("{}{} {}", terms.empty() ? "" : " + ", t.name, gib(t.bytes));
  out += fmt::format("  per GPU                  {} = {} of budget {} GiB\n", terms, gib(b.memory_total_bytes),
                     gib(b.budget_bytes));
  out += fmt::format("  verdict                  {}\n", verdict(b.fits));
  for (const auto& reason : b.not_fit_reasons) out += fmt::format("    - {}\n", printable_line(reason));
}

void feasibility_section(std::string& out, const Report& r, const SkuPlan& sp) {
  if (sp.baseline) baseline_section(out, *sp.baseline);
  const Feasibility& f = sp.feasibility;
  out += "\nFeasibility (per GPU, GiB = 2^30 bytes)\n";
  out += fmt::format("  fits                     {}\n", f.fits ? "yes" : "no");
  out += fmt::format("  headroom                 {:>9}   {}\n", signed_gib(f.headroom_bytes),
                     printable_line(f.headroom_formula));
  out += fmt::format("  OOM risk                 {} (low >= {} GiB, medium >= {} GiB)\n", oom_risk_name(f.oom_risk),
                     r.settings.risk_thresholds.low_gib, r.settings.risk_thresholds.medium_gib);
  out += fmt::format("  max concurrency          {} sequences of {} tokens\n",
                     count_or_unbounded(f.max_concurrency_at_context), f.context);
  out += fmt::format("  max context              {} tokens for {} sequence(s)\n",
                     count_or_unbounded(f.max_context_at_concurrency), f.concurrency);
  for (const auto& w : f.warnings) out += fmt::format("  - {}\n", printable_line(w));
  if (sp.fits()) return;
  if (sp.suggestions.empty()) {
    out +=
        "\nNo single change among fp8 KV cache, the next TP size, a shorter context, a higher utilization and "
        "quantized weights makes it fit.\n";
    return;
  }
  out += "\nWould fit with\n";
  for (const auto& s : sp.suggestions)
    out += fmt::format("  - {}: {} GPU(s), context {}, headroom {} GiB ({} risk), {} sequence(s) at once   [{}]\n",
                       printable_line(s.change), s.gpus, s.context, signed_gib(s.headroom_bytes),
                       oom_risk_name(s.oom_risk), count_or_unbounded(s.max_concurrency_at_context),
                       printable_line(s.flags));
}

}  // namespace vramcalc::render_detail
