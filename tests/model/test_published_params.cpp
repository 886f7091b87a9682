// The parameter counts vram-calc computes from the 2026 configs against the published ones (issue 14), each cited
// in data/published_params.json: within 1%, whatever the source, and no published model left out silently.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include "support.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

std::string dir_of(const std::string& id) {
  std::string dir = id;
  dir.replace(dir.find('/'), 1, "--");
  return dir;
}

// Published figures the count is not compared with, and why (the citation and the figure stay in the data file).
const std::map<std::string, std::string>& not_comparable() {
  static const std::map<std::string, std::string> reasons = {
      {"deepseek-ai/DeepSeek-V4-Flash",
       "the published 284 B is rounded, and the checkpoint's 158 B counts two FP4 values per int8 element "
       "(tests/model/test_family_2026_moe.cpp reproduces the 158 B to the element)"},
      {"mistralai/Mistral-Small-4-119B-2603",
       "its reconstructed config is partial (no hidden_size, no expert shapes): vram-calc refuses it, exit 2"},
      {"Qwen/Qwen1.5-7B-Chat",
       "the 7 B of the name is a size class: the architecture, like the Hub's safetensors metadata, gives 7.72 B"},
  };
  return reasons;
}

}  // namespace

TEST_CASE("2026 configs: parameter counts within 1% of the published figures", "[model][published]") {
  std::ifstream in(testsupport::repo_data("published_params.json"));
  const json data = json::parse(in);
  int compared = 0;
  for (const auto& m : data["models"]) {
    const std::string id = m["id"];
    INFO(id);
    if (!m["total_params"].is_number()) continue;
    if (not_comparable().count(id) > 0) {
      WARN(id << ": not compared: " << not_comparable().at(id));
      continue;
    }
    const auto arch = normalize_config(testsupport::load_test_config(dir_of(id)), id);
    const auto published = m["total_params"].get<double>();
    // Published totals count the checkpoint, multi-token-prediction layers included (vLLM loads those only for
    // MTP speculative decoding, so the served weights leave them out).
    const auto computed = static_cast<double>(arch.num_params() + arch.mtp_params);
    INFO("computed " << arch.num_params() << " + MTP " << arch.mtp_params << " vs published " << m["total_params"]
                     << " (" << (m["exact"].get<bool>() ? "exact" : "rounded") << ")");
    // A checkpoint that stores a tied LM head (Qwen3-1.7B) counts the embedding twice in its total; vLLM loads it
    // once, and the logical count (the card's 1.7 B) is the one vram-calc gives.
    const double stored_tied_copy =
        arch.tie_word_embeddings && m["exact"].get<bool>() && std::fabs(computed - published) > 0.01 * published
            ? static_cast<double>(arch.vocab_size) * static_cast<double>(arch.hidden_size)
            : 0.0;
    CHECK(std::fabs(computed + stored_tied_copy - published) <= 0.01 * published);
    ++compared;
  }
  CHECK(compared >= 14);
}

TEST_CASE("a partial reconstructed config is refused, not sized", "[model][published]") {
  CHECK_THROWS_WITH(normalize_config(testsupport::load_test_config("mistralai--Mistral-Small-4-119B-2603"), "m"),
                    Catch::Contains("missing required field text_config.hidden_size"));
}
