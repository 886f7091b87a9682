// The quick scan's value readers and one-pass tables (src/sources/json_scan.hpp): each reads exactly what nlohmann's
// parser would read, or gives up; and the case-insensitive search that picks the rows worth reading.
#include <catch2/catch.hpp>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sources/json_scan.hpp"

using namespace vramcalc::detail;

TEST_CASE("json scan values: plain strings only", "[json-scan]") {
  CHECK(plain_string(R"("abc def")") == "abc def");
  CHECK(plain_string(R"("")") == "");
  CHECK_FALSE(plain_string(R"("a\"b")"));
  CHECK_FALSE(plain_string(R"("a\nb")"));
  CHECK_FALSE(plain_string("\"a\tb\""));
  CHECK_FALSE(plain_string("\"caf\xc3\xa9\""));
  CHECK_FALSE(plain_string("\"a\x7f\""));
  CHECK_FALSE(plain_string("abc"));
  CHECK_FALSE(plain_string("\""));
}

TEST_CASE("json scan values: numbers as nlohmann's get<double>() and is_number_unsigned() read them", "[json-scan]") {
  for (const std::string text : {"0", "1", "40", "8.0", "8.9", "-5", "1.5e2", "2E-3", "0.1", "1e+20",
                                 "18446744073709551615", "-9223372036854775808", "123456789012345678"}) {
    INFO(text);
    const auto parsed = nlohmann::json::parse(text);
    REQUIRE(plain_number(text));
    CHECK(*plain_number(text) == parsed.get<double>());
    CHECK(plain_unsigned(text).has_value() == parsed.is_number_unsigned());
    if (parsed.is_number_unsigned()) CHECK(*plain_unsigned(text) == parsed.get<std::uint64_t>());
  }
  // Not JSON, or held otherwise by the parser (-0 is the integer 0; a value past 64 bits a float): left to it.
  for (const std::string text :
       {"-0", "01", "1.", ".5", "+1", "1e", "--1", "0x10", "NaN", "Infinity", "1e400", "18446744073709551616", ""}) {
    INFO(text);
    CHECK_FALSE(plain_number(text));
    CHECK_FALSE(plain_unsigned(text));
  }
}

TEST_CASE("json scan values: plain JSON, nested", "[json-scan]") {
  CHECK(plain_json(R"({"a": [1, 2.5, "x", true, false, null, {}, []], "b": {"c": {"d": -3}}})"));
  CHECK(plain_json("[ 1 ,\n 2 ]"));
  CHECK_FALSE(plain_json(R"({"a": tru})"));
  CHECK_FALSE(plain_json(R"({"a": 1,})"));
  CHECK_FALSE(plain_json(R"({"a" 1})"));
  CHECK_FALSE(plain_json(R"({1: 1})"));
  CHECK_FALSE(plain_json(R"([1 2])"));
  CHECK_FALSE(plain_json(R"({"a": "\u0041"})"));
  CHECK_FALSE(plain_json(R"(nullx)"));
  CHECK_FALSE(plain_json(std::string(40, '[') + std::string(40, ']')));  // deeper than the quick read goes
}

TEST_CASE("json scan values: one pass cuts the named tables as scan_object_array does", "[json-scan]") {
  const std::string text = R"({"v": 1, "rows": [ {"a": "]"}, {"b": [1, {}]} ], "other": [1], "x": {"rows": []}})";
  const auto scan = scan_object_arrays(text, {"rows", "other", "missing"});
  REQUIRE(scan);
  CHECK(scan->members.size() == 4);
  REQUIRE(scan->arrays.size() == 3);
  REQUIRE(scan->arrays[0]);
  CHECK(*scan->arrays[0] == *scan_object_array(*unique_member(scan->members, "rows")));
  CHECK_FALSE(scan->arrays[1]);  // not objects
  CHECK_FALSE(scan->arrays[2]);
  CHECK(scan->members[1].value == R"([ {"a": "]"}, {"b": [1, {}]} ])");
  // The last member of the name counts, as nlohmann's document keeps it.
  const auto twice = scan_object_arrays(R"({"rows": [{}], "rows": 5})", {"rows"});
  REQUIRE(twice);
  CHECK_FALSE(twice->arrays[0]);
  // Text after the array is part of the value, as scan_object cuts it: no elements then.
  const auto trailing = scan_object_arrays(R"({"rows": [{}] x})", {"rows"});
  REQUIRE(trailing);
  CHECK(trailing->members[0].value == "[{}] x");
  CHECK_FALSE(trailing->arrays[0]);
  CHECK(scan_array(R"([1, "a,b", [2, 3], {"c": 4}])") ==
        std::vector<std::string_view>{"1", R"("a,b")", "[2, 3]", R"({"c": 4})"});
}

TEST_CASE("json scan values: contains_icase finds the needle wherever it is, in any ASCII case", "[json-scan]") {
  const std::string text = R"({"id": "meta-llama/Llama-3.1-8B", "aliases": ["llama3.1-8b"]})";
  CHECK(contains_icase(text, "META-LLAMA/llama-3.1-8b"));
  CHECK(contains_icase(text, "LLAMA3.1-8B"));
  CHECK(contains_icase(text, "aliases"));  // letters only: no anchor
  CHECK(contains_icase(text, "{\"id"));
  CHECK(contains_icase(text, "8b\"]}"));  // at the very end
  CHECK_FALSE(contains_icase(text, "meta-llama/Llama-3.1-8B-Instruct"));
  CHECK_FALSE(contains_icase(text, "llama-3.2"));
  CHECK_FALSE(contains_icase("ab", "abc"));
  // Every needle of a text, at every place, and each with its last character changed: what a plain search of the
  // lowercased text says.
  const auto lowered = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  const std::string lower = lowered(text);
  for (std::size_t at = 0; at < text.size(); ++at)
    for (std::size_t n = 1; at + n <= text.size() && n < 12; ++n) {
      std::string needle = text.substr(at, n);
      for (std::size_t k = 0; k < needle.size(); k += 2)
        needle[k] = static_cast<char>(std::toupper(static_cast<unsigned char>(needle[k])));
      INFO(needle);
      CHECK(contains_icase(text, needle));
      for (const char last : {'#', '-', 'a', 'Z', '8'}) {
        needle.back() = last;
        CHECK(contains_icase(text, needle) == (lower.find(lowered(needle)) != std::string::npos));
      }
    }
}
