// The seed's endpoints over HTTP (issue 16): status codes and bodies of POST /estimate-gpu-memory,
// GET /known-architectures and GET /, malformed and oversized bodies, unknown paths and wrong methods.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "fakehub.hpp"
#include "serve_support.hpp"
#include "support.hpp"

using nlohmann::json;
using testsupport::http;
using testsupport::TestServer;

namespace {

// The JSON body of a reply, and the status it came with.
json body_of(const testsupport::HttpReply& reply) {
  INFO(reply.body);
  json j = json::parse(reply.body, nullptr, false);
  CHECK_FALSE(j.is_discarded());
  return j;
}

}  // namespace

TEST_CASE("serve: POST /estimate-gpu-memory answers 200, 400 with the field, the estimate's warning", "[serve]") {
  TestServer server;
  const int port = server.port();
  auto reply =
      http(port, "POST", "/estimate-gpu-memory", R"({"model_name": "meta-llama/Llama-3.1-8B", "max_seq_len": 4096})");
  CHECK(reply.status == 200);
  CHECK(reply.headers["content-type"].find("application/json") != std::string::npos);
  json j = body_of(reply);
  CHECK(j["max_kv_cache_memory_gb"] == 16.0);
  CHECK(j["warning"].is_null());

  // Invalid fields, malformed JSON, a body that is not an object: 400 {"error", "field"}.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"model_name": "meta-llama/Llama-3.1-8B", "max_seq_len": 0})", "max_seq_len"},
      {R"({"model_name": "meta-llama/Llama-3.1-8B", "max_seq_len": 4096, "max_batch_size": -1})", "max_batch_size"},
      {R"({"model_name": "meta-llama/Llama-3.1-8B", "max_seq_len": 4096, "gpu_memory_utilization": 1.5})",
       "gpu_memory_utilization"},
      {R"({"model_name": "meta-llama/Llama-3.1-8B", "max_seq_len": 4096, "dtype": "float8"})", "dtype"},
      {R"({"model_name": "meta-llama/Llama-3.1-8B", "max_seq_len": 4096, "quantization": "Q2"})", "quantization"},
      {R"({"model_name": "meta-llama/Llama-3.1-8B", "max_seq_len": "long"})", "max_seq_len"},
      {R"({"model_name": "/etc/passwd", "max_seq_len": 4096})", "model_name"},
      {R"({"max_seq_len": 4096})", "model_name"},
      {R"([1, 2])", ""},
      {R"({"model_name": "meta-llama/Llama-3.1-8B", "max_seq_len": 40)", ""},  // malformed
      {"", ""},
  };
  for (const auto& [body, field] : bad) {
    INFO(body);
    reply = http(port, "POST", "/estimate-gpu-memory", body);
    CHECK(reply.status == 400);
    j = body_of(reply);
    CHECK(j["error"].is_string());
    CHECK(j["field"] == field);
  }

  // A body over 1 MiB: 400 in the API's shape.
  const std::string huge = R"({"model_name": ")" + std::string((1u << 20) + 16, 'a') + R"(", "max_seq_len": 1})";
  reply = http(port, "POST", "/estimate-gpu-memory", huge);
  CHECK(reply.status == 400);
  CHECK(body_of(reply)["error"].get<std::string>().find("bytes") != std::string::npos);

  // A model in neither the catalog nor the caches (the server does not fetch without --allow-hub): estimated.
  reply = http(port, "POST", "/estimate-gpu-memory", R"({"model_name": "acme/private-llm-34b", "max_seq_len": 8192})");
  CHECK(reply.status == 200);
  j = body_of(reply);
  CHECK(j["architecture_used"]["estimated"] == true);
  CHECK(j["architecture_used"]["num_layers"] == 60);
  CHECK(j["warning"].get<std::string>().find("estimate") != std::string::npos);
  CHECK(j["warning"].get<std::string>().find("--allow-hub") != std::string::npos);

  // sku: `plan` is what the CLI prints for the same flags.
  reply = http(port, "POST", "/estimate-gpu-memory",
               R"({"model_name": "Qwen/Qwen3-32B", "max_seq_len": 16384, "sku": "H100-80G", "max_batch_size": 8})");
  CHECK(reply.status == 200);
  j = body_of(reply);
  const std::string command = j["plan_command"].get<std::string>();
  const auto cli = testsupport::run_cli(command.substr(std::string("vram-calc ").size()));
  CHECK(j["plan"] == json::parse(cli.out));
}

TEST_CASE("serve: GET / and GET /known-architectures; 404 and 405", "[serve]") {
  TestServer server;
  const int port = server.port();
  auto reply = http(port, "GET", "/");
  CHECK(reply.status == 200);
  json j = body_of(reply);
  CHECK(j["units"]["_gb"].get<std::string>().find("GiB") != std::string::npos);
  CHECK(j["example"]["response"]["recommended_memory_gb"].is_number());
  CHECK(j["endpoints"].size() >= 8);

  reply = http(port, "GET", "/known-architectures");
  CHECK(reply.status == 200);
  j = body_of(reply);
  CHECK(j["count"].get<int>() > 10);
  CHECK(j["architectures"].contains("LlamaForCausalLM"));
  CHECK(j["families"].contains("mixtral"));

  for (const char* path : {"/estimate", "/estimate-gpu-memory/x", "/known_architectures"}) {
    INFO(path);
    reply = http(port, "GET", path);
    CHECK(reply.status == 404);
    CHECK(body_of(reply)["error"].is_string());
  }
  const std::vector<std::pair<std::string, std::string>> wrong = {{"GET", "/estimate-gpu-memory"},
                                                                  {"PUT", "/estimate-gpu-memory"},
                                                                  {"DELETE", "/estimate-gpu-memory"},
                                                                  {"POST", "/known-architectures"},
                                                                  {"POST", "/"}};
  for (const auto& [method, path] : wrong) {
    INFO(method << " " << path);
    reply = http(port, method, path, method == "GET" ? "" : "{}");
    CHECK(reply.status == 405);
    CHECK(!reply.headers["allow"].empty());
    CHECK(body_of(reply)["error"].is_string());
  }
}

TEST_CASE("serve: with --allow-hub, a Hub model is read, a missing one estimated, a Hub failure is 502", "[serve]") {
  FakeHub hub;
  TestServer server({"--allow-hub"}, "HF_ENDPOINT=" + hub.endpoint());
  const int port = server.port();
  auto reply = http(port, "POST", "/estimate-gpu-memory", R"({"model_name": "acme/single", "max_seq_len": 1024})");
  CHECK(reply.status == 200);
  json j = body_of(reply);
  CHECK(j["architecture_used"]["estimated"] == false);
  CHECK(j["architecture_used"]["source"].get<std::string>().find(hub.endpoint()) != std::string::npos);
  // Not on the Hub (404 RepoNotFound): estimated from its name, and the warning says where it looked.
  reply = http(port, "POST", "/estimate-gpu-memory", R"({"model_name": "acme/missing-13b", "max_seq_len": 1024})");
  CHECK(reply.status == 200);
  j = body_of(reply);
  CHECK(j["architecture_used"]["estimated"] == true);
  CHECK(j["warning"].get<std::string>().find("Hugging Face Hub") != std::string::npos);
  // Gated without a token: the CLI's message, 502.
  reply = http(port, "POST", "/estimate-gpu-memory", R"({"model_name": "acme/gated", "max_seq_len": 1024})");
  CHECK(reply.status == 502);
  j = body_of(reply);
  CHECK(j["field"] == "model_name");
  CHECK(j["error"].get<std::string>().find("gated") != std::string::npos);
  // The Hub cannot be reached: 502 too.
  TestServer unreachable({"--allow-hub"}, "HF_ENDPOINT=http://127.0.0.1:9");
  reply = http(unreachable.port(), "POST", "/estimate-gpu-memory",
               R"({"model_name": "acme/not-in-the-catalog-7b", "max_seq_len": 1024})");
  CHECK(reply.status == 502);
  CHECK(body_of(reply)["error"].get<std::string>().find("127.0.0.1:9") != std::string::npos);
}
