// What a vLLM log must never pass on (redact_log_text, and every evidence line and setting parse_vllm_log keeps):
// API keys and tokens, credentials in URLs, user names in local paths, local model directories.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "support.hpp"
#include "vramcalc/sources/vllm_log.hpp"

using namespace vramcalc;

namespace {

std::string log_text(const std::string& name) {
  std::ifstream in(testsupport::test_data("vllm_logs/" + name), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("vLLM log redaction: API keys and tokens in every spelling", "[vllm_log][redact]") {
  const std::pair<std::string, std::string> cases[] = {
      // The non-default args dict, a string or (newer vLLM) a list.
      {"non-default args: {'model': 'm', 'api_key': 'abc123', 'port': 8000}",
       "non-default args: {'model': 'm', 'api_key': '<redacted>', 'port': 8000}"},
      {"non-default args: {'api_key': ['k1', \"k2\"], 'hf_token': 'hf_x'}",
       "non-default args: {'api_key': ['<redacted>', \"<redacted>\"], 'hf_token': '<redacted>'}"},
      {"non-default args: {'api_key': None}", "non-default args: {'api_key': None}"},
      // V0's Namespace, JSON, the environment.
      {"args: Namespace(host=None, api_key='s3cret', model='m')",
       "args: Namespace(host=None, api_key='<redacted>', model='m')"},
      {"{\"api_key\": \"s3cret\", \"x\": 1}", "{\"api_key\": \"<redacted>\", \"x\": 1}"},
      {"VLLM_API_KEY=s3cret HF_TOKEN=abc vllm serve m", "VLLM_API_KEY=<redacted> HF_TOKEN=<redacted> vllm serve m"},
      // Flags.
      {"vllm serve m --api-key s3cret --port 8000", "vllm serve m --api-key <redacted> --port 8000"},
      {"vllm serve m --api-key=s3cret", "vllm serve m --api-key=<redacted>"},
      {"vllm serve m --hf-token 'hf_abc' --max-num-batched-tokens 8192",
       "vllm serve m --hf-token '<redacted>' --max-num-batched-tokens 8192"},
      // Tokens anywhere, HTTP credentials.
      {"token hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123 in text", "token hf_<redacted> in text"},
      {"key sk-proj-AbCdEf0123456789GhIjKlMn here", "key sk-<redacted> here"},
      {"curl -H 'Authorization: Bearer abc.def' http://x", "curl -H 'Authorization: Bearer <redacted>' http://x"},
      {"Bearer abc.def", "Bearer <redacted>"},
      {"password=hunter2&x=1", "password=<redacted>&x=1"},
      // Words that only look like keys stay.
      {"max_num_batched_tokens=2048, hf_overrides=None, tokenizer_mode=auto",
       "max_num_batched_tokens=2048, hf_overrides=None, tokenizer_mode=auto"},
      {"GPU KV cache size: 79,648 tokens", "GPU KV cache size: 79,648 tokens"},
  };
  for (const auto& [in, out] : cases) {
    INFO(in);
    CHECK(redact_log_text(in) == out);
    CHECK(redact_log_text(out) == out);  // redacting twice changes nothing
  }
}

TEST_CASE("vLLM log redaction: URLs with credentials and local paths", "[vllm_log][redact]") {
  const std::pair<std::string, std::string> cases[] = {
      {"proxy https://alice:pa55@proxy.example.com:3128/x", "proxy https://<redacted>@proxy.example.com:3128/x"},
      {"redis://:pa55@10.0.0.2:6379/0", "redis://<redacted>@10.0.0.2:6379/0"},
      {"http://0.0.0.0:8000/v1 and ipc:///tmp/abc", "http://0.0.0.0:8000/v1 and ipc:///tmp/abc"},
      {"Using cache directory: /home/alice/.cache/vllm/x", "Using cache directory: /home/<redacted>/.cache/vllm/x"},
      {"file /Users/bob/models/x and C:\\Users\\carol\\m and C:/Users/dan/m",
       "file /Users/<redacted>/models/x and C:\\Users\\<redacted>\\m and C:/Users/<redacted>/m"},
      // /root names no person: kept.
      {"/root/.cache/huggingface/hub", "/root/.cache/huggingface/hub"},
      // A model that is a local directory keeps its last component; a Hub cache snapshot becomes its Hub id.
      {"model='/data/alice/ckpt/qwen3-8b-sft/', tokenizer='/data/alice/ckpt/qwen3-8b-sft/'",
       "model='<local>/qwen3-8b-sft', tokenizer='<local>/qwen3-8b-sft'"},
      {"served_model_name=/mnt/models/llama, seed=0", "served_model_name=<local>/llama, seed=0"},
      {"'model': 'G:/models/qwen3.6-35b-a3b'", "'model': '<local>/qwen3.6-35b-a3b'"},
      {"model='/root/.cache/huggingface/hub/models--Qwen--Qwen3-8B/snapshots/abc123'",
       "model='<hf-cache>/Qwen/Qwen3-8B'"},
      {"model='Qwen/Qwen3-8B'", "model='Qwen/Qwen3-8B'"},
  };
  for (const auto& [in, out] : cases) {
    INFO(in);
    CHECK(redact_log_text(in) == out);
    CHECK(redact_log_text(out) == out);
  }
}

TEST_CASE("vLLM log redaction: lines stay lines, control characters go", "[vllm_log][redact]") {
  CHECK(redact_log_text("a\r\nb\nc\rd") == "a\nb\nc\nd");
  CHECK(redact_log_text("\x1b[1;36m(APIServer pid=1)\x1b[0;0m x\ty") == "(APIServer pid=1) x y");
  CHECK(redact_log_text(std::string("a\0b\x07"
                                    "c\xc2\x9b"
                                    "d\xff",
                                    9)) == "abcd?");
}

TEST_CASE("vLLM log redaction: no planted secret survives in what the reader keeps", "[vllm_log][redact]") {
  const char* secrets[] = {"token-abc123secret",
                           "sk-proj-AbCdEf0123456789GhIjKlMn",
                           "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",
                           "hf_ZyXwVuTsRqPoNmLkJiHgFeDcBa987654",
                           "secret-key-123",
                           "sk-test-0123456789abcdefghijKLMN",
                           "alice",
                           "bob",
                           "carol"};
  for (const char* name : {"v0_6_startup.log", "v0_10_1_startup.log", "v0_26_cudagraph_profiling.log",
                           "v0_11_failed_max_seq_len.log", "tp4_interleaved.log", "no_memory_lines.log"}) {
    INFO(name);
    const std::string text = log_text(name);
    const VllmLog log = parse_vllm_log(text);
    const std::string redacted = redact_log_text(text);
    const std::string record = vllm_log_record(log);
    for (const char* secret : secrets) {
      INFO(secret);
      CHECK(redacted.find(secret) == std::string::npos);
      CHECK(record.find(secret) == std::string::npos);
      for (const auto& e : log.evidence) CHECK(e.find(secret) == std::string::npos);
      if (log.settings.model) CHECK(log.settings.model->find(secret) == std::string::npos);
    }
  }
  // The planted secrets are really there before redaction.
  CHECK(log_text("v0_26_cudagraph_profiling.log").find("sk-proj-AbCdEf0123456789GhIjKlMn") != std::string::npos);
  CHECK(log_text("v0_11_failed_max_seq_len.log").find("--api-key secret-key-123") != std::string::npos);
}
