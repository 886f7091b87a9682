// JSON output: the plan objects written straight as text (render/json_writer.hpp), and the SKU listing.
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>

#include "render/json_sections.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/model/quantization.hpp"
#include "vramcalc/render/json_stream.hpp"
#include "vramcalc/render/render.hpp"

#ifndef VRAMCALC_VERSION
#define VRAMCALC_VERSION "0.0.0"
#endif
#ifndef VRAMCALC_COMMIT  // set at configure time (cmake/build_info.cmake)
#define VRAMCALC_COMMIT "unknown"
#endif
#ifndef VRAMCALC_CATALOG_DATE
#define VRAMCALC_CATALOG_DATE "unknown"
#endif

namespace vramcalc {

namespace {

using render_detail::JsonWriter;

// The CUDA-reported total: the median of the observed readings (driver dependent), or null.
std::optional<std::uint64_t> cuda_total_bytes(const Gpu& gpu) {
  if (gpu.cuda_total_mib_observed.empty()) return std::nullopt;
  auto v = gpu.cuda_total_mib_observed;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2] * kMiB;
}

// Members of every object below are written in byte order of their names (render/json_writer.hpp).
void write_tool(JsonWriter& w) {
  w.begin_object();
  w.member("catalog_date", VRAMCALC_CATALOG_DATE);
  w.member("commit", VRAMCALC_COMMIT);
  w.member("name", "vram-calc");
  w.member("version", VRAMCALC_VERSION);
  w.end_object();
}

void write_quantization(JsonWriter& w, const WeightEstimate& weights) {
  if (!weights.quantization) return w.value(nullptr);
  w.begin_object();
  w.member("description", describe_scheme(*weights.quantization));
  w.member("method", weights.quantization->method_name);
  w.member("quantized_params", weights.quantized_params);
  w.end_object();
}

void write_moe(JsonWriter& w, const ModelArch& a) {
  if (a.num_experts == 0) return w.value(nullptr);
  w.begin_object();
  w.member("experts_per_token", a.experts_per_token);
  w.member("moe_intermediate_size", a.moe_intermediate_size);
  w.member("moe_layers", a.moe_layers);
  w.member("num_experts", a.num_experts);
  w.member("shared_experts", a.shared_experts);
  w.end_object();
}

// issue 14: how far the figures can be trusted (docs/json-schema.md, model.confidence).
void write_confidence(JsonWriter& w, const ModelConfidence& c) {
  w.begin_object();
  w.member("kv_cache", confidence_name(c.kv_cache));
  w.member("parameters", confidence_name(c.parameters));
  w.member("reasons", c.reasons);
  w.member("uncertain", c.uncertain());
  w.member("weights", confidence_name(c.weights));
  w.end_object();
}

void write_layer_kinds(JsonWriter& w, const ModelArch& a) {
  std::map<std::string_view, std::uint64_t> kinds;
  for (auto k : a.layer_kinds) ++kinds[layer_kind_name(k)];
  w.begin_object();
  for (const auto& [name, count] : kinds) {
    w.key_text(name);
    w.value(count);
  }
  w.end_object();
}

void write_model(JsonWriter& w, const Report& r) {
  const ModelArch& a = r.arch;
  const WeightEstimate& weights = r.weights;
  w.begin_object();
  w.member("architecture", a.architecture);
  w.key("confidence");
  write_confidence(w, a.confidence);
  w.member("dtype", dtype_name(weights.serving_dtype));
  w.member("dtype_reason", weights.serving_dtype_reason);
  w.member("head_dim", a.head_dim);
  w.member("head_dim_source", a.head_dim_source);
  w.member("hidden_size", a.hidden_size);
  w.member("id", r.input.id);
  w.member("intermediate_size", a.intermediate_size);
  w.member("known_family", a.known_family);
  w.key("layer_kinds");
  write_layer_kinds(w, a);
  w.member("max_position_embeddings", a.max_position_embeddings);
  w.key("mla");
  if (a.mla) {
    w.begin_object();
    w.member("kv_lora_rank", a.kv_lora_rank);
    w.member("qk_rope_head_dim", a.qk_rope_head_dim);
    w.end_object();
  } else {
    w.value(nullptr);
  }
  w.member("model_type", a.text_model_type.empty() ? a.model_type : a.text_model_type);
  w.key("moe");
  write_moe(w, a);
  w.member("multimodal", a.multimodal);
  w.member("num_attention_heads", a.num_attention_heads);
  w.member("num_hidden_layers", a.num_hidden_layers);
  w.member("num_key_value_heads", a.num_key_value_heads);
  w.member("num_params", weights.num_params);
  w.member("num_params_source", weights.num_params_source);
  w.key("quantization");
  write_quantization(w, weights);
  w.member("sliding_window", a.sliding_window);
  w.member("source", r.input.origin);
  w.member("tie_word_embeddings", a.tie_word_embeddings);
  w.member("vision_params", a.vision_params);
  w.member("vocab_size", a.vocab_size);
  w.member("weight_bytes", weights.bytes);
  w.member("weight_bytes_computed", weights.computed_bytes);
  w.member("weight_source", weight_source_name(weights.source));
  w.member("weight_source_detail", weights.source_detail);
  w.end_object();
}

void write_kv_cache(JsonWriter& w, const KvCacheSpec& kv) {
  w.begin_object();
  w.member("bytes_per_token", kv.bytes_per_token);
  w.member("dtype", dtype_name(kv.dtype));
  w.member("formula", kv.formula);
  w.member("head_dim", kv.head_dim);
  w.member("kv_heads", kv.kv_heads);
  w.member("layers", kv.layers);
  w.member("mla", kv.mla);
  w.member("mla_latent", kv.mla_latent);
  w.end_object();
}

// The SKU; under vLLM, the memory is the CUDA-reported total its estimator used.
void write_sku(JsonWriter& w, const SkuPlan& sp) {
  const Gpu& gpu = sp.sku.gpu;
  const GpuMemory& memory = sp.method() == Method::Vllm ? sp.vllm_total : sp.gpu_memory;
  w.begin_object();
  w.member("bf16", gpu.bf16);
  w.key("cloud");
  if (sp.sku.cloud.empty()) w.value(nullptr);
  else w.value(sp.sku.cloud);
  w.member("fp8", gpu.fp8);
  w.member("gpu", gpu.name);
  w.member("gpu_memory_bytes", memory.bytes);
  w.member("gpu_memory_source", memory.source);
  w.member("gpus_per_node", sp.sku.gpus_per_node);
  w.member("kaito_supported", sp.sku.kaito_supported);
  w.member("memory_cuda_total_bytes", cuda_total_bytes(gpu));
  w.member("memory_marketed_bytes", round_bytes(gpu.memory_gib_marketed * 1e9, "marketed memory"));
  w.key("memory_reported_bytes");
  if (gpu.memory_mib_reported) w.value(*gpu.memory_mib_reported * kMiB);
  else w.value(nullptr);
  w.member("name", sp.sku.name);
  w.member("vllm_cuda", gpu.cuda_served);
  w.end_object();
}

// The settings; under vLLM, the utilization and length are its own.
void write_settings(JsonWriter& w, const Report& r, const SkuPlan& sp) {
  const KaitoSettings& k = r.settings.kaito;
  const bool vllm = sp.method() == Method::Vllm;
  w.begin_object();
  w.member("activation_gib", k.activation_gib);
  w.member("concurrency", r.settings.concurrency);
  w.member("dtype", r.settings.dtype_flag);
  w.member("fragmentation_factor", r.settings.fragmentation_factor);
  w.key("gpu_memory_utilization");
  if (vllm) w.value(sp.vllm->gpu_memory_utilization);
  else w.value(k.gpu_memory_utilization);
  w.member("gpus", k.gpus);
  w.member("headroom_gib", r.settings.headroom_gib);
  w.member("kv_cache_dtype", r.settings.kv_cache_dtype_flag);
  w.member("max_model_len_given", k.max_model_len_given);
  w.member("max_model_len_requested", vllm ? sp.vllm->max_model_len : k.max_model_len);
  w.member("non_torch_gib", k.non_torch_gib);
  w.member("pipeline_parallel_size", k.pipeline_parallel_size);
  w.member("quantization", r.settings.quantization_flag);
  w.key("risk_thresholds_gib");
  w.begin_array();
  w.value(r.settings.risk_thresholds.low_gib);
  w.value(r.settings.risk_thresholds.medium_gib);
  w.end_array();
  w.member("tensor_parallel_size", k.tensor_parallel_size);
  w.member("weight_overhead", k.weight_overhead);
  w.end_object();
}

// KAITO's per-GPU figures, the baseline of every method; vLLM's replace them.
void write_per_gpu(JsonWriter& w, const SkuPlan& sp) {
  w.begin_object();
  if (sp.method() == Method::Vllm) {
    const VllmPlan& v = *sp.vllm;
    w.member("activation_bytes", v.profile.activation_bytes);
    w.member("budget_bytes", v.requested_bytes);
    w.member("capacity_bytes", v.total_bytes);
    w.member("kv_cache_bytes", std::max<std::int64_t>(v.available_kv_bytes, 0));
    w.member("non_torch_bytes", v.profile.non_torch_bytes);
    w.member("total_bytes", v.requested_bytes);
    w.member("weight_overhead_bytes", 0);
    w.member("weights_bytes", v.weights_bytes);
  } else {
    const PerGpuBreakdown& g = sp.kaito.per_gpu;
    w.member("activation_bytes", g.activation_bytes);
    w.member("budget_bytes", g.budget_bytes);
    w.member("capacity_bytes", g.capacity_bytes);
    w.member("kv_cache_bytes", g.kv_cache_bytes);
    w.member("non_torch_bytes", g.non_torch_bytes);
    w.member("total_bytes", g.total_bytes);
    w.member("weight_overhead_bytes", g.weight_overhead_bytes);
    w.member("weights_bytes", g.weights_bytes);
  }
  w.end_object();
}

// The sections every plan of a report shares, written once at the depth of a plan's members.
struct SharedSections {
  std::string model, kv_cache, tool;
};

SharedSections shared_sections(const Report& r, int depth) {
  JsonWriter model(2, depth);
  write_model(model, r);
  JsonWriter kv(2, depth);
  write_kv_cache(kv, r.kv);
  JsonWriter tool(2, depth);
  write_tool(tool);
  return {model.take(), kv.take(), tool.take()};
}

// Where write_plan wrote what plans alike (SkuPlan::alike) do not share, as offsets in the writer's text: the plan's
// members start at `members`, "sku" at `sku` (its separator included) and its value ends at `sku_end`, "warnings"
// likewise, and the members end at `end`.
struct PlanMarks {
  std::size_t members = 0, sku = 0, sku_end = 0, warnings = 0, warnings_end = 0, end = 0;
};

// One plan object (docs/json-schema.md); `shared` holds the model, kv_cache and tool sections as text at the
// depth of its members, or is null to write them here. `marks`, when not null, is filled in.
void write_plan(JsonWriter& w, const Report& r, const SkuPlan& sp, const SharedSections* shared,
                const render_detail::SweepMember* sweep, PlanMarks* marks = nullptr) {
  using namespace render_detail;  // NOLINT(google-build-using-namespace): the sections of json_engines.cpp
  PlanMarks unused;
  PlanMarks& m = marks != nullptr ? *marks : unused;
  const MethodInfo& info = method_info(sp.method());
  w.begin_object();
  m.members = w.size();
  w.key("baseline");
  write_baseline(w, sp);
  w.member("engine", info.engine);
  w.key("estimator");
  if (info.estimator.empty()) w.value(nullptr);
  else w.value(info.estimator);
  w.key("feasibility");
  write_feasibility(w, sp.feasibility);
  w.member("fits", sp.fits());
  w.key("kv_cache");
  if (shared != nullptr) w.raw(shared->kv_cache);
  else write_kv_cache(w, r.kv);
  w.key("model");
  if (shared != nullptr) w.raw(shared->model);
  else write_model(w, r);
  w.key("per_gpu");
  write_per_gpu(w, sp);
  w.key("plan");
  write_plan_summary(w, sp);
  w.member("schema_version", kJsonSchemaVersion);
  w.key("settings");
  write_settings(w, r, sp);
  m.sku = w.size();
  w.key("sku");
  write_sku(w, sp);
  m.sku_end = w.size();
  w.key("suggestions");
  write_suggestions(w, sp.suggestions);
  if (sweep != nullptr) {
    w.key("sweep");
    w.begin_object();
    w.member("flag", sweep->flag);
    w.member("value", sweep->value);
    w.end_object();
  }
  w.key("tgi");
  write_method_section(w, Method::Tgi, r, sp);
  w.key("tgi_command");  // one command per server, null for the others
  write_launch_command(w, "tgi", sp);
  w.key("tool");
  if (shared != nullptr) w.raw(shared->tool);
  else write_tool(w);
  w.member("verdict", r.verdict(sp));  // issue 14: fits, does_not_fit or uncertain
  w.key("vllm");
  write_method_section(w, Method::Vllm, r, sp);
  w.key("vllm_command");
  write_launch_command(w, "vllm", sp);
  m.warnings = w.size();
  w.key("warnings");
  write_warnings(w, r, sp);
  m.warnings_end = w.size();
  w.key("wizard");
  write_method_section(w, Method::Wizard, r, sp);
  m.end = w.size();
  w.end_object();
}

// The plans of an array (render_json): those alike (SkuPlan::alike) after the first get the members they share, all
// but "sku" and "warnings", copied from the first's text, and their own SKU and warnings written (a third of
// --sku all's plans are such copies, bench/RESULTS.md). `in_place`: the writer keeps all its text (no clear()), so
// the members are copied from where they were written; else they are kept aside.
class PlanArrayWriter {
 public:
  PlanArrayWriter(JsonWriter& w, const Report& r, bool in_place)
      : w_(w), r_(r), in_place_(in_place), shared_(shared_sections(r, w.depth() + 1)) {}

  void write(const SkuPlan& sp) {
    if (!sp.alike) return write_plan(w_, r_, sp, &shared_, nullptr);
    const auto known =
        std::find_if(known_.begin(), known_.end(), [&](const Known& k) { return k.alike == sp.alike.get(); });
    if (known == known_.end()) return first_of_kind(sp);
    const PlanMarks& m = known->marks;
    w_.begin_object();
    splice(*known, 0, m.members, m.sku);
    w_.key("sku");
    write_sku(w_, sp);
    splice(*known, 1, m.sku_end, m.warnings);
    w_.key("warnings");
    render_detail::write_warnings(w_, r_, sp);
    splice(*known, 2, m.warnings_end, m.end);
    w_.end_object();
  }

 private:
  struct Known {
    const void* alike = nullptr;
    PlanMarks marks;                  // in_place: where the first plan of the kind was written
    std::array<std::string, 3> kept;  // else: its members before "sku", between, and after "warnings"
  };

  void first_of_kind(const SkuPlan& sp) {
    Known k{sp.alike.get(), {}, {}};
    write_plan(w_, r_, sp, &shared_, nullptr, &k.marks);
    if (!in_place_) {
      const std::string_view all = w_.written();
      const PlanMarks& m = k.marks;
      k.kept = {std::string(all.substr(m.members, m.sku - m.members)),
                std::string(all.substr(m.sku_end, m.warnings - m.sku_end)),
                std::string(all.substr(m.warnings_end, m.end - m.warnings_end))};
    }
    known_.push_back(std::move(k));
  }

  void splice(const Known& k, std::size_t piece, std::size_t from, std::size_t to) {
    if (in_place_) w_.splice_written_members(from, to - from);
    else w_.splice_members(k.kept.at(piece));
  }

  JsonWriter& w_;
  const Report& r_;
  bool in_place_;
  const SharedSections shared_;
  std::vector<Known> known_;
};

}  // namespace

std::string render_detail::plan_json_text(const Report& r, const SkuPlan& sp, int indent, const SweepMember* sweep) {
  JsonWriter w(indent);
  write_plan(w, r, sp, nullptr, sweep);
  return w.take();
}

nlohmann::json plan_json(const Report& r, const SkuPlan& sp) {
  nlohmann::json j;
  JsonWriter w(j);
  write_plan(w, r, sp, nullptr, nullptr);
  return j;
}

std::string render_json(const Report& r, bool as_array) {
  JsonWriter w(2);
  if (as_array) {
    w.begin_array();
    PlanArrayWriter plans(w, r, /*in_place=*/true);
    for (const auto& p : r.plans) {
      plans.write(p);
      // The first plan tells the size of the rest, give or take their warnings: room for twice that, so that the
      // text is never copied to a buffer twice as large. Pages of it that are never written are never touched.
      if (&p == &r.plans.front()) w.reserve(2 * w.size() * r.plans.size());
    }
    w.end_array();
  } else {
    write_plan(w, r, r.plans.front(), nullptr, nullptr);
  }
  std::string out = w.take();
  out += '\n';
  return out;
}

void render_json_to(const Report& r, bool as_array, const std::function<void(std::string_view)>& write) {
  // render_json's text in pieces of about kChunk bytes, each plan whole: the buffer is written again from its start
  // once a piece is out, so memory touched stays at a piece's size (bench/RESULTS.md: fresh pages cost ~1 us each).
  constexpr std::size_t kChunk = std::size_t{64} * 1024;
  JsonWriter w(2);
  const auto flush = [&] {
    write(w.written());
    w.clear();
  };
  if (as_array) {
    w.begin_array();
    PlanArrayWriter plans(w, r, /*in_place=*/false);
    for (const auto& p : r.plans) {
      plans.write(p);
      if (w.size() >= kChunk) flush();
    }
    w.end_array();
  } else {
    write_plan(w, r, r.plans.front(), nullptr, nullptr);
  }
  w.put_raw("\n");
  flush();
}

nlohmann::json sku_list_json(const SkuCatalog& skus) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : skus.all()) {
    out.push_back(
        {{"name", s.name},
         {"aliases", s.aliases},
         {"cloud", s.cloud.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.cloud)},
         {"gpu", s.gpu.name},
         {"gpus_per_node", s.gpus_per_node},
         {"memory_marketed_gb", s.gpu.memory_gib_marketed},
         {"memory_reported_bytes",
          s.gpu.memory_mib_reported ? nlohmann::json(*s.gpu.memory_mib_reported * kMiB) : nlohmann::json(nullptr)},
         {"bf16", s.gpu.bf16},
         {"fp8", s.gpu.fp8},
         {"vllm_cuda", s.gpu.cuda_served},
         {"kaito_supported", s.kaito_supported},
         {"verified", s.verified}});
  }
  return out;
}

}  // namespace vramcalc
