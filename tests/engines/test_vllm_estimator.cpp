// The vLLM-faithful estimator against real vLLM startup logs (tests/data/vllm_calibration.jsonl): every record is
// run with its model's config, GPU, TP/PP, utilization and batch settings, and compared with what vLLM logged.
// Tolerances (issue 4): weights within 2%; available KV cache within 5% or 0.5 GiB, whichever is larger; tokens
// and concurrency consistent with the predicted KV to within one block; a logged "does not fit" reproduced.
// Records the estimator cannot yet handle are listed below with the reason, and reported with WARN.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

std::string config_dir(const std::string& model) {
  if (model == "meta-llama/Llama-3.1-8B-Instruct") return "meta-llama--Meta-Llama-3.1-8B";
  std::string dir = model;
  dir.replace(dir.find('/'), 1, "--");
  return dir;
}

// Known gaps: records whose logged figures the estimator does not reproduce yet, and why.
const std::map<std::string, std::string>& known_gaps() {
  static const std::map<std::string, std::string> gaps = {
      {"vllm-log-001",
       "V0 engine: profiles max(max_model_len, 2048) tokens without chunked prefill; only V1 is modelled"},
      {"vllm-log-002",
       "V0 engine: profiles max(max_model_len, 2048) tokens without chunked prefill; only V1 is modelled"},
  };
  return gaps;
}

// The release a record ran where its log does not print it, from its source (as scripts/fit_vllm_profile.py
// assumes): llm-d's table comes from the v0.11 "Free memory on device ... Actual usage" line with native-sampler
// peaks (v0.11.1 or later); vllm#23278 is a v0.10.1 pip install (its line numbers). Others: v0.10.0.
std::string assumed_version(const json& r) {
  if (r["vllm_version"].is_string()) return r["vllm_version"];
  const std::string source = r["source"];
  if (source.rfind("llm-d/", 0) == 0) return "0.11.1";
  if (source == "vllm-project/vllm#23278") return "0.10.1";
  return "0.10.0";
}

// vllm-log-013 (llm-d's gpt-oss-120b row): its logged terms add up only at utilization 0.95 (79.18 GiB x 0.95 -
// 64.38 weights - 7.38 activation - 0.13 non-torch = 3.33 GiB, the logged KV), not at the 0.9 the record carries
// (which gives -0.63 GiB); gpt-oss-120b does not start on one H100 at 0.9 (vllm-log-034).
std::optional<double> assumed_utilization(const std::string& id) {
  if (id == "vllm-log-013") return 0.95;
  return std::nullopt;
}

// Records whose log prints "Using FlashInfer for top-p & top-k sampling." although their release (v0.10.1.1) does
// not sample with FlashInfer by default: that installation had it (--flashinfer-sampler).
bool logs_flashinfer_sampler(const std::string& id) {
  return id == "vllm-log-024" || id == "vllm-log-025" || id == "vllm-log-026";
}

double gib_of(std::int64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kGiB); }

}  // namespace

TEST_CASE("the vLLM estimator reproduces every calibration record, or names the gap",
          "[vllm][calibration][estimator]") {
  std::ifstream in(testsupport::test_data("vllm_calibration.jsonl"));
  std::string line;
  int reproduced = 0;
  std::string table;  // every record's available KV, predicted vs logged (docs/vllm-accuracy.md quotes it)
  while (std::getline(in, line)) {
    const json r = json::parse(line);
    const std::string id = r["id"];
    const auto gap = known_gaps().find(id);
    INFO(id << " " << r["model"].get<std::string>() << " on " << r["gpu"].get<std::string>());

    const auto arch = normalize_config(testsupport::load_test_config(config_dir(r["model"])), id);
    WeightSettings ws;
    const auto weights = estimate_weights(arch, CheckpointSizes{}, ws);
    const std::string kv_flag = r["kv_cache_dtype"].is_string() ? r["kv_cache_dtype"].get<std::string>() : "auto";
    const auto kv = kv_cache_spec(arch, kv_flag, weights.serving_dtype);

    Gpu gpu;
    gpu.name = r["gpu"];
    gpu.compute_capability = gpu.name.find("A100") != std::string::npos ? 8.0 : 9.0;  // A100 or H100
    gpu.memory_gib_marketed = 80;
    gpu.memory_mib_reported = std::string(gpu.name).find("A100") != std::string::npos ? 81920 : 81559;
    std::vector<std::string> warnings;
    const GpuMemory total = r["gpu_total_gib"].is_number()
                                ? GpuMemory{static_cast<std::uint64_t>(std::llround(r["gpu_total_gib"].get<double>() *
                                                                                    static_cast<double>(kGiB))),
                                            "logged"}
                                : vllm_gpu_total(gpu, std::nullopt, warnings);

    VllmSettings s;
    s.version = parse_vllm_version(assumed_version(r));
    if (r["gpu_memory_utilization"].is_number()) s.gpu_memory_utilization = r["gpu_memory_utilization"].get<double>();
    if (const auto u = assumed_utilization(id)) s.gpu_memory_utilization = *u;
    // No --max-model-len: vLLM takes the model's maximum (the CLI's default fills the cache instead).
    s.max_model_len = r["max_model_len"].is_number() ? r["max_model_len"].get<std::uint64_t>()
                                                     : arch.max_position_embeddings.value_or(2048);
    if (r["max_num_batched_tokens"].is_number())
      s.max_num_batched_tokens = r["max_num_batched_tokens"].get<std::uint64_t>();
    if (r["max_num_seqs"].is_number()) s.max_num_seqs = r["max_num_seqs"].get<std::uint64_t>();
    if (r["block_size"].is_number()) s.block_size = r["block_size"].get<std::uint64_t>();
    s.tensor_parallel_size = r["tensor_parallel_size"].is_number() ? r["tensor_parallel_size"].get<std::uint64_t>() : 1;
    s.pipeline_parallel_size =
        r["pipeline_parallel_size"].is_number() ? r["pipeline_parallel_size"].get<std::uint64_t>() : 1;
    s.gpus_per_node = 8;
    // The release's default sampler (FlashInfer in v0.11.0, so vllm-log-022), unless the log says otherwise.
    if (logs_flashinfer_sampler(id)) s.flashinfer_sampler = true;
    const VllmPlan p = plan_vllm(arch, weights, kv, gpu, total, s);

    std::string problems;
    if (r["weights_gib"].is_number()) {
      const double logged = r["weights_gib"];
      const double predicted = to_gib(p.weights_bytes);
      if (std::fabs(predicted - logged) > 0.02 * logged)
        problems += fmt::format("weights {:.2f} vs logged {:.2f} GiB; ", predicted, logged);
    }
    if (r["kv_cache_gib"].is_number()) {
      const double logged = r["kv_cache_gib"];
      const double predicted = gib_of(p.available_kv_bytes);
      table += fmt::format("{} (vLLM {}): available KV {:.2f} vs logged {:.2f} GiB; ", id, s.version.str(), predicted,
                           logged);
      if (std::fabs(predicted - logged) > std::max(0.05 * std::fabs(logged), 0.5))
        problems += fmt::format("available KV {:.2f} vs logged {:.2f} GiB; ", predicted, logged);
      if (logged <= 0 && p.fits) problems += "logged no memory for the cache, predicted a fit; ";
    }
    if (!r["kv_cache_tokens"].is_null() && p.capacity.num_gpu_blocks > 0) {
      // Consistency: tokens follow from the predicted KV exactly as vLLM derives them (to within a block).
      const auto per_block = p.layout.page_bytes * p.layout.group_size;
      const auto blocks = static_cast<std::int64_t>(static_cast<std::uint64_t>(p.available_kv_bytes) / per_block);
      if (std::llabs(blocks - p.capacity.num_gpu_blocks) > 1) problems += "blocks inconsistent with the KV; ";
    }
    const std::string error = r["error_type"].is_string() ? r["error_type"].get<std::string>() : "";
    if (!error.empty() && p.fits) problems += "vLLM failed to start (" + error + ") but the estimator says it fits; ";
    if (error.empty() && r["kv_cache_gib"].is_number() && r["kv_cache_gib"].get<double>() > 0 && !p.fits)
      problems += "vLLM started but the estimator says it does not fit; ";
    if (r["error_estimated_max_model_len"].is_number()) {
      const double logged = r["error_estimated_max_model_len"];
      if (std::fabs(static_cast<double>(p.capacity.estimated_max_model_len) - logged) > 0.02 * logged)
        problems +=
            fmt::format("estimated max_model_len {} vs logged {}; ", p.capacity.estimated_max_model_len, logged);
    }

    if (gap != known_gaps().end()) {
      WARN(id << ": known gap: " << gap->second << (problems.empty() ? " (within tolerance today)" : ": " + problems));
      continue;
    }
    INFO(problems);
    CHECK(problems.empty());
    ++reproduced;
  }
  WARN(table);
  CHECK(reproduced == 14);  // 16 records, 2 named gaps (the V0 engine)
}
