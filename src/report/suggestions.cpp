// When a plan does not fit: re-plan with one change at a time and keep the changes that make it fit.
#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/model/quantization.hpp"
#include "vramcalc/report/report.hpp"

namespace vramcalc {

namespace {

bool is_fp8(DType d) { return d == DType::Float8E4M3 || d == DType::Float8E5M2; }

// The weight quantizations suggested for a checkpoint that is not quantized, with the flags of each server.
struct WeightQuantization {
  const char* scheme;
  const char* change;
  const char* vllm_flags;
  const char* tgi_flags;
};
constexpr WeightQuantization kWeightQuantizations[] = {
    {"fp8", "fp8 weights (quantized at load time)", "--quantization fp8", "--quantize fp8"},
    {"awq", "a 4-bit AWQ checkpoint of this model", "--quantization awq (with an AWQ checkpoint)",
     "--quantize awq (with an AWQ checkpoint)"},
};

// Pins the plan's layout so a change (context, utilization) is judged on the same GPUs.
void pin_layout(Report& c, const SkuPlan& sp) {
  ReportSettings& s = c.settings;
  const std::uint64_t tp = sp.tensor_parallel_size();
  const std::uint64_t pp = sp.pipeline_parallel_size();
  s.kaito.gpus.reset();
  s.kaito.tensor_parallel_size = tp;
  s.kaito.pipeline_parallel_size = pp;
  s.vllm.tensor_parallel_size = tp;
  s.vllm.pipeline_parallel_size = pp;
  s.wizard.tensor_parallel_size = tp;
  s.tgi_num_shard = tp;
}

void set_context(Report& c, std::uint64_t len) {
  ReportSettings& s = c.settings;
  s.kaito.max_model_len = len;
  s.kaito.max_model_len_given = true;
  s.vllm.max_model_len = len;
  s.vllm.max_model_len_auto = false;
  if (method_info(s.method).engine == "tgi") {
    s.tgi.max_total_tokens = len;
    const std::uint64_t input = len > 1 ? len - 1 : 1;
    if (!s.tgi.max_input_tokens || *s.tgi.max_input_tokens >= len) s.tgi.max_input_tokens = input;
    if (s.tgi.max_batch_prefill_tokens && *s.tgi.max_batch_prefill_tokens < *s.tgi.max_input_tokens)
      s.tgi.max_batch_prefill_tokens = s.tgi.max_input_tokens;
  }
}

std::optional<SkuPlan> replan(const Report& c, const Sku& sku) {
  try {
    return plan_for_sku(c, sku);
  } catch (const Error&) {
    return std::nullopt;  // a change the settings reject is not a suggestion
  }
}

Suggestion describe(std::string change, std::string flags, const SkuPlan& p) {
  Suggestion s;
  s.change = std::move(change);
  s.flags = std::move(flags);
  s.fits = p.fits();
  s.gpus = p.gpus();
  s.tensor_parallel_size = p.tensor_parallel_size();
  s.context = p.feasibility.context;
  s.headroom_bytes = p.feasibility.headroom_bytes;
  s.oom_risk = p.feasibility.oom_risk;
  s.max_concurrency_at_context = p.feasibility.max_concurrency_at_context;
  return s;
}

// The candidates, each tried alone on the same SKU: a change that makes the plan fit is kept with its figures.
class Suggester {
 public:
  Suggester(const Report& r, SkuPlan& sp)
      : r_(r), sp_(sp), tgi_(method_info(r.settings.method).engine == "tgi"), work_(r) {
    // One working copy for every re-plan: a change touches only the settings, the weight estimate and the KV
    // spec, so those are reset from r before each one. (A copy per re-plan also copied the model's config and
    // architecture, most of what --sku all cost.)
    work_.plans.clear();
  }

  void run() {
    fp8_kv_cache();
    next_tensor_parallel_size();
    longest_context();
    fewer_sequences();
    higher_utilization();
    quantized_weights();
  }

 private:
  const Report& r_;
  SkuPlan& sp_;
  const bool tgi_;  // the flags are TGI's launcher's
  Report work_;

  void keep(const std::string& change, const std::string& flags, const std::function<void(Report&)>& mutate) {
    reset();
    try {
      mutate(work_);
    } catch (const Error&) {
      return;
    }
    if (auto p = replan(work_, sp_.sku); p && p->fits()) sp_.suggestions.push_back(describe(change, flags, *p));
  }
  void reset() {
    work_.settings = r_.settings;
    work_.weights = r_.weights;
    work_.kv = r_.kv;
  }

  void fp8_kv_cache() {
    // 1. An fp8 KV cache: half the KV bytes of a 16-bit cache.
    if (!is_fp8(r_.kv.dtype))
      keep("fp8 KV cache", tgi_ ? "--kv-cache-dtype fp8_e4m3fn" : "--kv-cache-dtype fp8", [](Report& c) {
        c.settings.kv_cache_dtype_flag = "fp8";
        c.kv = kv_cache_spec(c.arch, "fp8", c.weights.serving_dtype);
      });
  }

  void next_tensor_parallel_size() {
    // 2. The next valid tensor-parallel size (on a node with that many GPUs).
    const std::uint64_t tp = sp_.tensor_parallel_size();
    for (std::uint64_t next = tp + 1; next <= 64; ++next) {
      if (!r_.arch.tp_valid(next)) continue;
      const bool bigger_node = next > static_cast<std::uint64_t>(sp_.sku.gpus_per_node);
      keep(fmt::format("tensor parallel size {}{}", next,
                       bigger_node ? fmt::format(" (a node with at least {} GPUs)", next) : std::string()),
           fmt::format("{} {}{}", tgi_ ? "--num-shard" : "--tensor-parallel-size", next,
                       bigger_node ? fmt::format(" --gpus-per-node {}", next) : std::string()),
           [&](Report& c) {
             pin_layout(c, sp_);
             c.settings.kaito.tensor_parallel_size = next;
             c.settings.kaito.pipeline_parallel_size = 1;
             c.settings.vllm.tensor_parallel_size = next;
             c.settings.vllm.pipeline_parallel_size = 1;
             c.settings.wizard.tensor_parallel_size = next;
             c.settings.tgi_num_shard = next;
             if (bigger_node) c.settings.gpus_per_node_override = static_cast<int>(next);
           });
      break;
    }
  }

  void longest_context() {
    // 3. The longest context that fits on the same GPUs (binary search; fitting shrinks as context grows).
    if (sp_.feasibility.context > 1) {
      auto fits_at = [&](std::uint64_t len) {
        reset();
        pin_layout(work_, sp_);
        set_context(work_, len);
        const auto p = replan(work_, sp_.sku);
        return p && p->fits();
      };
      std::uint64_t lo = 0, hi = sp_.feasibility.context;  // fits(lo) (or lo = 0), !fits(hi)
      if (fits_at(1)) {
        lo = 1;
        while (lo + 1 < hi) {
          const std::uint64_t mid = lo + (hi - lo) / 2;
          (fits_at(mid) ? lo : hi) = mid;
        }
        keep(fmt::format("max_model_len {}", lo),
             tgi_ ? fmt::format("--max-total-tokens {} --max-input-tokens {}", lo, lo > 1 ? lo - 1 : 1)
                  : fmt::format("--max-model-len {}", lo),
             [&](Report& c) {
               pin_layout(c, sp_);
               set_context(c, lo);
             });
      }
    }
  }

  void fewer_sequences() {
    // 3b. Fewer sequences per batch (vLLM): the sampler's profile pass holds max_num_seqs x vocab float32 logits, so
    // a long context that does not fit beside 1024 sequences may fit beside 256.
    if (sp_.vllm && !sp_.vllm->kv_cache_memory_given) {
      for (const std::uint64_t seqs : {256ULL, 128ULL, 64ULL}) {
        if (seqs >= sp_.vllm->max_num_seqs || seqs < r_.settings.concurrency) continue;
        const std::size_t before = sp_.suggestions.size();
        keep(fmt::format("max_num_seqs {}", seqs), fmt::format("--max-num-seqs {}", seqs), [&](Report& c) {
          pin_layout(c, sp_);
          c.settings.vllm.max_num_seqs = seqs;
        });
        if (sp_.suggestions.size() > before) break;
      }
    }
  }

  void higher_utilization() {
    // 4. A higher memory fraction, when the memory left outside it stays enough for the CUDA context and graphs.
    if (tgi_) {
      if (r_.settings.tgi.cuda_memory_fraction < 1.0)
        keep("cuda memory fraction 1.0", "--cuda-memory-fraction 1.0", [&](Report& c) {
          pin_layout(c, sp_);
          c.settings.tgi.cuda_memory_fraction = 1.0;
        });
    } else {
      const double u = sp_.vllm ? sp_.vllm->gpu_memory_utilization : r_.settings.kaito.gpu_memory_utilization;
      const double higher = 0.95;
      const std::uint64_t total = sp_.vllm ? sp_.vllm->total_bytes : sp_.gpu_memory.bytes;
      // Outside the budget: ~0.5 GiB CUDA context, plus the graph pool where it is not inside the budget.
      const std::uint64_t outside =
          kGiB / 2 + (sp_.vllm && !sp_.vllm->cudagraph_in_budget ? sp_.vllm->cudagraph_bytes : 0);
      if (u < higher && static_cast<double>(total) * (1.0 - higher) >= static_cast<double>(outside))
        keep(fmt::format("gpu_memory_utilization {}", higher), fmt::format("--gpu-memory-utilization {}", higher),
             [&](Report& c) {
               pin_layout(c, sp_);
               c.settings.kaito.gpu_memory_utilization = higher;
               c.settings.vllm.gpu_memory_utilization = higher;
             });
    }
  }

  void quantized_weights() {
    // 5. Quantized weights, for a checkpoint that is not quantized already.
    if (!r_.weights.quantization) {
      for (const auto& o : kWeightQuantizations)
        keep(o.change, tgi_ ? o.tgi_flags : o.vllm_flags, [&](Report& c) {
          c.settings.weights.load_quantization = quantization_flag_scheme(o.scheme);
          c.settings.quantization_flag = o.scheme;
          c.weights = estimate_weights(c.arch, checkpoint_sizes(c.input), c.settings.weights);
          c.kv = kv_cache_spec(c.arch, c.settings.kv_cache_dtype_flag, c.weights.serving_dtype);
        });
    }
  }
};

}  // namespace

void add_suggestions(const Report& r, SkuPlan& sp) {
  if (sp.fits()) return;
  // A GPU no server's CUDA path serves never fits, whatever the settings (every method's plan says so: plan_for_sku,
  // engines/*), and no change here touches the GPU: re-planning a dozen times would only confirm it.
  if (!sp.sku.gpu.cuda_served) return;
  Suggester(r, sp).run();
}

}  // namespace vramcalc
