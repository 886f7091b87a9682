// vLLM's speculative decoding (--speculative-config), as it moves the memory vLLM sets aside, read in vLLM's source
// (vllm/config/speculative.py, vllm/config/vllm.py, vllm/v1/spec_decode/, vllm/v1/worker/gpu_model_runner.py):
//   - the drafter loads inside load_model, so "Model loading took" counts its weights. MTP: the checkpoint's
//     multi-token-prediction layers (ModelArch::mtp_layers, mtp_params), split over the tensor-parallel ranks like a
//     decoder layer; the drafter's embedding and LM head are the target's (vLLM deletes the drafter's own copies when
//     it shares them). ngram and suffix decoding load nothing. A separate draft checkpoint (eagle, eagle3,
//     draft_model, ...) is not sized: warned.
//   - the drafter's attention layers get KV cache specs beside the target's: one more layer of the last decoder
//     layer's kind per MTP layer (vllm_arch_with_draft_layers).
//   - a uniform decode batch is 1 + num_speculative_tokens tokens per request: the CUDA-graph capture list grows
//     and is rounded to multiples of it (cudagraph.hpp, VllmCaptureInputs::uniform_decode_query_len).
//   - state layers (Mamba2, Gated DeltaNet) keep num_speculative_tokens more conv rows and blocks (kv_pages.hpp).
// The profile run does not grow with the speculative tokens: the rejection sampler's dummy pass takes one draft token
// per request (2 x min(max_num_seqs, max_num_batched_tokens) rows of logits, after the sampler pass has freed its
// own), and the drafter's dummy forward runs its layer over the same tokens after the target's. Neither is modelled
// beyond the sampler pass the profile already has.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

// How the draft tokens are proposed, as far as memory goes.
enum class VllmSpeculativeMethod {
  None,
  Mtp,           // "mtp" and the per-family aliases vLLM keeps ("deepseek_mtp", "qwen3_5_mtp", ...)
  Ngram,         // "ngram", "ngram_gpu": prompt lookup, no weights
  Suffix,        // "suffix": suffix decoding, no weights
  Eagle,         // "eagle", "eagle3": a draft head checkpoint ("model")
  DraftModel,    // "draft_model": a separate small model ("model")
  OtherWeights,  // medusa, mlp_speculator, dflash, dspark, ...: a draft checkpoint not sized here
};

// --speculative-config as vLLM takes it: a JSON object with "method", "num_speculative_tokens" and, for a separate
// draft, "model". Keys that do not move memory here land in ignored_keys (the plan says so).
struct VllmSpeculativeSettings {
  VllmSpeculativeMethod method = VllmSpeculativeMethod::None;
  std::string method_name;                              // as given ("mtp", "deepseek_mtp", "eagle3", ...)
  std::optional<std::uint64_t> num_speculative_tokens;  // MTP may leave it out: the model's MTP layer count
  std::string model;                                    // "model": a separate draft checkpoint
  std::vector<std::string> ignored_keys;
  std::string text;  // the JSON as given, for the vllm serve line
  [[nodiscard]] bool enabled() const { return method != VllmSpeculativeMethod::None; }
};

// Reads --speculative-config JSON into `s`. Malformed JSON, a method vLLM does not know, a missing or non-positive
// num_speculative_tokens (required except for MTP), a method that needs "model" without one: Error(BadInput), one line
// naming the flag.
void parse_speculative_config(const std::string& json_text, VllmSpeculativeSettings& s);

// The settings resolved against a model and a layout.
struct VllmSpeculativePlan {
  bool enabled = false;
  std::uint64_t num_speculative_tokens = 0;
  std::uint64_t uniform_decode_query_len = 1;  // 1 + num_speculative_tokens: the tokens of one request in a decode step
  std::uint64_t draft_layers = 0;              // the drafter's decoder layers on this GPU (MTP): KV specs and graphs
  std::uint64_t draft_weight_bytes = 0;        // per GPU, what "Model loading took" adds for the drafter
  std::string draft_weights_formula;           // with its numbers
  std::vector<std::string> warnings;           // what is not sized, or assumed
};
VllmSpeculativePlan plan_vllm_speculative(const ModelArch& arch, const WeightEstimate& weights,
                                          const VllmSpeculativeSettings& settings, std::uint64_t tensor_parallel_size,
                                          std::uint64_t pipeline_parallel_size, std::uint64_t data_parallel_size,
                                          bool expert_parallel);

// The MTP layers' weights on the busiest GPU: the last decoder layer's bytes there (its groups split as
// vllm_weights_per_gpu splits them), scaled by mtp_params / that layer's parameters, since an MTP layer is a decoder
// layer plus small projections and norms. 0 when the checkpoint has no MTP layers. `formula` says how.
std::uint64_t vllm_mtp_weights_per_gpu(const ModelArch& arch, const WeightEstimate& weights,
                                       std::uint64_t tensor_parallel_size, std::uint64_t pipeline_parallel_size,
                                       std::uint64_t data_parallel_size, bool expert_parallel, std::string& formula);

// The architecture vLLM's KV cache sees once the drafter is loaded: `draft_layers` more layers after the last decoder
// layer, each of its kind, attention shape and indexer flag (an MTP layer holds its own cache; DeepSeek V4's MTP layer
// is a sliding-window layer without compressor or indexer, compress ratio 0, as vLLM builds it). The layer count,
// weights and the rest are unchanged.
ModelArch vllm_arch_with_draft_layers(const ModelArch& arch, std::uint64_t draft_layers);

}  // namespace vramcalc
