// Attention workspaces vLLM reserves in its profile run (see attention_workspace.hpp).
#include "vramcalc/engines/vllm/attention_workspace.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vramcalc/core/units.hpp"

namespace vramcalc {

namespace {

// DeepseekV4Attention.PREFILL_CHUNK_SIZE: prefill requests gathered at once.
constexpr std::uint64_t kV4PrefillChunk = 4;
constexpr std::uint64_t kBf16Bytes = 2;

}  // namespace

VllmAttentionWorkspace vllm_attention_workspace(const ModelArch& a, std::uint64_t max_model_len,
                                                std::uint64_t max_num_batched_tokens) {
  VllmAttentionWorkspace w;
  if (a.compress_ratios.empty() || !a.mla) return w;  // DeepSeek V4 only
  const std::uint64_t len = std::max<std::uint64_t>(1, max_model_len);
  const std::uint64_t window = std::max<std::uint64_t>(1, a.sliding_window.value_or(1));
  const std::uint64_t query = std::max<std::uint64_t>(1, std::min(len, max_num_batched_tokens));
  const std::uint64_t gathered = query + std::min(len - query, window - 1);
  // The smallest compress ratio above 1 keeps the longest compressed prefix.
  std::uint64_t ratio = 0;
  for (auto r : a.compress_ratios)
    if (r > 1 && (ratio == 0 || r < ratio)) ratio = r;
  const std::uint64_t prefix = ratio > 0 ? len / ratio : 0;
  const std::uint64_t head = a.kv_lora_rank + a.qk_rope_head_dim;
  const double bytes = static_cast<double>(kV4PrefillChunk) * static_cast<double>(prefix + gathered) *
                       static_cast<double>(head) * static_cast<double>(kBf16Bytes);
  w.bytes = round_bytes(bytes, "attention workspace");
  w.formula =
      fmt::format("DeepSeek V4 prefill KV-gather workspace {} x ({} / {} + {} gathered) x {} x 2 B = {:.2f} GiB",
                  kV4PrefillChunk, len, ratio > 0 ? ratio : 1, gathered, head, to_gib(w.bytes));
  if (ratio == 0)
    w.formula = fmt::format("DeepSeek V4 prefill KV-gather workspace {} x {} gathered x {} x 2 B = {:.2f} GiB",
                            kV4PrefillChunk, gathered, head, to_gib(w.bytes));
  return w;
}

}  // namespace vramcalc
