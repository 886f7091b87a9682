// KAITO's "Model SKU Requirements Calculation Guide" (its sizing guide), measured on vLLM v0.10.1.
// All terms are in GiB (2^30 bytes) as doubles, computed exactly as the guide writes them.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/kaito/plan.hpp"

namespace vramcalc {

GpuMemory kaito_gpu_memory(const Gpu& gpu, std::optional<std::uint64_t> override_bytes,
                           std::vector<std::string>& warnings) {
  if (override_bytes) return {*override_bytes, "--gpu-memory"};
  if (gpu.memory_mib_reported) return {*gpu.memory_mib_reported * kMiB, "reported"};
  warnings.push_back(
      fmt::format("{}: no nvidia-smi reading is known; using the marketed {} GB read as {} GiB, "
                  "as KAITO does (likely an overestimate)",
                  gpu.name, gpu.memory_gib_marketed, gpu.memory_gib_marketed));
  return {round_bytes(gpu.memory_gib_marketed * static_cast<double>(kGiB), "GPU memory"), "marketed"};
}

namespace {

void validate(const KaitoSettings& s) {
  if (!(s.gpu_memory_utilization > 0 && s.gpu_memory_utilization <= 1))
    fail_input(fmt::format("--gpu-memory-utilization: {} is outside (0, 1]", s.gpu_memory_utilization));
  if (s.max_model_len == 0) fail_input("--max-model-len: must be a positive number of tokens");
  if (!(s.non_torch_gib >= 0 && s.non_torch_gib < 1024))
    fail_input("--non-torch-gib: must be at least 0 and below 1024");
  if (!(s.activation_gib >= 0 && s.activation_gib < 1024))
    fail_input("--activation-gib: must be at least 0 and below 1024");
  if (s.gpus_per_node < 1 || s.gpus_per_node > 1024) fail_input("--gpus-per-node: must be from 1 to 1024");
  if (s.concurrency < 1 || s.concurrency > 1'000'000) fail_input("--concurrency: must be from 1 to 1000000");
  if (!(s.kv_fragmentation >= 1 && s.kv_fragmentation <= 10))
    fail_input("--fragmentation-factor: must be from 1 to 10");
  if (!(s.reserve_gib >= 0 && s.reserve_gib <= 1024)) fail_input("--headroom-gib: must be from 0 to 1024");
}

std::uint64_t gib_to_bytes(double gib) { return round_bytes(gib * static_cast<double>(kGiB), "bytes"); }

// Per-GPU breakdown at the final max_model_len `len` on `gpus` GPUs; bpt: KV GiB per token with its factors.
PerGpuBreakdown per_gpu_breakdown(const KaitoSettings& s, std::uint64_t gpu_bytes, std::uint64_t weight_bytes,
                                  double bpt, std::uint64_t len, std::uint64_t gpus) {
  const double N = static_cast<double>(gpus);
  const double W = to_gib(weight_bytes);
  PerGpuBreakdown g;
  g.capacity_bytes = gpu_bytes;
  g.budget_bytes = gib_to_bytes(to_gib(gpu_bytes) * s.gpu_memory_utilization);
  g.weights_bytes = gib_to_bytes(W / N);
  g.weight_overhead_bytes = gib_to_bytes((s.weight_overhead - 1.0) * W / N);
  g.kv_cache_bytes = gib_to_bytes(bpt * static_cast<double>(len) / N);
  g.activation_bytes = gib_to_bytes(s.activation_gib);
  g.non_torch_bytes = gib_to_bytes(s.non_torch_gib);
  g.reserve_bytes = gib_to_bytes(s.reserve_gib);
  g.total_bytes = g.weights_bytes + g.weight_overhead_bytes + g.kv_cache_bytes + g.activation_bytes +
                  g.non_torch_bytes + g.reserve_bytes;
  return g;
}

}  // namespace

KaitoPlan plan_kaito(const ModelArch& arch, std::uint64_t weight_bytes, const KvCacheSpec& kv, const GpuMemory& gpu,
                     const KaitoSettings& s) {
  validate(s);
  KaitoPlan p;
  const double V = to_gib(gpu.bytes);
  const double u = s.gpu_memory_utilization;
  const double W = to_gib(weight_bytes);
  const double overhead = s.non_torch_gib + s.activation_gib + s.reserve_gib;  // 2.3 GiB by default
  // KV per token of the length asked for: x fragmentation x concurrent sequences (both 1 in the guide).
  const double bpt = to_gib(kv.bytes_per_token) * s.kv_fragmentation * static_cast<double>(s.concurrency);
  const auto gpn = static_cast<std::uint64_t>(s.gpus_per_node);

  // The requested length, capped to what the model's positions allow.
  p.max_model_len_requested = s.max_model_len;
  if (arch.max_position_embeddings && s.max_model_len > *arch.max_position_embeddings) {
    p.max_model_len_requested = *arch.max_position_embeddings;
    p.warnings.push_back(fmt::format("--max-model-len {} exceeds {} {}: capped to {}", s.max_model_len,
                                     arch.max_position_source, *arch.max_position_embeddings,
                                     *arch.max_position_embeddings));
  }
  const double L = static_cast<double>(p.max_model_len_requested);
  const double usable = V * u - overhead;
  if (usable <= 0)
    p.not_fit_reasons.push_back(
        fmt::format("V x u = {:.2f} GiB leaves nothing after the {:.1f} GiB per-GPU overhead", V * u, overhead));

  // GPU count: pinned, or searched with the guide's formula.
  if (s.gpus || s.tensor_parallel_size || s.pipeline_parallel_size) {
    p.pinned = true;
    const std::uint64_t tp = s.tensor_parallel_size.value_or(0);
    const std::uint64_t pp = s.pipeline_parallel_size.value_or(1);
    if (s.gpus && (s.tensor_parallel_size || s.pipeline_parallel_size) && tp != 0 && *s.gpus != tp * pp)
      fail_input(fmt::format("--gpus {} does not equal --tensor-parallel-size {} x --pipeline-parallel-size {}",
                             *s.gpus, tp, pp));
    p.gpus = s.gpus ? *s.gpus : (tp != 0 ? tp : 1) * pp;
    if (p.gpus == 0 || p.gpus > 100'000) fail_input("--gpus: must be from 1 to 100000");
    if (tp != 0) {
      p.tensor_parallel_size = tp;
      p.pipeline_parallel_size = pp;
    } else if (s.pipeline_parallel_size) {
      if (p.gpus % pp != 0)
        fail_input(fmt::format("--gpus {} is not a multiple of --pipeline-parallel-size {}", p.gpus, pp));
      p.tensor_parallel_size = p.gpus / pp;
      p.pipeline_parallel_size = pp;
    }
    p.nodes = nodes_for(p.gpus, s.gpus_per_node);
    p.gpus_needed = usable > 0
                        ? std::max<std::uint64_t>(
                              1, static_cast<std::uint64_t>(std::ceil((s.weight_overhead * W + bpt * L) / usable)))
                        : 0;
  } else {
    p.gpus_needed = usable > 0
                        ? std::max<std::uint64_t>(
                              1, static_cast<std::uint64_t>(std::ceil((s.weight_overhead * W + bpt * L) / usable)))
                        : 1;
    if (arch.falcon_single_gpu) {
      p.nodes = 1;
      p.gpus = 1;
    } else {
      p.nodes = nodes_for(p.gpus_needed, s.gpus_per_node);
      p.gpus = p.nodes * gpn;
    }
  }
  if (!s.tensor_parallel_size && !s.pipeline_parallel_size) {
    if (p.gpus <= gpn) {
      p.tensor_parallel_size = p.gpus;
      p.pipeline_parallel_size = 1;
    } else {
      p.tensor_parallel_size = gpn;
      p.pipeline_parallel_size = p.nodes;
      if (p.gpus % gpn != 0)
        p.warnings.push_back(fmt::format("{} GPUs do not fill {} nodes of {}: TP {} x PP {} uses {}", p.gpus, p.nodes,
                                         gpn, gpn, p.nodes, gpn * p.nodes));
    }
  }

  if (arch.falcon_single_gpu && (p.gpus > 1 || p.gpus_needed > 1))
    p.not_fit_reasons.push_back(
        fmt::format("Falcon models do not support multi-GPU serving (KAITO), and it needs {} GPUs",
                    std::max(p.gpus, p.gpus_needed)));

  // The longest length the N GPUs hold.
  const double N = static_cast<double>(p.gpus);
  const double residual = N * V * u - s.weight_overhead * W - overhead * N;
  // No KV-holding layer (a pure state-space model): any length fits once the weights do.
  const double by_memory = bpt > 0 ? residual / bpt : (residual >= 0 ? 9.0e18 : -1.0);
  p.max_model_len_by_memory = static_cast<std::int64_t>(std::floor(std::clamp(by_memory, -9.0e18, 9.0e18)));
  const std::uint64_t by_memory_clamped =
      p.max_model_len_by_memory > 0 ? static_cast<std::uint64_t>(p.max_model_len_by_memory) : 0;
  if (arch.max_position_embeddings && *arch.max_position_embeddings <= by_memory_clamped) {
    p.max_model_len = *arch.max_position_embeddings;
    p.max_model_len_limited_by = "max_position_embeddings";
  } else {
    p.max_model_len = by_memory_clamped;
    p.max_model_len_limited_by = "memory";
  }
  if (p.max_model_len < p.max_model_len_requested)
    p.not_fit_reasons.push_back(fmt::format("{} GPU(s) hold at most {} tokens, below the requested {}", p.gpus,
                                            p.max_model_len, p.max_model_len_requested));
  p.fits = p.not_fit_reasons.empty();

  // Tensor-parallel sanity, as vLLM will check it.
  if (p.tensor_parallel_size > 1 && !arch.tp_divides_heads(p.tensor_parallel_size))
    p.warnings.push_back(
        fmt::format("tensor parallel size {} does not divide the {} attention heads: vLLM will refuse "
                    "this layout",
                    p.tensor_parallel_size, arch.num_attention_heads));
  if (!arch.mla && p.tensor_parallel_size > arch.num_key_value_heads)
    p.warnings.push_back(
        fmt::format("tensor parallel size {} exceeds the {} KV heads: vLLM replicates them, so each GPU "
                    "holds more KV cache than this formula divides",
                    p.tensor_parallel_size, arch.num_key_value_heads));

  p.per_gpu = per_gpu_breakdown(s, gpu.bytes, weight_bytes, bpt, p.max_model_len, p.gpus);
  return p;
}

PlanSummary kaito_summary(const KaitoPlan& p, const KaitoSettings& s, std::uint64_t weight_bytes,
                          const KvCacheSpec& kv) {
  PlanSummary sum;
  sum.method = Method::Kaito;
  sum.fits = p.fits;
  sum.not_fit_reasons = p.not_fit_reasons;
  sum.pinned = p.pinned;
  sum.gpus = p.gpus;
  sum.gpus_needed = p.gpus_needed;
  sum.nodes = p.nodes;
  sum.tensor_parallel_size = p.tensor_parallel_size;
  sum.pipeline_parallel_size = p.pipeline_parallel_size;
  sum.max_model_len_requested = p.max_model_len_requested;
  sum.max_model_len = p.max_model_len;
  sum.max_model_len_by_memory = p.max_model_len_by_memory;
  sum.max_model_len_limited_by = p.max_model_len_limited_by;

  const PerGpuBreakdown& g = p.per_gpu;
  const auto gib = [](std::uint64_t bytes) { return fmt::format("{:.2f}", to_gib(bytes)); };
  std::string kv_factors;
  if (s.concurrency > 1) kv_factors += fmt::format(" x {} sequences", s.concurrency);
  if (s.kv_fragmentation != 1.0) kv_factors += fmt::format(" x {} fragmentation", s.kv_fragmentation);
  sum.gpu_memory_bytes = g.capacity_bytes;
  sum.memory = {
      {"weights", g.weights_bytes, fmt::format("{} GiB / {} GPU(s)", gib(weight_bytes), p.gpus)},
      {"weight overhead", g.weight_overhead_bytes, fmt::format("({} - 1) x weights", s.weight_overhead)},
      {"KV cache", g.kv_cache_bytes,
       fmt::format("{} B/token x {} tokens{} / {} GPU(s)", format_count(kv.bytes_per_token), p.max_model_len,
                   kv_factors, p.gpus)},
      {"activations", g.activation_bytes, "--activation-gib"},
      {"non-PyTorch", g.non_torch_bytes, "--non-torch-gib"},
  };
  if (g.reserve_bytes > 0) sum.memory.push_back({"reserve", g.reserve_bytes, "--headroom-gib"});
  sum.memory_total_bytes = g.total_bytes;
  sum.capacity_bytes = g.capacity_bytes;
  sum.budget_bytes = g.budget_bytes;
  sum.warnings = p.warnings;

  auto add = [&sum](const char* flag, const auto& value) {
    sum.command.emplace_back(flag);
    sum.command.push_back(fmt::format("{}", value));
  };
  if (p.tensor_parallel_size > 1) add("--tensor-parallel-size", p.tensor_parallel_size);
  if (p.pipeline_parallel_size > 1) add("--pipeline-parallel-size", p.pipeline_parallel_size);
  // An explicit --max-model-len is kept; otherwise the plan's final length, as KAITO configures vLLM.
  const std::uint64_t len = s.max_model_len_given && p.fits ? p.max_model_len_requested : p.max_model_len;
  if (len > 0) add("--max-model-len", len);
  add("--gpu-memory-utilization", s.gpu_memory_utilization);
  return sum;
}

}  // namespace vramcalc
