// vLLM's CUDA-graph capture list and memory estimate (see cudagraph.hpp). Sources, read in vLLM's code:
//   capture sizes   vllm/config/vllm.py VllmConfig._set_cudagraph_sizes (v0.2x); v0.10.x multiples of 8 up to 512
//   modes           vllm/config/compilation.py CUDAGraphMode; OPTIMIZATION_LEVEL_00..03 in vllm/config/vllm.py
//                   (O0: NONE, O1: PIECEWISE, O2 = default and O3: FULL_AND_PIECEWISE); FULL_AND_PIECEWISE became
//                   the default in v0.11.0, PIECEWISE before
//   FULL graphs     vllm/v1/cudagraph_dispatcher.py: decode sizes x with q <= x <= max_num_seqs x q
//   speculation     vllm/config/compilation.py adjust_cudagraph_sizes_for_spec_decode: sizes rounded up to multiples
//                   of q = 1 + num_speculative_tokens when decode batches run FULL graphs
//   the estimate    vllm/v1/worker/gpu_model_runner.py profile_cudagraph_memory: the two largest sizes of each mode
//                   captured, per_graph = max(second capture, 1 MiB), total = max(first) + sum(per_graph x (N - 1))
#include "vramcalc/engines/vllm/cudagraph.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/text.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc {

namespace {

// Fitted by scripts/fit_vllm_cudagraph.py; must equal data/vllm_cudagraph_fit.json "coefficients" (tests check it).
// Fitted on discrete GPUs (the unified-memory logs fit their own factor below).
constexpr double kFirstCaptureGiB = 0.4772;             // the first capture of a mode (the larger of the two modes)
constexpr double kPerGraphBytesPerLayerHidden = 25.91;  // each further graph: this x layers x hidden_size bytes
// Breakable CUDA graphs (vLLM's DEFAULT_BREAKABLE_CUDAGRAPH_ARCHITECTURES: DeepSeek V3.2 / V4, GLM-DSA, MiniMax-M3,
// Kimi Linear): vLLM sets VLLM_USE_BREAKABLE_CUDAGRAPH and drops its torch.compile pipeline (compile mode NONE), and
// BreakableCUDAGraphWrapper (vllm/compilation/breakable_cudagraph.py) captures the whole uncompiled forward as a chain
// of torch.cuda.CUDAGraph segments, ending one and starting the next around every op marked
// eager_break_during_capture (attention, the KV-cache writes, the sparse-attention indexer of DSA and V4), for
// PIECEWISE and FULL batch descriptors alike. Each captured size thus holds several graphs per layer and the unfused
// eager ops' intermediates in the pool, where Inductor's fused piecewise graphs hold one graph per layer: the cost of
// each further graph grows, the first capture (the pool's start) is no different. The factor on the fitted per-graph
// cost is fitted by scripts/fit_vllm_cudagraph.py on the three breakable-graph logs that print their graph counts
// (data/vllm_cudagraph_fit.json): vllm-new-006 (DeepSeek-V4-Flash, 68 graphs, 1.58 GiB logged), vllm-new-012
// (MiniMax-M3, 54 graphs, 1.97) and vllm-new-032 (a DeepSeek-V4-class model on unified memory, 8 graphs, 0.55):
// 1.45, 2.05 and 0.65 GiB with it (-8%, +4%, +18%); each left out, the other two predict it at -12%, +13% and +18%.
// A factor on the whole estimate (the 1.6x of 006 and 012) would put 032 80% over.
constexpr double kBreakablePerGraphFactor = 3.4;
// Unified memory (DGX Spark): vLLM measures a capture as the drop in cudaMemGetInfo's free memory, the system's on
// such a device, so host memory allocated during the captures counts as well. Two boots of one model and capture
// list (PIECEWISE 51, FULL 35) on one DGX Spark logged 1.56 and 1.94 GiB (vllm-new-013, -014) where an L40S logged
// 1.11 (vllm-new-008). The factor on the per-graph cost is fitted on the four unified-memory logs with the standard
// capture (vllm-new-002, -003, -013, -014): 0.48, 0.58, 1.75 and 1.75 GiB (+2%, -4%, +12%, -10%); each left out,
// the others predict it within 25% too. Host noise is part of what it measures: two boots differ by 0.38 GiB.
constexpr double kUnifiedMemoryPerGraphFactor = 1.92;
// vLLM's floor for one graph ("Use at least 1 MiB per graph for driver overhead").
constexpr std::uint64_t kMinPerGraph = 1ULL << 20;
// The default ceiling of the capture sizes: 512, and 1024 on compute capability 10.x (B200, GB200, B300).
constexpr std::uint64_t kDefaultCeiling = 512;
constexpr std::uint64_t kBlackwellCeiling = 1024;
// Beyond this many graphs in a mode, the two-capture extrapolation overshoots the real pool (vLLM's own logs:
// within ~3% up to 8 graphs, 2-6x with dozens).
constexpr std::uint64_t kFewGraphs = 8;
// The largest layers x hidden among the fitted logs (Qwen3.6/3.8-27B: 64 x 5120): past it the per-graph cost is an
// extrapolation, said in a warning.
constexpr double kLargestFittedLayerHidden = 64.0 * 5120.0;
// The shorter capture list the advice suggests.
constexpr std::uint64_t kSuggestedCeiling = 64;

double to_gib_d(double bytes) { return bytes / static_cast<double>(kGiB); }

// vLLM's default sizes up to `ceiling` (v0.11+): 1, 2, 4, multiples of 8 below 256, multiples of 16 from 256.
std::vector<std::uint64_t> default_sizes(std::uint64_t ceiling) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t s : {1, 2, 4})
    if (s <= ceiling) out.push_back(s);
  for (std::uint64_t s = 8; s < 256 && s <= ceiling; s += 8) out.push_back(s);
  for (std::uint64_t s = 256; s <= ceiling; s += 16) out.push_back(s);
  return out;
}

// v0.10.x: 1, 2, 4, then every multiple of 8 up to 512 (67 sizes), below max_num_batched_tokens.
std::vector<std::uint64_t> legacy_sizes(std::uint64_t ceiling, std::uint64_t mnbt) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t s : {1, 2, 4})
    if (s <= std::min(ceiling, mnbt)) out.push_back(s);
  for (std::uint64_t s = 8; s <= std::min(ceiling, mnbt); s += 8) out.push_back(s);
  return out;
}

CudagraphMode mode_for_level(int level) {
  if (level <= 0) return CudagraphMode::None;
  return level == 1 ? CudagraphMode::Piecewise : CudagraphMode::FullAndPiecewise;
}

// The mode and where it came from: compilation_config, then -O, then the release's default.
std::pair<CudagraphMode, std::string> resolve_mode(const VllmCompilationSettings& c, const VllmVersion& v) {
  if (c.cudagraph_mode) return {*c.cudagraph_mode, "--compilation-config cudagraph_mode"};
  if (c.optimization_level) return {mode_for_level(*c.optimization_level), fmt::format("-O{}", *c.optimization_level)};
  if (v.at_least(0, 11)) return {CudagraphMode::FullAndPiecewise, fmt::format("vLLM {}'s default", v.str())};
  return {CudagraphMode::Piecewise, fmt::format("vLLM {}'s default", v.str())};
}

std::vector<std::uint64_t> capture_sizes(const VllmCompilationSettings& c, const VllmCaptureInputs& in) {
  const std::uint64_t mnbt = std::max<std::uint64_t>(1, in.max_num_batched_tokens);
  const bool blackwell = in.compute_capability && *in.compute_capability >= 10.0 && *in.compute_capability < 11.0;
  if (!in.version.at_least(0, 11) && !c.capture_sizes)
    return legacy_sizes(c.max_capture_size.value_or(kDefaultCeiling), mnbt);
  // A uniform decode batch is q tokens per request: the default ceiling covers twice the widest one.
  const std::uint64_t q = std::max<std::uint64_t>(1, in.uniform_decode_query_len);
  std::uint64_t ceiling = c.max_capture_size.value_or(
      std::min(in.max_num_seqs * q * 2,
               blackwell && in.version.at_least(0, kCudagraphProfilingMinor) ? kBlackwellCeiling : kDefaultCeiling));
  ceiling = std::min(ceiling, mnbt);
  std::vector<std::uint64_t> sizes;
  if (c.capture_sizes) {
    const std::set<std::uint64_t> unique(c.capture_sizes->begin(), c.capture_sizes->end());
    for (auto s : unique)
      if (s <= mnbt) sizes.push_back(s);
  } else {
    sizes = default_sizes(ceiling);
    // v0.2x captures max_num_batched_tokens too when it falls inside the ceiling off the stride.
    if (in.version.at_least(0, kCudagraphProfilingMinor) && mnbt <= ceiling &&
        std::find(sizes.begin(), sizes.end(), mnbt) == sizes.end())
      sizes.push_back(mnbt);
    std::sort(sizes.begin(), sizes.end());
  }
  if (c.capture_sizes && c.max_capture_size && (sizes.empty() || *c.max_capture_size != sizes.back()))
    fail_input(
        fmt::format("--max-cudagraph-capture-size {} must equal the largest --cudagraph-capture-sizes entry "
                    "({}), as vLLM requires",
                    *c.max_capture_size, sizes.empty() ? 0 : sizes.back()));
  return sizes;
}

// vLLM's adjust_cudagraph_sizes_for_spec_decode: every size rounded up to a multiple of q, those past the largest
// size dropped; [q] when nothing is left but q fits; refused when not even q fits.
std::vector<std::uint64_t> round_to_query_len(const std::vector<std::uint64_t>& sizes, std::uint64_t q) {
  if (sizes.empty() || q <= 1) return sizes;
  const std::uint64_t largest = sizes.back();
  std::set<std::uint64_t> rounded;
  for (auto s : sizes) {
    const std::uint64_t r = (s + q - 1) / q * q;
    if (r <= largest) rounded.insert(r);
  }
  if (rounded.empty() && q <= largest) rounded.insert(q);
  if (rounded.empty())
    fail_input(fmt::format(
        "--speculative-config: no CUDA-graph size is left once rounded to a multiple of {} (1 + "
        "num_speculative_tokens): "
        "the largest is {}, as vLLM refuses it; raise --max-cudagraph-capture-size or --max-num-batched-tokens",
        q, largest));
  return {rounded.begin(), rounded.end()};
}

}  // namespace

std::string_view cudagraph_mode_name(CudagraphMode mode) {
  switch (mode) {
    case CudagraphMode::None: return "NONE";
    case CudagraphMode::Piecewise: return "PIECEWISE";
    case CudagraphMode::Full: return "FULL";
    case CudagraphMode::FullDecodeOnly: return "FULL_DECODE_ONLY";
    case CudagraphMode::FullAndPiecewise: return "FULL_AND_PIECEWISE";
  }
  return "NONE";
}

std::optional<CudagraphMode> parse_cudagraph_mode(std::string_view text) {
  const std::string lower = ascii_lower(text);
  for (auto m : {CudagraphMode::None, CudagraphMode::Piecewise, CudagraphMode::Full, CudagraphMode::FullDecodeOnly,
                 CudagraphMode::FullAndPiecewise})
    if (lower == ascii_lower(cudagraph_mode_name(m))) return m;
  return std::nullopt;
}

std::vector<std::uint64_t> parse_capture_sizes(const std::string& text) {
  std::string_view s(text);
  if (!s.empty() && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  std::vector<std::uint64_t> out;
  std::string piece;
  const auto flush = [&]() {
    std::string t;
    for (char ch : piece)
      if (ch != ' ') t += ch;
    if (t.empty() || t.size() > 7 || t.find_first_not_of("0123456789") != std::string::npos || std::stoull(t) == 0)
      fail_input(
          fmt::format("--cudagraph-capture-sizes: '{}' is not a list of positive batch sizes like 1,2,4,8", text));
    out.push_back(std::stoull(t));
    piece.clear();
  };
  for (char ch : s) {
    if (ch == ',') flush();
    else piece += ch;
  }
  flush();
  return out;
}

void parse_compilation_config(const std::string& json_text, VllmCompilationSettings& c) {
  const nlohmann::json j = parse_json_relaxed(json_text, "--compilation-config");
  if (!j.is_object())
    fail_input("--compilation-config: expected a JSON object like {\"cudagraph_mode\": \"PIECEWISE\"}");
  c.compilation_config = json_text;
  for (const auto& [key, value] : j.items()) {
    if (key == "cudagraph_mode") {
      const auto mode = value.is_string() ? parse_cudagraph_mode(value.get<std::string>()) : std::nullopt;
      if (!mode)
        fail_input(
            fmt::format("--compilation-config: cudagraph_mode {} is not one of NONE, PIECEWISE, FULL, "
                        "FULL_DECODE_ONLY, FULL_AND_PIECEWISE",
                        value.dump()));
      c.cudagraph_mode = mode;
    } else if (key == "cudagraph_capture_sizes") {
      std::vector<std::uint64_t> sizes;
      if (value.is_array())
        for (const auto& v : value) {
          if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0 || v.get<std::uint64_t>() > 1'000'000) {
            sizes.clear();
            break;
          }
          sizes.push_back(v.get<std::uint64_t>());
        }
      if (sizes.empty())
        fail_input("--compilation-config: cudagraph_capture_sizes must be a non-empty list of positive integers");
      c.capture_sizes = sizes;
    } else if (key == "max_cudagraph_capture_size") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() == 0 || value.get<std::uint64_t>() > 1'000'000)
        fail_input("--compilation-config: max_cudagraph_capture_size must be a positive integer");
      c.max_capture_size = value.get<std::uint64_t>();
    } else {
      c.ignored_keys.push_back(key);
    }
  }
}

CudagraphMode vllm_cudagraph_mode(const VllmCompilationSettings& c, const VllmVersion& version) {
  return resolve_mode(c, version).first;
}

VllmCaptureList vllm_capture_list(const VllmCompilationSettings& c, const VllmCaptureInputs& in) {
  VllmCaptureList l;
  std::tie(l.mode, l.mode_source) = resolve_mode(c, in.version);
  if (l.mode == CudagraphMode::None) return l;
  l.sizes = capture_sizes(c, in);
  const bool mixed_piecewise = l.mode == CudagraphMode::Piecewise || l.mode == CudagraphMode::FullAndPiecewise;
  const bool decode_full = l.mode == CudagraphMode::FullDecodeOnly || l.mode == CudagraphMode::FullAndPiecewise;
  const std::uint64_t q = std::max<std::uint64_t>(1, in.uniform_decode_query_len);
  // Speculative decoding (v0.11+): FULL decode graphs need sizes that are whole decode batches.
  if (q > 1 && l.mode != CudagraphMode::Piecewise && in.version.at_least(0, 11))
    l.sizes = round_to_query_len(l.sizes, q);
  if (l.mode == CudagraphMode::Full) l.full = l.sizes;  // one routine: every size a FULL graph
  if (mixed_piecewise) l.piecewise = l.sizes;
  if (decode_full)
    for (auto s : l.sizes)
      if (s >= q && s <= in.max_num_seqs * q) l.full.push_back(s);  // uniform decode batches: q tokens per sequence
  return l;
}

VllmCudagraphEstimate estimate_vllm_cudagraph(const ModelArch& a, std::uint64_t layers_on_gpu,
                                              const VllmCaptureList& list, bool unified_memory) {
  VllmCudagraphEstimate e;
  if (list.graphs() == 0) {
    e.formula = fmt::format("no CUDA graphs (cudagraph_mode {}, {})", cudagraph_mode_name(list.mode), list.mode_source);
    return e;
  }
  e.breakable = vllm_breakable_cudagraph_arch(a);
  e.unified_memory = unified_memory;
  const double factor =
      (e.breakable ? kBreakablePerGraphFactor : 1.0) * (unified_memory ? kUnifiedMemoryPerGraphFactor : 1.0);
  e.first_capture = round_bytes(kFirstCaptureGiB * static_cast<double>(kGiB), "CUDA-graph first capture");
  e.per_graph =
      std::max(kMinPerGraph, round_bytes(kPerGraphBytesPerLayerHidden * factor * static_cast<double>(layers_on_gpu) *
                                             static_cast<double>(a.hidden_size),
                                         "CUDA-graph per-graph cost"));
  const std::uint64_t more =
      (list.piecewise.empty() ? 0 : list.piecewise.size() - 1) + (list.full.empty() ? 0 : list.full.size() - 1);
  e.bytes = e.first_capture + e.per_graph * more;
  std::string modes;
  if (!list.piecewise.empty())
    modes += fmt::format("PIECEWISE={} (largest={})", list.piecewise.size(), list.piecewise.back());
  if (!list.full.empty())
    modes += fmt::format("{}FULL={} (largest={})", modes.empty() ? "" : ", ", list.full.size(), list.full.back());
  std::string scaled = e.breakable
                           ? fmt::format(" x {:g} for breakable CUDA graphs (uncompiled, several segments per layer)",
                                         kBreakablePerGraphFactor)
                           : std::string();
  if (unified_memory)
    scaled += fmt::format(" x {:g} on unified memory (the host's allocations during capture count)",
                          kUnifiedMemoryPerGraphFactor);
  e.formula = fmt::format(
      "{}: first capture {:.2f} GiB + {} more graphs x {:.1f} MiB ({:.2f} B x {} layers x {} hidden{}) = {:.2f} GiB "
      "(fit of logged estimates, scripts/fit_vllm_cudagraph.py)",
      modes, kFirstCaptureGiB, more, static_cast<double>(e.per_graph) / static_cast<double>(kMiB),
      kPerGraphBytesPerLayerHidden, layers_on_gpu, a.hidden_size, scaled, to_gib_d(static_cast<double>(e.bytes)));
  e.extrapolated = static_cast<double>(layers_on_gpu) * static_cast<double>(a.hidden_size) > kLargestFittedLayerHidden;
  return e;
}

std::uint64_t vllm_legacy_cudagraph_pool(std::uint64_t tensor_parallel_size) {
  // Pool sizes vLLM v0.10 logged after capture ("Graph capturing finished ... took X GiB") for dense models with the
  // default 67 capture sizes: 0.50 GiB at TP 1 and 0.65 GiB at TP 2 (Qwen2-7B, A100).
  const double levels = std::log2(static_cast<double>(std::max<std::uint64_t>(1, tensor_parallel_size)));
  return static_cast<std::uint64_t>(std::llround((0.50 + 0.15 * levels) * static_cast<double>(kGiB)));
}

std::uint64_t vllm_layers_on_gpu(const ModelArch& a, std::uint64_t pp) {
  const auto parts = vllm_pp_partition(std::max<std::uint64_t>(1, a.num_hidden_layers), std::max<std::uint64_t>(1, pp));
  return *std::max_element(parts.begin(), parts.end());
}

bool vllm_breakable_cudagraph_arch(const ModelArch& a) {
  static const std::set<std::string> breakable = {"DeepseekV32ForCausalLM",
                                                  "DeepseekV4ForCausalLM",
                                                  "DeepseekV4ForConditionalGeneration",
                                                  "GlmMoeDsaForCausalLM",
                                                  "KimiLinearForCausalLM",
                                                  "MiniMaxM3SparseForCausalLM",
                                                  "MiniMaxM3SparseForConditionalGeneration"};
  return breakable.contains(a.architecture);
}

VllmCudagraphPlan plan_vllm_cudagraphs(const ModelArch& a, const VllmCompilationSettings& c,
                                       const VllmCaptureInputs& in, std::uint64_t tp, std::uint64_t pp,
                                       std::optional<std::uint64_t> given) {
  VllmCudagraphPlan p;
  p.capture = vllm_capture_list(c, in);
  // The drafter's layers (MTP) are captured in the same dummy runs: each graph holds theirs too.
  const std::uint64_t layers = vllm_layers_on_gpu(a, pp) + in.draft_layers;
  if (given) {
    p.bytes = *given;
    p.formula = "--cudagraph-memory";
  } else if (p.capture.graphs() == 0) {
    p.formula = estimate_vllm_cudagraph(a, layers, p.capture).formula;
  } else if (vllm_profiles_cudagraphs(in.version)) {
    const auto e = estimate_vllm_cudagraph(a, layers, p.capture, in.unified_memory);
    p.bytes = e.bytes;
    p.estimated = true;
    p.formula = e.formula;
    if (in.draft_layers > 0 || in.uniform_decode_query_len > 1)
      p.formula += fmt::format(
          "; speculative decoding: decode batches of {} tokens per request{}",
          std::max<std::uint64_t>(1, in.uniform_decode_query_len),
          in.draft_layers > 0 ? fmt::format(", the layers include the drafter's {}", in.draft_layers) : std::string());
    p.extrapolated = e.extrapolated;
    p.hybrid = a.state_layers() > 0;  // Mamba, Gated DeltaNet, short-conv layers (issue 14)
    p.likely_overshoots = p.hybrid || p.capture.piecewise.size() > kFewGraphs || p.capture.full.size() > kFewGraphs;
    VllmCaptureList shorter = p.capture;  // the same list cut at the suggested ceiling
    const auto cut = [](std::vector<std::uint64_t>& v) {
      v.erase(std::remove_if(v.begin(), v.end(), [](std::uint64_t s) { return s > kSuggestedCeiling; }), v.end());
    };
    cut(shorter.piecewise);
    cut(shorter.full);
    p.bytes_short_list = estimate_vllm_cudagraph(a, layers, shorter, in.unified_memory).bytes;
  } else {
    p.bytes = vllm_legacy_cudagraph_pool(tp);
    p.estimated = true;
    p.formula = fmt::format("pool captured after sizing the cache: 0.50 GiB + 0.15 GiB x log2(TP {}) (v0.10 logs)", tp);
  }
  return p;
}

std::uint64_t vllm_kv_tokens_for(const VllmKvLayout& l, std::uint64_t bytes) {
  if (l.page_bytes == 0 || l.group_size == 0 || l.num_groups == 0) return 0;
  const std::uint64_t blocks = bytes / l.page_bytes / l.group_size;
  return (l.uniform ? blocks : blocks / l.num_groups) * l.block_size;
}

std::optional<std::string> vllm_cudagraph_advice(const VllmCudagraphPlan& cg, const VllmKvLayout& layout) {
  if (!cg.estimated || !cg.likely_overshoots || cg.bytes == 0) return std::nullopt;
  const std::uint64_t saved_short = cg.bytes > cg.bytes_short_list ? cg.bytes - cg.bytes_short_list : 0;
  const auto gib = [](std::uint64_t b) { return to_gib_d(static_cast<double>(b)); };
  return fmt::format(
      "the CUDA-graph estimate ({:.2f} GiB for {} graphs{}) likely overshoots the pool vLLM then captures (logged "
      "estimates run 2-6x the real pool with many graphs or Mamba/linear-attention layers): --enforce-eager or "
      "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0 would give the KV cache {:.2f} GiB ({} tokens) more, "
      "--max-cudagraph-capture-size {} would give it {:.2f} GiB ({} tokens) more",
      gib(cg.bytes), cg.capture.graphs(), cg.hybrid ? ", hybrid model" : "", gib(cg.bytes),
      format_count(vllm_kv_tokens_for(layout, cg.bytes)), kSuggestedCeiling, gib(saved_short),
      format_count(vllm_kv_tokens_for(layout, saved_short)));
}

}  // namespace vramcalc
