// One SKU's plan: the KAITO baseline, the chosen method's plan and summary through one table of methods, the launch
// command, then the feasibility report every engine shares.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "report/baseline.hpp"
#include "report/plan_cache.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/kaito/controller.hpp"
#include "vramcalc/engines/vllm/command.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/report/report.hpp"

namespace vramcalc {

namespace {

double gib_of(std::int64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kGiB); }

std::int64_t to_signed_bytes(double gib) {
  const double b = std::clamp(gib * static_cast<double>(kGiB), -9.0e18, 9.0e18);
  return static_cast<std::int64_t>(std::llround(b));
}

std::uint64_t floor_count(double x) {
  if (!(x > 0)) return 0;
  return x >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(std::floor(x));
}

std::uint64_t cap_context(const ModelArch& a, std::uint64_t len) {
  return a.max_position_embeddings ? std::min(len, *a.max_position_embeddings) : len;
}

// The memory flags in nvidia-smi's convention (KAITO's, and TGI's where given): --gpu-memory, else --cuda-total
// plus the median gap between the two readings.
std::optional<std::uint64_t> nvidia_smi_total(const ReportSettings& rs) {
  if (rs.gpu_memory_override) return rs.gpu_memory_override;
  if (rs.cuda_total_override) return *rs.cuda_total_override + kMedianCudaGapMiB * kMiB;
  return std::nullopt;
}

// The total CUDA reports, which vLLM sizes against: --cuda-total, else --gpu-memory less the median gap, else the
// SKU's (vllm_gpu_total).
GpuMemory cuda_total(const ReportSettings& rs, const Gpu& gpu, std::vector<std::string>& warnings) {
  if (rs.cuda_total_override) return {*rs.cuda_total_override, "--cuda-total"};
  if (rs.gpu_memory_override) {
    const std::uint64_t gap = kMedianCudaGapMiB * kMiB;
    return {*rs.gpu_memory_override > gap ? *rs.gpu_memory_override - gap : *rs.gpu_memory_override,
            fmt::format("--gpu-memory (nvidia-smi's total) minus the median {} MiB gap to the CUDA total",
                        kMedianCudaGapMiB)};
  }
  return vllm_gpu_total(gpu, std::nullopt, warnings);
}

// What the memory flags were read as, and what a GPU known only by its memory is assumed to be.
void memory_flag_warnings(const ReportSettings& rs, const Sku& sku, std::vector<std::string>& warnings) {
  if (sku.gpu.note == kMemoryOnlyGpuNote) warnings.push_back(fmt::format("{}: {}", sku.gpu.name, sku.gpu.note));
  if (rs.gpu_memory_override && !rs.cuda_total_override)
    warnings.push_back(
        fmt::format("--gpu-memory {:.2f} GiB is read as nvidia-smi's total (KAITO's figure); vLLM "
                    "sizes against CUDA's, taken as {} MiB less (the median gap; --cuda-total gives it)",
                    to_gib(*rs.gpu_memory_override), kMedianCudaGapMiB));
  if (rs.cuda_total_override && !rs.gpu_memory_override)
    warnings.push_back(
        fmt::format("--cuda-total {:.2f} GiB is CUDA's total (vLLM's figure); KAITO's nvidia-smi total "
                    "is taken as {} MiB more (the median gap; --gpu-memory gives it)",
                    to_gib(*rs.cuda_total_override), kMedianCudaGapMiB));
}

// TGI: --num-shard pinned, else the smallest shard count within a node that divides the heads and fits.
TgiPlan plan_tgi_engine(const Report& r, const Sku& sku, std::vector<std::string>& warnings) {
  TgiSettings ts = r.settings.tgi;
  if (const auto smi = nvidia_smi_total(r.settings)) {
    ts.gpu_memory_bytes = *smi;
  } else {
    // The notebook's convention: the marketed size, read as GB (10^9 bytes).
    ts.gpu_memory_bytes = round_bytes(sku.gpu.memory_gib_marketed * static_cast<double>(kGB), "GPU memory");
  }
  const DType act = r.weights.serving_dtype;
  if (r.settings.tgi_num_shard) {
    ts.num_shard = *r.settings.tgi_num_shard;
    return plan_tgi(r.arch, r.weights.bytes, r.kv, act, ts);
  }
  const auto gpn = static_cast<std::uint64_t>(std::max(1, sku.gpus_per_node));
  TgiPlan last;
  bool any = false;
  for (std::uint64_t n = 1; n <= gpn; ++n) {
    if (n > 1 && !r.arch.tp_divides_heads(n)) continue;
    ts.num_shard = n;
    last = plan_tgi(r.arch, r.weights.bytes, r.kv, act, ts);
    any = true;
    if (last.fits) return last;
  }
  if (!any) {
    ts.num_shard = 1;
    last = plan_tgi(r.arch, r.weights.bytes, r.kv, act, ts);
  }
  warnings.push_back(
      fmt::format("no shard count up to the {} GPU(s) of a {} node fits; showing {}", gpn, sku.name, last.num_shard));
  return last;
}

void share_warning(Feasibility& f, double kv, double allocatable, const char* what) {
  if (allocatable > 0 && kv / allocatable > 0.5)
    f.warnings.push_back(
        fmt::format("the KV cache takes {:.0f}% of {}: context and concurrency, not the weights, "
                    "decide the fit (an fp8 KV cache halves it)",
                    100.0 * kv / allocatable, what));
}

Feasibility kaito_feasibility(const Report& r, const SkuPlan& sp) {
  const KaitoPlan& p = sp.kaito;
  const KaitoSettings& k = r.settings.kaito;
  Feasibility f;
  f.context = p.max_model_len_requested;
  f.concurrency = r.settings.concurrency;
  const double N = static_cast<double>(std::max<std::uint64_t>(1, p.gpus));
  const double u = p.gpu_memory_utilization > 0 ? p.gpu_memory_utilization : k.gpu_memory_utilization;
  const double Vu = to_gib(sp.gpu_memory.bytes) * u;
  // The controller adds 5% of the weights per GPU to its 2.3 GiB (controller.hpp).
  const double per_gpu_weights =
      k.weight_overhead * to_gib(r.weights.bytes) / static_cast<double>(std::max<std::uint64_t>(1, p.gpus));
  const double fixed = k.non_torch_gib + k.activation_gib + r.settings.headroom_gib +
                       (k.rules == KaitoRules::Controller ? kKaitoControllerWeightOverheadFactor * per_gpu_weights : 0);
  const double W = k.weight_overhead * to_gib(r.weights.bytes);
  const double bpt = to_gib(r.kv.bytes_per_token) * r.settings.fragmentation_factor;
  const double kv = bpt * static_cast<double>(f.context) * static_cast<double>(f.concurrency);
  const double headroom = Vu - (W + kv) / N - fixed;
  f.headroom_bytes = to_signed_bytes(headroom);
  f.headroom_formula = fmt::format("{:.2f} GiB x {} - ({:.2f} + {:.2f}) GiB / {} GPU(s) - {:.2f} GiB = {:.2f} GiB",
                                   to_gib(sp.gpu_memory.bytes), u, W, kv, p.gpus, fixed, headroom);
  const double residual = N * (Vu - fixed) - W;
  f.max_concurrency_at_context = bpt > 0 ? floor_count(residual / (bpt * static_cast<double>(f.context)))
                                         : (residual >= 0 ? std::numeric_limits<std::uint64_t>::max() : 0);
  f.max_context_at_concurrency =
      cap_context(r.arch, bpt > 0 ? floor_count(residual / (bpt * static_cast<double>(f.concurrency)))
                                  : (residual >= 0 ? std::numeric_limits<std::uint64_t>::max() : 0));
  share_warning(f, kv / N, Vu, "each GPU's budget");
  return f;
}

Feasibility vllm_feasibility(const Report& r, const SkuPlan& sp) {
  const VllmPlan& v = *sp.vllm;
  Feasibility f;
  f.context = v.max_model_len;
  f.concurrency = r.settings.concurrency;
  const double frag = r.settings.fragmentation_factor;
  const auto reserve = to_signed_bytes(r.settings.headroom_gib);
  const double per_seq = static_cast<double>(v.capacity.needed_bytes) * frag;
  const double need = per_seq * static_cast<double>(f.concurrency);
  const double left = static_cast<double>(v.available_kv_bytes - reserve);
  f.headroom_bytes = to_signed_bytes((left - need) / static_cast<double>(kGiB));
  f.headroom_formula =
      fmt::format("available KV {:.2f} GiB - {} x {:.2f} GiB per {}-token sequence{} - {:.2f} GiB reserve = {:.2f} GiB",
                  gib_of(v.available_kv_bytes), f.concurrency, static_cast<double>(v.capacity.needed_bytes) / kGiB,
                  f.context, frag != 1.0 ? fmt::format(" x {} fragmentation", frag) : std::string(), gib_of(reserve),
                  gib_of(f.headroom_bytes));
  f.max_concurrency_at_context = per_seq > 0 ? floor_count(left / per_seq) : 0;
  // The longest length `concurrency` sequences can each have: vLLM's own per-request bytes, searched.
  f.max_context_at_concurrency = vllm_longest_length(v.layout, v.max_num_batched_tokens, f.concurrency, left,
                                                     r.arch.max_position_embeddings.value_or(1ULL << 24), frag);
  f.context_fills_cache = v.context_filled && !v.kv_cache_memory_given;
  if (!f.context_fills_cache)
    share_warning(f, need, static_cast<double>(v.requested_bytes), "the memory vLLM may use per GPU");
  else if (v.max_model_len < v.model_max_len)
    f.warnings.push_back(fmt::format(
        "no --max-model-len was given: {} tokens is the longest {} request(s) can each have in the {} tokens of KV "
        "cache vLLM preallocates; more or longer requests wait or are preempted, they do not run out of memory",
        v.max_model_len, f.concurrency, v.capacity.kv_cache_tokens));
  return f;
}

Feasibility wizard_feasibility(const Report& r, const SkuPlan& sp) {
  const WizardPlan& w = *sp.wizard;
  Feasibility f;
  f.context = w.context;  // after the max_position_embeddings cap
  f.concurrency = r.settings.concurrency;
  const auto tp = static_cast<std::int64_t>(std::max<std::uint64_t>(1, w.tensor_parallel_size));
  f.headroom_bytes = w.headroom_bytes / tp;
  f.headroom_formula = fmt::format("(allocatable {:.2f} - required {:.2f}) GiB / TP {} = {:.2f} GiB",
                                   to_gib(w.allocatable_bytes), to_gib(w.required_bytes), tp, gib_of(f.headroom_bytes));
  f.max_concurrency_at_context = w.max_concurrency_at_context;
  f.max_context_at_concurrency = w.max_context_at_concurrency;
  share_warning(f, static_cast<double>(w.kv_cache_bytes), static_cast<double>(w.allocatable_bytes),
                "the allocatable memory");
  return f;
}

Feasibility tgi_feasibility(const Report& r, const SkuPlan& sp) {
  const TgiPlan& t = *sp.tgi;
  Feasibility f;
  f.context = t.max_total_tokens;
  f.concurrency = t.batch_size;
  const double frag = r.settings.fragmentation_factor;
  const double shards = static_cast<double>(std::max<std::uint64_t>(1, t.num_shard));
  const double reserve = r.settings.headroom_gib * static_cast<double>(kGiB) * shards;
  const double kv = static_cast<double>(t.kv_cache_bytes) * frag;
  const double fixed = static_cast<double>(t.total_needed_bytes - t.kv_cache_bytes) + reserve;
  const double avail = static_cast<double>(t.available_bytes);
  const double headroom_all = avail - fixed - kv;
  f.headroom_bytes = to_signed_bytes(headroom_all / shards / static_cast<double>(kGiB));
  f.headroom_formula =
      fmt::format("(available {:.5f} GB - needed {:.5f} GB{}{}) / {} shard(s) = {:.2f} GiB", avail / 1e9,
                  static_cast<double>(t.total_needed_bytes) / 1e9,
                  frag != 1.0 ? fmt::format(" - KV x ({} - 1) fragmentation", frag) : std::string(),
                  reserve > 0 ? fmt::format(" - {:.2f} GiB reserve x shards", r.settings.headroom_gib) : std::string(),
                  t.num_shard, gib_of(f.headroom_bytes));
  const double bpt = static_cast<double>(t.kv_bytes_per_token) * frag;
  const double per_seq = bpt * static_cast<double>(t.max_total_tokens - 1);
  f.max_concurrency_at_context = per_seq > 0 ? floor_count((avail - fixed) / per_seq) : 0;
  const std::uint64_t tokens = bpt > 0 ? floor_count((avail - fixed) / (bpt * static_cast<double>(t.batch_size))) : 0;
  f.max_context_at_concurrency = tokens > 0 ? cap_context(r.arch, tokens + 1) : 0;  // KV holds max_total_tokens - 1
  share_warning(f, kv, avail, "the memory TGI may use");
  return f;
}

void finish_feasibility(const Report& r, SkuPlan& sp) {
  Feasibility& f = sp.feasibility;
  f.oom_risk = classify_oom_risk(f.headroom_bytes, r.settings.risk_thresholds);
  if (f.context_fills_cache && f.headroom_bytes >= 0) f.oom_risk = OomRisk::Low;
  f.fits = sp.engine_fits() && f.headroom_bytes >= 0;
  const auto& t = r.settings.risk_thresholds;
  if (f.oom_risk == OomRisk::Medium)
    f.warnings.push_back(
        fmt::format("medium OOM risk: {:.2f} GiB of headroom per GPU is under {} GiB; traffic "
                    "spikes, CUDA graphs or a larger batch can exhaust it",
                    gib_of(f.headroom_bytes), t.low_gib));
  else if (f.oom_risk == OomRisk::High)
    f.warnings.push_back(fmt::format("high OOM risk: headroom per GPU is {:.2f} GiB (below {} GiB)",
                                     gib_of(f.headroom_bytes), t.medium_gib));
  if (r.arch.max_position_embeddings && f.max_context_at_concurrency == *r.arch.max_position_embeddings &&
      f.context <= f.max_context_at_concurrency)
    f.warnings.push_back(
        fmt::format("context is capped by the model: {} allows at most {} tokens, though memory "
                    "would hold more",
                    r.arch.max_position_source, *r.arch.max_position_embeddings));
}
// The settings KAITO's plan is made with for one SKU: the report's, with the SKU's node and the shared axes.
KaitoSettings kaito_settings(const Report& r, const SkuPlan& sp) {
  const ReportSettings& rs = r.settings;
  KaitoSettings ks = rs.kaito;
  ks.gpus_per_node = sp.sku.gpus_per_node;  // after --gpus-per-node
  // An instance, or --gpus-per-node: whole nodes; a bare GPU: one node of the smallest valid TP that fits.
  ks.whole_nodes = sp.sku.is_instance || rs.gpus_per_node_override.has_value();
  ks.concurrency = rs.concurrency;
  ks.kv_fragmentation = rs.fragmentation_factor;
  ks.reserve_gib = rs.headroom_gib;
  return ks;
}

// KAITO's plan of the SKU, the baseline of every method: a function of the report, the memory and the node.
KaitoPlan kaito_plan(const Report& r, const SkuPlan& sp, PlanCache* cache) {
  const KaitoSettings ks = kaito_settings(r, sp);
  if (cache == nullptr) return plan_kaito(r.arch, r.weights.bytes, r.kv, sp.gpu_memory, ks);
  if (const KaitoPlan* known = cache->find_kaito(sp.gpu_memory, ks)) return *known;
  return cache->add_kaito({sp.gpu_memory, ks, plan_kaito(r.arch, r.weights.bytes, r.kv, sp.gpu_memory, ks)});
}

// Each method's plan for one SKU, beside the KAITO plan already in `sp`, and its summary.
void plan_with_kaito(const Report& r, SkuPlan& sp, PlanCache* /*cache*/) {
  sp.summary = kaito_summary(sp.kaito, kaito_settings(r, sp), r.weights.bytes, r.kv);
}

void plan_with_vllm(const Report& r, SkuPlan& sp, PlanCache* cache) {
  const ReportSettings& rs = r.settings;
  VllmSettings vs = rs.vllm;
  vs.gpus_per_node = sp.sku.gpus_per_node;
  vs.concurrency = rs.concurrency;
  sp.vllm_total = cuda_total(rs, sp.sku.gpu, sp.warnings);
  // The plan is a function of the report and these three (plan_cache.hpp).
  if (cache != nullptr) {
    if (const auto known = cache->find_vllm(sp.sku.gpu, sp.vllm_total, vs.gpus_per_node)) {
      sp.vllm = known->plan->vllm;
      sp.summary = known->plan->summary;
      sp.summary.command = *known->command;
      return;
    }
  }
  sp.vllm = plan_vllm(r.arch, r.weights, r.kv, sp.sku.gpu, sp.vllm_total, vs,
                      cache != nullptr ? &cache->vllm_memo(r) : nullptr);
  sp.summary = vllm_summary(*sp.vllm, vs);
  if (cache != nullptr) cache->add_vllm(sp.summary.command);
}

void plan_with_wizard(const Report& r, SkuPlan& sp, PlanCache* /*cache*/) {
  const ReportSettings& rs = r.settings;
  WizardSettings ws = rs.wizard;
  ws.gpus_per_node = sp.sku.gpus_per_node;
  ws.concurrency = rs.concurrency;
  ws.fragmentation_factor = rs.fragmentation_factor;
  ws.headroom_gib = rs.headroom_gib;
  ws.thresholds = rs.risk_thresholds;
  ws.gpu_memory_utilization = rs.kaito.gpu_memory_utilization;
  // The wizard sizes vLLM, so its default context is vLLM's: the model's maximum.
  ws.context = rs.kaito.max_model_len_given ? sp.kaito.max_model_len_requested
                                            : r.arch.max_position_embeddings.value_or(rs.kaito.max_model_len);
  if (!ws.tensor_parallel_size)
    ws.tensor_parallel_size = rs.kaito.tensor_parallel_size ? rs.kaito.tensor_parallel_size : rs.kaito.gpus;
  sp.wizard = plan_wizard(r.arch, r.weights.bytes, r.kv, sp.gpu_memory.bytes, ws);
  if (!r.arch.tp_valid(sp.wizard->tensor_parallel_size)) {
    sp.wizard->fits = false;
    sp.wizard->not_fit_reasons.push_back(
        fmt::format("tensor parallel size {} does not divide the {} attention heads (or is incompatible with the {} "
                    "KV heads): vLLM refuses it",
                    sp.wizard->tensor_parallel_size, r.arch.num_attention_heads, r.arch.num_key_value_heads));
  }
  if (!sp.sku.gpu.cuda_served) {
    sp.wizard->fits = false;
    sp.wizard->not_fit_reasons.push_back(fmt::format("vLLM's CUDA path does not serve {}", sp.sku.gpu.name));
  }
  sp.summary = wizard_summary(*sp.wizard, ws);
  sp.summary.warnings = sp.kaito.warnings;  // the KAITO plan's (a capped --max-model-len) apply here too
}

void plan_with_tgi(const Report& r, SkuPlan& sp, PlanCache* /*cache*/) {
  sp.tgi = plan_tgi_engine(r, sp.sku, sp.warnings);
  TgiPlan& t = *sp.tgi;
  if (t.num_shard > 1 && !r.arch.tp_divides_heads(t.num_shard)) {
    t.fits = false;
    t.not_fit_reasons.push_back(fmt::format("{} shards do not divide the {} attention heads: TGI refuses it",
                                            t.num_shard, r.arch.num_attention_heads));
  }
  if (!sp.sku.gpu.cuda_served) {
    t.fits = false;
    t.not_fit_reasons.push_back(fmt::format("TGI's CUDA path does not serve {}", sp.sku.gpu.name));
  }
  sp.summary = tgi_summary(t, r.settings.tgi, sp.sku.gpus_per_node, r.settings.tgi_num_shard.has_value());
  sp.summary.warnings = sp.kaito.warnings;  // the KAITO plan's (a capped --max-model-len) apply here too
}

// The one table of methods: how each plans a SKU and judges its feasibility. A new memory model is a folder under
// engines/ (its plan and <e>_summary), a row in engines/method.hpp and a row here.
struct MethodSteps {
  Method method;
  void (*plan)(const Report&, SkuPlan&, PlanCache*);
  Feasibility (*feasibility)(const Report&, const SkuPlan&);
  // The server's command line around the method's flags (engines/vllm/command.hpp, engines/tgi/plan.hpp).
  std::vector<std::string> (*command)(const std::vector<std::string>&, const ServeOptions&);
};

constexpr std::array<MethodSteps, kMethods.size()> kMethodSteps = {{
    {Method::Vllm, plan_with_vllm, vllm_feasibility, vllm_serve_words},
    {Method::Kaito, plan_with_kaito, kaito_feasibility, vllm_serve_words},
    {Method::Wizard, plan_with_wizard, wizard_feasibility, vllm_serve_words},
    {Method::Tgi, plan_with_tgi, tgi_feasibility, tgi_launcher_words},
}};

constexpr bool steps_follow_methods() {
  for (std::size_t i = 0; i < kMethods.size(); ++i)
    if (kMethodSteps[i].method != kMethods[i].method) return false;
  return true;
}
static_assert(steps_follow_methods(), "kMethodSteps has one row per method, in kMethods' order");

const MethodSteps& steps_for(Method m) {
  for (const auto& steps : kMethodSteps)
    if (steps.method == m) return steps;
  return kMethodSteps[0];
}

// A bfloat16 model on a GPU without bfloat16 (T4, V100): the servers refuse it unless told --dtype float16.
bool needs_float16(const Report& r, const SkuPlan& sp) {
  return !sp.sku.gpu.bf16 && r.weights.serving_dtype == DType::BFloat16;
}

// What the server's command line takes from the run, beside the method's own flags.
ServeOptions serve_options(const Report& r, const SkuPlan& sp) {
  ServeOptions o;
  o.model = r.input.id;
  o.revision = r.settings.revision;
  if (r.settings.dtype_flag != "auto") o.dtype = std::string(dtype_name(r.weights.serving_dtype));
  else if (needs_float16(r, sp)) o.dtype = "float16";
  o.kv_cache_dtype = r.settings.kv_cache_dtype_flag;
  o.quantization = r.settings.quantization_flag;
  o.ray = sp.nodes() > 1 && sp.pipeline_parallel_size() > 1;
  o.extra_args = r.settings.extra_vllm_args;
  return o;
}

}  // namespace

SkuPlan plan_for_sku(const Report& report, const Sku& sku) { return plan_for_sku(report, sku, nullptr); }

SkuPlan plan_for_sku(const Report& report, const Sku& sku, PlanCache* cache) {
  const ReportSettings& rs = report.settings;
  SkuPlan sp;
  sp.sku = sku;
  if (rs.gpus_per_node_override) {
    sp.sku.gpus_per_node = *rs.gpus_per_node_override;
    if (sku.is_instance && *rs.gpus_per_node_override != sku.gpus_per_node)
      sp.warnings.push_back(fmt::format("--gpus-per-node {} replaces the {} GPUs of instance {}",
                                        *rs.gpus_per_node_override, sku.gpus_per_node, sku.name));
  } else if (!sku.is_instance) {
    // A bare GPU rents one node of up to 8 of them (the smallest valid TP that fits), and nodes of 8 beyond.
    sp.sku.gpus_per_node = kBareGpusPerNode;
  }
  sp.gpu_memory = kaito_gpu_memory(sku.gpu, nvidia_smi_total(rs), sp.warnings, rs.kaito.rules);
  memory_flag_warnings(rs, sku, sp.warnings);
  sp.kaito = kaito_plan(report, sp, cache);
  const std::string server = method_info(rs.method).engine == "tgi" ? "TGI" : "vLLM";
  if (!sku.gpu.cuda_served) {
    sp.kaito.fits = false;
    sp.kaito.not_fit_reasons.push_back(fmt::format("{}'s CUDA path does not serve {} ({})", server, sku.gpu.name,
                                                   sku.gpu.note.empty() ? sku.gpu.vendor : sku.gpu.note));
  }

  const MethodSteps& steps = steps_for(rs.method);
  steps.plan(report, sp, cache);
  add_kaito_baseline(report, sp, kaito_settings(report, sp), cache);
  sp.summary.command = steps.command(sp.summary.command, serve_options(report, sp));
  sp.feasibility = steps.feasibility(report, sp);

  finish_feasibility(report, sp);

  if (!sku.gpu.bf16 && report.weights.serving_dtype == DType::BFloat16)
    sp.warnings.push_back(
        fmt::format("{} has no bfloat16 support: {} refuses a bfloat16 model there unless told "
                    "--dtype float16, so the command serves it as float16 (same size)",
                    sku.gpu.name, server));
  if (report.kv.dtype == DType::Float8E4M3 || report.kv.dtype == DType::Float8E5M2) {
    if (!sku.gpu.fp8)
      sp.warnings.push_back(
          fmt::format("{} has no native FP8: an fp8 KV cache still halves memory but is "
                      "emulated (slower)",
                      sku.gpu.name));
  }
  if (report.weights.quantization && report.weights.quantization->is_float && report.weights.quantization->bits == 8 &&
      !sku.gpu.fp8)
    sp.warnings.push_back(
        fmt::format("{} has no native FP8: fp8 weights run as weight-only W8A16 (Marlin), the "
                    "same memory but slower matrix multiplies",
                    sku.gpu.name));
  return sp;
}

}  // namespace vramcalc
