// The steps of parse_options between defining the flags (options.cpp) and the Options they build (settings.cpp):
// the flags as text, the profile applied to them, the settings built from them. Private to the CLI.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/options.hpp"

namespace vramcalc::cli {

// Every flag as the command line gave it (numbers as text, so that each rejection names its flag), then with what a
// profile fills in. "" is a flag not given.
struct RawFlags {
  std::string model, sku, profile, format;
  std::string engine, estimator;

  // Sizing, shared by the engines (some by only one or two; check_engine_flags says which).
  std::string max_model_len, concurrency, gpu_memory_utilization, gpu_memory, cuda_total, gpus;
  std::string tensor_parallel_size, pipeline_parallel_size, gpus_per_node;
  std::string fragmentation_factor, headroom_gib, risk_thresholds_gib, non_torch_gib, activation_gib, overhead_gib;
  std::string params_b, weight_bytes, dtype, quantization, kv_cache_dtype;
  std::string kaito_rules;           // --kaito-rules guide|controller
  bool language_model_only = false;  // --language-model-only (vLLM's flag): the vision/audio towers are not loaded

  // --estimator vllm
  std::string vllm_version, kv_cache_memory, cudagraph_memory, max_num_batched_tokens, max_num_seqs, block_size;
  std::string data_parallel_size;
  std::string cudagraph_estimate, max_cudagraph_capture_size, cudagraph_capture_sizes, compilation_config;
  std::string optimization_level;   // -O
  std::string limit_mm_per_prompt;  // issue 14: vLLM's JSON or image=2,video=0
  std::string speculative_config;   // vLLM's JSON: {"method": "mtp", "num_speculative_tokens": 2}
  bool enforce_eager = false, enable_expert_parallel = false, flashinfer_sampler = false;
  bool skip_mm_profiling = false;  // issue 14

  // --engine tgi
  std::string max_input_tokens, max_total_tokens, max_batch_prefill_tokens, cuda_memory_fraction, cuda_overhead_gb;

  // What to print
  std::string sweep, sweep_tokens, emit;
  bool emit_given = false;  // --emit was on the command line (even empty): a profile's outputs.emit does not apply
  bool force = false;       // --force: --emit prints a plan that does not fit
  bool strict = false;      // --strict: an uncertain plan exits 1 (issue 14)

  // The Hub
  std::string revision, token, ca_bundle, connect_timeout, timeout;
  bool offline = false, refresh = false;

  // Hidden: what the build runs to write the shell completions and the man page
  std::string completions;
  bool man = false;
};

// A profile fills what the command line left unset (flags override it); what it sets that vram-calc does not size
// with becomes a note. `preloaded`: the profile's contents when they were already read (a sweep re-parses).
void apply_profile(Options& o, RawFlags& flags, std::shared_ptr<const Profile> preloaded);

// The ReportSettings and WeightSettings the flags describe, with the checks that a flag suits the engine.
void build_settings(Options& o, const RawFlags& flags);

// --sweep / --sweep-tokens and --emit.
void build_outputs(Options& o, const RawFlags& flags);

// Where models come from: the environment, then --revision, --token, --offline, --refresh and the HTTP flags.
HubOptions build_hub_options(const RawFlags& flags);

// Fails with `flag: "name" is not one of a, b, c` unless `name` is one of `allowed`.
void require_one_of(const std::string& name, const std::vector<std::string>& allowed, const std::string& flag);

}  // namespace vramcalc::cli
