// A vLLM startup log as `vram-calc explain-log` reads it: the settings it ran with and the memory figures it logged,
// from any release 0.6 to today, V0 and V1 wordings, whatever surrounds them (a container log, ANSI colours,
// "(EngineCore pid=...)" and "(RayWorkerWrapper ...)" prefixes, several ranks interleaved). Lines are recognised by
// their message text, never by source file or line number. Linear in the input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vramcalc {

// The settings a log states (the "non-default args" line, "Initializing a V1 LLM engine ... with config:", V0's
// "Initializing an LLM engine (v0.x) with config:", the version banner), each only when the log says it.
struct VllmLogSettings {
  std::optional<std::string> model;
  std::optional<std::string> version;  // "0.11.0" ("vLLM API server version 0.11.0", "(v0.6.3)", ...)
  std::optional<std::uint64_t> tensor_parallel_size, pipeline_parallel_size, data_parallel_size;
  std::optional<bool> enable_expert_parallel;
  std::optional<double> gpu_memory_utilization;
  std::optional<std::uint64_t> max_model_len, max_num_batched_tokens, max_num_seqs, block_size;
  std::optional<std::string> dtype, kv_cache_dtype, quantization;
  std::optional<bool> enforce_eager;
  std::optional<std::string> cudagraph_mode;           // "FULL_AND_PIECEWISE", ...
  std::vector<std::uint64_t> cudagraph_capture_sizes;  // as the config lists them
  std::optional<std::string> speculative_config;       // as logged
  std::optional<std::string> gpu_name;                 // when a line names the GPU ("NVIDIA H100 80GB HBM3")
  bool v0_engine = false;                              // the V0 engine's wording
  // Added for explain-log (the log states them; nothing above is renamed):
  std::optional<std::string> platform;  // "cuda", "rocm", "xpu", ... ("Automatically detected platform cuda.")
  bool v1_engine = false;               // the V1 engine's wording (config line, EngineCore, "GPU KV cache size")
  // `model` named a local directory: it holds "<local>/<last component>" (the rest redacted), never a Hub id. A
  // Hugging Face cache snapshot path (.../models--org--name/snapshots/<sha>) is not local: `model` is "org/name".
  bool model_local = false;
};

// The memory figures a log states, per GPU, in GiB as logged (vLLM prints GiB = 2^30 bytes), each only when logged.
// With several ranks, the first rank's (rank 0) figures, the others counted in `ranks`.
struct VllmLogFigures {
  std::optional<double> weights_gib;               // "Model loading took X GiB", "Loading model weights took X GB"
  std::optional<double> activation_peak_gib;       // "torch peak memory increase", "peak activation"
  std::optional<double> non_torch_gib;             // "non-torch memory increase", "non_torch_memory"
  std::optional<double> cuda_graph_estimated_gib;  // "Estimated CUDA graph memory: X GiB"
  std::optional<double> cuda_graph_actual_gib;     // "Graph capturing finished in N secs, took X GiB"
  std::optional<double> kv_cache_gib;              // "Available KV cache memory: X GiB", V0 "kv_cache_size"
  std::optional<double> requested_gib;             // "total_gpu_memory (X GiB) x gpu_memory_utilization (u) = Y GiB"
  std::optional<double> total_gpu_gib;             // the X of that line, or derived
  std::optional<double> non_kv_total_gib;          // "model weights take ...; non_torch ...; PyTorch activation ...;
                                                   // the rest of the memory reserved for KV Cache is ..."
  std::optional<std::uint64_t> kv_cache_tokens;    // "GPU KV cache size: N tokens"
  std::optional<std::uint64_t> gpu_blocks;         // "# GPU blocks: N", "num_gpu_blocks is: N"
  std::optional<double> max_concurrency;           // "Maximum concurrency for L tokens per request: X.XXx"
  std::optional<std::uint64_t> concurrency_tokens_per_request;  // that L
  std::optional<std::uint64_t> piecewise_graphs, full_graphs;   // "Profiling CUDA graph memory: PIECEWISE=N ..."
  std::optional<double> equivalent_utilization;  // "... is equivalent to --gpu-memory-utilization=U without ..."
  // Added for explain-log (the log states them; nothing above is renamed):
  std::optional<std::uint64_t> piecewise_largest, full_largest;  // the "(largest=M)" of that profiling line
  // Whether the CUDA-graph estimate was taken out of the KV budget: true for "CUDA graph memory profiling is
  // enabled", false for "... is disabled" and for the pre-default "In v0.19, CUDA graph memory profiling will be
  // enabled by default" notice.
  std::optional<bool> cudagraph_estimate_deducted;
  // The U' of "increase --gpu-memory-utilization to U'" / "from U to U'": the utilization that gives, with the
  // estimate deducted, the KV cache the run would have without it (U + estimate / total).
  std::optional<double> compensating_utilization;
  std::optional<double> consumed_gib;  // "X GiB for consumed memory (weights + non-torch)" (v0.26.1+)
  std::optional<double> free_gpu_gib;  // the F of "Free memory on device (F/T GiB) on startup"
};

// How a startup failed, when it did.
enum class VllmLogFailure {
  None,
  NoKvMemory,   // "No available memory for the cache blocks"
  MaxSeqLen,    // "To serve at least one request with the models's max seq len (N), (X GiB KV cache is needed..."
  OutOfMemory,  // "CUDA out of memory" / "torch.OutOfMemoryError"
  MambaBlocks,  // "... exceeds available Mamba cache blocks ..."
  Other,        // an engine start-up error of another kind
};

struct VllmLogError {
  VllmLogFailure kind = VllmLogFailure::None;
  std::string line;  // the message, redacted, one line
  std::optional<double> available_kv_gib, needed_kv_gib;
  std::optional<std::uint64_t> max_seq_len, estimated_max_model_len, kv_tokens_capacity;
  // Added for explain-log:
  std::optional<std::uint64_t>
      mamba_cache_blocks;                    // the B of "max_num_seqs (S) exceeds available Mamba cache blocks (B)"
  std::optional<double> oom_allocation_gib;  // the X of "Tried to allocate X GiB" (MiB converted)
};

struct VllmLog {
  VllmLogSettings settings;
  VllmLogFigures figures;
  VllmLogError error;
  bool engine_started = false;        // the engine reached serving ("Starting vLLM API server", "init engine ... took")
  std::size_t memory_lines = 0;       // memory lines recognised: 0 means not a vLLM startup log
  std::size_t ranks = 1;              // distinct worker ranks / pids seen in memory lines
  std::vector<std::string> evidence;  // the recognised lines, redacted, prefixes kept as logged, in order
};

// Reads a whole log. Never throws for any input; bounded memory (evidence capped at 200 lines of 1000 bytes).
VllmLog parse_vllm_log(std::string_view text);

// `text` with what must never be printed or recorded replaced: API keys and tokens (api_key=..., --api-key X,
// hf_..., "Bearer ..."), credentials in URLs (https://user:pass@host), and local paths (/home/..., /root/...,
// /Users/..., C:\Users\...: the user part becomes "<redacted>"). vLLM printed api_key verbatim in its
// non-default args line until mid-2026.
std::string redact_log_text(std::string_view text);

// One log as a line of the calibration data set (tests/data/vllm_calibration_v021plus.jsonl: the superset of both
// files' keys, null where the log does not say), evidence joined by " | ", id "user-<first 12 hex of a hash>".
std::string vllm_log_record(const VllmLog& log);

}  // namespace vramcalc
