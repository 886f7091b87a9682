// How `vram-calc check` reads a server's settings (cli/check/server_args.hpp): each spelling of vLLM's and TGI's
// flags, their environment variables, a mounted --config file, KAITO's inference config, and the image tag.
#include <catch2/catch.hpp>

#include "cli/check/server_args.hpp"
#include "vramcalc/sources/manifest.hpp"

using namespace vramcalc;
using namespace vramcalc::cli;

namespace {

Workload with_server(ServerKind kind, std::vector<std::string> args, std::vector<ManifestEnvVar> env = {}) {
  Workload w;
  w.server = ServerCommand{kind, "test", std::move(args), {}};
  w.env = std::move(env);
  return w;
}

std::vector<std::string> flags_of(const ServerSettings& s) {
  std::vector<std::string> notes;
  return vram_calc_flags(s, notes);
}

}  // namespace

TEST_CASE("vLLM's flags in every spelling: --flag value, --flag=value, --flag_name, short flags", "[check][args]") {
  const auto s = read_server_settings(
      with_server(ServerKind::Vllm, {"meta-llama/Llama-3.1-8B", "--max_model_len=32k", "-tp", "2", "-pp=2",
                                     "--gpu-memory-utilization", "0.85", "--trust-remote-code", "--port", "8000", "-O3",
                                     "--enforce-eager", "--kv-cache-dtype", "fp8", "--served-model-name", "llama"}),
      std::nullopt);
  CHECK(s.model == "meta-llama/Llama-3.1-8B");
  CHECK(s.model_from == "the model argument");
  CHECK(s.value("max-model-len") == "32k");
  CHECK(s.count("tensor-parallel-size") == 2u);
  CHECK(s.count("pipeline-parallel-size") == 2u);
  CHECK(s.count("data-parallel-size") == 1u);
  CHECK(s.has("enforce-eager"));
  CHECK(s.value("optimization-level") == "3");
  CHECK_FALSE(s.has("port"));  // skipped with its value, never mistaken for the model
  const auto flags = flags_of(s);
  CHECK(flags == std::vector<std::string>{"--enforce-eager", "--gpu-memory-utilization", "0.85", "--kv-cache-dtype",
                                          "fp8", "--max-model-len", "32k", "-O", "3"});
}

TEST_CASE("the model as a flag (--model, the API server), and a count that is not one", "[check][args]") {
  const auto s = read_server_settings(
      with_server(ServerKind::Vllm, {"--model", "Qwen/Qwen3-8B", "--tensor-parallel-size", "two"}), std::nullopt);
  CHECK(s.model == "Qwen/Qwen3-8B");
  CHECK(s.model_from == "--model");
  CHECK_FALSE(s.count("tensor-parallel-size"));
}

TEST_CASE("vLLM's memory variables, and a script's VAR=value prefix", "[check][args]") {
  Workload w =
      with_server(ServerKind::Vllm, {"x/y"},
                  {{"VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS", "0", ""}, {"VLLM_ALLOW_LONG_MAX_MODEL_LEN", "1", ""}});
  w.server->assignments = {{"VLLM_USE_FLASHINFER_SAMPLER", "1"}};
  const auto s = read_server_settings(w, std::nullopt);
  CHECK(s.has("allow-long-max-model-len"));
  const auto flags = flags_of(s);
  CHECK(flags == std::vector<std::string>{"--cudagraph-estimate", "off", "--flashinfer-sampler"});
}

TEST_CASE("TGI: flags over their upper-case variables; a variable from a Secret cannot be told", "[check][args]") {
  const auto s = read_server_settings(
      with_server(ServerKind::Tgi, {"--max-total-tokens", "8192", "--quantize", "bitsandbytes-nf4"},
                  {{"MODEL_ID", "mistralai/Mistral-7B-v0.1", ""},
                   {"MAX_TOTAL_TOKENS", "4096", ""},
                   {"MAX_INPUT_LENGTH", "2048", ""},
                   {"NUM_SHARD", std::nullopt, "from Secret s"}}),
      std::nullopt);
  CHECK(s.model == "mistralai/Mistral-7B-v0.1");
  CHECK(s.value("max-total-tokens") == "8192");
  REQUIRE(s.unknowns.size() == 1);
  CHECK(s.unknowns[0] == "NUM_SHARD comes from Secret s");
  const auto flags = flags_of(s);
  CHECK(flags == std::vector<std::string>{"--engine", "tgi", "--max-input-tokens", "2048", "--max-total-tokens", "8192",
                                          "--quantization", "bitsandbytes"});
}

TEST_CASE("a --config file mounted from a ConfigMap; the command line wins over it", "[check][args]") {
  Workload w = with_server(ServerKind::Vllm, {"x/y", "--config", "/etc/vllm/c.yaml", "--max-model-len", "4096"});
  w.files["/etc/vllm/c.yaml"] =
      "max_model_len: 8192\nmax-num-seqs: 64\nenforce-eager: true\ncompilation-config:\n  cudagraph_mode: PIECEWISE\n";
  auto s = read_server_settings(w, std::nullopt);
  CHECK(s.value("max-model-len") == "4096");
  CHECK(s.value("max-num-seqs") == "64");
  CHECK(s.has("enforce-eager"));
  CHECK(s.value("compilation-config") == R"({"cudagraph_mode":"PIECEWISE"})");
  w.files.clear();
  s = read_server_settings(w, std::nullopt);
  REQUIRE(s.unknowns.size() == 1);
  CHECK(s.unknowns[0] == "--config /etc/vllm/c.yaml is not a file of a ConfigMap in the input");
}

TEST_CASE("KAITO: the preset's model and the vllm section of inference_config.yaml", "[check][args]") {
  Workload w;
  w.kaito = KaitoWorkload{"Standard_NC24ads_A100_v4", 1, "phi-4", "cfg",
                          "vllm:\n  max-model-len: 16384\n  gpu-memory-utilization: 0.95\nmax_probe_steps: 6\n"};
  const auto s = read_server_settings(w, std::string("microsoft/phi-4"));
  CHECK(s.model == "microsoft/phi-4");
  CHECK(s.value("max-model-len") == "16384");
  CHECK(s.value("gpu-memory-utilization") == "0.95");
}

TEST_CASE("KServe's Hugging Face runtime: --model_id, and hf:// storage", "[check][args]") {
  auto s = read_server_settings(with_server(ServerKind::KserveHuggingFace, {"--model_name=x", "--model_id=a/b"}),
                                std::nullopt);
  CHECK(s.model == "a/b");
  Workload w = with_server(ServerKind::KserveHuggingFace, {"--model_name=x"});
  w.storage_uri = "hf://org/name:abc123";
  s = read_server_settings(w, std::nullopt);
  CHECK(s.model == "org/name");
  CHECK(s.value("revision") == "abc123");
}

TEST_CASE("the vLLM release an image tag names", "[check][args]") {
  CHECK(vllm_version_of_image("vllm/vllm-openai:v0.11.0") == "0.11.0");
  CHECK(vllm_version_of_image("registry.local:5000/vllm/vllm-openai:0.10.1.1-cu128") == "0.10.1.1");
  CHECK(vllm_version_of_image("vllm/vllm-openai:v0.22.1@sha256:abcd") == "0.22.1");
  CHECK_FALSE(vllm_version_of_image("vllm/vllm-openai:latest"));
  CHECK_FALSE(vllm_version_of_image("vllm/vllm-openai@sha256:abcd"));
  CHECK_FALSE(vllm_version_of_image("registry.local:5000/vllm"));
}
