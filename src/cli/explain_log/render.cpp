// The outputs of `vram-calc explain-log` (explain_log/explain.hpp): a table for people, JSON for scripts.
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/explain_log/explain.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc::cli {

namespace {

std::string number(const std::optional<double>& v, const std::string& unit) {
  if (!v) return "-";
  if (unit == "GiB") return fmt::format("{:.2f}", *v);
  if (unit == "x") return fmt::format("{:.2f}x", *v);
  return format_count(static_cast<std::uint64_t>(std::llround(std::max(0.0, *v))));
}

std::string difference(const ComponentRow& r) {
  if (!r.logged || !r.predicted) return "";
  const double d = *r.predicted - *r.logged;
  if (r.unit == "GiB") return fmt::format("{:+.2f}", d);
  if (r.unit == "x") return fmt::format("{:+.2f}x", d);
  return fmt::format("{:+}", static_cast<long long>(std::llround(d)));
}

std::string failure_words(VllmLogFailure k) {
  switch (k) {
    case VllmLogFailure::None: return "";
    case VllmLogFailure::NoKvMemory: return "no memory left for the KV cache";
    case VllmLogFailure::MaxSeqLen: return "max_model_len does not fit the KV cache";
    case VllmLogFailure::OutOfMemory: return "CUDA out of memory";
    case VllmLogFailure::MambaBlocks: return "max_num_seqs over the Mamba cache blocks";
    case VllmLogFailure::Other: return "another start-up error";
  }
  return "";
}

std::string failure_name(VllmLogFailure k) {
  switch (k) {
    case VllmLogFailure::None: return "none";
    case VllmLogFailure::NoKvMemory: return "no_kv_memory";
    case VllmLogFailure::MaxSeqLen: return "max_seq_len";
    case VllmLogFailure::OutOfMemory: return "out_of_memory";
    case VllmLogFailure::MambaBlocks: return "mamba_blocks";
    case VllmLogFailure::Other: return "other";
  }
  return "other";
}

std::string status_words(const VllmLog& log) {
  if (log.error.kind != VllmLogFailure::None) return "failed: " + failure_words(log.error.kind);
  return log.engine_started ? "started" : "no failure logged (the log ends before the engine is serving)";
}

std::string settings_line(const VllmLogSettings& s) {
  std::string out = fmt::format("vLLM {}", s.version.value_or("(release not logged)"));
  if (s.v0_engine) out += " (V0 engine)";
  out += ", " + s.model.value_or("(model not logged)");
  if (s.tensor_parallel_size) out += fmt::format(", TP {}", *s.tensor_parallel_size);
  if (s.pipeline_parallel_size && *s.pipeline_parallel_size > 1)
    out += fmt::format(" x PP {}", *s.pipeline_parallel_size);
  if (s.max_model_len) out += fmt::format(", max_model_len {}", format_count(*s.max_model_len));
  if (s.gpu_memory_utilization) out += fmt::format(", utilization {}", *s.gpu_memory_utilization);
  if (s.kv_cache_dtype) out += ", KV " + *s.kv_cache_dtype;
  return printable_line(out);
}

}  // namespace

std::string render_explanation_human(const Explanation& e) {
  const VllmLog& log = e.log;
  std::string out = fmt::format("Log        {}\n", settings_line(log.settings));
  out += fmt::format("Start-up   {}{}\n", status_words(log),
                     log.ranks > 1 ? fmt::format(" ({} ranks in the log; rank 0's figures)", log.ranks) : "");
  if (!log.error.line.empty()) out += fmt::format("Error      {}\n", printable_line(log.error.line));
  out += fmt::format("GPU        {}\n", printable_line(e.gpu));
  std::string args;
  for (const auto& a : e.args) args += (args.empty() ? "" : " ") + a;
  if (!e.args.empty()) out += fmt::format("Predicted  vram-calc {}\n", printable_line(args));
  out += "\n";
  out += fmt::format("Per GPU (GiB = 2^30 bytes)                {:>12} {:>12} {:>11}\n", "logged", "predicted",
                     "difference");
  for (const auto& r : e.rows) {
    out += fmt::format("  {:<40} {:>12} {:>12} {:>11}\n", printable_line(r.name), number(r.logged, r.unit),
                       number(r.predicted, r.unit), difference(r));
  }
  if (!e.args.empty())
    out += fmt::format("\nvram-calc's verdict for these settings: {}\n", e.predicted_fits ? "fits" : "does not fit");
  if (!e.what_ifs.empty()) {
    out += "\nWhat to change (predicted per GPU for each change alone):\n";
    for (const auto& w : e.what_ifs) {
      out += fmt::format("  {:<44} {}: available KV {:.2f} GiB, {} tokens, max_model_len {} (longest {})\n",
                         printable_line(w.flags), w.fits ? "fits" : "does not fit", w.available_kv_gib.value_or(0),
                         format_count(w.kv_cache_tokens), format_count(w.max_model_len),
                         format_count(w.longest_max_model_len));
      out += fmt::format("      {}\n", printable_line(w.change));
    }
  }
  if (!e.notes.empty()) {
    out += "\nNotes\n";
    for (const auto& n : e.notes) out += "  - " + printable_line(n) + "\n";
  }
  return out;
}

namespace {

nlohmann::json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

template <typename T>
nlohmann::json optional_value(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json settings_json(const VllmLogSettings& s) {
  return {{"model", optional_value(s.model)},
          {"vllm_version", optional_value(s.version)},
          {"v0_engine", s.v0_engine},
          {"tensor_parallel_size", optional_value(s.tensor_parallel_size)},
          {"pipeline_parallel_size", optional_value(s.pipeline_parallel_size)},
          {"data_parallel_size", optional_value(s.data_parallel_size)},
          {"enable_expert_parallel", optional_value(s.enable_expert_parallel)},
          {"gpu_memory_utilization", optional_value(s.gpu_memory_utilization)},
          {"max_model_len", optional_value(s.max_model_len)},
          {"max_num_batched_tokens", optional_value(s.max_num_batched_tokens)},
          {"max_num_seqs", optional_value(s.max_num_seqs)},
          {"block_size", optional_value(s.block_size)},
          {"dtype", optional_value(s.dtype)},
          {"kv_cache_dtype", optional_value(s.kv_cache_dtype)},
          {"quantization", optional_value(s.quantization)},
          {"enforce_eager", optional_value(s.enforce_eager)},
          {"cudagraph_mode", optional_value(s.cudagraph_mode)},
          {"cudagraph_capture_sizes", s.cudagraph_capture_sizes},
          {"gpu", optional_value(s.gpu_name)}};
}

}  // namespace

std::string render_explanation_json(const Explanation& e) {
  nlohmann::json logged = nlohmann::json::object(), predicted = nlohmann::json::object(),
                 differences = nlohmann::json::object(), units = nlohmann::json::object();
  for (const auto& r : e.rows) {
    logged[r.name] = optional_number(r.logged);
    predicted[r.name] = optional_number(r.predicted);
    differences[r.name] = r.logged && r.predicted ? nlohmann::json(*r.predicted - *r.logged) : nlohmann::json(nullptr);
    units[r.name] = r.unit;
  }
  nlohmann::json suggestions = nlohmann::json::array();
  for (const auto& w : e.what_ifs)
    suggestions.push_back({{"change", w.change},
                           {"flags", w.flags},
                           {"fits", w.fits},
                           {"available_kv_gib", optional_number(w.available_kv_gib)},
                           {"kv_cache_tokens", w.kv_cache_tokens},
                           {"max_model_len", w.max_model_len},
                           {"longest_max_model_len", w.longest_max_model_len}});
  const VllmLog& log = e.log;
  const nlohmann::json out = {
      {"schema_version", kExplainJsonSchemaVersion},
      {"tool", {{"name", "vram-calc"}, {"command", "explain-log"}}},
      {"engine_started", log.engine_started},
      {"failure",
       {{"kind", failure_name(log.error.kind)},
        {"message", log.error.line},
        {"available_kv_gib", optional_number(log.error.available_kv_gib)},
        {"needed_kv_gib", optional_number(log.error.needed_kv_gib)},
        {"max_seq_len", optional_value(log.error.max_seq_len)},
        {"estimated_max_model_len", optional_value(log.error.estimated_max_model_len)}}},
      {"ranks", log.ranks},
      {"settings", settings_json(log.settings)},
      {"gpu", e.gpu},
      {"vram_calc_args", e.args},
      {"units", units},
      {"logged", logged},
      {"predicted", predicted},
      {"differences", differences},
      {"predicted_fits", e.args.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.predicted_fits)},
      {"suggestions", suggestions},
      {"notes", e.notes}};
  return out.dump(2, ' ', true, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace vramcalc::cli
