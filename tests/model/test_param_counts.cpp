// The logical parameter count of every real config equals the exact count transformers builds
// (tests/data/param_counts.jsonl): exactly for dense families, within 1% for MoE, MLA and multimodal ones.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>

#include "support.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/model/architecture.hpp"

using vramcalc::ModelArch;
using vramcalc::normalize_config;

namespace {

struct Measured {
  std::string dir;
  std::uint64_t params;
};

std::vector<Measured> measured_counts() {
  std::ifstream in(testsupport::test_data("param_counts.jsonl"));
  std::vector<Measured> out;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("params")) out.push_back({j["dir"].get<std::string>(), j["params"].get<std::uint64_t>()});
  }
  return out;
}

bool exact_family(const ModelArch& a) { return a.num_experts == 0 && !a.mla && !a.multimodal; }

}  // namespace

TEST_CASE("every measured config's parameter count is reproduced", "[model][params]") {
  const auto counts = measured_counts();
  REQUIRE(counts.size() >= 45);
  for (const auto& m : counts) {
    INFO(m.dir);
    const ModelArch a = normalize_config(testsupport::load_test_config(m.dir), m.dir);
    if (exact_family(a)) {
      CHECK(a.num_params() == m.params);
    } else {
      const double error = std::fabs(static_cast<double>(a.num_params()) - static_cast<double>(m.params)) /
                           static_cast<double>(m.params);
      INFO("computed " << a.num_params() << " vs measured " << m.params);
      CHECK(error < 0.01);
    }
  }
}

TEST_CASE("multimodal towers are counted to the parameter where transformers' layout is known", "[model][params]") {
  // by_top_module counts from param_counts.jsonl: vision tower + projector.
  struct Case {
    const char* dir;
    std::uint64_t vision_and_projector;
  };
  const Case cases[] = {
      {"llava-hf--llava-1.5-7b-hf", 303507456ULL + 20979712ULL},
      {"google--gemma-3-27b-it", 416866032ULL + 6194304ULL},
      {"mistralai--Mistral-Small-3.2-24B-Instruct-2506", 403305472ULL + 35652608ULL},
      {"Qwen--Qwen2-VL-7B-Instruct", 675759104ULL},
      {"meta-llama--Llama-3.2-11B-Vision-Instruct", 863567379ULL + 31461376ULL},
      {"meta-llama--Llama-4-Scout-17B-16E-Instruct", 850960896ULL + 20971520ULL},
  };
  for (const auto& c : cases) {
    INFO(c.dir);
    const ModelArch a = normalize_config(testsupport::load_test_config(c.dir), c.dir);
    CHECK(a.multimodal);
    CHECK(a.vision_params == c.vision_and_projector);
  }
}
