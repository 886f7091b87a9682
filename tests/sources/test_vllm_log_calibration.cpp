// The vLLM log reader against every record of both calibration files (tests/data/vllm_calibration.jsonl and
// tests/data/vllm_calibration_v021plus.jsonl). Each record's `evidence` holds its log lines joined by " | " (a few
// records hold rows of a person's table instead): split back into lines and read, every figure the reader finds
// must equal the record's field. A figure the record has but the evidence does not state is not asserted (the
// record's author read it elsewhere); a figure the reader finds that the record leaves null is listed, not failed.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"
#include "vramcalc/sources/vllm_log.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

std::vector<json> records(const std::string& file) {
  std::ifstream in(testsupport::test_data(file));
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

// The evidence as log lines: " | " was the separator.
std::string evidence_text(const std::string& evidence) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t bar = evidence.find(" | ", start);
    out += evidence.substr(start, bar == std::string::npos ? std::string::npos : bar - start) + "\n";
    if (bar == std::string::npos) return out;
    start = bar + 3;
  }
}

struct Tally {
  std::size_t records = 0, figures = 0, settings = 0, errors = 0;
  std::vector<std::string> unrecorded;  // "id key=value": found in the evidence, null in the record
};

// One parsed value against the record's key.
template <typename T>
void compare(const json& rec, const std::string& key, const std::optional<T>& parsed, std::size_t& counter,
             Tally& tally) {
  if (!parsed) return;
  const std::string id = rec.at("id").get<std::string>();
  if (!rec.contains(key) || rec.at(key).is_null()) {
    tally.unrecorded.push_back(id + " " + key + "=" + json(*parsed).dump());
    return;
  }
  INFO(id << " " << key << ": parsed " << *parsed << ", recorded " << rec.at(key).dump());
  REQUIRE(rec.at(key).is_number());
  CHECK(std::fabs(static_cast<double>(*parsed) - rec.at(key).get<double>()) < 1e-9);
  ++counter;
}

// The kind a record's error_type describes, or nothing when it names none the reader distinguishes.
std::optional<VllmLogFailure> recorded_kind(const json& rec) {
  if (!rec.contains("error_type") || rec.at("error_type").is_null()) return std::nullopt;
  const std::string t = rec.at("error_type").get<std::string>();
  const auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("no_available_memory") || has("No available memory")) return VllmLogFailure::NoKvMemory;
  if (has("max_model_len") || has("max seq len")) return VllmLogFailure::MaxSeqLen;
  if (has("oom") || has("out of memory")) return VllmLogFailure::OutOfMemory;
  if (has("Mamba")) return VllmLogFailure::MambaBlocks;
  return VllmLogFailure::Other;
}

// The error numbers: the older file's fields, or (newer file) their text in error_text_numbers.
void compare_error(const json& rec, const VllmLog& log, Tally& tally) {
  const VllmLogError& e = log.error;
  const std::string id = rec.at("id").get<std::string>();
  const auto kind = recorded_kind(rec);
  if (e.kind != VllmLogFailure::None) {
    INFO(id << ": the reader found a failure the record does not name");
    REQUIRE(kind.has_value());
    CHECK(*kind == e.kind);
    ++tally.errors;
  }
  if (rec.contains("error_max_seq_len")) {
    compare(rec, "error_max_seq_len", e.max_seq_len, tally.errors, tally);
    compare(rec, "error_needed_kv_gib", e.needed_kv_gib, tally.errors, tally);
    compare(rec, "error_available_kv_gib", e.available_kv_gib, tally.errors, tally);
    compare(rec, "error_estimated_max_model_len", e.estimated_max_model_len, tally.errors, tally);
    compare(rec, "error_kv_tokens_capacity", e.kv_tokens_capacity, tally.errors, tally);
    return;
  }
  const std::string text =
      rec.value("error_text_numbers", json()).is_string() ? rec["error_text_numbers"].get<std::string>() : "";
  const auto in_text = [&](const auto& v) {
    if (!v) return;
    INFO(id << ": error number " << *v << " not in error_text_numbers \"" << text << "\"");
    CHECK(text.find(json(*v).dump()) != std::string::npos);
    ++tally.errors;
  };
  in_text(e.max_seq_len);
  in_text(e.needed_kv_gib);
  in_text(e.available_kv_gib);
  in_text(e.estimated_max_model_len);
  in_text(e.mamba_cache_blocks);
}

void compare_settings(const json& rec, const VllmLog& log, Tally& tally) {
  const VllmLogSettings& s = log.settings;
  compare(rec, "gpu_memory_utilization", s.gpu_memory_utilization, tally.settings, tally);
  compare(rec, "max_model_len", s.max_model_len, tally.settings, tally);
  compare(rec, "max_num_batched_tokens", s.max_num_batched_tokens, tally.settings, tally);
  compare(rec, "max_num_seqs", s.max_num_seqs, tally.settings, tally);
  compare(rec, "block_size", s.block_size, tally.settings, tally);
  compare(rec, "tensor_parallel_size", s.tensor_parallel_size, tally.settings, tally);
  const std::string id = rec.at("id").get<std::string>();
  if (rec.contains("engine") && rec.at("engine").is_string() && (s.v0_engine || s.v1_engine)) {
    INFO(id << ": engine");
    CHECK(rec.at("engine").get<std::string>() == (s.v0_engine ? "V0" : "V1"));
    ++tally.settings;
  }
  if (rec.contains("num_gpus") && rec.at("num_gpus").is_number()) {
    INFO(id << ": " << log.ranks << " ranks logged per-GPU figures, the record says " << rec.at("num_gpus"));
    CHECK(log.ranks <= rec.at("num_gpus").get<std::size_t>());
  }
}

void compare_figures(const json& rec, const VllmLog& log, Tally& tally) {
  const VllmLogFigures& f = log.figures;
  compare(rec, "weights_gib", f.weights_gib, tally.figures, tally);
  compare(rec, "activation_peak_gib", f.activation_peak_gib, tally.figures, tally);
  compare(rec, "non_torch_gib", f.non_torch_gib, tally.figures, tally);
  compare(rec, "non_kv_total_gib", f.non_kv_total_gib, tally.figures, tally);
  compare(rec, "requested_gib", f.requested_gib, tally.figures, tally);
  compare(rec, "gpu_total_gib", f.total_gpu_gib, tally.figures, tally);
  compare(rec, "cuda_graph_estimated_gib", f.cuda_graph_estimated_gib, tally.figures, tally);
  compare(rec, rec.contains("cuda_graph_gib") ? "cuda_graph_gib" : "cuda_graph_actual_gib", f.cuda_graph_actual_gib,
          tally.figures, tally);
  compare(rec, "kv_cache_gib", f.kv_cache_gib, tally.figures, tally);
  compare(rec, "kv_cache_tokens", f.kv_cache_tokens, tally.figures, tally);
  compare(rec, "gpu_blocks", f.gpu_blocks, tally.figures, tally);
  compare(rec, "max_concurrency", f.max_concurrency, tally.figures, tally);
  compare(rec, "concurrency_tokens_per_request", f.concurrency_tokens_per_request, tally.figures, tally);
}

}  // namespace

TEST_CASE("vLLM log reader: every figure of every calibration record's evidence equals the record",
          "[vllm_log][calibration]") {
  Tally tally;
  std::set<std::string> silent_failures;  // records naming a failure whose evidence shows none
  std::set<std::string> without_figures;  // table rows: nothing a log line states
  for (const char* file : {"vllm_calibration.jsonl", "vllm_calibration_v021plus.jsonl"}) {
    for (const json& rec : records(file)) {
      const std::string id = rec.at("id").get<std::string>();
      const VllmLog log = parse_vllm_log(evidence_text(rec.at("evidence").get<std::string>()));
      ++tally.records;
      const std::size_t before = tally.figures;
      compare_figures(rec, log, tally);
      compare_settings(rec, log, tally);
      compare_error(rec, log, tally);
      if (tally.figures == before && log.error.kind == VllmLogFailure::None) without_figures.insert(id);
      if (recorded_kind(rec) && log.error.kind == VllmLogFailure::None) silent_failures.insert(id);
      // Every record's evidence is a startup excerpt with memory lines, except the table rows.
      if (log.memory_lines == 0) without_figures.insert(id);
      // Every memory line is kept as evidence.
      CHECK(log.evidence.size() >= log.memory_lines);
    }
  }
  std::cout << "vLLM log reader over the calibration records: " << tally.records << " records, " << tally.figures
            << " figures, " << tally.settings << " settings and " << tally.errors
            << " error facts checked equal; records without a figure (table rows): " << without_figures.size() << "\n";
  for (const auto& u : tally.unrecorded) std::cout << "  stated in the evidence, null in the record: " << u << "\n";
  CHECK(tally.records == 47);
  CHECK(tally.figures >= 240);
  CHECK(tally.settings >= 60);
  CHECK(tally.errors >= 15);
  // The summary-table rows of the llm-d records (and the author's comparison table) state no log line.
  CHECK(without_figures ==
        std::set<std::string>{"vllm-log-013", "vllm-log-019", "vllm-log-020", "vllm-log-021", "vllm-new-018"});
  // Only the FAILED table row names a failure its evidence does not show.
  CHECK(silent_failures == std::set<std::string>{"vllm-log-020"});
}
