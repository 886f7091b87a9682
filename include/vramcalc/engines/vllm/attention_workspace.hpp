// Workspaces an attention backend reserves during vLLM's profile run and keeps: vLLM's WorkspaceManager holds one
// buffer, grown to the largest request made of it and locked once the CUDA graphs are captured, so the profile's
// torch peak counts it on top of the forward pass's activations.
//
// DeepSeek V4 (sparse MLA; vllm/models/deepseek_v4/attention.py and its FlashMLA layer): with no attention metadata
// (the profile's dummy run) each attention layer reserves the bf16 KV-gather buffer its prefill path uses,
//   PREFILL_CHUNK_SIZE (4) x (max_model_len / r + gathered) x head_dim (512) x 2 B,
//   gathered = min(max_model_len, max_num_batched_tokens) + min(max_model_len - that, sliding_window - 1),
// where r is the layer's compress ratio (r <= 1: no compressed prefix); the buffer is shared, so the ratio-4 layers
// (the longest compressed prefix) size it: about 1 GiB per GPU at 1M tokens, whatever the TP (one KV head).
// The int32 top-k indices reserved beside it (the query chunk x (index_topk + window)) are a few MiB: not modelled.
#pragma once

#include <cstdint>
#include <string>

#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

struct VllmAttentionWorkspace {
  std::uint64_t bytes = 0;  // per GPU, held from the profile run on
  std::string formula;      // with its numbers ("" when none)
};

// The workspace `arch`'s attention reserves at `max_model_len` and `max_num_batched_tokens` (DeepSeek V4's prefill
// KV gather; none for other families).
VllmAttentionWorkspace vllm_attention_workspace(const ModelArch& arch, std::uint64_t max_model_len,
                                                std::uint64_t max_num_batched_tokens);

}  // namespace vramcalc
