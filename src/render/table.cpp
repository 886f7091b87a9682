// The human-readable output: every figure with the formula and inputs it came from.
#include <fmt/format.h>

#include "render/table_sections.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/model/quantization.hpp"
#include "vramcalc/render/commands.hpp"
#include "vramcalc/render/render.hpp"

namespace vramcalc {

namespace render_detail {

std::string sku_shape(const SkuPlan& sp) {
  const std::string gpu = printable_line(sp.sku.gpu.name);
  if (sp.sku.is_instance) return fmt::format("{} x {}", sp.sku.gpus_per_node, gpu);
  return fmt::format("{} GPUs, up to {} per node", gpu, sp.sku.gpus_per_node);
}

void warnings_section(std::string& out, const std::vector<std::string>& warnings) {
  if (warnings.empty()) return;
  out += "\nWarnings\n";
  for (const auto& w : warnings) out += fmt::format("  - {}\n", printable_line(w));
}

std::vector<std::string> plan_warnings(const Report& r, const SkuPlan& sp) {
  auto warnings = r.all_warnings(sp);
  warnings.insert(warnings.end(), sp.summary.engine_warnings.begin(), sp.summary.engine_warnings.end());
  return warnings;
}

ComparisonRow comparison_row(const Report& r, const SkuPlan& sp) {
  ComparisonRow row;
  row.memory_bytes = sp.summary.gpu_memory_bytes;
  row.context = sp.summary.max_model_len;
  row.fits = sp.fits() ? "yes" : (sp.sku.gpu.cuda_served ? "no" : "no (not vLLM/CUDA)");
  if (r.uncertain()) row.fits += " (uncertain)";  // issue 14
  return row;
}

std::string verdict_text(const Report& r, bool fits) {
  std::string out = fits ? "FITS" : "DOES NOT FIT";
  if (r.uncertain()) out += fmt::format(" (uncertain: {})", r.arch.confidence.guesses());
  return out;
}

}  // namespace render_detail

using namespace render_detail;

namespace {

std::string architecture_line(const ModelArch& a) {
  std::string s =
      fmt::format("{} ({}), {} layers, hidden {}, {} heads, {} KV heads, head_dim {}",
                  printable_line(a.architecture.empty() ? "?" : a.architecture),
                  printable_line(a.text_model_type.empty() ? a.model_type : a.text_model_type), a.num_hidden_layers,
                  a.hidden_size, a.num_attention_heads, a.num_key_value_heads, a.head_dim);
  if (a.num_experts > 0)
    s += fmt::format(", MoE {} experts (top-{}) in {} layers", a.num_experts, a.experts_per_token, a.moe_layers);
  if (a.mla) s += fmt::format(", MLA (kv_lora_rank {})", a.kv_lora_rank);
  if (a.multimodal) s += fmt::format(", vision {} params", format_count(a.vision_params));
  return s;
}

std::string layers_line(const ModelArch& a) {
  std::string s;
  for (auto k :
       {LayerKind::FullAttention, LayerKind::SlidingAttention, LayerKind::ChunkedAttention, LayerKind::CrossAttention,
        LayerKind::Mamba, LayerKind::LinearAttention, LayerKind::ShortConv, LayerKind::MlpOnly}) {
    if (auto n = a.count_layers(k); n > 0) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", n, layer_kind_name(k));
  }
  if (a.sliding_window) s += fmt::format(" (window {})", *a.sliding_window);
  return s;
}

// issue 14: " [guess]" after a figure vram-calc could only guess, "" otherwise.
std::string guess_mark(Confidence c) { return c == Confidence::Guess ? " [guess]" : ""; }

// issue 14: when the plan is uncertain, what was guessed and why, under the model's figures.
void confidence_lines(std::string& out, const Report& r) {
  if (!r.uncertain()) return;
  out += fmt::format("Confidence    UNCERTAIN: {}\n", r.arch.confidence.summary());
  for (const auto& reason : r.arch.confidence.reasons)
    out += fmt::format("                - {}\n", printable_line(reason));
}

void model_section(std::string& out, const Report& r) {
  const ModelArch& a = r.arch;
  const WeightEstimate& w = r.weights;
  out += fmt::format("Model         {}  ({})\n", printable_line(r.input.id), printable_line(r.input.origin));
  out += fmt::format("Architecture  {}\n", architecture_line(a));
  out += fmt::format("Layers        {}\n", layers_line(a));
  const ModelConfidence& c = a.confidence;
  out += fmt::format("Parameters    {} ({}){}\n", format_count(w.num_params), printable_line(w.num_params_source),
                     guess_mark(c.parameters));
  out += fmt::format("Dtype         {} ({})\n", dtype_name(w.serving_dtype), printable_line(w.serving_dtype_reason));
  if (w.quantization)
    out += fmt::format("Quantization  {} ({} parameters converted)\n", printable_line(describe_scheme(*w.quantization)),
                       format_count(w.quantized_params));
  out += fmt::format("Weights       {} bytes = {} GiB, from {}: {}\n", format_count(w.bytes), gib(w.bytes),
                     weight_source_name(w.source), printable_line(w.source_detail));
  out += fmt::format("Max context   {}\n", a.max_position_embeddings
                                               ? fmt::format("{} tokens ({})", format_count(*a.max_position_embeddings),
                                                             printable_line(a.max_position_source))
                                               : std::string("none in config (not capped)"));
  out += fmt::format("KV cache      {} per token{}\n", printable_line(r.kv.formula), guess_mark(c.kv_cache));
  confidence_lines(out, r);
}

// The formula of the summary's memory term `name`, or "" when it has none.
std::string term_formula(const PlanSummary& s, std::string_view name) {
  for (const auto& t : s.memory)
    if (t.name == name) return t.formula;
  return "";
}

// Why the vLLM plan holds the length it does.
std::string context_reason(const VllmPlan& v, const VllmSettings& s) {
  if (!v.context_filled && !s.max_model_len && !s.max_model_len_auto)
    return "KAITO's default request, min(2048, the model's maximum): no longer length is searched where it does not "
           "fit";
  if (!v.context_filled) return s.max_model_len_auto ? "--max-model-len auto" : "--max-model-len, as given";
  if (v.max_model_len == v.model_max_len) return "the model's maximum: the cache holds it";
  return fmt::format(
      "the longest {} sequence(s) can each have in the cache with {:.2f} GiB to spare (the estimator's error), "
      "rounded down to 256; no --max-model-len given",
      s.concurrency, to_gib(v.fill_margin_bytes));
}

}  // namespace

namespace render_detail {

void kaito_plan_section(std::string& out, const Report& r, const SkuPlan& sp) {
  const KaitoPlan& p = sp.kaito;
  const KaitoSettings& k = r.settings.kaito;
  out += fmt::format("\nSKU           {}: {}, {} GiB per GPU ({})\n", printable_line(sp.sku.name), sku_shape(sp),
                     gib(sp.gpu_memory.bytes),
                     sp.gpu_memory.source == "reported" ? fmt::format("nvidia-smi {} MiB", sp.gpu_memory.bytes / kMiB)
                                                        : printable_line(sp.gpu_memory.source));
  out += fmt::format("Settings      {}: gpu_memory_utilization {}, max_model_len {}{}, kv_cache_dtype {}\n",
                     printable_line(p.source), p.gpu_memory_utilization, k.max_model_len,
                     k.max_model_len_given ? "" : " (KAITO default)", printable_line(r.settings.kv_cache_dtype_flag));

  out += fmt::format("\nPer GPU, at max_model_len {} (GiB = 2^30 bytes)\n", p.max_model_len);
  for (const auto& term : sp.summary.memory)
    out += fmt::format("  {:<25}{:>9}   {}\n", term.name, gib(term.bytes), printable_line(term.formula));
  out +=
      fmt::format("  total                    {:>9}   of budget {} = {} GiB x {}\n", gib(sp.summary.memory_total_bytes),
                  gib(sp.summary.budget_bytes), gib(sp.summary.capacity_bytes), p.gpu_memory_utilization);

  out += fmt::format("\nPlan ({})\n", printable_line(p.source));
  if (p.pinned) {
    out += fmt::format("  GPUs                     {} (pinned; the formula needs {})\n", p.gpus, p.gpus_needed);
  } else {
    out += fmt::format("  GPUs needed (n)          {}\n", printable_line(p.gpus_needed_formula));
    if (sp.sku.is_instance || r.settings.gpus_per_node_override)
      out += fmt::format("  GPUs (N)                 {} = {} node(s) x {} GPU(s)\n", p.gpus, p.nodes,
                         sp.sku.gpus_per_node);
    else
      out += fmt::format("  GPUs (N)                 {}: the smallest TP >= n that vLLM accepts, up to {} per node\n",
                         p.gpus, sp.sku.gpus_per_node);
  }
  out += fmt::format("  layout                   TP {} x PP {} on {} node(s)\n", p.tensor_parallel_size,
                     p.pipeline_parallel_size, p.nodes);
  out += fmt::format("  max_model_len            {} (limited by {}; memory allows {})\n", p.max_model_len,
                     printable_line(p.max_model_len_limited_by), p.max_model_len_by_memory);
  out += fmt::format("                           = {}\n", printable_line(p.max_model_len_formula));
  out += fmt::format("  verdict                  {}\n", verdict_text(r, p.fits));
  for (const auto& reason : p.not_fit_reasons) out += fmt::format("    - {}\n", printable_line(reason));
  feasibility_section(out, r, sp);
  warnings_section(out, plan_warnings(r, sp));
  out += fmt::format("\n{}\n", launch_command(sp));
}

void vllm_plan_section(std::string& out, const Report& r, const SkuPlan& sp) {
  const VllmPlan& v = *sp.vllm;
  out += fmt::format("\nSKU           {}: {}, {} GiB per GPU as CUDA reports it ({})\n", printable_line(sp.sku.name),
                     sku_shape(sp), gib(v.total_bytes), printable_line(sp.vllm_total.source));
  out += fmt::format(
      "Settings      vLLM {}, gpu_memory_utilization {}, max_model_len {}, max_num_batched_tokens {}, "
      "max_num_seqs {} ({})\n",
      r.settings.vllm.version.str(), v.gpu_memory_utilization, v.max_model_len, v.max_num_batched_tokens,
      v.max_num_seqs, printable_line(v.batch_defaults_reason));
  out += fmt::format("\nPer GPU, as vLLM accounts for it (GiB = 2^30 bytes), TP {} x PP {}{}\n", v.tensor_parallel_size,
                     v.pipeline_parallel_size,
                     v.data_parallel_size > 1 ? fmt::format(" x DP {}", v.data_parallel_size) : "");
  if (v.kv_cache_memory_given) {
    out += fmt::format("  KV cache memory          {:>9}   --kv-cache-memory (profiling skipped)\n",
                       signed_gib(v.available_kv_bytes));
    out += fmt::format("  weights (for reference)  {:>9}\n", gib(v.weights_bytes));
  } else {
    out += fmt::format("  requested                {:>9}   {} GiB total x {}\n", gib(v.requested_bytes),
                       gib(v.total_bytes), v.gpu_memory_utilization);
    out += fmt::format("  - weights                {:>9}   {}\n", gib(v.weights_bytes),
                       printable_line(term_formula(sp.summary, "weights")));
    out += fmt::format("  - activation peak        {:>9}   {}\n", gib(v.profile.activation_bytes),
                       printable_line(v.profile.activation_formula));
    out += fmt::format("  - non-PyTorch            {:>9}   {}\n", gib(v.profile.non_torch_bytes),
                       printable_line(v.profile.non_torch_formula));
    if (v.cudagraph_in_budget)
      out += fmt::format("  - CUDA graphs            {:>9}   {}\n", gib(v.cudagraph_bytes),
                         printable_line(term_formula(sp.summary, "CUDA graphs")));
    out += fmt::format("  = available KV cache     {:>9}   (\"Available KV cache memory\")\n",
                       signed_gib(v.available_kv_bytes));
  }
  out += fmt::format(
      "  headroom                 {:>9}   outside the budget: CUDA context{}\n", gib(v.headroom_bytes),
      v.cudagraph_in_budget ? std::string() : fmt::format(" and CUDA-graph pool (~{})", gib(v.cudagraph_bytes)));
  out += fmt::format(
      "\nKV cache      block {} tokens, {} KV head(s) per GPU, page {} B, {} layers{}\n", v.layout.block_size,
      v.layout.kv_heads_per_gpu, format_count(v.layout.page_bytes), v.layout.layers_per_gpu,
      v.layout.uniform ? std::string() : fmt::format(" in {} groups of {}", v.layout.num_groups, v.layout.group_size));
  out += fmt::format("  GPU blocks               {}\n", v.capacity.num_gpu_blocks);
  out += fmt::format("  GPU KV cache size        {} tokens\n", format_count(v.capacity.kv_cache_tokens));
  out += fmt::format("  max concurrency          {:.2f}x for {} tokens per request\n", v.capacity.max_concurrency,
                     v.max_model_len);
  out += fmt::format("\nPlan ({})\n  GPUs                     {} ({} node(s)){}\n", method_info(Method::Vllm).source,
                     v.gpus, v.nodes, v.pinned ? ", pinned" : "");
  out += fmt::format("  layout                   TP {} x PP {}{}\n", v.tensor_parallel_size, v.pipeline_parallel_size,
                     v.data_parallel_size > 1 ? fmt::format(" x DP {}", v.data_parallel_size) : "");
  out += fmt::format("  max_model_len            {} ({})\n", v.max_model_len, context_reason(v, r.settings.vllm));
  if (!v.capacity.fits && v.available_kv_bytes > 0)
    out += fmt::format("  estimated max_model_len  {}\n", v.capacity.estimated_max_model_len);
  out += fmt::format("  verdict                  {}\n", verdict_text(r, v.fits));
  for (const auto& reason : v.not_fit_reasons) out += fmt::format("    - {}\n", printable_line(reason));
  feasibility_section(out, r, sp);
  warnings_section(out, plan_warnings(r, sp));
  out += fmt::format("\n{}\n", launch_command(sp));
}

}  // namespace render_detail

namespace {

void comparison(std::string& out, const Report& r) {
  out += fmt::format("\n{:<30} {:<14} {:>8} {:>5} {:>6} {:>9} {:>14} {:>9} {:>7}  {}\n", "SKU", "GPU", "GiB/GPU",
                     "GPUs", "nodes", "TP x PP", "context", "headroom", "risk", "fits");
  for (const auto& sp : r.plans) {
    const ComparisonRow row = comparison_row(r, sp);
    out += fmt::format("{:<30} {:<14} {:>8} {:>5} {:>6} {:>9} {:>14} {:>9} {:>7}  {}\n", printable_line(sp.sku.name),
                       printable_line(sp.sku.gpu.name), gib(row.memory_bytes), sp.gpus(), sp.nodes(),
                       fmt::format("{} x {}", sp.tensor_parallel_size(), sp.pipeline_parallel_size()), row.context,
                       signed_gib(sp.feasibility.headroom_bytes), oom_risk_name(sp.feasibility.oom_risk), row.fits);
  }
  out += fmt::format(
      "\nheadroom: GiB per GPU after everything the memory model counts; risk: low >= {} GiB, medium "
      ">= {}, high below\n",
      r.settings.risk_thresholds.low_gib, r.settings.risk_thresholds.medium_gib);
  warnings_section(out, r.model_warnings());
}

}  // namespace

std::string render_table(const Report& r, bool as_comparison) {
  std::string out;
  model_section(out, r);
  if (as_comparison) {
    comparison(out, r);
  } else {
    plan_section(out, r, r.plans.front());
  }
  // Every field from a file, the Hub or argv is escaped where it is written; this pass makes sure of it, so that no
  // control character but the line breaks between lines reaches the terminal.
  return printable_lines(out);
}

std::string render_sku_list_table(const SkuCatalog& skus) {
  std::string out = fmt::format("{:<30} {:<10} {:<14} {:>5} {:>10} {:>14}  {}\n", "SKU", "cloud", "GPU", "GPUs",
                                "GB label", "nvidia-smi MiB", "notes");
  for (const auto& s : skus.all()) {
    std::string notes;
    if (!s.gpu.cuda_served) notes += "not served by vLLM/CUDA; ";
    if (s.kaito_supported) notes += "KAITO; ";
    if (!s.verified) notes += "unverified; ";
    if (!notes.empty()) notes.resize(notes.size() - 2);
    out +=
        fmt::format("{:<30} {:<10} {:<14} {:>5} {:>10} {:>14}  {}\n", printable_line(s.name),
                    printable_line(s.cloud.empty() ? "-" : s.cloud), printable_line(s.gpu.name), s.gpus_per_node,
                    s.gpu.memory_gib_marketed,
                    s.gpu.memory_mib_reported ? std::to_string(*s.gpu.memory_mib_reported) : std::string("-"), notes);
  }
  return printable_lines(out);
}

}  // namespace vramcalc
