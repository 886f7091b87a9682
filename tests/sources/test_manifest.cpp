// Reading Kubernetes manifests for `vram-calc check` (sources/manifest.hpp): each workload kind, GPU requests and
// node selection, ConfigMaps from the same input, positions, and malformed YAML.
#include <catch2/catch.hpp>

#include "vramcalc/sources/manifest.hpp"

using namespace vramcalc;

namespace {

ManifestSet read(const std::string& yaml, const std::string& file = "m.yaml") {
  ManifestReader reader;
  reader.add(yaml, file);
  return reader.read();
}

constexpr const char* kDeployment = R"yaml(apiVersion: v1
kind: Service
metadata: {name: svc}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: llama
  namespace: ml
spec:
  template:
    spec:
      nodeSelector:
        nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB
      containers:
        - name: sidecar
          image: busybox
          command: [sleep, infinity]
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          command: ["vllm", "serve"]
          args: ["meta-llama/Llama-3.1-8B", "--max-model-len=$(LEN)"]
          env:
            - {name: LEN, value: "8192"}
            - name: HF_TOKEN
              valueFrom: {secretKeyRef: {name: hf, key: token}}
          resources:
            limits: {nvidia.com/gpu: 2}
)yaml";

}  // namespace

TEST_CASE("a Deployment: the container that starts vLLM, its GPUs, node selector and line", "[check][manifest]") {
  const ManifestSet set = read(kDeployment);
  REQUIRE(set.errors.empty());
  REQUIRE(set.workloads.size() == 1);
  const Workload& w = set.workloads.front();
  CHECK(w.kind == "Deployment");
  CHECK(w.name == "llama");
  CHECK(w.ns == "ml");
  CHECK(w.container == "vllm");
  CHECK(w.place.file == "m.yaml");
  CHECK(w.place.document == 1);
  CHECK(w.place.line == 19);  // the container's "- name: vllm"
  CHECK(w.image == "vllm/vllm-openai:v0.11.0");
  REQUIRE(w.server);
  CHECK(w.server->args == std::vector<std::string>{"meta-llama/Llama-3.1-8B", "--max-model-len=8192"});
  CHECK(w.gpu_resource == "nvidia.com/gpu");
  CHECK(w.gpus_per_pod == 2u);
  CHECK(w.total_gpus() == 2);
  REQUIRE(w.selectors.size() == 1);
  CHECK(w.selectors[0].label == "nvidia.com/gpu.product");
  CHECK(w.selectors[0].values == std::vector<std::string>{"NVIDIA-A100-SXM4-80GB"});
  const ManifestEnvVar* token = w.env_var("HF_TOKEN");
  REQUIRE(token != nullptr);
  CHECK_FALSE(token->value);
  CHECK(token->unknown_because == "from Secret hf");
  REQUIRE(set.skipped.size() == 1);
  CHECK(set.skipped[0].kind == "Service");
  CHECK(set.skipped[0].why == "not a workload vram-calc sizes");
}

TEST_CASE("required node affinity: every allowed value is a GPU the pod may land on", "[check][manifest]") {
  const ManifestSet set = read(R"(kind: StatefulSet
metadata: {name: q}
spec:
  template:
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - {key: nvidia.com/gpu.product, operator: In, values: [NVIDIA-H100-80GB-HBM3, NVIDIA-H200]}
                  - {key: kubernetes.io/arch, operator: NotIn, values: [arm64]}
              - matchExpressions:
                  - {key: nvidia.com/gpu.product, operator: In, values: [NVIDIA-L40S]}
      containers:
        - name: s
          image: vllm/vllm-openai:latest
          args: ["--model", "Qwen/Qwen3-8B"]
          resources: {limits: {"nvidia.com/gpu": "1"}}
)");
  REQUIRE(set.workloads.size() == 1);
  const Workload& w = set.workloads[0];
  REQUIRE(w.selectors.size() == 1);
  CHECK(w.selectors[0].values == std::vector<std::string>{"NVIDIA-H100-80GB-HBM3", "NVIDIA-H200", "NVIDIA-L40S"});
  REQUIRE(w.server);  // no command: the vllm-openai image's entrypoint runs the args
  CHECK(w.server->program == "the image's entrypoint");
}

TEST_CASE("a LeaderWorkerSet is one workload of leader + workers", "[check][manifest]") {
  const ManifestSet set = read(R"(apiVersion: leaderworkerset.x-k8s.io/v1
kind: LeaderWorkerSet
metadata: {name: big}
spec:
  leaderWorkerTemplate:
    size: 3
    leaderTemplate:
      spec:
        containers:
          - name: leader
            command: [sh, -c, "vllm serve deepseek-ai/DeepSeek-V3 --tensor-parallel-size 8 --pipeline-parallel-size 3"]
            resources: {limits: {nvidia.com/gpu: 8}}
    workerTemplate:
      spec:
        containers:
          - name: worker
            command: [sh, -c, "vllm serve deepseek-ai/DeepSeek-V3 --headless"]
            resources: {limits: {nvidia.com/gpu: 8}}
)");
  REQUIRE(set.workloads.size() == 1);
  const Workload& w = set.workloads[0];
  CHECK(w.container == "leader");
  CHECK(w.pods == 3);
  CHECK(w.total_gpus() == 24);
}

TEST_CASE("ConfigMaps of the input fill env vars and mounted --config files; KAITO's inference config",
          "[check][manifest]") {
  const ManifestSet set = read(R"(kind: ConfigMap
metadata: {name: cfg}
data:
  serve.yaml: |
    max-model-len: 4096
  LEN: "2048"
---
kind: Pod
metadata: {name: p}
spec:
  volumes:
    - name: c
      configMap: {name: cfg}
    - name: models
      persistentVolumeClaim: {claimName: m}
  containers:
    - name: s
      command: [vllm, serve, x/y, --config, /etc/vllm/serve.yaml]
      env:
        - name: LEN
          valueFrom: {configMapKeyRef: {name: cfg, key: LEN}}
      volumeMounts:
        - {name: c, mountPath: /etc/vllm}
        - {name: models, mountPath: /models}
      resources: {limits: {nvidia.com/gpu: 1}}
---
apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata: {name: ws}
resource:
  instanceType: Standard_NC24ads_A100_v4
  count: 2
inference:
  preset: {name: phi-4}
  config: kaito-cfg
---
kind: ConfigMap
metadata: {name: kaito-cfg}
data:
  inference_config.yaml: |
    vllm:
      max-model-len: 8192
)");
  REQUIRE(set.workloads.size() == 2);
  const Workload& pod = set.workloads[0];
  REQUIRE(pod.env_var("LEN") != nullptr);
  CHECK(pod.env_var("LEN")->value == "2048");
  REQUIRE(pod.files.count("/etc/vllm/serve.yaml") == 1);
  CHECK(pod.files.at("/etc/vllm/serve.yaml") == "max-model-len: 4096\n");
  CHECK(pod.unread_mounts == std::vector<std::string>{"/models"});
  const Workload& ws = set.workloads[1];
  REQUIRE(ws.kaito);
  CHECK(ws.kaito->instance_type == "Standard_NC24ads_A100_v4");
  CHECK(ws.kaito->count == 2);
  CHECK(ws.kaito->preset == "phi-4");
  REQUIRE(ws.kaito->inference_config);
  CHECK(ws.kaito->inference_config->find("max-model-len: 8192") != std::string::npos);
}

TEST_CASE("KServe: an InferenceService's model run by the Hugging Face runtime, MIG and AMD resources",
          "[check][manifest]") {
  const ManifestSet set = read(R"(apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: llama}
spec:
  predictor:
    nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}
    model:
      modelFormat: {name: huggingface}
      storageUri: hf://meta-llama/Llama-3.1-8B
      args: [--model_name=llama, --max_model_len=4096]
      resources: {limits: {nvidia.com/mig-3g.40gb: 1}}
---
kind: Job
metadata: {name: amd}
spec:
  template:
    spec:
      containers:
        - name: s
          command: [vllm, serve, x/y]
          resources: {limits: {amd.com/gpu: 1}}
)");
  REQUIRE(set.workloads.size() == 2);
  const Workload& k = set.workloads[0];
  REQUIRE(k.server);
  CHECK(k.server->kind == ServerKind::KserveHuggingFace);
  CHECK(k.storage_uri == "hf://meta-llama/Llama-3.1-8B");
  CHECK(k.gpu_resource == "nvidia.com/mig-3g.40gb");
  REQUIRE(k.selectors.size() == 1);
  CHECK(k.selectors[0].label == "cloud.google.com/gke-accelerator");
  CHECK(set.workloads[1].gpu_resource == "amd.com/gpu");
}

TEST_CASE("malformed YAML names the file and line; other inputs are still read", "[check][manifest]") {
  ManifestReader reader;
  reader.add("kind: Pod\nmetadata:\n  name: [unclosed\n", "bad.yaml");
  reader.add("kind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: s, command: [vllm, serve, x/y]}]}\n",
             "good.yaml");
  reader.add("a: ,\n", "stuck.yaml");  // a token that cannot start a node: yaml-cpp's LoadAll would loop forever
  const ManifestSet set = reader.read();
  REQUIRE(set.errors.size() == 2);
  CHECK(set.errors[0].place.file == "bad.yaml");
  CHECK(set.errors[0].place.line >= 3);
  CHECK(set.errors[0].message.rfind("malformed YAML: ", 0) == 0);
  CHECK(set.errors[1].place.file == "stuck.yaml");
  REQUIRE(set.workloads.size() == 1);
  CHECK(set.workloads[0].name == "ok");
  CHECK(set.files == std::vector<std::string>{"bad.yaml", "good.yaml", "stuck.yaml"});
}

TEST_CASE("a List's items, empty documents and non-resources", "[check][manifest]") {
  const ManifestSet set = read(R"(---
---
kind: List
items:
  - kind: Pod
    metadata: {name: a}
    spec: {containers: [{name: s, command: [text-generation-launcher, --model-id, x/y]}]}
---
just a string
---
{a: 1}
)");
  REQUIRE(set.workloads.size() == 1);
  CHECK(set.workloads[0].server->kind == ServerKind::Tgi);
  REQUIRE(set.skipped.size() == 2);
  CHECK(set.skipped[0].why == "not a Kubernetes resource (not a mapping)");
  CHECK(set.skipped[1].why == "not a Kubernetes resource (no kind)");
}

TEST_CASE("KServe: a predictor model run by a ServingRuntime of the input; KAITO InferenceSet; CronJob",
          "[check][manifest]") {
  const ManifestSet set = read(R"yaml(apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata: {name: vllm-runtime}
spec:
  supportedModelFormats: [{name: vLLM}]
  containers:
    - name: kserve-container
      image: vllm/vllm-openai:v0.11.0
      command: [python3, -m, vllm.entrypoints.openai.api_server]
      args: [--port=8080, --model=/mnt/models]
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: q}
spec:
  predictor:
    nodeSelector: {nvidia.com/gpu.product: NVIDIA-L4}
    model:
      runtime: vllm-runtime
      modelFormat: {name: vLLM}
      storageUri: pvc://models/qwen
      args: [--max-model-len=8192]
      resources: {limits: {nvidia.com/gpu: "1"}}
---
apiVersion: kaito.sh/v1beta1
kind: InferenceSet
metadata: {name: set}
spec:
  replicas: 2
  template:
    resource: {instanceType: Standard_NC24ads_A100_v4}
    inference: {preset: {name: phi-4}}
---
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: eval
              command: [vllm, serve, x/y]
)yaml");
  // The ServingRuntime itself is a template (its model is /mnt/models): it is read as a workload too.
  REQUIRE(set.workloads.size() == 4);
  const Workload& isvc = set.workloads[1];
  CHECK(isvc.kind == "InferenceService");
  REQUIRE(isvc.server);
  CHECK(isvc.server->args == std::vector<std::string>{"--port=8080", "--model=/mnt/models", "--max-model-len=8192"});
  CHECK(isvc.image == "vllm/vllm-openai:v0.11.0");
  CHECK(isvc.storage_uri == "pvc://models/qwen");
  CHECK(set.workloads[2].kind == "InferenceSet");
  REQUIRE(set.workloads[2].kaito);
  CHECK(set.workloads[2].kaito->preset == "phi-4");
  CHECK(set.workloads[3].kind == "CronJob");
}
