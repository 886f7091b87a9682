// SkuCatalog::load's quick read (src/sources/sku_catalog_scan.hpp): rows read straight from the scan where they hold
// plain JSON, the whole file parsed otherwise. Either way the catalog, or the error, is the same.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

using namespace vramcalc;

namespace {

// The catalog of a file with these gpus rows and one instance of G1.
SkuCatalog load_rows(const std::string& gpu_rows) {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "skus.json", R"({"schema_version": 1, "gpus": [)" + gpu_rows +
                                                        R"(], "instances": [{"name": "i1", "cloud": "aws", "gpu": "G1",
                                                        "gpu_count": 2, "kaito_supported": true}]})");
  return SkuCatalog::load(dir.path() / "skus.json");
}

std::optional<std::string> load_error(const std::string& gpu_rows) {
  try {
    (void)load_rows(gpu_rows);
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("sku catalog scan: plain rows read as the parser reads them", "[sku-scan]") {
  const SkuCatalog c = load_rows(R"({"name": "G1", "aliases": ["g-one", "G 1"], "vendor": "NVIDIA",
      "compute_capability": 8.9, "memory_gib_marketed": 24, "memory_mib_reported": 23034,
      "torch_total_memory_mib_observed": [22491, 22563], "bf16": true, "fp8": true, "bandwidth_gbps": 1.5e2,
      "vllm_cuda": true, "notes": "a note", "form_factor": {"slots": [1, 2.5, null, false]}, "source": "x"})");
  REQUIRE(c.all().size() == 2);
  const Gpu& g = c.all()[0].gpu;
  CHECK(g.aliases == std::vector<std::string>{"g-one", "G 1"});
  CHECK(g.compute_capability == 8.9);
  CHECK(g.memory_gib_marketed == 24);
  CHECK(g.memory_mib_reported == 23034u);
  CHECK(g.cuda_total_mib_observed == std::vector<std::uint64_t>{22491, 22563});
  CHECK(g.bandwidth_gbps == 150.0);
  CHECK(g.note == "a note");
  CHECK(c.all()[0].kaito_supported);  // through the instance flagged so
  CHECK(c.all()[1].gpu.name == "G1");
  CHECK(c.all()[1].gpus_per_node == 2);
}

TEST_CASE("sku catalog scan: what the quick read leaves to the parser reads the same", "[sku-scan]") {
  // An escape, a byte above ASCII, Python's NaN, "-0": the whole file is parsed. A key given twice: the last counts,
  // as in the parser's document.
  CHECK(load_rows(R"({"name": "G\u0031", "memory_gib_marketed": 16})").all()[0].name == "G1");
  CHECK(load_rows(R"({"name": "G1", "memory_gib_marketed": 16, "notes": "caf\u00e9 \u2014 ok"})").all()[0].gpu.note ==
        "caf\xc3\xa9 \xe2\x80\x94 ok");
  CHECK(load_rows("{\"name\": \"G1\", \"memory_gib_marketed\": 16, \"notes\": \"caf\xc3\xa9\"}").all()[0].gpu.note ==
        "caf\xc3\xa9");
  CHECK_FALSE(
      load_rows(R"({"name": "G1", "memory_gib_marketed": 16, "bandwidth_gbps": NaN})").all()[0].gpu.bandwidth_gbps);
  const auto zero = load_rows(R"({"name": "G1", "memory_gib_marketed": 16, "compute_capability": -0})");
  CHECK_FALSE(std::signbit(*zero.all()[0].gpu.compute_capability));
  CHECK(load_rows(R"({"name": "G1", "memory_gib_marketed": 16, "memory_gib_marketed": 24})")
            .all()[0]
            .gpu.memory_gib_marketed == 24);
}

TEST_CASE("sku catalog scan: what the parser refuses is refused, with its error", "[sku-scan]") {
  for (const std::string row : {
           R"({"name": "G1", "memory_gib_marketed": 16, "form_factor": tru})",  // not JSON, in a member not read
           "{\"name\": \"G1\", \"memory_gib_marketed\": 16, \"x\": \"a\tb\"}",  // a control character in a string
           "{\"name\": \"G1\", \"memory_gib_marketed\": 16, \"x\x01\": 1}",     // ... in a key
           R"({"name": "G1", "memory_gib_marketed": 16, "memory_mib_reported": 1.5})",  // not a count
           R"({"name": "G1", "memory_gib_marketed": 16, "memory_mib_reported": -1})",   // not a count either
           R"({"name": "G1", "memory_gib_marketed": 16, "bf16": "yes"})",               // not a boolean
           R"({"name": "G1", "memory_gib_marketed": 0})",                               // not positive
           R"({"name": "G1", "memory_gib_marketed": 16, "aliases": ["a", 1]})",         // a non-string alias
           R"({"name": "G1", "memory_gib_marketed": 16, "n": 01})",                     // a leading zero
           R"({"name": "G1", "memory_gib_marketed": 16}, {"name": "g1", "memory_gib_marketed": 16})",  // twice
       }) {
    INFO(row);
    const auto error = load_error(row);
    REQUIRE(error);
    CHECK_THAT(*error, Catch::Contains("skus.json"));
  }
}
