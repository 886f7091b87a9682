// The vLLM-faithful estimator: vLLM's own accounting, v0.10 to v0.29 (see plan.hpp), layout by layout.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/activation.hpp"
#include "vramcalc/engines/vllm/attention_workspace.hpp"
#include "vramcalc/engines/vllm/memo.hpp"
#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/engines/vllm/rotary.hpp"
#include "vramcalc/model/quantization.hpp"

namespace vramcalc {

namespace {

std::uint64_t median(std::vector<std::uint64_t> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The fraction of a group one tensor-parallel rank holds.
double tp_share(const ModelArch& a, const WeightGroup& g, std::uint64_t tp, std::uint64_t ep_ranks) {
  const double t = static_cast<double>(tp);
  switch (g.role) {
    case WeightRole::Norm:
    case WeightRole::Router:
    case WeightRole::Vision: return 1.0;
    case WeightRole::Experts: return 1.0 / static_cast<double>(ep_ranks);
    case WeightRole::Attention:
      if (a.mla && (ends_with(g.name, "q_a_proj") || ends_with(g.name, "kv_a_proj_with_mqa"))) return 1.0;
      if (!a.mla && (ends_with(g.name, "k_proj") || ends_with(g.name, "v_proj")) && a.num_key_value_heads > 0) {
        // Past the KV head count every rank keeps one head.
        const double per_rank = std::max(1.0, static_cast<double>(a.num_key_value_heads) / t);
        return per_rank / static_cast<double>(a.num_key_value_heads);
      }
      return 1.0 / t;
    default: return 1.0 / t;
  }
}

}  // namespace

GpuMemory vllm_gpu_total(const Gpu& gpu, std::optional<std::uint64_t> override_bytes,
                         std::vector<std::string>& warnings) {
  if (override_bytes) return {*override_bytes, "--gpu-memory"};
  if (!gpu.cuda_total_mib_observed.empty()) return {median(gpu.cuda_total_mib_observed) * kMiB, "cuda (observed)"};
  if (gpu.memory_mib_reported && *gpu.memory_mib_reported > kMedianCudaGapMiB) {
    return {(*gpu.memory_mib_reported - kMedianCudaGapMiB) * kMiB,
            fmt::format("nvidia-smi {} MiB minus the median {} MiB gap to the CUDA total", *gpu.memory_mib_reported,
                        kMedianCudaGapMiB)};
  }
  warnings.push_back(
      fmt::format("{}: no memory reading is known; the marketed {} GB is read as GiB (likely an "
                  "overestimate)",
                  gpu.name, gpu.memory_gib_marketed));
  return {round_bytes(gpu.memory_gib_marketed * static_cast<double>(kGiB), "GPU memory"), "marketed"};
}

std::uint64_t vllm_weights_per_gpu(const ModelArch& a, const WeightEstimate& w, std::uint64_t tp, std::uint64_t pp,
                                   std::uint64_t dp, bool expert_parallel) {
  const QuantScheme none;
  const QuantScheme& scheme = w.quantization ? *w.quantization : none;
  const std::uint64_t ep_ranks = expert_parallel ? tp * dp : tp;
  const auto parts = vllm_pp_partition(a.num_hidden_layers, pp);
  double all = 0;
  std::vector<double> stage(pp, 0.0);
  for (const auto& g : a.weights) {
    if (w.language_model_only && g.role == WeightRole::Vision) continue;  // --language-model-only: towers not loaded
    const double bytes = group_bytes(g, scheme, w.serving_dtype);
    all += bytes;
    const double share = bytes * tp_share(a, g, tp, ep_ranks);
    std::size_t s = 0;
    if (g.layer >= 0) {
      std::uint64_t end = 0;
      for (s = 0; s < parts.size(); ++s) {
        end += parts[s];
        if (static_cast<std::uint64_t>(g.layer) < end) break;
      }
    } else if (g.role == WeightRole::LmHead || g.name == "model.norm" || ends_with(g.name, "norm_f") ||
               ends_with(g.name, "ln_f") || ends_with(g.name, "final_layer_norm")) {
      s = pp - 1;  // the last stage computes the logits
    }
    stage[std::min<std::size_t>(s, pp - 1)] += share;
  }
  const double busiest = *std::max_element(stage.begin(), stage.end());
  // Scale the structure to the chosen total (exact when it came from the checkpoint's headers).
  const double scale = all > 0 ? static_cast<double>(w.bytes) / all : 1.0;
  return round_bytes(busiest * scale, "weights per GPU");
}

namespace {

struct Layout {
  std::uint64_t tp, pp;
};

// A workspace the attention reserves in the profile run and keeps (attention_workspace.hpp): on top of the peak.
void add_attention_workspace(VllmPlan& p, const VllmAttentionWorkspace& ws) {
  if (ws.bytes == 0) return;
  p.attention_workspace_bytes = ws.bytes;
  p.profile.activation_bytes += ws.bytes;
  p.profile.activation_formula += fmt::format(" + {}: {:.2f} GiB", ws.formula, to_gib(p.profile.activation_bytes));
}

// What moves the capture list: the batch limits, the GPU, and speculative decoding's decode batches (cudagraph.hpp).
VllmCaptureInputs capture_inputs(const VllmSettings& s, const VllmPlan& p, const Gpu& gpu) {
  VllmCaptureInputs in;
  in.version = s.version;
  in.max_num_seqs = p.max_num_seqs;
  in.max_num_batched_tokens = p.max_num_batched_tokens;
  in.compute_capability = gpu.compute_capability;
  in.uniform_decode_query_len = p.speculative.uniform_decode_query_len;
  in.draft_layers = p.speculative.draft_layers;
  in.unified_memory = vllm_unified_memory_gpu(gpu);
  return in;
}

// The KV cache layout with the drafter's layers and the state layers' speculative rows (speculative.hpp).
VllmKvLayout kv_layout(const ModelArch& a, const KvCacheSpec& kv, VllmKvSettings ks, const VllmSpeculativePlan& spec,
                       VllmPlanMemo* memo) {
  ks.num_speculative_tokens = spec.num_speculative_tokens;
  if (memo != nullptr) return memo->kv_layout(ks, spec.draft_layers);
  if (spec.draft_layers == 0) return vllm_kv_layout(a, kv, ks);
  return vllm_kv_layout(vllm_arch_with_draft_layers(a, spec.draft_layers), kv, ks);
}

// `memo`: null, or one that serves this model (memo.hpp); the steps it keeps give what they compute.
VllmPlan evaluate(const ModelArch& a, const WeightEstimate& w, const KvCacheSpec& kv, const Gpu& gpu,
                  const GpuMemory& total, const VllmSettings& s, Layout layout, double u, VllmPlanMemo* memo) {
  VllmPlan p;
  p.tensor_parallel_size = layout.tp;
  p.pipeline_parallel_size = layout.pp;
  p.data_parallel_size = s.data_parallel_size;
  p.gpus = layout.tp * layout.pp * s.data_parallel_size;
  p.nodes = nodes_for(p.gpus, s.gpus_per_node);
  p.gpu_memory_utilization = u;
  p.total_bytes = total.bytes;
  p.requested_bytes = round_bytes(static_cast<double>(total.bytes) * u, "requested memory");
  p.headroom_bytes = p.total_bytes - p.requested_bytes;

  const auto defaults = vllm_batch_defaults(to_gib(total.bytes), gpu.name, s.offline_llm_class, s.version);
  p.max_num_batched_tokens = s.max_num_batched_tokens.value_or(defaults.max_num_batched_tokens);
  p.max_num_seqs = s.max_num_seqs.value_or(defaults.max_num_seqs);
  p.batch_defaults_reason = s.max_num_batched_tokens && s.max_num_seqs ? "given" : defaults.reason;

  // --speculative-config (speculative.hpp): the drafter's weights, layers and decode batches of 1 + k tokens.
  p.speculative =
      plan_vllm_speculative(a, w, s.speculative, layout.tp, layout.pp, s.data_parallel_size, s.expert_parallel);
  p.warnings.insert(p.warnings.end(), p.speculative.warnings.begin(), p.speculative.warnings.end());
  if (!s.enforce_eager) {
    // The graphs vLLM captures and what they take (cudagraph.hpp): its estimate from v0.20, the pool rule of thumb
    // before, or --cudagraph-memory.
    const auto inputs = capture_inputs(s, p, gpu);
    p.cudagraph = memo != nullptr
                      ? memo->cudagraphs(s.compilation, inputs, layout.tp, layout.pp, s.cudagraph_memory)
                      : plan_vllm_cudagraphs(a, s.compilation, inputs, layout.tp, layout.pp, s.cudagraph_memory);
    p.cudagraph_bytes = p.cudagraph.bytes;
    p.cudagraph_estimated = p.cudagraph.estimated;
  }
  // MXFP4 experts on GPUs without native FP4 load larger than the checkpoint (profile.hpp, vllm_mxfp4_load_extra).
  const auto mxfp4 = vllm_mxfp4_load_extra(a, w.quantization.value_or(QuantScheme{}), gpu.compute_capability, s.version,
                                           layout.tp, layout.pp, s.data_parallel_size, s.expert_parallel);
  p.mxfp4_extra_bytes = mxfp4.extra_bytes;
  p.mxfp4_formula = mxfp4.formula;
  p.weights_bytes =
      (memo != nullptr ? memo->weights_per_gpu(layout.tp, layout.pp, s.data_parallel_size, s.expert_parallel)
                       : vllm_weights_per_gpu(a, w, layout.tp, layout.pp, s.data_parallel_size, s.expert_parallel)) +
      mxfp4.extra_bytes + p.speculative.draft_weight_bytes;
  // The rotary tables the model builds at load (rotary.hpp): "Model loading took" counts them with the parameters.
  std::optional<VllmRotaryTables> own_rotary;
  const VllmRotaryTables& rotary =
      memo != nullptr ? memo->rotary_tables() : own_rotary.emplace(vllm_rotary_tables(a, w.serving_dtype));
  p.rotary_bytes = rotary.bytes;
  p.rotary_formula = rotary.formula;
  p.weights_bytes += rotary.bytes;
  if (s.kv_cache_memory) {
    p.kv_cache_memory_given = true;
    p.available_kv_bytes = static_cast<std::int64_t>(*s.kv_cache_memory);
  } else {
    VllmProfileSettings ps;
    ps.dtype = w.serving_dtype;
    ps.tensor_parallel_size = layout.tp;
    ps.pipeline_parallel_size = layout.pp;
    ps.max_num_batched_tokens = p.max_num_batched_tokens;
    ps.max_num_seqs = p.max_num_seqs;
    ps.version = s.version;
    ps.flashinfer_sampler = s.flashinfer_sampler.value_or(vllm_default_flashinfer_sampler(s.version));
    // issue 14: the multimodal encoder's dummy batch (profile.cpp), bounded by the served length.
    ps.multimodal = s.multimodal;
    ps.language_model_only = s.language_model_only;
    ps.max_model_len = s.max_model_len.value_or(a.max_position_embeddings.value_or(0));
    // Unified memory (DGX Spark): vLLM counts host memory as non-PyTorch there (activation.hpp).
    ps.unified_memory = vllm_unified_memory_gpu(gpu);
    p.profile = memo != nullptr ? memo->profile(ps) : estimate_vllm_profile(a, ps);
    if (!p.profile.encoder.note.empty()) p.warnings.push_back(p.profile.encoder.note);  // issue 14
    if (ps.unified_memory) p.warnings.push_back(vllm_unified_memory_note(gpu, p.profile.non_torch_bytes));
    add_attention_workspace(p, vllm_attention_workspace(a, ps.max_model_len, p.max_num_batched_tokens));
    p.available_kv_bytes = static_cast<std::int64_t>(p.requested_bytes) - static_cast<std::int64_t>(p.weights_bytes) -
                           static_cast<std::int64_t>(p.profile.activation_bytes) -
                           static_cast<std::int64_t>(p.profile.non_torch_bytes);
    if (vllm_profiles_cudagraphs(s.version) && s.cudagraph_estimate && p.cudagraph_bytes > 0) {
      p.cudagraph_in_budget = true;
      p.available_kv_bytes -= static_cast<std::int64_t>(p.cudagraph_bytes);
    }
  }

  VllmKvSettings ks;
  ks.block_size = s.block_size;
  ks.tensor_parallel_size = layout.tp;
  ks.pipeline_parallel_size = layout.pp;
  ks.max_num_batched_tokens = p.max_num_batched_tokens;
  p.layout = kv_layout(a, kv, ks, p.speculative, memo);

  const std::uint64_t model_max = a.max_position_embeddings.value_or(0);
  p.model_max_len = model_max;
  p.max_model_len = s.max_model_len.value_or(model_max);
  if (s.max_model_len_auto) {
    // Newer vLLM's auto-fit: the model's maximum, or the largest length the cache holds.
    const std::uint64_t ceiling = model_max > 0 ? model_max : (1ULL << 24);
    auto at_max = vllm_kv_capacity(p.layout, p.available_kv_bytes, ceiling, p.max_num_batched_tokens);
    p.max_model_len = at_max.fits ? ceiling : at_max.estimated_max_model_len;
  }
  if (p.max_model_len == 0) p.max_model_len = 1;
  p.capacity = vllm_kv_capacity(p.layout, p.available_kv_bytes, p.max_model_len, p.max_num_batched_tokens);

  if (p.available_kv_bytes <= 0)
    p.not_fit_reasons.push_back(
        fmt::format("no memory is left for the KV cache ({:.2f} GiB): vLLM fails with \"No "
                    "available memory for the cache blocks\"",
                    static_cast<double>(p.available_kv_bytes) / static_cast<double>(kGiB)));
  else if (!p.capacity.fits)
    p.not_fit_reasons.push_back(
        fmt::format("max_model_len {} needs {:.2f} GiB of KV cache per GPU, more than the "
                    "{:.2f} GiB available; vLLM would suggest max_model_len {}",
                    p.max_model_len, to_gib(p.capacity.needed_bytes),
                    to_gib(static_cast<std::uint64_t>(p.available_kv_bytes)), p.capacity.estimated_max_model_len));
  else if (p.capacity.max_concurrency + 1e-9 < static_cast<double>(s.concurrency))
    p.not_fit_reasons.push_back(fmt::format("{} sequences of {} tokens do not fit at once: the cache holds {:.2f}",
                                            s.concurrency, p.max_model_len, p.capacity.max_concurrency));
  // v0.20+: hybrid state layers need one block per decode sequence before FULL graphs are captured (activation.hpp).
  if (p.available_kv_bytes > 0 && p.capacity.fits)
    if (auto refusal = vllm_mamba_blocks_refusal(a, s.version, p.cudagraph.capture.mode, s.enforce_eager,
                                                 p.max_num_seqs, p.capacity.num_gpu_blocks))
      p.not_fit_reasons.push_back(*refusal);
  if (!a.tp_valid(layout.tp))
    p.not_fit_reasons.push_back(
        fmt::format("tensor parallel size {} does not divide the {} attention heads (or is "
                    "incompatible with the {} KV heads): vLLM refuses it",
                    layout.tp, a.num_attention_heads, a.num_key_value_heads));
  if (!gpu.cuda_served) p.not_fit_reasons.push_back(fmt::format("vLLM's CUDA path does not serve {}", gpu.name));
  p.fits = p.not_fit_reasons.empty();
  return p;
}

}  // namespace

namespace {

// The length the GPU search holds when none is asked for: KAITO's default request.
constexpr std::uint64_t kSearchContext = 2048;
// The filled length is rounded down to a multiple of this (as KAITO's controller rounds its lengths).
constexpr std::uint64_t kFillRounding = 256;
// The KV cache a filled length leaves unused: the estimator's calibration tolerance, max(5%, 0.5 GiB) of the
// available KV cache (README, accuracy), so that a plan within the estimator's error is still one vLLM accepts.
constexpr double kFillMarginShare = 0.05;
constexpr double kFillMarginGiB = 0.5;

VllmPlan pinned_layout(const ModelArch& a, const WeightEstimate& w, const KvCacheSpec& kv, const Gpu& gpu,
                       const GpuMemory& total, const VllmSettings& s, double u, VllmPlanMemo* memo);
VllmPlan smallest_layout(const ModelArch& a, const WeightEstimate& w, const KvCacheSpec& kv, const Gpu& gpu,
                         const GpuMemory& total, const VllmSettings& s, double u, VllmPlanMemo* memo);
VllmPlan fill_context(const ModelArch& a, const WeightEstimate& w, const KvCacheSpec& kv, const Gpu& gpu,
                      const GpuMemory& total, VllmSettings s, double u, const VllmPlan& found, VllmPlanMemo* memo);

}  // namespace

VllmPlan plan_vllm(const ModelArch& a, const WeightEstimate& w, const KvCacheSpec& kv, const Gpu& gpu,
                   const GpuMemory& total, const VllmSettings& s) {
  return plan_vllm(a, w, kv, gpu, total, s, nullptr);
}

VllmPlan plan_vllm(const ModelArch& a, const WeightEstimate& w, const KvCacheSpec& kv, const Gpu& gpu,
                   const GpuMemory& total, const VllmSettings& s, VllmPlanMemo* memo) {
  if (memo != nullptr && !memo->serves(a, w, kv)) memo = nullptr;  // made for another model
  const double u = s.gpu_memory_utilization.value_or(vllm_default_gpu_memory_utilization(s.version));
  if (!(u > 0 && u <= 1)) fail_input(fmt::format("--gpu-memory-utilization: {} is outside (0, 1]", u));
  if (s.concurrency == 0) fail_input("--concurrency: must be at least 1");
  if (s.max_num_batched_tokens && s.max_num_seqs && *s.max_num_batched_tokens < *s.max_num_seqs)
    fail_input("--max-num-batched-tokens must be at least --max-num-seqs, as vLLM requires");

  std::vector<std::string> caveats;
  if (vllm_profiles_cudagraphs(s.version) && s.cudagraph_estimate && !s.kv_cache_memory && !s.enforce_eager &&
      !s.cudagraph_memory && vllm_cudagraph_mode(s.compilation, s.version) != CudagraphMode::None)
    caveats.push_back(fmt::format(
        "vLLM {} subtracts its CUDA-graph estimate from the KV budget; the estimate here follows vLLM's capture list "
        "with costs fitted on logged estimates (data/vllm_cudagraph_fit.json): pass --cudagraph-memory with the "
        "\"Estimated CUDA graph memory\" vLLM logs for exact figures{}",
        s.version.str(),
        vllm_breakable_cudagraph_arch(a)
            ? " (this architecture runs breakable CUDA graphs, uncompiled and in several segments per layer: the "
              "per-graph cost is scaled by a factor fitted on three such logs, which it meets within 20%)"
            : ""));
  for (const auto& key : s.compilation.ignored_keys)
    caveats.push_back(fmt::format("--compilation-config: \"{}\" is not modelled and was ignored", key));
  for (const auto& key : s.speculative.ignored_keys)
    caveats.push_back(fmt::format("--speculative-config: \"{}\" is not modelled and was ignored", key));
  // issue 14: the encoder's profile run is modelled where the dummy item is known (src/model/multimodal.cpp).
  if (a.multimodal && !s.kv_cache_memory && !s.language_model_only) {
    if (a.text_model_type == "mllama_text_model")
      caveats.push_back(
          "vLLM runs Mllama (Llama 3.2 Vision) on its V0 engine only, which this estimator does not model, and no "
          "release after v0.10.2 serves it (vLLM's _PREVIOUSLY_SUPPORTED_MODELS)");
    else if (!a.mm_encoder)
      caveats.push_back(fmt::format(
          "the multimodal encoder's profile run is not modelled for {}: the activation peak may be underestimated "
          "(--language-model-only or --skip-mm-profiling take it out)",
          a.model_type.empty() ? a.architecture : a.model_type));
    else if (!s.multimodal.skip_mm_profiling)
      caveats.push_back(
          "the encoder's pass over vLLM's dummy batch is counted from its blocks' MLP rows and its pixel values; "
          "its attention's copies, which depend on the release, are taken to be no larger");
  }
  // KAITO's shape when no length is asked for: the fewest GPUs that hold a short request, then the longest
  // context those GPUs hold, up to the model's maximum.
  const bool fill = !s.max_model_len && !s.max_model_len_auto;
  VllmSettings search = s;
  if (fill) search.max_model_len = std::min(kSearchContext, a.max_position_embeddings.value_or(kSearchContext));
  VllmPlan p = s.tensor_parallel_size || s.pipeline_parallel_size
                   ? pinned_layout(a, w, kv, gpu, total, search, u, memo)
                   : smallest_layout(a, w, kv, gpu, total, search, u, memo);
  if (fill && p.fits) p = fill_context(a, w, kv, gpu, total, search, u, p, memo);
  p.warnings.insert(p.warnings.end(), caveats.begin(), caveats.end());
  return p;
}

namespace {

VllmPlan pinned_layout(const ModelArch& a, const WeightEstimate& w, const KvCacheSpec& kv, const Gpu& gpu,
                       const GpuMemory& total, const VllmSettings& s, double u, VllmPlanMemo* memo) {
  VllmPlan p = evaluate(a, w, kv, gpu, total, s,
                        Layout{s.tensor_parallel_size.value_or(1), s.pipeline_parallel_size.value_or(1)}, u, memo);
  p.pinned = true;
  return p;
}

// The longest length, a multiple of 256 below the model's maximum, that `concurrency` requests can each have in
// the plan's cache with the estimator's calibrated error to spare: the available KV cache less max(5%, 0.5 GiB)
// (none with --kv-cache-memory, a budget vLLM takes as given). Re-evaluated there so every figure is at that length.
VllmPlan fill_context(const ModelArch& a, const WeightEstimate& w, const KvCacheSpec& kv, const Gpu& gpu,
                      const GpuMemory& total, VllmSettings s, double u, const VllmPlan& found, VllmPlanMemo* memo) {
  const std::uint64_t ceiling = a.max_position_embeddings.value_or(1ULL << 24);
  const std::uint64_t searched = *s.max_model_len;  // the search held this many tokens, without the margin
  const auto left = static_cast<double>(found.available_kv_bytes);
  const double margin =
      found.kv_cache_memory_given ? 0.0 : std::max(kFillMarginShare * left, kFillMarginGiB * static_cast<double>(kGiB));
  const std::uint64_t longest =
      vllm_longest_length(found.layout, found.max_num_batched_tokens, s.concurrency, left - margin, ceiling);
  std::uint64_t len = ceiling;
  bool within_margin = false;
  if (longest < ceiling) {
    // A round length: vLLM's own check is exact, the estimate is not.
    len = longest >= 2 * kFillRounding ? longest / kFillRounding * kFillRounding : longest;
    if (len < searched) {
      len = searched;  // the request the GPUs were chosen for still fits, but with less than the margin to spare
      within_margin = true;
    }
  }
  s.max_model_len = len;
  VllmPlan p =
      evaluate(a, w, kv, gpu, total, s, Layout{found.tensor_parallel_size, found.pipeline_parallel_size}, u, memo);
  p.pinned = found.pinned;
  p.context_filled = true;
  p.fill_margin_bytes = static_cast<std::uint64_t>(margin);
  if (within_margin)
    p.warnings.push_back(fmt::format(
        "max_model_len {} fits the estimate with less than its calibrated error (max(5%, 0.5 GiB) = {:.2f} GiB of KV "
        "cache) to spare: vLLM may refuse it; more GPUs, an fp8 KV cache or --enforce-eager give room",
        len, margin / static_cast<double>(kGiB)));
  return p;
}

VllmPlan smallest_layout(const ModelArch& a, const WeightEstimate& w, const KvCacheSpec& kv, const Gpu& gpu,
                         const GpuMemory& total, const VllmSettings& s, double u, VllmPlanMemo* memo) {
  // Smallest valid layout: TP within a node (a divisor of the heads, compatible with the KV heads), then PP.
  const auto gpn = static_cast<std::uint64_t>(std::max(1, s.gpus_per_node));
  std::vector<std::uint64_t> tps;
  for (std::uint64_t tp = 1; tp <= gpn; ++tp)
    if (a.tp_valid(tp)) tps.push_back(tp);
  std::vector<Layout> tp_only;
  for (auto tp : tps) tp_only.push_back({tp, 1});
  const std::uint64_t widest = tps.back();
  std::vector<Layout> with_pp;
  for (std::uint64_t pp = 2; pp <= std::min<std::uint64_t>(a.num_hidden_layers, 128); ++pp)
    with_pp.push_back({widest, pp});
  // Fewest GPUs first, TP before PP among equals: both lists are in that order already, and merge keeps the first
  // list's elements first among equals (what a stable sort of the two, one after the other, gives).
  std::vector<Layout> layouts(tp_only.size() + with_pp.size());
  std::merge(tp_only.begin(), tp_only.end(), with_pp.begin(), with_pp.end(), layouts.begin(),
             [](const Layout& x, const Layout& y) { return x.tp * x.pp < y.tp * y.pp; });
  VllmPlan last;
  for (const auto& l : layouts) {
    last = evaluate(a, w, kv, gpu, total, s, l, u, memo);
    if (last.fits || !gpu.cuda_served) return last;
  }
  last.not_fit_reasons.push_back(
      fmt::format("no layout up to TP {} x PP {} fits", last.tensor_parallel_size, last.pipeline_parallel_size));
  return last;
}

}  // namespace

PlanSummary vllm_summary(const VllmPlan& v, const VllmSettings& s) {
  PlanSummary sum;
  sum.method = Method::Vllm;
  sum.fits = v.fits;
  sum.not_fit_reasons = v.not_fit_reasons;
  sum.pinned = v.pinned;
  sum.gpus = v.gpus;
  sum.gpus_needed = v.gpus;
  sum.nodes = v.nodes;
  sum.tensor_parallel_size = v.tensor_parallel_size;
  sum.pipeline_parallel_size = v.pipeline_parallel_size;
  sum.data_parallel_size = v.data_parallel_size;
  sum.max_model_len_requested = v.max_model_len;
  sum.max_model_len = v.capacity.fits ? v.max_model_len : v.capacity.estimated_max_model_len;
  sum.max_model_len_by_memory = static_cast<std::int64_t>(sum.max_model_len);
  sum.max_model_len_limited_by = !v.capacity.fits                     ? "memory"
                                 : !v.context_filled                  ? "requested"
                                 : v.max_model_len == v.model_max_len ? "max_position_embeddings"
                                                                      : "memory";

  const auto kv_bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(v.available_kv_bytes, 0));
  const std::string weights_detail =
      v.rotary_bytes > 0 ? "on the busiest GPU, with its " + v.rotary_formula : std::string("on the busiest GPU");
  sum.gpu_memory_bytes = v.total_bytes;
  if (v.kv_cache_memory_given) {
    sum.memory = {{"weights", v.weights_bytes, weights_detail},
                  {"KV cache", kv_bytes, "--kv-cache-memory (profiling skipped)"}};
  } else {
    const std::uint64_t draft = v.speculative.draft_weight_bytes;  // --speculative-config: its own term
    sum.memory = {{"weights", v.weights_bytes - draft, weights_detail}};
    if (draft > 0) sum.memory.push_back({"draft weights", draft, v.speculative.draft_weights_formula});
    sum.memory.push_back({"activation peak", v.profile.activation_bytes, v.profile.activation_formula});
    sum.memory.push_back({"non-PyTorch", v.profile.non_torch_bytes, v.profile.non_torch_formula});
    if (v.cudagraph_in_budget) sum.memory.push_back({"CUDA graphs", v.cudagraph_bytes, v.cudagraph.formula});
    sum.memory.push_back({"KV cache", kv_bytes, "available KV cache memory"});
  }
  for (const auto& term : sum.memory) sum.memory_total_bytes += term.bytes;
  sum.capacity_bytes = v.total_bytes;
  sum.budget_bytes = v.requested_bytes;
  sum.warnings = v.warnings;
  sum.warnings.insert(sum.warnings.end(), v.layout.notes.begin(), v.layout.notes.end());

  auto add = [&sum](const char* flag, const auto& value) {
    sum.command.emplace_back(flag);
    sum.command.push_back(fmt::format("{}", value));
  };
  if (v.tensor_parallel_size > 1) add("--tensor-parallel-size", v.tensor_parallel_size);
  if (v.pipeline_parallel_size > 1) add("--pipeline-parallel-size", v.pipeline_parallel_size);
  if (v.data_parallel_size > 1) add("--data-parallel-size", v.data_parallel_size);
  if (s.expert_parallel) sum.command.emplace_back("--enable-expert-parallel");
  add("--max-model-len", v.max_model_len);
  if (v.kv_cache_memory_given) add("--kv-cache-memory", static_cast<std::uint64_t>(v.available_kv_bytes));
  else add("--gpu-memory-utilization", v.gpu_memory_utilization);
  if (s.max_num_batched_tokens) add("--max-num-batched-tokens", v.max_num_batched_tokens);
  if (s.max_num_seqs) add("--max-num-seqs", v.max_num_seqs);
  if (s.block_size) add("--block-size", s.block_size);
  if (s.enforce_eager) sum.command.emplace_back("--enforce-eager");
  if (s.language_model_only) sum.command.emplace_back("--language-model-only");
  if (!s.multimodal.limit_per_prompt_text.empty()) add("--limit-mm-per-prompt", s.multimodal.limit_per_prompt_text);
  if (s.multimodal.skip_mm_profiling) sum.command.emplace_back("--skip-mm-profiling");  // issue 14
  if (s.speculative.enabled()) add("--speculative-config", s.speculative.text);
  // The CUDA-graph settings that moved the capture list, as vLLM takes them.
  if (!s.compilation.compilation_config.empty()) add("--compilation-config", s.compilation.compilation_config);
  if (s.compilation.optimization_level) sum.command.push_back(fmt::format("-O{}", *s.compilation.optimization_level));
  if (s.compilation.capture_sizes && s.compilation.compilation_config.empty()) {
    std::string sizes;
    for (auto n : *s.compilation.capture_sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(n);
    add("--cudagraph-capture-sizes", sizes);
  }
  if (s.compilation.max_capture_size && s.compilation.compilation_config.empty())
    add("--max-cudagraph-capture-size", *s.compilation.max_capture_size);
  if (v.cudagraph_in_budget)
    if (auto advice = vllm_cudagraph_advice(v.cudagraph, v.layout)) sum.warnings.push_back(*advice);
  if (v.cudagraph_in_budget && v.cudagraph.extrapolated)
    sum.warnings.push_back(fmt::format(
        "the CUDA-graph estimate ({:.2f} GiB) extrapolates the fitted per-graph cost past the largest model in the "
        "logs (64 layers x 5120 hidden): pass the \"Estimated CUDA graph memory\" vLLM logs with --cudagraph-memory",
        to_gib(v.cudagraph_bytes)));
  if (v.mxfp4_extra_bytes > 0) sum.warnings.push_back("weights " + v.mxfp4_formula);
  // A table this large surprises: it follows max_position_embeddings, not --max-model-len (Llama 4 Scout: 2.5 GiB).
  if (v.rotary_bytes >= kGiB)
    sum.warnings.push_back(fmt::format(
        "vLLM builds {:.2f} GiB of rotary tables on every GPU, sized by the config's max_position_embeddings ({}) "
        "whatever --max-model-len is: counted with the weights",
        to_gib(v.rotary_bytes), v.model_max_len));

  sum.figures = {{"vllm_available_kv_cache_bytes", std::to_string(v.available_kv_bytes)},
                 {"vllm_kv_cache_tokens", std::to_string(v.capacity.kv_cache_tokens)},
                 {"vllm_max_concurrency", fmt::format("{:.2f}", v.capacity.max_concurrency)}};
  return sum;
}

}  // namespace vramcalc
