// huggingface_hub's conventions on local disk: where the cache and the token live (HF_HOME, HF_HUB_CACHE,
// HF_TOKEN_PATH and their defaults), which token is sent, and reading a model from a huggingface_hub cache
// (models--org--name/refs/<revision> -> snapshots/<commit>/, files symlinked into blobs/).
#include <catch2/catch.hpp>

#include <pwd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/sources/hf_cache.hpp"

using namespace vramcalc;
using nlohmann::json;
using testsupport::EnvVar;
namespace fs = std::filesystem;

namespace {

// Every variable the Hugging Face conventions read, cleared, with HOME pointing at a fresh directory: nothing
// from the machine running the tests (a real token, a real cache) can leak in. Restored on destruction.
class CleanHfEnv {
 public:
  CleanHfEnv()
      : home_("HOME", home_dir_.path().string()),
        hf_home_("HF_HOME", std::nullopt),
        xdg_("XDG_CACHE_HOME", std::nullopt),
        hub_("HF_HUB_CACHE", std::nullopt),
        legacy_hub_("HUGGINGFACE_HUB_CACHE", std::nullopt),
        token_path_("HF_TOKEN_PATH", std::nullopt),
        token_("HF_TOKEN", std::nullopt),
        legacy_token_("HUGGING_FACE_HUB_TOKEN", std::nullopt),
        implicit_("HF_HUB_DISABLE_IMPLICIT_TOKEN", std::nullopt) {}
  [[nodiscard]] fs::path home() const { return home_dir_.path(); }

 private:
  testsupport::TempDir home_dir_;
  EnvVar home_, hf_home_, xdg_, hub_, legacy_hub_, token_path_, token_, legacy_token_, implicit_;
};

std::string passwd_home() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw != nullptr && pw->pw_dir != nullptr ? std::string(pw->pw_dir) : std::string();
}

// ---- a fake huggingface_hub cache ------------------------------------------------------------------------

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kOtherCommit = "fedcba9876543210fedcba9876543210fedcba98";
const char* const kId = "acme/tiny-llama";

const json kConfig = {{"model_type", "llama"}, {"hidden_size", 64}, {"num_hidden_layers", 2}};

// An 8-byte little-endian header length, the JSON header, then the tensor data (zeros).
std::string safetensors_file(const json& header, std::size_t data_bytes) {
  const std::string text = header.dump();
  std::string out(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  return out + text + std::string(data_bytes, '\0');
}

json tensor(const std::string& dtype, const json& shape, std::uint64_t begin, std::uint64_t end) {
  return json{{"dtype", dtype}, {"shape", shape}, {"data_offsets", {begin, end}}};
}

// Shard 1: 2048 bytes of BF16 (1024 elements). Shard 2: 512 bytes of BF16 (256 elements) and 4 bytes of F32.
const std::string kShard1 = "model-00001-of-00002.safetensors";
const std::string kShard2 = "model-00002-of-00002.safetensors";
std::string shard1() {
  return safetensors_file({{"__metadata__", {{"format", "pt"}}}, {"embed.weight", tensor("BF16", {32, 32}, 0, 2048)}},
                          2048);
}
std::string shard2() {
  return safetensors_file(
      {{"lm_head.weight", tensor("BF16", {16, 16}, 0, 512)}, {"norm.scale", tensor("F32", json::array(), 512, 516)}},
      516);
}
std::string index_file(std::uint64_t total_size) {
  return json{{"metadata", {{"total_size", total_size}}},
              {"weight_map", {{"embed.weight", kShard1}, {"lm_head.weight", kShard2}, {"norm.scale", kShard2}}}}
      .dump();
}

// Builds <hub>/models--org--name/{blobs,refs,snapshots} the way huggingface_hub lays them out: each snapshot
// file is a relative symlink ../../blobs/<blob>; a file never downloaded has no blob.
class FakeHfCache {
 public:
  [[nodiscard]] const fs::path& hub() const { return dir_.path(); }
  [[nodiscard]] fs::path repo(const std::string& id = kId) const {
    std::string folder = "models";
    std::size_t start = 0;
    while (true) {
      const std::size_t slash = id.find('/', start);
      folder += "--" + id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    return hub() / folder;
  }
  [[nodiscard]] fs::path snapshot(const std::string& commit = kCommit, const std::string& id = kId) const {
    return repo(id) / "snapshots" / commit;
  }

  void ref(const std::string& revision, const std::string& commit, const std::string& id = kId) const {
    testsupport::write_file(repo(id) / "refs" / revision, commit);  // no newline, as huggingface_hub writes it
  }
  // A downloaded file: its blob, and the snapshot's link to it.
  void file(const std::string& name, const std::string& contents, const std::string& commit = kCommit,
            const std::string& id = kId) {
    const std::string blob = "blob" + std::to_string(++blobs_);
    testsupport::write_file(repo(id) / "blobs" / blob, contents);
    link(name, blob, commit, id);
  }
  // A link whose blob is absent.
  void dangling(const std::string& name, const std::string& commit = kCommit, const std::string& id = kId) {
    link(name, "missing" + std::to_string(++blobs_), commit, id);
  }

 private:
  void link(const std::string& name, const std::string& blob, const std::string& commit, const std::string& id) const {
    fs::create_directories(snapshot(commit, id));
    fs::create_symlink(fs::path("..") / ".." / "blobs" / blob, snapshot(commit, id) / name);
  }
  testsupport::TempDir dir_;
  int blobs_ = 0;
};

Error load_error(const fs::path& hub, const std::string& id, const std::string& revision) {
  try {
    (void)load_from_hf_cache(hub, id, revision);
  } catch (const Error& e) {
    return e;
  }
  FAIL("load_from_hf_cache accepted " << id << "@" << revision);
  return Error(ExitCode::Fits, "unreachable");
}

}  // namespace

// ---- where things live -------------------------------------------------------------------------------------

TEST_CASE("hf_home_dir: $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface", "[hf_cache]") {
  CleanHfEnv env;

  SECTION("nothing set: under $HOME") { CHECK(hf_home_dir() == env.home() / ".cache" / "huggingface"); }
  SECTION("XDG_CACHE_HOME set") {
    EnvVar xdg("XDG_CACHE_HOME", "/xdg/cache");
    CHECK(hf_home_dir() == fs::path("/xdg/cache/huggingface"));
  }
  SECTION("HF_HOME wins over XDG_CACHE_HOME") {
    EnvVar xdg("XDG_CACHE_HOME", "/xdg/cache");
    EnvVar hf_home("HF_HOME", "/data/hf");
    CHECK(hf_home_dir() == fs::path("/data/hf"));
  }
  SECTION("a leading ~ is the home directory") {
    EnvVar hf_home("HF_HOME", "~/hf-home");
    CHECK(hf_home_dir() == env.home() / "hf-home");
    EnvVar xdg("XDG_CACHE_HOME", "~");
    EnvVar no_hf_home("HF_HOME", std::nullopt);
    CHECK(hf_home_dir() == env.home() / "huggingface");
  }
  SECTION("empty values count as unset") {
    EnvVar hf_home("HF_HOME", "");
    EnvVar xdg("XDG_CACHE_HOME", "");
    CHECK(hf_home_dir() == env.home() / ".cache" / "huggingface");
  }
  SECTION("HOME unset: the password database's home directory") {
    const std::string pw_home = passwd_home();
    REQUIRE_FALSE(pw_home.empty());
    EnvVar no_home("HOME", std::nullopt);
    CHECK(hf_home_dir() == fs::path(pw_home) / ".cache" / "huggingface");
  }
}

TEST_CASE("hf_hub_cache_dir: $HF_HUB_CACHE, else the legacy $HUGGINGFACE_HUB_CACHE, else HF_HOME/hub", "[hf_cache]") {
  CleanHfEnv env;

  SECTION("nothing set") { CHECK(hf_hub_cache_dir() == env.home() / ".cache" / "huggingface" / "hub"); }
  SECTION("follows HF_HOME and XDG_CACHE_HOME") {
    EnvVar xdg("XDG_CACHE_HOME", "/xdg");
    CHECK(hf_hub_cache_dir() == fs::path("/xdg/huggingface/hub"));
    EnvVar hf_home("HF_HOME", "/data/hf");
    CHECK(hf_hub_cache_dir() == fs::path("/data/hf/hub"));
  }
  SECTION("HF_HUB_CACHE wins over HF_HOME and the legacy name") {
    EnvVar hf_home("HF_HOME", "/data/hf");
    EnvVar legacy("HUGGINGFACE_HUB_CACHE", "/legacy/hub");
    CHECK(hf_hub_cache_dir() == fs::path("/legacy/hub"));
    EnvVar hub("HF_HUB_CACHE", "/fast/hub");
    CHECK(hf_hub_cache_dir() == fs::path("/fast/hub"));
  }
  SECTION("a leading ~ is expanded; an empty value is unset") {
    EnvVar hub("HF_HUB_CACHE", "~/models");
    CHECK(hf_hub_cache_dir() == env.home() / "models");
    EnvVar empty("HF_HUB_CACHE", "");
    CHECK(hf_hub_cache_dir() == env.home() / ".cache" / "huggingface" / "hub");
  }
}

TEST_CASE("hf_token_path: $HF_TOKEN_PATH, else HF_HOME/token", "[hf_cache]") {
  CleanHfEnv env;

  CHECK(hf_token_path() == env.home() / ".cache" / "huggingface" / "token");
  {
    EnvVar hf_home("HF_HOME", "/data/hf");
    CHECK(hf_token_path() == fs::path("/data/hf/token"));
    EnvVar token_path("HF_TOKEN_PATH", "/secrets/hf-token");
    CHECK(hf_token_path() == fs::path("/secrets/hf-token"));
    EnvVar tilde("HF_TOKEN_PATH", "~/.hf-token");
    CHECK(hf_token_path() == env.home() / ".hf-token");
    EnvVar empty("HF_TOKEN_PATH", "");
    CHECK(hf_token_path() == fs::path("/data/hf/token"));
  }
  // The guards restored the environment: back to the default.
  CHECK(hf_token_path() == env.home() / ".cache" / "huggingface" / "token");
}

// ---- which token is sent -----------------------------------------------------------------------------------

TEST_CASE("resolve_token: --token, else $HF_TOKEN, else the token file", "[hf_cache]") {
  CleanHfEnv env;
  const fs::path token_file = env.home() / ".cache" / "huggingface" / "token";

  SECTION("nothing anywhere: no token") { CHECK_FALSE(resolve_token(std::nullopt).has_value()); }
  SECTION("the token file, trimmed of its newline and surrounding whitespace") {
    testsupport::write_file(token_file, "  hf_file\r\n");
    CHECK(resolve_token(std::nullopt) == std::optional<std::string>("hf_file"));
  }
  SECTION("the token file at HF_TOKEN_PATH") {
    testsupport::write_file(token_file, "hf_default_place");
    const fs::path other = env.home() / "elsewhere" / "tok";
    testsupport::write_file(other, "hf_elsewhere\n");
    EnvVar path("HF_TOKEN_PATH", other.string());
    CHECK(resolve_token(std::nullopt) == std::optional<std::string>("hf_elsewhere"));
  }
  SECTION("HF_TOKEN wins over the file, and is trimmed too") {
    testsupport::write_file(token_file, "hf_file");
    EnvVar token("HF_TOKEN", "hf_env\n");
    CHECK(resolve_token(std::nullopt) == std::optional<std::string>("hf_env"));
  }
  SECTION("the flag wins over HF_TOKEN and the file") {
    testsupport::write_file(token_file, "hf_file");
    EnvVar token("HF_TOKEN", "hf_env");
    CHECK(resolve_token(std::string("hf_flag")) == std::optional<std::string>("hf_flag"));
  }
  SECTION("empty values count as absent, at every level") {
    testsupport::write_file(token_file, "hf_file");
    EnvVar token("HF_TOKEN", "");
    CHECK(resolve_token(std::string("")) == std::optional<std::string>("hf_file"));
    EnvVar blank("HF_TOKEN", " \n");
    CHECK(resolve_token(std::string("\n")) == std::optional<std::string>("hf_file"));
    testsupport::write_file(token_file, "\n\n  \n");
    CHECK_FALSE(resolve_token(std::nullopt).has_value());
    testsupport::write_file(token_file, "");
    CHECK_FALSE(resolve_token(std::string("")).has_value());
  }
  SECTION("the legacy HUGGING_FACE_HUB_TOKEN comes after HF_TOKEN, before the file") {
    testsupport::write_file(token_file, "hf_file");
    EnvVar legacy("HUGGING_FACE_HUB_TOKEN", "hf_legacy");
    CHECK(resolve_token(std::nullopt) == std::optional<std::string>("hf_legacy"));
    EnvVar token("HF_TOKEN", "hf_env");
    CHECK(resolve_token(std::nullopt) == std::optional<std::string>("hf_env"));
  }
  SECTION("HF_HUB_DISABLE_IMPLICIT_TOKEN: only an explicit --token is sent") {
    testsupport::write_file(token_file, "hf_file");
    EnvVar token("HF_TOKEN", "hf_env");
    EnvVar disable("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1");
    CHECK_FALSE(resolve_token(std::nullopt).has_value());
    CHECK(resolve_token(std::string("hf_flag")) == std::optional<std::string>("hf_flag"));
    EnvVar off("HF_HUB_DISABLE_IMPLICIT_TOKEN", "0");
    CHECK(resolve_token(std::nullopt) == std::optional<std::string>("hf_env"));
  }
  SECTION("an unreadable token file is no token, not an error") {
    fs::create_directories(token_file);  // a directory where the file should be: opening it fails
    std::optional<std::string> token;
    REQUIRE_NOTHROW(token = resolve_token(std::nullopt));
    CHECK_FALSE(token.has_value());
  }
}

TEST_CASE("is_commit_hash: exactly 40 lowercase hex digits", "[hf_cache]") {
  CHECK(is_commit_hash(kCommit));
  CHECK(is_commit_hash(std::string(40, '0')));
  CHECK_FALSE(is_commit_hash("main"));
  CHECK_FALSE(is_commit_hash(""));
  CHECK_FALSE(is_commit_hash(kCommit.substr(0, 39)));
  CHECK_FALSE(is_commit_hash(kCommit + "0"));
  CHECK_FALSE(is_commit_hash("0123456789ABCDEF0123456789abcdef01234567"));  // uppercase
  CHECK_FALSE(is_commit_hash("0123456789abcdeg0123456789abcdef01234567"));  // 'g'
  CHECK_FALSE(is_commit_hash("refs/pr/1"));
}

// ---- reading a model from the cache ------------------------------------------------------------------------

TEST_CASE("load_from_hf_cache: a snapshot with only config.json downloaded", "[hf_cache]") {
  FakeHfCache cache;
  cache.ref("main", kCommit);
  cache.file("config.json", kConfig.dump());

  const auto input = load_from_hf_cache(cache.hub(), kId, "main");
  REQUIRE(input.has_value());
  CHECK(input->id == kId);
  CHECK(input->origin == "Hugging Face cache " + cache.snapshot().string());
  CHECK(input->config == kConfig);
  CHECK_FALSE(input->index_total_size.has_value());
  CHECK_FALSE(input->safetensors.has_value());
  CHECK(input->warnings.empty());
}

TEST_CASE("load_from_hf_cache: config.json and the index, shards never downloaded", "[hf_cache]") {
  FakeHfCache cache;
  cache.ref("main", kCommit);
  cache.file("config.json", kConfig.dump());
  cache.file("model.safetensors.index.json", index_file(2564));

  SECTION("no links for the shards") {}
  SECTION("dangling links for the shards") {
    cache.dangling(kShard1);
    cache.dangling(kShard2);
  }
  const auto input = load_from_hf_cache(cache.hub(), kId, "main");
  REQUIRE(input.has_value());
  CHECK(input->config == kConfig);
  CHECK(input->index_total_size == std::optional<std::uint64_t>(2564));
  CHECK_FALSE(input->safetensors.has_value());
  CHECK(input->warnings.empty());
}

TEST_CASE("load_from_hf_cache: config, index and every shard present give exact header totals", "[hf_cache]") {
  FakeHfCache cache;
  cache.ref("main", kCommit);
  cache.file("config.json", kConfig.dump());
  cache.file("model.safetensors.index.json", index_file(2564));
  cache.file(kShard1, shard1());
  cache.file(kShard2, shard2());

  const auto input = load_from_hf_cache(cache.hub(), kId, "main");
  REQUIRE(input.has_value());
  CHECK(input->index_total_size == std::optional<std::uint64_t>(2564));
  REQUIRE(input->safetensors.has_value());
  const SafetensorsSummary& s = *input->safetensors;
  CHECK(s.files == 2);
  CHECK(s.tensor_count == 3);
  CHECK(s.total_bytes == 2048 + 512 + 4);
  CHECK(s.total_elements == 1024 + 256 + 1);
  CHECK(s.bytes_by_dtype == std::map<std::string, std::uint64_t>{{"BF16", 2560}, {"F32", 4}});
  CHECK(s.elements_by_dtype == std::map<std::string, std::uint64_t>{{"BF16", 1280}, {"F32", 1}});
  CHECK(s.metadata == std::map<std::string, std::string>{{"format", "pt"}});
  CHECK(input->warnings.empty());
}

TEST_CASE("load_from_hf_cache: a single model.safetensors without an index", "[hf_cache]") {
  FakeHfCache cache;
  cache.ref("main", kCommit);
  cache.file("config.json", kConfig.dump());
  cache.file("model.safetensors", shard1());

  const auto input = load_from_hf_cache(cache.hub(), kId, "main");
  REQUIRE(input.has_value());
  CHECK_FALSE(input->index_total_size.has_value());
  REQUIRE(input->safetensors.has_value());
  CHECK(input->safetensors->total_bytes == 2048);
  CHECK(input->safetensors->tensor_count == 1);
}

TEST_CASE("load_from_hf_cache: some shards downloaded, others not, still loads with the index total", "[hf_cache]") {
  FakeHfCache cache;
  cache.ref("main", kCommit);
  cache.file("config.json", kConfig.dump());
  cache.file("model.safetensors.index.json", index_file(2564));
  cache.file(kShard1, shard1());
  cache.dangling(kShard2);

  const auto input = load_from_hf_cache(cache.hub(), kId, "main");
  REQUIRE(input.has_value());
  CHECK(input->config == kConfig);
  CHECK(input->index_total_size == std::optional<std::uint64_t>(2564));
  CHECK_FALSE(input->safetensors.has_value());  // a partial sum would understate the weights
  REQUIRE(input->warnings.size() == 1);
  CHECK_THAT(input->warnings[0], Catch::Contains(kShard2));
}

TEST_CASE("load_from_hf_cache: a shard blob that cannot be read falls back to config.json and the index",
          "[hf_cache]") {
  FakeHfCache cache;
  cache.ref("main", kCommit);
  cache.file("config.json", kConfig.dump());
  cache.file("model.safetensors.index.json", index_file(2564));
  cache.file(kShard1, shard1());
  cache.file(kShard2, std::string("\x05\x00\x00", 3));  // shorter than the 8-byte header length

  std::optional<ModelInput> input;
  REQUIRE_NOTHROW(input = load_from_hf_cache(cache.hub(), kId, "main"));
  REQUIRE(input.has_value());
  CHECK(input->config == kConfig);
  CHECK(input->index_total_size == std::optional<std::uint64_t>(2564));
  CHECK_FALSE(input->safetensors.has_value());
  CHECK(input->origin == "Hugging Face cache " + cache.snapshot().string());
  REQUIRE(input->warnings.size() == 1);
  CHECK_THAT(input->warnings[0], Catch::Contains(kShard2) && Catch::Contains("index total_size"));
}

TEST_CASE("load_from_hf_cache: a malformed config.json or index is BadInput naming the file", "[hf_cache]") {
  FakeHfCache cache;
  cache.ref("main", kCommit);
  SECTION("config.json") {
    cache.file("config.json", "{\"model_type\": ");
    const Error e = load_error(cache.hub(), kId, "main");
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(e.what(), Catch::Contains("config.json"));
  }
  SECTION("the index") {
    cache.file("config.json", kConfig.dump());
    cache.file("model.safetensors.index.json", R"({"metadata": {"total_size": -1}})");
    const Error e = load_error(cache.hub(), kId, "main");
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(e.what(), Catch::Contains("model.safetensors.index.json"));
  }
  SECTION("a ref that does not hold a commit hash") {
    cache.file("config.json", kConfig.dump());
    testsupport::write_file(cache.repo() / "refs" / "main", "not a commit");
    const Error e = load_error(cache.hub(), kId, "main");
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(e.what(), Catch::Contains((fs::path("refs") / "main").string()));
  }
}

TEST_CASE("load_from_hf_cache: nullopt when anything needed is absent", "[hf_cache]") {
  FakeHfCache cache;

  SECTION("no such repository (or no hub directory at all)") {
    CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, "main").has_value());
    CHECK_FALSE(load_from_hf_cache(cache.hub() / "does-not-exist", kId, "main").has_value());
  }
  SECTION("no ref for the revision") {
    cache.ref("main", kCommit);
    cache.file("config.json", kConfig.dump());
    CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, "v2.0").has_value());
    CHECK(load_from_hf_cache(cache.hub(), kId, "main").has_value());
  }
  SECTION("the ref names a commit with no snapshot") {
    cache.ref("main", kOtherCommit);
    cache.file("config.json", kConfig.dump());  // in kCommit's snapshot
    CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, "main").has_value());
  }
  SECTION("a snapshot without config.json") {
    cache.ref("main", kCommit);
    cache.file("model.safetensors.index.json", index_file(2564));
    CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, "main").has_value());
  }
  SECTION("config.json's blob is absent (a dangling link)") {
    cache.ref("main", kCommit);
    cache.dangling("config.json");
    CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, "main").has_value());
  }
  SECTION("a Mistral-format snapshot: params.json, no config.json") {
    cache.ref("main", kCommit);
    cache.file("params.json", R"({"dim": 4096, "n_layers": 32})");
    CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, "main").has_value());
  }
  SECTION("a commit-hash revision with no snapshot") {
    CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, kOtherCommit).has_value());
  }
}

TEST_CASE("load_from_hf_cache: a commit-hash revision reads that snapshot directly", "[hf_cache]") {
  FakeHfCache cache;
  cache.file("config.json", kConfig.dump());  // no refs/ at all
  const json other = {{"model_type", "llama"}, {"hidden_size", 128}};
  cache.file("config.json", other.dump(), kOtherCommit);
  cache.ref("main", kOtherCommit);

  const auto pinned = load_from_hf_cache(cache.hub(), kId, kCommit);
  REQUIRE(pinned.has_value());
  CHECK(pinned->config == kConfig);
  CHECK(pinned->origin == "Hugging Face cache " + cache.snapshot(kCommit).string());

  const auto main = load_from_hf_cache(cache.hub(), kId, "main");
  REQUIRE(main.has_value());
  CHECK(main->config == other);
}

TEST_CASE("load_from_hf_cache: revisions with '/' (refs/pr/1) and trailing whitespace in a ref", "[hf_cache]") {
  FakeHfCache cache;
  cache.file("config.json", kConfig.dump(), kOtherCommit);
  // huggingface_hub stores the ref of revision "refs/pr/1" at refs/refs/pr/1.
  cache.ref("refs/pr/1", kOtherCommit);
  testsupport::write_file(cache.repo() / "refs" / "main", kOtherCommit + "\n");

  const auto pr = load_from_hf_cache(cache.hub(), kId, "refs/pr/1");
  REQUIRE(pr.has_value());
  CHECK(pr->config == kConfig);
  CHECK(pr->origin == "Hugging Face cache " + cache.snapshot(kOtherCommit).string());
  CHECK(load_from_hf_cache(cache.hub(), kId, "main").has_value());
  CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, "refs/pr/2").has_value());
  CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, "refs").has_value());  // a directory, not a ref
}

TEST_CASE("load_from_hf_cache: ids without an organisation, and ids or revisions that would leave the cache",
          "[hf_cache]") {
  FakeHfCache cache;
  cache.file("config.json", kConfig.dump(), kCommit, "gpt2");
  cache.ref("main", kCommit, "gpt2");
  const auto legacy = load_from_hf_cache(cache.hub(), "gpt2", "main");
  REQUIRE(legacy.has_value());
  CHECK(legacy->id == "gpt2");

  // A real-looking snapshot reachable only through "..": never read.
  cache.file("config.json", kConfig.dump());
  cache.ref("main", kCommit);
  testsupport::write_file(cache.hub() / "refs" / "escape", kCommit);
  for (const std::string id : {"../models--acme--tiny-llama", "acme/../acme/tiny-llama", "acme/tiny-llama/x", "",
                               "/acme/tiny-llama", "acme//tiny-llama", "acme/tiny llama"}) {
    INFO(id);
    CHECK_FALSE(load_from_hf_cache(cache.hub(), id, "main").has_value());
  }
  for (const std::string revision : {"../../refs/escape", "..", "", "refs/../main", "/main", "main/"}) {
    INFO(revision);
    CHECK_FALSE(load_from_hf_cache(cache.hub(), kId, revision).has_value());
  }
  CHECK(load_from_hf_cache(cache.hub(), kId, "main").has_value());
}
