// JSON for the TGI engine, the vllm-wizard estimator, the feasibility report and the suggestions
// (docs/json-schema.md). Byte values are integers.
#include "render/json_sections.hpp"
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

}  // namespace

void add_engine_json(nlohmann::json& j, const Report& r, const SkuPlan& sp) {
  j["engine"] = r.settings.engine;
  j["estimator"] = r.settings.engine == "tgi" ? nlohmann::json(nullptr) : nlohmann::json(sp.method());
  j["settings"]["concurrency"] = r.settings.concurrency;
  j["settings"]["fragmentation_factor"] = r.settings.fragmentation_factor;
  j["settings"]["headroom_gib"] = r.settings.headroom_gib;
  j["settings"]["risk_thresholds_gib"] = {r.settings.risk_thresholds.low_gib, r.settings.risk_thresholds.medium_gib};
  j["fits"] = sp.fits();
  if (sp.tgi || sp.wizard) {
    j["plan"] = {{"gpus", sp.gpus()},
                 {"gpus_needed", sp.gpus()},
                 {"pinned", sp.tgi ? r.settings.tgi_num_shard.has_value() : sp.wizard->pinned},
                 {"nodes", sp.nodes()},
                 {"tensor_parallel_size", sp.tensor_parallel_size()},
                 {"pipeline_parallel_size", sp.pipeline_parallel_size()},
                 {"max_model_len_requested", sp.feasibility.context},
                 {"max_model_len", sp.feasibility.context},
                 {"fits", sp.fits()},
                 {"not_fit_reasons", sp.tgi ? sp.tgi->not_fit_reasons : sp.wizard->not_fit_reasons}};
  }
  j["plan"]["fits"] = sp.fits();
  j["tgi"] = sp.tgi ? tgi_json(r, *sp.tgi) : nlohmann::json(nullptr);
  j["wizard"] = sp.wizard ? wizard_json(*sp.wizard) : nlohmann::json(nullptr);
  j["feasibility"] = feasibility_json(sp.feasibility);
  j["suggestions"] = suggestions_json(sp.suggestions);
  if (sp.tgi) {
    j["tgi_command"] = tgi_launcher_command(*sp.tgi, tgi_launch_options(r, sp));
    j["vllm_command"] = nullptr;
  } else {
    j["tgi_command"] = nullptr;
    j["vllm_command"] = vllm_serve_command(r, sp);
  }
  auto warnings = r.all_warnings(sp);
  if (sp.tgi) warnings.insert(warnings.end(), sp.tgi->warnings.begin(), sp.tgi->warnings.end());
  if (sp.wizard) warnings.insert(warnings.end(), sp.wizard->warnings.begin(), sp.wizard->warnings.end());
  j["warnings"] = warnings;
}

}  // namespace vramcalc::render_detail
