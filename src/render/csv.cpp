// CSV and sweep renderings: one row per sweep value and SKU, the columns a spreadsheet or pandas wants.
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
  const std::string s = printable_line(raw);
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

template <typename T>
std::string opt(bool present, const T& v) {
  return present ? fmt::format("{}", v) : std::string();
}

const char* const kColumns =
    "sweep_flag,sweep_value,model,sku,gpu,engine,estimator,fits,oom_risk,gpus,nodes,tensor_parallel_size,"
    "pipeline_parallel_size,context,concurrency,weights_bytes,headroom_bytes,max_concurrency_at_context,"
    "max_context_at_concurrency,kv_cache_dtype,vllm_available_kv_cache_bytes,vllm_kv_cache_tokens,"
    "vllm_max_concurrency,tgi_max_input_tokens,tgi_max_total_tokens,tgi_max_batch_prefill_tokens,"
    "tgi_cuda_overhead_bytes,tgi_model_bytes,tgi_prefill_bytes,tgi_decode_bytes,tgi_kv_cache_bytes,"
    "tgi_total_needed_bytes,tgi_available_bytes,tgi_is_enough_vram,tgi_kv_token_budget";

std::string row(const SweepPoint& pt, const SkuPlan& sp) {
  const Report& r = pt.report;
  const Feasibility& f = sp.feasibility;
  const bool v = sp.vllm.has_value();
  const bool t = sp.tgi.has_value();
  std::vector<std::string> cells = {
      pt.flag,
      pt.value,
      r.input.id,
      sp.sku.name,
      sp.sku.gpu.name,
      r.settings.engine,
      t ? std::string() : sp.method(),
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
      r.settings.kv_cache_dtype_flag,
      opt(v, v ? sp.vllm->available_kv_bytes : 0),
      opt(v, v ? sp.vllm->capacity.kv_cache_tokens : 0),
      opt(v, v ? fmt::format("{:.2f}", sp.vllm->capacity.max_concurrency) : std::string()),
      opt(t, t ? sp.tgi->max_input_tokens : 0),
      opt(t, t ? sp.tgi->max_total_tokens : 0),
      opt(t, t ? sp.tgi->max_batch_prefill_tokens : 0),
      opt(t, t ? sp.tgi->cuda_overhead_bytes : 0),
      opt(t, t ? sp.tgi->model_bytes : 0),
      opt(t, t ? sp.tgi->prefill_bytes : 0),
      opt(t, t ? sp.tgi->decode_bytes : 0),
      opt(t, t ? sp.tgi->kv_cache_bytes : 0),
      opt(t, t ? sp.tgi->total_needed_bytes : 0),
      opt(t, t ? sp.tgi->available_bytes : 0),
      opt(t, t ? (sp.tgi->is_enough_vram ? "true" : "false") : ""),
      opt(t, t ? sp.tgi->kv_token_budget : 0)};
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
  std::string out = std::string(kColumns) + "\n";
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
  const bool tgi = first.settings.engine == "tgi";
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
                           f.max_context_at_concurrency, sp.fits() ? "yes" : "no");
      }
    }
  }
  out += tgi ? "\nGB = 10^9 bytes, summed over the GPUs as TGI's estimation notebook does\n"
             : "\nheadroom: GiB (2^30 bytes) per GPU\n";
  return printable_lines(out);  // as render_table: nothing else reaches the terminal, whatever was missed above
}

}  // namespace vramcalc
