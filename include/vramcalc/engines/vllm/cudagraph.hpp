// vLLM's CUDA graphs: the capture list it derives from its settings, and the memory it sets aside for them.
//
// From v0.20.0, before sizing the KV cache, vLLM captures the two largest batch sizes of each cudagraph mode into a
// temporary pool (GPUModelRunner.profile_cudagraph_memory) and subtracts
//     estimate = max(first capture of each mode) + sum over modes of per_graph x (N_mode - 1)
// from the KV budget (Worker.determine_available_memory); VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0 turns the
// subtraction off. Earlier releases capture after sizing, inside the (1 - utilization) headroom.
// The capture list follows VllmConfig._set_cudagraph_sizes and CudagraphDispatcher: sizes [1, 2, 4], multiples of 8
// below 256, multiples of 16 up to max_cudagraph_capture_size = min(max_num_seqs x q x 2, 512 (1024 on compute
// capability 10.x)) capped by max_num_batched_tokens (which is added when off-stride); PIECEWISE graphs for every
// size, FULL graphs for the uniform decode sizes q..max_num_seqs x q. q, the uniform decode query length, is 1, or
// 1 + num_speculative_tokens with speculative decoding (speculative.hpp); then, when decode batches run FULL graphs,
// CompilationConfig.adjust_cudagraph_sizes_for_spec_decode rounds every size up to a multiple of q and drops those
// past the largest (vllm-new-006, v0.25.0, q = 3, max_num_seqs 64: PIECEWISE=42 (largest=384), FULL=26
// (largest=192)). vLLM's main branch after the releases modelled here (PR #50488, merged after 2026-08-20) also
// appends the decode sizes of a request-count grid x q; not modelled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vramcalc/engines/vllm/kv_pages.hpp"
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

// CompilationConfig.cudagraph_mode.
enum class CudagraphMode { None, Piecewise, Full, FullDecodeOnly, FullAndPiecewise };
std::string_view cudagraph_mode_name(CudagraphMode mode);  // "FULL_AND_PIECEWISE"
// vLLM's names, in any case ("full_and_piecewise"); nullopt for anything else.
std::optional<CudagraphMode> parse_cudagraph_mode(std::string_view text);

// What moves the capture list, as vLLM's flags of the same names set it; unset fields take vLLM's defaults.
struct VllmCompilationSettings {
  std::optional<CudagraphMode> cudagraph_mode;              // compilation_config.cudagraph_mode
  std::optional<std::vector<std::uint64_t>> capture_sizes;  // --cudagraph-capture-sizes
  std::optional<std::uint64_t> max_capture_size;            // --max-cudagraph-capture-size
  std::optional<int> optimization_level;                    // -O0..3: O0 none, O1 PIECEWISE, O2/O3 FULL_AND_PIECEWISE
  std::vector<std::string> ignored_keys;                    // --compilation-config keys not modelled
  std::string compilation_config;                           // --compilation-config as given, for the command
};

// Reads --compilation-config JSON (an object) into `c`: cudagraph_mode, cudagraph_capture_sizes and
// max_cudagraph_capture_size; any other key lands in ignored_keys (the caller warns). Malformed JSON or a bad value:
// Error(BadInput), one line naming the flag.
void parse_compilation_config(const std::string& json_text, VllmCompilationSettings& c);
// "1,2,4,8" as --cudagraph-capture-sizes takes it (also "[1, 2, 4]"); Error(BadInput) naming the flag otherwise.
std::vector<std::uint64_t> parse_capture_sizes(const std::string& text);

struct VllmCaptureInputs {
  VllmVersion version;
  std::uint64_t max_num_seqs = 256;
  std::uint64_t max_num_batched_tokens = 2048;
  std::optional<double> compute_capability;  // 10.x (data-centre Blackwell) raises the default ceiling to 1024
  // Speculative decoding (speculative.hpp): 1 + num_speculative_tokens tokens per request in a decode step, and the
  // drafter's layers, whose graphs vLLM captures in the same dummy runs as the model's (MTP).
  std::uint64_t uniform_decode_query_len = 1;
  std::uint64_t draft_layers = 0;
  // A unified-memory device (activation.hpp, vllm_unified_memory_gpu): vLLM measures each capture as the drop in the
  // free memory cudaMemGetInfo reports, which there is the system's, so the host's allocations during the captures
  // count too: the estimate's per-graph cost takes a factor fitted on DGX Spark logs.
  bool unified_memory = false;
};

struct VllmCaptureList {
  CudagraphMode mode = CudagraphMode::None;
  std::string mode_source;               // "vLLM 0.29.0's default", "-O1", "--compilation-config", ...
  std::vector<std::uint64_t> sizes;      // compilation_config.cudagraph_capture_sizes, ascending
  std::vector<std::uint64_t> piecewise;  // sizes captured as PIECEWISE graphs
  std::vector<std::uint64_t> full;       // sizes captured as FULL graphs
  [[nodiscard]] std::uint64_t graphs() const { return piecewise.size() + full.size(); }
};
// The list vLLM captures (empty for mode NONE). Throws Error(BadInput) where vLLM refuses the settings (a
// max_cudagraph_capture_size that disagrees with explicit cudagraph_capture_sizes; no size left once rounded to
// multiples of the uniform decode query length).
VllmCaptureList vllm_capture_list(const VllmCompilationSettings& c, const VllmCaptureInputs& in);
// The cudagraph mode the settings resolve to in `version` (compilation_config, then -O, then the default).
CudagraphMode vllm_cudagraph_mode(const VllmCompilationSettings& c, const VllmVersion& version);

struct VllmCudagraphEstimate {
  std::uint64_t bytes = 0;          // "Estimated CUDA graph memory"
  std::uint64_t first_capture = 0;  // max over the modes
  std::uint64_t per_graph = 0;      // each graph after the first of its mode
  std::string formula;              // with its numbers, for the breakdown
  bool extrapolated = false;        // layers x hidden beyond the largest model the fit saw (a guess, warned)
  bool breakable = false;           // per_graph scaled for breakable CUDA graphs (vllm_breakable_cudagraph_arch)
  bool unified_memory = false;      // per_graph scaled for a unified-memory device (VllmCaptureInputs)
};
// The estimate for `list` on a GPU holding `layers_on_gpu` decoder layers (the pipeline stage's): fitted by
// scripts/fit_vllm_cudagraph.py (data/vllm_cudagraph_fit.json). It does not shrink with TP: every rank captures
// the same graphs over the full hidden size. Breakable-graph architectures and unified-memory devices take a larger
// per-graph cost.
VllmCudagraphEstimate estimate_vllm_cudagraph(const ModelArch& arch, std::uint64_t layers_on_gpu,
                                              const VllmCaptureList& list, bool unified_memory = false);

// The pool vLLM captured after sizing the cache in releases before v0.20 (logged "Graph capturing finished ...
// took X GiB", default capture sizes): 0.50 GiB + 0.15 GiB per TP doubling, a rule of thumb from v0.10 logs. It
// lives in the headroom and never reduces the KV budget.
std::uint64_t vllm_legacy_cudagraph_pool(std::uint64_t tensor_parallel_size);

// The CUDA-graph term of a plan: the capture list, and the bytes with how they were found: `given` (the pool
// --cudagraph-memory names), else vLLM's estimate (v0.20+), else the pool rule of thumb (earlier releases).
struct VllmCudagraphPlan {
  VllmCaptureList capture;
  std::uint64_t bytes = 0;
  bool estimated = false;  // not --cudagraph-memory
  std::string formula;
  // For the advice: whether the estimate likely overshoots the real pool (more than 8 graphs in a mode, or a model
  // with Mamba / linear-attention layers: logged estimates run 2-6x the pool there), and what a capture list cut at
  // --max-cudagraph-capture-size 64 would still reserve.
  bool likely_overshoots = false;
  bool hybrid = false;
  bool extrapolated = false;  // the estimate's per-graph cost is extrapolated past the fitted models
  std::uint64_t bytes_short_list = 0;
};
VllmCudagraphPlan plan_vllm_cudagraphs(const ModelArch& arch, const VllmCompilationSettings& c,
                                       const VllmCaptureInputs& in, std::uint64_t tensor_parallel_size,
                                       std::uint64_t pipeline_parallel_size, std::optional<std::uint64_t> given);
// Decoder layers on the busiest pipeline stage (the graphs one GPU captures run over those).
std::uint64_t vllm_layers_on_gpu(const ModelArch& arch, std::uint64_t pipeline_parallel_size);
// Architectures vLLM runs with breakable CUDA graphs by default (DEFAULT_BREAKABLE_CUDAGRAPH_ARCHITECTURES): a
// different capture (uncompiled, several graph segments per layer), whose per-graph cost the estimate scales by a
// factor fitted on the breakable-graph logs (cudagraph.cpp, kBreakablePerGraphFactor).
bool vllm_breakable_cudagraph_arch(const ModelArch& arch);

// KV tokens `bytes` of cache hold at `layout` (as vLLM turns its budget into "GPU KV cache size").
std::uint64_t vllm_kv_tokens_for(const VllmKvLayout& layout, std::uint64_t bytes);

// When the estimate likely overshoots the pool vLLM then captures: a warning saying how much KV cache (GiB, and
// tokens at `layout`) --enforce-eager, VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0 or --max-cudagraph-capture-size 64
// would recover. nullopt otherwise.
std::optional<std::string> vllm_cudagraph_advice(const VllmCudagraphPlan& cudagraph, const VllmKvLayout& layout);

}  // namespace vramcalc
