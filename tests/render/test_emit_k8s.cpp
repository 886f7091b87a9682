// --emit k8s parsed back with yaml-cpp: the kind, each pod's GPU limit against the GPUs its own args use (TP x PP x
// DP, or TGI's --num-shard, over the pods of a LeaderWorkerSet), the node selector against the SKU's GPU feature
// discovery label, and the model argument.
#include <catch2/catch.hpp>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "support.hpp"
#include "vramcalc/render/commands.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

using testsupport::run_cli;

namespace {

std::string config_dir(const std::string& name) { return testsupport::test_data("configs/" + name).string(); }

YAML::Node emit_k8s(const std::string& flags) {
  const auto r = run_cli(flags + " --emit k8s");
  INFO(flags << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  YAML::Node doc;
  REQUIRE_NOTHROW(doc = YAML::Load(r.out));
  return doc;
}

nlohmann::json plan_json(const std::string& flags) {
  const auto r = run_cli(flags + " --format json");
  INFO(flags << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

std::vector<std::string> strings(const YAML::Node& seq) {
  std::vector<std::string> out;
  for (const auto& item : seq) out.push_back(item.as<std::string>());
  return out;
}

// What the value after `flag` is in `args`, or `otherwise`.
std::string value_of(const std::vector<std::string>& args, const std::string& flag, const std::string& otherwise = "") {
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == flag) return args[i + 1];
  return otherwise;
}

// The GPUs a command uses as its server counts them: TGI's shards, or vLLM's TP x PP x DP.
std::uint64_t gpus_of(const std::vector<std::string>& args) {
  const auto n = [&](const std::string& flag) { return std::stoull(value_of(args, flag, "1")); };
  if (!value_of(args, "--model-id").empty()) return n("--num-shard");
  return n("--tensor-parallel-size") * n("--pipeline-parallel-size") * n("--data-parallel-size");
}

std::uint64_t gpu_limit(const YAML::Node& container, const std::string& resource = "nvidia.com/gpu") {
  const YAML::Node limit = container["resources"]["limits"][resource];
  REQUIRE(limit.IsDefined());
  return limit.as<std::uint64_t>();
}

// A single-node plan's Deployment: the checks every manifest shares. Returns the container's args.
std::vector<std::string> check_deployment(const YAML::Node& doc, const std::string& product) {
  CHECK(doc["apiVersion"].as<std::string>() == "apps/v1");
  CHECK(doc["kind"].as<std::string>() == "Deployment");
  const YAML::Node pod = doc["spec"]["template"]["spec"];
  const YAML::Node container = pod["containers"][0];
  auto args = strings(container["args"]);
  CHECK(gpu_limit(container) == gpus_of(args));
  if (!product.empty()) CHECK(pod["nodeSelector"]["nvidia.com/gpu.product"].as<std::string>() == product);
  return args;
}

// The model as `vllm serve` (first argument) or TGI (--model-id) gets it: never a config.json file.
std::string model_arg(const std::vector<std::string>& args) {
  std::string model = value_of(args, "--model-id", args.empty() ? "" : args.front());
  const bool config_file = model.size() >= 11 && model.substr(model.size() - 11) == "config.json";
  CHECK_FALSE(config_file);
  return model;
}

}  // namespace

TEST_CASE("emit k8s: one GPU is a Deployment with a limit of 1", "[emit][k8s]") {
  const std::string flags = "--model meta-llama/Llama-3.1-8B --sku H100-80G --gpus 1 --max-model-len 8192";
  const auto args = check_deployment(emit_k8s(flags), "NVIDIA-H100-80GB-HBM3");
  CHECK(gpus_of(args) == 1);
  CHECK(model_arg(args) == "meta-llama/Llama-3.1-8B");
}

TEST_CASE("emit k8s: TP 2 and TP 8 pods ask for the GPUs their args use", "[emit][k8s]") {
  // Cloud instances: their GPU count is the node's, whatever the shape of a bare GPU SKU.
  const std::string model = config_dir("meta-llama--Meta-Llama-3.1-8B");
  const auto tp2 = check_deployment(
      emit_k8s("--model " + model + " --sku g6.12xlarge --tensor-parallel-size 2 --max-model-len 8192"), "NVIDIA-L4");
  CHECK(gpus_of(tp2) == 2);
  CHECK(model_arg(tp2) == model);
  const auto tp8 = check_deployment(emit_k8s("--model " + config_dir("meta-llama--Meta-Llama-3.1-70B") +
                                             " --sku p5.48xlarge --tensor-parallel-size 8 --max-model-len 8192"),
                                    "NVIDIA-H100-80GB-HBM3");
  CHECK(gpus_of(tp8) == 8);
}

TEST_CASE("emit k8s: a model given as its config.json is served from its directory", "[emit][k8s]") {
  const std::string dir = config_dir("meta-llama--Meta-Llama-3.1-8B");
  const std::string flags = "--model " + dir + "/config.json --sku H100-80G --gpus 1 --max-model-len 8192";
  CHECK(model_arg(check_deployment(emit_k8s(flags), "NVIDIA-H100-80GB-HBM3")) == dir);
  const auto command = run_cli(flags + " --emit vllm-command");
  CHECK_THAT(command.out, Catch::StartsWith("vllm serve " + dir + " --"));
}

TEST_CASE("emit k8s: TGI's pod asks for its --num-shard GPUs", "[emit][k8s]") {
  const std::string flags = "--model " + config_dir("meta-llama--Meta-Llama-3.1-8B") +
                            " --sku g6.12xlarge --engine tgi --num-shard 2 --max-total-tokens 4096";
  const auto doc = emit_k8s(flags);
  const auto args = check_deployment(doc, "NVIDIA-L4");
  CHECK(value_of(args, "--num-shard") == "2");
  CHECK(gpus_of(args) == 2);
  CHECK(model_arg(args) == config_dir("meta-llama--Meta-Llama-3.1-8B"));
}

TEST_CASE("emit k8s: an AMD GPU asks for amd.com/gpu, without NVIDIA's node label", "[emit][k8s]") {
  const auto doc = emit_k8s("--model " + config_dir("meta-llama--Meta-Llama-3.1-8B") +
                            " --sku MI300X --gpus 1 --max-model-len 8192");
  CHECK(doc["kind"].as<std::string>() == "Deployment");
  const YAML::Node pod = doc["spec"]["template"]["spec"];
  const YAML::Node container = pod["containers"][0];
  CHECK(gpu_limit(container, "amd.com/gpu") == gpus_of(strings(container["args"])));
  CHECK_FALSE(container["resources"]["limits"]["nvidia.com/gpu"].IsDefined());
  CHECK_FALSE(pod["nodeSelector"].IsDefined());
  CHECK(container["image"].as<std::string>() == "rocm/vllm:latest");  // the CUDA image does not run there
}

TEST_CASE("emit k8s: a cloud instance is selected by its instance type and its GPU's label", "[emit][k8s]") {
  const auto doc = emit_k8s("--model " + config_dir("meta-llama--Meta-Llama-3.1-8B") +
                            " --sku Standard_NC24ads_A100_v4 --max-model-len 8192");
  check_deployment(doc, "NVIDIA-A100-80GB-PCIe");
  const YAML::Node selector = doc["spec"]["template"]["spec"]["nodeSelector"];
  CHECK(selector["node.kubernetes.io/instance-type"].as<std::string>() == "Standard_NC24ads_A100_v4");
}

TEST_CASE("emit k8s: a multi-node plan is a LeaderWorkerSet of one pod per node", "[emit][k8s]") {
  // 405B in FP8 (about 380 GiB) does not fit one node of 8 x A100-40GB: TP 8 x PP 2 over two.
  const std::string flags = "--model " + config_dir("meta-llama--Llama-3.1-405B-Instruct-FP8") +
                            " --sku p4d.24xlarge --tensor-parallel-size 8 --pipeline-parallel-size 2 "
                            "--max-model-len 8192";
  const auto plan = plan_json(flags);
  const auto doc = emit_k8s(flags);
  CHECK(doc["apiVersion"].as<std::string>() == "leaderworkerset.x-k8s.io/v1");
  CHECK(doc["kind"].as<std::string>() == "LeaderWorkerSet");
  const YAML::Node group = doc["spec"]["leaderWorkerTemplate"];
  const auto size = group["size"].as<std::uint64_t>();
  CHECK(size == plan["plan"]["nodes"].get<std::uint64_t>());
  CHECK(size == 2);
  const YAML::Node leader = group["leaderTemplate"]["spec"]["containers"][0];
  const YAML::Node worker = group["workerTemplate"]["spec"]["containers"][0];
  const auto leader_args = strings(leader["args"]);
  const auto worker_args = strings(worker["args"]);
  // Each pod holds its node's share of the GPUs the args use.
  CHECK(gpu_limit(leader) * size == gpus_of(leader_args));
  CHECK(gpu_limit(worker) == gpu_limit(leader));
  CHECK(gpus_of(worker_args) == gpus_of(leader_args));
  CHECK(gpu_limit(leader) == 8);
  // An A100-40GB comes as SXM4 and PCIe: either label, on the instance type's nodes.
  for (const std::string role : {"leaderTemplate", "workerTemplate"}) {
    const YAML::Node spec = group[role]["spec"];
    CHECK(spec["nodeSelector"]["node.kubernetes.io/instance-type"].as<std::string>() == "p4d.24xlarge");
    const YAML::Node term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                                ["nodeSelectorTerms"][0]["matchExpressions"][0];
    CHECK(term["key"].as<std::string>() == "nvidia.com/gpu.product");
    CHECK(strings(term["values"]).at(0) == "NVIDIA-A100-SXM4-40GB");
  }
  // vLLM's multiprocessing backend: the same command on every node, its rank from LeaderWorkerSet.
  CHECK(model_arg(leader_args) == config_dir("meta-llama--Llama-3.1-405B-Instruct-FP8"));
  CHECK(model_arg(worker_args) == model_arg(leader_args));
  CHECK(value_of(leader_args, "--nnodes") == std::to_string(size));
  CHECK(value_of(worker_args, "--nnodes") == std::to_string(size));
  CHECK(value_of(leader_args, "--node-rank") == "0");
  CHECK(value_of(worker_args, "--node-rank") == "$(LWS_WORKER_INDEX)");
  CHECK(value_of(worker_args, "--master-addr") == "$(LWS_LEADER_ADDRESS)");
  CHECK(value_of(leader_args, "--distributed-executor-backend") == "mp");
  CHECK(std::count(worker_args.begin(), worker_args.end(), "--headless") == 1);
  CHECK(std::count(leader_args.begin(), leader_args.end(), "--headless") == 0);
  // The leader serves HTTP; a headless worker has nothing to probe.
  CHECK(leader["readinessProbe"].IsDefined());
  CHECK_FALSE(worker["readinessProbe"].IsDefined());
}

TEST_CASE("emit k8s: an image before vLLM v0.11 spans nodes with Ray, as vLLM's LWS guide does", "[emit][k8s]") {
  const std::string flags = "--model " + config_dir("meta-llama--Llama-3.1-405B-Instruct-FP8") +
                            " --sku p4d.24xlarge --estimator vllm --vllm-version 0.10.1 --tensor-parallel-size 8 "
                            "--pipeline-parallel-size 2 --max-model-len 8192";
  const auto doc = emit_k8s(flags);
  CHECK(doc["kind"].as<std::string>() == "LeaderWorkerSet");
  const YAML::Node group = doc["spec"]["leaderWorkerTemplate"];
  const YAML::Node leader = group["leaderTemplate"]["spec"]["containers"][0];
  const YAML::Node worker = group["workerTemplate"]["spec"]["containers"][0];
  CHECK(leader["image"].as<std::string>() == "vllm/vllm-openai:v0.10.1");
  CHECK(strings(leader["command"]) == std::vector<std::string>{"sh", "-c"});
  const std::string script = strings(leader["args"]).at(0);
  CHECK_THAT(script, Catch::Contains("multi-node-serving.sh leader --ray_cluster_size=$(LWS_GROUP_SIZE)"));
  // The words of the `vllm serve` it runs (paths without spaces: plain splitting reads them).
  std::istringstream words(script.substr(script.find("vllm serve ") + 11));
  std::vector<std::string> serve_args;
  for (std::string w; words >> w;) serve_args.push_back(w);
  CHECK(value_of(serve_args, "--distributed-executor-backend") == "ray");
  CHECK(gpu_limit(leader) * group["size"].as<std::uint64_t>() == gpus_of(serve_args));
  CHECK(gpu_limit(worker) == gpu_limit(leader));
  CHECK_THAT(strings(worker["args"]).at(0), Catch::Contains("worker --ray_address=$(LWS_LEADER_ADDRESS)"));
}

TEST_CASE("emit k8s: every NVIDIA SKU with a device name has its GPU feature discovery label", "[emit][k8s]") {
  const auto catalog = vramcalc::SkuCatalog::load(testsupport::repo_data("skus.json"));
  std::size_t labelled = 0;
  for (const auto& sku : catalog.all()) {
    if (sku.is_instance) continue;
    INFO(sku.name);
    const auto labels = vramcalc::gfd_products(sku.gpu);
    bool device_name = false;
    for (const auto& a : sku.gpu.aliases)
      device_name = device_name || a.rfind("NVIDIA ", 0) == 0 || a.rfind("Tesla ", 0) == 0;
    CHECK(labels.empty() == !device_name);
    if (sku.gpu.vendor == "NVIDIA") CHECK(device_name);
    for (const auto& label : labels) {
      CHECK(label.find(' ') == std::string::npos);
      CHECK(label.size() <= 63);
    }
    labelled += labels.empty() ? 0 : 1;
  }
  CHECK(labelled >= 30);
  // The labels GPU feature discovery writes (nvidia-smi's device name, spaces as dashes) for common SKUs.
  const std::vector<std::pair<std::string, std::string>> known = {{"A100-40G", "NVIDIA-A100-SXM4-40GB"},
                                                                  {"A100-80G", "NVIDIA-A100-SXM4-80GB"},
                                                                  {"A100-80G-PCIE", "NVIDIA-A100-80GB-PCIe"},
                                                                  {"H100-80G", "NVIDIA-H100-80GB-HBM3"},
                                                                  {"H100-80G-PCIE", "NVIDIA-H100-PCIe"},
                                                                  {"H100-NVL-94G", "NVIDIA-H100-NVL"},
                                                                  {"H200-141G", "NVIDIA-H200"},
                                                                  {"L4", "NVIDIA-L4"},
                                                                  {"L40S", "NVIDIA-L40S"},
                                                                  {"A10G", "NVIDIA-A10G"},
                                                                  {"T4", "Tesla-T4"},
                                                                  {"V100-16G", "Tesla-V100-SXM2-16GB"},
                                                                  {"B200", "NVIDIA-B200"},
                                                                  {"RTX-4090", "NVIDIA-GeForce-RTX-4090"}};
  for (const auto& [name, label] : known) {
    INFO(name);
    const auto* sku = catalog.find(name);
    REQUIRE(sku != nullptr);
    const auto labels = vramcalc::gfd_products(sku->gpu);
    REQUIRE_FALSE(labels.empty());
    CHECK(labels.front() == label);
  }
}

TEST_CASE("emit k8s: a SKU with several device names takes any of them", "[emit][k8s]") {
  // A100-40G comes as SXM4 and PCIe: a node of either qualifies.
  const auto doc = emit_k8s("--model " + config_dir("meta-llama--Meta-Llama-3.1-8B") +
                            " --sku A100-40G --gpus 1 --max-model-len 8192");
  const YAML::Node pod = doc["spec"]["template"]["spec"];
  CHECK_FALSE(pod["nodeSelector"].IsDefined());
  const YAML::Node term = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                             ["nodeSelectorTerms"][0]["matchExpressions"][0];
  CHECK(term["key"].as<std::string>() == "nvidia.com/gpu.product");
  CHECK(term["operator"].as<std::string>() == "In");
  CHECK(strings(term["values"]) == std::vector<std::string>{"NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-PCIE-40GB"});
}
