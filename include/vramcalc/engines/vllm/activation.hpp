// What vLLM's profile run holds at its peak beyond the decoder's dense layers, counted tensor by tensor from vLLM's
// code rather than fitted (the v0.20+ calibration, docs/vllm-accuracy.md): the multimodal encoder's pass over its
// dummy batch, and the Gated DeltaNet layers' chunked prefill. Also the two v0.20+ facts about hybrid and
// unified-memory deployments the plan reports: vLLM's refusal when max_num_seqs exceeds the Mamba cache blocks, and how
// it measures memory on unified-memory GPUs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vramcalc/core/hardware.hpp"
#include "vramcalc/engines/vllm/cudagraph.hpp"
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

// The encoder's share of the profile run for `items` dummy items (vLLM's GPUModelRunner.profile_run: the batch goes
// through embed_multimodal, then its outputs wait in the encoder cache through the decoder's dummy run and the
// sampler). Per encoder token (patch) and GPU, with H the tower's width, I its MLP width and b the model dtype's bytes:
//   blocks = (3 x H + m x I / TP) x b     the MLP moment of one block: the block's input (still held by the caller),
//                                          the residual after attention, the norm's output, and the MLP's fc1 output
//                                          and its activation (m = 2), or gate_up and act_and_mul (m = 3, gated)
//          + deepstack outputs held        Qwen3-VL: each merged intermediate output, until the last block ends
//   input  = values per token x b          the dummy pixel values, cast to the model dtype by vLLM's processor call
//                                          (InputProcessingContext.call_hf_processor) and held through the whole run
//   cache  = tokens per item x out hidden x (1 + deepstack levels) x b, per item: the encoder cache entries
// The attention moment (qkv, the rotated q and k, the context and its projection: 9-12 hidden-wide rows depending on
// the release's rotary and attention backend) is of the same size for these towers (3 + 2 x I / H = 10.5 rows for
// Qwen3-VL) and not counted separately.
struct VllmEncoderPass {
  std::uint64_t blocks_bytes = 0;  // the blocks' peak over the whole batch, per GPU
  std::uint64_t input_bytes = 0;   // the batch's pixel values
  std::uint64_t cache_bytes = 0;   // the batch's outputs in the encoder cache
  double row_bytes = 0;            // bytes per encoder token at the blocks' peak (for the formula)
  std::string formula;             // the blocks' peak, with its numbers
  std::string input_formula;       // the pixel values, with their numbers ("" when not known)
};
VllmEncoderPass vllm_encoder_pass(const MultimodalEncoder& m, std::uint64_t items, std::uint64_t patches_per_item,
                                  std::uint64_t outputs_per_item, std::uint64_t tensor_parallel_size,
                                  double dtype_bytes);

// The Gated DeltaNet layers' prefill over `tokens` tokens (Qwen3-Next, Qwen 3.5 / 3.6 / 3.8), per GPU: what one
// linear-attention layer holds while its chunked gated delta rule runs (vLLM's GatedDeltaNetAttention with the
// flash-linear-attention kernels in vllm/model_executor/layers/fla/ops/chunk.py, chunks of 64 tokens). With hk, hv the
// key and value heads per GPU, dk, dv their sizes, C = 64, per token:
//   projections  in_proj_qkvz (2 hk dk + 2 hv dv) and the convolved q, k, v (2 hk dk + hv dv), in the model dtype
//   kernels      the l2-normalised q and k (2 hk dk), A (hv C), w (hv dk), u, v_new and o (hv dv each), one chunk state
//                per C tokens (hv dk dv / C), in the model dtype; g, its cumulative sum and beta in float32 (3 hv x 4
//                B)
//   residual     the hidden states and their norm (2 x hidden)
// 0 bytes for a model without linear-attention layers.
struct VllmGdnPrefill {
  std::uint64_t bytes = 0;
  double token_bytes = 0;
  std::string formula;
};
VllmGdnPrefill vllm_gdn_prefill(const ModelArch& arch, std::uint64_t tokens, std::uint64_t tensor_parallel_size,
                                double dtype_bytes);

// Whether vLLM treats `gpu` as a unified-memory device: compute capability 8.7 (Jetson Orin), 11.0 (Thor) or 12.1
// (DGX Spark GB10), or, without a capability, a GB10 / DGX Spark name. There vLLM's MemorySnapshot reads free memory
// as the host's available memory (psutil.virtual_memory().available, the kernel's MemAvailable) instead of
// cudaMemGetInfo (vllm/utils/mem_utils.py), so every host allocation between its baseline snapshot and the end of the
// profile run counts as non-PyTorch memory.
bool vllm_unified_memory_gpu(const Gpu& gpu);
// The non-PyTorch increase taken on such a device, whatever the model: the median of the three DGX Spark logs that
// show it (tests/data/vllm_calibration_v021plus.jsonl, vLLM 0.27.1), where a discrete GPU shows 0.13 GiB:
//   vllm-new-030  Qwen3-0.6B    2.23 GiB  "3.35 GiB for consumed memory (weights + non-torch)" less the 1.12 GiB of
//                                         weights vLLM logs for Qwen3-0.6B elsewhere (vllm-log-017/018)
//   vllm-new-013  Qwen3.8-27B   3.61 GiB  0.92 x 119.63 GiB (vllm-new-014's host) - 51.70 KV - 1.56 graph estimate
//                                         - 51.35 weights - 1.84 activation (both as vllm-new-014 logs them); its own
//                                         "equivalent to" line gives a 120.0 GiB total and 3.95 GiB
//   vllm-new-014  Qwen3.8-27B   4.64 GiB  "55.99 GiB for consumed memory" less "Model loading took 51.35 GiB"
// It is host memory (the engine's heap, torch.compile and Triton, the API server, other processes), not a property
// of the model: two boots of one model on one host differ by about 1 GiB, and the three logs span the median by
// -1.38 / +1.03 GiB. A median of the logs it is then scored on, so not an independent check.
inline constexpr double kVllmUnifiedNonTorchGiB = 3.61;
// The warning a plan on such a device carries: what vLLM counts as non-PyTorch memory there, the figure taken
// (`taken_non_torch_bytes`), how far it varies, and --kv-cache-memory to pin the budget.
std::string vllm_unified_memory_note(const Gpu& gpu, std::uint64_t taken_non_torch_bytes);

// vLLM v0.20+ refuses to capture FULL CUDA graphs for a model with Mamba-style state layers (Mamba2, Gated DeltaNet,
// short convolutions) when max_num_seqs exceeds the blocks of the state pool, since each decode sequence needs one
// (GPUModelRunner._check_and_update_cudagraph_mode; earlier releases capped the capture sizes instead). The error
// vLLM raises, with the numbers, or nullopt when it would not: no state layers, no FULL graphs (--enforce-eager, -O0,
// cudagraph_mode NONE or PIECEWISE), a release before v0.20, or enough blocks.
std::optional<std::string> vllm_mamba_blocks_refusal(const ModelArch& arch, const VllmVersion& version,
                                                     CudagraphMode mode, bool enforce_eager, std::uint64_t max_num_seqs,
                                                     std::int64_t num_blocks);

}  // namespace vramcalc
