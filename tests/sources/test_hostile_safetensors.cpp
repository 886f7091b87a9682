// Hostile safetensors headers (issue 11, items 2 and 10): a header is read as SAX events, one tensor entry at a
// time, into per-dtype totals. Before, it became a full nlohmann DOM (several times its size) and every tensor
// was kept as a record, so 3 shards of 20 MB headers peaked at 362 MB and 8 shards of 50 MB at 1.3 GB.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/sources/safetensors.hpp"

using namespace vramcalc;
using nlohmann::json;
using testsupport::TempDir;

namespace {

constexpr const char* kOrigin = "shard.safetensors";

// The 8-byte little-endian length prefix, then the header.
std::string safetensors_bytes(const std::string& header) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header;
}

// A header of `count` BF16 tensors of shape [4, 8] (64 bytes each, back to back), plus {"format": "pt"}.
std::string many_tensors_header(std::size_t count) {
  std::string header = R"({"__metadata__":{"format":"pt"})";
  header.reserve(count * 100);
  for (std::size_t i = 0; i < count; ++i) {
    header += fmt::format(R"(,"model.layers.{}.mlp.down_proj.weight":{{"dtype":"BF16","shape":[4,8],)", i);
    header += fmt::format(R"("data_offsets":[{},{}]}})", i * 64, i * 64 + 64);
  }
  header += '}';
  return header;
}

// One tensor entry whose "shape" is `depth` nested arrays.
std::string deep_shape_header(std::size_t depth) {
  return R"({"w":{"dtype":"U8","shape":)" + std::string(depth, '[') + std::string(depth, ']') +
         R"(,"data_offsets":[0,0]}})";
}

// A valid header whose "__metadata__" holds a value of `arrays` nested arrays: the deepest array is at depth
// arrays + 2 (the header object is 1, "__metadata__" 2).
std::string deep_metadata_header(std::size_t arrays) {
  return R"({"__metadata__":{"x":)" + std::string(arrays, '[') + std::string(arrays, ']') +
         R"(},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
}

std::string entry(const std::string& dtype, const std::string& shape, std::uint64_t begin, std::uint64_t end) {
  return fmt::format(R"({{"dtype":"{}","shape":{},"data_offsets":[{},{}]}})", dtype, shape, begin, end);
}

// The Error that parsing `header` throws; fails the test when it throws nothing.
Error header_error(const std::string& header, ExitCode on_error = ExitCode::BadInput) {
  try {
    (void)parse_safetensors_header(header, kOrigin, on_error);
  } catch (const Error& e) {
    return e;
  }
  FAIL("parse_safetensors_header accepted a header of " << header.size() << " bytes");
  return Error(ExitCode::Fits, "unreachable");
}

// The message parse_json_relaxed gives for `text`, the reference for malformed JSON anywhere.
std::string relaxed_message(const std::string& text) {
  try {
    (void)parse_json_relaxed(text, kOrigin);
  } catch (const Error& e) {
    return e.what();
  }
  return "parse_json_relaxed accepted it";
}

constexpr const char* kTinyConfig =
    R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_attention_heads": 4,
        "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 1000, "max_position_embeddings": 512,
        "torch_dtype": "bfloat16"})";

}  // namespace

TEST_CASE("a header whose shape nests 100k arrays deep is malformed, refused at once", "[hostile-st]") {
  const auto start = std::chrono::steady_clock::now();
  const Error e = header_error(deep_shape_header(100'000));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(e.code() == ExitCode::BadInput);
  CHECK_THAT(e.what(), Catch::StartsWith("shard.safetensors: malformed JSON at line 1, column ") &&
                           Catch::Contains("nested deeper than 64 levels"));
  CHECK(seconds < 2.0);  // the walk stops at level 65; nothing of the remaining 200k brackets is built
  CHECK(header_error(deep_shape_header(100'000), ExitCode::RemoteFailed).code() == ExitCode::RemoteFailed);

  SECTION("anywhere in the header, values that are otherwise skipped included") {
    CHECK_THAT(header_error(deep_metadata_header(100'000)).what(), Catch::Contains("nested deeper than 64 levels"));
    const std::string in_unknown_key =
        R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":)" + std::string(100'000, '[') + "}}";
    CHECK_THAT(header_error(in_unknown_key).what(), Catch::Contains("nested deeper than 64 levels"));
  }
}

TEST_CASE("safetensors header nesting up to the depth limit is read; one level more is malformed", "[hostile-st]") {
  const std::size_t deepest_allowed = limits::kMaxJsonDepth - 2;
  const SafetensorsSummary s = parse_safetensors_header(deep_metadata_header(deepest_allowed), kOrigin);
  CHECK(s.tensor_count == 1);
  CHECK(s.metadata.empty());
  const Error e = header_error(deep_metadata_header(deepest_allowed + 1));
  CHECK(e.code() == ExitCode::BadInput);
  // The 63rd bracket opens level 65: it follows the 21 characters of {"__metadata__":{"x": and 62 brackets.
  CHECK(std::string(e.what()) ==
        "shard.safetensors: malformed JSON at line 1, column 84: nested deeper than 64 levels");
}

TEST_CASE("malformed safetensors headers are reported exactly as parse_json_relaxed reports them", "[hostile-st]") {
  const std::vector<std::string> malformed = {
      "{\"w\": ",
      "{\n  \"w\": {\"dtype\": \"U8\",\n  \"shape\": [1], tru}\n}",
      "{} trailing",
      "{\"w\": {\"dtype\": \"U8\",}}",
      "",
      "   ",
      std::string("{\"w\": 1\0 }", 10),  // a NUL before the end
      deep_shape_header(1000),
      "{\"\\ud800\": 1}",  // a lone surrogate
  };
  for (const auto& text : malformed) {
    INFO(text.substr(0, 80));
    const Error e = header_error(text);
    CHECK(e.code() == ExitCode::BadInput);
    CHECK(std::string(e.what()) == relaxed_message(text));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

TEST_CASE("Python's NaN and Infinity are malformed in a safetensors header", "[hostile-st]") {
  // Headers are written and read by the safetensors library (serde_json), which has no spelling for them; a
  // config.json may hold them (parse_json_relaxed), a header may not.
  for (const std::string word : {"NaN", "Infinity", "-Infinity"}) {
    const Error e = header_error(R"({"__metadata__":{"format":"pt","x":)" + word + "}}");
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(e.what(), Catch::StartsWith("shard.safetensors: malformed JSON at line 1, column "));
  }
}

TEST_CASE("a local model directory whose shard header nests too deep: exit 2 and one line", "[hostile-st]") {
  TempDir dir;
  testsupport::write_file(dir.path() / "config.json", kTinyConfig);
  testsupport::write_file(dir.path() / "model.safetensors", safetensors_bytes(deep_shape_header(100'000)));
  const auto r = testsupport::run_cli("--model '" + dir.path().string() + "' --sku L4");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("model.safetensors: malformed JSON at line 1, column ") &&
                        Catch::Contains("nested deeper than 64 levels"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("a header of 200k tensors is read entry by entry with exact totals", "[hostile-st]") {
  constexpr std::uint64_t kCount = 200'000;
  const std::string header = many_tensors_header(kCount);
  REQUIRE(header.size() > 18'000'000);
  const SafetensorsSummary s = parse_safetensors_header(header + "    ", kOrigin);
  CHECK(s.files == 1);
  CHECK(s.tensor_count == kCount);
  CHECK(s.bytes_by_dtype.at("BF16") == kCount * 64);
  CHECK(s.elements_by_dtype.at("BF16") == kCount * 32);
  CHECK(s.total_bytes == kCount * 64);
  CHECK(s.total_elements == kCount * 32);
  CHECK(s.metadata.at("format") == "pt");

  SafetensorsSummary merged;
  for (int i = 0; i < 3; ++i) merge_summary(merged, s);
  CHECK(merged.tensor_count == 3 * kCount);
  CHECK(merged.total_bytes == 3 * kCount * 64);
}

TEST_CASE("peak memory for shards of large headers stays near one header, not their DOMs", "[hostile-st]") {
  // Before: 3 shards of 200k tensors (19.5 MB headers) peaked at 362 MB (a DOM per header, then every tensor
  // kept as a record and copied into the merged summary). Now: the header being read plus small totals.
  TempDir dir;
  const std::string header = many_tensors_header(200'000);
  testsupport::write_file(dir.path() / "config.json", kTinyConfig);
  for (int i = 1; i <= 3; ++i)
    testsupport::write_file(dir.path() / fmt::format("model-0000{}-of-00003.safetensors", i),
                            safetensors_bytes(header));
  const auto run = testsupport::run_measured({"--model", dir.path().string(), "--sku", "L4"});
  const long peak_kib = run.peak_rss_kib;
  CHECK(run.exit_code == 0);
  const long bound_kib = static_cast<long>(3 * header.size() / 1024) + 60 * 1024;
  INFO("peak RSS " << peak_kib << " KiB, bound " << bound_kib << " KiB");
  if (!testsupport::kAddressSanitizer) CHECK(peak_kib < bound_kib);

  const auto r = testsupport::run_cli("--model '" + dir.path().string() + "' --sku L4 --format json");
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["model"]["weight_bytes"] == 3 * 200'000 * 64);
}

TEST_CASE("a tensor named twice in one header is refused", "[hostile-st]") {
  // A JSON object keeps one of the two, so the totals would depend on which; the safetensors library refuses
  // such a file too (its offsets no longer tile the data).
  const std::string header = R"({"w":)" + entry("U8", "[4]", 0, 4) + R"(,"v":)" + entry("U8", "[4]", 4, 8) +
                             R"(,"w":)" + entry("U8", "[4]", 8, 12) + "}";
  const Error e = header_error(header);
  CHECK(e.code() == ExitCode::BadInput);
  CHECK(std::string(e.what()) == "shard.safetensors: w appears twice in the safetensors header");
  CHECK_THAT(header_error(R"({"__metadata__":{},"__metadata__":{}})").what(), Catch::Contains("appears twice"));
  // The same name in two shards is two tensors (each shard is its own header).
  SafetensorsSummary merged;
  const SafetensorsSummary one = parse_safetensors_header(R"({"w":)" + entry("U8", "[4]", 0, 4) + "}", kOrigin);
  merge_summary(merged, one);
  merge_summary(merged, one);
  CHECK(merged.tensor_count == 2);
}

TEST_CASE("entries are checked as before, without holding a whole shape", "[hostile-st]") {
  SECTION("a shape of a million dimensions of 1 is one element") {
    std::string shape = "[";
    for (int i = 0; i < 1'000'000; ++i) shape += i ? ",1" : "1";
    shape += "]";
    const SafetensorsSummary s = parse_safetensors_header(R"({"w":)" + entry("U8", shape, 0, 1) + "}", kOrigin);
    CHECK(s.total_elements == 1);
  }
  SECTION("an overflowing shape is shown cut to one line of bounded length") {
    std::string shape = "[4294967296";
    for (int i = 0; i < 10'000; ++i) shape += ",4294967296";
    shape += "]";
    const Error e = header_error(R"({"w":)" + entry("U8", shape, 0, 1) + "}");
    CHECK_THAT(e.what(), Catch::StartsWith("shard.safetensors: tensor w: shape [4294967296,4294967296,") &&
                             Catch::EndsWith("... has more elements than fit in 64 bits"));
    CHECK(std::string(e.what()).size() < 250);
  }
  SECTION("a dimension that is an array or an object") {
    CHECK(std::string(header_error(R"({"w":)" + entry("U8", "[2,[4]]", 0, 8) + "}").what()) ==
          "shard.safetensors: tensor w: \"shape\" has an array; dimensions must be non-negative integers");
    CHECK_THAT(header_error(R"({"w":)" + entry("U8", R"([{"a":1}])", 0, 1) + "}").what(),
               Catch::Contains("\"shape\" has an object"));
  }
  SECTION("a field given twice keeps its last value, as a JSON object does") {
    const std::string twice = R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,1],"dtype":"U8","shape":"x",)"
                              R"("shape":[2],"data_offsets":[0,2]}})";
    const SafetensorsSummary s = parse_safetensors_header(twice, kOrigin);
    CHECK(s.bytes_by_dtype.at("U8") == 2);
    CHECK(s.bytes_by_dtype.count("F32") == 0);
  }
  SECTION("the first problem in the file is the one reported") {
    const std::string two_bad = R"({"b":)" + entry("U8", "[4]", 0, 5) + R"(,"a":)" + entry("U8", "[-1]", 0, 1) + "}";
    CHECK_THAT(header_error(two_bad).what(), Catch::StartsWith("shard.safetensors: tensor b: data_offsets cover 5"));
  }
}

TEST_CASE("a summary holds at most kMaxSafetensorsDtypes different dtypes", "[hostile-st]") {
  // Unknown dtypes are accepted (bytes come from the offsets), so each could be a new key of two maps.
  auto header_with_dtypes = [](std::size_t count, const std::string& prefix) {
    std::string header = "{";
    for (std::size_t i = 0; i < count; ++i)
      header += fmt::format(R"({}"t{}":{})", i ? "," : "", i, entry(prefix + std::to_string(i), "[1]", 0, 1));
    return header + "}";
  };
  const SafetensorsSummary at_limit = parse_safetensors_header(header_with_dtypes(kMaxSafetensorsDtypes, "X"), kOrigin);
  CHECK(at_limit.bytes_by_dtype.size() == kMaxSafetensorsDtypes);
  const Error e = header_error(header_with_dtypes(kMaxSafetensorsDtypes + 1, "X"));
  CHECK(e.code() == ExitCode::BadInput);
  CHECK(std::string(e.what()) == "shard.safetensors: more than 64 different dtypes (a model uses a handful)");

  SECTION("across merged shards too, leaving the target unchanged") {
    SafetensorsSummary merged;
    merge_summary(merged, at_limit);
    const SafetensorsSummary other = parse_safetensors_header(header_with_dtypes(1, "Y"), kOrigin);
    try {
      merge_summary(merged, other);
      FAIL("merged past the limit");
    } catch (const Error& error) {
      CHECK(error.code() == ExitCode::BadInput);
      CHECK_THAT(error.what(), Catch::Contains("more than 64 different dtypes"));
    }
    CHECK(merged.bytes_by_dtype.size() == kMaxSafetensorsDtypes);
    CHECK(merged.files == 1);
  }
}

TEST_CASE("__metadata__ keeps at most kMaxSafetensorsMetadataEntries string values", "[hostile-st]") {
  std::string header = R"({"__metadata__":{)";
  for (std::size_t i = 0; i < kMaxSafetensorsMetadataEntries + 500; ++i)
    header += fmt::format(R"({}"k{:05}":"v")", i ? "," : "", i);
  header += R"(},"w":)" + entry("U8", "[1]", 0, 1) + "}";
  const SafetensorsSummary s = parse_safetensors_header(header, kOrigin);
  CHECK(s.metadata.size() == kMaxSafetensorsMetadataEntries);
  CHECK(s.metadata.count("k00000") == 1);
  CHECK(s.metadata.count(fmt::format("k{:05}", kMaxSafetensorsMetadataEntries)) == 0);
  CHECK(s.tensor_count == 1);
}
