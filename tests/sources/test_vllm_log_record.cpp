// A parsed vLLM log as a calibration record (vllm_log_record), and the reader's bounds: linear time on hostile
// 1 MiB inputs, never a throw.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"
#include "vramcalc/sources/vllm_log.hpp"

using namespace vramcalc;
using Json = nlohmann::ordered_json;

namespace {

const char* const kLogs[] = {
    "v0_6_startup.log",    "v0_10_1_startup.log", "v0_26_cudagraph_profiling.log", "v0_11_failed_max_seq_len.log",
    "tp4_interleaved.log", "no_memory_lines.log"};

std::string log_text(const std::string& name) {
  std::ifstream in(testsupport::test_data("vllm_logs/" + name), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The keys of a calibration file, in the order they first appear.
std::vector<std::string> keys_of(const std::string& file) {
  std::ifstream in(testsupport::test_data(file));
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const Json doc = Json::parse(line);
    for (const auto& item : doc.items())
      if (std::find(keys.begin(), keys.end(), item.key()) == keys.end()) keys.push_back(item.key());
  }
  return keys;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : " | ") + l;
  return out;
}

std::string split_evidence(const std::string& evidence) {
  std::string out = evidence;
  for (std::size_t at = out.find(" | "); at != std::string::npos; at = out.find(" | ", at + 1))
    out.replace(at, 3, "\n");
  return out;
}

}  // namespace

TEST_CASE("vLLM log record: one JSON line with every calibration key, in the newer file's order",
          "[vllm_log][record]") {
  const auto older = keys_of("vllm_calibration.jsonl");
  const auto newer = keys_of("vllm_calibration_v021plus.jsonl");
  std::set<std::string> all(older.begin(), older.end());
  all.insert(newer.begin(), newer.end());
  std::set<std::string> ids;
  for (const char* name : kLogs) {
    INFO(name);
    const VllmLog log = parse_vllm_log(log_text(name));
    const std::string line = vllm_log_record(log);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line == vllm_log_record(parse_vllm_log(log_text(name))));  // stable
    const Json r = Json::parse(line);
    std::vector<std::string> keys;
    for (const auto& item : r.items()) keys.push_back(item.key());
    CHECK(std::set<std::string>(keys.begin(), keys.end()) == all);
    // The newer file's keys come in its order; the older file's own keys sit between them.
    std::vector<std::size_t> at;
    for (const auto& k : newer) at.push_back(std::find(keys.begin(), keys.end(), k) - keys.begin());
    CHECK(std::is_sorted(at.begin(), at.end()));
    const std::string id = r["id"].get<std::string>();
    CHECK(id.size() == 17);
    CHECK(id.rfind("user-", 0) == 0);
    CHECK(id.find_first_not_of("0123456789abcdef", 5) == std::string::npos);
    ids.insert(id);
    CHECK(r["source"] == "vram-calc explain-log --record");
    CHECK(r["evidence"] == joined(log.evidence));
    // The record's evidence read again gives the same figures and error.
    const Json again = Json::parse(vllm_log_record(parse_vllm_log(split_evidence(r["evidence"].get<std::string>()))));
    for (const char* key :
         {"weights_gib", "activation_peak_gib", "non_torch_gib", "cuda_graph_estimated_gib", "cuda_graph_actual_gib",
          "kv_cache_gib", "kv_cache_tokens", "gpu_blocks", "max_concurrency", "concurrency_tokens_per_request",
          "requested_gib", "gpu_total_gib", "error_type", "error_max_seq_len", "error_needed_kv_gib", "model",
          "vllm_version", "gpu_memory_utilization", "max_model_len"}) {
      INFO(key);
      CHECK(again[key] == r[key]);
    }
  }
  CHECK(ids.size() == std::size(kLogs));  // different evidence, different ids
}

TEST_CASE("vLLM log record: the figures, settings and failure of each log", "[vllm_log][record]") {
  const Json v26 = Json::parse(vllm_log_record(parse_vllm_log(log_text("v0_26_cudagraph_profiling.log"))));
  CHECK(v26["engine"] == "V1");
  CHECK(v26["vllm_version"] == "0.26.0");
  CHECK(v26["model"] == "Qwen/Qwen3-8B-FP8");
  CHECK(v26["num_gpus"] == 1);
  CHECK(v26["kv_cache_tokens"] == 422048);
  CHECK(v26["cuda_graph_estimated_gib"] == 0.61);
  CHECK(v26["cuda_graph_actual_gib"] == 0.55);
  CHECK(v26["cuda_graph_gib"] == 0.55);
  CHECK(v26["cudagraph_mode"] == "FULL_AND_PIECEWISE");
  CHECK(v26["cudagraph_capture_sizes"] == Json::array({1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64}));
  CHECK(v26["error_type"].is_null());
  CHECK(v26["url"].is_null());
  CHECK(v26["gpu"].is_null());

  const Json v11 = Json::parse(vllm_log_record(parse_vllm_log(log_text("v0_11_failed_max_seq_len.log"))));
  CHECK(v11["error_type"] == "max_model_len_exceeds_kv_capacity");
  CHECK(v11["error_max_seq_len"] == 131072);
  CHECK(v11["error_needed_kv_gib"] == 16.0);
  CHECK(v11["error_available_kv_gib"] == 4.38);
  CHECK(v11["error_estimated_max_model_len"] == 35872);
  CHECK(v11["error_text_numbers"] ==
        "max seq len 131072; needed 16 GiB; available 4.38 GiB; estimated max model len 35872");

  const Json v0 = Json::parse(vllm_log_record(parse_vllm_log(log_text("v0_6_startup.log"))));
  CHECK(v0["engine"] == "V0");
  CHECK(v0["gpu_blocks"] == 1952);
  CHECK(v0["gpu_total_gib"] == 23.58);
  CHECK(v0["cudagraph_capture_sizes"].is_null());

  const Json tp4 = Json::parse(vllm_log_record(parse_vllm_log(log_text("tp4_interleaved.log"))));
  CHECK(tp4["num_gpus"] == 4);
  CHECK(tp4["gpu"] == "NVIDIA H100 80GB HBM3");
  CHECK(tp4["enable_expert_parallel"] == true);

  const Json none = Json::parse(vllm_log_record(parse_vllm_log(log_text("no_memory_lines.log"))));
  CHECK(none["num_gpus"].is_null());
  CHECK(none["model"] == "<local>/my-finetune");
}

namespace {

// The fastest of three runs of `f`, in seconds.
double fastest(const std::function<void()>& f) {
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// `unit` repeated to `bytes` (whole repeats), as one line, or many lines when `unit` ends with '\n'.
std::string repeated(const std::string& unit, std::size_t bytes) {
  std::string out;
  out.reserve(bytes + unit.size());
  while (out.size() < bytes) out += unit;
  return out;
}

}  // namespace

TEST_CASE("vLLM log reader: time linear in the input, hostile patterns included", "[vllm_log]") {
  // Each pattern aims at one place a reader could go quadratic: repeated anchors, unterminated quotes and brackets,
  // prefixes that almost match, long digit runs, deep nesting.
  const std::vector<std::string> patterns = {
      log_text("v0_26_cudagraph_profiling.log"),
      "non-default args: {'a': [(",
      "Initializing a V1 LLM engine (v1) with config: a=(b={",
      "x://a:b",
      "'api_key': 'x",
      "api_key=",
      "Maximum concurrency for 1",
      "(EngineCore pid=",
      "NVIDIA A1 ",
      "Model loading took 1111111111",
      "[1;36",
      "/home/",
      "0,000,",
      "0.6 GiB for peak activation ",
      "Profiling CUDA graph memory: PIECEWISE=1 (largest=",
      "\x1b[",
  };
  constexpr std::size_t kSmall = 256 * 1024, kLarge = 1024 * 1024;
  for (const auto& p : patterns) {
    INFO("pattern: " << p.substr(0, 60));
    const std::string small = repeated(p, kSmall), large = repeated(p, kLarge);
    std::size_t lines = 0;
    const double t_small = fastest([&] { lines += parse_vllm_log(small).memory_lines; });
    const double t_large = fastest([&] { lines += parse_vllm_log(large).memory_lines; });
    // Linear: four times the input, about four times the time; quadratic would be sixteen. The slack covers timer
    // noise on short runs and a loaded machine.
    CHECK(t_large < 10 * t_small + 0.05);
    CHECK(t_large < (testsupport::kAddressSanitizer ? 20.0 : 5.0));
    (void)lines;
  }
}

TEST_CASE("vLLM log reader: any bytes, no throw, printable output", "[vllm_log]") {
  std::mt19937 rng(17);
  std::vector<std::string> inputs;
  for (int i = 0; i < 200; ++i) {
    std::string s(static_cast<std::size_t>(rng() % 400), '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 256);
    inputs.push_back(s);
  }
  // Pieces of real wordings shuffled together: the recognisers half-match.
  const std::string base = log_text("v0_26_cudagraph_profiling.log") + log_text("v0_11_failed_max_seq_len.log");
  for (int i = 0; i < 200; ++i) {
    std::string s;
    for (int k = 0; k < 20; ++k) {
      const std::size_t at = rng() % base.size();
      s += base.substr(at, rng() % 80);
    }
    inputs.push_back(s);
  }
  inputs.push_back(std::string(100000, '{'));
  inputs.push_back("non-default args: " + std::string(5000, '[') + std::string(5000, ']'));
  inputs.push_back("Available KV cache memory: " + std::string(500, '9') + " GiB");
  inputs.push_back("GPU KV cache size: 99999999999999999999999999 tokens");
  for (const auto& in : inputs) {
    VllmLog log;
    REQUIRE_NOTHROW(log = parse_vllm_log(in));
    std::string redacted;
    REQUIRE_NOTHROW(redacted = redact_log_text(in));
    const auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
    CHECK(std::none_of(redacted.begin(), redacted.end(), [&](char c) { return c != '\n' && control(c); }));
    for (const auto& e : log.evidence) CHECK(std::none_of(e.begin(), e.end(), control));
    REQUIRE_NOTHROW(Json::parse(vllm_log_record(log)));
  }
}
