// The Hub cache reuses a commit it already holds (issue 13, section 5): mirrors and proxies often ignore
// If-None-Match and answer 200 with the whole config.json, but its X-Repo-Commit still says whether the cached
// commit is current. Then the cached index and safetensors header totals stand, and a second run costs one
// request; a changed commit is read again in full. Against the fake hub (tests/fakehub), counting its requests.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fakehub.hpp"
#include "support.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kToken = "hf_test_token_123";
constexpr const char* kMovedCommit = "0123456789abcdef0123456789abcdef01234567";

// A run of vram-calc against `hub`, online, with its caches in `cache` (shared by the runs of a test).
struct HubRun {
  const FakeHub& hub;
  const testsupport::TempDir& cache;
  std::string extra_env;

  testsupport::RunResult operator()(const std::string& model) const {
    const std::string env = "HF_ENDPOINT=" + hub.endpoint() + " HF_HUB_OFFLINE=0 XDG_CACHE_HOME='" +
                            (cache.path() / "xdg").string() + "' HF_HOME='" + (cache.path() / "hf").string() + "' " +
                            extra_env;
    return testsupport::run_cli("--model " + model + " --sku H100-80G --format json", env);
  }
};

json ok_json(const testsupport::RunResult& r) {
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::size_t request_count(const FakeHub& hub) { return hub.stats()["requests"].size(); }

std::string source_of(const json& j) { return j["model"]["source"].get<std::string>(); }

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The cache's entry files for a commit (hub/<endpoint>/<repo>/commits/<commit>.json).
std::vector<fs::path> commit_entries(const testsupport::TempDir& cache) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(cache.path() / "xdg"))
    if (e.is_regular_file() && e.path().parent_path().filename() == "commits") out.push_back(e.path());
  return out;
}

}  // namespace

TEST_CASE("hub commit reuse: a mirror ignoring If-None-Match costs one request while the commit holds",
          "[hub][cache]") {
  FakeHub hub;
  hub.ignore_if_none_match();
  testsupport::TempDir cache;
  const HubRun run{hub, cache, ""};

  const auto first = ok_json(run("acme/sharded"));
  // config.json, the index, the speculative model.safetensors range (404) and one range per shard (4).
  const std::size_t n = request_count(hub);
  CHECK(n == 7);

  const auto second = ok_json(run("acme/sharded"));
  REQUIRE(request_count(hub) == n + 1);
  const json last = hub.stats()["requests"].back();
  CHECK(last["path"] == "/acme/sharded/resolve/main/config.json");
  CHECK(last["status"] == 200);  // the whole config again: the server ignored If-None-Match
  CHECK(last["body_bytes"].get<std::uint64_t>() > 0);
  CHECK(second["model"]["weight_bytes"] == first["model"]["weight_bytes"]);
  CHECK(second["model"]["weight_source"] == "safetensors_headers");
  CHECK_THAT(source_of(second), Catch::Contains("still current"));

  SECTION("a changed X-Repo-Commit is read again in full, and that commit is then reused") {
    hub.move_ref("acme/sharded", "main", kMovedCommit);
    const auto moved = ok_json(run("acme/sharded"));
    // The revalidation's config answer is kept: the index, the 404 and the four shards follow it.
    CHECK(request_count(hub) == n + 1 + n);
    CHECK_THAT(source_of(moved), Catch::Contains(std::string(kMovedCommit).substr(0, 12)));
    CHECK_THAT(source_of(moved), !Catch::Contains("still current"));
    CHECK(moved["model"]["weight_bytes"] == first["model"]["weight_bytes"]);
    CHECK(commit_entries(cache).size() == 2);

    const auto again = ok_json(run("acme/sharded"));
    CHECK(request_count(hub) == n + 1 + n + 1);
    CHECK_THAT(source_of(again), Catch::Contains(std::string(kMovedCommit).substr(0, 12)));
  }
  SECTION("a server that honours If-None-Match again answers 304: still one request") {
    hub.ignore_if_none_match(false);
    ok_json(run("acme/sharded"));
    CHECK(request_count(hub) == n + 2);
    CHECK(hub.stats()["requests"].back()["status"] == 304);
  }
}

TEST_CASE("hub commit reuse: a single-file model, and an entry without an ETag, cost one request too", "[hub][cache]") {
  FakeHub hub;
  testsupport::TempDir cache;
  const HubRun run{hub, cache, ""};
  SECTION("single file, mirror ignoring If-None-Match") {
    hub.ignore_if_none_match();
    const auto first = ok_json(run("acme/single"));
    const std::size_t n = request_count(hub);
    CHECK(n == 3);  // config.json, the index (404), the speculative range that holds the whole header
    const auto second = ok_json(run("acme/single"));
    CHECK(request_count(hub) == n + 1);
    CHECK(second["model"]["weight_bytes"] == first["model"]["weight_bytes"]);
  }
  SECTION("a cached entry with no ETag is revalidated by its commit alone") {
    const auto first = ok_json(run("acme/sharded"));
    const std::size_t n = request_count(hub);
    const auto entries = commit_entries(cache);
    REQUIRE(entries.size() == 1);
    json entry = json::parse(read_text(entries.front()));
    REQUIRE_FALSE(entry["config_etag"].get<std::string>().empty());
    entry["config_etag"] = "";  // a mirror that sends no ETag
    std::ofstream(entries.front(), std::ios::binary | std::ios::trunc) << entry.dump();

    const auto second = ok_json(run("acme/sharded"));
    CHECK(request_count(hub) == n + 1);
    CHECK(hub.stats()["requests"].back()["status"] == 200);  // nothing to make it conditional
    CHECK(second["model"]["weight_bytes"] == first["model"]["weight_bytes"]);
    // The ETag of that answer is kept, so the next revalidation is conditional again.
    CHECK_FALSE(json::parse(read_text(entries.front()))["config_etag"].get<std::string>().empty());
  }
}

TEST_CASE("hub commit reuse: a gated model's token is sent to the hub and stays out of output and cache",
          "[hub][cache][token]") {
  FakeHub hub;
  hub.ignore_if_none_match();
  testsupport::TempDir cache;
  const HubRun run{hub, cache, std::string("HF_TOKEN=") + kToken};
  const auto first = run("acme/gated");
  ok_json(first);
  const std::size_t n = request_count(hub);
  const auto second = run("acme/gated");
  ok_json(second);
  REQUIRE(request_count(hub) == n + 1);
  CHECK(hub.stats()["requests"].back()["auth"] == true);
  CHECK_FALSE(hub.stats()["token_leaked"].get<bool>());
  for (const auto& r : {first, second}) {
    CHECK(r.out.find(kToken) == std::string::npos);
    CHECK(r.err.find(kToken) == std::string::npos);
  }
  for (const auto& e : fs::recursive_directory_iterator(cache.path()))
    if (e.is_regular_file()) CHECK(read_text(e.path()).find(kToken) == std::string::npos);
}
