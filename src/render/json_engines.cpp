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

nlohmann::json tgi_json(const Report& r, const TgiPlan& t) {
  return {{"num_shard", t.num_shard},
          {"max_input_tokens", t.max_input_tokens},
          {"max_total_tokens", t.max_total_tokens},
          {"max_batch_prefill_tokens", t.max_batch_prefill_tokens},
          {"defaults_used", t.defaults_used},
          {"cuda_memory_fraction", t.cuda_memory_fraction},
          {"cuda_overhead_gb", r.settings.tgi.cuda_overhead_gb},
          {"batch_size", t.batch_size},
          {"gpu_memory_bytes", t.gpu_memory_bytes},
          {"cuda_overhead_bytes", t.cuda_overhead_bytes},
          {"model_bytes", t.model_bytes},
          {"prefill_bytes", t.prefill_bytes},
          {"prefill_formula", t.prefill_formula},
          {"decode_bytes", t.decode_bytes},
          {"decode_formula", t.decode_formula},
          {"kv_bytes_per_token", t.kv_bytes_per_token},
          {"kv_tokens_needed", t.kv_tokens_needed},
          {"kv_cache_bytes", t.kv_cache_bytes},
          {"kv_formula", t.kv_formula},
          {"total_needed_bytes", t.total_needed_bytes},
          {"available_bytes", t.available_bytes},
          {"is_enough_vram", t.is_enough_vram},
          {"free_for_kv_bytes", t.free_for_kv_bytes},
          {"kv_token_budget", t.kv_token_budget},
          {"fits", t.fits},
          {"not_fit_reasons", t.not_fit_reasons},
          {"notes", t.notes},
          {"units", "bytes; the notebook's GB are 10^9 bytes"}};
}

nlohmann::json wizard_json(const WizardPlan& w) {
  return {{"tensor_parallel_size", w.tensor_parallel_size},
          {"gpus", w.gpus},
          {"pinned", w.pinned},
          {"gpu_memory_bytes", w.gpu_memory_bytes},
          {"allocatable_bytes", w.allocatable_bytes},
          {"weights_bytes", w.weights_bytes},
          {"kv_cache_bytes", w.kv_cache_bytes},
          {"kv_formula", w.kv_formula},
          {"overhead_bytes", w.overhead_bytes},
          {"overhead_formula", w.overhead_formula},
          {"reserve_bytes", w.reserve_bytes},
          {"required_bytes", w.required_bytes},
          {"headroom_bytes", w.headroom_bytes},
          {"oom_risk", oom_risk_name(w.oom_risk)},
          {"max_concurrency_at_context", w.max_concurrency_at_context},
          {"max_context_at_concurrency", w.max_context_at_concurrency},
          {"fits", w.fits},
          {"not_fit_reasons", w.not_fit_reasons}};
}

nlohmann::json feasibility_json(const Feasibility& f) {
  return {{"fits", f.fits},
          {"oom_risk", oom_risk_name(f.oom_risk)},
          {"headroom_bytes", f.headroom_bytes},
          {"headroom_formula", f.headroom_formula},
          {"context", f.context},
          {"concurrency", f.concurrency},
          {"max_concurrency_at_context", f.max_concurrency_at_context},
          {"max_context_at_concurrency", f.max_context_at_concurrency},
          {"warnings", f.warnings}};
}

nlohmann::json suggestions_json(const std::vector<Suggestion>& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : list)
    out.push_back({{"change", s.change},
                   {"flags", s.flags},
                   {"fits", s.fits},
                   {"gpus", s.gpus},
                   {"tensor_parallel_size", s.tensor_parallel_size},
                   {"context", s.context},
                   {"headroom_bytes", s.headroom_bytes},
                   {"oom_risk", oom_risk_name(s.oom_risk)},
                   {"max_concurrency_at_context", s.max_concurrency_at_context}});
  return out;
}

// The plan every engine shares, from its summary: keys a memory model has no figure for are left out.
nlohmann::json summary_json(const PlanSummary& s) {
  nlohmann::json j = {{"gpus", s.gpus},
                      {"gpus_needed", s.gpus_needed},
                      {"pinned", s.pinned},
                      {"nodes", s.nodes},
                      {"tensor_parallel_size", s.tensor_parallel_size},
                      {"pipeline_parallel_size", s.pipeline_parallel_size},
                      {"max_model_len_requested", s.max_model_len_requested},
                      {"max_model_len", s.max_model_len},
                      {"fits", s.fits},
                      {"not_fit_reasons", s.not_fit_reasons}};
  if (s.max_model_len_by_memory) j["max_model_len_by_memory"] = *s.max_model_len_by_memory;
  if (!s.max_model_len_limited_by.empty()) j["max_model_len_limited_by"] = s.max_model_len_limited_by;
  return j;
}

// Another memory model's plan of the same SKU, from its summary: the layout, the context and its per-GPU terms.
nlohmann::json baseline_json(const PlanSummary& b) {
  nlohmann::json j = summary_json(b);
  j["method"] = std::string(method_info(b.method).name);
  j["source"] = std::string(method_info(b.method).source);
  nlohmann::json memory = nlohmann::json::array();
  for (const auto& t : b.memory) memory.push_back({{"name", t.name}, {"bytes", t.bytes}, {"formula", t.formula}});
  j["memory"] = memory;
  j["memory_total_bytes"] = b.memory_total_bytes;
  j["gpu_memory_bytes"] = b.gpu_memory_bytes;
  j["budget_bytes"] = b.budget_bytes;
  j["warnings"] = b.warnings;
  return j;
}

// vLLM's: the CUDA-reported memory, its settings and per-GPU figures in place of KAITO's, and the "vllm" object.
void vllm_section(nlohmann::json& j, const Report& r, const SkuPlan& sp) {
  const VllmPlan& v = *sp.vllm;
  j["sku"]["gpu_memory_bytes"] = sp.vllm_total.bytes;
  j["sku"]["gpu_memory_source"] = sp.vllm_total.source;
  j["settings"]["gpu_memory_utilization"] = v.gpu_memory_utilization;
  j["settings"]["max_model_len_requested"] = v.max_model_len;
  j["per_gpu"] = {{"weights_bytes", v.weights_bytes},
                  {"weight_overhead_bytes", 0},
                  {"kv_cache_bytes", std::max<std::int64_t>(v.available_kv_bytes, 0)},
                  {"activation_bytes", v.profile.activation_bytes},
                  {"non_torch_bytes", v.profile.non_torch_bytes},
                  {"total_bytes", v.requested_bytes},
                  {"capacity_bytes", v.total_bytes},
                  {"budget_bytes", v.requested_bytes}};
  j["vllm"] = {{"version", r.settings.vllm.version.str()},
               {"total_bytes", v.total_bytes},
               {"requested_bytes", v.requested_bytes},
               {"weights_bytes", v.weights_bytes},
               {"activation_bytes", v.profile.activation_bytes},
               {"sampler_bytes", v.profile.sampler_bytes},
               {"activation_formula", v.profile.activation_formula},
               {"non_torch_bytes", v.profile.non_torch_bytes},
               {"non_torch_formula", v.profile.non_torch_formula},
               {"kv_cache_memory_given", v.kv_cache_memory_given},
               {"available_kv_cache_bytes", v.available_kv_bytes},
               {"block_size", v.layout.block_size},
               {"kv_heads_per_gpu", v.layout.kv_heads_per_gpu},
               {"page_bytes", v.layout.page_bytes},
               {"kv_layers_per_gpu", v.layout.layers_per_gpu},
               {"kv_cache_groups", v.layout.num_groups},
               {"num_gpu_blocks", v.capacity.num_gpu_blocks},
               {"kv_cache_tokens", v.capacity.kv_cache_tokens},
               {"max_concurrency", v.capacity.max_concurrency},
               {"max_model_len", v.max_model_len},
               {"max_model_len_fits", v.capacity.fits},
               {"estimated_max_model_len",
                v.capacity.fits ? nlohmann::json(nullptr) : nlohmann::json(v.capacity.estimated_max_model_len)},
               {"max_num_batched_tokens", v.max_num_batched_tokens},
               {"max_num_seqs", v.max_num_seqs},
               {"batch_defaults", v.batch_defaults_reason},
               {"headroom_bytes", v.headroom_bytes},
               {"cudagraph_bytes", v.cudagraph_bytes},
               {"cudagraph_estimated", v.cudagraph_estimated},
               {"cudagraph_in_kv_budget", v.cudagraph_in_budget}};
  // issue 14: the multimodal encoder's dummy batch in the profile run (null when none is profiled).
  const VllmEncoderProfile& e = v.profile.encoder;
  j["vllm"]["encoder"] = e.profiled ? nlohmann::json{{"modality", e.modality},
                                                     {"budget_tokens", e.budget_tokens},
                                                     {"items", e.items},
                                                     {"tokens_per_item", e.tokens_per_item},
                                                     {"encoder_tokens", e.encoder_tokens},
                                                     {"forward_bytes", e.forward_bytes},
                                                     {"cache_bytes", e.cache_bytes}}
                                    : nlohmann::json(nullptr);
}

void wizard_section(nlohmann::json& j, const Report& /*r*/, const SkuPlan& sp) {
  j["wizard"] = wizard_json(*sp.wizard);
}

void tgi_section(nlohmann::json& j, const Report& r, const SkuPlan& sp) { j["tgi"] = tgi_json(r, *sp.tgi); }

// The sections of the methods with figures of their own (KAITO's are "per_gpu", written by plan_json): a new
// memory model with an object of its own adds its row here (and the object to docs/json-schema.md).
using MethodSection = void (*)(nlohmann::json&, const Report&, const SkuPlan&);
constexpr std::array<std::pair<Method, MethodSection>, 3> kMethodSections = {{
    {Method::Vllm, vllm_section},
    {Method::Wizard, wizard_section},
    {Method::Tgi, tgi_section},
}};

void add_method_section(nlohmann::json& j, const Report& r, const SkuPlan& sp) {
  for (const auto& [method, section] : kMethodSections)
    if (method == sp.method()) section(j, r, sp);
}

}  // namespace

void add_engine_json(nlohmann::json& j, const Report& r, const SkuPlan& sp) {
  const MethodInfo& info = method_info(sp.method());
  j["engine"] = std::string(info.engine);
  j["estimator"] = info.estimator.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::string(info.estimator));
  j["settings"]["concurrency"] = r.settings.concurrency;
  j["settings"]["fragmentation_factor"] = r.settings.fragmentation_factor;
  j["settings"]["headroom_gib"] = r.settings.headroom_gib;
  j["settings"]["risk_thresholds_gib"] = {r.settings.risk_thresholds.low_gib, r.settings.risk_thresholds.medium_gib};
  j["fits"] = sp.fits();
  j["verdict"] = std::string(r.verdict(sp));  // issue 14: fits, does_not_fit or uncertain
  j["plan"] = summary_json(sp.summary);
  j["plan"]["fits"] = sp.fits();
  j["plan"]["method"] = std::string(info.name);
  j["baseline"] = sp.baseline ? baseline_json(*sp.baseline) : nlohmann::json(nullptr);
  j["vllm"] = nullptr;
  j["tgi"] = nullptr;
  j["wizard"] = nullptr;
  add_method_section(j, r, sp);
  j["feasibility"] = feasibility_json(sp.feasibility);
  j["suggestions"] = suggestions_json(sp.suggestions);
  // One command per server, null for the others ("vllm_command", "tgi_command": schema version 1).
  j["vllm_command"] = nullptr;
  j["tgi_command"] = nullptr;
  j[std::string(info.engine) + "_command"] = launch_command(sp);
  j["warnings"] = plan_warnings(r, sp);
}

}  // namespace vramcalc::render_detail
