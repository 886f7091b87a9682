// One parsed log as a line of the calibration data set (vramcalc/sources/vllm_log.hpp, vllm_log_record).
//
// The keys are the union of both calibration files' keys: tests/data/vllm_calibration_v021plus.jsonl's in its order,
// with the older file's own keys (url, engine, non_kv_total_gib, requested_gib, cuda_graph_gib, gpu_blocks and the
// error_* numbers) next to their kin. cuda_graph_gib repeats cuda_graph_actual_gib (the older file's name for the
// measured graph pool). Everything the log does not say is null.
#include <cstdint>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sources/vllm_log_internal.hpp"
#include "vramcalc/sources/vllm_log.hpp"

namespace vramcalc {

namespace {

using Json = nlohmann::ordered_json;

template <typename T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// FNV-1a, 64 bits: stable across runs and platforms, so the same evidence always gets the same id.
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : " | ") + l;
  return out;
}

Json error_type(VllmLogFailure kind) {
  switch (kind) {
    case VllmLogFailure::None: return nullptr;
    case VllmLogFailure::NoKvMemory: return "no_available_memory_for_cache_blocks";
    case VllmLogFailure::MaxSeqLen: return "max_model_len_exceeds_kv_capacity";
    case VllmLogFailure::OutOfMemory: return "cuda_oom";
    case VllmLogFailure::MambaBlocks: return "max_num_seqs_exceeds_mamba_cache_blocks";
    case VllmLogFailure::Other: return "startup_failed";
  }
  return nullptr;
}

// The error's numbers in words, as the newer file writes them ("needed 8.18 GiB; available 7.04 GiB; ..."), or null.
Json error_numbers(const VllmLogError& e) {
  std::string out;
  const auto add = [&](const std::string& part) { out += (out.empty() ? "" : "; ") + part; };
  if (e.max_seq_len) add(fmt::format("max seq len {}", *e.max_seq_len));
  if (e.needed_kv_gib) add(fmt::format("needed {} GiB", *e.needed_kv_gib));
  if (e.available_kv_gib) add(fmt::format("available {} GiB", *e.available_kv_gib));
  if (e.estimated_max_model_len) add(fmt::format("estimated max model len {}", *e.estimated_max_model_len));
  if (e.kv_tokens_capacity) add(fmt::format("KV capacity {} tokens", *e.kv_tokens_capacity));
  if (e.mamba_cache_blocks) add(fmt::format("Mamba cache blocks {}", *e.mamba_cache_blocks));
  if (e.oom_allocation_gib) add(fmt::format("tried to allocate {} GiB", *e.oom_allocation_gib));
  return out.empty() ? Json(nullptr) : Json(out);
}

Json engine(const VllmLogSettings& s) {
  if (s.v0_engine) return "V0";
  if (s.v1_engine) return "V1";
  return nullptr;
}

// TP x PP x DP when the log states TP, else the ranks seen.
Json num_gpus(const VllmLog& log) {
  const auto& s = log.settings;
  if (s.tensor_parallel_size)
    return *s.tensor_parallel_size * s.pipeline_parallel_size.value_or(1) * s.data_parallel_size.value_or(1);
  return log.memory_lines > 0 ? Json(log.ranks) : Json(nullptr);
}

void settings(Json& r, const VllmLog& log) {
  const auto& s = log.settings;
  r["tensor_parallel_size"] = opt(s.tensor_parallel_size);
  r["pipeline_parallel_size"] = opt(s.pipeline_parallel_size);
  r["data_parallel_size"] = opt(s.data_parallel_size);
  r["enable_expert_parallel"] = opt(s.enable_expert_parallel);
  r["gpu_memory_utilization"] = opt(s.gpu_memory_utilization);
  r["max_model_len"] = opt(s.max_model_len);
  r["max_num_batched_tokens"] = opt(s.max_num_batched_tokens);
  r["max_num_seqs"] = opt(s.max_num_seqs);
  r["dtype"] = opt(s.dtype);
  r["kv_cache_dtype"] = opt(s.kv_cache_dtype);
  r["quantization"] = opt(s.quantization);
  r["enforce_eager"] = opt(s.enforce_eager);
  r["block_size"] = opt(s.block_size);
  r["cudagraph_mode"] = opt(s.cudagraph_mode);
  r["cudagraph_capture_sizes"] = s.cudagraph_capture_sizes.empty() ? Json(nullptr) : Json(s.cudagraph_capture_sizes);
}

void figures(Json& r, const VllmLogFigures& f) {
  r["weights_gib"] = opt(f.weights_gib);
  r["activation_peak_gib"] = opt(f.activation_peak_gib);
  r["non_torch_gib"] = opt(f.non_torch_gib);
  r["non_kv_total_gib"] = opt(f.non_kv_total_gib);
  r["requested_gib"] = opt(f.requested_gib);
  r["cuda_graph_estimated_gib"] = opt(f.cuda_graph_estimated_gib);
  r["cuda_graph_actual_gib"] = opt(f.cuda_graph_actual_gib);
  r["cuda_graph_gib"] = opt(f.cuda_graph_actual_gib);
  r["kv_cache_gib"] = opt(f.kv_cache_gib);
  r["kv_cache_tokens"] = opt(f.kv_cache_tokens);
  r["gpu_blocks"] = opt(f.gpu_blocks);
  r["max_concurrency"] = opt(f.max_concurrency);
  r["concurrency_tokens_per_request"] = opt(f.concurrency_tokens_per_request);
}

void error(Json& r, const VllmLogError& e) {
  r["error_type"] = error_type(e.kind);
  r["error_text_numbers"] = error_numbers(e);
  r["error_max_seq_len"] = opt(e.max_seq_len);
  r["error_needed_kv_gib"] = opt(e.needed_kv_gib);
  r["error_available_kv_gib"] = opt(e.available_kv_gib);
  r["error_estimated_max_model_len"] = opt(e.estimated_max_model_len);
  r["error_kv_tokens_capacity"] = opt(e.kv_tokens_capacity);
}

}  // namespace

std::string vllm_log_record(const VllmLog& log) {
  const std::string evidence = joined(log.evidence);
  Json r;
  r["id"] = fmt::format("user-{:016x}", fnv1a(evidence)).substr(0, 17);
  r["source"] = "vram-calc explain-log --record";
  r["url"] = nullptr;
  r["vllm_version"] = opt(log.settings.version);
  r["engine"] = engine(log.settings);
  r["model"] = opt(log.settings.model);
  r["gpu"] = opt(log.settings.gpu_name);
  r["gpu_total_gib"] = opt(log.figures.total_gpu_gib);
  r["num_gpus"] = num_gpus(log);
  settings(r, log);
  figures(r, log.figures);
  error(r, log.error);
  r["notes"] = fmt::format("recorded by vram-calc explain-log; {} rank(s) logged per-GPU figures; engine {}", log.ranks,
                           log.engine_started ? "started" : "did not start");
  r["evidence"] = evidence;
  return r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vramcalc
