// What vLLM's profile run measures besides the weights, per GPU (vLLM's vllm/v1/worker/gpu_worker.py,
// determine_available_memory, and vllm/utils memory profiling; README, "The vLLM-faithful estimator").
//
// The model, in five lines (T = max_num_batched_tokens, R = min(max_num_seqs, T), b = activation dtype bytes):
//   forward  F = f x T x W x b      W = the widest per-GPU intermediate of one decoder layer: max(intermediate/TP,
//                                   experts_per_token x moe_intermediate/TP, (q + 2 kv heads) x head_dim/TP, hidden)
//   sampler  S = s x R x vocab x 4 + T x hidden x b   (float32 logits and the sampler's vocab-sized copies, while the
//                                   T hidden states the forward returned are still alive; last pipeline stage only)
//   activation = max(F, S) + c      (F + c off the last stage)
//   non-torch  = n0 + n1 x log2(TP) before v0.12; n0 from v0.12 (NCCL moved into the baseline snapshot)
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
//                logged 2.12 GiB, whose peak is the forward pass's, to within 0.03 GiB without that record.
//   s, s_fi, c   least squares on the activation peaks vLLM logged (tests/data/vllm_calibration.jsonl), each record
//                on the branch of the max it falls on; s_fi from the A100 pair whose total the two utilizations give.
//   n0, n1       least squares on the logged non-torch increase (V1 logs; TP 1 and 2 only, so log2 growth past TP 2
//                is an assumption: one more level of NCCL buffers per doubling of the communicator).
// Not modelled: the multimodal encoder's profile pass, attention workspaces (the v0.10 profile run builds no
// attention metadata), MoE expert-parallel buffers, CUDA graphs (outside the budget before v0.21).
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

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

double vllm_default_gpu_memory_utilization(const VllmVersion& v) {
  // 0.90 up to ~v0.19; 0.92 from v0.22 (the version table of NVIDIA aiconfigurator PR #1431, which KAITO PR #2302
  // follows). Releases between are not pinned down by any source we have; they keep 0.90, the larger KV-free margin.
  return v.at_least(0, 22) ? 0.92 : 0.90;
}

std::uint64_t vllm_cudagraph_estimate(std::uint64_t tensor_parallel_size) {
  // Pool sizes vLLM logged after capture ("Graph capturing finished ... took X GiB") for dense models with the
  // default 67 capture sizes: 0.50 GiB at TP 1 and 0.65 GiB at TP 2 (Qwen2-7B, A100), 0.10-1.03 GiB across the
  // calibration records. Rule of thumb: 0.50 GiB + 0.15 GiB per TP doubling. Large MoE models log more (3.45 GiB,
  // Qwen3-235B FP8 TP 4), which is why callers warn and --cudagraph-memory takes the logged figure instead.
  const double levels = std::log2(static_cast<double>(std::max<std::uint64_t>(1, tensor_parallel_size)));
  return static_cast<std::uint64_t>(std::llround((0.50 + 0.15 * levels) * static_cast<double>(kGiB)));
}

VllmBatchDefaults vllm_batch_defaults(double gpu_total_gib, const std::string& gpu_name, bool offline_llm_class,
                                      const VllmVersion& version) {
  (void)version;  // the same table from v0.8 (V1 default) on; earlier V0 releases are not modelled
  std::string lower = gpu_name;
  lower = ascii_lower(lower);
  const bool large = gpu_total_gib >= 70.0 && lower.find("a100") == std::string::npos;
  VllmBatchDefaults d;
  d.max_num_seqs = large ? 1024 : 256;
  if (large) d.max_num_batched_tokens = offline_llm_class ? 16384 : 8192;
  else d.max_num_batched_tokens = offline_llm_class ? 8192 : 2048;
  const std::string gpu_class =
      large ? "H100-class GPU (>= 70 GiB, not A100)"
            : (gpu_total_gib >= 70.0 ? "A100 (excluded from the large defaults)" : "GPU under 70 GiB");
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

  // The widest per-GPU intermediate of one decoder layer.
  const double mlp = static_cast<double>(arch.intermediate_size) / tp;
  const double moe = static_cast<double>(arch.experts_per_token * arch.moe_intermediate_size) / tp;
  const double q_heads = static_cast<double>(arch.num_attention_heads) / tp;
  const double kv_heads = std::max(1.0, std::floor(static_cast<double>(arch.num_key_value_heads) / tp));
  const double qkv = (q_heads + 2.0 * kv_heads) * static_cast<double>(arch.head_dim);
  const std::string per_tp = s.tensor_parallel_size > 1 ? "/TP" : "";
  double width = hidden;
  std::string width_what = "hidden";
  if (mlp > width) {
    width = mlp;
    width_what = "intermediate" + per_tp;
  }
  if (moe > width) {
    width = moe;
    width_what = "experts_per_token x moe_intermediate" + per_tp;
  }
  if (qkv > width) {
    width = qkv;
    width_what = "(q + 2 kv heads) x head_dim" + per_tp;
  }

  const double c = kActivationConstantGiB * static_cast<double>(kGiB);
  const double forward = kForwardCopies * t * width * b;
  const double copies = s.flashinfer_sampler ? kSamplerCopiesFlashInfer : kSamplerCopiesNative;
  const double logits = copies * r * vocab * kLogitBytes;
  const double held = kHiddenStateCopies * t * hidden * b;
  const double sampler = logits + held;

  VllmProfileEstimate e;
  const std::string fwd_text =
      fmt::format("forward {:.2f} x {} tokens x {:.0f} ({}) x {:g} B = {:.2f} GiB", kForwardCopies,
                  s.max_num_batched_tokens, width, width_what, b, gib(forward));
  if (s.last_pipeline_stage) {
    const double peak = std::max(forward, sampler) + c;
    e.activation_bytes = round_bytes(peak, "activation peak");
    e.sampler_bytes = round_bytes(std::max(0.0, sampler - forward), "sampler pass");
    e.activation_formula = fmt::format(
        "max({}, sampler {:.2f} x {} seqs x {} vocab x 4 B ({}) + {} tokens x {} hidden x {:g} B = {:.2f} GiB) + "
        "{:.2f} GiB = {:.2f} GiB",
        fwd_text, copies, static_cast<std::uint64_t>(r), arch.vocab_size,
        s.flashinfer_sampler ? "FlashInfer top-k/top-p" : "PyTorch top-k/top-p", s.max_num_batched_tokens,
        arch.hidden_size, b, gib(sampler), kActivationConstantGiB, gib(peak));
  } else {
    const double peak = forward + c;
    e.activation_bytes = round_bytes(peak, "activation peak");
    e.sampler_bytes = 0;
    e.activation_formula = fmt::format("{} + {:.2f} GiB = {:.2f} GiB (not the last pipeline stage: no sampler pass)",
                                       fwd_text, kActivationConstantGiB, gib(peak));
  }

  if (s.version.at_least(0, 12)) {
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

}  // namespace vramcalc
