// What vLLM's profile run measures besides the weights, per GPU (vLLM's vllm/v1/worker/gpu_worker.py,
// determine_available_memory, and vllm/utils memory profiling; README, "The vLLM-faithful estimator").
//
// The model, in five lines (T = max_num_batched_tokens, R = min(max_num_seqs, T), b = activation dtype bytes):
//   forward  F = f x T x W x b      W = the widest per-GPU intermediate of one decoder layer: max(intermediate/TP,
//                                   experts_per_token x moe_intermediate/TP, (q + 2 kv heads) x head_dim/TP, hidden)
//   sampler  S = s x R x vocab x 4 + T x hidden x b   (float32 logits and the sampler's vocab-sized copies, while the
//                                   T hidden states the forward returned are still alive; last pipeline stage only)
//   activation = max(F, S) + c      (F + c off the last stage)
//   non-torch  = n0 + n1 x log2(TP) before v0.12; n0 from v0.12 (NCCL moved into the baseline snapshot); on a
//                unified-memory GPU (DGX Spark, Jetson, Thor) the median the logs show there, whatever the model
//                (activation.hpp, kVllmUnifiedNonTorchGiB: vLLM counts host allocations as non-torch memory there)
//
// Why a max and not a sum: the profile run's torch peak is the highest point in time, and the forward pass's
// intermediates are freed before the sampler pass starts. The logs show it: Qwen3-0.6B and Qwen3-32B (same vocab,
// 8x wider MLP) peak at 5.56 and 5.64 GiB, and Qwen3-32B at TP 2 peaks at the same 5.64 GiB although its MLP per GPU
// halves. With H100-class defaults (max_num_seqs 1024) the sampler pass sets the peak for every dense model logged;
// the forward term takes over for small max_num_seqs, long batches or very wide MLPs (Mistral-Small-3.2: 32768).
// The sampler pass computes logits for all R rows over the full vocabulary on every TP rank (the vocab-parallel LM
// head is gathered), so S does not shrink with TP.
//
// Two sampler paths: the PyTorch-native top-k/top-p sorts the float32 logits (sorted values, int64 indices, sort
// scratch, softmax, cumsum, scatter, the exponential draw: the fit finds about 9.5 vocab-sized float32 copies), while
// FlashInfer's kernel needs about 2.4. vLLM used FlashInfer by default where it was installed (its images) until
// PR #26859 turned it off (merged 2025-10-15, first in v0.11.1); installs without FlashInfer always took the native
// path (a v0.10.1 pip install, vllm#23278, matches it). The default here is the native path: the larger figure, and
// right for v0.11.1 and later. (A later PR, #40376, turned FlashInfer back on; its release is not confirmed.)
//
// Where the numbers come from (scripts/fit_vllm_profile.py writes data/vllm_profile_fit.json; a test checks that the
// constants below equal it, so refit, then copy the coefficients here):
//   f            least squares on the H100 transformers probe (tests/data/measured/h100_transformers_probe.jsonl):
//                the peak of one forward pass over T tokens is about 4 x T x intermediate x 2 B for every dense model
//                whose peak grows linearly with T (sliding-window and eager-attention models grow faster, and
//                transformers' MoE loop is not vLLM's fused kernel: both left out). It predicts Mistral-Small-3.2's
//                logged 2.12 GiB, whose peak is the forward pass's, to within 0.03 GiB without that record (the
//                encoder cache of its two dummy images, issue 14, adds 0.06 GiB: 2.18 GiB).
//   s, s_fi, c   least squares on the activation peaks vLLM logged (tests/data/vllm_calibration.jsonl), each record
//                on the branch of the max it falls on; s_fi from the A100 pair whose total the two utilizations give.
//   n0, n1       least squares on the logged non-torch increase (V1 logs; TP 1 and 2 only, so log2 growth past TP 2
//                is an assumption: one more level of NCCL buffers per doubling of the communicator).
// Multimodal models (issue 14): before the decoder's dummy run, vLLM runs the encoder over a dummy batch of its largest
// items and keeps the outputs in the encoder cache until the run ends (GPUModelRunner.profile_run; the batch from
// MultiModalBudget, vllm/multimodal/budget.py, and compute_mm_encoder_budget, vllm/v1/core/encoder_cache_manager.py):
//   budget   B = max(max_num_batched_tokens, tokens per item)   (the compute budget and the cache size, both defaulted
//                                                                 to max_num_batched_tokens, each raised to one item)
//   items    K = max(1, min(B / tokens per item, max_num_seqs x max(1, min(limit, max_model_len / tokens per item))))
//   encoder  E = K x encoder tokens per item x (3 x hidden + 2 or 3 x intermediate/TP) x b   (the blocks' MLP moment)
//   input    P = K x encoder tokens per item x pixel values per token x b   (held through the whole run)
//   cache    O = K x tokens per item x the language model's hidden x b     (from the encoder's end to the run's)
//   activation = max(E, max(F, S) + O) + P + c
// E, P and O are counted from vLLM's code, not fitted (src/engines/vllm/activation.cpp: the v0.26 / v0.27 logs of
// Qwen3.8-27B, whose peak is the encoder's, give 1.5-1.8 GiB where E + P + c is 1.73 GiB). The encoder's linear layers
// are sharded over TP as vLLM shards them by default (mm_encoder_tp_mode "weights"). The model's dummy item comes from
// src/model/multimodal.cpp; where it is not known the plan says the encoder pass is not modelled.
// Gated DeltaNet hybrids (Qwen 3.5 / 3.6 / 3.8): the forward branch is the larger of F and the linear-attention
// layers' chunked prefill over T tokens (activation.cpp, vllm_gdn_prefill).
// Not modelled: attention workspaces (the v0.10 profile run builds no attention metadata), MoE expert-parallel
// buffers, CUDA graphs (outside the budget before v0.21).
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/activation.hpp"
#include "vramcalc/engines/vllm/kv_pages.hpp"
#include "vramcalc/model/quantization.hpp"

namespace vramcalc {

namespace {

// Fitted by scripts/fit_vllm_profile.py; must equal data/vllm_profile_fit.json "coefficients" (tests check it).
constexpr double kForwardCopies = 4.0867;             // f: copies of T x W x b the forward pass holds at its peak
constexpr double kSamplerCopiesNative = 9.4621;       // s: float32 R x vocab copies, PyTorch-native top-k/top-p
constexpr double kSamplerCopiesFlashInfer = 2.352;    // s_fi: the same with FlashInfer's sampling kernel
constexpr double kActivationConstantGiB = 0.0726;     // c
constexpr double kNonTorchBaseGiB = 0.1338;           // n0: cuBLAS workspaces and the like, any TP
constexpr double kNonTorchPerTpDoublingGiB = 0.4063;  // n1: NCCL + custom all-reduce buffers per doubling of TP
// Fixed by construction, not fitted.
constexpr double kHiddenStateCopies = 1.0;  // the forward's output hidden states alive during the sampler pass
constexpr double kLogitBytes = 4.0;         // the sampler works on float32 logits

double gib(double bytes) { return bytes / static_cast<double>(kGiB); }

// The widest per-GPU intermediate of one decoder layer, and what it is (`what`).
double decoder_width(const ModelArch& arch, std::uint64_t tensor_parallel_size, std::string& what) {
  const double tp = static_cast<double>(tensor_parallel_size);
  const double mlp = static_cast<double>(arch.intermediate_size) / tp;
  const double moe = static_cast<double>(arch.experts_per_token * arch.moe_intermediate_size) / tp;
  const double q_heads = static_cast<double>(arch.num_attention_heads) / tp;
  const double kv_heads = std::max(1.0, std::floor(static_cast<double>(arch.num_key_value_heads) / tp));
  const double qkv = (q_heads + 2.0 * kv_heads) * static_cast<double>(arch.head_dim);
  const std::string per_tp = tensor_parallel_size > 1 ? "/TP" : "";
  double width = static_cast<double>(arch.hidden_size);
  what = "hidden";
  if (mlp > width) {
    width = mlp;
    what = "intermediate" + per_tp;
  }
  if (moe > width) {
    width = moe;
    what = "experts_per_token x moe_intermediate" + per_tp;
  }
  if (qkv > width) {
    width = qkv;
    what = "(q + 2 kv heads) x head_dim" + per_tp;
  }
  return width;
}

bool parse_component(std::string_view s, int& out) {
  if (s.empty() || s.size() > 6) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

bool VllmVersion::at_least(int maj, int min, int pat) const {
  if (major != maj) return major > maj;
  if (minor != min) return minor > min;
  return patch >= pat;
}

std::string VllmVersion::str() const { return fmt::format("{}.{}.{}", major, minor, patch); }

VllmVersion parse_vllm_version(const std::string& text) {
  const auto bad = [&]() {
    fail_input(fmt::format("--vllm-version: '{}' is not a vLLM release like 0.11, 0.10.1 or v0.10.1.1", text));
  };
  std::string_view s(text);
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) s.remove_prefix(1);
  int parts[4] = {0, 0, 0, 0};
  int n = 0;
  while (true) {
    const auto dot = s.find('.');
    const auto piece = s.substr(0, dot);
    if (n == 4 || !parse_component(piece, parts[n])) bad();
    ++n;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  if (n < 2) bad();
  VllmVersion v;
  v.major = parts[0];
  v.minor = parts[1];
  v.patch = parts[2];  // a fourth (build) component, as in 0.10.1.1, does not change the accounting
  return v;
}

bool vllm_profiles_cudagraphs(const VllmVersion& v) { return v.at_least(0, kCudagraphProfilingMinor); }

double vllm_default_gpu_memory_utilization(const VllmVersion& v) {
  // 0.90 for most of vLLM's history; 0.92 from the release that subtracts the CUDA-graph estimate (PR #38284 raised
  // both together, "to preemptively address the impact on this parameter"; vllm/config/cache.py
  // `gpu_memory_utilization: float = Field(default=0.92, gt=0, le=1)` at v0.25.0 and v0.27.1).
  return vllm_profiles_cudagraphs(v) ? 0.92 : 0.90;
}

bool vllm_default_flashinfer_sampler(const VllmVersion& v) {
  if (v.at_least(0, kCudagraphProfilingMinor)) return true;  // PR #40376, in the v0.20.0 images' logs
  return v.at_least(0, 11) && !v.at_least(0, 11, 1);         // v0.11.0 only: PR #26859 turned it off in v0.11.1
}

VllmBatchDefaults vllm_batch_defaults(double gpu_total_gib, const std::string& gpu_name, bool offline_llm_class,
                                      const VllmVersion& version) {
  // The same table from v0.8 (V1 default) on, plus a >= 160 GiB tier from v0.28.0; V0 releases are not modelled.
  std::string lower = gpu_name;
  lower = ascii_lower(lower);
  // vLLM reads the total through NVML; unified-memory parts (GB10) answer NotSupported and count as 0 bytes.
  const bool unified = lower.find("gb10") != std::string::npos || lower.find("dgx spark") != std::string::npos;
  const double seen_gib = unified ? 0.0 : gpu_total_gib;
  const bool large = seen_gib >= 70.0 && lower.find("a100") == std::string::npos;
  const bool largest = large && seen_gib >= 160.0 && version.at_least(0, 28);
  VllmBatchDefaults d;
  d.max_num_seqs = large ? 1024 : 256;
  if (large) d.max_num_batched_tokens = offline_llm_class || largest ? 16384 : 8192;
  else d.max_num_batched_tokens = offline_llm_class ? 8192 : 2048;
  const std::string gpu_class =
      unified   ? "unified-memory GPU (NVML reports no total: vLLM's small defaults)"
      : largest ? "B200-class GPU (>= 160 GiB, vLLM 0.28+)"
      : large   ? "H100-class GPU (>= 70 GiB, not A100)"
                : (seen_gib >= 70.0 ? "A100 (excluded from the large defaults)" : "GPU under 70 GiB");
  d.reason = fmt::format("{}, {}: max_num_batched_tokens {}, max_num_seqs {}", gpu_class,
                         offline_llm_class ? "offline LLM class" : "OpenAI API server", d.max_num_batched_tokens,
                         d.max_num_seqs);
  return d;
}

VllmProfileEstimate estimate_vllm_profile(const ModelArch& arch, const VllmProfileSettings& s) {
  if (s.max_num_batched_tokens == 0) fail_input("--max-num-batched-tokens: must be at least 1");
  if (s.max_num_seqs == 0) fail_input("--max-num-seqs: must be at least 1");
  if (s.tensor_parallel_size == 0 || s.pipeline_parallel_size == 0) fail_input("parallel sizes must be positive");

  const double tp = static_cast<double>(s.tensor_parallel_size);
  const double t = static_cast<double>(s.max_num_batched_tokens);
  const double r = static_cast<double>(std::min(s.max_num_seqs, s.max_num_batched_tokens));
  const double b = dtype_bytes(s.dtype);
  const double hidden = static_cast<double>(arch.hidden_size);
  const double vocab = static_cast<double>(arch.vocab_size);

  std::string width_what;
  const double width = decoder_width(arch, s.tensor_parallel_size, width_what);

  const double c = kActivationConstantGiB * static_cast<double>(kGiB);
  // The decoder's forward: its widest layer with the fitted copies, or a Gated DeltaNet layer's chunked prefill.
  const VllmGdnPrefill gdn = vllm_gdn_prefill(arch, s.max_num_batched_tokens, s.tensor_parallel_size, b);
  const double dense = kForwardCopies * t * width * b;
  const double forward = std::max(dense, static_cast<double>(gdn.bytes));
  const double copies = s.flashinfer_sampler ? kSamplerCopiesFlashInfer : kSamplerCopiesNative;
  const double logits = copies * r * vocab * kLogitBytes;
  const double held = kHiddenStateCopies * t * hidden * b;
  const double sampler = logits + held;

  VllmProfileEstimate e;
  std::string fwd_text = fmt::format("forward {:.2f} x {} tokens x {:.0f} ({}) x {:g} B = {:.2f} GiB", kForwardCopies,
                                     s.max_num_batched_tokens, width, width_what, b, gib(dense));
  if (gdn.bytes > 0) fwd_text = fmt::format("max({}, {})", fwd_text, gdn.formula);
  // issue 14: the multimodal encoder's pass, held against the decoder's branches plus its outputs (the encoder cache
  // only exists once the encoder is done), and its pixel values, held throughout.
  e.encoder = estimate_vllm_encoder_profile(arch, s);
  const bool enc = e.encoder.profiled;
  const double encoder = enc ? static_cast<double>(e.encoder.forward_bytes) : 0.0;
  const double enc_held = enc ? static_cast<double>(e.encoder.cache_bytes) : 0.0;
  const double enc_input = enc ? static_cast<double>(e.encoder.input_bytes) : 0.0;
  const std::string enc_branch = enc ? e.encoder.formula + ", " : std::string();
  const std::string enc_cache = enc ? fmt::format(" + encoder cache {:.2f} GiB", gib(enc_held)) : std::string();
  const std::string enc_in = enc && enc_input > 0 ? " + " + e.encoder.input_formula : std::string();
  if (s.last_pipeline_stage) {
    const double peak = std::max(encoder, std::max(forward, sampler) + enc_held) + enc_input + c;
    e.activation_bytes = round_bytes(peak, "activation peak");
    e.sampler_bytes = round_bytes(
        std::max(0.0, std::max(forward, sampler) + enc_held - std::max(encoder, forward + enc_held)), "sampler pass");
    const std::string decoder = fmt::format(
        "max({}, sampler {:.2f} x {} seqs x {} vocab x 4 B ({}) + {} tokens x {} hidden x {:g} B = {:.2f} GiB)",
        fwd_text, copies, static_cast<std::uint64_t>(r), arch.vocab_size,
        s.flashinfer_sampler ? "FlashInfer top-k/top-p" : "PyTorch top-k/top-p", s.max_num_batched_tokens,
        arch.hidden_size, b, gib(sampler));
    e.activation_formula =
        fmt::format("{}{} + {:.2f} GiB = {:.2f} GiB", enc ? "max(" + enc_branch + decoder + enc_cache + ")" : decoder,
                    enc_in, kActivationConstantGiB, gib(peak));
  } else {
    const double peak = std::max(encoder, forward + enc_held) + enc_input + c;
    e.activation_bytes = round_bytes(peak, "activation peak");
    e.sampler_bytes = 0;
    e.activation_formula =
        fmt::format("{}{}{}{}{} + {:.2f} GiB = {:.2f} GiB (not the last pipeline stage: no sampler pass)",
                    enc ? "max(" + enc_branch : std::string(), fwd_text, enc_cache, enc ? ")" : "", enc_in,
                    kActivationConstantGiB, gib(peak));
  }

  if (s.unified_memory) {
    // vLLM reads free memory as the host's MemAvailable there: host allocations count (activation.hpp).
    e.non_torch_bytes = round_bytes(kVllmUnifiedNonTorchGiB * static_cast<double>(kGiB), "non-torch memory");
    e.non_torch_formula = fmt::format(
        "{:.2f} GiB on a unified-memory GPU (vLLM measures the host's MemAvailable, so what the host allocates while "
        "vLLM loads and profiles counts): the median of three DGX Spark logs, 2.23 (Qwen3-0.6B), 3.61 and 4.64 GiB "
        "(Qwen3.8-27B), where a discrete GPU shows {:.2f} GiB; it varies with the host by about +-1.2 GiB",
        kVllmUnifiedNonTorchGiB, kNonTorchBaseGiB);
  } else if (s.version.at_least(0, 12)) {
    e.non_torch_bytes = round_bytes(kNonTorchBaseGiB * static_cast<double>(kGiB), "non-torch memory");
    e.non_torch_formula = fmt::format(
        "{:.2f} GiB (vLLM {} initialises NCCL before its baseline snapshot, so TP {} adds no non-torch increase)",
        kNonTorchBaseGiB, s.version.str(), s.tensor_parallel_size);
  } else {
    const double levels = std::log2(tp);
    const double nt = kNonTorchBaseGiB + kNonTorchPerTpDoublingGiB * levels;
    e.non_torch_bytes = round_bytes(nt * static_cast<double>(kGiB), "non-torch memory");
    e.non_torch_formula = fmt::format(
        "{:.2f} GiB + {:.2f} GiB x log2(TP {}) = {:.2f} GiB (NCCL and custom all-reduce buffers are "
        "created after vLLM {}'s baseline snapshot)",
        kNonTorchBaseGiB, kNonTorchPerTpDoublingGiB, s.tensor_parallel_size, nt, s.version.str());
  }
  return e;
}

namespace {

// One item of the profiled modality: --limit-mm-per-prompt's width x height for a dynamic-resolution tower (the
// placeholder tokens of that image, up to the processor's largest), else the largest item.
std::uint64_t item_tokens(const MultimodalEncoder& m, const VllmMmLimit* limit, std::string& how) {
  if (limit == nullptr || !limit->width || !limit->height) return m.tokens_per_item;
  if (m.pixels_per_token == 0) {
    how =
        "--limit-mm-per-prompt's width and height are not modelled for this tower (it resizes every image to one "
        "size): the largest item is assumed";
    return m.tokens_per_item;
  }
  const std::uint64_t pixels = std::min(*limit->width * *limit->height, m.max_pixels);
  return std::max<std::uint64_t>(1, pixels / m.pixels_per_token);
}

// The modality vLLM profiles, its limit, and a note when the dummy item's modality is not the one modelled.
struct ProfiledModality {
  std::string name;
  std::uint64_t limit = kVllmDefaultMmLimit;
  const VllmMmLimit* given = nullptr;
  std::string note;
};
std::optional<ProfiledModality> profiled_modality(const MultimodalEncoder& m, const VllmMultimodalSettings& mm) {
  const auto limit_of = [&](const std::string& modality) -> const VllmMmLimit* {
    auto it = mm.limit_per_prompt.find(modality);
    return it == mm.limit_per_prompt.end() ? nullptr : &it->second;
  };
  ProfiledModality p;
  p.name = m.modality;
  p.given = limit_of(m.modality);
  if (p.given == nullptr || p.given->count > 0) {
    if (p.given != nullptr) p.limit = p.given->count;
    return p;
  }
  // The modality with the most tokens is off: vLLM profiles the next one the model takes, if any is still on.
  for (const auto& other : m.modalities) {
    const VllmMmLimit* given = limit_of(other);
    if (other == m.modality || (given != nullptr && given->count == 0)) continue;
    p.name = other;
    p.given = given;
    p.limit = given != nullptr ? given->count : kVllmDefaultMmLimit;
    p.note = fmt::format(
        "--limit-mm-per-prompt turns {} off: vLLM profiles {} instead, sized here as one {} item "
        "(an assumption: that modality's dummy item is not modelled)",
        m.modality, other, m.modality);
    return p;
  }
  return std::nullopt;
}

}  // namespace

VllmEncoderProfile estimate_vllm_encoder_profile(const ModelArch& arch, const VllmProfileSettings& s) {
  VllmEncoderProfile e;
  if (!arch.multimodal || !arch.mm_encoder) return e;
  const MultimodalEncoder& m = *arch.mm_encoder;
  if (s.language_model_only) {
    e.note = "--language-model-only: no encoder is loaded, none is profiled";
    return e;
  }
  if (s.multimodal.skip_mm_profiling) {
    e.note =
        "--skip-mm-profiling: vLLM does not profile the encoder, whose peak at the first large item is then "
        "outside the budget";
    return e;
  }
  const auto modality = profiled_modality(m, s.multimodal);
  if (!modality) {
    e.note = "--limit-mm-per-prompt turns every modality off: vLLM initializes no encoder cache";
    return e;
  }
  std::string size_note;
  const std::uint64_t tokens = item_tokens(m, modality->given, size_note);
  const std::uint64_t encoder_per_item =
      m.pixels_per_token > 0 ? tokens * m.encoder_tokens_per_token : m.encoder_tokens_per_item;
  const std::uint64_t by_length = s.max_model_len > 0 ? s.max_model_len / tokens : modality->limit;
  const std::uint64_t per_prompt = std::max<std::uint64_t>(1, std::min(modality->limit, by_length));
  e.profiled = true;
  e.modality = modality->name;
  e.tokens_per_item = tokens;
  e.budget_tokens = std::max(s.max_num_batched_tokens, tokens);
  e.items = std::max<std::uint64_t>(1, std::min(e.budget_tokens / tokens, s.max_num_seqs * per_prompt));
  e.encoder_tokens = e.items * encoder_per_item;
  e.note = modality->note.empty() ? size_note : modality->note;

  // What the blocks hold at their peak, the pixel values and the outputs, counted from vLLM's code (activation.cpp).
  const VllmEncoderPass pass =
      vllm_encoder_pass(m, e.items, encoder_per_item, tokens, s.tensor_parallel_size, dtype_bytes(s.dtype));
  e.forward_bytes = pass.blocks_bytes;
  e.input_bytes = pass.input_bytes;
  e.cache_bytes = pass.cache_bytes;
  e.input_formula = pass.input_formula;
  e.formula = fmt::format("encoder {} {}: {} [budget {} tokens, {} tokens per item: {}]", e.items, e.modality,
                          pass.formula, e.budget_tokens, tokens, m.rule);
  return e;
}

std::string format_limit_mm_per_prompt(const std::map<std::string, VllmMmLimit>& limits) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [modality, limit] : limits) {
    if (!limit.width && !limit.height) {
      j[modality] = limit.count;
      continue;
    }
    j[modality] = {{"count", limit.count}};
    if (limit.width) j[modality]["width"] = *limit.width;
    if (limit.height) j[modality]["height"] = *limit.height;
  }
  return j.dump();
}

std::map<std::string, VllmMmLimit> parse_limit_mm_per_prompt(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    fail_input(
        fmt::format("--limit-mm-per-prompt: {} (expected vLLM's JSON, {{\"image\": 2, \"video\": 0}}, or "
                    "image=2,video=0)",
                    why));
  };
  std::map<std::string, VllmMmLimit> out;
  const auto count_of = [&](const nlohmann::json& v, const std::string& what) -> std::uint64_t {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 1'000'000) bad(what + " is not a whole number");
    return v.get<std::uint64_t>();
  };
  const auto first = text.find_first_not_of(" \t");
  if (first != std::string::npos && text[first] == '{') {
    const nlohmann::json j = parse_json_relaxed(text, "--limit-mm-per-prompt");
    if (!j.is_object()) bad("not a JSON object");
    for (const auto& [modality, value] : j.items()) {
      VllmMmLimit limit;
      if (value.is_object()) {
        limit.count = value.contains("count") ? count_of(value["count"], modality + ".count") : 1;
        for (const char* key : {"width", "height"})
          if (value.contains(key) && !value[key].is_null())
            (std::string(key) == "width" ? limit.width : limit.height) = count_of(value[key], modality + "." + key);
      } else {
        limit.count = count_of(value, modality);
      }
      out[ascii_lower(modality)] = limit;
    }
    return out;
  }
  std::string piece;
  const auto flush = [&]() {
    const auto eq = piece.find('=');
    if (eq == std::string::npos || eq == 0) bad(fmt::format("\"{}\" is not MODALITY=COUNT", piece));
    const std::string value = piece.substr(eq + 1);
    if (value.empty() || value.size() > 7 || value.find_first_not_of("0123456789") != std::string::npos)
      bad(fmt::format("\"{}\" is not a whole number", value));
    out[ascii_lower(piece.substr(0, eq))].count = std::stoull(value);
    piece.clear();
  };
  for (char ch : text) {
    if (ch == ',') flush();
    else if (ch != ' ') piece += ch;
  }
  flush();
  return out;
}

}  // namespace vramcalc

namespace vramcalc {

namespace {

std::uint64_t div_up(std::uint64_t v, std::uint64_t m) { return (v + m - 1) / m; }
std::uint64_t round_up(std::uint64_t v, std::uint64_t m) { return div_up(v, m) * m; }

// One expert matrix as one rank holds it: the intermediate dimension is split by TP unless experts are spread by
// expert parallelism (then whole experts are split over the ranks instead).
struct ExpertPart {
  std::uint64_t matrices = 0, rows = 0, cols = 0, extra = 0;
  bool rows_are_hidden = false;      // down_proj: hidden x intermediate
  std::uint64_t inter_multiple = 1;  // gate_up_proj fuses two intermediate halves
};

ExpertPart expert_part(const ModelArch& a, const WeightGroup& g, std::uint64_t tp, std::uint64_t ep_ranks,
                       bool expert_parallel) {
  ExpertPart p;
  const std::uint64_t shard = expert_parallel ? 1 : std::max<std::uint64_t>(1, tp);
  p.matrices = expert_parallel ? (g.matrices + ep_ranks - 1) / ep_ranks : g.matrices;
  p.rows_are_hidden = g.rows == a.hidden_size && g.cols != a.hidden_size;
  const std::uint64_t inter_dim = p.rows_are_hidden ? g.cols : g.rows;
  const std::uint64_t inter = std::max<std::uint64_t>(1, a.moe_intermediate_size);
  p.inter_multiple = std::max<std::uint64_t>(1, inter_dim / inter);
  const std::uint64_t part = inter_dim / shard;
  p.rows = p.rows_are_hidden ? g.rows : part;
  p.cols = p.rows_are_hidden ? part : g.cols;
  p.extra = expert_parallel ? g.extra / ep_ranks : g.extra / shard;
  return p;
}

// Marlin's padded shape over the packed one, for one expert matrix on one rank.
double marlin_factor(const ExpertPart& p) {
  const std::uint64_t inter_dim = p.rows_are_hidden ? p.cols : p.rows;
  const std::uint64_t hidden_dim = p.rows_are_hidden ? p.rows : p.cols;
  const std::uint64_t per_half = inter_dim / p.inter_multiple;
  const double padded =
      static_cast<double>(p.inter_multiple * round_up(per_half, 128)) * static_cast<double>(round_up(hidden_dim, 256));
  return padded / (static_cast<double>(inter_dim) * static_cast<double>(hidden_dim));
}

}  // namespace

VllmMxfp4Load vllm_mxfp4_load_extra(const ModelArch& a, const QuantScheme& scheme,
                                    std::optional<double> compute_capability, const VllmVersion& version,
                                    std::uint64_t tp, std::uint64_t pp, std::uint64_t dp, bool expert_parallel) {
  VllmMxfp4Load out;
  if (scheme.method != QuantScheme::Method::Mxfp4 || !compute_capability || *compute_capability >= 10.0 ||
      *compute_capability < 8.0)
    return out;
  const bool triton = *compute_capability >= 9.0 && version.at_least(0, 11);
  out.backend = triton ? "Triton" : "Marlin";
  const std::uint64_t ep_ranks = std::max<std::uint64_t>(1, tp) * std::max<std::uint64_t>(1, dp);
  const auto parts = vllm_pp_partition(std::max<std::uint64_t>(1, a.num_hidden_layers), std::max<std::uint64_t>(1, pp));
  const double stage = static_cast<double>(*std::max_element(parts.begin(), parts.end())) /
                       static_cast<double>(std::max<std::uint64_t>(1, a.num_hidden_layers));
  double extra = 0;
  for (const auto& g : a.weights) {
    if (g.role != WeightRole::Experts || !group_is_quantized(g, scheme)) continue;
    const ExpertPart p = expert_part(a, g, tp, ep_ranks, expert_parallel);
    const double elements = static_cast<double>(p.matrices) * static_cast<double>(p.rows) * static_cast<double>(p.cols);
    const double scales = static_cast<double>(p.matrices) * static_cast<double>(p.rows) *
                          static_cast<double>(div_up(p.cols, 32));  // one E8M0 byte per 32 elements
    if (triton) {
      // The swizzled scale copy pads its rows to 2 x num_warps (8) x 2 x 8 = 256; biases become float32.
      extra += scales * static_cast<double>(round_up(p.rows, 256)) / static_cast<double>(p.rows) +
               static_cast<double>(p.extra) * 4.0;
    } else {
      extra += (elements / 2.0 + scales) * (marlin_factor(p) - 1.0);  // packed 4-bit values and their scales
    }
  }
  out.extra_bytes = round_bytes(extra * stage, "MXFP4 load overhead");
  out.formula = triton
                    ? fmt::format(
                          "+ {:.2f} GiB: MXFP4 experts on compute capability {:.1f} through Triton's matmul_ogs keep "
                          "a second, swizzled copy of the expert scales (rows padded to 256) and float32 biases",
                          gib(static_cast<double>(out.extra_bytes)), *compute_capability)
                    : fmt::format(
                          "+ {:.2f} GiB: MXFP4 experts on compute capability {:.1f} through Marlin are padded to "
                          "intermediate/TP multiples of 128 and hidden multiples of 256",
                          gib(static_cast<double>(out.extra_bytes)), *compute_capability);
  return out;
}

}  // namespace vramcalc
