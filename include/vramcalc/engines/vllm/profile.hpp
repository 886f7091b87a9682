// What vLLM's profile run measures besides the weights: the activation peak (max_num_batched_tokens through the
// layers plus the sampler pass over min(max_num_seqs, max_num_batched_tokens) x vocab float32 logits) and the
// non-PyTorch memory (NCCL and custom all-reduce buffers that grow with TP). Coefficients are fitted on real
// vLLM startup logs by scripts/fit_vllm_profile.py (its data and output are in the repository).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "vramcalc/core/dtype.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

// The newest vLLM release the estimator models, the default of --vllm-version: v0.29.0, the newest release the
// v0.20+ calibration logs come from (tests/data/vllm_calibration_v021plus.jsonl, a 0.29.1 nightly). v0.30.0 exists
// (2026-09) but no startup log of it was available to check its accounting against.
inline constexpr int kNewestVllmMajor = 0;
inline constexpr int kNewestVllmMinor = 29;
inline constexpr int kNewestVllmPatch = 0;

// A vLLM release, as --vllm-version takes it ("0.11", "0.10.1", "v0.10.1.1" alike). Default: the newest modelled.
// The V0 engine (before v0.8) is not modelled: its profile run and log lines differ (a documented legacy).
struct VllmVersion {
  int major = kNewestVllmMajor;
  int minor = kNewestVllmMinor;
  int patch = kNewestVllmPatch;
  [[nodiscard]] bool at_least(int maj, int min, int pat = 0) const;
  [[nodiscard]] std::string str() const;  // "0.10.0"
};
// Throws Error(BadInput) naming --vllm-version for anything that is not [v]MAJOR.MINOR[.PATCH[.BUILD]].
VllmVersion parse_vllm_version(const std::string& text);

// The first release that estimates the CUDA-graph pool during profiling and subtracts it from the KV budget, and
// defaults --gpu-memory-utilization to 0.92 (both in vLLM PR #38284, "slated for v0.21"; the v0.20.0 release
// already logs "CUDA graph memory profiling is enabled (default since v0.21.0)", see vllm-new-001/002/017).
inline constexpr int kCudagraphProfilingMinor = 20;
// True when `v` subtracts its CUDA-graph estimate from the KV budget by default (v0.20.0 and later).
bool vllm_profiles_cudagraphs(const VllmVersion& v);

// vLLM's default --gpu-memory-utilization for a release: 0.90, and 0.92 from v0.20.0 (PR #38284, with the estimate).
double vllm_default_gpu_memory_utilization(const VllmVersion& v);

// Whether a release samples with FlashInfer's top-k/top-p kernel by default: v0.11.0 (flashinfer-python became a
// default dependency and its sampler was on until PR #26859, first in v0.11.1) and v0.20.0 on (PR #40376 turned it
// back on; v0.20.0 and v0.22.1 logs print "Using FlashInfer for top-p & top-k sampling."). v0.10.x pip installs
// had no FlashInfer (vllm#23278); images that did are selected with --flashinfer-sampler.
bool vllm_default_flashinfer_sampler(const VllmVersion& v);

struct VllmBatchDefaults {
  std::uint64_t max_num_batched_tokens = 2048;
  std::uint64_t max_num_seqs = 256;
  std::string reason;  // "H100-class GPU (>= 70 GiB, not A100), OpenAI API server"
};
// vLLM's defaults by device and usage context (reference §3): >= 70 GiB and not an A100 -> 8192/1024 for the
// API server, 16384/1024 offline; otherwise 2048/256 (API server), 8192/256 (offline). From v0.28.0, >= 160 GiB
// (B200/B300) gives the API server 16384 tokens. Unified-memory devices (GB10, DGX Spark) report no memory through
// NVML, so vLLM's bare `except` falls back to the small defaults whatever their size.
VllmBatchDefaults vllm_batch_defaults(double gpu_total_gib, const std::string& gpu_name, bool offline_llm_class,
                                      const VllmVersion& version);

// --limit-mm-per-prompt for one modality: the items one prompt may hold and, in vLLM's JSON form
// ({"image": {"count": 1, "width": 512, "height": 512}}), the size of the dummy item the profile run uses.
struct VllmMmLimit {
  std::uint64_t count = 0;
  std::optional<std::uint64_t> width;
  std::optional<std::uint64_t> height;
};
// vLLM's limit for a modality --limit-mm-per-prompt does not name (MultiModalConfig.get_limit_per_prompt, V1).
inline constexpr std::uint64_t kVllmDefaultMmLimit = 999;

// What changes vLLM's multimodal profile run (issue 14).
struct VllmMultimodalSettings {
  std::map<std::string, VllmMmLimit> limit_per_prompt;  // --limit-mm-per-prompt (modalities not named: 999)
  std::string limit_per_prompt_text;                    // as JSON, for the vllm serve line
  bool skip_mm_profiling = false;                       // --skip-mm-profiling: vLLM does not profile the encoder
};
// --limit-mm-per-prompt in vLLM's two spellings: JSON ('{"image": 2, "video": 0}', a modality's value an object with
// "count" and optional "width", "height"), or image=2,video=0. Throws Error(BadInput) naming the flag otherwise.
std::map<std::string, VllmMmLimit> parse_limit_mm_per_prompt(const std::string& text);
// The limits as the JSON vLLM's current parser takes ({"image": 2, "video": {"count": 1, "width": 640, ...}}), for
// the vllm serve line whichever spelling was given.
std::string format_limit_mm_per_prompt(const std::map<std::string, VllmMmLimit>& limits);

// The multimodal encoder's part of the profile run (vLLM's GPUModelRunner.profile_run): a dummy batch of the largest
// items of one modality through the encoder, whose outputs stay in the encoder cache while the decoder's dummy run
// and the sampler run. vLLM logs "Encoder cache will be initialized with a budget of <budget_tokens> tokens, and
// profiled with <items> <modality> items of the maximum feature size."
struct VllmEncoderProfile {
  bool profiled = false;
  std::string modality;
  std::uint64_t budget_tokens = 0;    // min(compute budget, cache size) = max(max_num_batched_tokens, item tokens)
  std::uint64_t items = 0;            // items in the dummy batch
  std::uint64_t tokens_per_item = 0;  // placeholder tokens of one item
  std::uint64_t encoder_tokens = 0;   // the encoder's sequence over the whole batch
  std::uint64_t forward_bytes = 0;    // the encoder's forward peak, per GPU (activation.hpp, vllm_encoder_pass)
  std::uint64_t cache_bytes = 0;      // the batch's outputs, held through the decoder's dummy run
  std::uint64_t input_bytes = 0;      // the batch's pixel values, held through the whole profile run
  std::string formula;                // with its numbers, for the breakdown
  std::string input_formula;          // the pixel values, with their numbers ("" when not known)
  std::string note;                   // why it is not profiled, or what was assumed ("" when nothing)
};

struct VllmProfileSettings {
  DType dtype = DType::BFloat16;  // activation dtype (the serving dtype)
  std::uint64_t tensor_parallel_size = 1;
  std::uint64_t pipeline_parallel_size = 1;
  std::uint64_t max_num_batched_tokens = 2048;
  std::uint64_t max_num_seqs = 256;
  bool last_pipeline_stage = true;  // the sampler pass runs there only
  VllmVersion version;
  // The sampler pass ran on FlashInfer's top-k/top-p kernel (vLLM images with FlashInfer before v0.11.1, where it
  // was on by default) instead of the PyTorch-native sort path (the default from v0.11.1, and every install
  // without FlashInfer). false, the default, gives the larger and safer figure.
  bool flashinfer_sampler = false;
  // issue 14: the multimodal encoder's profile (ModelArch::mm_encoder), and what limits it.
  VllmMultimodalSettings multimodal;
  bool language_model_only = false;  // --language-model-only: no tower is loaded, none profiled
  std::uint64_t max_model_len = 0;   // bounds the items one prompt holds (0: unbounded)
  // A unified-memory GPU (activation.hpp, vllm_unified_memory_gpu): vLLM counts host allocations as non-PyTorch
  // memory there, taken as kVllmUnifiedNonTorchGiB instead of the discrete GPUs' fit.
  bool unified_memory = false;
};

struct VllmProfileEstimate {
  std::uint64_t activation_bytes = 0;  // torch peak increase of the profile run, per GPU
  std::uint64_t sampler_bytes = 0;     // the part of activation_bytes that is the sampler pass
  std::uint64_t non_torch_bytes = 0;   // non-torch increase, per GPU
  std::string activation_formula;      // the formula with its numbers, for the breakdown
  std::string non_torch_formula;
  VllmEncoderProfile encoder;  // issue 14: the multimodal encoder's share (profiled false for a text-only model)
};

// The activation peak, per GPU, is max(the encoder's forward pass, max(the decoder's forward pass, the sampler pass)
// plus the encoder cache held through them), plus the encoder's pixel values held throughout, plus c (see profile.cpp).
VllmProfileEstimate estimate_vllm_profile(const ModelArch& arch, const VllmProfileSettings& settings);

// The encoder's dummy batch and its two terms (issue 14); profiled false, with a note, where vLLM runs none
// (--language-model-only, --skip-mm-profiling, every modality limited to 0) or the dummy item is not known.
VllmEncoderProfile estimate_vllm_encoder_profile(const ModelArch& arch, const VllmProfileSettings& settings);

// What vLLM's MXFP4 MoE path allocates beyond the checkpoint's packed experts, per GPU, on GPUs without native FP4:
//   Marlin (compute capability 8.x, and 9.x before v0.11 where pip installs had no triton_kernels): each expert
//     matrix padded to round_up(intermediate/TP, 128) x round_up(hidden, 256) (vllm/.../quantization/mxfp4.py,
//     "the moe marlin kernel requires that for each linear n % 256 == 0 and k % 128 == 0");
//   Triton matmul_ogs (9.x from v0.11): the expert scales swizzled into a second copy (HopperMXScaleLayout, rows
//     padded to 256) while the loaded scale parameters stay registered, and the expert biases converted to a
//     float32 copy.
// Blackwell (10.x, 12.x) runs MXFP4 natively and is not modelled (no log to check it against): 0 there.
struct VllmMxfp4Load {
  std::uint64_t extra_bytes = 0;  // on the busiest GPU
  std::string backend;            // "Marlin", "Triton", or "" when nothing is added
  std::string formula;
};
VllmMxfp4Load vllm_mxfp4_load_extra(const ModelArch& arch, const QuantScheme& scheme,
                                    std::optional<double> compute_capability, const VllmVersion& version,
                                    std::uint64_t tensor_parallel_size, std::uint64_t pipeline_parallel_size,
                                    std::uint64_t data_parallel_size, bool expert_parallel);

}  // namespace vramcalc
