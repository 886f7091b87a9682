// Hostile JSON nesting (issue 11, classes 1 and 2): every JSON document vram-calc reads goes through
// parse_json_relaxed, which refuses nesting deeper than limits::kMaxJsonDepth before building anything. Before
// that limit, 100k nested arrays overflowed the stack (SIGSEGV) when the DOM was copied or dumped, and 64 MiB of
// '[' took gigabytes of memory.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/limits.hpp"

#include "sources/safetensors_index.hpp"

using namespace vramcalc;
using testsupport::run_cli;
using testsupport::TempDir;
using testsupport::test_data;
using testsupport::write_file;

namespace {

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// {"a":{"a":...{"a":1}...}} with `depth` objects.
std::string nested_objects(std::size_t depth) {
  std::string text;
  for (std::size_t i = 0; i < depth; ++i) text += R"({"a":)";
  text += "1";
  text += std::string(depth, '}');
  return text;
}

Error parse_error(const std::string& text, ExitCode on_error = ExitCode::BadInput) {
  try {
    parse_json_relaxed(text, "x.json", on_error);
  } catch (const Error& e) {
    return e;
  }
  FAIL("parse_json_relaxed accepted " << text.size() << " bytes of over-deep JSON");
  return Error(ExitCode::Fits, "unreachable");
}

std::string real_config() {
  std::ifstream in(test_data("configs/meta-llama--Meta-Llama-3.1-8B/config.json"), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("JSON nested up to the depth limit parses; one level more is malformed", "[hostile-json]") {
  const std::size_t limit = limits::kMaxJsonDepth;
  CHECK(parse_json_relaxed(nested_arrays(limit), "x.json").is_array());
  CHECK(parse_json_relaxed(nested_objects(limit), "x.json").is_object());

  const Error arrays = parse_error(nested_arrays(limit + 1));
  CHECK(arrays.code() == ExitCode::BadInput);
  CHECK_THAT(arrays.what(), Catch::Contains("x.json: malformed JSON at line 1, column 65"));
  CHECK_THAT(arrays.what(), Catch::Contains("nested deeper than 64 levels"));
  const Error objects = parse_error(nested_objects(limit + 1));
  CHECK_THAT(objects.what(), Catch::Contains("nested deeper than 64 levels"));
}

TEST_CASE("brackets inside strings, escaped quotes included, do not count as nesting", "[hostile-json]") {
  const std::string deep_in_string = "{\"a\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}";
  const auto j = parse_json_relaxed(deep_in_string, "x.json");
  CHECK(j["a"].get<std::string>().size() == 2001);
  // After the string ends, nesting counts again.
  const Error e =
      parse_error(deep_in_string.substr(0, deep_in_string.size() - 1) + ", \"b\": " + nested_arrays(100) + "}");
  CHECK_THAT(e.what(), Catch::Contains("nested deeper"));
}

TEST_CASE("100k levels of nesting are refused at once, with the caller's exit code", "[hostile-json]") {
  const auto start = std::chrono::steady_clock::now();
  CHECK(parse_error(nested_arrays(100'000), ExitCode::RemoteFailed).code() == ExitCode::RemoteFailed);
  CHECK(parse_error(nested_objects(100'000)).code() == ExitCode::BadInput);
  CHECK(parse_error(std::string(64u << 20, '[')).code() == ExitCode::BadInput);  // 64 MiB of '['
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("a config.json nested 100k deep is exit 2 with one line, not a crash", "[hostile-json]") {
  TempDir dir;
  // Deep nesting in a member the normalizer reads and one it never looks at: both are refused at parse time.
  const std::string config = real_config();
  for (const std::string& deep : {nested_arrays(100'000), nested_objects(100'000)}) {
    write_file(dir.path() / "config.json", config.substr(0, config.rfind('}')) + ", \"extra\": " + deep + "}");
    const auto r = run_cli("--model '" + dir.path().string() + "' --sku A100-80G");
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("nested deeper than 64 levels"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("deep nesting in a local safetensors index's total_size is exit 2", "[hostile-json]") {
  TempDir dir;
  write_file(dir.path() / "config.json", real_config());
  write_file(dir.path() / "model.safetensors.index.json",
             R"({"metadata": {"total_size": )" + nested_arrays(100'000) + R"(}, "weight_map": {}})");
  const auto r = run_cli("--model '" + dir.path().string() + "' --sku A100-80G");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("model.safetensors.index.json: malformed JSON"));
  CHECK_THAT(r.err, Catch::Contains("nested deeper"));
}

TEST_CASE("a poisoned Hugging Face cache config is exit 2 offline, not a crash", "[hostile-json]") {
  TempDir home;
  const auto snapshot =
      home.path() / "hub" / "models--acme--deep" / "snapshots" / "0123456789abcdef0123456789abcdef01234567";
  write_file(home.path() / "hub" / "models--acme--deep" / "refs" / "main", "0123456789abcdef0123456789abcdef01234567");
  write_file(snapshot / "config.json", nested_objects(100'000));
  // run_cli sets HF_HOME to its own directory; this assignment comes after and wins.
  const auto r = run_cli("--model acme/deep --sku A100-80G --offline", "HF_HOME='" + home.path().string() + "'");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("nested deeper"));
}

TEST_CASE("a megabyte of open brackets as config.json costs neither time nor memory", "[hostile-json]") {
  TempDir dir;
  write_file(dir.path() / "config.json", std::string(limits::kMaxConfigBytes - 1, '['));
  const auto m = testsupport::run_measured({"--model", dir.path().string(), "--sku", "A100-80G"});
  CHECK(m.exit_code == 2);
  CHECK(m.seconds < 5);
  // A plan's own footprint is about 10 MiB; before the depth limit this input took over 200 MiB.
  if (!testsupport::kAddressSanitizer) CHECK(m.peak_rss_kib < 64 * 1024);
}

TEST_CASE("a safetensors index is read as events: the members the sources use, nothing else kept", "[hostile-json]") {
  using detail::SafetensorsIndexFacts;
  using Shape = SafetensorsIndexFacts::Shape;
  SECTION("a real index's shape") {
    const auto f = detail::read_safetensors_index_facts(
        R"({"metadata": {"total_size": 16060522496, "format": "pt"},
            "weight_map": {"lm_head.weight": "model-00004-of-00004.safetensors",
                           "model.embed_tokens.weight": "model-00001-of-00004.safetensors",
                           "model.norm.weight": "model-00004-of-00004.safetensors"}})",
        "index.json", ExitCode::BadInput);
    CHECK(f.is_object);
    CHECK(f.metadata == Shape::Object);
    CHECK(f.total_size == 16060522496ULL);
    CHECK(f.weight_map == Shape::Object);
    CHECK(f.tensors == 3);
    REQUIRE(f.shards.size() == 2);
    // Each tensor adds its name's length plus 100 bytes to its shard's header estimate.
    CHECK(f.shards.at("model-00004-of-00004.safetensors") == (14 + 100) + (17 + 100));
    CHECK(f.shards.at("model-00001-of-00004.safetensors") == 25 + 100);
    CHECK_FALSE(f.non_string_entry);
    CHECK_FALSE(f.empty_entry);
  }
  SECTION("shapes the callers refuse or skip are reported, not guessed") {
    const auto f = detail::read_safetensors_index_facts(
        R"({"metadata": {"total_size": [1, 2]}, "weight_map": {"a": 7, "b": "", "c": {"x": "y"}, "d": "s.safetensors"}})",
        "index.json", ExitCode::BadInput);
    CHECK(f.has_total_size);
    CHECK_FALSE(f.total_size);
    CHECK(f.total_size_json == "[...]");
    CHECK(f.non_string_entry == std::string("a"));
    CHECK(f.empty_entry == std::string("b"));
    CHECK(f.tensors == 4);
    CHECK(f.shards.size() == 1);
    const auto g =
        detail::read_safetensors_index_facts(R"({"metadata": null, "weight_map": []})", "i", ExitCode::BadInput);
    CHECK(g.metadata == Shape::Null);
    CHECK(g.weight_map == Shape::Other);
    CHECK_FALSE(detail::read_safetensors_index_facts("[1]", "i", ExitCode::BadInput).is_object);
  }
  SECTION("a repeated member replaces the earlier one, as in a DOM; integral floats are sizes") {
    const auto f = detail::read_safetensors_index_facts(
        R"({"metadata": {"total_size": -1}, "weight_map": {"a": "x"}, "metadata": {"total_size": 1.5e10},
            "weight_map": {"b": "y"}})",
        "i", ExitCode::BadInput);
    CHECK(f.total_size == 15000000000ULL);
    CHECK(f.shards.count("x") == 0);
    CHECK(f.shards.count("y") == 1);
  }
  SECTION("Python's bare NaN is read through the relaxed parser") {
    const auto f = detail::read_safetensors_index_facts(R"({"metadata": {"total_size": NaN, "x": Infinity}})", "i",
                                                        ExitCode::BadInput);
    CHECK(f.has_total_size);
    CHECK_FALSE(f.total_size);
  }
  SECTION("malformed and over-deep text throws the relaxed parser's error with the caller's code") {
    try {
      detail::read_safetensors_index_facts(R"({"weight_map": {"a": )" + nested_arrays(100'000) + "}}", "idx.json",
                                           ExitCode::RemoteFailed);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::RemoteFailed);
      CHECK_THAT(e.what(), Catch::Contains("idx.json: malformed JSON at line 1, column"));
      CHECK_THAT(e.what(), Catch::Contains("nested deeper"));
    }
    CHECK_THROWS_AS(detail::read_safetensors_index_facts(std::string("{\"a\": 1}\0x", 10), "i", ExitCode::BadInput),
                    Error);
    CHECK_THROWS_AS(detail::read_safetensors_index_facts("{\"a\": 1", "i", ExitCode::BadInput), Error);
  }
}

TEST_CASE("a hostile local safetensors index costs about its own size in memory, not a DOM of it", "[hostile-json]") {
  // A million tiny weight_map entries: as a DOM this took 13x the text (16x for an array of zeros).
  constexpr std::size_t kBytes = 16u << 20;
  TempDir dir;
  write_file(dir.path() / "config.json", real_config());
  std::string index = R"({"metadata": {"total_size": 16060522496, "zeros": [)";
  while (index.size() < kBytes / 2) index += "0,0,0,0,0,0,0,0,";
  index += R"(0]}, "weight_map": {)";
  for (std::size_t i = 0; index.size() < kBytes; ++i) index += fmt::format(R"("{:x}":"model.safetensors",)", i);
  index += R"("last":"model.safetensors"}})";
  write_file(dir.path() / "model.safetensors.index.json", index);
  const auto m = testsupport::run_measured({"--model", dir.path().string(), "--sku", "A100-80G"});
  // The shard it names is not there, so the plan uses metadata.total_size: the whole index was read.
  CHECK(m.exit_code == 0);
  // The text itself (read once) plus a plan's own ~10 MiB; a DOM would be over 200 MiB.
  if (!testsupport::kAddressSanitizer) CHECK(m.peak_rss_kib < 3 * static_cast<long>(kBytes) / 1024 + 40 * 1024);
}
