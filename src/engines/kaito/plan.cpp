// KAITO's "Model SKU Requirements Calculation Guide" (its sizing guide), measured on vLLM v0.10.1, and (--kaito-rules
// controller) the formulas KAITO's controller uses today (controller.cpp). The guide's terms are in GiB (2^30
// bytes) as doubles, computed exactly as the guide writes them.
#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/kaito/controller.hpp"
#include "vramcalc/engines/kaito/plan.hpp"

namespace vramcalc {

namespace {

struct RulesInfo {
  KaitoRules rules;
  std::string_view name;
  std::string_view source;
};
constexpr std::array<RulesInfo, 2> kRules = {{
    {KaitoRules::Guide, "guide", "KAITO sizing guide"},
    {KaitoRules::Controller, "controller", "KAITO controller"},
}};

}  // namespace

std::string_view kaito_rules_name(KaitoRules rules) {
  return rules == KaitoRules::Controller ? kRules[1].name : kRules[0].name;
}

std::string_view kaito_rules_source(KaitoRules rules) {
  return rules == KaitoRules::Controller ? kRules[1].source : kRules[0].source;
}

std::optional<KaitoRules> kaito_rules_named(std::string_view name) {
  for (const auto& info : kRules)
    if (info.name == name) return info.rules;
  return std::nullopt;
}

std::vector<std::string> kaito_rules_names() {
  std::vector<std::string> names;
  for (const auto& info : kRules) names.emplace_back(info.name);
  return names;
}

GpuMemory kaito_gpu_memory(const Gpu& gpu, std::optional<std::uint64_t> override_bytes,
                           std::vector<std::string>& warnings, KaitoRules rules) {
  if (override_bytes) return {*override_bytes, "--gpu-memory"};
  if (rules == KaitoRules::Controller)
    return {round_bytes(gpu.memory_gib_marketed * static_cast<double>(kGiB), "GPU memory"), "KAITO SKU table"};
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

// What every step of the plan reads: the model, the settings, and the guide's quantities in GiB.
struct Inputs {
  const ModelArch* arch = nullptr;
  const KvCacheSpec* kv = nullptr;
  const KaitoSettings* s = nullptr;
  std::uint64_t gpu_bytes = 0;
  std::uint64_t weight_bytes = 0;
  bool controller = false;
  double V = 0;          // GiB per GPU
  double u = 0;          // utilization planned with
  double W = 0;          // weight GiB
  double overhead = 0;   // per GPU: non-PyTorch + activations + reserve, 2.3 GiB by default
  double bpt = 0;        // KV GiB per token x fragmentation x concurrency
  double bpt_bytes = 0;  // the same in bytes
};

Inputs inputs_of(const ModelArch& arch, std::uint64_t weight_bytes, const KvCacheSpec& kv, const GpuMemory& gpu,
                 const KaitoSettings& s) {
  Inputs in;
  in.arch = &arch;
  in.kv = &kv;
  in.s = &s;
  in.gpu_bytes = gpu.bytes;
  in.weight_bytes = weight_bytes;
  in.controller = s.rules == KaitoRules::Controller;
  in.V = to_gib(gpu.bytes);
  in.u = in.controller ? kKaitoControllerUtilization : s.gpu_memory_utilization;
  in.W = to_gib(weight_bytes);
  in.overhead = s.non_torch_gib + s.activation_gib + s.reserve_gib;
  // KV per token of the length asked for: x fragmentation x concurrent sequences (both 1 in the guide).
  const double factors = s.kv_fragmentation * static_cast<double>(s.concurrency);
  in.bpt = to_gib(kv.bytes_per_token) * factors;
  in.bpt_bytes = static_cast<double>(kv.bytes_per_token) * factors;
  return in;
}

// The guide's n; 0 when V x u leaves nothing after the per-GPU overhead.
std::uint64_t guide_gpus(const Inputs& in, std::uint64_t len) {
  const double usable = in.V * in.u - in.overhead;
  if (usable <= 0) return 0;
  const double need = (in.s->weight_overhead * in.W + in.bpt * static_cast<double>(len)) / usable;
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(std::min(need, 1.0e15))));
}

// The GPUs the rules ask for when a node holds `per_node` of them (the controller spreads the context's KV cache
// over one node's GPUs); 0 when none leaves room.
std::uint64_t gpus_needed(const Inputs& in, std::uint64_t len, std::uint64_t per_node) {
  if (!in.controller) return guide_gpus(in, len);
  return kaito_controller_gpus(in.weight_bytes, in.bpt_bytes, len, in.gpu_bytes, per_node, in.overhead).min_gpus;
}

// The requested length, capped to what the model's positions allow.
void cap_requested(const Inputs& in, KaitoPlan& p) {
  const ModelArch& arch = *in.arch;
  const std::uint64_t asked = in.s->max_model_len;
  p.max_model_len_requested = asked;
  if (arch.max_position_embeddings && asked > *arch.max_position_embeddings) {
    p.max_model_len_requested = *arch.max_position_embeddings;
    p.warnings.push_back(fmt::format("--max-model-len {} exceeds {} {}: capped to {}", asked, arch.max_position_source,
                                     *arch.max_position_embeddings, *arch.max_position_embeddings));
  }
}

// --gpus / --tensor-parallel-size / --pipeline-parallel-size fix N (and TP, PP where given).
void pin_layout(const KaitoSettings& s, KaitoPlan& p) {
  p.pinned = true;
  const std::uint64_t tp = s.tensor_parallel_size.value_or(0);
  const std::uint64_t pp = s.pipeline_parallel_size.value_or(1);
  if (s.gpus && (s.tensor_parallel_size || s.pipeline_parallel_size) && tp != 0 && *s.gpus != tp * pp)
    fail_input(fmt::format("--gpus {} does not equal --tensor-parallel-size {} x --pipeline-parallel-size {}", *s.gpus,
                           tp, pp));
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
}

// The searched layout. Returns the GPUs per node the count was computed for (the controller's KV term).
std::uint64_t search_layout(const Inputs& in, KaitoPlan& p) {
  const auto gpn = static_cast<std::uint64_t>(in.s->gpus_per_node);
  const std::uint64_t len = p.max_model_len_requested;
  // The controller's 0 (its reserve takes the whole budget) is kept for the verdict; the guide shows at least 1.
  const auto shown = [&in](std::uint64_t need) { return in.controller ? need : std::max<std::uint64_t>(1, need); };
  if (in.arch->falcon_single_gpu) {
    p.gpus_needed = shown(gpus_needed(in, len, 1));
    p.nodes = 1;
    p.gpus = 1;
    return 1;
  }
  if (!in.s->whole_nodes) {
    // A bare GPU SKU: one node of the smallest tensor-parallel size vLLM accepts for the model that fits.
    for (std::uint64_t c = 1; c <= gpn; ++c) {
      if (c > 1 && !in.arch->tp_valid(c)) continue;
      const std::uint64_t need = gpus_needed(in, len, c);
      if (need == 0 || need > c) continue;
      p.gpus_needed = need;
      p.gpus = c;
      p.nodes = 1;
      return c;
    }
  }
  // Whole nodes of gpn GPUs (a bare GPU that needs more than one node: nodes of gpn with PP between them).
  const std::uint64_t need = gpus_needed(in, len, gpn);
  p.gpus_needed = shown(need);
  if (need == 0 && !in.s->whole_nodes && !in.controller) {
    p.gpus = p.nodes = 1;  // nothing fits on any count: the guide's verdict needs no more than one GPU to say so
    return 1;
  }
  p.nodes = nodes_for(std::max<std::uint64_t>(1, need), in.s->gpus_per_node);
  p.gpus = p.nodes * gpn;
  return gpn;
}

// TP within a node, PP across nodes, unless pinned.
void assign_parallelism(const KaitoSettings& s, KaitoPlan& p) {
  if (s.tensor_parallel_size || s.pipeline_parallel_size) return;
  const auto gpn = static_cast<std::uint64_t>(s.gpus_per_node);
  if (p.gpus <= gpn) {
    p.tensor_parallel_size = p.gpus;
    p.pipeline_parallel_size = 1;
    return;
  }
  p.tensor_parallel_size = gpn;
  p.pipeline_parallel_size = p.nodes;
  if (p.gpus % gpn != 0)
    p.warnings.push_back(fmt::format("{} GPUs do not fill {} nodes of {}: TP {} x PP {} uses {}", p.gpus, p.nodes, gpn,
                                     gpn, p.nodes, gpn * p.nodes));
}

std::string positions_text(const ModelArch& arch) {
  return arch.max_position_embeddings ? fmt::format("{}", *arch.max_position_embeddings) : std::string("none");
}

// The guide's length: min(floor((N V u - 1.02 W - 2.3 N) / bytes_per_token), max_position_embeddings).
void guide_length(const Inputs& in, KaitoPlan& p) {
  const double N = static_cast<double>(p.gpus);
  const double residual = N * in.V * in.u - in.s->weight_overhead * in.W - in.overhead * N;
  // No KV-holding layer (a pure state-space model): any length fits once the weights do.
  const double by_memory = in.bpt > 0 ? residual / in.bpt : (residual >= 0 ? 9.0e18 : -1.0);
  p.max_model_len_by_memory = static_cast<std::int64_t>(std::floor(std::clamp(by_memory, -9.0e18, 9.0e18)));
  const std::uint64_t by_memory_clamped =
      p.max_model_len_by_memory > 0 ? static_cast<std::uint64_t>(p.max_model_len_by_memory) : 0;
  if (in.arch->max_position_embeddings && *in.arch->max_position_embeddings <= by_memory_clamped) {
    p.max_model_len = *in.arch->max_position_embeddings;
    p.max_model_len_limited_by = "max_position_embeddings";
  } else {
    p.max_model_len = by_memory_clamped;
    p.max_model_len_limited_by = "memory";
  }
  p.max_model_len_formula =
      fmt::format("min(floor(({} x {:.2f} x {} - {} x {:.2f} - {} x {}) / {:.6f}), {})", p.gpus, in.V, in.u,
                  in.s->weight_overhead, in.W, in.overhead, p.gpus, in.bpt, positions_text(*in.arch));
}

// The controller's ComputeMaxModelLen on the plan's layout: its GPUs per node are the TP ranks, its nodes the PP
// stages (a Falcon-style model runs on one GPU, TP = PP = 1, so nothing is divided, as the controller does).
void controller_length(const Inputs& in, KaitoPlan& p) {
  const KaitoControllerLength l =
      kaito_controller_max_model_len(in.weight_bytes, in.bpt_bytes, in.kv->mla, in.gpu_bytes, p.tensor_parallel_size,
                                     p.pipeline_parallel_size, in.arch->max_position_embeddings, in.overhead);
  p.max_model_len_by_memory = l.by_memory;
  p.max_model_len = l.max_model_len;
  p.max_model_len_limited_by = l.limited_by_positions ? "max_position_embeddings" : "memory";
  const std::string kv_divisor = in.kv->mla
                                     ? fmt::format("{} stage(s); MLA: not by TP", p.pipeline_parallel_size)
                                     : fmt::format("{} x {} GPU(s)", p.tensor_parallel_size, p.pipeline_parallel_size);
  p.max_model_len_formula =
      fmt::format("floor256(min(int(({:.2f} x {} - {:.2f} - ({} + {} x {:.2f})) GiB / ({:.0f} B / {})), {}))", in.V,
                  kKaitoControllerUtilization, l.weights_gib, in.overhead, kKaitoControllerWeightOverheadFactor,
                  l.weights_gib, in.bpt_bytes, kv_divisor, positions_text(*in.arch));
}

// n's formula with its numbers; per_node: the GPUs per node the controller's KV term was divided by.
std::string gpus_needed_formula(const Inputs& in, const KaitoPlan& p, std::uint64_t per_node) {
  const double L = static_cast<double>(p.max_model_len_requested);
  if (!in.controller)
    return fmt::format("{} = max(1, ceil(({} x {:.2f} + {:.6f} x {}) / ({:.2f} x {} - {})))", p.gpus_needed,
                       in.s->weight_overhead, in.W, in.bpt, p.max_model_len_requested, in.V, in.u, in.overhead);
  return fmt::format("{} = int({} x {:.2f} / (({:.2f} x {} - {} - {:.6f} x {} / {}) / {})) + 1", p.gpus_needed,
                     kKaitoControllerWeightExpansion, in.W, in.V, kKaitoControllerUtilization, in.overhead, in.bpt, L,
                     per_node, 1 + kKaitoControllerWeightOverheadFactor);
}

// Under the guide, an MLA model's latent cache is divided by TP, though vLLM holds all of it on every TP rank.
void mla_warning(const Inputs& in, KaitoPlan& p) {
  if (in.controller || !in.kv->mla || p.tensor_parallel_size <= 1 || in.bpt <= 0) return;
  const double N = static_cast<double>(p.gpus);
  const double tp = static_cast<double>(p.tensor_parallel_size);
  const double room = N * in.V * in.u - in.s->weight_overhead * in.W - in.overhead * N;
  if (room <= 0) return;
  const double L = static_cast<double>(p.max_model_len_requested);
  const double per_sequence = to_gib(in.kv->bytes_per_token) * in.s->kv_fragmentation * L;
  const auto guide_sequences = static_cast<std::uint64_t>(std::floor(room / per_sequence));
  const auto true_sequences = static_cast<std::uint64_t>(std::floor(room / (per_sequence * tp)));
  std::string length;
  const auto true_length = static_cast<std::uint64_t>(std::floor(std::min(room / (in.bpt * tp), 9.0e18)));
  if (true_length < p.max_model_len)
    length = fmt::format(", and the longest context is about {} tokens, not {}", true_length, p.max_model_len);
  p.warnings.push_back(fmt::format(
      "KAITO's sizing guide divides this MLA model's latent KV cache over all {} GPUs, but vLLM keeps the whole "
      "latent on each of the {} tensor-parallel ranks: the {:.1f} GiB left for KV cache hold {} sequences of {} "
      "tokens by the guide, about {} in truth{} (--kaito-rules controller does not divide it)",
      p.gpus, p.tensor_parallel_size, room, guide_sequences, p.max_model_len_requested, true_sequences, length));
}

// A tensor-parallel size vLLM refuses is a layout that does not run: part of the verdict.
void layout_verdict(const ModelArch& arch, KaitoPlan& p) {
  const std::uint64_t tp = p.tensor_parallel_size;
  if (tp > 1 && !arch.tp_divides_heads(tp))
    p.not_fit_reasons.push_back(
        fmt::format("tensor parallel size {} does not divide the {} attention heads: vLLM "
                    "refuses it",
                    tp, arch.num_attention_heads));
  else if (tp > 1 && !arch.tp_matches_kv_heads(tp))
    p.not_fit_reasons.push_back(
        fmt::format("tensor parallel size {} neither divides the {} KV heads nor is a multiple of them (to "
                    "replicate them): vLLM refuses it",
                    tp, arch.num_key_value_heads));
  if (!arch.mla && arch.num_key_value_heads > 0 && tp > arch.num_key_value_heads && arch.tp_matches_kv_heads(tp))
    p.warnings.push_back(
        fmt::format("tensor parallel size {} exceeds the {} KV heads: vLLM replicates them, so each GPU "
                    "holds more KV cache than this formula divides",
                    tp, arch.num_key_value_heads));
}

// Why the plan does not fit, in the order a reader checks them: room per GPU, the model's own limits, the length.
void verdicts(const Inputs& in, KaitoPlan& p) {
  if (!in.controller && in.V * in.u - in.overhead <= 0)
    p.not_fit_reasons.push_back(fmt::format("V x u = {:.2f} GiB leaves nothing after the {:.1f} GiB per-GPU overhead",
                                            in.V * in.u, in.overhead));
  if (in.controller && p.gpus_needed == 0)
    p.not_fit_reasons.push_back(
        fmt::format("{:.2f} GiB x {} = {:.2f} GiB per GPU leaves nothing after KAITO's controller reserve ({} GiB + "
                    "the context's KV cache spread over one node)",
                    in.V, kKaitoControllerUtilization, in.V * kKaitoControllerUtilization, in.overhead));
  if (in.arch->falcon_single_gpu) {
    // The guide serves Falcon on one GPU; the controller refuses it only on more than one node.
    const bool refused =
        in.controller ? nodes_for(p.gpus_needed, in.s->gpus_per_node) > 1 : (p.gpus > 1 || p.gpus_needed > 1);
    if (refused)
      p.not_fit_reasons.push_back(
          fmt::format("Falcon models do not support multi-GPU serving (KAITO), and it needs {} GPUs",
                      std::max(p.gpus, p.gpus_needed)));
  }
  if (p.max_model_len < p.max_model_len_requested)
    p.not_fit_reasons.push_back(fmt::format("{} GPU(s) hold at most {} tokens, below the requested {}", p.gpus,
                                            p.max_model_len, p.max_model_len_requested));
  layout_verdict(*in.arch, p);
  p.fits = p.not_fit_reasons.empty();
}

// What one GPU's share of the weights and of the KV cache is divided by: N under the guide; under the controller
// TP x PP, and for MLA's KV cache PP alone.
std::uint64_t weight_shards(const KaitoPlan& p) {
  if (p.rules == KaitoRules::Guide) return std::max<std::uint64_t>(1, p.gpus);
  return std::max<std::uint64_t>(1, p.tensor_parallel_size * p.pipeline_parallel_size);
}
std::uint64_t kv_shards(const KaitoPlan& p, bool mla) {
  if (p.rules == KaitoRules::Controller && mla) return std::max<std::uint64_t>(1, p.pipeline_parallel_size);
  return weight_shards(p);
}

// Per-GPU breakdown at the plan's final max_model_len.
PerGpuBreakdown per_gpu_breakdown(const Inputs& in, const KaitoPlan& p) {
  const KaitoSettings& s = *in.s;
  const auto shards = static_cast<double>(weight_shards(p));
  PerGpuBreakdown g;
  g.capacity_bytes = in.gpu_bytes;
  g.budget_bytes = gib_to_bytes(in.V * in.u);
  g.weights_bytes = gib_to_bytes(in.W / shards);
  g.weight_overhead_bytes = gib_to_bytes((s.weight_overhead - 1.0) * in.W / shards);
  g.kv_cache_bytes =
      gib_to_bytes(in.bpt * static_cast<double>(p.max_model_len) / static_cast<double>(kv_shards(p, in.kv->mla)));
  // The controller's 0.05 x per-GPU weights stands for activations and CUDA graphs growing with the model.
  const double scaled = in.controller ? kKaitoControllerWeightOverheadFactor * s.weight_overhead * in.W / shards : 0;
  g.activation_bytes = gib_to_bytes(s.activation_gib + scaled);
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
  const Inputs in = inputs_of(arch, weight_bytes, kv, gpu, s);
  KaitoPlan p;
  p.rules = s.rules;
  p.source = std::string(kaito_rules_source(s.rules));
  p.gpu_memory_utilization = in.u;
  if (in.controller && s.gpu_memory_utilization_given && s.gpu_memory_utilization != kKaitoControllerUtilization)
    p.warnings.push_back(
        fmt::format("KAITO's controller sizes with --gpu-memory-utilization {} whatever is asked: "
                    "{} is not used",
                    kKaitoControllerUtilization, s.gpu_memory_utilization));
  cap_requested(in, p);

  std::uint64_t per_node = 0;
  if (s.gpus || s.tensor_parallel_size || s.pipeline_parallel_size) {
    pin_layout(s, p);
    assign_parallelism(s, p);
    per_node = p.tensor_parallel_size;
    p.gpus_needed = gpus_needed(in, p.max_model_len_requested, per_node);
  } else {
    per_node = search_layout(in, p);
    assign_parallelism(s, p);
  }
  p.gpus_needed_formula = gpus_needed_formula(in, p, per_node);

  if (in.controller) controller_length(in, p);
  else guide_length(in, p);
  verdicts(in, p);
  mla_warning(in, p);
  p.per_gpu = per_gpu_breakdown(in, p);
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
  const bool controller = p.rules == KaitoRules::Controller;
  std::string kv_factors;
  if (s.concurrency > 1) kv_factors += fmt::format(" x {} sequences", s.concurrency);
  if (s.kv_fragmentation != 1.0) kv_factors += fmt::format(" x {} fragmentation", s.kv_fragmentation);
  const std::string kv_divisor =
      controller && kv.mla
          ? fmt::format("{} stage(s) (MLA: the whole latent on every TP rank)", p.pipeline_parallel_size)
          : fmt::format("{} GPU(s)", weight_shards(p));
  sum.gpu_memory_bytes = g.capacity_bytes;
  sum.memory = {
      {"weights", g.weights_bytes, fmt::format("{} GiB / {} GPU(s)", gib(weight_bytes), weight_shards(p))},
      {"weight overhead", g.weight_overhead_bytes, fmt::format("({} - 1) x weights", s.weight_overhead)},
      {"KV cache", g.kv_cache_bytes,
       fmt::format("{} B/token x {} tokens{} / {}", format_count(kv.bytes_per_token), p.max_model_len, kv_factors,
                   kv_divisor)},
      {"activations", g.activation_bytes,
       controller ? fmt::format("--activation-gib + {} x {} x weights ({})", kKaitoControllerWeightOverheadFactor,
                                s.weight_overhead, p.source)
                  : std::string("--activation-gib")},
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
  // An explicit --max-model-len is kept; otherwise the plan's final length, as KAITO configures vLLM (the
  // controller's rounded down to a multiple of 256).
  const std::uint64_t len = s.max_model_len_given && p.fits ? p.max_model_len_requested : p.max_model_len;
  if (len > 0) add("--max-model-len", len);
  add("--gpu-memory-utilization", p.gpu_memory_utilization > 0 ? p.gpu_memory_utilization : s.gpu_memory_utilization);
  return sum;
}

}  // namespace vramcalc
