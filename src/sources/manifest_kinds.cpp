// The workload kinds `vram-calc check` reads (sources/manifest.hpp): where each keeps its pod template, containers,
// GPU requests and node selection, and KAITO's and KServe's own shapes. ConfigMaps anywhere in the input fill
// environment variables and mounted files.
#include "sources/manifest_internal.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

namespace vramcalc {

namespace {

using Node = YAML::Node;

// n[key] when n is a mapping holding it, else a null node (never yaml-cpp's invalid "zombie" node).
Node child(const Node& n, const char* key) {
  if (!n.IsDefined() || !n.IsMap()) return Node();
  const Node v = n[key];
  return v.IsDefined() ? v : Node();
}

Node path(const Node& n, std::initializer_list<const char*> keys) {
  Node current;
  current.reset(n);
  for (const char* key : keys) {
    const Node next = child(current, key);
    current.reset(next);
  }
  return current;
}

std::string scalar(const Node& n) { return n.IsDefined() && n.IsScalar() ? n.Scalar() : std::string(); }

int line_of(const Node& n, int fallback) {
  const YAML::Mark m = n.Mark();
  return m.is_null() || m.line < 0 ? fallback : m.line + 1;
}

std::optional<std::uint64_t> count_of(const Node& n) {
  const std::string s = scalar(n);
  if (s.empty() || s.size() > 9 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    return std::nullopt;
  return std::stoull(s);
}

using ConfigMapKey = std::pair<std::string, std::string>;  // namespace, name
using ConfigMapData = std::map<std::string, std::string>;

struct Inputs {
  std::map<ConfigMapKey, ConfigMapData> config_maps;
  std::map<std::string, Node> runtimes;  // KServe ServingRuntime / ClusterServingRuntime specs by name
};

const ConfigMapData* config_map(const Inputs& in, const std::string& ns, const std::string& name) {
  auto it = in.config_maps.find({ns, name});
  if (it == in.config_maps.end() && ns.empty()) it = in.config_maps.find({"default", name});
  if (it == in.config_maps.end() && ns == "default") it = in.config_maps.find({"", name});
  return it == in.config_maps.end() ? nullptr : &it->second;
}

std::optional<ServerKind> image_entrypoint(const std::string& image) {
  if (image.find("vllm-openai") != std::string::npos || image.find("vllm/vllm") != std::string::npos)
    return ServerKind::Vllm;
  if (image.find("text-generation-inference") != std::string::npos) return ServerKind::Tgi;
  if (image.find("huggingfaceserver") != std::string::npos) return ServerKind::KserveHuggingFace;
  return std::nullopt;
}

void read_env(const Node& container, const Inputs& in, Workload& w) {
  const Node env = child(container, "env");
  if (env.IsSequence()) {
    for (const auto& item : env) {
      ManifestEnvVar v{scalar(child(item, "name")), std::nullopt, ""};
      if (v.name.empty()) continue;
      const Node from = child(item, "valueFrom");
      if (const Node value = child(item, "value"); value.IsScalar()) {
        v.value = value.Scalar();
      } else if (const Node cm = child(from, "configMapKeyRef"); cm.IsMap()) {
        const std::string name = scalar(child(cm, "name"));
        const std::string key = scalar(child(cm, "key"));
        const ConfigMapData* data = config_map(in, w.ns, name);
        if (data != nullptr && data->count(key) != 0) v.value = data->at(key);
        else v.unknown_because = fmt::format("from ConfigMap {} (key {}), not in the input", name, key);
      } else if (const Node secret = child(from, "secretKeyRef"); secret.IsMap()) {
        v.unknown_because = fmt::format("from Secret {}", scalar(child(secret, "name")));
      } else if (from.IsMap()) {
        v.unknown_because = "from a field or resource reference";
      } else {
        v.value = "";
      }
      w.env.push_back(std::move(v));
    }
  }
  const Node env_from = child(container, "envFrom");
  if (!env_from.IsSequence()) return;
  for (const auto& item : env_from) {
    const std::string prefix = scalar(child(item, "prefix"));
    if (const Node cm = child(item, "configMapRef"); cm.IsMap()) {
      const std::string name = scalar(child(cm, "name"));
      if (const ConfigMapData* data = config_map(in, w.ns, name)) {
        for (const auto& [key, value] : *data) w.env.push_back({prefix + key, value, ""});
      } else {
        w.notes.push_back(fmt::format("envFrom ConfigMap {} is not in the input: its variables are not read", name));
      }
    } else if (const Node secret = child(item, "secretRef"); secret.IsMap()) {
      w.notes.push_back(fmt::format("envFrom Secret {}: its variables cannot be read", scalar(child(secret, "name"))));
    }
  }
}

// The first GPU-like extended resource in limits (else requests): nvidia.com/gpu, nvidia.com/mig-*, amd.com/gpu, ...
void read_resources(const Node& container, Workload& w, bool worker) {
  for (const char* section : {"limits", "requests"}) {
    const Node res = path(container, {"resources", section});
    if (!res.IsMap()) continue;
    for (const auto& entry : res) {
      const std::string key = scalar(entry.first);
      const bool gpu = key.find("gpu") != std::string::npos || key.rfind("nvidia.com/mig-", 0) == 0 ||
                       key.rfind("habana.ai/", 0) == 0 || key.rfind("aws.amazon.com/neuron", 0) == 0;
      if (!gpu) continue;
      const auto n = count_of(entry.second);
      if (!n) {
        w.problems.push_back(fmt::format("{} {}: '{}' is not a whole number", section, key, scalar(entry.second)));
        return;
      }
      if (w.gpu_resource.empty()) w.gpu_resource = key;
      (worker ? w.worker_gpus_per_pod : w.gpus_per_pod) = *n;
      return;
    }
  }
}

void add_selector(Workload& w, const std::string& label, const std::vector<std::string>& values) {
  for (auto& s : w.selectors) {
    if (s.label != label) continue;
    for (const auto& v : values)
      if (std::find(s.values.begin(), s.values.end(), v) == s.values.end()) s.values.push_back(v);
    return;
  }
  w.selectors.push_back({label, values});
}

// nodeSelector, and the required node affinity's In expressions (terms are alternatives: their values add up).
void read_selectors(const Node& pod_spec, Workload& w) {
  const Node selector = child(pod_spec, "nodeSelector");
  if (selector.IsMap())
    for (const auto& entry : selector) add_selector(w, scalar(entry.first), {scalar(entry.second)});
  const Node terms = path(
      pod_spec, {"affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"});
  if (!terms.IsSequence()) return;
  for (const auto& term : terms) {
    const Node expressions = child(term, "matchExpressions");
    if (!expressions.IsSequence()) continue;
    for (const auto& e : expressions) {
      if (scalar(child(e, "operator")) != "In") continue;
      std::vector<std::string> values;
      if (const Node vs = child(e, "values"); vs.IsSequence())
        for (const auto& v : vs) values.push_back(scalar(v));
      if (!values.empty()) add_selector(w, scalar(child(e, "key")), values);
    }
  }
}

// Files the container sees from ConfigMap volumes of the input.
void read_mounts(const Node& pod_spec, const Node& container, const Inputs& in, Workload& w) {
  std::map<std::string, std::string> volume_config_map;  // volume name -> ConfigMap name
  if (const Node volumes = child(pod_spec, "volumes"); volumes.IsSequence())
    for (const auto& v : volumes)
      if (const Node cm = child(v, "configMap"); cm.IsMap())
        volume_config_map[scalar(child(v, "name"))] = scalar(child(cm, "name"));
  const Node mounts = child(container, "volumeMounts");
  if (!mounts.IsSequence()) return;
  for (const auto& m : mounts) {
    std::string mount_path = scalar(child(m, "mountPath"));
    const std::string sub_path = scalar(child(m, "subPath"));
    const auto vol = volume_config_map.find(scalar(child(m, "name")));
    const ConfigMapData* data = vol == volume_config_map.end() ? nullptr : config_map(in, w.ns, vol->second);
    if (data == nullptr) {
      w.unread_mounts.push_back(mount_path);
      continue;
    }
    while (mount_path.size() > 1 && mount_path.back() == '/') mount_path.pop_back();
    if (!sub_path.empty()) {
      if (data->count(sub_path) != 0) w.files[mount_path] = data->at(sub_path);
    } else {
      for (const auto& [key, value] : *data) w.files[fmt::format("{}/{}", mount_path, key)] = value;
    }
  }
}

std::vector<std::string> words_of(const Node& container) {
  std::vector<std::string> words;
  for (const char* key : {"command", "args"}) {
    const Node list = child(container, key);
    if (list.IsSequence())
      for (const auto& item : list) words.push_back(scalar(item));
    else if (list.IsScalar()) words.push_back(list.Scalar());
  }
  return words;
}

bool has_command(const Node& container) { return child(container, "command").IsSequence(); }

EnvLookup env_lookup(const Workload& w) {
  return [&w](std::string_view name) -> std::optional<std::string> {
    const ManifestEnvVar* v = w.env_var(name);
    return v != nullptr ? v->value : std::nullopt;
  };
}

// The server `container` starts, read into `w` (its command line with $(VAR) expanded, env, image); false when it
// starts none.
bool read_server(const Node& container, std::vector<std::string> words, bool own_command, Workload& w) {
  w.image = scalar(child(container, "image"));
  const EnvLookup env = env_lookup(w);
  std::vector<std::string> unknown;
  auto defined = [&w](std::string_view name) { return w.env_var(name) != nullptr; };
  for (auto& word : words) word = expand_k8s_vars(word, env, defined, unknown);
  for (const auto& name : unknown)
    w.problems.push_back(fmt::format("$({}) in the command line comes {}", name, w.env_var(name)->unknown_because));
  w.server = find_server(words, own_command ? std::nullopt : image_entrypoint(w.image), env, w.problems);
  return w.server.has_value();
}

// One workload per container of `pod_spec` that starts a server; `base` holds the resource's identity.
std::vector<Workload> servers_in(const Node& pod_spec, const Workload& base, const Inputs& in) {
  std::vector<Workload> out;
  const Node containers = child(pod_spec, "containers");
  if (!containers.IsSequence()) return out;
  for (const auto& c : containers) {
    Workload w = base;
    w.container = scalar(child(c, "name"));
    w.place.line = line_of(c, base.place.line);
    read_env(c, in, w);
    if (!read_server(c, words_of(c), has_command(c), w)) continue;
    read_resources(c, w, false);
    read_selectors(pod_spec, w);
    read_mounts(pod_spec, c, in, w);
    out.push_back(std::move(w));
  }
  return out;
}

// A LeaderWorkerSet: one plan for the group (leader + size - 1 workers), from the leader's server (else the
// workers'), with the workers' GPUs.
std::vector<Workload> leader_worker_set(const Node& root, const Workload& base, const Inputs& in) {
  const Node lwt = path(root, {"spec", "leaderWorkerTemplate"});
  const std::uint64_t size = count_of(child(lwt, "size")).value_or(1);
  const Node leader = path(lwt, {"leaderTemplate", "spec"});
  const Node worker = path(lwt, {"workerTemplate", "spec"});
  std::vector<Workload> found = servers_in(leader.IsMap() ? leader : worker, base, in);
  if (found.empty() && leader.IsMap()) found = servers_in(worker, base, in);
  for (auto& w : found) {
    w.pods = std::max<std::uint64_t>(size, 1);
    if (leader.IsMap() && worker.IsMap()) {
      const Node containers = child(worker, "containers");
      Workload workers;
      if (containers.IsSequence())
        for (const auto& c : containers) read_resources(c, workers, true);
      if (workers.worker_gpus_per_pod) w.worker_gpus_per_pod = workers.worker_gpus_per_pod;
    }
  }
  return found;
}

// KServe's predictor: its own containers, or `model` (a container with modelFormat, runtime and storageUri) run by
// the named ServingRuntime of the input, else the Hugging Face runtime when the format is huggingface.
std::vector<Workload> inference_service(const Node& root, const Workload& base, const Inputs& in,
                                        std::string& why_not) {
  const Node predictor = path(root, {"spec", "predictor"});
  if (child(predictor, "containers").IsSequence()) return servers_in(predictor, base, in);
  const Node model = child(predictor, "model");
  if (!model.IsMap()) {
    why_not = "no predictor.model or predictor.containers";
    return {};
  }
  Workload w = base;
  w.container = "kserve-container";
  w.place.line = line_of(model, base.place.line);
  if (const std::string uri = scalar(child(model, "storageUri")); !uri.empty()) w.storage_uri = uri;
  read_env(model, in, w);
  const std::string format = scalar(path(model, {"modelFormat", "name"}));
  const std::string runtime = scalar(child(model, "runtime"));
  std::vector<std::string> words;
  bool own_command = has_command(model);
  if (const auto rt = in.runtimes.find(runtime); !own_command && rt != in.runtimes.end()) {
    const Node containers = child(rt->second, "containers");
    if (containers.IsSequence() && containers.size() > 0) {
      const Node c = containers[0];
      words = words_of(c);
      own_command = has_command(c);
      if (scalar(child(model, "image")).empty()) w.image = scalar(child(c, "image"));
    }
  }
  const auto model_words = words_of(model);
  words.insert(words.end(), model_words.begin(), model_words.end());
  std::string image = scalar(child(model, "image"));
  if (image.empty() && !w.image.empty()) image = w.image;
  if (image.empty() && (format == "huggingface" || runtime.find("huggingface") != std::string::npos))
    image = "kserve/huggingfaceserver";
  Node synthetic;
  synthetic["image"] = image;
  if (!read_server(synthetic, words, own_command, w)) {
    why_not = format.empty() ? "its predictor starts no vLLM, TGI or Hugging Face runtime"
                             : fmt::format(
                                   "model format '{}' without a ServingRuntime in the input that starts "
                                   "vLLM or TGI",
                                   format);
    return {};
  }
  read_resources(model, w, false);
  read_selectors(predictor, w);
  return {w};
}

// KAITO's Workspace (resource and inference at the top level) or InferenceSet (under spec.template).
std::optional<Workload> kaito_workload(const Node& root, const Workload& base, const Inputs& in) {
  for (const Node& holder : {root, child(root, "spec"), path(root, {"spec", "template"})}) {
    const Node resource = child(holder, "resource");
    const Node inference = child(holder, "inference");
    if (!resource.IsMap() && !inference.IsMap()) continue;
    Workload w = base;
    w.place.line = line_of(inference.IsMap() ? inference : resource, base.place.line);
    KaitoWorkload k;
    k.instance_type = scalar(child(resource, "instanceType"));
    k.count = count_of(child(resource, "count")).value_or(1);
    k.preset = scalar(path(inference, {"preset", "name"}));
    k.config_name = scalar(child(inference, "config"));
    if (!k.config_name.empty()) {
      const ConfigMapData* data = config_map(in, w.ns, k.config_name);
      if (data != nullptr && data->count("inference_config.yaml") != 0)
        k.inference_config = data->at("inference_config.yaml");
      else w.problems.push_back(fmt::format("inference.config {}: the ConfigMap is not in the input", k.config_name));
    }
    w.kaito = std::move(k);
    return w;
  }
  return std::nullopt;
}

Node pod_template(const std::string& kind, const Node& root) {
  if (kind == "Pod") return child(root, "spec");
  if (kind == "CronJob") return path(root, {"spec", "jobTemplate", "spec", "template", "spec"});
  if (kind == "ServingRuntime" || kind == "ClusterServingRuntime") return child(root, "spec");
  return path(root, {"spec", "template", "spec"});
}

bool pod_template_kind(const std::string& kind) {
  static const char* const kinds[] = {"Pod", "Deployment", "StatefulSet",    "ReplicaSet",           "DaemonSet",
                                      "Job", "CronJob",    "ServingRuntime", "ClusterServingRuntime"};
  return std::find(std::begin(kinds), std::end(kinds), kind) != std::end(kinds);
}

void collect_inputs(const Node& root, Inputs& in) {
  const std::string kind = scalar(child(root, "kind"));
  if (kind == "List") {
    if (const Node items = child(root, "items"); items.IsSequence())
      for (const auto& item : items) collect_inputs(item, in);
    return;
  }
  const std::string name = scalar(path(root, {"metadata", "name"}));
  const std::string ns = scalar(path(root, {"metadata", "namespace"}));
  if (kind == "ConfigMap") {
    ConfigMapData data;
    if (const Node d = child(root, "data"); d.IsMap())
      for (const auto& entry : d) data[scalar(entry.first)] = scalar(entry.second);
    in.config_maps[{ns, name}] = std::move(data);
  } else if (kind == "ServingRuntime" || kind == "ClusterServingRuntime") {
    in.runtimes[name] = child(root, "spec");
  }
}

void extract(const Node& root, const ManifestPlace& place, const Inputs& in, ManifestSet& set) {
  if (!root.IsMap()) {
    if (!root.IsNull()) set.skipped.push_back({place, "", "", "not a Kubernetes resource (not a mapping)"});
    return;
  }
  const std::string kind = scalar(child(root, "kind"));
  if (kind == "List") {
    if (const Node items = child(root, "items"); items.IsSequence())
      for (const auto& item : items)
        extract(item, ManifestPlace{place.file, place.document, line_of(item, place.line)}, in, set);
    return;
  }
  Workload base;
  base.place = place;
  base.kind = kind;
  base.name = scalar(path(root, {"metadata", "name"}));
  base.ns = scalar(path(root, {"metadata", "namespace"}));
  std::vector<Workload> found;
  std::string why_not = "not a workload vram-calc sizes";
  if (kind.empty()) {
    why_not = "not a Kubernetes resource (no kind)";
  } else if (pod_template_kind(kind)) {
    found = servers_in(pod_template(kind, root), base, in);
    why_not = "no container starts vLLM or TGI";
  } else if (kind == "LeaderWorkerSet") {
    found = leader_worker_set(root, base, in);
    why_not = "no container starts vLLM or TGI";
  } else if (kind == "InferenceService") {
    found = inference_service(root, base, in, why_not);
  } else if (kind == "Workspace" || kind == "InferenceSet") {
    if (auto w = kaito_workload(root, base, in)) found.push_back(std::move(*w));
    else why_not = "no resource or inference section";
  }
  if (found.empty()) set.skipped.push_back({place, kind, base.name, why_not});
  for (auto& w : found) set.workloads.push_back(std::move(w));
}

}  // namespace

const ManifestEnvVar* Workload::env_var(std::string_view name) const {
  // The last definition wins, as in Kubernetes.
  const ManifestEnvVar* found = nullptr;
  for (const auto& v : env)
    if (v.name == name) found = &v;
  return found;
}

std::uint64_t Workload::total_gpus() const {
  const std::uint64_t leader = gpus_per_pod.value_or(0);
  const std::uint64_t worker = worker_gpus_per_pod.value_or(leader);
  return leader + (pods > 1 ? (pods - 1) * worker : 0);
}

void extract_workloads(const std::vector<const ManifestReader::Document*>& documents, ManifestSet& set) {
  Inputs in;
  for (const auto* d : documents) collect_inputs(d->root, in);
  for (const auto* d : documents) extract(d->root, d->place, in, set);
}

}  // namespace vramcalc
