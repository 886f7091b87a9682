// What plan_vllm works out per layout for one model, kept (memo.hpp). The keys compare every field of the settings
// a step reads: the structured bindings below stop compiling when one of those structs gains a field, so that a new
// input cannot be left out of a key.
#include "vramcalc/engines/vllm/memo.hpp"

#include <algorithm>

#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/engines/vllm/speculative.hpp"

namespace vramcalc {

namespace {

bool same_version(const VllmVersion& x, const VllmVersion& y) {
  const auto& [major, minor, patch] = x;
  return major == y.major && minor == y.minor && patch == y.patch;
}

bool same_limit(const VllmMmLimit& x, const VllmMmLimit& y) {
  const auto& [count, width, height] = x;
  return count == y.count && width == y.width && height == y.height;
}

bool same_multimodal(const VllmMultimodalSettings& x, const VllmMultimodalSettings& y) {
  const auto& [limits, text, skip] = x;
  return text == y.limit_per_prompt_text && skip == y.skip_mm_profiling &&
         std::equal(limits.begin(), limits.end(), y.limit_per_prompt.begin(), y.limit_per_prompt.end(),
                    [](const auto& a, const auto& b) { return a.first == b.first && same_limit(a.second, b.second); });
}

bool same_profile_settings(const VllmProfileSettings& x, const VllmProfileSettings& y) {
  const auto& [dtype, tp, pp, mnbt, mns, last_stage, version, flashinfer, multimodal, lmo, max_model_len, unified] = x;
  return dtype == y.dtype && tp == y.tensor_parallel_size && pp == y.pipeline_parallel_size &&
         mnbt == y.max_num_batched_tokens && mns == y.max_num_seqs && last_stage == y.last_pipeline_stage &&
         same_version(version, y.version) && flashinfer == y.flashinfer_sampler && lmo == y.language_model_only &&
         max_model_len == y.max_model_len && unified == y.unified_memory && same_multimodal(multimodal, y.multimodal);
}

bool same_compilation(const VllmCompilationSettings& x, const VllmCompilationSettings& y) {
  const auto& [mode, sizes, max_size, level, ignored, text] = x;
  return mode == y.cudagraph_mode && sizes == y.capture_sizes && max_size == y.max_capture_size &&
         level == y.optimization_level && ignored == y.ignored_keys && text == y.compilation_config;
}

bool same_capture_inputs(const VllmCaptureInputs& x, const VllmCaptureInputs& y) {
  const auto& [version, mns, mnbt, cc, q, draft_layers, unified] = x;
  return same_version(version, y.version) && mns == y.max_num_seqs && mnbt == y.max_num_batched_tokens &&
         cc == y.compute_capability && q == y.uniform_decode_query_len && draft_layers == y.draft_layers &&
         unified == y.unified_memory;
}

bool same_kv_settings(const VllmKvSettings& x, const VllmKvSettings& y) {
  const auto& [block_size, tp, pp, mnbt, speculative_tokens, state_blocks] = x;
  return block_size == y.block_size && tp == y.tensor_parallel_size && pp == y.pipeline_parallel_size &&
         mnbt == y.max_num_batched_tokens && speculative_tokens == y.num_speculative_tokens &&
         state_blocks == y.state_blocks_per_request;
}

}  // namespace

std::uint64_t VllmPlanMemo::weights_per_gpu(std::uint64_t tp, std::uint64_t pp, std::uint64_t dp,
                                            bool expert_parallel) {
  for (const auto& e : weights_entries_)
    if (e.tp == tp && e.pp == pp && e.dp == dp && e.expert_parallel == expert_parallel) return e.bytes;
  const std::uint64_t bytes = vllm_weights_per_gpu(*arch_, *weights_, tp, pp, dp, expert_parallel);
  weights_entries_.push_back({tp, pp, dp, expert_parallel, bytes});
  return bytes;
}

VllmProfileEstimate VllmPlanMemo::profile(const VllmProfileSettings& settings) {
  for (const auto& e : profile_entries_)
    if (same_profile_settings(e.settings, settings)) return e.estimate;
  profile_entries_.push_back({settings, estimate_vllm_profile(*arch_, settings)});
  return profile_entries_.back().estimate;
}

VllmCudagraphPlan VllmPlanMemo::cudagraphs(const VllmCompilationSettings& compilation, const VllmCaptureInputs& inputs,
                                           std::uint64_t tp, std::uint64_t pp, std::optional<std::uint64_t> given) {
  for (const auto& e : cudagraph_entries_)
    if (e.tp == tp && e.pp == pp && e.given == given && same_capture_inputs(e.inputs, inputs) &&
        same_compilation(e.compilation, compilation))
      return e.plan;
  cudagraph_entries_.push_back(
      {compilation, inputs, tp, pp, given, plan_vllm_cudagraphs(*arch_, compilation, inputs, tp, pp, given)});
  return cudagraph_entries_.back().plan;
}

VllmKvLayout VllmPlanMemo::kv_layout(const VllmKvSettings& settings, std::uint64_t draft_layers) {
  for (const auto& e : kv_layout_entries_)
    if (e.draft_layers == draft_layers && same_kv_settings(e.settings, settings)) return e.layout;
  VllmKvLayout layout = draft_layers == 0
                            ? vllm_kv_layout(*arch_, *kv_, settings)
                            : vllm_kv_layout(vllm_arch_with_draft_layers(*arch_, draft_layers), *kv_, settings);
  kv_layout_entries_.push_back({settings, draft_layers, std::move(layout)});
  return kv_layout_entries_.back().layout;
}

const VllmRotaryTables& VllmPlanMemo::rotary_tables() {
  if (!rotary_tables_) rotary_tables_ = vllm_rotary_tables(*arch_, weights_->serving_dtype);
  return *rotary_tables_;
}

}  // namespace vramcalc
