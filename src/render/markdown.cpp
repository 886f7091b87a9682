// Markdown (GitHub-flavoured) for pull-request comments and CI job summaries: the verdict and the figures people
// act on first, then the full text breakdown, unchanged, in a collapsed block, so nothing the table explains is lost.
#include <algorithm>

#include <fmt/format.h>

#include "render/table_sections.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/render/commands.hpp"
#include "vramcalc/render/render.hpp"

namespace vramcalc {

using namespace render_detail;

namespace {

// Text inside a paragraph or a table cell: line breaks as spaces (a table row is one line), every other control
// character escaped as printable_line does, then Markdown's active characters backslash-escaped.
std::string escape(std::string_view text) {
  std::string flat(text);
  std::replace_if(
      flat.begin(), flat.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  std::string out;
  out.reserve(flat.size());
  for (const char c : printable_line(flat)) {
    if (std::string_view("\\`*_[]<>|#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// A fenced code block that no run of backticks inside `text` can close early.
std::string fenced(std::string_view info, std::string_view text) {
  std::size_t longest = 0, run = 0;
  for (const char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
  std::string out = fence;
  out += info;
  out += '\n';
  out += text;
  if (!text.empty() && text.back() != '\n') out += '\n';
  out += fence;
  out += '\n';
  return out;
}

void model_table(std::string& out, const Report& r) {
  const ModelArch& a = r.arch;
  const WeightEstimate& w = r.weights;
  out += "| | |\n|---|---|\n";
  out += fmt::format("| Model | {} ({}) |\n", escape(r.input.id), escape(r.input.origin));
  out += fmt::format("| Architecture | {} ({}), {} layers, {} heads, {} KV heads, head_dim {} |\n",
                     escape(a.architecture.empty() ? "?" : a.architecture),
                     escape(a.text_model_type.empty() ? a.model_type : a.text_model_type), a.num_hidden_layers,
                     a.num_attention_heads, a.num_key_value_heads, a.head_dim);
  // issue 14: a figure vram-calc could only guess says so.
  const auto guess = [](Confidence c) { return c == Confidence::Guess ? std::string(" **[guess]**") : std::string(); };
  out += fmt::format("| Parameters | {} ({}){} |\n", format_count(w.num_params), escape(w.num_params_source),
                     guess(a.confidence.parameters));
  out += fmt::format("| Weights | {} bytes = {} GiB, {} ({}) |\n", format_count(w.bytes), gib(w.bytes),
                     dtype_name(w.serving_dtype), escape(weight_source_name(w.source)));
  out += fmt::format("| KV cache | {}{} |\n", escape(r.kv.formula), guess(a.confidence.kv_cache));
  out += fmt::format("| Max context | {} |\n", a.max_position_embeddings
                                                   ? format_count(*a.max_position_embeddings) + " tokens"
                                                   : std::string("not capped by the config"));
  out += fmt::format("| Engine | {} |\n", method_info(r.settings.method).title);
  if (r.uncertain()) {  // issue 14: what was guessed and why
    std::string reasons;
    for (const auto& reason : r.arch.confidence.reasons) reasons += "; " + reason;
    out += fmt::format("| Confidence | **uncertain**: {}{} |\n", r.arch.confidence.summary(), escape(reasons));
  }
}

void warnings_list(std::string& out, const std::vector<std::string>& warnings) {
  if (warnings.empty()) return;
  out += "\n**Warnings**\n\n";
  for (const auto& w : warnings) out += fmt::format("- {}\n", escape(w));
}

void suggestions_table(std::string& out, const SkuPlan& sp) {
  if (sp.fits() || sp.suggestions.empty()) return;
  out += "\n**Changes that would fit**\n\n";
  out += "| change | flags | GPUs | context | headroom (GiB) | risk |\n|---|---|--:|--:|--:|---|\n";
  for (const auto& s : sp.suggestions)
    out += fmt::format("| {} | `{}` | {} | {} | {} | {} |\n", escape(s.change), printable_line(s.flags), s.gpus,
                       s.context, signed_gib(s.headroom_bytes), oom_risk_name(s.oom_risk));
}

void single(std::string& out, const Report& r, const SkuPlan& sp) {
  const Feasibility& f = sp.feasibility;
  out += fmt::format("## vram-calc: {} on {}\n\n", escape(r.input.id), escape(sp.sku.name));
  out += fmt::format(
      "**{}**: {} x {} ({} node(s)), TP {} x PP {}, context {} tokens, headroom {} GiB per GPU, OOM risk {}.\n\n",
      verdict_text(r, sp.fits()), sp.gpus(), escape(sp.sku.gpu.name), sp.nodes(), sp.tensor_parallel_size(),
      sp.pipeline_parallel_size(), f.context, signed_gib(f.headroom_bytes), oom_risk_name(f.oom_risk));
  model_table(out, r);
  suggestions_table(out, sp);
  warnings_list(out, r.all_warnings(sp));
  out += '\n';
  out += fenced("sh", launch_command(sp) + "\n");
  out += "\n<details><summary>Full breakdown (GiB = 2^30 bytes, GB = 10^9 bytes)</summary>\n\n";
  out += fenced("text", render_table(r, false));
  out += "\n</details>\n";
}

void comparison_table(std::string& out, const Report& r) {
  const auto fitting = std::count_if(r.plans.begin(), r.plans.end(), [](const SkuPlan& p) { return p.fits(); });
  out += fmt::format("## vram-calc: {} on {} SKUs ({} fit)\n\n", escape(r.input.id), r.plans.size(), fitting);
  model_table(out, r);
  out += "\n| SKU | GPU | GiB/GPU | GPUs | nodes | TP x PP | context | headroom (GiB) | risk | fits |\n";
  out += "|---|---|--:|--:|--:|---|--:|--:|---|---|\n";
  for (const auto& sp : r.plans) {
    const ComparisonRow row = comparison_row(r, sp);
    out += fmt::format("| {} | {} | {} | {} | {} | {} x {} | {} | {} | {} | {} |\n", escape(sp.sku.name),
                       escape(sp.sku.gpu.name), gib(row.memory_bytes), sp.gpus(), sp.nodes(), sp.tensor_parallel_size(),
                       sp.pipeline_parallel_size(), row.context, signed_gib(sp.feasibility.headroom_bytes),
                       oom_risk_name(sp.feasibility.oom_risk), row.fits);
  }
  out += fmt::format(
      "\nheadroom: GiB (2^30 bytes) per GPU after everything the memory model counts; risk: low >= {} GiB, medium "
      ">= {} GiB, high below.\n",
      r.settings.risk_thresholds.low_gib, r.settings.risk_thresholds.medium_gib);
  warnings_list(out, r.model_warnings());
}

}  // namespace

std::string render_markdown(const Report& report, bool comparison) {
  std::string out;
  if (comparison) comparison_table(out, report);
  else single(out, report, report.plans.front());
  return printable_lines(out);  // as render_table: a last pass for anything written above without escaping
}

std::string render_sweep_markdown(const std::vector<SweepPoint>& points) {
  if (points.empty()) return "";
  std::string out = fmt::format("## vram-calc: {}, sweep of {}\n\n", escape(points.front().report.input.id),
                                escape(points.front().flag == "tokens" ? "--sweep-tokens" : points.front().flag));
  out += fenced("text", render_sweep_table(points));
  return printable_lines(out);
}

}  // namespace vramcalc
