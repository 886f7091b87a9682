// KAITO's plan as the baseline beside vLLM's own accounting: both are shown, and where they disagree the warning
// names the term behind it, so a KAITO user knows why their controller and vLLM will not agree.
#include "report/baseline.hpp"
#include "report/plan_cache.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "vramcalc/core/units.hpp"

namespace vramcalc {

namespace {

struct TermGap {
  const char* name;
  double kaito_gib;
  double other_gib;
};

double gib(std::uint64_t bytes) { return to_gib(bytes); }

// The per-GPU terms both plans count, at the chosen plan's GPU count: the one that differs most explains the gap.
TermGap largest_gap(const Report& r, const KaitoPlan& k, const VllmPlan& v) {
  const PerGpuBreakdown& g = k.per_gpu;
  const double n = static_cast<double>(std::max<std::uint64_t>(1, k.gpus));
  const double context = static_cast<double>(std::max<std::uint64_t>(1, v.max_model_len));
  const double vllm_kv_per_token = static_cast<double>(v.capacity.needed_bytes) / context;
  const double kaito_kv_per_token = static_cast<double>(r.kv.bytes_per_token) / n;
  const std::array<TermGap, 6> terms = {{
      {"the memory budget (GPU memory x utilization)", gib(g.budget_bytes), gib(v.requested_bytes)},
      {"weights per GPU", gib(g.weights_bytes + g.weight_overhead_bytes), gib(v.weights_bytes)},
      {"activation peak", gib(g.activation_bytes), gib(v.profile.activation_bytes)},
      {"non-PyTorch memory", gib(g.non_torch_bytes), gib(v.profile.non_torch_bytes)},
      {"CUDA-graph estimate", 0.0, v.cudagraph_in_budget ? gib(v.cudagraph_bytes) : 0.0},
      {"KV cache per GPU at this context", kaito_kv_per_token * context / static_cast<double>(kGiB),
       vllm_kv_per_token * context / static_cast<double>(kGiB)},
  }};
  // The budget counts the other way: a larger budget leaves more for the cache, as a smaller term does.
  const auto effect = [](const TermGap& t, bool budget) {
    return budget ? t.other_gib - t.kaito_gib : t.kaito_gib - t.other_gib;
  };
  std::size_t best = 0;
  for (std::size_t i = 1; i < terms.size(); ++i)
    if (std::fabs(effect(terms[i], false)) > std::fabs(effect(terms[best], best == 0))) best = i;
  return terms[best];
}

std::string layout_words(std::uint64_t gpus, std::uint64_t tp, std::uint64_t pp) {
  return fmt::format("{} GPU(s), TP {} x PP {}", gpus, tp, pp);
}

// KAITO's plan pinned to the chosen plan's layout, for the comparison "at the GPU count the default chose":
// sp.kaito when it has that layout, else the plan from `cache` (made there when new), or without one made into
// `pinned`. One data-parallel replica: KAITO has no data parallelism, and its layout check wants GPUs = TP x PP.
const KaitoPlan& kaito_at(const Report& r, const SkuPlan& sp, KaitoSettings ks, PlanCache* cache, KaitoPlan& pinned) {
  const std::uint64_t replica = sp.tensor_parallel_size() * sp.pipeline_parallel_size();
  if (sp.kaito.gpus == replica && sp.kaito.tensor_parallel_size == sp.tensor_parallel_size()) return sp.kaito;
  ks.gpus = replica;
  ks.tensor_parallel_size = sp.tensor_parallel_size();
  ks.pipeline_parallel_size = sp.pipeline_parallel_size();
  if (cache == nullptr) return pinned = plan_kaito(r.arch, r.weights.bytes, r.kv, sp.gpu_memory, ks);
  if (const KaitoPlan* known = cache->find_kaito(sp.gpu_memory, ks)) return *known;
  return cache->add_kaito({sp.gpu_memory, ks, plan_kaito(r.arch, r.weights.bytes, r.kv, sp.gpu_memory, ks)});
}

}  // namespace

void add_kaito_baseline(const Report& r, SkuPlan& sp, const KaitoSettings& ks, PlanCache* cache) {
  if (sp.method() != Method::Vllm) return;
  sp.baseline = kaito_summary(sp.kaito, ks, r.weights.bytes, r.kv);
  sp.baseline->command.clear();  // the chosen plan's command is the one to run
  if (!sp.vllm) return;
  const VllmPlan& v = *sp.vllm;
  KaitoPlan pinned;
  const KaitoPlan& k = kaito_at(r, sp, ks, cache, pinned);
  const std::uint64_t ours = sp.summary.max_model_len;
  // The words of the warnings, made only for a warning (most plans have none).
  const auto where = [&] { return layout_words(sp.gpus(), sp.tensor_parallel_size(), sp.pipeline_parallel_size()); };
  const auto why = [&] {
    const TermGap gap = largest_gap(r, k, v);
    return fmt::format("the term that differs most is {}: {:.2f} GiB in the guide, {:.2f} GiB in vLLM's", gap.name,
                       gap.kaito_gib, gap.other_gib);
  };
  if (sp.kaito.fits != sp.summary.fits) {
    sp.warnings.push_back(fmt::format(
        "the KAITO sizing guide {} on {} where vLLM's own accounting {}; {}",
        sp.kaito.fits ? fmt::format("fits ({})", layout_words(sp.kaito.gpus, sp.kaito.tensor_parallel_size,
                                                              sp.kaito.pipeline_parallel_size))
                      : "does not fit",
        sp.sku.name, sp.summary.fits ? fmt::format("fits on {}", where()) : std::string("does not"), why()));
    return;
  }
  if (!k.fits || !sp.summary.fits || ours == 0) return;
  const double diff = (static_cast<double>(k.max_model_len) - static_cast<double>(ours)) / static_cast<double>(ours);
  if (std::fabs(diff) <= 0.05) return;
  sp.warnings.push_back(fmt::format(
      "the KAITO sizing guide gives max_model_len {} on {} where vLLM's own accounting gives {} ({:+.0f}%); "
      "{}",
      k.max_model_len, where(), ours, 100.0 * diff, why()));
}

}  // namespace vramcalc
