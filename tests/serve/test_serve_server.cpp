// vram-calc serve as a server: errors in the API's shape, refusals of what requests may not do, authentication,
// CORS, metrics, the access log, 16 concurrent clients, and a graceful stop with a request in flight (issue 16).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "serve_support.hpp"
#include "support.hpp"

using testsupport::http;
using testsupport::TestServer;

namespace {

const std::string kPlan = R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G"})";

nlohmann::json error_of(const testsupport::HttpReply& r) {
  INFO(r.body);
  const auto j = nlohmann::json::parse(r.body);
  REQUIRE(j.contains("error"));
  REQUIRE(j.contains("field"));
  return j;
}

}  // namespace

TEST_CASE("serve: bad requests are 400 naming the field; unknown paths 404, wrong methods 405", "[serve]") {
  TestServer server;
  const int port = server.port();
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"{", ""},       // malformed JSON
      {"[1, 2]", ""},  // not an object
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "max-model-len": -5})", "max-model-len"},
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "gpu-memory-utilization": 1.5})",
       "gpu-memory-utilization"},
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "dtype": "float8"})", "dtype"},
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "concurrency": {"a": 1}})", "concurrency"},
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "NoSuchGPU"})", "sku"},
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "no-such-option": 1})", "no-such-option"},
      // What a request may not do: local files, tokens, output shapes.
      {R"({"model": "/etc/passwd", "sku": "A100-80G"})", "model"},
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "profile": "/etc/passwd"})", "profile"},
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "token": "hf_x"})", "token"},
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "emit": "k8s"})", "emit"},
      {R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "format": "csv"})", "format"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    const auto r = http(port, "POST", "/plan", c.body);
    CHECK(r.status == 400);
    CHECK(error_of(r)["field"] == c.field);
  }
  // A body over 1 MiB.
  const auto big = http(port, "POST", "/plan", "{\"model\": \"" + std::string(1u << 20, 'a') + "\"}");
  CHECK(big.status == 400);
  CHECK(error_of(big)["error"].get<std::string>().find("over 1048576 bytes") != std::string::npos);
  // A model the server cannot get without the Hub.
  const auto offline = http(port, "POST", "/plan", R"({"model": "acme/not-in-the-catalog", "sku": "L4"})");
  CHECK(offline.status == 404);
  CHECK(error_of(offline)["field"] == "model");
  CHECK(http(port, "GET", "/nope").status == 404);
  const auto wrong = http(port, "GET", "/plan");
  CHECK(wrong.status == 405);
  CHECK(wrong.headers.at("allow") == "POST");
  CHECK(http(port, "DELETE", "/healthz").status == 405);
  // No token, query string or body reaches the access log.
  const auto log = server.log();
  CHECK(log.find("127.0.0.1 \"POST /plan\" 400 ") != std::string::npos);
  CHECK(log.find("hf_x") == std::string::npos);
  CHECK(log.find("/etc/passwd") == std::string::npos);
}

TEST_CASE("serve: a remote model failure is 502 with the CLI's message", "[serve]") {
  TestServer server({"--allow-hub"}, "HF_ENDPOINT=http://127.0.0.1:9");
  const auto r = http(server.port(), "POST", "/plan", R"({"model": "acme/not-in-the-catalog", "sku": "L4"})");
  CHECK(r.status == 502);
  CHECK(error_of(r)["error"].get<std::string>().find("127.0.0.1:9") != std::string::npos);
}

TEST_CASE("serve: bearer authentication, CORS only when asked, metrics", "[serve]") {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "token", "s3cret-token\n");
  TestServer server({"--auth-token-file", (dir.path() / "token").string(), "--cors", "https://portal.example"});
  const int port = server.port();
  CHECK(http(port, "GET", "/healthz").status == 200);  // probes need no token
  const auto denied = http(port, "POST", "/plan", kPlan);
  CHECK(denied.status == 401);
  CHECK(denied.headers.at("www-authenticate") == "Bearer");
  CHECK(http(port, "POST", "/plan", kPlan, {{"Authorization", "Bearer wrong-token!"}}).status == 401);
  const auto ok = http(port, "POST", "/plan", kPlan, {{"Authorization", "Bearer s3cret-token"}});
  CHECK(ok.status == 200);
  CHECK(ok.headers.at("access-control-allow-origin") == "https://portal.example");
  const auto preflight = http(port, "OPTIONS", "/plan", "", {{"Origin", "https://portal.example"}});
  CHECK(preflight.status == 204);
  // The access log and the metrics are written after the answer is sent: wait until the last one is counted.
  std::string metrics;
  for (int i = 0; i < 100 && metrics.find("code=\"204\"} 1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    metrics = http(port, "GET", "/metrics", "", {{"Authorization", "Bearer s3cret-token"}}).body;
  }
  CHECK(metrics.find("vramcalc_requests_total{route=\"/plan\",code=\"401\"} 2") != std::string::npos);
  CHECK(metrics.find("vramcalc_requests_total{route=\"/plan\",code=\"200\"} 1") != std::string::npos);
  CHECK(metrics.find("vramcalc_request_duration_seconds_count ") != std::string::npos);
  CHECK(server.log().find("s3cret") == std::string::npos);
  TestServer plain;
  CHECK(http(plain.port(), "POST", "/plan", kPlan).headers.count("access-control-allow-origin") == 0);
}

TEST_CASE("serve: 16 clients x 500 requests, none lost or failed", "[serve][load]") {
  TestServer server({"--threads", "8"});
  // Fewer under AddressSanitizer, which makes each plan many times slower.
  const int per_client = testsupport::kAddressSanitizer ? 50 : 500;
  std::atomic<int> ok{0}, failed{0}, reconnects{0};
  std::vector<double> latencies_ms(static_cast<std::size_t>(16 * per_client));
  const std::string expected = testsupport::run_cli("--model meta-llama/Llama-3.1-8B --sku A100-80G --format json").out;
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < per_client; ++i) {
        const auto start = std::chrono::steady_clock::now();
        auto r = http(server.port(), "POST", "/plan", kPlan);
        // A connection refused or reset before any answer (status 0) never reached a handler: cpp-httplib listens
        // with a backlog of 5, which 16 clients on a starved 2-core machine can overflow. Retried, and counted.
        for (int attempt = 0; attempt < 3 && r.status == 0; ++attempt) {
          ++reconnects;
          r = http(server.port(), "POST", "/plan", kPlan);
        }
        latencies_ms[static_cast<std::size_t>(c * per_client + i)] =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        (r.status == 200 && r.body == expected ? ok : failed)++;
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(failed == 0);
  CHECK(ok == 16 * per_client);
  CHECK(reconnects * 100 < 16 * per_client);  // under 1% of the requests needed a second connection
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const double p50 = latencies_ms[latencies_ms.size() / 2];
  const double p99 = latencies_ms[latencies_ms.size() * 99 / 100];
  WARN("16 clients x " << per_client << " POST /plan: p50 " << p50 << " ms, p99 " << p99 << " ms, " << reconnects
                       << " reconnects");
  CHECK(p99 < 5000);
}

TEST_CASE("serve: SIGTERM stops the listener and lets the request in flight finish", "[serve]") {
  TestServer server;
  // A request whose body arrives in two halves, the signal between them.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string head =
      "POST /plan HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(kPlan.size()) + "\r\n\r\n";
  const std::string first = head + kPlan.substr(0, 10);
  REQUIRE(::write(fd, first.data(), first.size()) == static_cast<ssize_t>(first.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::thread stopper([&] { CHECK(server.stop() == 0); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string rest = kPlan.substr(10);
  REQUIRE(::write(fd, rest.data(), rest.size()) == static_cast<ssize_t>(rest.size()));
  std::string answer;
  char buffer[65536];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  stopper.join();
  CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(answer.find("\"schema_version\": 2") != std::string::npos);
  CHECK(server.log().find("vram-calc serve: stopped") != std::string::npos);
  // The listener is closed: a new connection is refused.
  CHECK(http(server.port(), "GET", "/healthz").status == 0);
}
