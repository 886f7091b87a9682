// The Hugging Face Hub path, end to end against the fake hub on 127.0.0.1 (tests/fakehub): exact sizes from
// range requests, the number of requests and bytes, caches, tokens, redirects, offline mode, every error.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>

#include "fakehub.hpp"
#include "support.hpp"
#include "vramcalc/core/dtype.hpp"
#include "vramcalc/sources/hub.hpp"
#include "vramcalc/sources/safetensors.hpp"

using nlohmann::json;
using testsupport::run_cli;

using testsupport::remote_error;

namespace {

constexpr const char* kToken = "hf_test_token_123";

// A run of vram-calc against `hub`, online, with its caches in `cache` (shared by runs that reuse them).
struct HubRun {
  const FakeHub& hub;
  const testsupport::TempDir& cache;
  std::string extra_env;

  testsupport::RunResult operator()(const std::string& args) const {
    const std::string env = "HF_ENDPOINT=" + hub.endpoint() + " HF_HUB_OFFLINE=0 XDG_CACHE_HOME='" +
                            (cache.path() / "xdg").string() + "' HF_HOME='" + (cache.path() / "hf").string() +
                            "' CURL_CA_BUNDLE='" + hub.ca_bundle() + "' " + extra_env;
    return run_cli(args + " --sku H100-80G --format json", env);
  }
};

json ok_json(const testsupport::RunResult& r) {
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

// Expected weight bytes of a fake repo: every virtual tensor's elements x dtype size, from its _repo.json.
std::uint64_t expected_bytes(const std::string& repo) {
  std::ifstream in(testsupport::test_data("hub/" + repo + "/_repo.json"));
  const json spec = json::parse(in);
  std::uint64_t total = 0;
  for (const auto& [file, vf] : spec["virtual_files"].items()) {
    for (const auto& [name, t] : vf["tensors"].items()) {
      std::uint64_t n = 1;
      for (const auto& d : t["shape"]) n *= d.get<std::uint64_t>();
      total += n * static_cast<std::uint64_t>(*vramcalc::safetensors_dtype_bytes(t["dtype"].get<std::string>()));
    }
  }
  return total;
}

std::size_t request_count(const FakeHub& hub) { return hub.stats()["requests"].size(); }

}  // namespace

TEST_CASE("a sharded model: exact bytes from headers in two rounds, no tensor data", "[hub]") {
  FakeHub hub;
  testsupport::TempDir cache;
  HubRun run{hub, cache, ""};
  const auto j = ok_json(run("--model acme/sharded"));
  CHECK(j["model"]["weight_source"] == "safetensors_headers");
  CHECK(j["model"]["weight_bytes"] == expected_bytes("acme--sharded"));
  CHECK(j["model"]["id"] == "acme/sharded");
  CHECK(j["model"]["source"].get<std::string>().find(hub.endpoint()) != std::string::npos);

  const auto stats = hub.stats();
  // config.json, the index, the speculative model.safetensors range (404), and one range per shard.
  CHECK(stats["requests"].size() == 7);
  std::uint64_t shard_bytes = 0;
  for (const auto& r : stats["requests"]) {
    const std::string path = r["path"];
    if (path.find("-of-") != std::string::npos) {
      // Sized from the tensor names the index lists for the shard: 16 KiB here, never past 256 KiB.
      CHECK(r["range"] == "bytes=0-16383");
      shard_bytes += r["body_bytes"].get<std::uint64_t>();
    }
  }
  CHECK(shard_bytes == 4 * 16384);
  CHECK(stats["bytes_sent"].get<std::uint64_t>() < 4 * 16384 + 20'000);  // of ~2.3 GB of shards

  SECTION("a second run revalidates the branch with one conditional request") {
    const auto again = ok_json(run("--model acme/sharded"));
    CHECK(again["model"]["weight_bytes"] == j["model"]["weight_bytes"]);
    CHECK(request_count(hub) == 8);
    const auto last = hub.stats()["requests"].back();
    CHECK(last["status"] == 304);
    CHECK(again["model"]["source"].get<std::string>().find("still current") != std::string::npos);
  }
  SECTION("--refresh fetches everything again") {
    ok_json(run("--model acme/sharded --refresh"));
    CHECK(request_count(hub) == 14);
  }
  SECTION("offline, the cached entry answers with no request at all") {
    HubRun offline{hub, cache, "HF_HUB_OFFLINE=1"};
    const auto o = ok_json(offline("--model acme/sharded"));
    CHECK(o["model"]["weight_bytes"] == j["model"]["weight_bytes"]);
    CHECK(request_count(hub) == 7);
  }
}

TEST_CASE("a pinned commit is cached for good: zero requests the second time", "[hub][cache]") {
  FakeHub hub;
  testsupport::TempDir cache;
  HubRun run{hub, cache, ""};
  std::ifstream in(testsupport::test_data("hub/acme--sharded/_repo.json"));
  const std::string commit = json::parse(in)["refs"]["v1.0"];
  ok_json(run("--model acme/sharded --revision " + commit));
  const auto first = request_count(hub);
  CHECK(first == 7);
  ok_json(run("--model acme/sharded --revision " + commit));
  CHECK(request_count(hub) == first);
  SECTION("a tag resolves to its own commit") {
    const auto t = ok_json(run("--model acme/sharded --revision v1.0"));
    CHECK(t["model"]["source"].get<std::string>().find(commit.substr(0, 12)) != std::string::npos);
  }
}

TEST_CASE("a header longer than its first range costs one more round, for that shard only", "[hub]") {
  FakeHub hub;
  testsupport::TempDir cache;
  const auto j = ok_json(HubRun{hub, cache, ""}("--model acme/bigheader"));
  CHECK(j["model"]["weight_bytes"] == expected_bytes("acme--bigheader"));
  const auto stats = hub.stats();
  CHECK(stats["requests"].size() == 3 + 2 + 1);
  const auto& last = stats["requests"].back();
  CHECK(last["path"].get<std::string>().find("model-00002-of-00002.safetensors") != std::string::npos);
  CHECK(last["range"].get<std::string>().rfind("bytes=16384-", 0) == 0);
  CHECK(last["status"] == 206);
}

TEST_CASE("a single-file model: one speculative range covers the header", "[hub]") {
  FakeHub hub;
  testsupport::TempDir cache;
  const auto j = ok_json(HubRun{hub, cache, ""}("--model acme/single"));
  CHECK(j["model"]["weight_source"] == "safetensors_headers");
  CHECK(j["model"]["weight_bytes"] == expected_bytes("acme--single"));
  CHECK(request_count(hub) == 3);  // config, index (404), model.safetensors range: one round trip
}

TEST_CASE("gated repositories need a token, which never leaves the endpoint's host", "[hub][token]") {
  FakeHub hub;
  testsupport::TempDir cache;
  SECTION("without a token: exit 3, and the message says what to do") {
    const auto err = remote_error(HubRun{hub, cache, ""}("--model acme/gated"));
    CHECK_THAT(err, Catch::Contains("gated"));
    CHECK_THAT(err, Catch::Contains("HF_TOKEN"));
  }
  SECTION("HF_TOKEN works, and the token is printed nowhere") {
    const auto r = HubRun{hub, cache, std::string("HF_TOKEN=") + kToken}("--model acme/gated");
    CHECK(ok_json(r)["model"]["weight_bytes"] == expected_bytes("acme--gated"));
    CHECK(r.out.find(kToken) == std::string::npos);
    CHECK(r.err.find(kToken) == std::string::npos);
  }
  SECTION("--token works; a wrong token is refused without echoing it") {
    ok_json(HubRun{hub, cache, ""}(std::string("--model acme/gated --token ") + kToken));
    const auto r = HubRun{hub, cache, ""}("--model acme/gated --refresh --token hf_wrong_secret");
    CHECK_THAT(remote_error(r), Catch::Contains("access denied"));
    CHECK(r.err.find("hf_wrong_secret") == std::string::npos);
  }
  SECTION("the token file of huggingface_hub is read") {
    testsupport::write_file(cache.path() / "hf" / "token", std::string(kToken) + "\n");
    ok_json(HubRun{hub, cache, ""}("--model acme/gated"));
  }
  SECTION("a redirect to another host gets no Authorization header") {
    const auto j = ok_json(HubRun{hub, cache, std::string("HF_TOKEN=") + kToken}("--model acme/redirect"));
    CHECK(j["model"]["weight_bytes"] == expected_bytes("acme--redirect"));
    const auto stats = hub.stats();
    CHECK(stats["token_leaked"] == false);
    bool saw_cdn = false;
    for (const auto& r : stats["requests"]) {
      if (r["path"].get<std::string>().rfind("/cdn/", 0) == 0) {
        saw_cdn = true;
        CHECK(r["auth"] == false);
      }
    }
    CHECK(saw_cdn);
  }
}

TEST_CASE("transient failures are retried: 500s, then 429 with Retry-After", "[hub][retry]") {
  FakeHub hub;
  testsupport::TempDir cache;
  const auto start = std::chrono::steady_clock::now();
  const auto j = ok_json(HubRun{hub, cache, ""}("--model acme/flaky"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(j["model"]["weight_source"] == "safetensors_headers");
  int config_requests = 0;
  const auto stats = hub.stats();
  for (const auto& r : stats["requests"])
    if (r["path"].get<std::string>().find("config.json") != std::string::npos) ++config_requests;
  CHECK(config_requests == 3);  // 500, 500, 200
  CHECK(seconds >= 1.0);        // the 429's Retry-After: 1 was honoured
}

TEST_CASE("remote errors: one line, exit 3", "[hub][errors]") {
  FakeHub hub;
  testsupport::TempDir cache;
  HubRun run{hub, cache, ""};
  CHECK_THAT(remote_error(run("--model acme/does-not-exist")), Catch::Contains("repository not found"));
  CHECK_THAT(remote_error(run("--model acme/sharded --revision nope")), Catch::Contains("revision 'nope' not found"));
  CHECK_THAT(remote_error(run("--model acme/slow --timeout 1")), Catch::Contains("timed out"));
  CHECK_THAT(remote_error(run("--model acme/truncated")), Catch::Contains("cut short"));
  CHECK_THAT(remote_error(run("--model acme/ratelimited")), Catch::Contains("HTTP 429"));
  const auto malformed = remote_error(run("--model acme/malformed"));
  CHECK_THAT(malformed, Catch::Contains("config.json of acme/malformed"));
  CHECK_THAT(malformed, Catch::Contains("line 2"));
}

TEST_CASE("an oversized safetensors header length is refused from the first range, never downloaded", "[hub][errors]") {
  FakeHub hub;
  testsupport::TempDir cache;
  CHECK_THAT(remote_error(HubRun{hub, cache, ""}("--model acme/hugeheader")), Catch::Contains("1099511627776"));
  CHECK(hub.stats()["bytes_sent"].get<std::uint64_t>() <= vramcalc::kSpeculativeRangeBytes + 10'000);
}

TEST_CASE("TLS is verified: the test CA through --ca-bundle or CURL_CA_BUNDLE, nothing without it", "[hub][tls]") {
  FakeHub hub(true);
  testsupport::TempDir cache;
  REQUIRE(hub.endpoint().rfind("https://", 0) == 0);
  ok_json(HubRun{hub, cache, ""}("--model acme/single"));
  const std::string no_ca =
      "HF_ENDPOINT=" + hub.endpoint() + " HF_HUB_OFFLINE=0 CURL_CA_BUNDLE= REQUESTS_CA_BUNDLE= SSL_CERT_FILE=";
  CHECK_THAT(remote_error(run_cli("--model acme/single --sku L4", no_ca)), Catch::Contains("TLS"));
  ok_json(run_cli("--model acme/single --sku L4 --format json --ca-bundle '" + hub.ca_bundle() + "'",
                  "HF_ENDPOINT=" + hub.endpoint() + " HF_HUB_OFFLINE=0"));
}

TEST_CASE("when the hub is unreachable, a cached entry is used with a warning", "[hub][cache]") {
  testsupport::TempDir cache;
  std::string endpoint;
  std::string ca;
  {
    FakeHub hub;
    endpoint = hub.endpoint();
    ca = hub.ca_bundle();
    ok_json(HubRun{hub, cache, ""}("--model acme/single"));
  }
  const std::string env = "HF_ENDPOINT=" + endpoint + " HF_HUB_OFFLINE=0 XDG_CACHE_HOME='" +
                          (cache.path() / "xdg").string() + "' HF_HOME='" + (cache.path() / "hf").string() + "'";
  const auto r = run_cli("--model acme/single --sku L4 --format json --connect-timeout 2", env);
  const auto j = ok_json(r);
  CHECK_THAT(j["warnings"].dump(), Catch::Contains("may be stale"));
  SECTION("without a cached entry it is exit 3") {
    CHECK_THAT(remote_error(run_cli("--model acme/sharded --sku L4 --connect-timeout 2", env)),
               Catch::Contains("cannot reach"));
  }
}

TEST_CASE("offline mode uses only local sources and says what is missing", "[hub][offline]") {
  const auto r = run_cli("--model acme/never-fetched --sku L4", "HF_HUB_OFFLINE=1");
  CHECK_THAT(remote_error(r), Catch::Contains("HF_HUB_OFFLINE"));
  const auto flag = run_cli("--model acme/never-fetched --sku L4 --offline", "HF_HUB_OFFLINE=0");
  CHECK_THAT(remote_error(flag), Catch::Contains("acme/never-fetched"));
  // The bundled catalog still answers offline.
  CHECK(run_cli("--model meta-llama/Llama-3.1-8B --sku L4", "HF_HUB_OFFLINE=1").exit_code == 0);
}

TEST_CASE("the huggingface_hub cache is read before anything else", "[hub][hf-cache]") {
  testsupport::TempDir home;
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  const auto repo = home.path() / "hub" / "models--acme--local";
  testsupport::write_file(repo / "refs" / "main", commit);
  testsupport::write_file(repo / "snapshots" / commit / "config.json",
                          testsupport::load_test_config("Qwen--Qwen3-0.6B").dump());
  const auto r = run_cli("--model acme/local --sku L4 --format json", "HF_HOME='" + home.path().string() + "'");
  const auto j = ok_json(r);
  CHECK(j["model"]["num_params"] == 596049920ULL);
  CHECK_THAT(j["model"]["source"].get<std::string>(), Catch::Contains("Hugging Face cache"));
}

TEST_CASE("a revision bypasses the catalog and goes to the hub", "[hub]") {
  FakeHub hub;
  testsupport::TempDir cache;
  // The fake hub does not host Llama: reaching it (and failing) proves the catalog was skipped.
  CHECK_THAT(remote_error(HubRun{hub, cache, ""}("--model meta-llama/Llama-3.1-8B --revision main")),
             Catch::Contains("not found"));
  CHECK(request_count(hub) >= 1);
}

TEST_CASE("Mistral-format and PyTorch-only repositories", "[hub]") {
  FakeHub hub;
  testsupport::TempDir cache;
  HubRun run{hub, cache, ""};
  const auto m = ok_json(run("--model acme/mistral"));
  CHECK(m["model"]["hidden_size"] == 4096);
  CHECK(m["model"]["num_key_value_heads"] == 8);
  CHECK(m["model"]["weight_source"] == "safetensors_headers");
  CHECK(m["model"]["weight_bytes"] == expected_bytes("acme--mistral"));
  CHECK_THAT(m["warnings"].dump(), Catch::Contains("params.json"));
  const auto b = ok_json(run("--model acme/binonly"));
  CHECK(b["model"]["weight_source"] == "checkpoint_size");
}
