// The rotary-position tables each model's attention builds (ModelArch::rotary_tables, src/model/rotary.cpp): the
// positions and rotated width vLLM's get_rope gives each distinct rope configuration, read from the real configs.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

// (positions, rotary_dim) of each table, in order.
std::vector<std::pair<std::uint64_t, std::uint64_t>> tables(const ModelArch& a) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (const auto& t : a.rotary_tables) out.emplace_back(t.positions, t.rotary_dim);
  return out;
}

using Tables = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

json llama_like(json rope_scaling) {
  return {{"model_type", "llama"},       {"hidden_size", 4096},
          {"num_hidden_layers", 2},      {"num_attention_heads", 32},
          {"num_key_value_heads", 8},    {"intermediate_size", 14336},
          {"vocab_size", 32000},         {"max_position_embeddings", 8192},
          {"rope_scaling", rope_scaling}};
}

}  // namespace

TEST_CASE("rotary tables: one per rope configuration, positions by rope type", "[model][rotary]") {
  SECTION("default and llama3 ropes cover max_position_embeddings over the whole head") {
    CHECK(tables(arch_of("meta-llama--Meta-Llama-3-8B")) == Tables{{8192, 128}});
    CHECK(tables(arch_of("meta-llama--Meta-Llama-3.1-8B")) == Tables{{131072, 128}});
    CHECK(tables(arch_of("Qwen--Qwen3-0.6B")) == Tables{{40960, 128}});
    // Llama 4 Scout's 10M-token maximum: a 2.5 GiB table in bfloat16, on every GPU.
    CHECK(tables(arch_of("meta-llama--Llama-4-Scout-17B-16E-Instruct")) == Tables{{10485760, 128}});
  }
  SECTION("yarn: original_max_position_embeddings x factor, at least max_position_embeddings") {
    // DeepSeek-V3's latent attention rotates qk_rope_head_dim 64 of each head: 4096 x 40.
    CHECK(tables(arch_of("deepseek-ai--DeepSeek-V3")) == Tables{{163840, 64}});
    CHECK(tables(arch_of("openai--gpt-oss-120b")) == Tables{{131072, 64}});
    // DeepSeek V4: the main attention and the compressor (compress_rope_theta) each have one.
    CHECK(tables(arch_of("deepseek-ai--DeepSeek-V4-Flash")) == Tables{{1048576, 64}, {1048576, 64}});
  }
  SECTION("linear and dynamic scaling multiply the positions; Gemma 3's sliding layers have their own table") {
    CHECK(tables(arch_of("google--gemma-3-27b-it")) == Tables{{131072, 128}, {1048576, 128}});
    CHECK(tables(arch_of("google--gemma-3-1b-it")) == Tables{{32768, 256}, {32768, 256}});
    CHECK(tables(normalize_config(llama_like({{"type", "dynamic"}, {"factor", 2.0}}), "t")) == Tables{{16384, 128}});
    CHECK(tables(normalize_config(llama_like({{"rope_type", "linear"}, {"factor", 4}}), "t")) == Tables{{32768, 128}});
  }
  SECTION("longrope (Phi-3): a short and a long cache") {
    CHECK(tables(arch_of("microsoft--Phi-3-mini-128k-instruct")) == Tables{{4096 + 131072, 96}});
  }
  SECTION("partial rotation: partial_rotary_factor, rotary_pct, rotary_dim") {
    CHECK(tables(arch_of("Qwen--Qwen3.8-27B")) == Tables{{262144, 64}});  // 256 x 0.25
    CHECK(tables(arch_of("MiniMaxAI--MiniMax-M2.7")) == Tables{{204800, 64}});
    CHECK(tables(arch_of("togethercomputer--RedPajama-INCITE-7B-Base")) == Tables{{2048, 128}});
  }
  SECTION("Gemma 4: one table per layer kind; proportional rope keeps the whole (global) head") {
    CHECK(tables(arch_of("google--gemma-4-E4B-it")) == Tables{{131072, 256}, {131072, 512}});
  }
  SECTION("no rotary embeddings: ALiBi, learned positions, Nemotron-H's attention") {
    for (const char* dir : {"bigscience--bloom", "mosaicml--mpt-7b-instruct", "openai-community--gpt2-large",
                            "nvidia--Nemotron-H-56B-Base-8K", "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"}) {
      CAPTURE(dir);
      CHECK(arch_of(dir).rotary_tables.empty());
    }
    // Falcon-40B rotates ("alibi": false) but its config has no maximum: vLLM takes a default of a few thousand
    // positions, a few MiB, left out.
    CHECK(arch_of("tiiuae--falcon-40b").rotary_tables.empty());
    json falcon = testsupport::load_test_config("tiiuae--falcon-40b");
    falcon["max_position_embeddings"] = 2048;
    CHECK(tables(normalize_config(falcon, "t")) == Tables{{2048, 64}});
    falcon["alibi"] = true;
    CHECK(normalize_config(falcon, "t").rotary_tables.empty());
  }
  SECTION("odd rope fields are read as vLLM's defaults, never a crash or an absurd table") {
    for (const json& odd : {json("yarn"), json::array(), json{{"type", "linear"}, {"factor", -3}},
                            json{{"type", "linear"}, {"factor", "8"}}, json{{"type", "yarn"}, {"factor", 1e300}}}) {
      CAPTURE(odd.dump());
      const auto t = tables(normalize_config(llama_like(odd), "t"));
      REQUIRE(t.size() == 1);
      CHECK(t[0].second == 128);
      CHECK(t[0].first >= 8192);
      CHECK(t[0].first <= 100'000'000'000ULL);
    }
  }
}
