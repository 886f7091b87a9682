// Bad configs are one clear BadInput error naming the file and the field, never a crash or a wrong number.
#include <catch2/catch.hpp>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

json llama() {
  return {{"model_type", "llama"},
          {"architectures", {"LlamaForCausalLM"}},
          {"hidden_size", 4096},
          {"num_attention_heads", 32},
          {"num_key_value_heads", 8},
          {"num_hidden_layers", 32},
          {"intermediate_size", 14336},
          {"vocab_size", 128256},
          {"max_position_embeddings", 8192}};
}

// The message of the BadInput error that normalizing `c` throws ("" when it does not throw).
std::string error_of(const json& c) {
  try {
    normalize_config(c, "cfg.json");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a valid config normalizes", "[errors]") { CHECK(error_of(llama()).empty()); }

TEST_CASE("config errors name the file and the field", "[errors]") {
  SECTION("not an object") { CHECK_THAT(error_of(json::array()), Catch::Contains("cfg.json")); }
  SECTION("no model_type or architectures") {
    CHECK_THAT(error_of(json{{"hidden_size", 1}}), Catch::Contains("model_type"));
  }
  SECTION("a missing required field") {
    auto c = llama();
    c.erase("num_hidden_layers");
    c["model_type"] = "qwen2";  // no defaults for Qwen2
    CHECK_THAT(error_of(c), Catch::Contains("missing required field num_hidden_layers"));
  }
  SECTION("a string where a count belongs") {
    auto c = llama();
    c["num_hidden_layers"] = "32";
    CHECK_THAT(error_of(c), Catch::Contains("num_hidden_layers: expected a whole number, got a string"));
  }
  SECTION("a fraction where a count belongs") {
    auto c = llama();
    c["num_attention_heads"] = 32.5;
    CHECK_THAT(error_of(c), Catch::Contains("num_attention_heads: expected a whole number"));
  }
  SECTION("a boolean where a count belongs") {
    auto c = llama();
    c["hidden_size"] = true;
    CHECK_THAT(error_of(c), Catch::Contains("hidden_size"));
  }
  SECTION("zero") {
    auto c = llama();
    c["num_hidden_layers"] = 0;
    CHECK_THAT(error_of(c), Catch::Contains("must be positive"));
  }
  SECTION("negative") {
    auto c = llama();
    c["vocab_size"] = -5;
    CHECK_THAT(error_of(c), Catch::Contains("vocab_size: expected a non-negative number"));
  }
  SECTION("absurd: 10^12 layers") {
    auto c = llama();
    c["num_hidden_layers"] = 1'000'000'000'000LL;
    CHECK_THAT(error_of(c), Catch::Contains("absurdly large"));
  }
  SECTION("absurd in combination: parameters past 10^15") {
    auto c = llama();
    c["num_hidden_layers"] = 9000;
    c["hidden_size"] = 900000;
    c["num_attention_heads"] = 9000;
    c["num_key_value_heads"] = 9000;
    CHECK_THAT(error_of(c), Catch::Contains("10^15"));
  }
  SECTION("heads that do not divide hidden_size (and no head_dim)") {
    auto c = llama();
    c["hidden_size"] = 4097;
    CHECK_THAT(error_of(c), Catch::Contains("do not divide hidden_size 4097"));
  }
  SECTION("KV heads that do not divide the attention heads") {
    auto c = llama();
    c["num_key_value_heads"] = 5;
    CHECK_THAT(error_of(c), Catch::Contains("KV heads do not divide"));
  }
  SECTION("more experts per token than experts") {
    auto c = llama();
    c["model_type"] = "mixtral";
    c["num_local_experts"] = 4;
    c["num_experts_per_tok"] = 8;
    CHECK_THAT(error_of(c), Catch::Contains("num_experts_per_tok"));
  }
  SECTION("a hybrid pattern of the wrong length") {
    json c = {{"model_type", "nemotron_h"},
              {"hidden_size", 1024},
              {"num_attention_heads", 8},
              {"num_hidden_layers", 4},
              {"vocab_size", 1000},
              {"intermediate_size", 4096},
              {"hybrid_override_pattern", "M*-"},
              {"mamba_num_heads", 8},
              {"mamba_head_dim", 64},
              {"ssm_state_size", 16}};
    CHECK_THAT(error_of(c), Catch::Contains("has 3 letters but num_hidden_layers is 4"));
  }
  SECTION("text_config that is not an object") {
    json c = {{"model_type", "llava"}, {"text_config", "llama"}};
    CHECK_THAT(error_of(c), Catch::Contains("text_config: expected an object"));
  }
  SECTION("a cross-attention layer index out of range") {
    json c = llama();
    c["model_type"] = "mllama_text_model";
    c["cross_attention_layers"] = {3, 99};
    CHECK_THAT(error_of(c), Catch::Contains("cross_attention_layers"));
  }
}

TEST_CASE("64-bit arithmetic is checked", "[errors][units]") {
  CHECK(checked_mul(1ULL << 32, 1ULL << 31, "x") == 1ULL << 63);
  CHECK_THROWS_AS(checked_mul(1ULL << 32, 1ULL << 32, "x"), Error);
  CHECK_THROWS_AS(checked_add(~0ULL, 1, "x"), Error);
  CHECK_THROWS_AS(round_bytes(-1.0, "x"), Error);
  CHECK_THROWS_AS(round_bytes(1e30, "x"), Error);
}

TEST_CASE("sizes with units: GiB means 2^30, GB means 10^9", "[units]") {
  CHECK(parse_size("48GiB") == 48 * kGiB);
  CHECK(parse_size("80GB") == 80'000'000'000ULL);
  CHECK(parse_size("24000MiB") == 24000 * kMiB);
  CHECK(parse_size("15.99GiB") == static_cast<std::uint64_t>(std::llround(15.99 * static_cast<double>(kGiB))));
  CHECK(parse_size("1.5tb") == 1'500'000'000'000ULL);
  CHECK(parse_size("123") == 123u);
  CHECK_FALSE(parse_size("").has_value());
  CHECK_FALSE(parse_size("GiB").has_value());
  CHECK_FALSE(parse_size("-5GiB").has_value());
  CHECK_FALSE(parse_size("0GiB").has_value());
  CHECK_FALSE(parse_size("5 parsecs").has_value());
  CHECK_FALSE(parse_size("1.2.3GiB").has_value());
  CHECK_FALSE(parse_size("99999999TiB").has_value());
  CHECK(format_count(8030261248ULL) == "8,030,261,248");
  CHECK(format_count(12) == "12");
  CHECK(format_gib(81920 * kMiB) == "80.00 GiB");
}
