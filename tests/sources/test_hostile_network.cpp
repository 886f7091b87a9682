// Issue 11, the network slice: a hostile or careless Hub, endpoint or cache must end in a clear one-line error
// or a documented fall-back, never a crash, a leak or a silent success. Against the fake hub (tests/fakehub):
// credentials in HF_ENDPOINT, a redirect from https to http, an index naming hundreds of shards, bodies over
// their limit and corrupt cache entries.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fakehub.hpp"
#include "support.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/sources/http.hpp"
#include "vramcalc/sources/result_cache.hpp"

using nlohmann::json;
using testsupport::run_cli;
namespace fs = std::filesystem;

using testsupport::remote_error;

namespace {

constexpr const char* kSecret = "secretpw";

// The environment of a run against `endpoint`, online, with its caches under `cache` (kept between runs).
std::string hub_env(const std::string& endpoint, const testsupport::TempDir& cache, const FakeHub& hub) {
  return "HF_ENDPOINT=" + endpoint + " HF_HUB_OFFLINE=0 XDG_CACHE_HOME='" + (cache.path() / "xdg").string() +
         "' HF_HOME='" + (cache.path() / "hf").string() + "' CURL_CA_BUNDLE='" + hub.ca_bundle() + "'";
}

json ok_json(const testsupport::RunResult& r) {
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every file under `dir`, concatenated (names included): where a secret must not be.
std::string everything_under(const fs::path& dir) {
  std::string all;
  if (!fs::exists(dir)) return all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    all += e.path().string() + "\n";
    if (e.is_regular_file()) all += read_text(e.path());
  }
  return all;
}

// The one commit entry vram-calc's cache holds under `xdg`.
fs::path only_commit_entry(const fs::path& xdg) {
  fs::path found;
  int count = 0;
  for (const auto& e : fs::recursive_directory_iterator(xdg)) {
    if (e.is_regular_file() && e.path().parent_path().filename() == "commits") {
      found = e.path();
      ++count;
    }
  }
  REQUIRE(count == 1);
  return found;
}

}  // namespace

TEST_CASE("resolve_location: only a scheme before any '/', '?' or '#' makes a Location absolute", "[hostile-net]") {
  using vramcalc::resolve_location;
  const std::string base = "https://hub.example/acme/m/resolve/main/model.safetensors";
  // A query that contains "://" is still a path on the same host (it was taken as absolute).
  CHECK(resolve_location(base, "/x?next=https://evil/") == "https://hub.example/x?next=https://evil/");
  CHECK(resolve_location(base, "x?next=http://evil/") == "https://hub.example/acme/m/resolve/main/x?next=http://evil/");
  CHECK(resolve_location(base, "/a#http://evil/") == "https://hub.example/a#http://evil/");
  CHECK(resolve_location(base, "1http://evil/x") == "https://hub.example/acme/m/resolve/main/1http://evil/x");
  CHECK(resolve_location(base, "ht_tp://evil/x") == "https://hub.example/acme/m/resolve/main/ht_tp://evil/x");
  // Real absolute and scheme-relative locations.
  CHECK(resolve_location(base, "https://cdn.example/f?x=1") == "https://cdn.example/f?x=1");
  CHECK(resolve_location(base, "HTTP://cdn.example/f") == "HTTP://cdn.example/f");
  CHECK(resolve_location(base, "git+ssh://cdn.example/f") == "git+ssh://cdn.example/f");
  CHECK(resolve_location(base, "//cdn.example/f") == "https://cdn.example/f");
}

TEST_CASE("split_userinfo: credentials come out of a URL, percent-decoded; nothing else changes", "[hostile-net]") {
  const auto split = vramcalc::split_userinfo("http://user:secret%40pw@127.0.0.1:8080/hf?a=b@c");
  CHECK(split.url == "http://127.0.0.1:8080/hf?a=b@c");
  REQUIRE(split.credentials);
  CHECK(split.credentials->user == "user");
  CHECK(split.credentials->password == "secret@pw");
  CHECK_FALSE(vramcalc::split_userinfo("https://huggingface.co/x@y").credentials);
  CHECK(vramcalc::split_userinfo("https://huggingface.co/x@y").url == "https://huggingface.co/x@y");
  CHECK(vramcalc::without_userinfo("ftp://u:pw@host/p") == "ftp://host/p");
  CHECK(vramcalc::without_userinfo("u:pw@host/p") == "host/p");  // no scheme: still no password shown
  CHECK(vramcalc::url_origin("/x?next=https://evil/").empty());
}

TEST_CASE("credentials in HF_ENDPOINT are sent to the endpoint only and shown or stored nowhere", "[hostile-net]") {
  FakeHub hub;
  testsupport::TempDir cache;
  const std::string endpoint = "http://user:" + std::string(kSecret) + "@127.0.0.1:" + std::to_string(hub.port());
  const std::string env = hub_env(endpoint, cache, hub);
  std::string seen;  // every stdout and stderr of the runs
  const auto run = [&](const std::string& args) {
    auto r = run_cli(args, env);
    seen += r.out + r.err;
    return r;
  };

  const auto table = run("--model acme/single --sku H100-80G");
  INFO(table.err);
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("127.0.0.1:" + std::to_string(hub.port())));
  const auto j = ok_json(run("--model acme/single --sku H100-80G --format json"));
  CHECK(j["model"]["source"].get<std::string>().find("http://127.0.0.1:") != std::string::npos);
  CHECK_THAT(remote_error(run("--model acme/does-not-exist --sku L4")), Catch::Contains("not found"));
  // The gated error names the repository's page on the endpoint.
  CHECK_THAT(remote_error(run("--model acme/gated --sku L4")), Catch::Contains("/acme/gated"));
  CHECK_THAT(remote_error(run("--model acme/single --sku L4 --revision nope")), Catch::Contains("nope"));
  // Offline, from the cache entry the first run wrote.
  CHECK(run_cli("--model acme/single --sku L4 --offline", env).exit_code == 0);

  CHECK(seen.find(kSecret) == std::string::npos);
  CHECK(everything_under(cache.path()).find(kSecret) == std::string::npos);
  // Still sent, as HTTP Basic auth, to the endpoint (a mirror behind a password keeps working).
  bool all_authenticated = true;
  const nlohmann::json stats = hub.stats();  // not a temporary: the loop outlives the full expression
  for (const auto& r : stats["requests"]) all_authenticated = all_authenticated && r["auth"] == true;
  CHECK(all_authenticated);
}

TEST_CASE("an entry cached with credentials in its endpoint does not show them", "[hostile-net]") {
  testsupport::TempDir cache;
  const std::string endpoint = "http://127.0.0.1:9";  // nothing listens: this run must not need the network
  vramcalc::CachedModel m;
  m.endpoint = "http://user:" + std::string(kSecret) + "@127.0.0.1:9";  // as written before the fix
  m.id = "acme/single";
  m.revision = "main";
  m.commit = "0123456789abcdef0123456789abcdef01234567";
  m.config_file = "config.json";
  m.config = json::parse(read_text(FakeHub::repos_dir() / "acme--single" / "config.json"));
  REQUIRE(vramcalc::ResultCache(cache.path() / "xdg" / "vram-calc").store(m));
  const auto r = run_cli("--model acme/single --sku L4 --offline --format json",
                         "HF_ENDPOINT=" + endpoint + " XDG_CACHE_HOME='" + (cache.path() / "xdg").string() + "'");
  CHECK_THAT(ok_json(r)["model"]["source"].get<std::string>(), Catch::Contains("vram-calc cache"));
  CHECK(r.out.find(kSecret) == std::string::npos);
  CHECK(r.err.find(kSecret) == std::string::npos);
}

TEST_CASE("a redirect from https to http is refused: exit 3, saying why", "[hostile-net]") {
  FakeHub hub(true);
  testsupport::TempDir cache;
  const auto err = remote_error(run_cli("--model acme/downgrade --sku L4", hub_env(hub.endpoint(), cache, hub)));
  CHECK_THAT(err, Catch::Contains("TLS downgrade"));
  CHECK_THAT(err, Catch::Contains("to http://localhost:" + std::to_string(hub.port()) + "/cdn/"));
  CHECK_THAT(err, Catch::Contains("from https://127.0.0.1:"));

  SECTION("the client itself reports it as Insecure, without following") {
    vramcalc::HttpOptions options;
    options.ca_bundle = hub.ca_bundle();
    vramcalc::HttpClient client(options);
    vramcalc::HttpRequest request;
    request.url = hub.endpoint() + "/acme/downgrade/resolve/main/model.safetensors";
    const auto responses = client.fetch({request});
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].failure == vramcalc::HttpResponse::Failure::Insecure);
    CHECK(responses[0].status == 0);
    CHECK(client.requests_sent() == 1);
  }
}

TEST_CASE("an index naming 512 shards is fetched over a capped number of connections", "[hostile-net]") {
  FakeHub hub;
  testsupport::TempDir cache;
  const auto r = run_cli("--model acme/512shards --sku H100-80G --format json", hub_env(hub.endpoint(), cache, hub));
  const auto j = ok_json(r);
  CHECK(j["model"]["weight_bytes"] == 512 * 64 * 64 * 2);
  const auto stats = hub.stats();
  CHECK(stats["requests"].size() >= 512);
  // Before the cap, libcurl opened a connection per shard (hundreds here, thousands on real indexes).
  CHECK(stats["max_connections"].get<long>() <= vramcalc::limits::kMaxConnectionsPerHost);
  CHECK(stats["max_connections"].get<long>() >= 2);  // still in parallel
}

TEST_CASE("config.json and params.json over their limit are refused, naming it", "[hostile-net]") {
  FakeHub hub;
  testsupport::TempDir cache;
  const std::string env = hub_env(hub.endpoint(), cache, hub);
  const std::string limit = std::to_string(vramcalc::limits::kMaxConfigBytes >> 20) + " MiB limit";
  const auto config = remote_error(run_cli("--model acme/bigconfig --sku L4", env));
  CHECK_THAT(config, Catch::Contains("config.json of acme/bigconfig"));
  CHECK_THAT(config, Catch::Contains(limit));
  const auto params = remote_error(run_cli("--model acme/bigparams --sku L4", env));
  CHECK_THAT(params, Catch::Contains("params.json of acme/bigparams"));
  CHECK_THAT(params, Catch::Contains(limit));
}

TEST_CASE("a corrupt or oversized cache entry is ignored with a warning, never fatal", "[hostile-net]") {
  FakeHub hub;
  testsupport::TempDir cache;
  const std::string env = hub_env(hub.endpoint(), cache, hub);
  ok_json(run_cli("--model acme/single --sku L4 --format json", env));
  const fs::path entry = only_commit_entry(cache.path() / "xdg");

  SECTION("100,000 '[' (or garbage): a miss offline, refetched online") {
    testsupport::write_file(entry, GENERATE(std::string(100'000, '['), std::string("\x00\xff{garbage", 10)));
    const auto offline = remote_error(run_cli("--model acme/single --sku L4 --offline", env));
    CHECK_THAT(offline, Catch::Contains("--offline"));
    CHECK_THAT(offline, Catch::Contains("unusable"));
    const auto j = ok_json(run_cli("--model acme/single --sku L4 --format json", env));
    CHECK_THAT(j["warnings"].dump(), Catch::Contains("unusable vram-calc cache entry"));
    CHECK_NOTHROW(json::parse(read_text(entry)));  // replaced by the refetch
    CHECK(run_cli("--model acme/single --sku L4 --offline", env).exit_code == 0);
  }
  SECTION("a well-formed entry over the cache entry limit is not read") {
    json j = json::parse(read_text(entry));
    j["config"]["padding"] = std::string(vramcalc::limits::kMaxCacheEntryBytes, 'x');
    testsupport::write_file(entry, j.dump());
    const auto offline = remote_error(run_cli("--model acme/single --sku L4 --offline", env));
    CHECK_THAT(offline, Catch::Contains(std::to_string(vramcalc::limits::kMaxCacheEntryBytes >> 20) + " MiB limit"));
  }
}

TEST_CASE("ResultCache::find says why an entry that is there was not used", "[hostile-net]") {
  testsupport::TempDir dir;
  const vramcalc::ResultCache cache(dir.path());
  vramcalc::CachedModel m;
  m.endpoint = "https://huggingface.co";
  m.id = "acme/x";
  m.revision = "main";
  m.commit = "0123456789abcdef0123456789abcdef01234567";
  m.config_file = "config.json";
  m.config = json{{"model_type", "llama"}};
  std::string unusable = "stale";
  CHECK_FALSE(cache.find(m.endpoint, m.id, "main", &unusable));
  CHECK(unusable.empty());  // simply absent
  REQUIRE(cache.store(m));
  CHECK(cache.find(m.endpoint, m.id, "main", &unusable));
  CHECK(unusable.empty());
  const fs::path entry = dir.path() / "hub" / "https_huggingface.co" / "acme--x" / "commits" / (m.commit + ".json");
  REQUIRE(fs::exists(entry));
  testsupport::write_file(entry, std::string(100'000, '['));
  CHECK_FALSE(cache.find(m.endpoint, m.id, "main", &unusable));
  CHECK_THAT(unusable, Catch::Contains(entry.string()));
  CHECK_FALSE(cache.find_commit(m.endpoint, m.id, m.commit, &unusable));
  CHECK_THAT(unusable, Catch::Contains("malformed JSON"));
  CHECK(unusable.find('\n') == std::string::npos);
}
