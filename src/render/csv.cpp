// CSV and sweep renderings: one row per sweep value and SKU, the columns a spreadsheet or pandas wants.
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "render/json_sections.hpp"
#include "render/table_sections.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/render/render.hpp"

namespace vramcalc {

namespace {

// RFC 4180: quote a field holding a comma or a quote, doubling the quotes. Control characters are escaped first
// (printable_line), line breaks included, although RFC 4180 would allow them in quotes: one row stays one line for
// grep, wc -l and a terminal, and no ESC from a model id or file name reaches the screen.
std::string field(const std::string& raw) {
  std::string s = printable_line(raw);
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The columns every plan fills, then those only some methods fill (PlanSummary::figures), empty for the others.
const char* const kColumns =
    "sweep_flag,sweep_value,model,sku,gpu,engine,estimator,fits,oom_risk,gpus,nodes,tensor_parallel_size,"
    "pipeline_parallel_size,context,concurrency,weights_bytes,headroom_bytes,max_concurrency_at_context,"
    "max_context_at_concurrency,kv_cache_dtype";
constexpr std::array<std::string_view, 15> kFigureColumns = {"vllm_available_kv_cache_bytes",
                                                             "vllm_kv_cache_tokens",
                                                             "vllm_max_concurrency",
                                                             "tgi_max_input_tokens",
                                                             "tgi_max_total_tokens",
                                                             "tgi_max_batch_prefill_tokens",
                                                             "tgi_cuda_overhead_bytes",
                                                             "tgi_model_bytes",
                                                             "tgi_prefill_bytes",
                                                             "tgi_decode_bytes",
                                                             "tgi_kv_cache_bytes",
                                                             "tgi_total_needed_bytes",
                                                             "tgi_available_bytes",
                                                             "tgi_is_enough_vram",
                                                             "tgi_kv_token_budget"};

// The baseline beside the chosen plan (SkuPlan::baseline), last so that columns read by position keep theirs.
const char* const kBaselineColumns = "baseline_method,baseline_fits,baseline_gpus,baseline_max_model_len";
// issue 14: fits, does_not_fit or uncertain (Report::verdict), after every column that was there before it.
const char* const kVerdictColumn = "verdict";

std::string header() {
  std::string out = kColumns;
  for (const auto column : kFigureColumns) {
    out += ',';
    out += column;
  }
  return out + "," + kBaselineColumns + "," + kVerdictColumn + "\n";
}

std::string figure(const PlanSummary& s, std::string_view column) {
  for (const auto& [name, value] : s.figures)
    if (name == column) return value;
  return "";
}

std::string row(const SweepPoint& pt, const SkuPlan& sp) {
  const Report& r = pt.report;
  const Feasibility& f = sp.feasibility;
  const MethodInfo& method = method_info(sp.method());
  std::vector<std::string> cells = {pt.flag,
                                    pt.value,
                                    r.input.id,
                                    sp.sku.name,
                                    sp.sku.gpu.name,
                                    std::string(method.engine),
                                    std::string(method.estimator),
                                    sp.fits() ? "true" : "false",
                                    std::string(oom_risk_name(f.oom_risk)),
                                    std::to_string(sp.gpus()),
                                    std::to_string(sp.nodes()),
                                    std::to_string(sp.tensor_parallel_size()),
                                    std::to_string(sp.pipeline_parallel_size()),
                                    std::to_string(f.context),
                                    std::to_string(f.concurrency),
                                    std::to_string(r.weights.bytes),
                                    std::to_string(f.headroom_bytes),
                                    std::to_string(f.max_concurrency_at_context),
                                    std::to_string(f.max_context_at_concurrency),
                                    r.settings.kv_cache_dtype_flag};
  for (const auto column : kFigureColumns) cells.push_back(figure(sp.summary, column));
  if (sp.baseline) {
    cells.insert(cells.end(), {std::string(method_info(sp.baseline->method).name), sp.baseline->fits ? "true" : "false",
                               std::to_string(sp.baseline->gpus), std::to_string(sp.baseline->max_model_len)});
  } else {
    cells.insert(cells.end(), 4, "");
  }
  cells.emplace_back(r.verdict(sp));
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += ',';
    out += field(cells[i]);
  }
  out += '\n';
  return out;
}

}  // namespace

std::string render_csv(const std::vector<SweepPoint>& points) {
  std::string out = header();
  for (const auto& pt : points)
    for (const auto& sp : pt.report.plans) out += row(pt, sp);
  return out;
}

std::string render_sweep_json(const std::vector<SweepPoint>& points) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& pt : points)
    for (const auto& sp : pt.report.plans) {
      nlohmann::json j = plan_json(pt.report, sp);
      j["sweep"] = {{"flag", pt.flag}, {"value", pt.value}};
      out.push_back(std::move(j));
    }
  // Invalid UTF-8 from argv or a profile becomes U+FFFD instead of an exception (as render_json).
  return render_detail::dump_json(out, 2) + "\n";
}

std::string render_sweep_table(const std::vector<SweepPoint>& points) {
  using render_detail::gb5;
  using render_detail::signed_gib;
  if (points.empty()) return "";
  const Report& first = points.front().report;
  // TGI's sweep shows the notebook's sums (GB), the others the shared feasibility figures.
  const bool tgi = method_info(first.settings.method).engine == "tgi";
  std::string out =
      fmt::format("Model         {}  ({})\nSweep         {}\n\n", printable_line(first.input.id),
                  printable_line(first.input.origin),
                  points.front().flag == "tokens" ? std::string("--sweep-tokens (t: max_input_tokens t-1, "
                                                                "max_total_tokens t, max_batch_prefill_tokens t)")
                                                  : printable_line(points.front().flag));
  if (tgi) {
    out += fmt::format("{:>10} {:<20} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  {}\n", "value", "SKU", "GPUs",
                       "model GB", "prefill GB", "decode GB", "KV GB", "needed GB", "avail GB", "enough");
  } else {
    out += fmt::format("{:>10} {:<20} {:>6} {:>9} {:>10} {:>9} {:>7} {:>12} {:>12}  {}\n", "value", "SKU", "GPUs",
                       "TP x PP", "context", "headroom", "risk", "max conc.", "max context", "fits");
  }
  for (const auto& pt : points) {
    for (const auto& sp : pt.report.plans) {
      const Feasibility& f = sp.feasibility;
      if (sp.tgi) {
        const TgiPlan& t = *sp.tgi;
        out += fmt::format("{:>10} {:<20} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  {}\n",
                           printable_line(pt.value), printable_line(sp.sku.name), sp.gpus(), gb5(t.model_bytes),
                           gb5(t.prefill_bytes), gb5(t.decode_bytes), gb5(t.kv_cache_bytes), gb5(t.total_needed_bytes),
                           gb5(t.available_bytes), t.is_enough_vram ? "True" : "False");
      } else {
        out += fmt::format("{:>10} {:<20} {:>6} {:>9} {:>10} {:>9} {:>7} {:>12} {:>12}  {}\n", printable_line(pt.value),
                           printable_line(sp.sku.name), sp.gpus(),
                           fmt::format("{} x {}", sp.tensor_parallel_size(), sp.pipeline_parallel_size()), f.context,
                           signed_gib(f.headroom_bytes), oom_risk_name(f.oom_risk), f.max_concurrency_at_context,
                           f.max_context_at_concurrency,
                           std::string(sp.fits() ? "yes" : "no") + (pt.report.uncertain() ? " (uncertain)" : ""));
      }
    }
  }
  out += tgi ? "\nGB = 10^9 bytes, summed over the GPUs as TGI's estimation notebook does\n"
             : "\nheadroom: GiB (2^30 bytes) per GPU\n";
  return printable_lines(out);  // as render_table: nothing else reaches the terminal, whatever was missed above
}

}  // namespace vramcalc
