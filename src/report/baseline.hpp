// The KAITO sizing guide's plan beside the chosen one (SkuPlan::baseline), and the warning when the two disagree.
#pragma once

#include "vramcalc/report/report.hpp"

namespace vramcalc {

class PlanCache;

// Fills sp.baseline with KAITO's plan (already made in sp.kaito) when the chosen method is another vLLM memory
// model, and warns in sp.warnings when the two disagree on fits, or on max_model_len by more than 5% at the GPU
// count the chosen plan uses, naming the per-GPU term that differs most.
// `cache`: where the KAITO plan at the chosen layout is taken from or kept (plan_cache.hpp), or null.
void add_kaito_baseline(const Report& report, SkuPlan& sp, const KaitoSettings& kaito, PlanCache* cache = nullptr);

}  // namespace vramcalc
