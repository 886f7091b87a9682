// Safetensors headers: exact weight bytes per dtype from the 8-byte length and the JSON header, without ever
// reading tensor data; every malformed header is one Error with the caller's exit code.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/sources/safetensors.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

// The 8-byte little-endian length prefix.
std::string length_prefix(std::uint64_t length) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xff);
  return out;
}

// A whole safetensors file: prefix, header text, then (optional) tensor data bytes.
std::string safetensors_bytes(const std::string& header, const std::string& data = "") {
  return length_prefix(header.size()) + header + data;
}

json tensor(const std::string& dtype, const json& shape, std::uint64_t begin, std::uint64_t end) {
  return json{{"dtype", dtype}, {"shape", shape}, {"data_offsets", {begin, end}}};
}

// The Error that `f` throws; fails the test when it throws nothing (or something other than Error).
template <class F>
Error error_from(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected a vramcalc::Error");
  return Error(ExitCode::Fits, "unreachable");
}

Error header_error(const json& header, ExitCode on_error = ExitCode::BadInput) {
  return error_from([&] { parse_safetensors_header(header.dump(), "shard.safetensors", on_error); });
}

}  // namespace

TEST_CASE("safetensors header length is an 8-byte little-endian integer", "[safetensors]") {
  SECTION("decoded byte by byte") {
    const std::array<unsigned char, 8> prefix{0x10, 0x27, 0, 0, 0, 0, 0, 0};  // 0x2710 = 10000
    CHECK(safetensors_header_length(prefix.data(), "f") == 10000);
    const std::array<unsigned char, 8> high{0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0};
    CHECK(safetensors_header_length(high.data(), "f") == 0x04030201u);
  }
  SECTION("the limit itself is accepted, one more byte is refused") {
    const std::string at = length_prefix(kMaxSafetensorsHeaderBytes);
    const std::string over = length_prefix(kMaxSafetensorsHeaderBytes + 1);
    CHECK(safetensors_header_length(reinterpret_cast<const unsigned char*>(at.data()), "f") ==
          kMaxSafetensorsHeaderBytes);
    const Error e = error_from(
        [&] { safetensors_header_length(reinterpret_cast<const unsigned char*>(over.data()), "big.safetensors"); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("big.safetensors") && Catch::Contains("100000001"));
  }
  SECTION("zero is refused") {
    const std::string zero = length_prefix(0);
    const Error e =
        error_from([&] { safetensors_header_length(reinterpret_cast<const unsigned char*>(zero.data()), "z.st"); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("z.st") && Catch::Contains("0"));
  }
  SECTION("a huge length (2^40) is refused with the caller's exit code") {
    const std::string huge = length_prefix(std::uint64_t{1} << 40);
    const Error e = error_from([&] {
      safetensors_header_length(reinterpret_cast<const unsigned char*>(huge.data()), "remote shard",
                                ExitCode::RemoteFailed);
    });
    CHECK(e.code() == ExitCode::RemoteFailed);
    CHECK_THAT(std::string(e.what()), Catch::Contains("remote shard") && Catch::Contains("1099511627776"));
  }
}

TEST_CASE("safetensors header totals are exact per dtype", "[safetensors]") {
  const json header = {
      {"a.bf16", tensor("BF16", {4, 8}, 0, 64)},            // 32 x 2
      {"b.f32", tensor("F32", {3}, 64, 76)},                // 3 x 4
      {"c.fp8", tensor("F8_E4M3", {10, 10}, 76, 176)},      // 100 x 1
      {"d.scale", tensor("F32", json::array(), 176, 180)},  // scalar: 1 x 4
      {"e.i4", tensor("I4", {3}, 180, 182)},                // 3 half-bytes, rounded up to 2
      {"f.u8", tensor("U8", {5}, 182, 187)},
      {"g.f64", tensor("F64", {2}, 187, 203)},
      {"h.i64", tensor("I64", {1}, 203, 211)},
      {"i.f4", tensor("F4", {4, 2}, 211, 215)},  // 8 half-bytes = 4
      {"j.e8m0", tensor("F8_E8M0", {6}, 215, 221)},
      {"k.unknown", tensor("X_NEW", {7}, 221, 234)},  // unknown dtype: bytes come from the offsets
      {"l.empty", tensor("BF16", {0, 5}, 234, 234)},  // zero elements, zero bytes
  };
  const SafetensorsSummary s = parse_safetensors_header(header.dump(), "model.safetensors");

  CHECK(s.files == 1);
  CHECK(s.tensor_count == 12);
  CHECK(s.bytes_by_dtype.at("BF16") == 64);
  CHECK(s.elements_by_dtype.at("BF16") == 32);
  CHECK(s.bytes_by_dtype.at("F32") == 16);
  CHECK(s.elements_by_dtype.at("F32") == 4);
  CHECK(s.bytes_by_dtype.at("F8_E4M3") == 100);
  CHECK(s.bytes_by_dtype.at("I4") == 2);
  CHECK(s.elements_by_dtype.at("I4") == 3);
  CHECK(s.bytes_by_dtype.at("F4") == 4);
  CHECK(s.bytes_by_dtype.at("U8") == 5);
  CHECK(s.bytes_by_dtype.at("F64") == 16);
  CHECK(s.bytes_by_dtype.at("I64") == 8);
  CHECK(s.bytes_by_dtype.at("F8_E8M0") == 6);
  CHECK(s.bytes_by_dtype.at("X_NEW") == 13);
  CHECK(s.elements_by_dtype.at("X_NEW") == 7);
  CHECK(s.total_bytes == 234);
  CHECK(s.total_elements == 32 + 3 + 100 + 1 + 3 + 5 + 2 + 1 + 8 + 6 + 7 + 0);

  SECTION("a scalar (empty shape) is one element; each tensor counts under its own dtype") {
    const SafetensorsSummary one =
        parse_safetensors_header(json{{"d.scale", tensor("F32", json::array(), 0, 4)}}.dump(), "m");
    CHECK(one.tensor_count == 1);
    CHECK(one.elements_by_dtype.at("F32") == 1);
    CHECK(one.bytes_by_dtype.at("F32") == 4);
    const SafetensorsSummary two = parse_safetensors_header(
        json{{"a.bf16", tensor("BF16", {4, 8}, 0, 64)}, {"b.bf16", tensor("BF16", {2}, 64, 68)}}.dump(), "m");
    CHECK(two.tensor_count == 2);
    CHECK(two.bytes_by_dtype.size() == 1);
    CHECK(two.elements_by_dtype.at("BF16") == 34);
    CHECK(two.bytes_by_dtype.at("BF16") == 68);
  }
}

TEST_CASE("safetensors __metadata__ is optional and its string values are kept", "[safetensors]") {
  SECTION("kept") {
    const json header = {{"__metadata__", {{"format", "pt"}, {"quant_method", "fp8"}, {"not_a_string", 3}}},
                         {"w", tensor("F16", {2}, 0, 4)}};
    const SafetensorsSummary s = parse_safetensors_header(header.dump(), "m.safetensors");
    CHECK(s.metadata.size() == 2);
    CHECK(s.metadata.at("format") == "pt");
    CHECK(s.metadata.at("quant_method") == "fp8");
    CHECK(s.tensor_count == 1);  // __metadata__ is not a tensor
    CHECK(s.total_bytes == 4);
  }
  SECTION("absent") {
    const SafetensorsSummary s = parse_safetensors_header(json{{"w", tensor("F16", {2}, 0, 4)}}.dump(), "m");
    CHECK(s.metadata.empty());
    CHECK(s.tensor_count == 1);
  }
  SECTION("not an object is an error") {
    const Error e = header_error({{"__metadata__", "pt"}, {"w", tensor("F16", {2}, 0, 4)}});
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("__metadata__"));
  }
}

TEST_CASE("safetensors headers padded with NUL bytes parse; a NUL before the end is malformed", "[safetensors]") {
  const std::string text = json{{"w", tensor("F16", {2}, 0, 4)}}.dump();
  CHECK(parse_safetensors_header(text + std::string(5, '\0'), "m").total_bytes == 4);
  CHECK(parse_safetensors_header(text + "   ", "m").total_bytes == 4);
  try {
    (void)parse_safetensors_header(text + std::string("\0\0{\"x\": 1}", 10), "m.safetensors");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("m.safetensors: malformed JSON") && Catch::Contains("NUL"));
  }
}

TEST_CASE("malformed safetensors headers are Errors naming the origin and the tensor", "[safetensors]") {
  SECTION("not JSON") {
    const Error e = error_from([] { parse_safetensors_header("{\"w\": ", "shard.safetensors"); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("shard.safetensors") && Catch::Contains("malformed JSON"));
  }
  SECTION("not an object") {
    const Error e = header_error(json::array({1, 2}));
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("shard.safetensors") && Catch::Contains("not a JSON object"));
  }
  SECTION("an entry that is not an object") {
    CHECK_THAT(std::string(header_error({{"w", 5}}).what()), Catch::Contains("tensor w"));
  }
  SECTION("dtype missing or not a string") {
    CHECK_THAT(std::string(header_error({{"w", {{"shape", {2}}, {"data_offsets", {0, 4}}}}}).what()),
               Catch::Contains("tensor w") && Catch::Contains("dtype"));
    CHECK_THAT(std::string(header_error({{"w", tensor("F16", {2}, 0, 4)},
                                         {"v", {{"dtype", 2}, {"shape", {2}}, {"data_offsets", {4, 8}}}}})
                               .what()),
               Catch::Contains("tensor v") && Catch::Contains("dtype"));
  }
  SECTION("shape types") {
    for (const json& shape :
         {json("4"), json::array({4.5}), json::array({-1}), json::array({"4"}), json::array({nullptr}), json(nullptr),
          json::array({json::object({{"a", 1}})}), json::array({4, true})}) {
      INFO(shape.dump());
      const Error e = header_error({{"w", tensor("U8", shape, 0, 4)}});
      CHECK(e.code() == ExitCode::BadInput);
      CHECK_THAT(std::string(e.what()), Catch::Contains("tensor w") && Catch::Contains("shape"));
    }
  }
  SECTION("data_offsets types and order") {
    for (const json& offsets : {json::array({0}), json::array({0, 1, 2}), json::array({-1, 3}), json::array({0.0, 4}),
                                json("0,4"), json::array({5, 2}), json(nullptr)}) {
      INFO(offsets.dump());
      const Error e = header_error({{"w", {{"dtype", "U8"}, {"shape", {4}}, {"data_offsets", offsets}}}});
      CHECK(e.code() == ExitCode::BadInput);
      CHECK_THAT(std::string(e.what()), Catch::Contains("tensor w") && Catch::Contains("data_offsets"));
    }
  }
  SECTION("offsets that disagree with shape x dtype size") {
    const Error e = header_error({{"model.embed.weight", tensor("BF16", {4}, 0, 6)}});
    CHECK(e.code() == ExitCode::BadInput);
    CHECK(std::string(e.what()) ==
          "shard.safetensors: tensor model.embed.weight: data_offsets cover 6 bytes but shape × dtype is 8");
  }
  SECTION("half-byte dtypes round up per tensor, and nothing else passes") {
    CHECK_NOTHROW(parse_safetensors_header(json{{"w", tensor("U4", {5}, 0, 3)}}.dump(), "s"));
    CHECK_THAT(std::string(header_error({{"w", tensor("U4", {5}, 0, 2)}}).what()),
               Catch::Contains("cover 2 bytes but shape × dtype is 3"));
  }
  SECTION("a shape whose element count overflows 64 bits") {
    const Error e = header_error({{"w", tensor("U8", {4294967296ull, 4294967296ull}, 0, 4)}});
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("tensor w") && Catch::Contains("64 bits"));
  }
  SECTION("elements that fit but bytes that overflow 64 bits") {
    const Error e = header_error({{"w", tensor("F32", {std::uint64_t{1} << 62}, 0, 4)}});
    CHECK_THAT(std::string(e.what()), Catch::Contains("tensor w") && Catch::Contains("64 bits"));
  }
  SECTION("totals that overflow 64 bits across tensors") {
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    const Error e = header_error({{"a", tensor("X", {1}, 0, max)}, {"b", tensor("X", {1}, 0, max)}});
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("overflow"));
  }
  SECTION("tensor names with control characters stay on one line") {
    const Error e = header_error({{"bad\nname", tensor("BF16", {4}, 0, 6)}});
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

TEST_CASE("safetensors header errors carry the caller's exit code", "[safetensors]") {
  CHECK(header_error({{"w", tensor("BF16", {4}, 0, 6)}}, ExitCode::RemoteFailed).code() == ExitCode::RemoteFailed);
  CHECK(header_error(json::array(), ExitCode::RemoteFailed).code() == ExitCode::RemoteFailed);
  CHECK(error_from([] { parse_safetensors_header("not json", "remote", ExitCode::RemoteFailed); }).code() ==
        ExitCode::RemoteFailed);
  CHECK(error_from([] {
          parse_safetensors_header("{\"w\": {\"dtype\": \"U8\", \"shape\": [-1], \"data_offsets\": [0, 1]}}", "remote",
                                   ExitCode::RemoteFailed);
        }).code() == ExitCode::RemoteFailed);
}

TEST_CASE("reading a safetensors file reads only its prefix and header", "[safetensors]") {
  testsupport::TempDir dir;
  const json header = {
      {"__metadata__", {{"format", "pt"}}}, {"w", tensor("BF16", {2, 3}, 0, 12)}, {"b", tensor("F32", {3}, 12, 24)}};

  SECTION("with tensor data after the header") {
    const auto file = dir.path() / "model.safetensors";
    testsupport::write_file(file, safetensors_bytes(header.dump(), std::string(24, '\x7f')));
    const SafetensorsSummary s = read_safetensors_file(file);
    CHECK(s.files == 1);
    CHECK(s.total_bytes == 24);
    CHECK(s.total_elements == 9);
    CHECK(s.bytes_by_dtype.at("BF16") == 12);
    CHECK(s.metadata.at("format") == "pt");
  }
  SECTION("header only (data never read), padded with spaces as writers do") {
    const auto file = dir.path() / "headers-only.safetensors";
    testsupport::write_file(file, safetensors_bytes(header.dump() + "      "));
    const SafetensorsSummary s = read_safetensors_file(file);
    CHECK(s.total_bytes == 24);
    CHECK(s.tensor_count == 2);
  }
  SECTION("a huge declared length is refused without allocating it") {
    const auto file = dir.path() / "huge.safetensors";
    testsupport::write_file(file, length_prefix(std::uint64_t{1} << 40) + "{}");
    const Error e = error_from([&] { read_safetensors_file(file); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains(file.string()) && Catch::Contains("1099511627776"));
  }
  SECTION("a zero declared length is refused") {
    const auto file = dir.path() / "zero.safetensors";
    testsupport::write_file(file, length_prefix(0) + "{}");
    const Error e = error_from([&] { read_safetensors_file(file); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains(file.string()));
  }
  SECTION("a file shorter than its declared header is truncated") {
    const auto file = dir.path() / "short.safetensors";
    testsupport::write_file(file, length_prefix(1000) + R"({"w": )");
    const Error e = error_from([&] { read_safetensors_file(file); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains(file.string()) && Catch::Contains("truncated"));
  }
  SECTION("a file shorter than the 8-byte prefix is truncated") {
    const auto file = dir.path() / "tiny.safetensors";
    testsupport::write_file(file, "abc");
    const Error e = error_from([&] { read_safetensors_file(file); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains(file.string()) && Catch::Contains("truncated"));
  }
  SECTION("a malformed header names the file") {
    const auto file = dir.path() / "bad.safetensors";
    testsupport::write_file(file, safetensors_bytes(json{{"w", tensor("BF16", {4}, 0, 6)}}.dump()));
    const Error e = error_from([&] { read_safetensors_file(file); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::StartsWith(file.string() + ": tensor w: data_offsets cover 6 bytes"));
  }
  SECTION("a missing file is an error naming the path") {
    const auto file = dir.path() / "absent.safetensors";
    const Error e = error_from([&] { read_safetensors_file(file); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains(file.string()));
  }
  SECTION("a directory is an error naming the path") {
    const Error e = error_from([&] { read_safetensors_file(dir.path()); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains(dir.path().string()));
  }
}

TEST_CASE("merging safetensors summaries adds totals and keeps the first file's metadata", "[safetensors]") {
  const SafetensorsSummary first = parse_safetensors_header(
      json{{"__metadata__", {{"format", "pt"}}}, {"a", tensor("BF16", {8}, 0, 16)}}.dump(), "shard1");
  const SafetensorsSummary second = parse_safetensors_header(
      json{{"__metadata__", {{"format", "other"}}}, {"b", tensor("BF16", {4}, 0, 8)}, {"c", tensor("F32", {2}, 8, 16)}}
          .dump(),
      "shard2");

  SafetensorsSummary merged;
  merge_summary(merged, first);
  merge_summary(merged, second);
  CHECK(merged.files == 2);
  CHECK(merged.tensor_count == 3);
  CHECK(merged.total_bytes == 32);
  CHECK(merged.total_elements == 14);
  CHECK(merged.bytes_by_dtype.at("BF16") == 24);
  CHECK(merged.elements_by_dtype.at("BF16") == 12);
  CHECK(merged.bytes_by_dtype.at("F32") == 8);
  CHECK(merged.metadata.at("format") == "pt");

  SECTION("an overflowing merge throws and leaves the target unchanged") {
    SafetensorsSummary huge = first;
    huge.total_bytes = std::numeric_limits<std::uint64_t>::max();
    const Error e = error_from([&] { merge_summary(merged, huge); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK(merged.files == 2);
    CHECK(merged.total_bytes == 32);
    CHECK(merged.tensor_count == 3);
  }
}
