// `vram-calc explain-log`: a vLLM startup log beside the prediction, what to change, JSON, --record, exit codes
// (issue 17). The logs are tests/data/vllm_logs/*.log.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support.hpp"

using testsupport::run_cli;

namespace {

std::string log_file(const std::string& name) { return testsupport::test_data("vllm_logs/" + name).string(); }

nlohmann::json explain_json(const std::string& args, int expected_exit) {
  const auto r = run_cli("explain-log " + args + " --format json");
  INFO(r.err);
  CHECK(r.exit_code == expected_exit);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("explain-log: a v0.2x log with CUDA-graph profiling, logged vs predicted per component", "[explain-log]") {
  const auto j = explain_json("'" + log_file("v0_26_cudagraph_profiling.log") + "'", 0);
  CHECK(j["schema_version"] == 1);
  CHECK(j["engine_started"] == true);
  CHECK(j["settings"]["vllm_version"] == "0.26.0");
  CHECK(j["settings"]["model"] == "Qwen/Qwen3-8B-FP8");
  // The GPU is not named: its CUDA total comes from the log's own memory line.
  CHECK(j["gpu"].get<std::string>().find("from the log's memory profiling line") != std::string::npos);
  for (const char* component : {"weights", "available KV cache", "GPU KV cache size"}) {
    INFO(component);
    CHECK(j["logged"][component].is_number());
    CHECK(j["predicted"][component].is_number());
    CHECK(j["differences"][component].get<double>() ==
          Approx(j["predicted"][component].get<double>() - j["logged"][component].get<double>()));
  }
  // Tokens are compared as tokens (blocks x block size), never as bytes.
  CHECK(j["units"]["GPU KV cache size"] == "tokens");
  CHECK(j["predicted"]["weights"].get<double>() == Approx(j["logged"]["weights"].get<double>()).margin(0.1));
  bool estimate_off = false;
  for (const auto& s : j["suggestions"])
    estimate_off = estimate_off || s["flags"] == "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0";
  CHECK(estimate_off);
  // vram_calc_args reproduce the prediction.
  const auto args = j["vram_calc_args"];
  REQUIRE(args.size() > 2);
  CHECK(args[0] == "--model");
}

TEST_CASE(
    "explain-log: a failed startup exits 1 and shows the error's numbers; without a GPU, the logged figures "
    "alone",
    "[explain-log]") {
  const auto r = run_cli("explain-log '" + log_file("v0_11_failed_max_seq_len.log") + "'");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("Start-up   failed: max_model_len does not fit the KV cache") != std::string::npos);
  CHECK(r.out.find("no prediction: the log does not say which GPU") != std::string::npos);
  // With the GPU given, a prediction and the changes that would fit.
  const auto j =
      explain_json("'" + log_file("v0_11_failed_max_seq_len.log") + "' --sku L4 --model meta-llama/Llama-3.1-8B", 1);
  CHECK(j["failure"]["kind"] == "max_seq_len");
  CHECK(j["failure"]["needed_kv_gib"] == Approx(16.0));
  CHECK(j["predicted_fits"] == false);
  bool a_fix = false;
  for (const auto& s : j["suggestions"]) a_fix = a_fix || (s["fits"] == true);
  CHECK(a_fix);
}

TEST_CASE("explain-log: several ranks interleaved, with colours and prefixes", "[explain-log]") {
  const auto j = explain_json("'" + log_file("tp4_interleaved.log") + "'", 0);
  CHECK(j["ranks"] == 4);
  CHECK(j["settings"]["tensor_parallel_size"] == 4);
  CHECK(j["logged"]["weights"].is_number());
}

TEST_CASE("explain-log: not a vLLM startup log is exit 2; stdin works", "[explain-log]") {
  auto r = run_cli("explain-log '" + log_file("no_memory_lines.log") + "'");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "vram-calc: explain-log: not a vLLM startup log (no memory profiling line found)\n");
  r = run_cli("explain-log /nonexistent.log");
  CHECK(r.exit_code == 2);
  testsupport::TempDir dir;
  const std::string out = (dir.path() / "out").string();
  const std::string cmd = "HF_HUB_OFFLINE=1 HF_HOME='" + dir.path().string() + "' '" + VRAMCALC_BINARY +
                          "' explain-log - --format json < '" + log_file("v0_26_cudagraph_profiling.log") + "' > '" +
                          out + "'";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("explain-log --record: one JSON line in the calibration schema, keys and paths redacted", "[explain-log]") {
  const auto r = run_cli("explain-log '" + log_file("v0_26_cudagraph_profiling.log") + "' --record");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find('\n') == r.out.size() - 1);
  const auto record = nlohmann::json::parse(r.out);
  // Every key of the calibration set.
  std::ifstream calibration(testsupport::test_data("vllm_calibration_v021plus.jsonl"));
  std::string first;
  std::getline(calibration, first);
  const auto calibration_record = nlohmann::json::parse(first);  // kept: items() of a temporary would dangle
  for (const auto& [key, value] : calibration_record.items()) {
    INFO(key);
    CHECK(record.contains(key));
  }
  CHECK(record["id"].get<std::string>().rfind("user-", 0) == 0);
  CHECK(record["weights_gib"].is_number());
  CHECK(record["evidence"].get<std::string>().find(" | ") != std::string::npos);
  CHECK(r.out.find("sk-") == std::string::npos);  // the api_key of the log's non-default args
}
