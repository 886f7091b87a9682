// The one pipeline: model sources and settings in, a Report with one plan per SKU out.
#include "vramcalc/report/build.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include <fmt/format.h>

#include "report/plan_cache.hpp"
#include "vramcalc/core/dtype.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

namespace {

// Model-level facts worth a warning once the weights and the KV cache are known.
void add_model_warnings(Report& r) {
  const std::string& kv = r.settings.kv_cache_dtype_flag;
  if ((kv == "float16" || kv == "bfloat16" || kv == "float32") && r.kv.dtype != r.weights.serving_dtype)
    r.weights.warnings.push_back(
        fmt::format("--kv-cache-dtype {} is a what-if: vLLM's KV cache follows --dtype "
                    "({}) unless it is fp8, so the vllm serve line omits it",
                    kv, dtype_name(r.weights.serving_dtype)));
  if (r.input.catalog_num_params && r.weights.num_params_source == "architecture") {
    const double known = static_cast<double>(*r.input.catalog_num_params);
    const double diff = std::abs(static_cast<double>(r.weights.num_params) - known) / known;
    if (diff > 0.01)
      r.weights.warnings.push_back(fmt::format("the computed parameter count {} differs from the known {} by {:.1f}%",
                                               format_count(r.weights.num_params),
                                               format_count(*r.input.catalog_num_params), diff * 100));
  }
}

// The weights' confidence from where their bytes came (issue 14): the checkpoint's own headers or index are exact
// whatever the architecture, a file size is an estimate, a parameter count is as good as the count.
void set_weight_confidence(ModelConfidence& c, const WeightEstimate& w) {
  switch (w.source) {
    case WeightSource::Override:
    case WeightSource::SafetensorsHeaders:
    case WeightSource::SafetensorsIndex:
      c.weights = Confidence::Exact;
      if (c.parameters == Confidence::Guess)
        c.reasons.push_back(
            fmt::format("the weight bytes are exact whatever the architecture ({})", weight_source_name(w.source)));
      return;
    case WeightSource::CheckpointSize:
    case WeightSource::CatalogSize: c.weights = Confidence::Estimated; return;
    case WeightSource::ParameterCount:
      if (w.num_params_source == "--params-b") {
        // The count is the user's; only its split over quantized and other groups follows the layout.
        c.parameters = Confidence::Estimated;
        c.reasons.emplace_back("the parameter count is --params-b's; the weights spread it over the assumed layout");
      }
      c.weights = c.parameters;
      return;
  }
}

// Reorders v so that the new v[i] is the old v[order[i]], one cycle of the permutation at a time.
template <typename T>
void permute_in_place(std::vector<T>& v, const std::vector<std::size_t>& order) {
  std::vector<bool> placed(v.size(), false);
  for (std::size_t start = 0; start < v.size(); ++start) {
    if (placed[start]) continue;
    placed[start] = true;
    T first = std::move(v[start]);
    std::size_t at = start;
    for (std::size_t from = order[at]; from != start; from = order[at]) {
      v[at] = std::move(v[from]);
      placed[from] = true;
      at = from;
    }
    v[at] = std::move(first);
  }
}

// Those that fit first, fewest GPUs first, the order asked among equals. The order is sorted as indices and
// applied in place: std::stable_sort on the plans themselves (2 KB each) filled a second array of them, and fresh
// memory is slow to touch (bench/RESULTS.md).
void order_plans(std::vector<SkuPlan>& plans) {
  std::vector<std::size_t> order(plans.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (plans[a].fits() != plans[b].fits()) return plans[a].fits();
    return plans[a].gpus() < plans[b].gpus();
  });
  permute_in_place(plans, order);
}

}  // namespace

Report model_report(const ModelInput& input, const ReportSettings& settings,
                    const std::vector<std::string>& profile_notes) {
  Report r;
  r.settings = settings;
  r.input = input;
  for (const auto& note : profile_notes) r.input.warnings.push_back("profile: " + note);
  r.arch = normalize_config(r.input.config, r.input.id);
  r.weights = estimate_weights(r.arch, checkpoint_sizes(r.input), r.settings.weights);
  set_weight_confidence(r.arch.confidence, r.weights);  // issue 14
  r.kv = kv_cache_spec(r.arch, r.settings.kv_cache_dtype_flag, r.weights.serving_dtype);
  add_model_warnings(r);
  return r;
}

void add_plans(Report& report, const std::vector<const Sku*>& skus, bool suggestions) {
  std::vector<SkuPlan> plans;
  plans.reserve(skus.size());
  // Each plan is made against the report with its plans still empty, suggestions too: against every SKU's plan
  // each time, --sku all was quadratic in the number of SKUs.
  report.plans.clear();
  PlanCache cache;  // SKUs of one GPU share its vLLM and KAITO plans, instances of one GPU and count the whole plan
  for (const Sku* sku : skus) cache.add_plan(plans, report, *sku);
  // Suggestions cost a dozen re-plans per SKU that does not fit: only callers that show them ask. SKUs planned
  // alike (same_planning: the clouds' instances of one GPU and node size) get the same ones.
  if (suggestions)
    for (auto it = plans.begin(); it != plans.end(); ++it) {
      if (it->fits()) continue;  // nothing to suggest
      const auto twin =
          std::find_if(plans.begin(), it, [&](const SkuPlan& p) { return !p.fits() && same_planning(p.sku, it->sku); });
      if (twin != it) it->suggestions = twin->suggestions;
      else add_suggestions(report, *it);
    }
  if (plans.size() > 1) order_plans(plans);
  report.plans = std::move(plans);
}

Report build_report(const ModelInput& input, const ReportRequest& request) {
  Report r = model_report(input, request.settings, request.profile_notes);
  add_plans(r, request.skus, request.suggestions);
  return r;
}

bool selects_every_sku(std::string_view spec) { return spec == "all" || spec == "ALL"; }

std::vector<std::string> sku_names(const std::string& spec) {
  std::vector<std::string> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Sku gpu_known_by_memory(const ReportSettings& rs) {
  Sku sku;
  const std::uint64_t gap = kMedianCudaGapMiB * kMiB;
  const std::uint64_t smi = rs.gpu_memory_override.value_or(rs.cuda_total_override.value_or(0) + gap);
  const std::uint64_t cuda = rs.cuda_total_override.value_or(smi > gap ? smi - gap : smi);
  sku.name = fmt::format("gpu-{:.4g}GiB", to_gib(smi));
  sku.gpu.name = fmt::format("a GPU with {:.4g} GiB", to_gib(smi));
  sku.gpu.vendor = "NVIDIA";
  sku.gpu.memory_gib_marketed = to_gib(smi);
  sku.gpu.memory_mib_reported = smi / kMiB;
  sku.gpu.cuda_total_mib_observed = {cuda / kMiB};
  sku.gpu.bf16 = true;
  sku.gpu.fp8 = false;
  sku.gpu.cuda_served = true;
  sku.gpus_per_node = kBareGpusPerNode;
  sku.verified = false;
  sku.gpu.note = std::string(kMemoryOnlyGpuNote);
  return sku;
}

std::vector<const Sku*> select_skus(const SkuCatalog& catalog, const std::string& spec) {
  std::vector<const Sku*> out;
  if (selects_every_sku(spec)) {
    for (const auto& s : catalog.all()) out.push_back(&s);
    return out;
  }
  const auto names = sku_names(spec);
  if (names.empty()) fail_input("--sku: no SKU named");
  for (const auto& name : names) {
    const Sku* s = catalog.find(name);
    if (s == nullptr) {
      std::string hint;
      const auto close = catalog.suggest(name, 3);
      for (std::size_t i = 0; i < close.size(); ++i) hint += (i == 0 ? " Did you mean " : ", ") + close[i];
      if (!hint.empty()) hint += "?";
      fail_input(fmt::format("--sku {}: unknown SKU.{} (vram-calc skus lists them all)", name, hint));
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace vramcalc
