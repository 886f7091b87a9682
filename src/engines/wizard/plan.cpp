// The vllm-wizard memory model on vram-calc's own weights and KV bytes per token.
// Bytes are integers throughout; a product with a fractional factor (utilization, fragmentation, a GiB setting)
// is rounded to the nearest byte once. Every sum is over the TP GPUs of one replica.
#include "vramcalc/engines/wizard/plan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc {

namespace {

constexpr std::uint64_t kOverheadFloor = kGiB;              // vllm-wizard: max(1.0 GiB, 0.02 x VRAM) ...
constexpr std::uint64_t kOverheadShareDivisor = 50;         // ... where 0.02 = 1/50, so the 2% is exact in integers
constexpr std::uint64_t kCommBytesPerExtraRank = kGiB / 4;  // vllm-wizard: + 0.25 GiB x (tp_size - 1)
constexpr double kKvShareWarning = 0.5;                     // vllm-wizard: warn when the KV cache takes over half
constexpr double kMaxGibSetting = 1024.0;
constexpr std::uint64_t kMaxGpuMemory = 1024 * kTiB;  // 1 PiB, as parse_size accepts
constexpr std::uint64_t kMaxTensorParallel = 1024;    // keeps TP x V (<= 2^60) far from the top of 64 bits
constexpr double kMaxBytes = 9.2e18;                  // round_bytes' range, just below 2^63
constexpr std::uint64_t kUnbounded = std::numeric_limits<std::uint64_t>::max();
constexpr auto kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

std::uint64_t gib_to_bytes(double gib, std::string_view what) {
  return round_bytes(gib * static_cast<double>(kGiB), what);
}

void check_gib_setting(double value, std::string_view flag) {
  if (!(value >= 0 && value <= kMaxGibSetting)) fail_input(fmt::format("{}: {} is outside [0, 1024] GiB", flag, value));
}

void validate(const WizardSettings& s, std::uint64_t gpu_memory_bytes) {
  if (gpu_memory_bytes == 0 || gpu_memory_bytes > kMaxGpuMemory)
    fail_input(fmt::format("--gpu-memory: {} bytes per GPU is outside 1 B to 1 PiB", gpu_memory_bytes));
  if (!(s.gpu_memory_utilization > 0 && s.gpu_memory_utilization <= 1))
    fail_input(fmt::format("--gpu-memory-utilization: {} is outside (0, 1]", s.gpu_memory_utilization));
  if (!(s.fragmentation_factor >= 1 && s.fragmentation_factor <= 10))
    fail_input(fmt::format("--fragmentation-factor: {} is outside [1, 10]", s.fragmentation_factor));
  check_gib_setting(s.headroom_gib, "--headroom-gib");
  if (s.overhead_gib) check_gib_setting(*s.overhead_gib, "--overhead-gib");
  if (s.context == 0) fail_input("--max-model-len: must be a positive number of tokens");
  if (s.concurrency == 0) fail_input("--concurrency: must be at least 1");
  if (s.gpus_per_node < 1 || s.gpus_per_node > 1024) fail_input("--gpus-per-node: must be from 1 to 1024");
  if (s.tensor_parallel_size && (*s.tensor_parallel_size == 0 || *s.tensor_parallel_size > kMaxTensorParallel))
    fail_input(
        fmt::format("--tensor-parallel-size: {} is outside 1 to {}", *s.tensor_parallel_size, kMaxTensorParallel));
  check_risk_thresholds(s.thresholds);
}

// vllm-wizard's KV term: bytes_per_unit x units x fragmentation_factor, rounded once.
// nullopt when it leaves the byte range (the caller decides: an error, or "does not fit").
std::optional<std::uint64_t> fragmented_kv(std::uint64_t bytes_per_unit, std::uint64_t units, double fragmentation) {
  std::uint64_t raw = 0;
  if (__builtin_mul_overflow(bytes_per_unit, units, &raw)) return std::nullopt;
  const double bytes = static_cast<double>(raw) * fragmentation;
  if (bytes >= kMaxBytes) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(bytes));
}

// The largest n whose KV term fragmented_kv(bytes_per_unit, n) fits in `available`: vllm-wizard's
// floor(available / (kv per unit)), found by bisection on the very function the plan sizes with, so that the
// maximum it reports rounds the same way and fits exactly. 0 when nothing is left.
std::uint64_t largest_fitting_units(std::int64_t available, std::uint64_t bytes_per_unit, double fragmentation) {
  if (available <= 0 || bytes_per_unit == 0) return 0;
  const auto avail = static_cast<std::uint64_t>(available);
  auto fits = [&](std::uint64_t n) {
    const auto kv = fragmented_kv(bytes_per_unit, n, fragmentation);
    return kv && *kv <= avail;
  };
  // fits(lo) holds; fits(hi) does not, since fragmentation >= 1 makes the term at least bytes_per_unit x n.
  std::uint64_t lo = 0;
  std::uint64_t hi = avail / bytes_per_unit + 1;
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

struct Overhead {
  std::uint64_t bytes = 0;
  std::string formula;
};

// vllm-wizard: max(1 GiB, 0.02 x V) + 0.25 GiB x (TP - 1), V one GPU's memory; a fixed overhead replaces it all.
Overhead wizard_overhead(std::uint64_t gpu_memory, std::uint64_t tp, const std::optional<double>& fixed_gib) {
  Overhead o;
  if (fixed_gib) {
    o.bytes = gib_to_bytes(*fixed_gib, "--overhead-gib");
    o.formula = fmt::format("{} fixed (--overhead-gib), in place of max(1 GiB, 0.02 x V) + 0.25 GiB x (TP - 1)",
                            format_gib(o.bytes));
    return o;
  }
  const std::uint64_t two_percent = (gpu_memory + kOverheadShareDivisor / 2) / kOverheadShareDivisor;
  const std::uint64_t base = std::max(kOverheadFloor, two_percent);
  const std::uint64_t comm = (tp - 1) * kCommBytesPerExtraRank;
  o.bytes = base + comm;
  if (tp == 1) o.formula = fmt::format("max(1 GiB, 0.02 x {}) = {}", format_gib(gpu_memory), format_gib(o.bytes));
  else
    o.formula = fmt::format("max(1 GiB, 0.02 x {}) + 0.25 GiB x ({} - 1) = {} + {} = {}", format_gib(gpu_memory), tp,
                            format_gib(base), format_gib(comm), format_gib(o.bytes));
  return o;
}

// What does not depend on the TP size: the context used and the KV cache (all of it, over the TP GPUs).
struct KvDemand {
  std::uint64_t context = 0;
  std::uint64_t bytes = 0;
  std::string formula;
};

KvDemand kv_demand(const KvCacheSpec& kv, std::uint64_t context, const WizardSettings& s) {
  KvDemand d;
  d.context = context;
  const std::uint64_t tokens = checked_mul(context, s.concurrency, "--max-model-len x --concurrency");
  const auto bytes = fragmented_kv(kv.bytes_per_token, tokens, s.fragmentation_factor);
  if (!bytes)
    fail_input(
        fmt::format("--max-model-len {} x --concurrency {}: a KV cache of {} B per token overflows the byte "
                    "range",
                    context, s.concurrency, kv.bytes_per_token));
  d.bytes = *bytes;
  d.formula =
      fmt::format("{} B/token x {} tokens x {} concurrency x {:g} fragmentation = {}", format_count(kv.bytes_per_token),
                  format_count(context), format_count(s.concurrency), s.fragmentation_factor, format_gib(d.bytes));
  return d;
}

void explain_risk(WizardPlan& p, const RiskThresholds& t) {
  if (p.oom_risk == OomRisk::Low) return;
  const auto headroom = fmt::format("{:.2f} GiB", static_cast<double>(p.headroom_bytes) / static_cast<double>(kGiB));
  if (p.oom_risk == OomRisk::Medium) {
    p.warnings.push_back(
        fmt::format("OOM risk medium: headroom {} is below the {:g} GiB low-risk bound; watch memory "
                    "under load",
                    headroom, t.low_gib));
  } else if (p.headroom_bytes < 0) {
    p.warnings.push_back(
        fmt::format("OOM risk high: the plan needs {} more than the {} allocatable; shorten "
                    "--max-model-len, lower --concurrency, use an fp8 KV cache or quantized weights, "
                    "or add GPUs",
                    format_gib(static_cast<std::uint64_t>(-p.headroom_bytes)), format_gib(p.allocatable_bytes)));
  } else {
    p.warnings.push_back(
        fmt::format("OOM risk high: headroom {} is below the {:g} GiB medium-risk bound", headroom, t.medium_gib));
  }
}

// vllm-wizard's maxima: floor((allocatable - weights - overhead - reserve) / (KV per sequence, or per token x
// concurrency)), the context one capped at max_position_embeddings.
void fill_maxima(WizardPlan& p, const ModelArch& arch, const KvCacheSpec& kv, const WizardSettings& s,
                 std::int64_t available) {
  std::uint64_t by_memory = 0;
  if (kv.bytes_per_token == 0) {
    // No layer holds per-token KV (a pure state-space model): memory limits neither once the rest fits.
    p.max_concurrency_at_context = available >= 0 ? kUnbounded : 0;
    by_memory = available >= 0 ? kUnbounded : 0;
  } else {
    // Both products are at most the KV term already computed, so they cannot overflow.
    const std::uint64_t per_sequence = checked_mul(kv.bytes_per_token, p.context, "KV bytes per sequence");
    const std::uint64_t per_token = checked_mul(kv.bytes_per_token, s.concurrency, "KV bytes per token");
    p.max_concurrency_at_context = largest_fitting_units(available, per_sequence, s.fragmentation_factor);
    by_memory = largest_fitting_units(available, per_token, s.fragmentation_factor);
  }
  if (arch.max_position_embeddings && *arch.max_position_embeddings <= by_memory) {
    p.max_context_at_concurrency = *arch.max_position_embeddings;
    p.max_context_limited_by = "max_position_embeddings";
  } else {
    p.max_context_at_concurrency = by_memory;
    p.max_context_limited_by = "memory";
  }
}

// The whole model at one TP size.
WizardPlan evaluate(const ModelArch& arch, std::uint64_t weight_bytes, const KvCacheSpec& kv, std::uint64_t gpu_memory,
                    const WizardSettings& s, const KvDemand& demand, std::uint64_t tp) {
  WizardPlan p;
  p.tensor_parallel_size = tp;
  p.gpus = tp;
  p.gpu_memory_bytes = gpu_memory;
  p.context = demand.context;
  // vllm-wizard: allocatable = VRAM x gpu_memory_utilization, VRAM being the TP GPUs together (TP x V <= 2^60).
  p.allocatable_bytes =
      round_bytes(static_cast<double>(tp * gpu_memory) * s.gpu_memory_utilization, "allocatable memory");
  p.weights_bytes = weight_bytes;
  p.kv_cache_bytes = demand.bytes;
  p.kv_formula = demand.formula;
  Overhead o = wizard_overhead(gpu_memory, tp, s.overhead_gib);
  p.overhead_bytes = o.bytes;
  p.overhead_formula = std::move(o.formula);
  p.reserve_bytes = gib_to_bytes(s.headroom_gib, "--headroom-gib");

  // vllm-wizard: required = weights + KV cache + overhead (+ the reserve); headroom = allocatable - required.
  const std::uint64_t fixed = checked_add(checked_add(p.weights_bytes, p.overhead_bytes, "required memory"),
                                          p.reserve_bytes, "required memory");
  p.required_bytes = checked_add(fixed, p.kv_cache_bytes, "required memory");
  if (p.required_bytes > kInt64Max)
    fail_input(fmt::format("required memory ({} B) is beyond any GPU: check the weights and --max-model-len",
                           p.required_bytes));
  const auto allocatable = static_cast<std::int64_t>(p.allocatable_bytes);  // below 9.2e18 (round_bytes)
  p.headroom_bytes = allocatable - static_cast<std::int64_t>(p.required_bytes);
  p.oom_risk = classify_oom_risk(p.headroom_bytes, s.thresholds);
  fill_maxima(p, arch, kv, s, allocatable - static_cast<std::int64_t>(fixed));

  if (p.headroom_bytes < 0)
    p.not_fit_reasons.push_back(fmt::format(
        "needs {} (weights {} + KV cache {} + overhead {} + reserve {}), but {} GPU(s) x {} x {:g} allow {}",
        format_gib(p.required_bytes), format_gib(p.weights_bytes), format_gib(p.kv_cache_bytes),
        format_gib(p.overhead_bytes), format_gib(p.reserve_bytes), tp, format_gib(gpu_memory), s.gpu_memory_utilization,
        format_gib(p.allocatable_bytes)));

  // vllm-wizard: a KV cache over half of the allocatable memory is worth a warning.
  const double kv_share =
      p.allocatable_bytes > 0 ? static_cast<double>(p.kv_cache_bytes) / static_cast<double>(p.allocatable_bytes) : 0.0;
  if (kv_share > kKvShareWarning)
    p.warnings.push_back(
        fmt::format("the KV cache takes {:.1f}% of the allocatable memory ({} of {}), over 50%: "
                    "consider --kv-cache-dtype fp8 or a shorter --max-model-len",
                    kv_share * 100.0, format_gib(p.kv_cache_bytes), format_gib(p.allocatable_bytes)));
  explain_risk(p, s.thresholds);
  if (kv.bytes_per_token == 0)
    p.warnings.push_back("no layer holds per-token KV cache: memory limits neither concurrency nor context");
  return p;
}

// Warnings (and, where vLLM refuses the layout, reasons) about a TP size.
void check_layout(WizardPlan& p, const ModelArch& arch, std::vector<std::string>& warnings) {
  const std::uint64_t tp = p.tensor_parallel_size;
  if (!arch.tp_divides_heads(tp)) {
    const auto why = fmt::format(
        "tensor parallel size {} does not divide the {} attention heads: vLLM refuses this "
        "layout",
        tp, arch.num_attention_heads);
    warnings.push_back(why);
    p.not_fit_reasons.push_back(why);
  }
  const std::uint64_t k = arch.num_key_value_heads;
  if (!arch.tp_matches_kv_heads(tp)) {
    const auto why = fmt::format(
        "tensor parallel size {} and the {} KV heads do not divide one another: vLLM refuses "
        "this layout",
        tp, k);
    warnings.push_back(why);
    p.not_fit_reasons.push_back(why);
  } else if (!arch.mla && k > 0 && tp > k) {
    warnings.push_back(
        fmt::format("tensor parallel size {} exceeds the {} KV heads: vLLM keeps each KV head on {} "
                    "GPUs, so the KV cache can take up to {}x this estimate",
                    tp, k, tp / k, tp / k));
  }
}

// vllm-wizard / the lead's rule: the smallest TP in 1..gpus_per_node that divides the heads and fits; when none fits,
// the largest valid one, marked as not fitting.
WizardPlan search_tp(const ModelArch& arch, std::uint64_t weight_bytes, const KvCacheSpec& kv, std::uint64_t gpu_memory,
                     const WizardSettings& s, const KvDemand& demand) {
  std::optional<WizardPlan> largest;
  const auto gpn = static_cast<std::uint64_t>(s.gpus_per_node);
  for (std::uint64_t tp = 1; tp <= gpn; ++tp) {
    if (!arch.tp_valid(tp)) continue;
    WizardPlan p = evaluate(arch, weight_bytes, kv, gpu_memory, s, demand, tp);
    if (p.headroom_bytes >= 0) return p;
    largest = std::move(p);
  }
  // TP 1 always qualifies, so `largest` is set.
  WizardPlan p = std::move(*largest);
  if (gpn > 1)  // with one GPU per node there was nothing to search
    p.not_fit_reasons.push_back(
        fmt::format("no tensor parallel size from 1 to {} that divides the {} attention "
                    "heads fits on one node; showing the largest, {}",
                    gpn, arch.num_attention_heads, p.tensor_parallel_size));
  return p;
}

}  // namespace

WizardPlan plan_wizard(const ModelArch& arch, std::uint64_t weight_bytes, const KvCacheSpec& kv,
                       std::uint64_t gpu_memory_bytes, const WizardSettings& s) {
  validate(s, gpu_memory_bytes);
  std::vector<std::string> warnings;

  // The requested length, capped to what the model's positions allow.
  std::uint64_t context = s.context;
  if (arch.max_position_embeddings && context > *arch.max_position_embeddings) {
    context = *arch.max_position_embeddings;
    warnings.push_back(fmt::format(
        "--max-model-len {} exceeds {} {}: capped to {}", s.context,
        arch.max_position_source.empty() ? "max_position_embeddings" : arch.max_position_source, context, context));
  }
  const KvDemand demand = kv_demand(kv, context, s);

  WizardPlan p;
  if (s.tensor_parallel_size) {
    p = evaluate(arch, weight_bytes, kv, gpu_memory_bytes, s, demand, *s.tensor_parallel_size);
    p.pinned = true;
  } else {
    p = search_tp(arch, weight_bytes, kv, gpu_memory_bytes, s, demand);
  }
  check_layout(p, arch, warnings);
  p.warnings.insert(p.warnings.begin(), warnings.begin(), warnings.end());
  p.fits = p.not_fit_reasons.empty();
  return p;
}

PlanSummary wizard_summary(const WizardPlan& w, const WizardSettings& s) {
  PlanSummary sum;
  sum.method = Method::Wizard;
  sum.fits = w.fits;
  sum.not_fit_reasons = w.not_fit_reasons;
  sum.pinned = w.pinned;
  sum.gpus = w.gpus;
  sum.gpus_needed = w.gpus;
  sum.nodes = nodes_for(w.gpus, s.gpus_per_node);
  sum.tensor_parallel_size = w.tensor_parallel_size;
  sum.max_model_len_requested = w.context;
  sum.max_model_len = w.context;

  sum.gpu_memory_bytes = w.gpu_memory_bytes;
  sum.memory_gpus = w.gpus;
  sum.memory = {{"weights", w.weights_bytes, ""},
                {"KV cache", w.kv_cache_bytes, w.kv_formula},
                {"overhead", w.overhead_bytes, w.overhead_formula}};
  if (w.reserve_bytes > 0) sum.memory.push_back({"reserve", w.reserve_bytes, "--headroom-gib"});
  sum.memory_total_bytes = w.required_bytes;
  sum.capacity_bytes = w.gpus * w.gpu_memory_bytes;
  sum.budget_bytes = w.allocatable_bytes;
  sum.engine_warnings = w.warnings;

  if (w.tensor_parallel_size > 1) {
    sum.command.emplace_back("--tensor-parallel-size");
    sum.command.push_back(std::to_string(w.tensor_parallel_size));
  }
  sum.command.emplace_back("--max-model-len");
  sum.command.push_back(std::to_string(w.context));
  sum.command.emplace_back("--gpu-memory-utilization");
  sum.command.push_back(fmt::format("{}", s.gpu_memory_utilization));
  return sum;
}

}  // namespace vramcalc
