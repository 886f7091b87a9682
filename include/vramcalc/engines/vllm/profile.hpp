// What vLLM's profile run measures besides the weights: the activation peak (max_num_batched_tokens through the
// layers plus the sampler pass over min(max_num_seqs, max_num_batched_tokens) x vocab float32 logits) and the
// non-PyTorch memory (NCCL and custom all-reduce buffers that grow with TP). Coefficients are fitted on real
// vLLM startup logs by scripts/fit_vllm_profile.py (its data and output are in the repository).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vramcalc/core/dtype.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

// A vLLM release, as --vllm-version takes it ("0.11", "0.10.1", "v0.10.1.1" alike).
struct VllmVersion {
  int major = 0;
  int minor = 10;
  int patch = 0;
  [[nodiscard]] bool at_least(int maj, int min, int pat = 0) const;
  [[nodiscard]] std::string str() const;  // "0.10.0"
};
// Throws Error(BadInput) naming --vllm-version for anything that is not [v]MAJOR.MINOR[.PATCH[.BUILD]].
VllmVersion parse_vllm_version(const std::string& text);

// vLLM's default --gpu-memory-utilization for a release: 0.90, and 0.92 from v0.22.
double vllm_default_gpu_memory_utilization(const VllmVersion& v);

// A rule-of-thumb CUDA-graph pool per GPU (default capture sizes, PIECEWISE): 0.50 GiB + 0.15 GiB per TP doubling.
// vLLM v0.21+ estimates this during profiling and subtracts it from the KV budget; earlier releases capture
// graphs after sizing the cache, inside the (1 - utilization) headroom.
std::uint64_t vllm_cudagraph_estimate(std::uint64_t tensor_parallel_size);

struct VllmBatchDefaults {
  std::uint64_t max_num_batched_tokens = 2048;
  std::uint64_t max_num_seqs = 256;
  std::string reason;  // "H100-class GPU (>= 70 GiB, not A100), OpenAI API server"
};
// vLLM's defaults by device and usage context (reference §3): >= 70 GiB and not an A100 -> 8192/1024 for the
// API server, 16384/1024 offline; otherwise 2048/256 (API server), 8192/256 (offline).
VllmBatchDefaults vllm_batch_defaults(double gpu_total_gib, const std::string& gpu_name, bool offline_llm_class,
                                      const VllmVersion& version);

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
};

struct VllmProfileEstimate {
  std::uint64_t activation_bytes = 0;  // torch peak increase of the profile run, per GPU
  std::uint64_t sampler_bytes = 0;     // the part of activation_bytes that is the sampler pass
  std::uint64_t non_torch_bytes = 0;   // non-torch increase, per GPU
  std::string activation_formula;      // the formula with its numbers, for the breakdown
  std::string non_torch_formula;
};

VllmProfileEstimate estimate_vllm_profile(const ModelArch& arch, const VllmProfileSettings& settings);

}  // namespace vramcalc
