// The quick scan that cuts a bundled data file into members and rows without parsing it, so a lookup parses
// only what can match. It follows strings and nesting only; whatever it cannot cut, it gives up on (nullopt).
#include <catch2/catch.hpp>

#include <string>

#include "sources/json_scan.hpp"

using namespace vramcalc::detail;

TEST_CASE("json scan: an object's members, in order, values as written without surrounding space", "[json-scan]") {
  const auto m = scan_object(R"( { "a" : 1 , "b": {"x": [1, "]}"]}, "c":"q\"uote", "d": [ ], "a": null } )");
  REQUIRE(m);
  REQUIRE(m->size() == 5);
  CHECK((*m)[0].key == "a");
  CHECK((*m)[0].value == "1");
  CHECK((*m)[1].key == "b");
  CHECK((*m)[1].value == R"({"x": [1, "]}"]})");
  CHECK((*m)[2].value == R"("q\"uote")");
  CHECK((*m)[3].value == "[ ]");
  CHECK((*m)[4].value == "null");
  CHECK(scan_object("{}")->empty());
  CHECK(scan_object(" {\n} \n")->empty());
}

TEST_CASE("json scan: duplicate keys are kept, and unique_member refuses them", "[json-scan]") {
  const auto m = scan_object(R"({"a": 1, "b": 2, "a": 3})");
  REQUIRE(m);
  CHECK(m->size() == 3);
  CHECK_FALSE(unique_member(*m, "a"));
  CHECK(unique_member(*m, "b") == std::string_view("2"));
  CHECK_FALSE(unique_member(*m, "z"));
}

TEST_CASE("json scan: strings end at the first quote not escaped by an odd run of backslashes", "[json-scan]") {
  const auto m = scan_object(R"({"a": "x\\", "b": "y\\\"z", "c": "\\\\"})");
  REQUIRE(m);
  REQUIRE(m->size() == 3);
  CHECK((*m)[0].value == R"("x\\")");
  CHECK((*m)[1].value == R"("y\\\"z")");
  CHECK((*m)[2].value == R"("\\\\")");
}

TEST_CASE("json scan: an array of objects, element by element", "[json-scan]") {
  const auto rows = scan_object_array(R"([ {"name": "a,b"}, {"n": {"deep": [{}]}} ,{} ])");
  REQUIRE(rows);
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0] == R"({"name": "a,b"})");
  CHECK((*rows)[1] == R"({"n": {"deep": [{}]}})");
  CHECK((*rows)[2] == "{}");
  CHECK(scan_object_array("[]")->empty());
}

TEST_CASE("json scan: gives up on what it cannot cut", "[json-scan]") {
  for (const char* text : {"", "[]", "{", "{\"a\": 1", "{\"a\" 1}", "{\"a\": }", "{\"a\": 1,}", "{\"a\": 1} x",
                           "{\"a\": \"open}", "{\"k\\u0041\": 1}", "{a: 1}", "{\"a\": [1}", "{\"a\": 1]}"}) {
    INFO(text);
    CHECK_FALSE(scan_object(text));
  }
  for (const char* text : {"", "{}", "[", "[1]", "[{}, 2]", "[{},]", "[{}] x", "[{\"a\": 1]", "[\"{}\"]"}) {
    INFO(text);
    CHECK_FALSE(scan_object_array(text));
  }
}

TEST_CASE("json scan: contains_icase ignores ASCII case only", "[json-scan]") {
  CHECK(contains_icase(R"({"name": "Standard_NC24ads_A100_v4"})", "standard_nc24ADS_a100"));
  CHECK(contains_icase("abc", ""));
  CHECK_FALSE(contains_icase("A100-80G", "A100-80GB"));
  CHECK_FALSE(contains_icase("", "a"));
}
