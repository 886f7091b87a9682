// One workload's verdict (check/check.hpp): what it runs (server_args), on which GPUs (its node selection), with how
// many (its resource limits), then the same pipeline as the main command, on each GPU type it may land on.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "cli/check/check.hpp"
#include "cli/check/server_args.hpp"
#include "cli/options.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/resolve.hpp"

namespace vramcalc::cli {

namespace {

// A GPU type the workload may be scheduled on: a SKU name, or why it is not known.
struct GpuTarget {
  std::string label;    // "nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB", "--sku", "instanceType ..."
  std::string sku;      // vram-calc's name; empty when unknown
  std::string unknown;  // why the GPU is not known
};

// Node labels that name the GPU, in the order they are trusted: an instance type knows the GPU count too.
constexpr const char* kGpuLabels[] = {
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
    "nvidia.com/gpu.product",
    "cloud.google.com/gke-accelerator",
    "karpenter.k8s.aws/instance-gpu-name",
    "karpenter.k8s.aws/instance-accelerator-name",
};

GpuTarget target_for(const std::string& label, const std::string& value, const Workload& w, const CheckContext& c) {
  GpuTarget t{label + "=" + value, "", ""};
  if (const auto mapped = c.labels.find(label, value)) {
    if (mapped->skus.size() == 1) {
      t.sku = mapped->skus.front();
    } else if (mapped->skus.empty()) {
      t.unknown = fmt::format("{} names a GPU vram-calc has no SKU for (pass --sku or --sku-map)", t.label);
    } else {
      // Karpenter's memory label tells the candidates apart.
      const GpuSelector* memory = nullptr;
      for (const auto& s : w.selectors)
        if (s.label == "karpenter.k8s.aws/instance-gpu-memory" && s.values.size() == 1) memory = &s;
      for (const auto& name : mapped->skus) {
        const Sku* sku = c.skus.find(name);
        if (memory != nullptr && sku != nullptr && sku->gpu.memory_mib_reported &&
            std::to_string(*sku->gpu.memory_mib_reported) == memory->values.front())
          t.sku = name;
      }
      if (t.sku.empty()) {
        std::string list;
        for (const auto& n : mapped->skus) list += (list.empty() ? "" : " or ") + n;
        t.unknown = fmt::format("{} is ambiguous ({}): pass --sku or --sku-map", t.label, list);
      }
    }
    return t;
  }
  const SkuMatch m = c.skus.match(value);
  if (m.sku != nullptr) {
    t.sku = m.sku->name;
  } else if (!m.candidates.empty()) {
    std::string list;
    for (const Sku* s : m.candidates) list += (list.empty() ? "" : ", ") + s->name;
    t.unknown = fmt::format("{} is ambiguous ({}): pass --sku or --sku-map", t.label, list);
  } else {
    t.unknown = fmt::format("{}: unknown GPU (pass --sku or --sku-map)", t.label);
  }
  return t;
}

std::vector<GpuTarget> gpu_targets(const Workload& w, const CheckContext& c) {
  if (c.sku) return {GpuTarget{"--sku", *c.sku, ""}};
  if (w.kaito) {
    if (w.kaito->instance_type.empty()) return {GpuTarget{"resource.instanceType", "", "no resource.instanceType"}};
    return {target_for("instanceType", w.kaito->instance_type, w, c)};
  }
  for (const char* label : kGpuLabels) {
    for (const auto& s : w.selectors) {
      if (s.label != label) continue;
      std::vector<GpuTarget> out;
      for (const auto& v : s.values) out.push_back(target_for(s.label, v, w, c));
      return out;
    }
  }
  for (const auto& s : w.selectors) {  // a custom label the user's --sku-map knows
    if (!c.labels.find(s.label, s.values.front())) continue;
    std::vector<GpuTarget> out;
    for (const auto& v : s.values) out.push_back(target_for(s.label, v, w, c));
    return out;
  }
  return {GpuTarget{"", "",
                    "no node selector or required node affinity names the GPU (nvidia.com/gpu.product, "
                    "node.kubernetes.io/instance-type, cloud.google.com/gke-accelerator, ...): pass --sku or "
                    "--sku-map"}};
}

bool looks_like_path(const std::string& model) {
  return !model.empty() && (model.front() == '/' || model.rfind("./", 0) == 0 || model.rfind("../", 0) == 0);
}

// The model the server loads, through --model-map for paths in the container.
std::optional<std::string> model_id(const ServerSettings& s, const CheckContext& c, CheckResult& r) {
  if (!s.model) {
    r.unknowns.emplace_back("the command line names no model");
    return std::nullopt;
  }
  std::string m = *s.model;
  while (m.size() > 1 && m.back() == '/') m.pop_back();
  if (const auto it = c.model_map.find(m); it != c.model_map.end()) {
    r.notes.push_back(fmt::format("model {} is {} (--model-map)", m, it->second));
    return it->second;
  }
  if (looks_like_path(m)) {
    r.unknowns.push_back(
        fmt::format("the model is loaded from {} in the container ({}): pass --model-map", m, s.model_from));
    return std::nullopt;
  }
  return m;
}

const ModelInput* resolve(const std::string& id, const std::optional<std::string>& revision, const Options& o,
                          CheckContext& c, CheckResult& r) {
  const std::string key = id + "@" + revision.value_or("");
  if (const auto it = c.models.find(key); it != c.models.end()) return &it->second;
  ResolveOptions ro;
  ro.hub = o.hub;
  ro.catalog = [&c]() -> const ModelCatalog& {
    if (!c.catalog) c.catalog = ModelCatalog::load(find_data_file("models.json"));
    return *c.catalog;
  };
  try {
    return &c.models.emplace(key, resolve_model(id, ro)).first->second;
  } catch (const Error& e) {
    r.unknowns.push_back(fmt::format("model {}: {}", id, e.what()));
    r.remote_failed = e.code() == ExitCode::RemoteFailed && !c.offline;
    return nullptr;
  }
}

std::uint64_t term_bytes(const PlanSummary& s, std::string_view word) {
  for (const auto& t : s.memory)
    if (t.name.find(word) != std::string::npos) return t.bytes / std::max<std::uint64_t>(1, s.memory_gpus);
  return 0;
}

// A suggestion's flags as a manifest change: vram-calc's --gpus-per-node is the pod's GPU limit.
std::string manifest_flags(const Suggestion& sug, std::uint64_t gpus) {
  std::string flags = sug.flags;
  const std::string per_node = fmt::format(" --gpus-per-node {}", sug.gpus);
  if (const auto at = flags.find(per_node); at != std::string::npos) flags.erase(at, per_node.size());
  if (sug.gpus != gpus) flags += fmt::format(" with nvidia.com/gpu: {}", sug.gpus);
  return flags;
}

CheckFigures figures_of(const Report& rep, const SkuPlan& p, const GpuTarget& t) {
  CheckFigures f;
  f.sku = p.sku.name;
  f.gpu = p.sku.gpu.name;
  f.label = t.label;
  const PlanSummary& s = p.summary;
  f.engine = std::string(method_info(s.method).name);
  if (p.vllm) f.engine = fmt::format("{} {}", f.engine, rep.settings.vllm.version.str());
  f.gpus = s.gpus;
  f.nodes = s.nodes;
  f.tensor_parallel_size = s.tensor_parallel_size;
  f.pipeline_parallel_size = s.pipeline_parallel_size;
  f.data_parallel_size = s.data_parallel_size;
  f.budget_bytes = s.budget_bytes / std::max<std::uint64_t>(1, s.memory_gpus);
  f.max_model_len = std::max(s.max_model_len_requested, s.max_model_len);
  f.longest_max_model_len = p.feasibility.max_context_at_concurrency;
  f.max_concurrency = p.feasibility.max_concurrency_at_context;
  f.headroom_bytes = p.feasibility.headroom_bytes;
  f.fits = p.fits();
  f.reasons = s.not_fit_reasons;
  if (!f.fits && f.reasons.empty())
    f.reasons.push_back(fmt::format("headroom {:.2f} GiB per GPU", static_cast<double>(f.headroom_bytes) / kGiB));
  if (p.vllm) {
    f.weights_bytes = p.vllm->weights_bytes;
    f.kv_available_bytes = p.vllm->available_kv_bytes;
    f.kv_needed_bytes = p.vllm->capacity.needed_bytes;
  } else {
    f.weights_bytes = term_bytes(s, "weights");
    if (f.weights_bytes == 0) f.weights_bytes = term_bytes(s, "model");  // TGI's notebook names the weights "model"
    f.kv_needed_bytes = term_bytes(s, "KV");
  }
  // In the manifest's terms: changes on the same GPUs first, then those asking for more (the pod's GPU limit).
  for (const bool same_gpus : {true, false})
    for (const auto& sug : p.suggestions)
      if (sug.fits && (sug.gpus == s.gpus) == same_gpus)
        f.suggestions.push_back(fmt::format("{} ({})", manifest_flags(sug, s.gpus), sug.change));
  return f;
}

// The layout the server runs: vLLM's TP x PP x DP, TGI's shards, KAITO's GPUs per node x nodes.
struct Layout {
  std::uint64_t tp = 1, pp = 1, dp = 1;
  std::uint64_t gpus_per_pod = 0;
};

std::optional<Layout> layout_of(const Workload& w, const ServerSettings& s, const Sku* kaito_sku, CheckResult& r) {
  Layout l;
  if (w.kaito) {
    if (kaito_sku == nullptr) return std::nullopt;
    l.tp = static_cast<std::uint64_t>(kaito_sku->gpus_per_node);
    l.pp = w.kaito->count;
    l.gpus_per_pod = l.tp;
    return l;
  }
  if (w.gpu_resource.rfind("amd.com/", 0) == 0) {
    r.unknowns.push_back(
        fmt::format("{}: AMD GPUs (ROCm) are not served by the CUDA path vram-calc models", w.gpu_resource));
    return std::nullopt;
  }
  if (!w.gpus_per_pod || *w.gpus_per_pod == 0) {
    r.unknowns.emplace_back("the container requests no nvidia.com/gpu (GPUs through resourceClaims are not read)");
    return std::nullopt;
  }
  if (w.gpu_resource != "nvidia.com/gpu" && w.gpu_resource.rfind("nvidia.com/mig-", 0) != 0) {
    r.unknowns.push_back(fmt::format("{}: not an NVIDIA GPU resource vram-calc sizes", w.gpu_resource));
    return std::nullopt;
  }
  l.gpus_per_pod = *w.gpus_per_pod;
  const std::uint64_t total = w.total_gpus();
  if (s.kind == ServerKind::Tgi) {
    const bool one = s.value("sharded").value_or("") == "false";
    const auto shards = s.count("num-shard", one ? 1 : l.gpus_per_pod);
    if (!shards) {
      r.unknowns.emplace_back("--num-shard is not a positive whole number");
      return std::nullopt;
    }
    l.tp = *shards;
    if (l.tp != total)
      r.errors.push_back(fmt::format("TGI runs {} shard(s), but the pod requests {} GPU(s)", l.tp, total));
    return l;
  }
  const auto tp = s.count("tensor-parallel-size"), pp = s.count("pipeline-parallel-size"),
             dp = s.count("data-parallel-size");
  if (!tp || !pp || !dp) {
    r.unknowns.emplace_back(
        "--tensor-parallel-size, --pipeline-parallel-size and --data-parallel-size must be positive whole numbers");
    return std::nullopt;
  }
  l.tp = *tp;
  l.pp = *pp;
  l.dp = *dp;
  const std::uint64_t used = l.tp * l.pp * l.dp;
  if (used != total)
    r.errors.push_back(fmt::format("TP {} x PP {} x DP {} = {} GPU(s), but the {} requests {} ({}{})", l.tp, l.pp, l.dp,
                                   used, w.pods > 1 ? "group" : "pod", total, w.gpu_resource,
                                   w.pods > 1 ? fmt::format(" x {} pods", w.pods) : ""));
  return l;
}

// MIG: nvidia.com/mig-3g.40gb is one slice of 40 GB.
std::optional<std::string> mig_memory(const std::string& resource) {
  if (resource.rfind("nvidia.com/mig-", 0) != 0) return std::nullopt;
  const auto dot = resource.rfind('.');
  if (dot == std::string::npos || resource.size() < dot + 4 || resource.compare(resource.size() - 2, 2, "gb") != 0)
    return std::nullopt;
  return resource.substr(dot + 1, resource.size() - dot - 3) + "GB";
}

std::vector<std::string> plan_args(const std::string& model, const std::string& sku, const ServerSettings& s,
                                   const Layout& l, const Workload& w, const CheckContext& c, bool with_version,
                                   CheckResult& r) {
  std::vector<std::string> args{"vram-calc", "--model", model, "--sku", sku};
  auto flags = vram_calc_flags(s, r.notes);
  args.insert(args.end(), flags.begin(), flags.end());
  if (s.kind == ServerKind::Tgi) {
    args.insert(args.end(), {"--num-shard", std::to_string(l.tp)});
  } else {
    args.insert(args.end(),
                {"--tensor-parallel-size", std::to_string(l.tp), "--pipeline-parallel-size", std::to_string(l.pp)});
    if (l.dp > 1) args.insert(args.end(), {"--data-parallel-size", std::to_string(l.dp)});
    if (with_version) {
      const auto v = w.kaito ? c.vllm_version : vllm_version_of_image(w.image);
      if (v) args.insert(args.end(), {"--vllm-version", *v});
      else if (c.vllm_version) args.insert(args.end(), {"--vllm-version", *c.vllm_version});
    }
  }
  if (!w.kaito) args.insert(args.end(), {"--gpus-per-node", std::to_string(l.gpus_per_pod)});
  if (const auto mig = mig_memory(w.gpu_resource)) {
    args.insert(args.end(), {"--gpu-memory", *mig});
    r.notes.push_back(fmt::format("{}: one MIG slice, sized as a GPU of {} (10^9 bytes)", w.gpu_resource, *mig));
  }
  args.insert(args.end(), c.hub_flags.begin(), c.hub_flags.end());
  return args;
}

// The server's own checks that vram-calc's what-ifs relax: a length over the model's maximum, bfloat16 on a GPU
// without it, more GPUs than the node type holds.
void server_refusals(const Report& rep, const ServerSettings& s, const Sku& sku, const Layout& l, const Workload& w,
                     CheckResult& r) {
  const auto given = s.value("max-model-len");
  const auto max = rep.arch.max_position_embeddings;
  if (s.kind != ServerKind::Tgi && given && max && rep.settings.vllm.max_model_len &&
      *rep.settings.vllm.max_model_len > *max && !s.has("allow-long-max-model-len"))
    r.errors.push_back(
        fmt::format("--max-model-len {} exceeds the model's maximum {} ({}): vLLM refuses to start "
                    "(VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 allows it)",
                    *given, *max, rep.arch.max_position_source));
  const std::string dtype = s.value("dtype").value_or("");
  if ((dtype == "bfloat16" || dtype == "bf16") && !sku.gpu.bf16)
    r.errors.push_back(
        fmt::format("--dtype {} on {}, which has no bfloat16: the server refuses to start", dtype, sku.gpu.name));
  if (sku.is_instance && !w.kaito && l.gpus_per_pod > static_cast<std::uint64_t>(sku.gpus_per_node))
    r.errors.push_back(
        fmt::format("the pod requests {} GPUs, but a {} node holds {}", l.gpus_per_pod, sku.name, sku.gpus_per_node));
  if (!sku.gpu.cuda_served) r.errors.push_back(fmt::format("{} is not served by vLLM's or TGI's CUDA path", sku.name));
}

void plan_target(const GpuTarget& t, const std::string& model, const ServerSettings& s, const Layout& l,
                 const Workload& w, CheckContext& c, CheckResult& r) {
  if (t.sku.empty()) {
    r.unknowns.push_back(t.unknown);
    return;
  }
  const Sku* sku = c.skus.find(t.sku);
  if (sku == nullptr) {
    r.unknowns.push_back(fmt::format("{}: SKU {} is not in the catalog", t.label, t.sku));
    return;
  }
  Options o;
  try {
    try {
      o = parse_option_words(plan_args(model, sku->name, s, l, w, c, true, r));
    } catch (const Error& e) {
      if (std::string(e.what()).find("--vllm-version") == std::string::npos) throw;
      r.notes.push_back(fmt::format("{}: sized as vLLM's default release", e.what()));
      o = parse_option_words(plan_args(model, sku->name, s, l, w, c, false, r));
    }
  } catch (const Error& e) {
    r.unknowns.push_back(fmt::format("arguments vram-calc cannot read: {}", e.what()));
    return;
  }
  const ModelInput* input = resolve(model, s.value("revision"), o, c, r);
  if (input == nullptr) return;
  try {
    Report rep = model_report(*input, o.report, o.notes);
    // Without --max-model-len vLLM serves the model's whole context (KAITO picks a length itself).
    if (!s.has("max-model-len") && !w.kaito && rep.arch.max_position_embeddings)
      rep.settings.vllm.max_model_len = *rep.arch.max_position_embeddings;
    server_refusals(rep, s, *sku, l, w, r);
    add_plans(rep, {sku}, true);
    if (rep.uncertain()) r.unknowns.emplace_back("the model's parameters, weights or KV cache are guesses (uncertain)");
    r.plans.push_back(figures_of(rep, rep.plans.front(), t));
    for (const auto& warning : rep.all_warnings(rep.plans.front()))
      if (std::find(r.warnings.begin(), r.warnings.end(), warning) == r.warnings.end()) r.warnings.push_back(warning);
  } catch (const Error& e) {
    r.unknowns.push_back(fmt::format("{}: {}", model, e.what()));
  }
}

std::string server_words(const Workload& w) {
  if (w.kaito) return "KAITO preset " + w.kaito->preset;
  return w.server ? w.server->program : "";
}

}  // namespace

CheckResult check_workload(const Workload& w, CheckContext& c) {
  CheckResult r;
  r.workload = w;
  r.server = server_words(w);
  r.unknowns = w.problems;
  r.notes = w.notes;
  std::optional<std::string> kaito_model;
  if (w.kaito) {
    if (!c.presets) c.presets = KaitoPresets::load(find_data_file("kaito_presets.json"));
    kaito_model = w.kaito->preset.find('/') != std::string::npos ? std::optional(w.kaito->preset)
                                                                 : c.presets->model(w.kaito->preset);
    if (!kaito_model)
      r.unknowns.push_back(fmt::format("KAITO preset '{}' is not in vram-calc's table", w.kaito->preset));
  }
  const ServerSettings s = read_server_settings(w, kaito_model);
  r.unknowns.insert(r.unknowns.end(), s.unknowns.begin(), s.unknowns.end());
  r.notes.insert(r.notes.end(), s.notes.begin(), s.notes.end());
  if (w.kaito && !s.has("max-model-len"))
    r.notes.emplace_back("KAITO sets max-model-len itself: the longest that fits is checked");
  const auto model = model_id(s, c, r);
  if (model) r.model = *model;
  const std::vector<GpuTarget> targets = gpu_targets(w, c);
  const Sku* kaito_sku = w.kaito && !targets.front().sku.empty() ? c.skus.find(targets.front().sku) : nullptr;
  const auto layout = layout_of(w, s, kaito_sku, r);
  if (model && layout && r.unknowns.empty())
    for (const auto& t : targets) plan_target(t, *model, s, *layout, w, c, r);
  else if (!layout && w.kaito && !targets.front().unknown.empty()) r.unknowns.push_back(targets.front().unknown);
  const bool any_fails = std::any_of(r.plans.begin(), r.plans.end(), [](const CheckFigures& f) { return !f.fits; });
  r.verdict = !r.errors.empty() || any_fails           ? CheckVerdict::DoesNotFit
              : !r.unknowns.empty() || r.plans.empty() ? CheckVerdict::CannotTell
                                                       : CheckVerdict::Fits;
  return r;
}

}  // namespace vramcalc::cli
