// What the plans of one report's SKUs share (plan_cache.hpp): plans by GPU shape, and a SKU's plan copied from its
// twin's, its name put where the twin's was.
#include "report/plan_cache.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "vramcalc/core/error.hpp"

namespace vramcalc {

// Every field of the GPU, whatever a planner reads of it: the structured bindings stop compiling when Gpu gains a
// field, so that one cannot be left out of the comparison.
bool same_gpu(const Gpu& x, const Gpu& y) {
  const auto& [name, aliases, vendor, architecture, cc, marketed, reported, observed, bf16, fp8, bandwidth, served,
               note] = x;
  return name == y.name && aliases == y.aliases && vendor == y.vendor && architecture == y.architecture &&
         cc == y.compute_capability && marketed == y.memory_gib_marketed && reported == y.memory_mib_reported &&
         observed == y.cuda_total_mib_observed && bf16 == y.bf16 && fp8 == y.fp8 && bandwidth == y.bandwidth_gbps &&
         served == y.cuda_served && note == y.note;
}

bool same_planning(const Sku& x, const Sku& y) {
  return x.gpus_per_node == y.gpus_per_node && x.is_instance == y.is_instance && same_gpu(x.gpu, y.gpu);
}

namespace {

// Every field of the settings, as same_gpu compares the GPU's.
bool same_kaito_settings(const KaitoSettings& x, const KaitoSettings& y) {
  const auto& [rules, u, u_given, len, len_given, non_torch, activation, overhead, concurrency, fragmentation, reserve,
               gpn, whole, gpus, tp, pp] = x;
  return rules == y.rules && u == y.gpu_memory_utilization && u_given == y.gpu_memory_utilization_given &&
         len == y.max_model_len && len_given == y.max_model_len_given && non_torch == y.non_torch_gib &&
         activation == y.activation_gib && overhead == y.weight_overhead && concurrency == y.concurrency &&
         fragmentation == y.kv_fragmentation && reserve == y.reserve_gib && gpn == y.gpus_per_node &&
         whole == y.whole_nodes && gpus == y.gpus && tp == y.tensor_parallel_size && pp == y.pipeline_parallel_size;
}

}  // namespace

const KaitoPlan* PlanCache::find_kaito(const GpuMemory& memory, const KaitoSettings& settings) const {
  for (const auto& e : kaito_)
    if (e.memory.bytes == memory.bytes && e.memory.source == memory.source && same_kaito_settings(e.settings, settings))
      return &e.plan;
  return nullptr;
}

const KaitoPlan& PlanCache::add_kaito(KaitoEntry entry) {
  kaito_.push_back(std::move(entry));
  return kaito_.back().plan;
}

std::optional<PlanCache::VllmSource> PlanCache::find_vllm(const Gpu& gpu, const GpuMemory& total,
                                                          int gpus_per_node) const {
  if (plans_ == nullptr) return std::nullopt;
  for (const auto& e : vllm_) {
    const SkuPlan& p = (*plans_)[e.plan];
    if (p.sku.gpus_per_node == gpus_per_node && p.vllm_total.bytes == total.bytes &&
        p.vllm_total.source == total.source && same_gpu(p.sku.gpu, gpu))
      return VllmSource{&p, &e.command};
  }
  return std::nullopt;
}

void PlanCache::add_vllm(std::vector<std::string> command) {
  if (plans_ != nullptr) vllm_.push_back({plans_->size(), std::move(command)});
}

namespace {

// What a SKU is called while its plan is made for every twin (PlanCache::add_plan): bytes no name holds, so that
// where the plan quotes the name, and only there, can be found.
constexpr std::string_view kNamePlaceholder = "\x1e<sku>\x1f";

// Every list of text in a plan that can quote its SKU's name (warnings, reasons, notes): f(i, list), i the list's
// number. A plan's text that quotes the name elsewhere would keep the placeholder (tests/report/test_plan_twins.cpp).
template <typename F>
void for_each_text_list(SkuPlan& sp, F f) {
  f(0, sp.warnings);
  f(1, sp.summary.warnings);
  f(2, sp.summary.engine_warnings);
  f(3, sp.summary.not_fit_reasons);
  f(4, sp.feasibility.warnings);
  f(5, sp.kaito.warnings);
  f(6, sp.kaito.not_fit_reasons);
  if (sp.baseline) {
    f(7, sp.baseline->warnings);
    f(8, sp.baseline->engine_warnings);
    f(9, sp.baseline->not_fit_reasons);
  }
  if (sp.vllm) {
    f(10, sp.vllm->warnings);
    f(11, sp.vllm->not_fit_reasons);
  }
  if (sp.wizard) {
    f(12, sp.wizard->warnings);
    f(13, sp.wizard->not_fit_reasons);
  }
  if (sp.tgi) {
    f(14, sp.tgi->warnings);
    f(15, sp.tgi->notes);
    f(16, sp.tgi->defaults_used);
    f(17, sp.tgi->not_fit_reasons);
  }
}

// `text` with every placeholder replaced by `name`.
std::string with_name(std::string_view text, std::string_view name) {
  std::string out;
  for (std::size_t at = 0;;) {
    const std::size_t found = text.find(kNamePlaceholder, at);
    out.append(text.substr(at, found - at));
    if (found == std::string_view::npos) return out;
    out.append(name);
    at = found + kNamePlaceholder.size();
  }
}

}  // namespace

void PlanCache::add_plan(std::vector<SkuPlan>& plans, const Report& report, const Sku& sku) {
  // Plans made before are read where they are (twins, find_vllm): `plans` must not move (add_plans reserves it).
  if (plans.size() == plans.capacity()) throw std::logic_error("PlanCache::add_plan: no room reserved for the plan");
  plans_ = &plans;
  for (const auto& twin : twins_) {
    const SkuPlan& first = plans[twin.plan];
    if (twin.gpus_per_node != sku.gpus_per_node || first.sku.is_instance != sku.is_instance ||
        !same_gpu(first.sku.gpu, sku.gpu))
      continue;
    // Copies that differ only where the JSON's "warnings" are made from are marked so (SkuPlan::alike).
    if (twin.name_only_in_warnings && !first.alike) plans[twin.plan].alike = std::make_shared<const int>(0);
    SkuPlan& sp = plans.emplace_back(plans[twin.plan]);
    const int gpus_per_node = sp.sku.gpus_per_node;  // as plan_for_sku set it for the node size both share
    sp.sku = sku;
    sp.sku.gpus_per_node = gpus_per_node;
    for (const auto& spot : twin.spots)
      for_each_text_list(sp, [&](std::size_t list, std::vector<std::string>& texts) {
        if (list == spot.list) texts[spot.index] = with_name(spot.text, sku.name);
      });
    return;
  }
  // A SKU unlike those planned: planned under the placeholder name, which is then put back, noting where.
  Sku anonymous = sku;
  anonymous.name = kNamePlaceholder;
  std::optional<SkuPlan> made;
  try {
    made = plan_for_sku(report, anonymous, this);
  } catch (const Error& e) {
    throw Error(e.code(), with_name(e.what(), sku.name));  // settings a planner refuses, should one name the SKU
  }
  SkuPlan& sp = plans.emplace_back(std::move(*made));
  sp.sku.name = sku.name;
  Twin twin{plans.size() - 1, sku.gpus_per_node, {}, true};
  for_each_text_list(sp, [&](std::size_t list, std::vector<std::string>& texts) {
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (texts[i].find(kNamePlaceholder) == std::string::npos) continue;
      twin.spots.push_back({list, i, texts[i]});
      texts[i] = with_name(texts[i], sku.name);
      // sp.warnings and summary.warnings: the JSON's "warnings" (render/json_engines.cpp, plan_warnings) only.
      if (list != 0 && list != 1) twin.name_only_in_warnings = false;
    }
  });
  twins_.push_back(std::move(twin));
}

}  // namespace vramcalc
