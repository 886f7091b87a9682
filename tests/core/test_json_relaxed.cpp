// Relaxed JSON: real config.json files contain Python's bare NaN / Infinity / -Infinity. They parse, every
// other deviation from JSON is one clear error naming the origin and the position.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

// The Error that parsing `text` throws; fails the test when nothing (or something else) is thrown.
Error relaxed_error(const std::string& text, ExitCode on_error = ExitCode::BadInput) {
  try {
    parse_json_relaxed(text, "cfg.json", on_error);
  } catch (const Error& e) {
    return e;
  }
  FAIL("parse_json_relaxed accepted malformed input: " << text);
  return Error(ExitCode::Fits, "unreachable");
}

}  // namespace

TEST_CASE("relaxed JSON parses standard JSON unchanged", "[json_relaxed]") {
  const json j =
      parse_json_relaxed(R"({"a": [1, -2, 3.5, true, null], "b": {"c": "d"}, "e": 18446744073709551615})", "cfg.json");
  CHECK(j == json::parse(R"({"a": [1, -2, 3.5, true, null], "b": {"c": "d"}, "e": 18446744073709551615})"));
  CHECK(j["e"].is_number_unsigned());
  CHECK(j["a"][1].get<int>() == -2);
}

TEST_CASE("bare Infinity, -Infinity and NaN outside strings become +inf, -inf and null", "[json_relaxed]") {
  SECTION("Infinity is positive infinity, a float") {
    const json j = parse_json_relaxed(R"({"x": Infinity})", "cfg.json");
    REQUIRE(j["x"].is_number_float());
    CHECK(std::isinf(j["x"].get<double>()));
    CHECK(j["x"].get<double>() > 0);
  }
  SECTION("-Infinity is negative infinity, a float") {
    const json j = parse_json_relaxed(R"({"x": -Infinity})", "cfg.json");
    REQUIRE(j["x"].is_number_float());
    CHECK(std::isinf(j["x"].get<double>()));
    CHECK(j["x"].get<double>() < 0);
  }
  SECTION("NaN is null") {
    const json j = parse_json_relaxed(R"({"x": NaN})", "cfg.json");
    CHECK(j["x"].is_null());
  }
  SECTION("all three in one array, with neighbours intact") {
    const json j = parse_json_relaxed("[0.0,Infinity,-Infinity,NaN,2]", "cfg.json");
    REQUIRE(j.size() == 5);
    CHECK(j[0].get<double>() == 0.0);
    CHECK(j[1].get<double>() == std::numeric_limits<double>::infinity());
    CHECK(j[2].get<double>() == -std::numeric_limits<double>::infinity());
    CHECK(j[3].is_null());
    CHECK(j[4].get<int>() == 2);
  }
  SECTION("at the top level, alone") {
    CHECK(parse_json_relaxed("Infinity", "cfg.json").get<double>() == std::numeric_limits<double>::infinity());
    CHECK(parse_json_relaxed(" -Infinity\n", "cfg.json").get<double>() == -std::numeric_limits<double>::infinity());
    CHECK(parse_json_relaxed("NaN", "cfg.json").is_null());
  }
  SECTION("ordinary numbers that look like the internal rewrite are not mistaken for it") {
    // The rewrite uses number literals of the form 0.0e<n> and 0e<n>; real ones must stay plain zeros.
    const json j = parse_json_relaxed("[Infinity, NaN, 0.0e0, 0e0, 0.0e1, 0e1, -0.0e0]", "cfg.json");
    REQUIRE(j.size() == 7);
    CHECK(std::isinf(j[0].get<double>()));
    CHECK(j[1].is_null());
    for (std::size_t i = 2; i < 7; ++i) {
      INFO("element " << i);
      REQUIRE(j[i].is_number_float());
      CHECK(j[i].get<double>() == 0.0);
    }
  }
}

TEST_CASE("the words Infinity and NaN inside string literals are left untouched", "[json_relaxed]") {
  SECTION("as whole string values and keys") {
    const json j = parse_json_relaxed(R"({"Infinity": "NaN", "b": "-Infinity", "NaN": Infinity})", "cfg.json");
    CHECK(j["Infinity"] == "NaN");
    CHECK(j["b"] == "-Infinity");
    CHECK(std::isinf(j["NaN"].get<double>()));
  }
  SECTION("after an escaped quote inside the string") {
    const json j = parse_json_relaxed(R"({"s": "say \"Infinity\" or NaN \\", "t": NaN})", "cfg.json");
    CHECK(j["s"] == R"(say "Infinity" or NaN \)");
    CHECK(j["t"].is_null());
  }
  SECTION("identifiers that merely contain the word") {
    const json j = parse_json_relaxed(R"({"a": "Infinityx", "b": "xNaN", "c": "NaNo", "d": [Infinity]})", "cfg.json");
    CHECK(j["a"] == "Infinityx");
    CHECK(j["b"] == "xNaN");
    CHECK(j["c"] == "NaNo");
    CHECK(std::isinf(j["d"][0].get<double>()));
  }
}

TEST_CASE("bare words that are not exactly Infinity or NaN are still malformed", "[json_relaxed]") {
  for (const std::string text : {"[Infinityx]", "[xInfinity]", "[NaNa]", "[infinity]", "[nan]", "[-NaN]", "[1Infinity]",
                                 "[Infinity1]", "[NaN0]"}) {
    INFO(text);
    const Error e = relaxed_error(text);
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("malformed JSON"));
  }
}

TEST_CASE("malformed JSON is an Error naming the origin, line and column", "[json_relaxed]") {
  SECTION("a syntax error on the second line") {
    const Error e = relaxed_error("{\n  \"a\": tru\n}");
    CHECK(e.code() == ExitCode::BadInput);
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::StartsWith("cfg.json: malformed JSON at line 2, column"));
    CHECK(msg.find('\n') == std::string::npos);
  }
  SECTION("a trailing comma") {
    const std::string msg = relaxed_error("{\"a\": 1,}").what();
    CHECK_THAT(msg, Catch::StartsWith("cfg.json: malformed JSON at line 1, column 9: "));
  }
  SECTION("the column is counted in the original text, even after rewritten words") {
    // "[Infinity, NaN, x]": the bad 'x' is the 17th character of line 1.
    const std::string msg = relaxed_error("[Infinity, NaN, x]").what();
    CHECK_THAT(msg, Catch::StartsWith("cfg.json: malformed JSON at line 1, column 17: "));
    const std::string second = relaxed_error("[NaN,\n NaN, Infinity, -Infinity, }").what();
    CHECK_THAT(second, Catch::StartsWith("cfg.json: malformed JSON at line 2, column 28: "));
  }
  SECTION("the reason quotes the original words, never the internal rewrite") {
    // nlohmann's "last read" excerpt here spans the rewritten NaN; it must read as the user wrote it.
    const std::string msg = relaxed_error("[Infinity, NaN, x]").what();
    CHECK_THAT(msg, Catch::Contains("NaN, x"));
    CHECK(msg.find("0e") == std::string::npos);
  }
  SECTION("empty input") {
    const Error e = relaxed_error("");
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::StartsWith("cfg.json: malformed JSON at line 1, column 1: "));
  }
  SECTION("whitespace only") { CHECK_THAT(std::string(relaxed_error("  \n ").what()), Catch::Contains("line 2")); }
  SECTION("trailing garbage after the value") {
    CHECK_THAT(std::string(relaxed_error("{} x").what()), Catch::Contains("cfg.json: malformed JSON at line 1"));
  }
  SECTION("an unterminated string with a newline inside stays a one-line message") {
    const std::string msg = relaxed_error("{\"a\": \"abc\ndef").what();
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.find('\r') == std::string::npos);
  }
  SECTION("a number too large for a double") {
    const Error e = relaxed_error("[1e999]");
    CHECK(e.code() == ExitCode::BadInput);
    CHECK_THAT(std::string(e.what()), Catch::Contains("cfg.json"));
  }
  SECTION("a NUL byte, which nlohmann would take for the end of the input, is malformed where it stands") {
    const std::string msg = relaxed_error(std::string("{\"a\": 1}\n\0garbage", 17)).what();
    CHECK_THAT(msg, Catch::StartsWith("cfg.json: malformed JSON at line 2, column 1: a NUL byte"));
    CHECK_THAT(std::string(relaxed_error(std::string("{\"a\": \"x\0y\"}", 12)).what()),
               Catch::Contains("line 1, column 9"));
  }
  SECTION("the requested exit code is used") {
    const Error e = relaxed_error("{", ExitCode::RemoteFailed);
    CHECK(e.code() == ExitCode::RemoteFailed);
    CHECK_THAT(std::string(e.what()), Catch::Contains("line 1"));
  }
}

TEST_CASE("a real Nemotron-H config with Infinity parses", "[json_relaxed]") {
  const auto file = testsupport::test_data("configs/nvidia--Nemotron-H-56B-Base-8K/config.json");
  std::ifstream in(file, std::ios::binary);
  REQUIRE(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  const json j = parse_json_relaxed(ss.str(), file.string());
  REQUIRE(j.is_object());
  REQUIRE(j["time_step_limit"].size() == 2);
  CHECK(j["time_step_limit"][0].get<double>() == 0.0);
  const double limit = j["time_step_limit"][1].get<double>();
  CHECK(std::isinf(limit));
  CHECK(limit > 0);
  CHECK(j["model_type"].is_string());
}
