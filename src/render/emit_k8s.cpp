// --emit k8s: a Kubernetes manifest that runs a plan. One node: a Deployment of one pod. Several nodes (vLLM): a
// LeaderWorkerSet (leaderworkerset.x-k8s.io/v1) whose group is one pod per node, the leader serving HTTP.
//
// Across nodes vLLM runs on its multiprocessing backend, as vLLM's "Parallelism and Scaling" guide documents it
// (docs/serving/parallelism_scaling.md, "Running vLLM with MultiProcessing"): every node runs the same `vllm serve`
// with --nnodes N --node-rank R --master-addr HEAD, and the nodes other than the head add --headless (vLLM v0.11 and
// later, vllm-project/vllm#23691). It is chosen over the Ray recipe of vLLM's LWS guide
// (docs/deployment/frameworks/lws.md: a Ray head started by examples/online_serving/multi-node-serving.sh on the
// leader, Ray workers joining it) because it needs no Ray cluster, no helper script and no Ray in the image: vLLM's
// images stopped shipping Ray around v0.19, where that recipe fails with "ray: not found". An image pinned to a
// release before v0.11 (--vllm-version) gets the Ray recipe, the one those releases support.
#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "render/json_sections.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/render/commands.hpp"

namespace vramcalc {

namespace {

// A YAML scalar that is always a string: JSON's double-quoted form is valid YAML, with every control character
// escaped, so that a model id or argument holding a newline or ESC stays one valid scalar (render_detail::dump_json).
// Invalid UTF-8 (a profile's vllm_args, argv) becomes U+FFFD instead of an exception (found by fuzz_profile).
std::string q(const std::string& s) { return render_detail::dump_json(nlohmann::json(s), -1); }

// Text in a YAML comment: on one line, with nothing a YAML parser refuses.
std::string comment_text(const std::string& s) { return render_detail::escape_yaml_unsafe(printable_line(s)); }

std::string flow_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + q(items[i]);
  return out + "]";
}

// A DNS-1123 name from the model id: "meta-llama/Llama-3.1-8B" -> "llama-3-1-8b".
std::string k8s_name(const std::string& id) {
  std::string base = id.substr(id.find_last_of('/') == std::string::npos ? 0 : id.find_last_of('/') + 1);
  std::string out;
  for (char c : base) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 50) out.resize(50);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "model" : out;
}

// Where a pod may run: the GPU resource it asks for and the node labels it needs.
struct Placement {
  std::string gpu_resource;
  std::vector<std::pair<std::string, std::string>> node_selector;
  std::vector<std::string> products;  // several device names: any of them (node affinity), else in node_selector
};

// The device plugin's resource by vendor; NVIDIA nodes by GPU feature discovery's product label, and a cloud
// instance also by the well-known label its cloud sets (the instance type holds the GPU count the plan assumed).
Placement placement_for(const Sku& sku) {
  Placement p;
  const std::string& vendor = sku.gpu.vendor;
  p.gpu_resource = vendor == "AMD"     ? "amd.com/gpu"
                   : vendor == "Intel" ? "habana.ai/gaudi"
                   : vendor == "AWS"   ? "aws.amazon.com/neuron"
                                       : "nvidia.com/gpu";
  if (sku.is_instance && (sku.cloud == "aws" || sku.cloud == "gcp" || sku.cloud == "azure"))
    p.node_selector.emplace_back("node.kubernetes.io/instance-type", sku.name);
  const auto products = gfd_products(sku.gpu);
  if (products.size() == 1) p.node_selector.emplace_back("nvidia.com/gpu.product", products.front());
  else p.products = products;
  return p;
}

// One pod of the manifest: its container and what it asks of the node.
struct Pod {
  std::string app;   // app.kubernetes.io/name
  std::string role;  // "leader" or "worker" in a LeaderWorkerSet, else ""
  std::string container;
  std::string image;
  std::vector<std::string> command, args;
  int port = 0;  // 0: the pod serves no HTTP (a headless worker): no port, no probes
  std::uint64_t gpus = 1;
};

// One container of a pod spec whose "containers:" key is at `i`: its "- name:" line at i + 2 spaces.
std::string container_yaml(const Pod& pod, const Placement& where, const std::string& i) {
  std::string y = fmt::format("{}  - name: {}\n{}    image: {}\n", i, pod.container, i, q(pod.image));
  if (!pod.command.empty()) y += fmt::format("{}    command: {}\n", i, flow_list(pod.command));
  y += fmt::format("{}    args: {}\n", i, flow_list(pod.args));
  y += fmt::format(
      "{0}    env:\n{0}      - name: HF_TOKEN\n{0}        valueFrom:\n{0}          secretKeyRef:\n"
      "{0}            name: hf-token\n{0}            key: token\n{0}            optional: true\n",
      i);
  if (pod.port != 0)
    y += fmt::format("{0}    ports:\n{0}      - name: http\n{0}        containerPort: {1}\n", i, pod.port);
  y += fmt::format("{0}    resources:\n{0}      limits:\n{0}        {1}: {2}\n", i, where.gpu_resource, pod.gpus);
  if (pod.port != 0) {
    y += fmt::format(
        "{0}    readinessProbe:\n{0}      httpGet:\n{0}        path: /health\n{0}        port: {1}\n"
        "{0}      periodSeconds: 10\n",
        i, pod.port);
    y += fmt::format(
        "{0}    startupProbe:\n{0}      httpGet:\n{0}        path: /health\n{0}        port: {1}\n"
        "{0}      periodSeconds: 10\n{0}      failureThreshold: 180\n",
        i, pod.port);
  }
  y += fmt::format("{0}    volumeMounts:\n{0}      - name: dshm\n{0}        mountPath: /dev/shm\n", i);
  return y;
}

// A pod template (metadata and spec) at indent `i`.
std::string pod_template(const Pod& pod, const Placement& where, const std::string& i) {
  std::string y = fmt::format("{0}metadata:\n{0}  labels:\n{0}    app.kubernetes.io/name: {1}\n", i, pod.app);
  if (!pod.role.empty()) y += fmt::format("{}    role: {}\n", i, pod.role);
  y += fmt::format("{}spec:\n", i);
  if (!where.node_selector.empty()) {
    y += fmt::format("{}  nodeSelector:\n", i);
    for (const auto& [key, value] : where.node_selector) y += fmt::format("{}    {}: {}\n", i, key, q(value));
  }
  if (!where.products.empty())
    y += fmt::format(
        "{0}  affinity:\n{0}    nodeAffinity:\n{0}      requiredDuringSchedulingIgnoredDuringExecution:\n"
        "{0}        nodeSelectorTerms:\n{0}          - matchExpressions:\n"
        "{0}              - key: nvidia.com/gpu.product\n{0}                operator: In\n"
        "{0}                values: {1}\n",
        i, flow_list(where.products));
  y += fmt::format("{}  containers:\n", i) + container_yaml(pod, where, i + "  ");
  y += fmt::format("{0}  volumes:\n{0}    - name: dshm\n{0}      emptyDir:\n{0}        medium: Memory\n", i);
  return y;
}

// The vLLM release the image is pinned to: --vllm-version given to the vLLM estimator; else the image is "latest".
std::optional<VllmVersion> pinned_vllm(const Report& r, const SkuPlan& sp) {
  const VllmVersion& v = r.settings.vllm.version;
  if (sp.method() != Method::Vllm || v.str() == VllmVersion{}.str()) return std::nullopt;
  return v;
}

// The server a pod runs: image, program and arguments, port.
Pod server_pod(const Report& r, const SkuPlan& sp) {
  Pod pod;
  const bool tgi = method_info(sp.method()).engine == "tgi";
  // AMD GPUs run the servers' ROCm builds: TGI's -rocm image, AMD's vLLM image (its tags name ROCm and vLLM).
  const bool rocm = sp.sku.gpu.vendor == "AMD";
  pod.app = k8s_name(r.input.id) + (tgi ? "-tgi" : "-vllm");
  if (tgi) {
    pod.container = "tgi";
    pod.image = rocm ? "ghcr.io/huggingface/text-generation-inference:latest-rocm"
                     : "ghcr.io/huggingface/text-generation-inference:latest";
    // The launcher is the image's entrypoint; pass its flags (the plan's launch command past the program) as args.
    const auto words = served_words(sp);
    pod.args.assign(words.begin() + 1, words.end());
    pod.args.insert(pod.args.end(), {"--port", "8080"});
    pod.port = 8080;
  } else {
    const auto pinned = pinned_vllm(r, sp);
    pod.container = "vllm";
    pod.image = rocm     ? "rocm/vllm:latest"
                : pinned ? fmt::format("vllm/vllm-openai:v{}", pinned->str())
                         : "vllm/vllm-openai:latest";
    pod.command = {"vllm", "serve"};
    pod.args = vllm_serve_args(r, sp);
    pod.port = 8000;
  }
  return pod;
}

// How the command's GPUs spread over pods: one per node, each with the same share.
struct Spread {
  std::uint64_t gpus = 1;  // what the command uses in all
  std::uint64_t pods = 1;  // nodes
  std::uint64_t per_pod = 1;
  [[nodiscard]] bool even() const { return pods * per_pod == gpus; }
};

Spread spread_for(const SkuPlan& sp, const std::vector<std::string>& words) {
  Spread s;
  s.gpus = gpus_in_command(words);
  const auto gpn = static_cast<std::uint64_t>(std::max(1, sp.sku.gpus_per_node));
  s.pods = std::clamp<std::uint64_t>(std::max(sp.nodes(), (s.gpus + gpn - 1) / gpn), 1, s.gpus);
  s.per_pod = (s.gpus + s.pods - 1) / s.pods;
  return s;
}

// The first lines: what the plan is, and what to know before applying it.
std::string header(const Report& r, const SkuPlan& sp, const Spread& s, const std::vector<std::string>& notes) {
  // A comment ends at a line break: the model id and names in it are escaped onto the one line.
  std::string y =
      fmt::format("# vram-calc: {} on {} ({} x {}, TP {} x PP {}); fits: {}, OOM risk {}\n", comment_text(r.input.id),
                  comment_text(sp.sku.name), sp.gpus(), comment_text(sp.sku.gpu.name), sp.tensor_parallel_size(),
                  sp.pipeline_parallel_size(), sp.fits() ? "yes" : "NO", oom_risk_name(sp.feasibility.oom_risk));
  for (const auto& note : notes) y += "# " + comment_text(note) + "\n";
  if (!sp.fits())
    y += fmt::format("# WARNING: the plan does not fit; {} expected to fail at startup.\n",
                     s.pods > 1 ? "these pods are" : "this pod is");
  if (gfd_products(sp.sku.gpu).size() > 1)
    y += "# A node qualifies with any of the SKU's device names as its nvidia.com/gpu.product label.\n";
  y += "# Pin the image tag you tested; HF_TOKEN comes from the optional secret hf-token (key: token).\n";
  return y;
}

std::string deployment(const Report& r, const SkuPlan& sp, Pod pod, const Spread& s) {
  std::vector<std::string> notes;
  if (s.pods > 1)  // only TGI gets here: it shards within one node
    notes.push_back(
        fmt::format("WARNING: TGI shards within one node: --num-shard {} needs {} GPUs on one node, and "
                    "a {} node has {}.",
                    s.gpus, s.gpus, sp.sku.name, sp.sku.gpus_per_node));
  pod.gpus = s.gpus;
  std::string y = header(r, sp, Spread{s.gpus, 1, s.gpus}, notes);
  y += "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n";
  y += fmt::format("  name: {0}\n  labels:\n    app.kubernetes.io/name: {0}\n", pod.app);
  y += fmt::format("spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {}\n", pod.app);
  y += "  template:\n" + pod_template(pod, placement_for(sp.sku), "    ");
  return y;
}

// `--distributed-executor-backend` set to `backend`, in place or added.
std::vector<std::string> with_backend(std::vector<std::string> args, const std::string& backend) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--distributed-executor-backend" && i + 1 < args.size()) {
      args[i + 1] = backend;
      return args;
    }
    if (args[i].rfind("--distributed-executor-backend=", 0) == 0) {
      args[i] = "--distributed-executor-backend=" + backend;
      return args;
    }
  }
  args.insert(args.end(), {"--distributed-executor-backend", backend});
  return args;
}

// The leader's and the workers' commands (see the top of this file for the two backends).
void split_leader_worker(const std::optional<VllmVersion>& pinned, Pod& leader, Pod& worker, std::uint64_t nodes) {
  if (pinned && !pinned->at_least(0, 11)) {
    // vLLM's LWS guide: the leader starts the Ray head, waits for the group, then serves; workers join the head.
    const std::string script = "bash /vllm-workspace/examples/online_serving/multi-node-serving.sh";
    leader.command = worker.command = {"sh", "-c"};
    leader.args = {script + " leader --ray_cluster_size=$(LWS_GROUP_SIZE) && exec vllm serve " +
                   shell_join(with_backend(leader.args, "ray"))};
    worker.args = {script + " worker --ray_address=$(LWS_LEADER_ADDRESS)"};
  } else {
    // Kubernetes expands $(LWS_...) in args from the variables LeaderWorkerSet sets in every pod.
    const std::vector<std::string> group = {"--nnodes", std::to_string(nodes), "--master-addr",
                                            "$(LWS_LEADER_ADDRESS)"};
    leader.args = with_backend(leader.args, "mp");
    worker.args = leader.args;
    leader.args.insert(leader.args.end(), group.begin(), group.end());
    leader.args.insert(leader.args.end(), {"--node-rank", "0"});
    worker.args.insert(worker.args.end(), group.begin(), group.end());
    worker.args.insert(worker.args.end(), {"--node-rank", "$(LWS_WORKER_INDEX)", "--headless"});
  }
}

std::string leader_worker_set(const Report& r, const SkuPlan& sp, const Pod& pod, const Spread& s) {
  std::vector<std::string> notes = {
      fmt::format("{} nodes of {} GPUs: one LeaderWorkerSet group, a leader that serves HTTP and {} worker(s); the "
                  "cluster needs LeaderWorkerSet v0.6 or later (lws.sigs.k8s.io).",
                  s.pods, s.per_pod, s.pods - 1)};
  if (!s.even())
    notes.push_back(
        fmt::format("WARNING: TP x PP x DP = {} GPUs do not split evenly over {} nodes, and vLLM runs the "
                    "same count on each: pin --tensor-parallel-size and --pipeline-parallel-size so "
                    "they do.",
                    s.gpus, s.pods));
  Pod leader = pod, worker = pod;
  leader.role = "leader";
  worker.role = "worker";
  leader.gpus = worker.gpus = s.per_pod;
  worker.port = 0;
  split_leader_worker(pinned_vllm(r, sp), leader, worker, s.pods);
  const Placement where = placement_for(sp.sku);
  std::string y = header(r, sp, s, notes);
  y += "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata:\n";
  y += fmt::format("  name: {0}\n  labels:\n    app.kubernetes.io/name: {0}\n", pod.app);
  y += "spec:\n  replicas: 1\n  leaderWorkerTemplate:\n";
  y += fmt::format("    size: {}\n    restartPolicy: RecreateGroupOnPodRestart\n", s.pods);
  y += "    leaderTemplate:\n" + pod_template(leader, where, "      ");
  y += "    workerTemplate:\n" + pod_template(worker, where, "      ");
  return y;
}

}  // namespace

std::vector<std::string> gfd_products(const Gpu& gpu) {
  std::vector<std::string> labels;
  for (const auto& a : gpu.aliases) {
    if (a.rfind("NVIDIA ", 0) != 0 && a.rfind("Tesla ", 0) != 0) continue;
    std::string label = a;
    std::replace(label.begin(), label.end(), ' ', '-');
    // A label value is at most 63 characters of [A-Za-z0-9._-].
    const bool valid = label.size() <= 63 && std::all_of(label.begin(), label.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
                       });
    if (valid && std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
  }
  return labels;
}

std::string k8s_manifest(const Report& r, const SkuPlan& sp) {
  const Pod pod = server_pod(r, sp);
  const Spread s = spread_for(sp, served_words(sp));
  // vLLM spans nodes; TGI does not (its pod keeps every shard, with a warning).
  if (s.pods > 1 && !pod.command.empty()) return leader_worker_set(r, sp, pod, s);
  return deployment(r, sp, pod, s);
}

}  // namespace vramcalc
