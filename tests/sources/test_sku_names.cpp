// --sku as people paste it (issue 13, section 3): GPU feature discovery labels (nvidia.com/gpu.product, as
// --emit k8s writes them), loose spellings of names, and ambiguous names that are an error naming the candidates.
// Exact names and aliases keep resolving as they did, except the family names A100, H100 and V100.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

using namespace vramcalc;
namespace fs = std::filesystem;

namespace {

// The SKU's name that find() resolves `name` to, "" when none.
std::string resolved(const std::string& name) {
  const Sku* s = testsupport::bundled_skus().find(name);
  return s == nullptr ? std::string() : s->name;
}

std::vector<std::string> candidate_names(const std::string& name) {
  std::vector<std::string> out;
  for (const Sku* s : testsupport::bundled_skus().match(name).candidates) out.push_back(s->name);
  return out;
}

// What find() did before loose matching: the first SKU in catalog order with that name or alias, any case.
const Sku* exact(const std::string& name) {
  auto same = [&](const std::string& n) {
    return n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  };
  for (const auto& s : testsupport::bundled_skus().all())
    if (same(s.name) || std::any_of(s.aliases.begin(), s.aliases.end(), same)) return &s;
  return nullptr;
}

// The aliases that name a family of GPUs of different memory: ambiguous now, whatever GPU the catalog gives them.
const std::set<std::string> kFamilyAliases = {"A100", "H100", "V100"};

// A GPU's device names, as nvidia-smi prints them ("NVIDIA A100-SXM4-80GB", "Tesla T4"): the aliases GPU feature
// discovery turns into its product label, spaces as dashes (render/emit.cpp, gfd_product, writes the first).
std::vector<std::string> device_names(const Sku& s) {
  std::vector<std::string> out;
  for (const auto& a : s.aliases)
    if (a.rfind("NVIDIA ", 0) == 0 || a.rfind("Tesla ", 0) == 0) out.push_back(a);
  return out;
}

std::string dashed(std::string s) {
  std::replace(s.begin(), s.end(), ' ', '-');
  return s;
}

// The nvidia.com/gpu.product values a manifest selects nodes by: a nodeSelector's one value
// (`nvidia.com/gpu.product: "X"`) or a node affinity's list (`key: nvidia.com/gpu.product` then `values: [...]`).
std::vector<std::string> product_labels(const std::string& yaml) {
  const std::regex selector(R"re(nvidia\.com/gpu\.product: "?([^"\n]+)"?)re");
  const std::regex values(R"re(key: nvidia\.com/gpu\.product\s*\n(?:.*\n)*?\s*values: \[([^\]]*)\])re");
  const std::regex quoted(R"re("([^"]+)")re");
  std::vector<std::string> out;
  std::smatch m;
  if (std::regex_search(yaml, m, selector)) out.push_back(m[1]);
  if (std::regex_search(yaml, m, values)) {
    const std::string list = m[1];
    for (auto it = std::sregex_iterator(list.begin(), list.end(), quoted); it != std::sregex_iterator(); ++it)
      out.push_back((*it)[1]);
  }
  return out;
}

}  // namespace

TEST_CASE("sku names: GPU feature discovery product labels resolve", "[sku]") {
  CHECK(resolved("NVIDIA-A100-SXM4-80GB") == "A100-80G");
  CHECK(resolved("NVIDIA-A100-SXM4-40GB") == "A100-40G");
  CHECK(resolved("NVIDIA-A100-PCIE-40GB") == "A100-40G");
  CHECK(resolved("NVIDIA-A100-80GB-PCIe") == "A100-80G-PCIE");
  CHECK(resolved("NVIDIA-H100-80GB-HBM3") == "H100-80G");
  CHECK(resolved("NVIDIA-H100-PCIe") == "H100-80G-PCIE");
  CHECK(resolved("NVIDIA-H100-NVL") == "H100-NVL-94G");
  CHECK(resolved("NVIDIA-L4") == "L4");
  CHECK(resolved("NVIDIA-L40S") == "L40S");
  CHECK(resolved("NVIDIA-A10G") == "A10G");
  CHECK(resolved("Tesla-T4") == "T4");
  CHECK(resolved("Tesla-V100-SXM2-16GB") == "V100-16G");
  CHECK(resolved("NVIDIA-GeForce-RTX-4090") == "RTX-4090");
  // A GPU shared by time-slicing or MPS carries the label with -SHARED appended.
  CHECK(resolved("Tesla-T4-SHARED") == "T4");
  CHECK(resolved("NVIDIA-H100-80GB-HBM3-SHARED") == "H100-80G");
}

TEST_CASE("sku names: every NVIDIA GPU of the catalog resolves from its GPU feature discovery labels", "[sku]") {
  std::size_t labelled = 0;
  for (const auto& s : testsupport::bundled_skus().all()) {
    if (s.is_instance || s.gpu.vendor != "NVIDIA") continue;
    const auto names = device_names(s);
    INFO(s.name);
    if (s.gpu.cuda_served) CHECK_FALSE(names.empty());  // --emit k8s needs a label for its node selector
    labelled += names.empty() ? 0 : 1;
    for (const auto& n : names) {
      for (const std::string& label : {dashed(n), dashed(n) + "-SHARED"}) {
        INFO(label);
        CHECK(resolved(label) == s.name);
      }
    }
  }
  CHECK(labelled >= 30);
}

TEST_CASE("sku names: the labels --emit k8s selects nodes by resolve back to the SKU", "[sku][cli]") {
  for (const std::string sku : {"A100-80G", "H100-80G", "L4", "T4", "RTX-4090"}) {
    INFO(sku);
    const auto r = testsupport::run_cli("--model Qwen/Qwen2.5-0.5B --sku " + sku + " --emit k8s");
    REQUIRE(r.exit_code == 0);
    const auto labels = product_labels(r.out);
    REQUIRE_FALSE(labels.empty());
    for (const auto& label : labels) {
      INFO(label);
      CHECK(resolved(label) == sku);
    }
    const auto again = testsupport::run_cli("--model Qwen/Qwen2.5-0.5B --sku " + labels.front() + " --emit k8s");
    CHECK(again.exit_code == 0);
    CHECK(again.out == r.out);
  }
}

TEST_CASE("sku names: loose spellings of a name resolve, without changing the GPU", "[sku]") {
  CHECK(resolved("h100-80gb") == "H100-80G");
  CHECK(resolved("H100 SXM") == "H100-80G");
  CHECK(resolved("h100_80g") == "H100-80G");
  CHECK(resolved("H100-80GiB") == "H100-80G");
  CHECK(resolved("A100 80GB") == "A100-80G");
  CHECK(resolved("a100-sxm4-80gb") == "A100-80G");
  CHECK(resolved("A100 40GB") == "A100-40G");
  CHECK(resolved("a100_40g") == "A100-40G");
  CHECK(resolved("A100 80GB PCIe") == "A100-80G-PCIE");
  CHECK(resolved("a100-pcie-80gb") == "A100-80G-PCIE");
  CHECK(resolved("h100-pcie") == "H100-80G-PCIE");
  CHECK(resolved("H100 PCIe 80GB") == "H100-80G-PCIE");
  CHECK(resolved("h100-nvl") == "H100-NVL-94G");
  CHECK(resolved("H100 94GB") == "H100-NVL-94G");
  CHECK(resolved("H100 SXM5") == "H100-80G");
  CHECK(resolved("rtx_a6000") == "RTX-A6000");
  CHECK(resolved("RTX 6000 Ada") == "RTX-6000-ADA");
  CHECK(resolved("Tesla T4 16GB") == "T4");
  CHECK(resolved("L4 24GB") == "L4");
  CHECK(resolved("rtx 4090") == "RTX-4090");
  CHECK(resolved("standard nc24ads a100 v4") == "Standard_NC24ads_A100_v4");

  // Exact names win over loose matching: a short name is never read as a longer one.
  CHECK(resolved("A10") == "A10");
  CHECK(resolved("L4") == "L4");
  CHECK(resolved("L40") == "L40");
  CHECK(resolved("H20") == "H20");
  // A memory figure the GPU does not have matches nothing rather than the nearest GPU; so does a number alone.
  CHECK(resolved("A100 48GB").empty());
  CHECK(resolved("B200 192GB").empty());
  CHECK(resolved("H100-96GB").empty());
  CHECK(resolved("A100-80").empty());
  CHECK(resolved("80GB").empty());
  CHECK(resolved("RTX PRO 6000") == "RTX-PRO-6000");  // Blackwell: not an RTX A6000 nor the Ada card
  CHECK(resolved("").empty());
  CHECK(resolved(" - _ ").empty());
}

TEST_CASE("sku names: a 40 GB and an 80 GB spelling never resolve to the same GPU", "[sku]") {
  for (const std::string family : {"A100", "a100", "H100", "V100"}) {
    for (const std::string sep : {"-", "_", " "}) {
      for (const std::string unit : {"GB", "G", "GiB", "gb"}) {
        std::set<double> memories;
        for (const std::string size : {"16", "32", "40", "80", "94"}) {
          const Sku* s = testsupport::bundled_skus().find(family + sep + size + unit);
          if (s == nullptr) continue;
          INFO(family + sep + size + unit << " -> " << s->name);
          CHECK(s->gpu.memory_gib_marketed == std::stod(size));
          memories.insert(s->gpu.memory_gib_marketed);
        }
        CHECK(memories.size() >= 2);
      }
    }
  }
}

TEST_CASE("sku names: an ambiguous name is an error that names every candidate", "[sku]") {
  using V = std::vector<std::string>;
  CHECK(candidate_names("A100") == V{"A100-40G", "A100-80G", "A100-80G-PCIE"});
  CHECK(candidate_names("a100") == V{"A100-40G", "A100-80G", "A100-80G-PCIE"});
  CHECK(candidate_names("H100") == V{"H100-80G", "H100-80G-PCIE", "H100-NVL-94G"});
  CHECK(candidate_names("V100") == V{"V100-16G", "V100-32G"});
  CHECK(candidate_names("RTX 6000") == V{"RTX-A6000", "RTX-6000-ADA", "RTX-PRO-6000"});
  CHECK(candidate_names("rtx-6000") == V{"RTX-A6000", "RTX-6000-ADA", "RTX-PRO-6000"});
  CHECK(candidate_names("A100 PCIe") == V{"A100-40G", "A100-80G-PCIE"});
  CHECK(candidate_names("NVIDIA H100") == V{"H100-80G", "H100-80G-PCIE", "H100-NVL-94G"});
  CHECK(candidate_names("NVIDIA-A100") == V{"A100-40G", "A100-80G", "A100-80G-PCIE"});
  for (const std::string name : {"A100", "H100", "V100", "RTX 6000"})
    CHECK(testsupport::bundled_skus().match(name).sku == nullptr);

  try {
    (void)testsupport::bundled_skus().find("A100");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    CHECK(std::string(e.what()) ==
          "--sku A100: ambiguous, it could be A100-40G, A100-80G or A100-80G-PCIE; name one (vram-calc skus lists "
          "them all)");
  }
  CHECK_THROWS_WITH(testsupport::bundled_skus().find("RTX 6000"),
                    Catch::Contains("RTX-A6000, RTX-6000-ADA or RTX-PRO-6000"));
  // A family whose GPUs share their memory is not ambiguous: the alias stands.
  CHECK(resolved("H200") == "H200-141G");
  CHECK(resolved("nvidia-h100-80gb") == "H100-80G");
  CHECK(resolved("nvidia-tesla-a100") == "A100-40G");  // GKE's accelerator name for the 40 GB part
}

TEST_CASE("sku names: a long list of candidates is cut after eight names", "[sku]") {
  std::string gpus;
  for (char letter = 'A'; letter < 'K'; ++letter) {
    if (!gpus.empty()) gpus += ',';
    gpus += R"({"name": "Z7-)";
    gpus += letter;
    gpus += R"(", "memory_gib_marketed": 16})";
  }
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "skus.json",
                          R"({"schema_version": 1, "gpus": [)" + gpus + R"(], "instances": []})");
  const SkuCatalog c = SkuCatalog::load(dir.path() / "skus.json");
  CHECK(c.match("z7").candidates.size() == 10);
  CHECK_THROWS_WITH(c.find("z7"),
                    "--sku z7: ambiguous, it could be Z7-A, Z7-B, Z7-C, Z7-D, Z7-E, Z7-F, Z7-G, Z7-H "
                    "and 2 more; name one (vram-calc skus lists them all)");
  CHECK(c.find("z7 b")->name == "Z7-B");
}

TEST_CASE("sku names: an ambiguous --sku exits 2 with one line naming the candidates", "[sku][cli]") {
  for (const std::string sku : {"A100", "'RTX 6000'", "H100,L4"}) {
    INFO(sku);
    const auto r = testsupport::run_cli("--model meta-llama/Llama-3.1-8B --sku " + sku);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::Contains("ambiguous, it could be"));
  }
  const auto ok = testsupport::run_cli("--model meta-llama/Llama-3.1-8B --sku NVIDIA-A100-SXM4-80GB --format json");
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("\"A100-80G\""));
}

TEST_CASE("sku names: every name and alias resolves as before, in any case and with any separator", "[sku]") {
  std::set<std::string> ambiguous;
  for (const auto& s : testsupport::bundled_skus().all()) {
    std::vector<std::string> names{s.name};
    names.insert(names.end(), s.aliases.begin(), s.aliases.end());
    for (const auto& name : names) {
      INFO(name);
      const Sku* before = exact(name);
      REQUIRE(before == &s);  // no name or alias is shared (test_sku.cpp)
      const SkuMatch m = testsupport::bundled_skus().match(name);
      if (m.sku == nullptr) {
        ambiguous.insert(name);
        continue;
      }
      CHECK(m.sku == before);
      // The same name with its separators swapped, or upper-cased, is still the same SKU.
      std::string swapped = name;
      for (char& c : swapped) c = c == ' ' ? '_' : c == '-' ? ' ' : c == '_' ? '-' : c;
      std::string upper = name;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      CHECK(testsupport::bundled_skus().match(swapped).sku == before);
      CHECK(testsupport::bundled_skus().match(upper).sku == before);
    }
  }
  CHECK(ambiguous == kFamilyAliases);
}

TEST_CASE("sku names: load_for reads a few rows for exact names and the whole catalog for loose ones", "[sku]") {
  const fs::path file = testsupport::repo_data("skus.json");
  for (const std::string name : {"A100-80G", "NVIDIA A100-SXM4-80GB", "h100-80g", "H200", "nvidia-tesla-a100"}) {
    INFO(name);
    const SkuCatalog c = SkuCatalog::load_for(file, {name});
    CHECK(c.all().size() == 1);
    REQUIRE(c.find(name) != nullptr);
    CHECK(c.find(name)->name == testsupport::bundled_skus().find(name)->name);
  }
  for (const std::string name : {"NVIDIA-A100-SXM4-80GB", "h100_80gb", "H100 SXM", "A100", "RTX 6000"}) {
    INFO(name);
    const SkuCatalog c = SkuCatalog::load_for(file, {name});
    CHECK(c.all().size() == testsupport::bundled_skus().all().size());
    const SkuMatch m = c.match(name);
    const SkuMatch whole = testsupport::bundled_skus().match(name);
    CHECK((m.sku == nullptr) == (whole.sku == nullptr));
    if (m.sku != nullptr) CHECK(m.sku->name == whole.sku->name);
    CHECK(m.candidates.size() == whole.candidates.size());
  }
}
