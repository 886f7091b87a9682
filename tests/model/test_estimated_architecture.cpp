// An architecture estimated from a parameter count or a size in a model's name (issue 16): the sizes names state,
// and configs that normalize_config reads, of about the asked size, with the shapes of the models of that size.
#include <catch2/catch.hpp>

#include <cmath>

#include "vramcalc/core/error.hpp"
#include "vramcalc/model/architecture.hpp"
#include "vramcalc/model/estimated_architecture.hpp"

using namespace vramcalc;

namespace {

ModelSize dense(double billions) { return ModelSize{billions, 0, false, ""}; }

ModelArch estimated(const ModelSize& size) { return normalize_config(estimated_config(size), "estimate"); }

}  // namespace

TEST_CASE("model_size_from_name: the sizes names state", "[model][estimate]") {
  struct Case {
    const char* name;
    double billions;
    std::uint64_t experts;
  };
  const Case cases[] = {
      {"meta-llama/Llama-2-7b", 7, 0},
      {"meta-llama/Meta-Llama-3-70B-Instruct", 70, 0},
      {"Qwen/Qwen1.5-0.5B-Chat", 0.5, 0},
      {"Qwen/Qwen2.5-1.5b", 1.5, 0},
      {"someone/llama7b", 7, 0},
      {"tiiuae/falcon-180B", 180, 0},
      {"facebook/opt-350m", 0.35, 0},
      {"mosaicml/mpt-7b-8k", 7, 0},
      {"google/gemma-2b-it", 2, 0},
      {"mistralai/Mixtral-8x7B-Instruct-v0.1", 7, 8},
      {"mistralai/Mixtral-8x22B", 22, 8},
      {"Qwen/Qwen3-30B-A3B", 30, 0},
      {"local-405b", 405, 0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto size = model_size_from_name(c.name);
    REQUIRE(size.has_value());
    CHECK(size->params_billions == Approx(c.billions));
    CHECK(size->experts == c.experts);
    CHECK(size->per_expert == (c.experts > 0));
    CHECK(!size->text.empty());
  }
  // No size, a bit width, the active parameters of a mixture alone, absurd sizes.
  for (const char* name : {"openai/gpt-4", "some/model-4bit", "Qwen/Qwen1.5-MoE-A2.7B", "x/model-v0.1", "x/y-99999b",
                           "x/y-0b", "phi-1_5", ""}) {
    INFO(name);
    CHECK_FALSE(model_size_from_name(name).has_value());
  }
}

TEST_CASE("estimated_config: the shapes of the models of each size", "[model][estimate]") {
  // 7B: Mistral 7B's shape; 70B: Llama 3 70B's; 13B: Llama 2 13B's hidden size.
  const ModelArch seven = estimated(dense(7));
  CHECK(seven.model_type == "llama");
  CHECK(seven.num_hidden_layers == 32);
  CHECK(seven.hidden_size == 4096);
  CHECK(seven.num_attention_heads == 32);
  CHECK(seven.num_key_value_heads == 8);
  CHECK(seven.head_dim == 128);
  CHECK(seven.intermediate_size == 14336);
  CHECK(seven.vocab_size == kEstimatedVocab);
  const ModelArch seventy = estimated(dense(70));
  CHECK(seventy.num_hidden_layers == 80);
  CHECK(seventy.hidden_size == 8192);
  CHECK(seventy.intermediate_size == 28672);
  CHECK(estimated(dense(13)).hidden_size == 5120);
  // The shapes grow with the size, and every head has the same width (a multiple of 16).
  std::uint64_t last_params = 0;
  for (double b : {0.1, 0.35, 1.0, 3.0, 7.0, 13.0, 34.0, 70.0, 180.0, 405.0, 1000.0}) {
    INFO(b);
    const ModelArch a = estimated(dense(b));
    CHECK(a.hidden_size % a.num_attention_heads == 0);
    CHECK(a.head_dim % 16 == 0);
    CHECK(a.num_params() > last_params);
    last_params = a.num_params();
  }
}

TEST_CASE("estimated_config: the parameter count is close to the asked one", "[model][estimate]") {
  for (double b : {1.0, 3.0, 7.0, 13.0, 34.0, 70.0, 180.0, 405.0}) {
    INFO(b);
    const double got = static_cast<double>(estimated(dense(b)).num_params()) / 1e9;
    // Rounding the hidden size to whole heads moves the count by up to about 15% at small sizes.
    CHECK(std::abs(got - b) / b < 0.2);
  }
}

TEST_CASE("estimated_config: a mixture of experts from 8x7B", "[model][estimate]") {
  const auto size = model_size_from_name("mistralai/Mixtral-8x7B-v0.1");
  REQUIRE(size.has_value());
  const ModelArch moe = estimated(*size);
  CHECK(moe.model_type == "mixtral");
  CHECK(moe.num_experts == 8);
  CHECK(moe.experts_per_token == 2);
  CHECK(moe.hidden_size == 4096);
  CHECK(moe.num_hidden_layers == 32);
  // Mixtral 8x7B has 46.7B parameters: eight 7B MLPs share one attention stack.
  CHECK(static_cast<double>(moe.num_params()) / 1e9 == Approx(46.7).epsilon(0.02));
  // A total count with experts: the same shape class, scaled to the total.
  const ModelArch total = estimated(ModelSize{46.7, 8, false, ""});
  CHECK(total.num_experts == 8);
  CHECK(static_cast<double>(total.num_params()) / 1e9 == Approx(46.7).epsilon(0.15));
}

TEST_CASE("estimated_config: sizes outside the bounds are refused", "[model][estimate]") {
  CHECK_THROWS_AS(estimated_config(dense(0)), Error);
  CHECK_THROWS_AS(estimated_config(dense(-1)), Error);
  CHECK_THROWS_AS(estimated_config(dense(1e6)), Error);
  CHECK_THROWS_AS(estimated_config(dense(std::nan(""))), Error);
  CHECK_THROWS_AS(estimated_config(ModelSize{7, 1, true, ""}), Error);
  CHECK_THROWS_AS(estimated_config(ModelSize{7, 5000, true, ""}), Error);
}

TEST_CASE("describe_estimated_config names the shape", "[model][estimate]") {
  CHECK(describe_estimated_config(estimated_config(dense(7))) ==
        "llama-style, 32 layers, hidden 4096, 32 heads (8 KV heads), intermediate 14336, vocabulary 32000");
  CHECK(describe_estimated_config(estimated_config(ModelSize{7, 8, true, "8x7B"})).find("8 experts (2 per token)") !=
        std::string::npos);
}
