// GPUs and cloud instances (data/skus.json): reported and CUDA-visible memory, case-insensitive names and
// aliases (KAITO's spellings included), GPU counts per instance, accelerators vLLM's CUDA path does not serve,
// and "did you mean" suggestions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
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
#include "vramcalc/sources/sku_catalog.hpp"

using namespace vramcalc;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json skus_json() {
  std::ifstream in(testsupport::repo_data("skus.json"), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_json_relaxed(ss.str(), "skus.json");
}

const Sku& sku(const std::string& name) {
  const Sku* s = testsupport::bundled_skus().find(name);
  INFO("SKU " << name);
  REQUIRE(s != nullptr);
  return *s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<Error> load_error(const std::string& contents) {
  testsupport::TempDir dir;
  const auto file = dir.path() / "skus.json";
  testsupport::write_file(file, contents);
  try {
    (void)SkuCatalog::load(file);
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("skus: A100-80G reports 81920 MiB, H100-80G 81559 MiB with observed CUDA totals", "[sku]") {
  const Sku& a100 = sku("A100-80G");
  CHECK(a100.name == "A100-80G");
  CHECK_FALSE(a100.is_instance);
  CHECK(a100.gpus_per_node == 1);
  CHECK(a100.cloud.empty());
  CHECK(a100.gpu.memory_gib_marketed == 80);
  CHECK(a100.gpu.memory_mib_reported == std::optional<std::uint64_t>(81920));
  CHECK(a100.gpu.bf16);
  CHECK_FALSE(a100.gpu.fp8);
  CHECK(a100.gpu.cuda_served);

  const Sku& h100 = sku("H100-80G");
  CHECK(h100.gpu.memory_mib_reported == std::optional<std::uint64_t>(81559));
  CHECK(h100.gpu.compute_capability == std::optional<double>(9.0));
  CHECK(h100.gpu.fp8);
  REQUIRE_FALSE(h100.gpu.cuda_total_mib_observed.empty());
  for (auto mib : h100.gpu.cuda_total_mib_observed) {
    CHECK(mib > 80000);
    CHECK(mib < 81559);  // CUDA sees a little less than nvidia-smi reports
  }
  CHECK(h100.gpu.bandwidth_gbps == std::optional<double>(3350));
}

TEST_CASE("skus: a GPU with no reading has no reported memory and no CUDA totals", "[sku]") {
  const Sku& a2 = sku("A2");
  CHECK_FALSE(a2.gpu.memory_mib_reported.has_value());
  CHECK(a2.gpu.cuda_total_mib_observed.empty());
  CHECK(a2.gpu.memory_gib_marketed == 16);
  CHECK_FALSE(a2.verified);  // some of its fields have no source
}

TEST_CASE("skus: names and aliases match ignoring case, GPUs and instances alike", "[sku]") {
  CHECK(sku("a100-80g").name == "A100-80G");
  CHECK(sku("NVIDIA A100-SXM4-80GB").name == "A100-80G");
  CHECK(sku("nvidia h100 80gb hbm3").name == "H100-80G");
  const Sku& nc24 = sku("standard_nc24ads_a100_v4");
  CHECK(nc24.name == "Standard_NC24ads_A100_v4");
  CHECK(nc24.is_instance);
  CHECK(nc24.cloud == "azure");
  CHECK(nc24.gpus_per_node == 1);
  CHECK(nc24.gpu.name == "A100-80G-PCIE");
  CHECK(nc24.kaito_supported);
  CHECK(testsupport::bundled_skus().find("P4D.24XLARGE") == testsupport::bundled_skus().find("p4d.24xlarge"));
}

TEST_CASE("skus: a family name whose GPUs differ in memory is ambiguous, though the catalog aliases it", "[sku]") {
  // The catalog's source maps "A100" to the 40 GB part (SkyPilot's) and "H100" to the SXM part; either silently
  // sizes some plans on the wrong memory. test_sku_names.cpp covers loose and ambiguous names.
  CHECK_THROWS_WITH(testsupport::bundled_skus().find("A100"), Catch::Contains("A100-40G, A100-80G or A100-80G-PCIE"));
  CHECK_THROWS_WITH(testsupport::bundled_skus().find("H100"),
                    Catch::Contains("H100-80G, H100-80G-PCIE or H100-NVL-94G"));
  CHECK(sku("nvidia-tesla-a100").name == "A100-40G");  // GCP's accelerator name is the 40 GB part
  CHECK(sku("H100-SXM").name == "H100-80G");
}

TEST_CASE("skus: KAITO's spelling Standard_ND96asr_A100_v4 is Azure's Standard_ND96asr_v4, 8 x A100-40G", "[sku]") {
  const Sku& nd = sku("Standard_ND96asr_A100_v4");
  CHECK(nd.name == "Standard_ND96asr_v4");
  CHECK(nd.gpus_per_node == 8);
  CHECK(nd.gpu.name == "A100-40G");
  CHECK(nd.gpu.memory_mib_reported == std::optional<std::uint64_t>(40960));
  CHECK(nd.kaito_supported);
  CHECK(&nd == &sku("standard_nd96asr_v4"));
}

TEST_CASE("skus: p4d.24xlarge has 8 x A100-40G", "[sku]") {
  const Sku& p4d = sku("p4d.24xlarge");
  CHECK(p4d.is_instance);
  CHECK(p4d.cloud == "aws");
  CHECK(p4d.gpus_per_node == 8);
  CHECK(p4d.gpu.name == "A100-40G");
  CHECK(p4d.gpu.memory_gib_marketed == 40);
  CHECK(p4d.kaito_supported);
}

TEST_CASE("skus: Trainium, Inferentia2 and Radeon instances exist and are not served by vLLM's CUDA path", "[sku]") {
  const Sku& trn = sku("trn1.32xlarge");
  CHECK(trn.gpus_per_node == 16);
  CHECK(trn.gpu.name == "TRAINIUM");
  CHECK(trn.gpu.memory_gib_marketed == 32);
  CHECK_FALSE(trn.gpu.cuda_served);
  CHECK_THAT(trn.gpu.note, Catch::Contains("Neuron"));
  CHECK(trn.kaito_supported);

  const Sku& inf = sku("inf2.xlarge");
  CHECK(inf.gpus_per_node == 1);
  CHECK(inf.gpu.name == "INFERENTIA2");
  CHECK(inf.gpu.memory_gib_marketed == 32);
  CHECK_FALSE(inf.gpu.cuda_served);
  CHECK_FALSE(inf.gpu.note.empty());

  CHECK(sku("Standard_NG32ads_V620_v1").gpu.name == "RADEON-PRO-V620");
  CHECK_FALSE(sku("Standard_NG32ads_V620_v1").gpu.cuda_served);
  CHECK(sku("g4ad.16xlarge").gpu.name == "RADEON-PRO-V520");
  CHECK(sku("g4ad.16xlarge").gpus_per_node == 4);
  CHECK(sku("g4ad.xlarge").gpu.memory_gib_marketed == 8);
  CHECK_FALSE(sku("g4ad.xlarge").gpu.cuda_served);

  // Exactly those four accelerators are flagged; every other GPU is served by vLLM's CUDA path.
  std::set<std::string> not_cuda;
  for (const auto& s : testsupport::bundled_skus().all())
    if (!s.is_instance && !s.gpu.cuda_served) not_cuda.insert(s.name);
  CHECK(not_cuda == std::set<std::string>{"INFERENTIA2", "RADEON-PRO-V520", "RADEON-PRO-V620", "TRAINIUM"});
}

TEST_CASE("skus: an unknown SKU is absent, and suggest() proposes the closest names", "[sku]") {
  CHECK(testsupport::bundled_skus().find("A100-80") == nullptr);
  CHECK(testsupport::bundled_skus().find("") == nullptr);
  const auto s = testsupport::bundled_skus().suggest("A100-80");
  REQUIRE_FALSE(s.empty());
  CHECK(s.front() == "A100-80G");
  CHECK(s.size() <= 3);

  // An alias that is close suggests its SKU's canonical name, once.
  const auto nd = testsupport::bundled_skus().suggest("Standard_ND96asr_A100_v5");
  REQUIRE_FALSE(nd.empty());
  CHECK(nd.front() == "Standard_ND96asr_v4");
  CHECK(std::set<std::string>(nd.begin(), nd.end()).size() == nd.size());

  CHECK(testsupport::bundled_skus().suggest("h100", 10).size() == 10);
  CHECK(testsupport::bundled_skus().suggest("zzzzzzzzzzzz").empty());
}

TEST_CASE("skus: bare GPUs come first, then every instance, each naming a known GPU", "[sku]") {
  const json doc = skus_json();
  const auto& all = testsupport::bundled_skus().all();
  REQUIRE(all.size() == doc.at("gpus").size() + doc.at("instances").size());
  const std::size_t gpus = doc.at("gpus").size();
  for (std::size_t i = 0; i < all.size(); ++i) {
    INFO(all[i].name);
    CHECK(all[i].is_instance == (i >= gpus));
    if (!all[i].is_instance) continue;
    CHECK(all[i].gpus_per_node >= 1);
    CHECK_FALSE(all[i].cloud.empty());
    const Sku* bare = testsupport::bundled_skus().find(all[i].gpu.name);
    REQUIRE(bare != nullptr);
    CHECK_FALSE(bare->is_instance);
    CHECK(bare->gpu.memory_gib_marketed == all[i].gpu.memory_gib_marketed);
    CHECK(bare->gpu.memory_mib_reported == all[i].gpu.memory_mib_reported);
  }
}

TEST_CASE("skus: every KAITO current row is findable by its KAITO name, with KAITO's count and memory", "[sku]") {
  const json current = skus_json().at("kaito").at("current");
  REQUIRE(current.size() == 57);
  const std::map<std::string, std::string> clouds = {{"azure", "azure"}, {"aws", "aws"}, {"arc", "azure-arc"}};
  std::set<std::string> kaito_gpus;
  for (const auto& row : current) {
    const std::string name = row.at("sku").get<std::string>();
    INFO(name);
    const Sku* s = testsupport::bundled_skus().find(name);
    REQUIRE(s != nullptr);
    CHECK(s->is_instance);
    CHECK(s->kaito_supported);
    CHECK(s->cloud == clouds.at(row.at("cloud").get<std::string>()));
    const int count = row.at("gpu_count").get<int>();
    CHECK(s->gpus_per_node == count);
    // KAITO's gpu_mem_total is the instance total in Gi; per GPU it is the marketed number.
    const std::string total = row.at("gpu_mem_total").get<std::string>();
    REQUIRE(total.size() > 2);
    CHECK(total.substr(total.size() - 2) == "Gi");
    CHECK(s->gpu.memory_gib_marketed * count == Approx(std::stod(total.substr(0, total.size() - 2))));
    kaito_gpus.insert(s->gpu.name);
  }
  // Instances flagged kaito_supported are exactly KAITO's current rows.
  std::size_t flagged = 0;
  for (const auto& s : testsupport::bundled_skus().all()) flagged += (s.is_instance && s.kaito_supported) ? 1 : 0;
  CHECK(flagged == current.size());
  // A bare GPU is KAITO-supported when one of those rows uses it.
  for (const auto& s : testsupport::bundled_skus().all()) {
    if (s.is_instance) continue;
    INFO(s.name);
    CHECK(s.kaito_supported == (kaito_gpus.count(s.name) > 0));
  }
  CHECK(sku("H100-80G").kaito_supported);
  CHECK(sku("L4").kaito_supported);
  CHECK(sku("TRAINIUM").kaito_supported);
  CHECK_FALSE(sku("T4").kaito_supported);  // dropped by KAITO (compute capability < 8.0)
  CHECK_FALSE(sku("p3.2xlarge").kaito_supported);
}

TEST_CASE("skus: no name or alias is shared by two SKUs", "[sku]") {
  // find() resolves a shared name to the first SKU in catalog order. None exists today; a new one must be
  // added to this list deliberately.
  const std::vector<std::string> deliberate_collisions = {};
  std::map<std::string, std::string> owner;
  std::vector<std::string> collisions;
  for (const auto& s : testsupport::bundled_skus().all()) {
    std::vector<std::string> names = s.aliases;
    names.push_back(s.name);
    for (const auto& n : names) {
      auto [it, inserted] = owner.emplace(lower(n), s.name);
      if (!inserted && it->second != s.name) collisions.push_back(n);
    }
  }
  CHECK(collisions == deliberate_collisions);
}

TEST_CASE("skus: a missing or malformed file is bad input naming the file", "[sku]") {
  const char* const gpu = R"({"name": "G1", "memory_gib_marketed": 16, "bf16": true})";
  SECTION("missing") {
    testsupport::TempDir dir;
    try {
      (void)SkuCatalog::load(dir.path() / "skus.json");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::BadInput);
      CHECK_THAT(e.what(), Catch::Contains("skus.json"));
    }
  }
  SECTION("malformed") {
    for (const std::string& text :
         {std::string("{"), std::string(R"({"schema_version": 1, "gpus": []})"),
          R"({"schema_version": 1, "gpus": [)" + std::string(gpu) +
              R"(], "instances": [{"name": "i1", "cloud": "aws", "gpu": "NOPE", "gpu_count": 1}]})",
          R"({"schema_version": 1, "gpus": [)" + std::string(gpu) +
              R"(], "instances": [{"name": "i1", "cloud": "aws", "gpu": "G1", "gpu_count": 0}]})",
          std::string(
              R"({"schema_version": 1, "gpus": [{"name": "G2", "memory_gib_marketed": "16"}], "instances": []})")}) {
      INFO(text);
      auto e = load_error(text);
      REQUIRE(e);
      CHECK(e->code() == ExitCode::BadInput);
      CHECK_THAT(e->what(), Catch::Contains("skus.json"));
    }
  }
  SECTION("a minimal valid file loads, with defaults for what it leaves out") {
    testsupport::TempDir dir;
    const auto file = dir.path() / "skus.json";
    testsupport::write_file(file,
                            R"({"schema_version": 1, "gpus": [)" + std::string(gpu) +
                                R"(], "instances": [{"name": "i1", "cloud": "aws", "gpu": "G1", "gpu_count": 2}]})");
    const SkuCatalog c = SkuCatalog::load(file);
    REQUIRE(c.all().size() == 2);
    CHECK(c.all()[0].gpu.cuda_served);
    CHECK_FALSE(c.all()[0].gpu.memory_mib_reported.has_value());
    CHECK(c.all()[1].gpus_per_node == 2);
    CHECK(c.all()[1].gpu.name == "G1");
    CHECK_FALSE(c.all()[1].kaito_supported);
  }
}

namespace {

// Every field of a SKU, so two loads can be compared whole.
std::string describe(const Sku& s) {
  const Gpu& g = s.gpu;
  std::ostringstream out;
  out << s.name << '|' << s.cloud << '|' << s.gpus_per_node << '|' << s.is_instance << s.kaito_supported << s.verified
      << '|' << g.name << '|' << g.vendor << '|' << g.architecture << '|' << g.compute_capability.value_or(-1) << '|'
      << g.memory_gib_marketed << '|' << g.memory_mib_reported.value_or(0) << '|' << g.bf16 << g.fp8 << g.cuda_served
      << '|' << g.bandwidth_gbps.value_or(-1) << '|' << g.note;
  for (const auto& a : s.aliases) out << "|a:" << a;
  for (const auto& a : g.aliases) out << "|ga:" << a;
  for (const auto m : g.cuda_total_mib_observed) out << "|t:" << m;
  return out.str();
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("skus: load() reads the rows it needs and gives what a parse of the whole file gives", "[sku]") {
  // A top-level key spelt with an escape makes the quick scan give up, so the same catalog is parsed whole.
  std::string text = read_text(testsupport::repo_data("skus.json"));
  REQUIRE(text.front() == '{');
  text.insert(1, R"("\u0078": 0, )");
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "skus.json", text);
  const SkuCatalog whole = SkuCatalog::load(dir.path() / "skus.json");
  REQUIRE(whole.all().size() == testsupport::bundled_skus().all().size());
  for (std::size_t i = 0; i < whole.all().size(); ++i)
    CHECK(describe(whole.all()[i]) == describe(testsupport::bundled_skus().all()[i]));
  CHECK(std::count_if(whole.all().begin(), whole.all().end(), [](const Sku& s) { return s.kaito_supported; }) > 10);
}

TEST_CASE("skus: load_for finds what load finds, parsing only the rows that can match", "[sku]") {
  const fs::path file = testsupport::repo_data("skus.json");
  SECTION("every name and alias, in any case, gives the same SKU with every field, KAITO support included") {
    for (const auto& s : testsupport::bundled_skus().all()) {
      std::vector<std::string> names{s.name};
      names.insert(names.end(), s.aliases.begin(), s.aliases.end());
      for (const auto& name : names) {
        if (name == "A100" || name == "H100" || name == "V100") continue;  // ambiguous: the whole catalog (below)
        for (const auto& query : {name, lower(name)}) {
          INFO(query);
          const SkuCatalog one = SkuCatalog::load_for(file, {query});
          REQUIRE(one.all().size() == 1);
          REQUIRE(one.find(query) != nullptr);
          CHECK(describe(*one.find(query)) == describe(*testsupport::bundled_skus().find(query)));
        }
      }
    }
  }
  SECTION("several names: one SKU each, in the order asked") {
    const SkuCatalog c = SkuCatalog::load_for(file, {"h100-80g", "Standard_NC24ads_A100_v4", "T4"});
    REQUIRE(c.all().size() == 3);
    CHECK(c.all()[0].name == "H100-80G");
    CHECK(c.all()[1].name == "Standard_NC24ads_A100_v4");
    CHECK(c.all()[1].gpu.name == testsupport::bundled_skus().find("Standard_NC24ads_A100_v4")->gpu.name);
    CHECK(c.all()[2].name == "T4");
  }
  SECTION("a miss is the whole catalog, so suggestions are the same") {
    const SkuCatalog all = SkuCatalog::load_for(file, {"A100-80G", "A100-80X"});
    CHECK(all.all().size() == testsupport::bundled_skus().all().size());
    CHECK(all.suggest("A100-80X") == testsupport::bundled_skus().suggest("A100-80X"));
  }
  SECTION("an ambiguous family alias is the whole catalog, so find() names every candidate") {
    for (const std::string name : {"A100", "h100", "V100"}) {
      INFO(name);
      const SkuCatalog all = SkuCatalog::load_for(file, {name});
      CHECK(all.all().size() == testsupport::bundled_skus().all().size());
      CHECK(all.match(name).candidates.size() == testsupport::bundled_skus().match(name).candidates.size());
      CHECK(all.match(name).candidates.size() >= 2);
    }
  }
  auto load_for = [](const std::string& contents, const std::string& name) {
    testsupport::TempDir dir;
    testsupport::write_file(dir.path() / "skus.json", contents);
    return SkuCatalog::load_for(dir.path() / "skus.json", {name});
  };
  const std::string gpus = R"("gpus": [{"name": "G1", "memory_gib_marketed": 16},
                                       {"name": "G2", "memory_gib_marketed": "16"}])";
  SECTION("a name spelt with JSON escapes is still found, and an instance carries its GPU") {
    const auto c = load_for(R"({"schema_version": 1, )" + gpus + R"(,
        "instances": [{"name": "i\u0031", "cloud": "aws", "gpu": "G1", "gpu_count": 4}]})",
                            "I1");
    REQUIRE(c.find("i1") != nullptr);
    CHECK(c.find("i1")->gpus_per_node == 4);
    CHECK(c.find("i1")->gpu.memory_gib_marketed == 16);
  }
  SECTION("a bare GPU is KAITO-supported through an instance or a kaito.current row") {
    const std::string head = R"({"schema_version": 1, )" + gpus + R"(, "instances": [
        {"name": "i1", "cloud": "aws", "gpu": "G1", "gpu_count": 1, "aliases": ["Std_I1"]}])";
    CHECK_FALSE(load_for(head + "}", "G1").find("G1")->kaito_supported);
    CHECK(load_for(head + R"(, "kaito": {"current": [{"sku": "std_i1"}]}})", "G1").find("G1")->kaito_supported);
    CHECK_FALSE(load_for(head + R"(, "kaito": {"current": [{"sku": "i2"}]}})", "G1").find("G1")->kaito_supported);
  }
  SECTION("a malformed row is reported when it is read, with load()'s error") {
    const std::string text = R"({"schema_version": 1, )" + gpus + R"(, "instances": []})";
    CHECK(load_for(text, "G1").find("G1") != nullptr);  // G2 is never parsed
    CHECK_THROWS_WITH(load_for(text, "G2"), Catch::Contains("skus.json") && Catch::Contains("memory_gib_marketed"));
    CHECK_THROWS_WITH(load_for(R"({"schema_version": 2, )" + gpus + R"(, "instances": []})", "G1"),
                      Catch::Contains("schema_version"));
  }
}
