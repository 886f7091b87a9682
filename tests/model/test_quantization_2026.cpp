// The quantization formats of 2026 checkpoints (issue 14), each with its bytes computed by hand: ModelOpt NVFP4 (also
// in hf_quant_config.json's shape), ModelOpt mixed precision, compressed-tensors NVFP4 and MXFP4/MXFP8, AutoRound,
// and DeepSeek V4's FP4 experts beside FP8 block linears.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/quantization.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

// One 4096 x 4096 attention projection.
WeightGroup proj(const std::string& name = "model.layers.0.self_attn.q_proj") {
  return WeightGroup{name, WeightRole::Attention, 0, 1, 4096, 4096, 0};
}
// Eight routed experts of 2048 x 4096 each.
WeightGroup experts() {
  return WeightGroup{"model.layers.0.mlp.experts.gate_proj", WeightRole::Experts, 0, 8, 2048, 4096, 0};
}
constexpr double kElems = 4096.0 * 4096.0;

json nvfp4_weights() {
  return {{"num_bits", 4}, {"type", "float"}, {"strategy", "tensor_group"}, {"group_size", 16}, {"symmetric", true}};
}

}  // namespace

TEST_CASE("ModelOpt NVFP4: half a byte per weight, an FP8 scale per 16, a float32 scale per tensor", "[quant][2026]") {
  const auto s = parse_quantization_config(json{{"quant_method", "modelopt"},
                                                {"quant_algo", "NVFP4"},
                                                {"group_size", 16},
                                                {"kv_cache_quant_algo", "FP8"},
                                                {"exclude_modules", {"lm_head", "*.mlp.gate"}}},
                                           "q");
  CHECK(s.method == QuantScheme::Method::Nvfp4);
  // 4096 x 4096 / 2 B of E2M1 pairs + 4096 x 4096 / 16 FP8 scales (1 B each) + one float32 weight_scale_2
  CHECK(group_bytes(proj(), s, DType::BFloat16) == 4096.0 * 4096 / 2 + 4096.0 * 4096 / 16 + 4);
  // 8 experts x (2048 x 4096 / 2 + 2048 x 4096 / 16 + 4)
  CHECK(group_bytes(experts(), s, DType::BFloat16) == 8 * (2048.0 * 4096 / 2 + 2048.0 * 4096 / 16 + 4));
  // exclude_modules: the router and the LM head stay 16-bit.
  const WeightGroup gate{"model.layers.0.mlp.gate", WeightRole::Mlp, 0, 1, 128, 4096, 0};
  CHECK_FALSE(group_is_quantized(gate, s));
  CHECK(group_bytes(gate, s, DType::BFloat16) == 128.0 * 4096 * 2);

  // The same scheme as hf_quant_config.json writes it: {"producer": ..., "quantization": {...}}.
  const auto hf = parse_quantization_config(
      json{{"producer", {{"name", "modelopt"}, {"version", "0.37.0"}}},
           {"quantization", {{"quant_algo", "NVFP4"}, {"group_size", 16}, {"exclude_modules", {"lm_head"}}}}},
      "q");
  CHECK(hf.method == QuantScheme::Method::Nvfp4);
  CHECK(group_bytes(proj(), hf, DType::BFloat16) == kElems / 2 + kElems / 16 + 4);
}

TEST_CASE("ModelOpt mixed precision converts only the modules it lists, each in its format", "[quant][2026]") {
  const json qc = {{"quant_method", "modelopt"},
                   {"quant_algo", "MIXED_PRECISION"},
                   {"quantized_layers",
                    {{"model.layers.0.self_attn.q_proj", {{"quant_algo", "FP8"}}},
                     // ModelOpt names the experts one by one; they stack into one group here.
                     {"model.layers.0.mlp.experts.0.gate_proj", {{"quant_algo", "NVFP4"}, {"group_size", 16}}},
                     {"model.layers.0.mlp.experts.1.gate_proj", {{"quant_algo", "NVFP4"}, {"group_size", 16}}}}}};
  const auto s = parse_quantization_config(qc, "q");
  CHECK(s.method == QuantScheme::Method::ModelOptMixed);
  // FP8 per tensor: 1 B per weight + one float32 scale.
  CHECK(group_bytes(proj(), s, DType::BFloat16) == kElems + 4);
  CHECK(group_bytes(experts(), s, DType::BFloat16) == 8 * (2048.0 * 4096 / 2 + 2048.0 * 4096 / 16 + 4));
  // A module not listed stays bf16.
  const WeightGroup k = proj("model.layers.0.self_attn.k_proj");
  CHECK_FALSE(group_is_quantized(k, s));
  CHECK(group_bytes(k, s, DType::BFloat16) == kElems * 2);
}

TEST_CASE("compressed-tensors NVFP4 (nvfp4-pack-quantized): the same bytes as ModelOpt's", "[quant][2026]") {
  const json qc = {
      {"quant_method", "compressed-tensors"},
      {"format", "nvfp4-pack-quantized"},
      {"ignore", {"lm_head"}},
      {"config_groups",
       {{"group_0", {{"targets", {"Linear"}}, {"weights", nvfp4_weights()}, {"input_activations", nvfp4_weights()}}}}}};
  const auto s = parse_quantization_config(qc, "q");
  CHECK(s.method == QuantScheme::Method::CompressedTensors);
  CHECK(s.bits == 4);
  CHECK(s.group_size == 16);
  // weight_packed 4096 x 2048 B + weight_scale 4096 x 256 FP8 + weight_global_scale (float32)
  CHECK(group_bytes(proj(), s, DType::BFloat16) == 4096.0 * 2048 + 4096.0 * 256 + 4);
}

TEST_CASE("compressed-tensors MXFP4 experts beside MXFP8 linears: an E8M0 byte per 32", "[quant][2026]") {
  const json mx8 = {{"num_bits", 8},
                    {"type", "float"},
                    {"strategy", "group"},
                    {"group_size", 32},
                    {"scale_dtype", "torch.float8_e8m0fnu"}};
  const json mx4 = {{"num_bits", 4},
                    {"type", "float"},
                    {"strategy", "group"},
                    {"group_size", 32},
                    {"scale_dtype", "torch.float8_e8m0fnu"}};
  const json qc = {{"quant_method", "compressed-tensors"},
                   {"format", "mixed-precision"},
                   {"config_groups",
                    {{"group_0", {{"targets", {"Linear"}}, {"weights", mx8}}},
                     {"group_1", {{"targets", {"re:.*mlp.experts.*"}}, {"weights", mx4}}}}}};
  const auto s = parse_quantization_config(qc, "q");
  // MXFP8: 4096 x 4096 x 1 B + 4096 x (4096 / 32) scale bytes
  CHECK(group_bytes(proj(), s, DType::BFloat16) == kElems + 4096.0 * 128);
  // MXFP4 experts: 8 x (2048 x 4096 / 2 + 2048 x 4096 / 32)
  CHECK(group_bytes(experts(), s, DType::BFloat16) == 8 * (2048.0 * 2048 + 2048.0 * 128));
}

TEST_CASE("AutoRound int4: GPTQ-style packing with fp16 scales and packed zeros, no act-order index", "[quant][2026]") {
  const json qc = {{"quant_method", "auto-round"},
                   {"bits", 4},
                   {"group_size", 128},
                   {"sym", true},
                   {"data_type", "int"},
                   {"packing_format", "auto_round:auto_gptq"}};
  const auto s = parse_quantization_config(qc, "q");
  CHECK(s.method == QuantScheme::Method::AutoRound);
  // qweight 4096 x 4096 / 2 B + 32 groups x 4096 rows x (2 B fp16 scale + 0.5 B packed zero)
  CHECK(group_bytes(proj(), s, DType::Float16) == kElems / 2 + 32.0 * 4096 * 2 + 32.0 * 4096 * 0.5);
  CHECK(describe_scheme(s) == "AutoRound 4-bit int, group 128");
  // AutoRound's NVFP4 export ("nv_fp"): the NVFP4 layout, no zero points.
  const auto nv = parse_quantization_config(
      json{{"quant_method", "auto-round"}, {"bits", 4}, {"group_size", 16}, {"data_type", "nv_fp"}}, "q");
  CHECK(group_bytes(proj(), nv, DType::BFloat16) == kElems / 2 + kElems / 16 + 4);
}

TEST_CASE("DeepSeek V4: FP8 128x128 blocks with UE8M0 scales, MXFP4 experts, bf16 compressors", "[quant][2026]") {
  const std::string dir = "deepseek-ai--DeepSeek-V4-Flash";
  auto config = testsupport::load_test_config(dir);
  const auto a = normalize_config(config, dir);
  auto group = [&](const std::string& name) -> const WeightGroup& {
    for (const auto& g : a.weights)
      if (g.name == name) return g;
    FAIL("no group " << name);
    return a.weights.front();
  };
  // wq_b: 32768 x 1024 FP8 + (32768 / 128) x (1024 / 128) = 256 x 8 one-byte UE8M0 scales (the checkpoint's shapes)
  CHECK(group_bytes(group("model.layers.2.attn.wq_b"), a.quant, DType::BFloat16) == 32768.0 * 1024 + 256 * 8);
  // Routed experts w1: 256 x (2048 x 4096 / 2 int8-packed FP4 + 2048 x 4096 / 32 E8M0 scales), as in the checkpoint:
  // w1.weight [2048, 2048] int8 and w1.scale [2048, 128].
  CHECK(group_bytes(group("model.layers.2.ffn.experts.w1"), a.quant, DType::BFloat16) ==
        256 * (2048.0 * 2048 + 2048.0 * 128));
  // The compressor is stored in bf16: 2 x 512 x 4096 x 2 B for the ratio-4 layer 2's wkv.
  CHECK_FALSE(group_is_quantized(group("model.layers.2.attn.compressor.wkv"), a.quant));
  CHECK(group_bytes(group("model.layers.2.attn.compressor.wkv"), a.quant, DType::BFloat16) == 1024.0 * 4096 * 2);
  CHECK_FALSE(group_is_quantized(group("model.layers.2.attn.indexer.weights_proj"), a.quant));
  CHECK(group_is_quantized(group("model.layers.2.attn.indexer.wq_b"), a.quant));

  // expert_dtype "fp8" (V4-Flash-Base): the experts take the FP8 blocks too.
  config["expert_dtype"] = "fp8";
  const auto base = normalize_config(config, dir);
  for (const auto& g : base.weights)
    if (g.name == "model.layers.2.ffn.experts.w1")
      CHECK(group_bytes(g, base.quant, DType::BFloat16) == 256 * (2048.0 * 4096 + 16 * 32));
}
