// vram-calc's own cache of hub metadata: configs, index totals and safetensors header summaries (never the
// per-tensor list), keyed by endpoint, repository and commit, with branch/tag refs pointing at commits.
// Writes are atomic; anything unreadable is a miss, never an error; hostile names never leave the cache dir.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/sources/result_cache.hpp"

using namespace vramcalc;
using nlohmann::json;
using testsupport::EnvVar;
namespace fs = std::filesystem;

namespace {

const std::string kHub = "https://huggingface.co";
const std::string kMirror = "http://127.0.0.1:8080";
const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kOtherCommit = "fedcba9876543210fedcba9876543210fedcba98";

// An entry with every field set.
CachedModel full_entry() {
  CachedModel m;
  m.endpoint = kHub;
  m.id = "acme/tiny-llama";
  m.revision = "main";
  m.commit = kCommit;
  m.config_etag = "\"abc123\"";
  m.config_file = "config.json";
  m.config = {{"model_type", "llama"},
              {"hidden_size", 64},
              {"rms_norm_eps", 1e-5},
              {"rope_scaling", nullptr},
              {"max_position", std::numeric_limits<double>::infinity()},  // configs may hold Infinity
              {"architectures", {"LlamaForCausalLM"}},
              {"nested", {{"a", {1, 2, 3}}, {"b", "text"}}}};
  m.index_total_size = 2564;
  m.other_total_size = 9999;
  m.other_total_source = "pytorch_model.bin.index.json";
  SafetensorsSummary s;
  s.bytes_by_dtype = {{"BF16", 2560}, {"F32", 4}};
  s.elements_by_dtype = {{"BF16", 1280}, {"F32", 1}};
  s.total_bytes = 2564;
  s.total_elements = 1281;
  s.tensor_count = 2;
  s.files = 2;
  s.metadata = {{"format", "pt"}};
  m.safetensors = s;
  m.fetched_at = 1'700'000'000;
  return m;
}

// Every field, compared one by one (CachedModel has no operator==).
void check_same_entry(const CachedModel& got, const CachedModel& want) {
  CHECK(got.endpoint == want.endpoint);
  CHECK(got.id == want.id);
  CHECK(got.revision == want.revision);
  CHECK(got.commit == want.commit);
  CHECK(got.config_etag == want.config_etag);
  CHECK(got.config_file == want.config_file);
  CHECK(got.config == want.config);
  CHECK(got.index_total_size == want.index_total_size);
  CHECK(got.other_total_size == want.other_total_size);
  CHECK(got.other_total_source == want.other_total_source);
  CHECK(got.fetched_at == want.fetched_at);
  REQUIRE(got.safetensors.has_value() == want.safetensors.has_value());
  if (!want.safetensors) return;
  const SafetensorsSummary& g = *got.safetensors;
  const SafetensorsSummary& w = *want.safetensors;
  CHECK(g.bytes_by_dtype == w.bytes_by_dtype);
  CHECK(g.elements_by_dtype == w.elements_by_dtype);
  CHECK(g.total_bytes == w.total_bytes);
  CHECK(g.total_elements == w.total_elements);
  CHECK(g.tensor_count == w.tensor_count);
  CHECK(g.files == w.files);
  CHECK(g.metadata == w.metadata);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every regular file under `dir`, relative to it, sorted.
std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

fs::path repo_dir(const fs::path& cache, const std::string& key = "https_huggingface.co") {
  return cache / "hub" / key / "acme--tiny-llama";
}

}  // namespace

// ---- the JSON form -----------------------------------------------------------------------------------------

TEST_CASE("cached_model_to_json: schema_version 1, safetensors as totals without the per-tensor list",
          "[result_cache]") {
  const json j = cached_model_to_json(full_entry());
  CHECK(j.at("schema_version") == 1);
  CHECK(j.at("endpoint") == kHub);
  CHECK(j.at("id") == "acme/tiny-llama");
  CHECK(j.at("commit") == kCommit);
  CHECK(j.at("config").at("hidden_size") == 64);
  CHECK(j.at("index_total_size") == 2564);
  const json& s = j.at("safetensors");
  CHECK_FALSE(s.contains("tensors"));
  CHECK(s.at("tensor_count") == 2);
  CHECK(s.at("files") == 2);
  CHECK(s.at("total_bytes") == 2564);
  CHECK(s.at("total_elements") == 1281);
  CHECK(s.at("bytes_by_dtype") == json{{"BF16", 2560}, {"F32", 4}});
  CHECK(s.at("elements_by_dtype") == json{{"BF16", 1280}, {"F32", 1}});
  CHECK(s.at("metadata") == json{{"format", "pt"}});
}

TEST_CASE("cached_model_from_json: reads back every field of cached_model_to_json", "[result_cache]") {
  SECTION("a full entry") {
    check_same_entry(cached_model_from_json(cached_model_to_json(full_entry())), full_entry());
  }
  SECTION("an entry without optional sizes or safetensors") {
    CachedModel m = full_entry();
    m.index_total_size.reset();
    m.other_total_size.reset();
    m.other_total_source.clear();
    m.safetensors.reset();
    m.config_file = "params.json";
    const CachedModel back = cached_model_from_json(cached_model_to_json(m));
    check_same_entry(back, m);
    CHECK_FALSE(back.index_total_size.has_value());
    CHECK_FALSE(back.safetensors.has_value());
  }
}

TEST_CASE("cached_model_from_json: anything of the wrong shape is BadInput", "[result_cache]") {
  const json good = cached_model_to_json(full_entry());
  REQUIRE_NOTHROW(cached_model_from_json(good));

  auto rejects = [](const json& j) {
    try {
      (void)cached_model_from_json(j);
    } catch (const Error& e) {
      return e.code() == ExitCode::BadInput;
    }
    return false;
  };
  json j = good;
  SECTION("not an object") { j = json::array(); }
  SECTION("another schema_version") { j["schema_version"] = 2; }
  SECTION("no schema_version") { j.erase("schema_version"); }
  SECTION("a missing string field") { j.erase("commit"); }
  SECTION("a field of the wrong type") { j["id"] = 42; }
  SECTION("config not an object") { j["config"] = "llama"; }
  SECTION("a negative size") { j["index_total_size"] = -1; }
  SECTION("a fractional fetched_at") { j["fetched_at"] = 1.5; }
  SECTION("safetensors missing tensor_count") { j["safetensors"].erase("tensor_count"); }
  SECTION("safetensors per-dtype bytes not integers") { j["safetensors"]["bytes_by_dtype"]["BF16"] = "2560"; }
  SECTION("safetensors metadata not strings") { j["safetensors"]["metadata"]["format"] = 1; }
  CHECK(rejects(j));
}

// ---- where it lives ----------------------------------------------------------------------------------------

TEST_CASE("ResultCache::default_dir: $XDG_CACHE_HOME/vram-calc, else ~/.cache/vram-calc", "[result_cache]") {
  testsupport::TempDir home;
  EnvVar home_env("HOME", home.path().string());
  EnvVar xdg("XDG_CACHE_HOME", std::nullopt);
  CHECK(ResultCache::default_dir() == home.path() / ".cache" / "vram-calc");
  {
    EnvVar set("XDG_CACHE_HOME", "/var/cache/me");
    CHECK(ResultCache::default_dir() == fs::path("/var/cache/me/vram-calc"));
  }
  {
    EnvVar empty("XDG_CACHE_HOME", "");
    CHECK(ResultCache::default_dir() == home.path() / ".cache" / "vram-calc");
  }
  {
    EnvVar tilde("XDG_CACHE_HOME", "~/c");
    CHECK(ResultCache::default_dir() == home.path() / "c" / "vram-calc");
  }
  {
    EnvVar relative("XDG_CACHE_HOME", "relative/cache");  // invalid per the XDG spec: ignored
    CHECK(ResultCache::default_dir() == home.path() / ".cache" / "vram-calc");
  }
}

TEST_CASE("ResultCache: the on-disk layout, by endpoint, repository, commit and encoded revision", "[result_cache]") {
  testsupport::TempDir dir;
  const ResultCache cache(dir.path());
  CHECK(cache.dir() == dir.path());

  CachedModel m = full_entry();
  REQUIRE(cache.store(m));
  m.endpoint = kMirror;
  m.revision = "refs/pr/1";
  REQUIRE(cache.store(m));

  CHECK(files_under(dir.path()) ==
        std::vector<std::string>{"hub/http_127.0.0.1_8080/acme--tiny-llama/commits/" + kCommit + ".json",
                                 "hub/http_127.0.0.1_8080/acme--tiny-llama/refs/refs%2Fpr%2F1",
                                 "hub/https_huggingface.co/acme--tiny-llama/commits/" + kCommit + ".json",
                                 "hub/https_huggingface.co/acme--tiny-llama/refs/main"});
  const json ref = json::parse(read_text(repo_dir(dir.path()) / "refs" / "main"));
  CHECK(ref == json{{"commit", kCommit}, {"fetched_at", 1'700'000'000}});
  const std::string text = read_text(repo_dir(dir.path()) / "commits" / (kCommit + ".json"));
  const json entry = parse_json_relaxed(text, "entry");
  CHECK(entry.at("schema_version") == 1);
  CHECK_FALSE(entry.at("safetensors").contains("tensors"));
  // An infinite float in the config is written as Infinity (JSON has no spelling for it), not as null.
  CHECK_THAT(text, Catch::Contains("\"max_position\":Infinity"));
  CHECK(std::isinf(entry.at("config").at("max_position").get<double>()));
}

// ---- store and find ----------------------------------------------------------------------------------------

TEST_CASE("ResultCache: store then find by branch (through the ref) and by commit", "[result_cache]") {
  testsupport::TempDir dir;
  const ResultCache cache(dir.path());
  const CachedModel m = full_entry();
  REQUIRE(cache.store(m));

  SECTION("by the revision it was stored under") {
    const auto found = cache.find(kHub, m.id, "main");
    REQUIRE(found.has_value());
    check_same_entry(*found, m);
  }
  SECTION("by its commit hash, as find() and find_commit()") {
    const auto by_hash = cache.find(kHub, m.id, kCommit);
    REQUIRE(by_hash.has_value());
    CachedModel want = m;
    want.revision = kCommit;  // find() answers for the revision asked
    check_same_entry(*by_hash, want);
    const auto by_commit = cache.find_commit(kHub, m.id, kCommit);
    REQUIRE(by_commit.has_value());
    check_same_entry(*by_commit, m);
  }
  SECTION("a revision, commit or repository never stored is a miss") {
    CHECK_FALSE(cache.find(kHub, m.id, "v1.0").has_value());
    CHECK_FALSE(cache.find(kHub, m.id, kOtherCommit).has_value());
    CHECK_FALSE(cache.find_commit(kHub, m.id, kOtherCommit).has_value());
    CHECK_FALSE(cache.find(kHub, "acme/other", "main").has_value());
  }
  SECTION("the endpoint matches up to spelling: case, default port, trailing slash") {
    CHECK(cache.find("https://huggingface.co/", m.id, "main").has_value());
    CHECK(cache.find("HTTPS://HuggingFace.co:443", m.id, "main").has_value());
    CHECK_FALSE(cache.find("https://huggingface.co:8443", m.id, "main").has_value());
  }
  SECTION("an empty cache directory that does not exist yet is just a miss") {
    const ResultCache empty(dir.path() / "nowhere");
    CHECK_FALSE(empty.find(kHub, m.id, "main").has_value());
  }
}

TEST_CASE("ResultCache: a branch moves to a new commit; both commits stay; freshness is the ref's", "[result_cache]") {
  testsupport::TempDir dir;
  const ResultCache cache(dir.path());
  CachedModel old_main = full_entry();
  REQUIRE(cache.store(old_main));

  CachedModel tag = full_entry();  // a tag on the same commit, resolved later: rewrites the shared commit entry
  tag.revision = "v1.0";
  tag.fetched_at = 1'800'000'000;
  REQUIRE(cache.store(tag));
  const auto main_again = cache.find(kHub, old_main.id, "main");
  REQUIRE(main_again.has_value());
  CHECK(main_again->revision == "main");
  CHECK(main_again->fetched_at == 1'700'000'000);  // when main was last resolved, not when the tag was

  CachedModel new_main = full_entry();
  new_main.commit = kOtherCommit;
  new_main.config["hidden_size"] = 128;
  new_main.fetched_at = 1'900'000'000;
  REQUIRE(cache.store(new_main));

  const auto main = cache.find(kHub, new_main.id, "main");
  REQUIRE(main.has_value());
  CHECK(main->commit == kOtherCommit);
  CHECK(main->config.at("hidden_size") == 128);
  const auto pinned = cache.find(kHub, new_main.id, kCommit);
  REQUIRE(pinned.has_value());
  CHECK(pinned->config.at("hidden_size") == 64);
  const auto v1 = cache.find(kHub, new_main.id, "v1.0");
  REQUIRE(v1.has_value());
  CHECK(v1->commit == kCommit);
}

TEST_CASE("ResultCache: endpoints are isolated from each other", "[result_cache]") {
  testsupport::TempDir dir;
  const ResultCache cache(dir.path());
  CachedModel hub = full_entry();
  CachedModel mirror = full_entry();
  mirror.endpoint = kMirror;
  mirror.config["hidden_size"] = 4096;
  REQUIRE(cache.store(hub));
  REQUIRE(cache.store(mirror));

  const auto from_hub = cache.find(kHub, hub.id, "main");
  const auto from_mirror = cache.find(kMirror, hub.id, "main");
  REQUIRE(from_hub.has_value());
  REQUIRE(from_mirror.has_value());
  CHECK(from_hub->config.at("hidden_size") == 64);
  CHECK(from_hub->endpoint == kHub);
  CHECK(from_mirror->config.at("hidden_size") == 4096);
  CHECK(from_mirror->endpoint == kMirror);
  CHECK_FALSE(cache.find("http://127.0.0.1:8081", hub.id, "main").has_value());
  CHECK_FALSE(cache.find("https://hf-mirror.com", hub.id, kCommit).has_value());
}

TEST_CASE("ResultCache: an entry that does not match what was asked is a miss", "[result_cache]") {
  testsupport::TempDir dir;
  const ResultCache cache(dir.path());
  CachedModel m = full_entry();
  REQUIRE(cache.store(m));
  const fs::path entry = repo_dir(dir.path()) / "commits" / (kCommit + ".json");

  json j = cached_model_to_json(m);
  SECTION("another endpoint's entry") { j["endpoint"] = kMirror; }
  SECTION("another repository's entry") { j["id"] = "acme/other"; }
  SECTION("another commit's entry") { j["commit"] = kOtherCommit; }
  testsupport::write_file(entry, j.dump());
  CHECK_FALSE(cache.find(kHub, m.id, "main").has_value());
  CHECK_FALSE(cache.find(kHub, m.id, kCommit).has_value());
}

TEST_CASE("ResultCache: corrupt files are misses, never errors", "[result_cache]") {
  testsupport::TempDir dir;
  const ResultCache cache(dir.path());
  const CachedModel m = full_entry();
  REQUIRE(cache.store(m));
  REQUIRE(cache.find(kHub, m.id, "main").has_value());
  const fs::path entry = repo_dir(dir.path()) / "commits" / (kCommit + ".json");
  const fs::path ref = repo_dir(dir.path()) / "refs" / "main";

  SECTION("a truncated entry") {
    const std::string text = read_text(entry);
    testsupport::write_file(entry, text.substr(0, text.size() / 2));
  }
  SECTION("an empty entry") { testsupport::write_file(entry, ""); }
  SECTION("an entry of another schema version") {
    json j = cached_model_to_json(m);
    j["schema_version"] = 99;
    testsupport::write_file(entry, j.dump());
  }
  SECTION("binary garbage") { testsupport::write_file(entry, std::string("\x00\xff\xfe{", 4)); }
  SECTION("a directory where the entry should be") {
    fs::remove(entry);
    fs::create_directories(entry);
  }
  SECTION("a ref that is not JSON") { testsupport::write_file(ref, kCommit); }
  SECTION("a ref without fetched_at") { testsupport::write_file(ref, json{{"commit", kCommit}}.dump()); }
  SECTION("a ref to a commit with no entry") {
    testsupport::write_file(ref, json{{"commit", kOtherCommit}, {"fetched_at", 1}}.dump());
  }
  SECTION("a ref to a commit that is a path") {
    testsupport::write_file(ref, json{{"commit", "../commits/" + kCommit}, {"fetched_at", 1}}.dump());
  }
  std::optional<CachedModel> found;
  REQUIRE_NOTHROW(found = cache.find(kHub, m.id, "main"));
  CHECK_FALSE(found.has_value());
}

TEST_CASE("ResultCache: store() replaces files atomically and leaves no temporary files", "[result_cache]") {
  testsupport::TempDir dir;
  const ResultCache cache(dir.path());
  CachedModel m = full_entry();
  for (int i = 0; i < 20; ++i) {
    m.fetched_at = 1'700'000'000 + i;
    m.revision = i % 2 == 0 ? "main" : "refs/pr/1";
    REQUIRE(cache.store(m));
  }
  CHECK(files_under(dir.path()) ==
        std::vector<std::string>{"hub/https_huggingface.co/acme--tiny-llama/commits/" + kCommit + ".json",
                                 "hub/https_huggingface.co/acme--tiny-llama/refs/main",
                                 "hub/https_huggingface.co/acme--tiny-llama/refs/refs%2Fpr%2F1"});
  const auto main = cache.find(kHub, m.id, "main");
  const auto pr = cache.find(kHub, m.id, "refs/pr/1");
  REQUIRE(main.has_value());
  REQUIRE(pr.has_value());
  CHECK(main->fetched_at == 1'700'000'018);
  CHECK(pr->fetched_at == 1'700'000'019);
}

TEST_CASE("ResultCache: store() reports I/O failures as false instead of throwing", "[result_cache]") {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "file", "not a directory");
  const ResultCache cache(dir.path() / "file" / "cache");  // its parent is a regular file
  bool stored = true;
  REQUIRE_NOTHROW(stored = cache.store(full_entry()));
  CHECK_FALSE(stored);
  CHECK_FALSE(cache.find(kHub, "acme/tiny-llama", "main").has_value());

  SECTION("a rename that fails removes its temporary file") {
    const ResultCache ok(dir.path() / "cache");
    const fs::path entry = repo_dir(ok.dir()) / "commits" / (kCommit + ".json");
    testsupport::write_file(entry / "occupied", "");  // a non-empty directory where the entry goes
    REQUIRE_NOTHROW(stored = ok.store(full_entry()));
    CHECK_FALSE(stored);
    CHECK(files_under(ok.dir()) ==
          std::vector<std::string>{"hub/https_huggingface.co/acme--tiny-llama/commits/" + kCommit + ".json/occupied"});
  }
}

TEST_CASE("ResultCache: hostile ids and commits are refused and never leave the cache directory", "[result_cache]") {
  testsupport::TempDir root;
  const fs::path dir = root.path() / "cache";
  const ResultCache cache(dir);

  for (const std::string& id :
       std::vector<std::string>{"../../etc", "../etc/passwd", "acme/../../x", "acme/..", "./acme", "..", ".", "",
                                "/etc/passwd", "acme/tiny/llama", "acme//x", "acme/", "/acme", "acme/na me",
                                "acme/x\\y", "acme--x/y", "acme/x..y", std::string("acme/x\0y", 8)}) {
    INFO("id: " << id);
    CachedModel m = full_entry();
    m.id = id;
    CHECK_FALSE(cache.store(m));
    CHECK_FALSE(cache.find(kHub, id, "main").has_value());
    CHECK_FALSE(cache.find(kHub, id, kCommit).has_value());
    CHECK_FALSE(cache.find_commit(kHub, id, kCommit).has_value());
  }
  for (const std::string& commit :
       std::vector<std::string>{"../../../../x", "..", ".hidden", "", "a/b", std::string(300, 'a')}) {
    INFO("commit: " << commit);
    CachedModel m = full_entry();
    m.commit = commit;
    CHECK_FALSE(cache.store(m));
    CHECK_FALSE(cache.find_commit(kHub, m.id, commit).has_value());
  }
  CachedModel empty_endpoint = full_entry();
  empty_endpoint.endpoint.clear();
  CHECK_FALSE(cache.store(empty_endpoint));
  // Nothing was written anywhere, inside or outside the cache directory.
  CHECK(files_under(root.path()).empty());

  SECTION("hostile revisions and endpoints are encoded into single file names") {
    CachedModel m = full_entry();
    m.revision = "../../../../escaped";
    m.endpoint = "https://evil/../../../x";
    REQUIRE(cache.store(m));
    const auto found = cache.find(m.endpoint, m.id, m.revision);
    REQUIRE(found.has_value());
    CHECK(found->revision == m.revision);
    for (const auto& file : files_under(root.path())) {
      INFO(file);
      CHECK(file.rfind("cache/hub/https_evil_%2F..%2F..%2F..%2Fx/acme--tiny-llama/", 0) == 0);
    }
    CHECK(fs::exists(dir / "hub" / "https_evil_%2F..%2F..%2F..%2Fx" / "acme--tiny-llama" / "refs" /
                     "%2E.%2F..%2F..%2F..%2Fescaped"));
  }
  SECTION("ids the Hub allows are accepted, including a legacy id without an organisation") {
    for (const std::string id : {"gpt2", "Org_1/Model-v2.5", "a/b"}) {
      INFO(id);
      CachedModel m = full_entry();
      m.id = id;
      CHECK(cache.store(m));
      CHECK(cache.find(kHub, id, "main").has_value());
    }
  }
}

TEST_CASE("ResultCache: concurrent stores of the same entry leave a valid, complete file", "[result_cache]") {
  testsupport::TempDir dir;
  const ResultCache cache(dir.path());
  const CachedModel m = full_entry();

  constexpr int kThreads = 8;
  constexpr int kIterations = 50;  // 400 stores in all, racing on the same entry and ref
  std::atomic<int> failed_stores{0};
  std::atomic<int> bad_reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIterations; ++i) {
        if (!cache.store(m)) ++failed_stores;
        // A reader racing the writers sees a whole entry or (before the first rename) none, never a torn one.
        const auto found = cache.find(kHub, m.id, "main");
        if (found && (found->commit != kCommit || found->config != m.config)) ++bad_reads;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK(failed_stores == 0);
  CHECK(bad_reads == 0);
  const auto found = cache.find(kHub, m.id, "main");
  REQUIRE(found.has_value());
  check_same_entry(*found, m);
  const fs::path entry = repo_dir(dir.path()) / "commits" / (kCommit + ".json");
  const CachedModel on_disk = cached_model_from_json(parse_json_relaxed(read_text(entry), entry.string()));
  check_same_entry(on_disk, m);
  CHECK(files_under(dir.path()).size() == 2);  // the entry and the ref: no temporary files left behind
}
