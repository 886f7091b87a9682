// The bundled model catalog (data/models.json, written by scripts/gen_catalog.py): one entry per reference
// config, current Hugging Face ids with the old ones as aliases, case-insensitive lookup, "did you mean"
// suggestions, and where the data files are found.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/text.hpp"
#include "vramcalc/sources/catalog.hpp"

using namespace vramcalc;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The catalog's reference configs: the directories tests/data/configs/INDEX.json lists. (The others there are the
// configs of the v0.20+ calibration logs, SOURCES-2026-12.md, not yet in the catalog.)
std::vector<std::string> config_dirs() {
  std::vector<std::string> dirs;
  std::ifstream index(testsupport::test_data("configs/INDEX.json"));
  for (const auto& e : nlohmann::json::parse(index)) dirs.push_back(e["dir"].get<std::string>());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// "meta-llama--Llama-2-7b-hf" -> "meta-llama/Llama-2-7b-hf"
std::string dir_to_id(const std::string& dir) {
  const auto pos = dir.find("--");
  return dir.substr(0, pos) + "/" + dir.substr(pos + 2);
}

// The loader's error for a catalog file with the given contents.
std::optional<Error> load_error(const std::string& contents) {
  testsupport::TempDir dir;
  const auto file = dir.path() / "models.json";
  testsupport::write_file(file, contents);
  try {
    (void)ModelCatalog::load(file);
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

// Sets (or unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("catalog: one entry per reference config, holding that config verbatim", "[catalog]") {
  const auto dirs = config_dirs();
  REQUIRE(dirs.size() == 68);  // INDEX.json lists 68 model directories of tests/data/configs
  CHECK(testsupport::bundled_models().models().size() == dirs.size());
  for (const auto& dir : dirs) {
    INFO(dir);
    const CatalogModel* m = testsupport::bundled_models().find(dir_to_id(dir));
    REQUIRE(m != nullptr);
    CHECK(m->config == testsupport::load_test_config(dir));
  }
}

TEST_CASE("catalog: ids are unique (ignoring case), sorted, and never shadowed by an alias", "[catalog]") {
  std::set<std::string> seen;
  std::string previous;
  for (const auto& m : testsupport::bundled_models().models()) {
    INFO(m.id);
    std::string lower = m.id;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    CHECK(lower >= previous);
    previous = lower;
    CHECK(seen.insert(lower).second);
    CHECK(testsupport::bundled_models().find(m.id) == &m);
    for (const auto& alias : m.aliases) CHECK(testsupport::bundled_models().find(alias) == &m);
  }
  CHECK_THAT(testsupport::bundled_models().generated(), Catch::Matches(R"(\d{4}-\d{2}-\d{2})"));
}

TEST_CASE("catalog: lookups ignore case", "[catalog]") {
  const CatalogModel* m = testsupport::bundled_models().find("meta-llama/Llama-3.1-8B");
  REQUIRE(m != nullptr);
  CHECK(testsupport::bundled_models().find("META-LLAMA/llama-3.1-8b") == m);
  CHECK(testsupport::bundled_models().find("qwen/qwen3-8b") == testsupport::bundled_models().find("Qwen/Qwen3-8B"));
  CHECK(testsupport::bundled_models().find("qwen/qwen3-8b") != nullptr);
  CHECK(testsupport::bundled_models().find("meta-llama/meta-llama-3.1-8b") == m);  // alias, any case
}

TEST_CASE("catalog: renamed repositories are listed under their current id, the old one an alias", "[catalog]") {
  struct Rename {
    const char* old_id;
    const char* current;
  };
  for (const auto& r : {Rename{"meta-llama/Meta-Llama-3.1-8B", "meta-llama/Llama-3.1-8B"},
                        Rename{"meta-llama/Meta-Llama-3.1-70B", "meta-llama/Llama-3.1-70B"},
                        Rename{"meta-llama/Meta-Llama-3.1-405B", "meta-llama/Llama-3.1-405B"},
                        Rename{"CohereForAI/c4ai-command-r-v01", "CohereLabs/c4ai-command-r-v01"}}) {
    INFO(r.old_id);
    const CatalogModel* m = testsupport::bundled_models().find(r.old_id);
    REQUIRE(m != nullptr);
    CHECK(m->id == r.current);
    CHECK(m->aliases == std::vector<std::string>{r.old_id});
  }
  // Meta-Llama-3-70B was never renamed: it keeps its id and has no alias.
  const CatalogModel* llama3 = testsupport::bundled_models().find("meta-llama/Meta-Llama-3-70B");
  REQUIRE(llama3 != nullptr);
  CHECK(llama3->id == "meta-llama/Meta-Llama-3-70B");
  CHECK(llama3->aliases.empty());
}

TEST_CASE("catalog: Llama-3.1-8B carries its known checkpoint size and exact parameter count", "[catalog]") {
  const CatalogModel* m = testsupport::bundled_models().find("meta-llama/Llama-3.1-8B");
  REQUIRE(m != nullptr);
  CHECK(m->safetensors_total_bytes == std::optional<std::uint64_t>(16060522496ULL));
  CHECK(m->num_params == std::optional<std::uint64_t>(8030261248ULL));
  CHECK_FALSE(m->reconstructed);
  CHECK_FALSE(m->source.empty());
  CHECK(m->config.at("num_hidden_layers") == 32);
  CHECK(m->summary.is_object());
}

TEST_CASE("catalog: sizes, counts and provenance match INDEX.json and param_counts.jsonl", "[catalog]") {
  // Exact logical counts where measured; INDEX.json's count otherwise.
  std::map<std::string, std::uint64_t> measured;
  std::ifstream lines(testsupport::test_data("param_counts.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const json row = json::parse(line);
    if (row.contains("params")) measured[row.at("dir").get<std::string>()] = row.at("params").get<std::uint64_t>();
  }
  REQUIRE(measured.size() >= 40);

  const json index = parse_json_relaxed(read_text(testsupport::test_data("configs/INDEX.json")), "INDEX.json");
  REQUIRE(index.size() == 68);
  int reconstructed = 0;
  for (const auto& row : index) {
    const std::string dir = row.at("dir").get<std::string>();
    INFO(dir);
    const CatalogModel* m = testsupport::bundled_models().find(dir_to_id(dir));
    REQUIRE(m != nullptr);
    // The 2026 rows carry no size or count (data/published_params.json cites those): null, as the catalog reads them.
    const json size = row.value("safetensors_total_size_bytes", json());
    CHECK(m->safetensors_total_bytes ==
          (size.is_null() ? std::nullopt : std::optional<std::uint64_t>(size.get<std::uint64_t>())));
    std::optional<std::uint64_t> params;
    if (measured.count(dir)) params = measured.at(dir);
    else if (row.value("num_params", json()).is_number()) params = row.at("num_params").get<std::uint64_t>();
    CHECK(m->num_params == params);
    CHECK(m->source == row.value("source", std::string()));
    const bool expect_reconstructed = row.value("source", std::string()).rfind("reconstructed", 0) == 0;
    CHECK(m->reconstructed == expect_reconstructed);
    reconstructed += m->reconstructed ? 1 : 0;
  }
  CHECK(reconstructed == 4);
  REQUIRE(testsupport::bundled_models().find("Qwen/Qwen3-14B") != nullptr);
  CHECK(testsupport::bundled_models().find("Qwen/Qwen3-14B")->reconstructed);
  // No measured count and none in INDEX.json: unknown, not zero.
  REQUIRE(testsupport::bundled_models().find("tiiuae/falcon-40b") != nullptr);
  CHECK_FALSE(testsupport::bundled_models().find("tiiuae/falcon-40b")->num_params.has_value());
}

TEST_CASE("catalog: Nemotron-H's bare Infinity survives the generator and the loader", "[catalog]") {
  // The generator writes it as the bare token (Python's allow_nan); the relaxed parser reads it back as +inf.
  CHECK(read_text(testsupport::repo_data("models.json")).find("Infinity") != std::string::npos);
  const CatalogModel* m = testsupport::bundled_models().find("nvidia/Nemotron-H-56B-Base-8K");
  REQUIRE(m != nullptr);
  const json& limit = m->config.at("time_step_limit");
  REQUIRE(limit.size() == 2);
  CHECK(limit[0].get<double>() == 0.0);
  REQUIRE(limit[1].is_number_float());
  CHECK(std::isinf(limit[1].get<double>()));
  CHECK(limit[1].get<double>() > 0);
}

TEST_CASE("catalog: an unknown id is absent, and suggest() proposes close ids", "[catalog]") {
  CHECK(testsupport::bundled_models().find("meta-llama/Llama-3.1-8") == nullptr);
  CHECK(testsupport::bundled_models().find("") == nullptr);

  SECTION("a typo in the full id") {
    const auto s = testsupport::bundled_models().suggest("meta-llama/Llama-3.1-8");
    REQUIRE_FALSE(s.empty());
    CHECK(s.front() == "meta-llama/Llama-3.1-8B");
  }
  SECTION("the repository name without its organisation") {
    const auto s = testsupport::bundled_models().suggest("qwen3-8b");
    REQUIRE_FALSE(s.empty());
    CHECK(s.front() == "Qwen/Qwen3-8B");
  }
  SECTION("an old (renamed) id that is misspelt suggests the current id") {
    const auto s = testsupport::bundled_models().suggest("meta-llama/Meta-Llama-3.1-8b-x");
    REQUIRE_FALSE(s.empty());
    CHECK(s.front() == "meta-llama/Llama-3.1-8B");
  }
  SECTION("at most n suggestions, each once") {
    const auto s = testsupport::bundled_models().suggest("Qwen3", 2);
    CHECK(s.size() == 2);
    CHECK(std::set<std::string>(s.begin(), s.end()).size() == s.size());
    CHECK(testsupport::bundled_models().suggest("Qwen3", 5).size() == 5);
  }
  SECTION("nothing close: no suggestion") {
    CHECK(testsupport::bundled_models().suggest("zzzz/xxxxxxxxxxxxxxxx").empty());
  }
}

TEST_CASE("catalog: a missing or malformed file is bad input naming the file", "[catalog]") {
  SECTION("missing") {
    testsupport::TempDir dir;
    const auto file = dir.path() / "nope.json";
    try {
      (void)ModelCatalog::load(file);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::BadInput);
      CHECK_THAT(e.what(), Catch::Contains(file.string()));
    }
  }
  SECTION("not JSON") {
    auto e = load_error("{\"schema_version\": 1, \"models\": [");
    REQUIRE(e);
    CHECK(e->code() == ExitCode::BadInput);
    CHECK_THAT(e->what(), Catch::Contains("models.json"));
  }
  SECTION("JSON of the wrong shape") {
    for (const char* text : {R"([])", R"({"schema_version": 1})", R"({"schema_version": 2, "models": []})",
                             R"({"schema_version": 1, "models": [{"config": {}}]})",
                             R"({"schema_version": 1, "models": [{"id": "a/b", "config": 3}]})",
                             R"({"schema_version": 1, "models": [{"id": "a/b", "config": {}, "num_params": -1}]})",
                             R"({"schema_version": 1, "models": [{"id": "a/b", "config": {}, "aliases": "x"}]})"}) {
      INFO(text);
      auto e = load_error(text);
      REQUIRE(e);
      CHECK(e->code() == ExitCode::BadInput);
      CHECK_THAT(e->what(), Catch::Contains("models.json") && Catch::Contains("malformed"));
    }
  }
  SECTION("a minimal valid file loads") {
    CHECK_FALSE(load_error(R"({"schema_version": 1, "generated": "2025-01-01", "models": [)"
                           R"({"id": "a/b", "config": {"x": Infinity}}]})"));
  }
}

TEST_CASE("catalog: load_for finds what load finds, parsing only the entries that can match", "[catalog]") {
  const fs::path file = testsupport::repo_data("models.json");
  SECTION("every id and alias, in any case, gives the same entry, from a catalog of just that entry") {
    for (const auto& m : testsupport::bundled_models().models()) {
      std::vector<std::string> names{m.id};
      names.insert(names.end(), m.aliases.begin(), m.aliases.end());
      for (const auto& name : names) {
        std::string upper = name;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        for (const auto& query : {name, upper}) {
          INFO(query);
          const ModelCatalog one = ModelCatalog::load_for(file, query);
          const CatalogModel* found = one.find(query);
          REQUIRE(found != nullptr);
          CHECK(found == &one.models().front());
          CHECK(found->id == testsupport::bundled_models().find(query)->id);
          CHECK(found->config == testsupport::bundled_models().find(query)->config);
          CHECK(found->num_params == testsupport::bundled_models().find(query)->num_params);
          CHECK(one.models().size() < testsupport::bundled_models().models().size());
        }
      }
    }
  }
  SECTION("a miss is the whole catalog, so suggestions are the same") {
    const ModelCatalog all = ModelCatalog::load_for(file, "meta-llama/Llama-3.1-8x");
    CHECK(all.find("meta-llama/Llama-3.1-8x") == nullptr);
    CHECK(all.models().size() == testsupport::bundled_models().models().size());
    CHECK(all.suggest("meta-llama/Llama-3.1-8x") == testsupport::bundled_models().suggest("meta-llama/Llama-3.1-8x"));
  }
  auto load_for = [](const std::string& contents, const std::string& id) {
    testsupport::TempDir dir;
    const auto path = dir.path() / "models.json";
    testsupport::write_file(path, contents);
    return ModelCatalog::load_for(path, id);
  };
  SECTION("an id spelt with JSON escapes is still found") {
    const auto c = load_for(R"({"schema_version": 1, "models": [{"id": "a\/b", "config": {"x": Infinity}}]})", "A/B");
    REQUIRE(c.find("a/b") != nullptr);
    CHECK(std::isinf(c.find("a/b")->config["x"].get<double>()));
  }
  SECTION("files the quick scan does not split are loaded whole, with load()'s errors") {
    for (const char* text : {R"({"schema_version": 2, "models": [{"id": "a/b", "config": {}}]})",
                             R"({"schema_version": 1, "models": [{"id": "a/b", "config": {}}, 3]})",
                             R"({"schema_version": 1, "models": [{"id": "a/b", "config": {}}]} x)"}) {
      INFO(text);
      CHECK_THROWS_WITH(load_for(text, "a/b"), Catch::Contains("models.json") && Catch::Contains("malformed"));
    }
    // Two "models" keys: the last one counts, as in load().
    CHECK(load_for(R"({"schema_version": 1, "models": [{"id": "a/b", "config": {}}], "models": []})", "a/b")
              .models()
              .empty());
  }
  SECTION("a malformed entry is reported when it is parsed: it could match, or the id is missing") {
    const std::string text = R"({"schema_version": 1, "models": [{"id": "a/b", "config": {}},
                                 {"id": "c/d", "config": 3}]})";
    CHECK(load_for(text, "a/b").find("a/b") != nullptr);  // c/d is never parsed
    CHECK_THROWS_WITH(load_for(text, "c/d"), Catch::Contains("malformed") && Catch::Contains("c/d"));
    CHECK_THROWS_WITH(load_for(text, "e/f"), Catch::Contains("malformed") && Catch::Contains("c/d"));
  }
}

TEST_CASE("edit_distance is a case-insensitive Levenshtein distance", "[catalog]") {
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("A100-80G", "a100-80g") == 0);
  CHECK(edit_distance("A100-80", "A100-80G") == 1);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("flaw", "lawn") == 2);
}

TEST_CASE("data files: $VRAM_CALC_DATA_DIR first, then the source tree's data/", "[catalog]") {
  SECTION("without the variable, the bundled files are found") {
    ScopedEnv env("VRAM_CALC_DATA_DIR", std::nullopt);
    const fs::path found = find_data_file("models.json");
    CHECK(found.filename() == "models.json");
    CHECK(read_text(found) == read_text(testsupport::repo_data("models.json")));
  }
  SECTION("the variable's directory wins when it holds the file") {
    testsupport::TempDir dir;
    testsupport::write_file(dir.path() / "skus.json", "{}");
    ScopedEnv env("VRAM_CALC_DATA_DIR", dir.path().string());
    CHECK(fs::equivalent(find_data_file("skus.json"), dir.path() / "skus.json"));
    // A file it lacks is looked for further down the list.
    CHECK(read_text(find_data_file("models.json")) == read_text(testsupport::repo_data("models.json")));
  }
  SECTION("a file found nowhere is bad input that says where it looked") {
    testsupport::TempDir dir;
    ScopedEnv env("VRAM_CALC_DATA_DIR", dir.path().string());
    try {
      (void)find_data_file("no-such-file.json");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::BadInput);
      CHECK_THAT(e.what(), Catch::Contains("no-such-file.json") && Catch::Contains(dir.path().string()) &&
                               Catch::Contains("VRAM_CALC_DATA_DIR"));
    }
  }
}
