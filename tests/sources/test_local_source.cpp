// Local models: a config.json file, or a model directory whose safetensors headers and index give exact
// weight sizes. Every problem is one BadInput Error naming the file.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/sources/local.hpp"

using namespace vramcalc;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* const kConfig = R"({"model_type": "llama", "hidden_size": 64, "rope_scaling": null, "x": NaN})";

std::string safetensors_bytes(const json& header) {
  const std::string text = header.dump();
  std::string out(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  return out + text;
}

json tensor(const std::string& dtype, const json& shape, std::uint64_t begin, std::uint64_t end) {
  return json{{"dtype", dtype}, {"shape", shape}, {"data_offsets", {begin, end}}};
}

// Two shards: 2048 + 512 bytes of BF16 and 4 bytes of F32.
void write_two_shards(const fs::path& dir) {
  testsupport::write_file(
      dir / "model-00001-of-00002.safetensors",
      safetensors_bytes({{"__metadata__", {{"format", "pt"}}}, {"embed.weight", tensor("BF16", {32, 32}, 0, 2048)}}));
  testsupport::write_file(dir / "model-00002-of-00002.safetensors",
                          safetensors_bytes({{"lm_head.weight", tensor("BF16", {16, 16}, 0, 512)},
                                             {"norm.scale", tensor("F32", json::array(), 512, 516)}}));
}

std::string index_json(std::uint64_t total_size) {
  return json{{"metadata", {{"total_size", total_size}}},
              {"weight_map",
               {{"embed.weight", "model-00001-of-00002.safetensors"},
                {"lm_head.weight", "model-00002-of-00002.safetensors"},
                {"norm.scale", "model-00002-of-00002.safetensors"}}}}
      .dump();
}

Error load_error(const fs::path& path) {
  try {
    load_local_model(path);
  } catch (const Error& e) {
    return e;
  }
  FAIL("load_local_model accepted " << path);
  return Error(ExitCode::Fits, "unreachable");
}

}  // namespace

TEST_CASE("a local config.json file loads as the config, under any file name", "[local]") {
  testsupport::TempDir dir;
  for (const std::string name : {"config.json", "my-model.json"}) {
    INFO(name);
    const fs::path file = dir.path() / name;
    testsupport::write_file(file, kConfig);
    const ModelInput m = load_local_model(file);
    CHECK(m.id == file.string());
    CHECK(m.origin == "local file " + file.string());
    CHECK(m.config["model_type"] == "llama");
    CHECK(m.config["hidden_size"] == 64);
    CHECK(m.config["x"].is_null());  // relaxed JSON: NaN is accepted
    CHECK_FALSE(m.safetensors.has_value());
    CHECK_FALSE(m.index_total_size.has_value());
    CHECK(m.warnings.empty());
  }
}

TEST_CASE("a local model directory with only config.json has no weight sizes", "[local]") {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "config.json", kConfig);
  const ModelInput m = load_local_model(dir.path());
  CHECK(m.id == dir.path().string());
  CHECK(m.origin == "local directory " + dir.path().string());
  CHECK(m.config["model_type"] == "llama");
  CHECK_FALSE(m.safetensors.has_value());
  CHECK_FALSE(m.index_total_size.has_value());
  CHECK(m.warnings.empty());
}

TEST_CASE("a local model directory with shards and an index gives exact sizes", "[local]") {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "config.json", kConfig);
  write_two_shards(dir.path());

  SECTION("two shards plus model.safetensors.index.json") {
    testsupport::write_file(dir.path() / "model.safetensors.index.json", index_json(2564));
    const ModelInput m = load_local_model(dir.path());
    REQUIRE(m.index_total_size.has_value());
    CHECK(*m.index_total_size == 2564);
    REQUIRE(m.safetensors.has_value());
    CHECK(m.safetensors->files == 2);
    CHECK(m.safetensors->tensor_count == 3);
    CHECK(m.safetensors->total_bytes == 2048 + 512 + 4);
    CHECK(m.safetensors->total_elements == 1024 + 256 + 1);
    CHECK(m.safetensors->bytes_by_dtype.at("BF16") == 2560);
    CHECK(m.safetensors->bytes_by_dtype.at("F32") == 4);
    CHECK(m.safetensors->metadata.at("format") == "pt");
    CHECK(m.warnings.empty());
  }
  SECTION("shards without an index") {
    const ModelInput m = load_local_model(dir.path());
    CHECK_FALSE(m.index_total_size.has_value());
    REQUIRE(m.safetensors.has_value());
    CHECK(m.safetensors->files == 2);
    CHECK(m.safetensors->total_bytes == 2564);
  }
  SECTION("a file the index does not list (e.g. consolidated weights) is not counted twice") {
    testsupport::write_file(dir.path() / "model.safetensors.index.json", index_json(2564));
    testsupport::write_file(dir.path() / "consolidated.safetensors",
                            safetensors_bytes({{"all", tensor("BF16", {1282}, 0, 2564)}}));
    const ModelInput m = load_local_model(dir.path());
    REQUIRE(m.safetensors.has_value());
    CHECK(m.safetensors->files == 2);
    CHECK(m.safetensors->total_bytes == 2564);
    REQUIRE(m.warnings.size() == 1);
    CHECK_THAT(m.warnings[0], Catch::Contains("consolidated.safetensors"));
  }
}

TEST_CASE("an index whose shards are partly missing falls back to the index total, with a warning", "[local]") {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "config.json", kConfig);
  write_two_shards(dir.path());
  fs::remove(dir.path() / "model-00002-of-00002.safetensors");
  testsupport::write_file(dir.path() / "model.safetensors.index.json", index_json(2564));

  const ModelInput m = load_local_model(dir.path());
  CHECK_FALSE(m.safetensors.has_value());  // a partial sum would understate the weights
  REQUIRE(m.index_total_size.has_value());
  CHECK(*m.index_total_size == 2564);
  REQUIRE(m.warnings.size() == 1);
  CHECK_THAT(m.warnings[0], Catch::Contains("model-00002-of-00002.safetensors") && Catch::Contains("missing") &&
                                Catch::Contains("total_size"));
  CHECK_THAT(m.warnings[0], !Catch::Contains("model-00001-of-00002.safetensors"));
}

TEST_CASE("an index without any shards present gives the index total silently", "[local]") {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "config.json", kConfig);
  testsupport::write_file(dir.path() / "model.safetensors.index.json", index_json(123456789012));
  const ModelInput m = load_local_model(dir.path());
  CHECK_FALSE(m.safetensors.has_value());
  REQUIRE(m.index_total_size.has_value());
  CHECK(*m.index_total_size == 123456789012ull);
  CHECK(m.warnings.empty());
}

TEST_CASE("local source errors are BadInput and name the file", "[local]") {
  testsupport::TempDir dir;

  SECTION("a directory without config.json") {
    write_two_shards(dir.path());
    const Error e = load_error(dir.path());
    CHECK(e.code() == ExitCode::BadInput);
    CHECK(std::string(e.what()) == dir.path().string() + ": no config.json in this directory");
  }
  SECTION("a path that does not exist") {
    const fs::path missing = dir.path() / "nope";
    const Error e = load_error(missing);
    CHECK(e.code() == ExitCode::BadInput);
    CHECK(std::string(e.what()) == missing.string() + ": no such file or directory");
  }
  SECTION("a malformed config.json in a directory") {
    testsupport::write_file(dir.path() / "config.json", "{\"model_type\": \"llama\",\n}");
    const Error e = load_error(dir.path());
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()),
               Catch::StartsWith((dir.path() / "config.json").string() + ": malformed JSON at line 2"));
  }
  SECTION("a malformed config file given directly") {
    const fs::path file = dir.path() / "broken.json";
    testsupport::write_file(file, "");
    const Error e = load_error(file);
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::StartsWith(file.string() + ": malformed JSON at line 1, column 1"));
  }
  SECTION("a config that is JSON but not an object") {
    const fs::path file = dir.path() / "config.json";
    testsupport::write_file(file, "[1, 2]");
    const Error e = load_error(file);
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::StartsWith(file.string() + ": ") && Catch::Contains("not a JSON object"));
  }
  SECTION("a malformed index") {
    testsupport::write_file(dir.path() / "config.json", kConfig);
    const fs::path index = dir.path() / "model.safetensors.index.json";
    for (const std::string& text :
         {std::string("{\"metadata\": "), std::string(R"({"metadata": {"total_size": -5}})"),
          std::string(R"({"metadata": {"total_size": "big"}})"), std::string(R"({"metadata": {"total_size": 1.5}})"),
          std::string(R"([])"), std::string(R"({"weight_map": {"w": 3}})")}) {
      INFO(text);
      testsupport::write_file(index, text);
      const Error e = load_error(dir.path());
      CHECK(e.code() == ExitCode::BadInput);
      CHECK_THAT(std::string(e.what()), Catch::StartsWith(index.string() + ": "));
    }
  }
  SECTION("a shard with a malformed header") {
    testsupport::write_file(dir.path() / "config.json", kConfig);
    const fs::path shard = dir.path() / "model.safetensors";
    testsupport::write_file(shard, safetensors_bytes({{"w", tensor("BF16", {4}, 0, 6)}}));
    const Error e = load_error(dir.path());
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::StartsWith(shard.string() + ": tensor w"));
  }
  SECTION("a config file over 4 MiB is refused before it is read") {
    const fs::path file = dir.path() / "config.json";
    testsupport::write_file(file, "{}");
    fs::resize_file(file, 4ull * 1024 * 1024 + 1);  // sparse: cheap to create
    const Error e = load_error(file);
    CHECK(e.code() == ExitCode::BadInput);
    CHECK(std::string(e.what()) == file.string() + ": 4194305 bytes is over the 4 MiB limit for config files");
  }
  SECTION("a .safetensors file is not taken for a config") {
    const fs::path shard = dir.path() / "model.safetensors";
    testsupport::write_file(shard, safetensors_bytes({{"w", tensor("BF16", {4}, 0, 8)}}));
    const Error e = load_error(shard);
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::StartsWith(shard.string() + ": "));
  }
}

TEST_CASE("local paths are recognised by their spelling or by existing", "[local]") {
  testsupport::TempDir dir;
  CHECK(looks_like_local_path("/no/such/dir/config.json"));
  CHECK(looks_like_local_path("./model"));
  CHECK(looks_like_local_path("../model"));
  CHECK(looks_like_local_path("~/models/llama"));
  CHECK(looks_like_local_path(dir.path().string()));
  CHECK_FALSE(looks_like_local_path("meta-llama/Llama-3.1-8B-Instruct-no-such-local-dir"));
  CHECK_FALSE(looks_like_local_path("llama-3.1-8b-no-such-local-dir"));
  CHECK_FALSE(looks_like_local_path(""));
}
