// Quantization schemes: which groups they convert, and the bytes of a converted matrix, by hand.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/quantization.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

// One 4096 x 4096 attention projection, plus a 4096-element norm.
WeightGroup proj() {
  return WeightGroup{"model.layers.0.self_attn.q_proj", WeightRole::Attention, 0, 1, 4096, 4096, 0};
}
WeightGroup norm() { return WeightGroup{"model.layers.0.norms", WeightRole::Norm, 0, 0, 0, 0, 4096}; }
constexpr double kElems = 4096.0 * 4096.0;

}  // namespace

TEST_CASE("GPTQ: packed bits + fp16 scales + packed zeros per group + int32 g_idx", "[quant]") {
  const auto s = parse_quantization_config(json{{"quant_method", "gptq"}, {"bits", 4}, {"group_size", 128}}, "q");
  CHECK(s.method == QuantScheme::Method::Gptq);
  // 4096 x 4096 x 0.5 B + 32 groups x 4096 rows x (2 B scale + 0.5 B zero) + 4096 x 4 B g_idx
  CHECK(group_bytes(proj(), s, DType::Float16) == kElems * 0.5 + 32.0 * 4096 * 2.5 + 4096.0 * 4);
  CHECK(group_bytes(norm(), s, DType::Float16) == 4096.0 * 2);  // norms stay 16-bit
  CHECK_FALSE(group_is_quantized(WeightGroup{"lm_head", WeightRole::LmHead, -1, 1, 32000, 4096, 0}, s));
}

TEST_CASE("AWQ: like GPTQ without g_idx; per-channel when group_size is -1", "[quant]") {
  const auto s = parse_quantization_config(json{{"quant_method", "awq"}, {"bits", 4}, {"group_size", 128}}, "q");
  CHECK(group_bytes(proj(), s, DType::Float16) == kElems * 0.5 + 32.0 * 4096 * 2.5);
  const auto pc = parse_quantization_config(json{{"quant_method", "awq"}, {"bits", 4}, {"group_size", -1}}, "q");
  CHECK(group_bytes(proj(), pc, DType::Float16) == kElems * 0.5 + 1.0 * 4096 * 2.5);
}

TEST_CASE("FP8: one byte per weight, plus float32 scales per 128x128 block or per tensor", "[quant]") {
  const auto block =
      parse_quantization_config(json{{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}, {"fmt", "e4m3"}}, "q");
  CHECK(group_bytes(proj(), block, DType::BFloat16) == kElems + 32.0 * 32 * 4);
  const auto tensor = parse_quantization_config(json{{"quant_method", "fp8"}}, "q");
  CHECK(group_bytes(proj(), tensor, DType::BFloat16) == kElems + 4);
  const auto fbgemm = parse_quantization_config(json{{"quant_method", "fbgemm_fp8"}}, "q");
  CHECK(group_bytes(proj(), fbgemm, DType::BFloat16) == kElems + 4096.0 * 4);
}

TEST_CASE("compressed-tensors reads its config_groups and ignore list", "[quant]") {
  json w8 = {
      {"quant_method", "compressed-tensors"},
      {"ignore", {"lm_head", "re:.*self_attn.k_proj"}},
      {"config_groups",
       {{"group_0",
         {{"targets", {"Linear"}}, {"weights", {{"num_bits", 8}, {"type", "float"}, {"strategy", "channel"}}}}}}}};
  const auto s = parse_quantization_config(w8, "q");
  CHECK(s.method == QuantScheme::Method::CompressedTensors);
  CHECK(s.bits == 8);
  CHECK(s.is_float);
  CHECK(group_bytes(proj(), s, DType::BFloat16) == kElems + 4096.0 * 2);
  CHECK_FALSE(group_is_quantized(
      WeightGroup{"model.layers.3.self_attn.k_proj", WeightRole::Attention, 3, 1, 1024, 4096, 0}, s));
  json w4 = {
      {"quant_method", "compressed-tensors"},
      {"config_groups",
       {{"group_0",
         {{"weights",
           {{"num_bits", 4}, {"type", "int"}, {"strategy", "group"}, {"group_size", 128}, {"symmetric", true}}}}}}}};
  const auto s4 = parse_quantization_config(w4, "q");
  CHECK(group_bytes(proj(), s4, DType::BFloat16) == kElems * 0.5 + 32.0 * 4096 * 2);
}

TEST_CASE("MXFP4 converts only the experts, at 4.25 bits", "[quant]") {
  const auto a = arch_of("openai--gpt-oss-20b");
  REQUIRE(a.quant.method == QuantScheme::Method::Mxfp4);
  WeightGroup experts{"model.layers.0.mlp.experts.down_proj", WeightRole::Experts, 0, 32, 2880, 2880, 0};
  CHECK(group_bytes(experts, a.quant, DType::BFloat16) == 32.0 * (2880.0 * 2880 * 0.5 + 2880.0 * 90));
  CHECK_FALSE(group_is_quantized(
      WeightGroup{"model.layers.0.self_attn.q_proj", WeightRole::Attention, 0, 1, 4096, 2880, 0}, a.quant));
  // The whole model: about 13.8 GB (12.8 GiB), the published size of gpt-oss-20b's checkpoint.
  const auto bytes = weight_bytes_from_groups(a, a.quant, DType::BFloat16);
  CHECK(bytes > 13'500'000'000ULL);
  CHECK(bytes < 14'000'000'000ULL);
}

TEST_CASE("bitsandbytes: 4-bit with absmax per 64 weights, 8-bit with row scales", "[quant]") {
  const auto b4 = parse_quantization_config(json{{"quant_method", "bitsandbytes"}, {"load_in_4bit", true}}, "q");
  CHECK(b4.bits == 4);
  CHECK(group_bytes(proj(), b4, DType::BFloat16) == kElems * 0.5 + kElems / 64 * 4);
  const auto b8 = parse_quantization_config(json{{"load_in_8bit", true}}, "q");
  CHECK(b8.method == QuantScheme::Method::BitsAndBytes);
  CHECK(group_bytes(proj(), b8, DType::BFloat16) == kElems + 4096.0 * 4);
}

TEST_CASE("modules the config keeps unquantized stay 16-bit", "[quant]") {
  SECTION("Llama-3.1-405B-FP8 keeps layers 0 and 125's MLP and layer 0's attention") {
    const auto a = arch_of("meta-llama--Llama-3.1-405B-Instruct-FP8");
    REQUIRE(a.quant.method == QuantScheme::Method::FbgemmFp8);
    WeightGroup kept{"model.layers.0.mlp.down_proj", WeightRole::Mlp, 0, 1, 16384, 53248, 0};
    WeightGroup converted{"model.layers.1.mlp.down_proj", WeightRole::Mlp, 1, 1, 16384, 53248, 0};
    CHECK_FALSE(group_is_quantized(kept, a.quant));
    CHECK(group_is_quantized(converted, a.quant));
  }
  SECTION("gpt-oss globs: model.layers.*.self_attn") {
    const auto a = arch_of("openai--gpt-oss-120b");
    WeightGroup attn{"model.layers.7.self_attn.q_proj", WeightRole::Attention, 7, 1, 4096, 2880, 0};
    CHECK_FALSE(group_is_quantized(attn, a.quant));
  }
}

TEST_CASE("weights from the parameter count of quantized checkpoints", "[quant][weights]") {
  SECTION("GPTQ Llama-2-13B: about 7.3 GB, as TheBloke's checkpoint") {
    const auto a = arch_of("TheBloke--Llama-2-13B-chat-GPTQ");
    const auto bytes = weight_bytes_from_groups(a, a.quant, DType::Float16);
    CHECK(bytes > 7'000'000'000ULL);
    CHECK(bytes < 7'500'000'000ULL);
  }
  SECTION("Qwen3-8B-FP8: about half of the bf16 model") {
    const auto fp8 = arch_of("Qwen--Qwen3-8B-FP8");
    const auto bf16 = arch_of("Qwen--Qwen3-8B");
    const double ratio = static_cast<double>(weight_bytes_from_groups(fp8, fp8.quant, DType::BFloat16)) /
                         static_cast<double>(weight_bytes_from_groups(bf16, std::nullopt, DType::BFloat16));
    CHECK(ratio > 0.55);
    CHECK(ratio < 0.62);
  }
}

TEST_CASE("the quantization flag names vLLM's schemes, and the vLLM memory-calculator API's Q8/Q4", "[quant][flag]") {
  CHECK(quantization_flag_scheme("fp8")->method == QuantScheme::Method::Fp8);
  CHECK(quantization_flag_scheme("awq")->bits == 4);
  CHECK(quantization_flag_scheme("gptq")->group_size == 128);
  CHECK(quantization_flag_scheme("int8")->bits == 8);
  CHECK(quantization_flag_scheme("Q8")->method == QuantScheme::Method::Int8);
  CHECK(quantization_flag_scheme("Q4")->bits == 4);
  CHECK(quantization_flag_scheme("bitsandbytes")->method == QuantScheme::Method::BitsAndBytes);
  CHECK_FALSE(quantization_flag_scheme("int3").has_value());
  SECTION("fp8 at load time halves Llama-3.1-8B's weights") {
    const auto a = arch_of("meta-llama--Meta-Llama-3.1-8B");
    WeightSettings s;
    s.load_quantization = quantization_flag_scheme("fp8");
    const auto w = estimate_weights(a, CheckpointSizes{}, s);
    CHECK(w.source == WeightSource::ParameterCount);
    // Linear layers at 1 byte (+ one scale each), embeddings, LM head and norms at 2 bytes.
    const std::uint64_t linear = 32ULL * (41943040ULL + 176160768ULL);
    const std::uint64_t rest = 2ULL * 525336576ULL + 32ULL * 8192 + 4096;
    CHECK(w.bytes == linear + 32ULL * 7 * 4 + rest * 2);
  }
  SECTION("a checkpoint already quantized another way refuses --quantization") {
    const auto a = arch_of("Qwen--Qwen3-8B-FP8");
    WeightSettings s;
    s.load_quantization = quantization_flag_scheme("awq");
    CHECK_THROWS_AS(estimate_weights(a, CheckpointSizes{}, s), Error);
  }
}

TEST_CASE("malformed quantization_config is bad input naming the field", "[quant][errors]") {
  CHECK_THROWS_AS(parse_quantization_config(json::array(), "cfg"), Error);
  CHECK_THROWS_WITH(parse_quantization_config(json{{"quant_method", "gptq"}, {"bits", "four"}}, "cfg"),
                    Catch::Contains("quantization_config.bits"));
  CHECK_THROWS_WITH(parse_quantization_config(json{{"quant_method", "fp8"}, {"weight_block_size", {128}}}, "cfg"),
                    Catch::Contains("weight_block_size"));
  CHECK_THROWS_WITH(parse_quantization_config(json{{"quant_method", "gptq"}, {"bits", 5}}, "cfg"),
                    Catch::Contains("5 bits"));
}
