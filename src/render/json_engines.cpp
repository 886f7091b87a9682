// JSON for what every plan shares (the plan from its summary, the feasibility report, the suggestions, the command,
// the warnings) and each method's own section, dispatched by method (docs/json-schema.md). Byte values are integers.
#include <algorithm>
#include <array>
#include <utility>

#include "render/json_sections.hpp"
#include "render/table_sections.hpp"
#include "vramcalc/render/commands.hpp"

namespace vramcalc::render_detail {

namespace {

// Members of every object below are written in byte order of their names (render/json_writer.hpp).
void tgi_section(JsonWriter& w, const Report& r, const SkuPlan& sp) {
  const TgiPlan& t = *sp.tgi;
  w.begin_object();
  w.member("available_bytes", t.available_bytes);
  w.member("batch_size", t.batch_size);
  w.member("cuda_memory_fraction", t.cuda_memory_fraction);
  w.member("cuda_overhead_bytes", t.cuda_overhead_bytes);
  w.member("cuda_overhead_gb", r.settings.tgi.cuda_overhead_gb);
  w.member("decode_bytes", t.decode_bytes);
  w.member("decode_formula", t.decode_formula);
  w.member("defaults_used", t.defaults_used);
  w.member("fits", t.fits);
  w.member("free_for_kv_bytes", t.free_for_kv_bytes);
  w.member("gpu_memory_bytes", t.gpu_memory_bytes);
  w.member("is_enough_vram", t.is_enough_vram);
  w.member("kv_bytes_per_token", t.kv_bytes_per_token);
  w.member("kv_cache_bytes", t.kv_cache_bytes);
  w.member("kv_formula", t.kv_formula);
  w.member("kv_token_budget", t.kv_token_budget);
  w.member("kv_tokens_needed", t.kv_tokens_needed);
  w.member("max_batch_prefill_tokens", t.max_batch_prefill_tokens);
  w.member("max_input_tokens", t.max_input_tokens);
  w.member("max_total_tokens", t.max_total_tokens);
  w.member("model_bytes", t.model_bytes);
  w.member("not_fit_reasons", t.not_fit_reasons);
  w.member("notes", t.notes);
  w.member("num_shard", t.num_shard);
  w.member("prefill_bytes", t.prefill_bytes);
  w.member("prefill_formula", t.prefill_formula);
  w.member("total_needed_bytes", t.total_needed_bytes);
  w.member("units", "bytes; the notebook's GB are 10^9 bytes");
  w.end_object();
}

void wizard_section(JsonWriter& w, const Report& /*r*/, const SkuPlan& sp) {
  const WizardPlan& p = *sp.wizard;
  w.begin_object();
  w.member("allocatable_bytes", p.allocatable_bytes);
  w.member("fits", p.fits);
  w.member("gpu_memory_bytes", p.gpu_memory_bytes);
  w.member("gpus", p.gpus);
  w.member("headroom_bytes", p.headroom_bytes);
  w.member("kv_cache_bytes", p.kv_cache_bytes);
  w.member("kv_formula", p.kv_formula);
  w.member("max_concurrency_at_context", p.max_concurrency_at_context);
  w.member("max_context_at_concurrency", p.max_context_at_concurrency);
  w.member("not_fit_reasons", p.not_fit_reasons);
  w.member("oom_risk", oom_risk_name(p.oom_risk));
  w.member("overhead_bytes", p.overhead_bytes);
  w.member("overhead_formula", p.overhead_formula);
  w.member("pinned", p.pinned);
  w.member("required_bytes", p.required_bytes);
  w.member("reserve_bytes", p.reserve_bytes);
  w.member("tensor_parallel_size", p.tensor_parallel_size);
  w.member("weights_bytes", p.weights_bytes);
  w.end_object();
}

// issue 14: the multimodal encoder's dummy batch in the profile run (null when none is profiled).
void encoder_section(JsonWriter& w, const VllmEncoderProfile& e) {
  if (!e.profiled) return w.value(nullptr);
  w.begin_object();
  w.member("budget_tokens", e.budget_tokens);
  w.member("cache_bytes", e.cache_bytes);
  w.member("encoder_tokens", e.encoder_tokens);
  w.member("forward_bytes", e.forward_bytes);
  w.member("items", e.items);
  w.member("modality", e.modality);
  w.member("tokens_per_item", e.tokens_per_item);
  w.end_object();
}

// vLLM's own object (its memory, settings and per-GPU figures also replace KAITO's in "sku", "settings" and
// "per_gpu": json.cpp).
void vllm_section(JsonWriter& w, const Report& r, const SkuPlan& sp) {
  const VllmPlan& v = *sp.vllm;
  w.begin_object();
  w.member("activation_bytes", v.profile.activation_bytes);
  w.member("activation_formula", v.profile.activation_formula);
  w.member("available_kv_cache_bytes", v.available_kv_bytes);
  w.member("batch_defaults", v.batch_defaults_reason);
  w.member("block_size", v.layout.block_size);
  w.member("cudagraph_bytes", v.cudagraph_bytes);
  w.member("cudagraph_estimated", v.cudagraph_estimated);
  w.member("cudagraph_in_kv_budget", v.cudagraph_in_budget);
  w.key("encoder");
  encoder_section(w, v.profile.encoder);
  w.key("estimated_max_model_len");
  if (v.capacity.fits) w.value(nullptr);
  else w.value(v.capacity.estimated_max_model_len);
  w.member("headroom_bytes", v.headroom_bytes);
  w.member("kv_cache_groups", v.layout.num_groups);
  w.member("kv_cache_memory_given", v.kv_cache_memory_given);
  w.member("kv_cache_tokens", v.capacity.kv_cache_tokens);
  w.member("kv_heads_per_gpu", v.layout.kv_heads_per_gpu);
  w.member("kv_layers_per_gpu", v.layout.layers_per_gpu);
  w.member("max_concurrency", v.capacity.max_concurrency);
  w.member("max_model_len", v.max_model_len);
  w.member("max_model_len_fits", v.capacity.fits);
  w.member("max_num_batched_tokens", v.max_num_batched_tokens);
  w.member("max_num_seqs", v.max_num_seqs);
  w.member("non_torch_bytes", v.profile.non_torch_bytes);
  w.member("non_torch_formula", v.profile.non_torch_formula);
  w.member("num_gpu_blocks", v.capacity.num_gpu_blocks);
  w.member("page_bytes", v.layout.page_bytes);
  w.member("requested_bytes", v.requested_bytes);
  w.member("rotary_tables_bytes", v.rotary_bytes);
  w.member("rotary_tables_formula", v.rotary_formula);
  w.member("sampler_bytes", v.profile.sampler_bytes);
  w.member("total_bytes", v.total_bytes);
  w.member("version", r.settings.vllm.version.str());
  w.member("weights_bytes", v.weights_bytes);
  w.end_object();
}

// The sections of the methods with figures of their own (KAITO's are "per_gpu", written by json.cpp): a new
// memory model with an object of its own adds its row here, its member in json.cpp's write_plan (and the object
// to docs/json-schema.md).
using MethodSection = void (*)(JsonWriter&, const Report&, const SkuPlan&);
constexpr std::array<std::pair<Method, MethodSection>, 3> kMethodSections = {{
    {Method::Vllm, vllm_section},
    {Method::Wizard, wizard_section},
    {Method::Tgi, tgi_section},
}};

// The members every summary has ("plan", and "baseline" with its `extra` ones), in order; `fits` and `method`
// are the caller's ("plan" gives the feasibility's verdict).
void summary_members(JsonWriter& w, const PlanSummary& s, bool fits, std::string_view method, bool extra) {
  if (extra) w.member("budget_bytes", s.budget_bytes);
  w.member("data_parallel_size", s.data_parallel_size);
  w.member("fits", fits);
  if (extra) w.member("gpu_memory_bytes", s.gpu_memory_bytes);
  w.member("gpus", s.gpus);
  w.member("gpus_needed", s.gpus_needed);
  w.member("max_model_len", s.max_model_len);
  // Keys a memory model has no figure for are left out.
  if (s.max_model_len_by_memory) w.member("max_model_len_by_memory", *s.max_model_len_by_memory);
  if (!s.max_model_len_limited_by.empty()) w.member("max_model_len_limited_by", s.max_model_len_limited_by);
  w.member("max_model_len_requested", s.max_model_len_requested);
  if (extra) {
    w.key("memory");
    w.begin_array();
    for (const auto& t : s.memory) {
      w.begin_object();
      w.member("bytes", t.bytes);
      w.member("formula", t.formula);
      w.member("name", t.name);
      w.end_object();
    }
    w.end_array();
    w.member("memory_total_bytes", s.memory_total_bytes);
  }
  w.member("method", method);
  w.member("nodes", s.nodes);
  w.member("not_fit_reasons", s.not_fit_reasons);
  w.member("pinned", s.pinned);
  w.member("pipeline_parallel_size", s.pipeline_parallel_size);
  if (extra) w.member("source", method_info(s.method).source);
  w.member("tensor_parallel_size", s.tensor_parallel_size);
  if (extra) w.member("warnings", s.warnings);
}

}  // namespace

// Another memory model's plan of the same SKU, from its summary: the layout, the context and its per-GPU terms.
void write_baseline(JsonWriter& w, const SkuPlan& sp) {
  if (!sp.baseline) return w.value(nullptr);
  const PlanSummary& b = *sp.baseline;
  w.begin_object();
  summary_members(w, b, b.fits, method_info(b.method).name, true);
  w.end_object();
}

void write_feasibility(JsonWriter& w, const Feasibility& f) {
  w.begin_object();
  w.member("concurrency", f.concurrency);
  w.member("context", f.context);
  w.member("fits", f.fits);
  w.member("headroom_bytes", f.headroom_bytes);
  w.member("headroom_formula", f.headroom_formula);
  w.member("max_concurrency_at_context", f.max_concurrency_at_context);
  w.member("max_context_at_concurrency", f.max_context_at_concurrency);
  w.member("oom_risk", oom_risk_name(f.oom_risk));
  w.member("warnings", f.warnings);
  w.end_object();
}

// The plan every engine shares, from its summary, with the verdict of the feasibility report.
void write_plan_summary(JsonWriter& w, const SkuPlan& sp) {
  w.begin_object();
  summary_members(w, sp.summary, sp.fits(), method_info(sp.method()).name, false);
  w.end_object();
}

void write_suggestions(JsonWriter& w, const std::vector<Suggestion>& list) {
  w.begin_array();
  for (const auto& s : list) {
    w.begin_object();
    w.member("change", s.change);
    w.member("context", s.context);
    w.member("fits", s.fits);
    w.member("flags", s.flags);
    w.member("gpus", s.gpus);
    w.member("headroom_bytes", s.headroom_bytes);
    w.member("max_concurrency_at_context", s.max_concurrency_at_context);
    w.member("oom_risk", oom_risk_name(s.oom_risk));
    w.member("tensor_parallel_size", s.tensor_parallel_size);
    w.end_object();
  }
  w.end_array();
}

void write_method_section(JsonWriter& w, Method m, const Report& r, const SkuPlan& sp) {
  if (m == sp.method())
    for (const auto& [method, section] : kMethodSections)
      if (method == m) return section(w, r, sp);
  w.value(nullptr);
}

// Every engine's command has its member in write_plan (json.cpp): "vllm_command" and "tgi_command".
constexpr bool engines_have_command_members() {
  for (const auto& info : kMethods)
    if (info.engine != "vllm" && info.engine != "tgi") return false;
  return true;
}
static_assert(engines_have_command_members(), "a new engine adds its <engine>_command member to write_plan");

void write_launch_command(JsonWriter& w, std::string_view engine, const SkuPlan& sp) {
  if (method_info(sp.method()).engine == engine) w.value(launch_command(sp));
  else w.value(nullptr);
}

void write_warnings(JsonWriter& w, const Report& r, const SkuPlan& sp) {
  // plan_warnings(r, sp) without copying its texts.
  w.begin_array();
  for (const std::string_view text : r.all_warning_texts(sp)) w.value(text);
  for (const auto& text : sp.summary.engine_warnings) w.value(text);
  w.end_array();
}

}  // namespace vramcalc::render_detail
