// `vram-calc check`: manifests in, a verdict per workload, every output format, the exit codes (README, "vram-calc
// check"). The bundled examples are the realistic cases; the rest are small manifests written here.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "support.hpp"

using testsupport::run_cli;
using testsupport::TempDir;
using testsupport::write_file;

namespace {

const std::string kExamples = std::string(VRAMCALC_SOURCE_DIR) + "/examples/manifests";
const std::string kInvalid = std::string(VRAMCALC_SOURCE_DIR) + "/examples/manifests-invalid";

// A Deployment running `vllm serve MODEL ARGS` with `gpus` GPUs on the node label `selector`.
std::string deployment(const std::string& model, const std::string& args, int gpus, const std::string& selector,
                       const std::string& image = "vllm/vllm-openai:latest", const std::string& env = "") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n" +
         (selector.empty() ? std::string() : "      nodeSelector: {" + selector + "}\n") +
         "      containers:\n        - name: vllm\n          image: " + image +
         "\n          command: [sh, -c, \"vllm serve " + model + " " + args + "\"]\n" + env +
         "          resources: {limits: {nvidia.com/gpu: " + std::to_string(gpus) + "}}\n";
}

nlohmann::json check_json(const std::string& file, const std::string& extra = "", int expected_exit = -1) {
  const auto r = run_cli("check '" + file + "' --format json " + extra);
  INFO(r.err << r.out);
  if (expected_exit >= 0) CHECK(r.exit_code == expected_exit);
  return nlohmann::json::parse(r.out);
}

nlohmann::json only_workload(const nlohmann::json& j) {
  REQUIRE(j["workloads"].size() == 1);
  return j["workloads"][0];
}

}  // namespace

TEST_CASE("check: the bundled example manifests all fit (exit 0)", "[check][cli]") {
  const auto r = run_cli("check '" + kExamples + "'");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("11 workload(s): 11 fit, 0 do not fit, 0 cannot tell") != std::string::npos);
  CHECK(r.out.find("cannot tell:") == std::string::npos);
}

TEST_CASE(
    "check: the invalid examples report a YAML error by file and line, a length that does not fit and a "
    "GPU-count mismatch; exit 2 wins",
    "[check][cli]") {
  const auto r = run_cli("check '" + kInvalid + "'");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("yaml-syntax-error.yaml:27: error: malformed YAML") != std::string::npos);
  CHECK(r.out.find("TP 2 x PP 1 x DP 1 = 2 GPU(s), but the pod requests 4 (nvidia.com/gpu)") != std::string::npos);
  const auto j = check_json(kInvalid + "/does-not-fit-l4.yaml", "", 1);
  const auto w = only_workload(j);
  CHECK(w["verdict"] == "does_not_fit");
  CHECK(w["line"] == 25);
  CHECK(w["plans"][0]["max_model_len"] == 131072);
  CHECK(w["plans"][0]["longest_max_model_len"] == 35824);
  CHECK(w["plans"][0]["engine"] == "vllm 0.11.0");  // from the image tag
  CHECK_FALSE(w["plans"][0]["suggestions"].empty());
}

TEST_CASE("check: JSON has a schema version, a summary and a record per workload and skipped resource",
          "[check][cli]") {
  const auto j = check_json(kExamples + "/helm-stream.yaml", "", 0);
  CHECK(j["schema_version"] == 1);
  CHECK(j["tool"]["command"] == "check");
  CHECK(j["summary"]["workloads"] == 2);
  CHECK(j["summary"]["fits"] == 2);
  CHECK(j["summary"]["skipped"] == 3);
  for (const auto& w : j["workloads"]) {
    CHECK(w["verdict"] == "fits");
    CHECK(w["file"].get<std::string>().find("helm-stream.yaml") != std::string::npos);
    CHECK(w["plans"][0]["budget_bytes_per_gpu"].get<std::uint64_t>() > 0);
    CHECK(w["plans"][0]["kv_needed_bytes_per_gpu"].get<std::uint64_t>() > 0);
  }
}

TEST_CASE("check --format github: one annotation per workload with file and line", "[check][cli]") {
  const auto r = run_cli("check '" + kInvalid + "' --format github");
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("::error file=" + kInvalid +
                   "/yaml-syntax-error.yaml,line=27,title=vram-calc check%3A unreadable::") != std::string::npos);
  CHECK(r.out.find("::error file=" + kInvalid + "/does-not-fit-l4.yaml,line=25,") != std::string::npos);
  CHECK(r.out.find("would fit with: ") != std::string::npos);
}

TEST_CASE("check --format junit: well-formed XML with a failure per workload that does not fit", "[check][cli]") {
  TempDir dir;
  const auto r = run_cli("check '" + kInvalid + "' '" + kExamples + "/tgi-mistral-7b.yaml' --format junit");
  CHECK(r.exit_code == 2);
  write_file(dir.path() / "junit.xml", r.out);
  // Parsed back by Python's XML parser (CTest already needs Python for the layer check).
  const std::string cmd =
      "python3 -c \"import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
      "s = r.find('testsuite'); print(r.tag, s.get('tests'), s.get('failures'), s.get('errors'), "
      "len(s.findall('testcase')), len(s.findall('testcase/failure')))\" '" +
      (dir.path() / "junit.xml").string() + "' > '" + (dir.path() / "parsed").string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream parsed(dir.path() / "parsed");
  std::string line;
  std::getline(parsed, line);
  CHECK(line == "testsuites 4 2 1 4 2");
}

TEST_CASE("check --format markdown: a table for a pull-request comment", "[check][cli]") {
  const auto r = run_cli("check '" + kExamples + "/vllm-qwen3-32b-tp2-h100.yaml' --format markdown");
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("### vram-calc check: 1 fit, 0 do not fit, 0 cannot tell\n", 0) == 0);
  CHECK(r.out.find("| verdict | workload |") != std::string::npos);
  CHECK(r.out.find("Qwen/Qwen3-32B") != std::string::npos);
}

TEST_CASE("check: several allowed GPUs must each fit; the one that does not is named", "[check][cli]") {
  TempDir dir;
  write_file(dir.path() / "d.yaml",
             "kind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      affinity:\n        "
             "nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            "
             "nodeSelectorTerms:\n              - matchExpressions:\n                  - {key: "
             "nvidia.com/gpu.product, operator: In, values: [NVIDIA-A100-SXM4-80GB, NVIDIA-L4]}\n      "
             "containers:\n        - name: vllm\n          command: [vllm, serve, meta-llama/Llama-3.1-8B, "
             "--max-model-len, '32768']\n          resources: {limits: {nvidia.com/gpu: 1}}\n");
  const auto w = only_workload(check_json((dir.path() / "d.yaml").string(), "", 1));
  REQUIRE(w["plans"].size() == 2);
  CHECK(w["plans"][0]["sku"] == "A100-80G");
  CHECK(w["plans"][0]["fits"] == true);
  CHECK(w["plans"][1]["sku"] == "L4");
  CHECK(w["plans"][1]["fits"] == false);
  CHECK(w["reason"].get<std::string>().rfind("on L4: ", 0) == 0);
}

TEST_CASE("check: without --max-model-len vLLM serves the model's whole context, and that is what is checked",
          "[check][cli]") {
  TempDir dir;
  write_file(dir.path() / "d.yaml", deployment("meta-llama/Llama-3.1-8B", "", 1, "nvidia.com/gpu.product: NVIDIA-L4"));
  const auto w = only_workload(check_json((dir.path() / "d.yaml").string(), "", 1));
  CHECK(w["plans"][0]["max_model_len"] == 131072);
  CHECK(w["verdict"] == "does_not_fit");
}

TEST_CASE(
    "check: what vLLM refuses whatever the memory: a length over the model's maximum, bfloat16 without "
    "support, more GPUs than the node holds",
    "[check][cli]") {
  TempDir dir;
  const auto file = (dir.path() / "d.yaml").string();
  write_file(file,
             deployment("Qwen/Qwen3-8B", "--max-model-len 65536", 1, "nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3"));
  auto w = only_workload(check_json(file, "", 1));
  REQUIRE(w["errors"].size() == 1);
  CHECK(w["errors"][0].get<std::string>().find("exceeds the model's maximum 40960") != std::string::npos);
  write_file(file, deployment("Qwen/Qwen3-8B", "--max-model-len 65536", 1,
                              "nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3", "vllm/vllm-openai:latest",
                              "          env: [{name: VLLM_ALLOW_LONG_MAX_MODEL_LEN, value: '1'}]\n"));
  w = only_workload(check_json(file, "", 0));
  CHECK(w["errors"].empty());
  write_file(file, deployment("Qwen/Qwen3-0.6B", "--dtype bfloat16 --max-model-len 4096", 1,
                              "nvidia.com/gpu.product: Tesla-T4"));
  w = only_workload(check_json(file, "", 1));
  REQUIRE(w["errors"].size() == 1);
  CHECK(w["errors"][0].get<std::string>().find("has no bfloat16") != std::string::npos);
  write_file(file, deployment("Qwen/Qwen3-0.6B", "--tensor-parallel-size 2 --max-model-len 4096", 2,
                              "node.kubernetes.io/instance-type: g5.2xlarge"));
  w = only_workload(check_json(file, "", 1));
  REQUIRE(w["errors"].size() == 1);
  CHECK(w["errors"][0] == "the pod requests 2 GPUs, but a g5.2xlarge node holds 1");
}

TEST_CASE("check: cannot tell, with the reason; --strict makes it a failure", "[check][cli]") {
  TempDir dir;
  const auto file = (dir.path() / "d.yaml").string();
  SECTION("no GPU label") {
    write_file(file, deployment("Qwen/Qwen3-8B", "", 1, ""));
    const auto w = only_workload(check_json(file, "", 0));
    CHECK(w["verdict"] == "cannot_tell");
    CHECK(w["unknowns"][0].get<std::string>().rfind("no node selector or required node affinity names the GPU", 0) ==
          0);
    CHECK(run_cli("check '" + file + "' --strict").exit_code == 1);
    // --sku names the GPU for every workload.
    CHECK(only_workload(check_json(file, "--sku H100-80G", 0))["verdict"] == "fits");
  }
  SECTION("a setting from a Secret") {
    write_file(file, deployment("Qwen/Qwen3-8B", "--max-model-len $(LEN)", 1, "nvidia.com/gpu.product: NVIDIA-L4",
                                "vllm/vllm-openai:latest",
                                "          env: [{name: LEN, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n"));
    const auto w = only_workload(check_json(file, "", 0));
    CHECK(w["verdict"] == "cannot_tell");
    CHECK(w["unknowns"][0] == "$(LEN) in the command line comes from Secret s");
  }
  SECTION("a model on a volume, then --model-map") {
    write_file(file, deployment("/models/qwen", "--max-model-len 4096", 1, "nvidia.com/gpu.product: NVIDIA-L4"));
    CHECK(only_workload(check_json(file, "", 0))["verdict"] == "cannot_tell");
    write_file(dir.path() / "models.yaml", "/models/qwen/: Qwen/Qwen3-8B\n");
    const auto w = only_workload(check_json(file, "--model-map '" + (dir.path() / "models.yaml").string() + "'", 0));
    CHECK(w["verdict"] == "fits");
    CHECK(w["model"] == "Qwen/Qwen3-8B");
  }
  SECTION("a custom node label, then --sku-map") {
    write_file(file, deployment("Qwen/Qwen3-8B", "--max-model-len 4096", 1, "acme.com/gpu: big-one"));
    CHECK(only_workload(check_json(file, "", 0))["verdict"] == "cannot_tell");
    write_file(dir.path() / "skus.yaml", "acme.com/gpu=big-one: H100-80G\n");
    const auto w = only_workload(check_json(file, "--sku-map '" + (dir.path() / "skus.yaml").string() + "'", 0));
    CHECK(w["plans"][0]["sku"] == "H100-80G");
  }
  SECTION("AMD GPUs") {
    auto text = deployment("Qwen/Qwen3-8B", "", 1, "nvidia.com/gpu.product: NVIDIA-L4");
    text.replace(text.find("nvidia.com/gpu:"), 15, "amd.com/gpu:");
    write_file(file, text);
    const auto w = only_workload(check_json(file, "", 0));
    CHECK(w["unknowns"][0].get<std::string>().find("AMD GPUs (ROCm)") != std::string::npos);
  }
  SECTION("a model offline that is not in the catalog") {
    write_file(file, deployment("acme/unknown-model", "", 1, "nvidia.com/gpu.product: NVIDIA-L4"));
    const auto w = only_workload(check_json(file, "--offline", 0));
    CHECK(w["verdict"] == "cannot_tell");
    CHECK(w["unknowns"][0].get<std::string>().rfind("model acme/unknown-model: ", 0) == 0);
  }
}

TEST_CASE("check: a model that cannot be fetched is exit 3", "[check][cli]") {
  TempDir dir;
  const auto file = (dir.path() / "d.yaml").string();
  write_file(file, deployment("acme/unknown-model", "", 1, "nvidia.com/gpu.product: NVIDIA-L4"));
  const auto r = run_cli("check '" + file + "' --timeout 5 --connect-timeout 2",
                         "HF_HUB_OFFLINE=0 HF_ENDPOINT=http://127.0.0.1:9");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("cannot tell: model acme/unknown-model") != std::string::npos);
}

TEST_CASE("check: TGI from args and environment, with MIG slices", "[check][cli]") {
  TempDir dir;
  const auto file = (dir.path() / "t.yaml").string();
  write_file(file, R"(kind: Deployment
metadata: {name: tgi}
spec:
  template:
    spec:
      nodeSelector: {nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB}
      containers:
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:3.0.1
          args: [--max-total-tokens, "8192"]
          env:
            - {name: MODEL_ID, value: mistralai/Mistral-7B-v0.1}
            - {name: MAX_INPUT_TOKENS, value: "4096"}
          resources: {limits: {nvidia.com/mig-3g.40gb: 1}}
)");
  const auto w = only_workload(check_json(file, "", 0));
  CHECK(w["model"] == "mistralai/Mistral-7B-v0.1");
  CHECK(w["plans"][0]["engine"] == "tgi");
  CHECK(w["plans"][0]["max_model_len"] == 8192);
  bool mig_note = false;
  for (const auto& n : w["notes"])
    mig_note = mig_note || n.get<std::string>().find("one MIG slice, sized as a GPU of 40GB") != std::string::npos;
  CHECK(mig_note);
}

TEST_CASE("check: stdin ('-') reads a Helm-style stream", "[check][cli]") {
  TempDir dir;
  const std::string cmd = "cat '" + kExamples + "/helm-stream.yaml' | HF_HUB_OFFLINE=1 HF_HOME='" +
                          dir.path().string() + "' '" + VRAMCALC_BINARY + "' check - --format json > '" +
                          (dir.path() / "out").string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(dir.path() / "out");
  const auto j = nlohmann::json::parse(in);
  CHECK(j["summary"]["fits"] == 2);
  CHECK(j["workloads"][0]["file"] == "-");
}

TEST_CASE("check: what --emit k8s writes for a plan that fits, check reads and passes", "[check][cli]") {
  TempDir dir;
  const std::vector<std::string> plans = {
      "--model meta-llama/Llama-3.1-8B --sku A100-80G",
      "--model Qwen/Qwen3-32B --sku L4",
      "--model meta-llama/Llama-3.1-405B --sku H100-80G",  // two nodes: a LeaderWorkerSet
      "--model Qwen/Qwen3-30B-A3B --sku Standard_NC24ads_A100_v4",
      "--model openai/gpt-oss-120b --sku H100-80G --vllm-version 0.10.1",
  };
  for (const auto& plan : plans) {
    const auto emitted = run_cli(plan + " --emit k8s");
    INFO(plan << "\n" << emitted.err);
    REQUIRE(emitted.exit_code == 0);
    write_file(dir.path() / "m.yaml", emitted.out);
    const auto r = run_cli("check '" + (dir.path() / "m.yaml").string() + "'");
    INFO(r.out);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(": fits\n") != std::string::npos);
  }
}

TEST_CASE("check: usage errors are exit 2 with one line", "[check][cli]") {
  auto r = run_cli("check");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("inputs is required") != std::string::npos);
  r = run_cli("check x.yaml --format xml");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "vram-calc: check --format: 'xml' is not one of human, json, github, junit, markdown\n");
  r = run_cli("check /nonexistent/m.yaml");
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("/nonexistent/m.yaml: error: cannot read: ") != std::string::npos);
  r = run_cli("check --help");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("Exit codes: 0 every workload fits") != std::string::npos);
}
