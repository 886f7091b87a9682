// The vllm-wizard memory model, checked against numbers worked out by hand from its formulas.
// Units: GiB = 2^30 bytes. V is one GPU's memory; every sum is over the TP GPUs of one replica:
//   allocatable = TP x V x u,  overhead = max(1 GiB, 0.02 x V) + 0.25 GiB x (TP - 1),
//   kv = bytes_per_token x context x concurrency x fragmentation,  headroom = allocatable - required.
// A product with a fraction is rounded to the nearest byte once (23192823398.4 -> 23192823398).
#include <catch2/catch.hpp>

#include <limits>

#include <nlohmann/json.hpp>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/wizard/plan.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;
using Catch::Contains;
using nlohmann::json;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

// A small Llama-like config. With max_positions 0 the arch has no max_position_embeddings at all (the config
// would get transformers' Llama default of 2048, so the field is dropped after normalizing).
ModelArch synthetic(std::uint64_t layers, std::uint64_t heads, std::uint64_t kv_heads, std::uint64_t hidden,
                    std::uint64_t max_positions) {
  json c = {{"model_type", "llama"},        {"hidden_size", hidden},
            {"num_attention_heads", heads}, {"num_key_value_heads", kv_heads},
            {"num_hidden_layers", layers},  {"intermediate_size", hidden * 4},
            {"vocab_size", 32000},          {"torch_dtype", "float16"}};
  if (max_positions > 0) c["max_position_embeddings"] = max_positions;
  ModelArch arch = normalize_config(c, "synthetic");
  if (max_positions == 0) arch.max_position_embeddings.reset();
  return arch;
}

constexpr std::uint64_t kV24 = 24 * kGiB;                       // 25769803776 B
constexpr std::uint64_t kV80 = 80 * kGiB;                       // 85899345920 B
constexpr std::uint64_t kExampleWeights = 14'000'000'000ULL;    // vllm-wizard's example: 7e9 params x 2 B
constexpr std::uint64_t kLlama8BWeights = 16'060'522'496ULL;    // safetensors total of Llama-3.1-8B
constexpr std::uint64_t kLlama70BWeights = 141'107'412'992ULL;  // safetensors total of Llama-3.1-70B

WizardSettings at(std::uint64_t context, std::uint64_t concurrency = 1) {
  WizardSettings s;
  s.context = context;
  s.concurrency = concurrency;
  return s;
}

// Runs `f`, expecting Error; returns its message (empty when nothing was thrown) and checks the exit code.
template <typename F>
std::string bad_input(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    return e.what();
  }
  return "";
}

bool has_warning(const WizardPlan& p, const std::string& needle) {
  for (const auto& w : p.warnings)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("wizard: vllm-wizard's example 1, LLaMA-2-7B fp16 on a 24 GiB GPU", "[wizard]") {
  // 32 layers, 32 KV heads, head_dim 128, fp16: 2 x 32 x 32 x 128 x 2 B = 524288 B per token.
  const auto arch = arch_of("meta-llama--Llama-2-7b-hf");
  const auto kv = kv_cache_spec(arch, "auto", DType::Float16);
  REQUIRE(kv.bytes_per_token == 524288);
  const auto p = plan_wizard(arch, kExampleWeights, kv, kV24, at(4096));

  // Weights: vllm-wizard writes "7.0 x 2.0 = 14.0 GiB", but 7e9 x 2 B = 14e9 B = 13.04 GiB; the bytes are exact.
  CHECK(p.weights_bytes == 14'000'000'000ULL);
  // KV: 524288 x 4096 = 2^31 B (2 GiB) x 1.15 = 2469606195.2 -> 2469606195 B = 2.30 GiB
  // (vllm-wizard's "~2.0 GiB" leaves out its own fragmentation factor).
  CHECK(p.kv_cache_bytes == 2'469'606'195ULL);
  // Overhead: max(1 GiB, 0.02 x 24 GiB = 0.48 GiB) = 1 GiB; TP 1 adds nothing.
  CHECK(p.overhead_bytes == kGiB);
  // Allocatable: 24 GiB x 0.90 = 25769803776 x 0.9 = 23192823398.4 -> 23192823398 B = 21.6 GiB.
  CHECK(p.allocatable_bytes == 23'192'823'398ULL);
  // Required: 14e9 + 2469606195 + 1073741824 = 17543348019; headroom 23192823398 - 17543348019 = 5649475379 B
  // = 5.26 GiB >= 2 GiB -> low (vllm-wizard's 4.6 GiB comes from its rounded 14.0 and 2.0).
  CHECK(p.reserve_bytes == 0);
  CHECK(p.required_bytes == 17'543'348'019ULL);
  CHECK(p.headroom_bytes == 5'649'475'379LL);
  CHECK(p.fits);
  CHECK(p.not_fit_reasons.empty());
  CHECK(p.oom_risk == OomRisk::Low);
  CHECK(p.tensor_parallel_size == 1);
  CHECK(p.gpus == 1);
  CHECK_FALSE(p.pinned);
  CHECK(p.context == 4096);
  // KV share 2469606195 / 23192823398 = 10.6%: no warning, and no risk to explain.
  CHECK(p.warnings.empty());
  CHECK(p.overhead_formula == "max(1 GiB, 0.02 x 24.00 GiB) = 1.00 GiB");
  CHECK(p.kv_formula == "524,288 B/token x 4,096 tokens x 1 concurrency x 1.15 fragmentation = 2.30 GiB");

  // Example 3: left for KV = 23192823398 - 14e9 - 1073741824 = 8119081574 B;
  // floor(8119081574 / 2469606195.2) = floor(3.29) = 3 sequences of 4096 tokens (vllm-wizard: floor(6.6 / 2.0) = 3).
  CHECK(p.max_concurrency_at_context == 3);
  // floor(8119081574 / (524288 x 1.15 = 602931.2)) = floor(13466.02) = 13466 tokens, capped at 4096 positions.
  CHECK(p.max_context_at_concurrency == 4096);
  CHECK(p.max_context_limited_by == "max_position_embeddings");
}

TEST_CASE("wizard: vllm-wizard's example 3, three sequences fit and four do not", "[wizard]") {
  const auto arch = arch_of("meta-llama--Llama-2-7b-hf");
  const auto kv = kv_cache_spec(arch, "auto", DType::Float16);
  // 3 x 2^31 x 1.15 = 7408818585.6 -> 7408818586 <= 8119081574 left after weights and overhead.
  const auto three = plan_wizard(arch, kExampleWeights, kv, kV24, at(4096, 3));
  CHECK(three.kv_cache_bytes == 7'408'818'586ULL);
  CHECK(three.fits);
  // 4 x 2^31 x 1.15 = 9878424780.8 -> 9878424781 > 8119081574: 1759343207 B short.
  const auto four = plan_wizard(arch, kExampleWeights, kv, kV24, at(4096, 4));
  CHECK(four.kv_cache_bytes == 9'878'424'781ULL);
  CHECK_FALSE(four.fits);
  CHECK(four.headroom_bytes == 8'119'081'574LL - 9'878'424'781LL);
  CHECK(four.oom_risk == OomRisk::High);
  REQUIRE_FALSE(four.not_fit_reasons.empty());
  CHECK_THAT(four.not_fit_reasons.front(), Contains("21.60 GiB"));
  // The maxima do not depend on the concurrency asked for in the plan's own KV term.
  CHECK(four.max_concurrency_at_context == 3);
  // floor(8119081574 / (524288 x 4 x 1.15 = 2411724.8)) = floor(3366.5) = 3366 tokens for 4 sequences.
  CHECK(four.max_context_at_concurrency == 3366);
  CHECK(four.max_context_limited_by == "memory");
}

TEST_CASE("wizard: vllm-wizard's example 2, Llama-3 8B GQA with an fp8 KV cache halves the KV term", "[wizard]") {
  // 8 KV heads: 2 x 32 layers x 8 x 128 = 16384 elements per token; fp8 1 B -> 16384 B, bf16 2 B -> 32768 B...
  // per layer-summed token: 65536 B (fp8) and 131072 B (bf16).
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto fp8 = kv_cache_spec(arch, "fp8", DType::BFloat16);
  const auto bf16 = kv_cache_spec(arch, "auto", DType::BFloat16);
  REQUIRE(fp8.bytes_per_token == 65536);
  REQUIRE(bf16.bytes_per_token == 131072);
  const auto p8 = plan_wizard(arch, kExampleWeights, fp8, kV24, at(4096));
  const auto p16 = plan_wizard(arch, kExampleWeights, bf16, kV24, at(4096));
  // fp8: 65536 x 4096 = 2^28 B (0.25 GiB) x 1.15 = 308700774.4 -> 308700774 B = 0.29 GiB
  // (vllm-wizard's "~0.5 GiB" does not follow from its own 2048 x 32 x 4096 x 1.0 x 1.15).
  CHECK(p8.kv_cache_bytes == 308'700'774ULL);
  // bf16: 2^29 x 1.15 = 617401548.8 -> 617401549 B, twice the fp8 term before rounding.
  CHECK(p16.kv_cache_bytes == 617'401'549ULL);
  // Required 14e9 + 308700774 + 1073741824 = 15382442598; headroom 23192823398 - 15382442598 = 7810380800 B
  // = 7.27 GiB -> low (vllm-wizard's 6.1 GiB uses its rounded 14.0 and 0.5).
  CHECK(p8.required_bytes == 15'382'442'598ULL);
  CHECK(p8.headroom_bytes == 7'810'380'800LL);
  CHECK(p8.oom_risk == OomRisk::Low);
  CHECK(p8.fits);
}

TEST_CASE("wizard: overhead is max(1 GiB, 2% of one GPU) plus 0.25 GiB per extra TP rank", "[wizard]") {
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  auto pinned = [&](std::uint64_t gpu, std::uint64_t tp) {
    auto s = at(4096);
    s.tensor_parallel_size = tp;
    return plan_wizard(arch, kLlama8BWeights, kv, gpu, s);
  };
  SECTION("24 GiB: 0.02 x 24 = 0.48 GiB is under the 1 GiB floor") { CHECK(pinned(kV24, 1).overhead_bytes == kGiB); }
  SECTION("50 GiB: 0.02 x 50 = exactly 1 GiB") { CHECK(pinned(50 * kGiB, 1).overhead_bytes == kGiB); }
  SECTION("51 GiB: 0.02 x 51 GiB = 1095216660.48 -> 1095216660 B") {
    CHECK(pinned(51 * kGiB, 1).overhead_bytes == 1'095'216'660ULL);
  }
  SECTION("80 GiB: 0.02 x 80 GiB = 1.6 GiB = 85899345920 / 50 = 1717986918.4 -> 1717986918 B") {
    const auto p = pinned(kV80, 1);
    CHECK(p.overhead_bytes == 1'717'986'918ULL);
    CHECK(p.overhead_formula == "max(1 GiB, 0.02 x 80.00 GiB) = 1.60 GiB");
  }
  SECTION("80 GiB at TP 4: 1717986918 + 0.25 GiB x 3 = 1717986918 + 805306368 = 2523293286 B") {
    const auto p = pinned(kV80, 4);
    CHECK(p.overhead_bytes == 2'523'293'286ULL);
    CHECK(p.overhead_formula == "max(1 GiB, 0.02 x 80.00 GiB) + 0.25 GiB x (4 - 1) = 1.60 GiB + 0.75 GiB = 2.35 GiB");
    // The 2% is of ONE GPU (80 GiB), not of the 320 GiB of the four: allocatable is 4 x 80 GiB x 0.9 = 288 GiB.
    CHECK(p.allocatable_bytes == 288 * kGiB + 0);
  }
  SECTION("24 GiB at TP 2: 1 GiB + 0.25 GiB = 1342177280 B") {
    CHECK(pinned(kV24, 2).overhead_bytes == 1'342'177'280ULL);
  }
  SECTION("a fixed overhead replaces the whole formula, TP term included") {
    auto s = at(4096);
    s.tensor_parallel_size = 4;
    s.overhead_gib = 3.0;
    const auto p = plan_wizard(arch, kLlama8BWeights, kv, kV80, s);
    CHECK(p.overhead_bytes == 3 * kGiB);  // not 3 GiB + 0.75 GiB
    CHECK_THAT(p.overhead_formula, Contains("3.00 GiB fixed"));
    s.overhead_gib = 0.0;
    CHECK(plan_wizard(arch, kLlama8BWeights, kv, kV80, s).overhead_bytes == 0);
  }
}

TEST_CASE("wizard: the fragmentation factor scales the KV term", "[wizard]") {
  const auto arch = arch_of("meta-llama--Llama-2-7b-hf");
  const auto kv = kv_cache_spec(arch, "auto", DType::Float16);
  auto s = at(4096);
  s.fragmentation_factor = 1.0;  // 524288 x 4096 x 1.0 = 2^31 B exactly
  CHECK(plan_wizard(arch, kExampleWeights, kv, kV24, s).kv_cache_bytes == 2 * kGiB);
  s.fragmentation_factor = 1.5;  // 2^31 x 1.5 = 3 GiB
  const auto p = plan_wizard(arch, kExampleWeights, kv, kV24, s);
  CHECK(p.kv_cache_bytes == 3 * kGiB);
  CHECK_THAT(p.kv_formula, Contains("x 1.5 fragmentation = 3.00 GiB"));
  // Left for KV 8119081574 B; per sequence 3 GiB = 3221225472 -> floor(2.52) = 2.
  CHECK(p.max_concurrency_at_context == 2);
}

TEST_CASE("wizard: the headroom reserve is required on top and shrinks the maxima", "[wizard]") {
  const auto arch = arch_of("meta-llama--Llama-2-7b-hf");
  const auto kv = kv_cache_spec(arch, "auto", DType::Float16);
  auto s = at(4096);
  s.headroom_gib = 1.5;  // 1.5 x 2^30 = 1610612736 B
  const auto p = plan_wizard(arch, kExampleWeights, kv, kV24, s);
  CHECK(p.reserve_bytes == 1'610'612'736ULL);
  // Required 17543348019 + 1610612736 = 19153960755; headroom 5649475379 - 1610612736 = 4038862643.
  CHECK(p.required_bytes == 19'153'960'755ULL);
  CHECK(p.headroom_bytes == 4'038'862'643LL);
  // Left for KV 8119081574 - 1610612736 = 6508468838; floor(6508468838 / 2469606195.2) = floor(2.64) = 2.
  CHECK(p.max_concurrency_at_context == 2);
}

TEST_CASE("wizard: OOM risk classes with the default and custom thresholds", "[wizard]") {
  const auto gib = static_cast<std::int64_t>(kGiB);
  SECTION("defaults 2,0: >= 2 GiB low, >= 0 medium, else high") {
    const RiskThresholds t;
    CHECK(classify_oom_risk(2 * gib, t) == OomRisk::Low);
    CHECK(classify_oom_risk(2 * gib - 1, t) == OomRisk::Medium);
    CHECK(classify_oom_risk(0, t) == OomRisk::Medium);
    CHECK(classify_oom_risk(-1, t) == OomRisk::High);
  }
  SECTION("custom 3.5,1") {
    const RiskThresholds t{3.5, 1.0};
    CHECK(classify_oom_risk(7 * gib / 2, t) == OomRisk::Low);
    CHECK(classify_oom_risk(7 * gib / 2 - 1, t) == OomRisk::Medium);
    CHECK(classify_oom_risk(gib, t) == OomRisk::Medium);
    CHECK(classify_oom_risk(gib - 1, t) == OomRisk::High);
  }
  SECTION("names") {
    CHECK(oom_risk_name(OomRisk::Low) == "low");
    CHECK(oom_risk_name(OomRisk::Medium) == "medium");
    CHECK(oom_risk_name(OomRisk::High) == "high");
  }

  // Example 1's headroom is 5649475379 B (5.26 GiB); a reserve or other bounds move it between the classes.
  const auto arch = arch_of("meta-llama--Llama-2-7b-hf");
  const auto kv = kv_cache_spec(arch, "auto", DType::Float16);
  SECTION("a 4 GiB reserve leaves 5649475379 - 4294967296 = 1354508083 B (1.26 GiB): medium, still fits") {
    auto s = at(4096);
    s.headroom_gib = 4;
    const auto p = plan_wizard(arch, kExampleWeights, kv, kV24, s);
    CHECK(p.headroom_bytes == 1'354'508'083LL);
    CHECK(p.oom_risk == OomRisk::Medium);
    CHECK(p.fits);
    CHECK(has_warning(p, "OOM risk medium: headroom 1.26 GiB is below the 2 GiB low-risk bound"));
  }
  SECTION("a 6 GiB reserve leaves 5649475379 - 6442450944 = -792975565 B: high, does not fit") {
    auto s = at(4096);
    s.headroom_gib = 6;
    const auto p = plan_wizard(arch, kExampleWeights, kv, kV24, s);
    CHECK(p.headroom_bytes == -792'975'565LL);
    CHECK(p.oom_risk == OomRisk::High);
    CHECK_FALSE(p.fits);
    CHECK(has_warning(p, "OOM risk high: the plan needs 0.74 GiB more"));
    REQUIRE(p.not_fit_reasons.size() == 1);
    CHECK_THAT(p.not_fit_reasons[0], Contains("reserve 6.00 GiB"));
  }
  SECTION("thresholds 6,1: 5.26 GiB is medium") {
    auto s = at(4096);
    s.thresholds = {6.0, 1.0};
    const auto p = plan_wizard(arch, kExampleWeights, kv, kV24, s);
    CHECK(p.oom_risk == OomRisk::Medium);
    CHECK(has_warning(p, "below the 6 GiB low-risk bound"));
  }
  SECTION("thresholds 8,6: 5.26 GiB is high, yet it fits") {
    auto s = at(4096);
    s.thresholds = {8.0, 6.0};
    const auto p = plan_wizard(arch, kExampleWeights, kv, kV24, s);
    CHECK(p.oom_risk == OomRisk::High);
    CHECK(p.fits);
    CHECK(has_warning(p, "OOM risk high: headroom 5.26 GiB is below the 6 GiB medium-risk bound"));
  }
}

TEST_CASE("wizard: --risk-thresholds-gib parsing", "[wizard]") {
  auto t = parse_risk_thresholds("2,0");
  CHECK(t.low_gib == 2.0);
  CHECK(t.medium_gib == 0.0);
  t = parse_risk_thresholds("3.5,1");
  CHECK(t.low_gib == 3.5);
  CHECK(t.medium_gib == 1.0);
  t = parse_risk_thresholds(" 4 ,\t2.25 ");
  CHECK(t.low_gib == 4.0);
  CHECK(t.medium_gib == 2.25);
  t = parse_risk_thresholds("1,1");  // equal bounds: no medium class
  CHECK(t.low_gib == 1.0);

  for (const std::string bad : {"2", "2,0,1", "", ",", "2,", ",0", "a,b", "2x,0", "2,0GiB", "nan,0", "inf,0", "2,-inf",
                                "1,2", "-1,-2", "2000,0", "2,0\n"}) {
    INFO("input: " << bad);
    const auto message = bad_input([&] { parse_risk_thresholds(bad); });
    CHECK_THAT(message, Contains("--risk-thresholds-gib"));
    CHECK(message.find('\n') == std::string::npos);
  }
  CHECK_THAT(bad_input([] { parse_risk_thresholds("1,2"); }), Contains("below the medium-risk bound"));
}

TEST_CASE("wizard: max concurrency and max context, capped and exhausted", "[wizard]") {
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");  // 131072 B per token (bf16), 131072 positions
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  SECTION("24 GiB: memory limits the context") {
    // Left: 23192823398 - 16060522496 - 1073741824 = 6058559078 B.
    // Context at 1 sequence: floor(6058559078 / (131072 x 1.15 = 150732.8)) = floor(40194.03) = 40194.
    const auto one = plan_wizard(arch, kLlama8BWeights, kv, kV24, at(8192));
    CHECK(one.max_context_at_concurrency == 40194);
    CHECK(one.max_context_limited_by == "memory");
    // Sequences of 8192 tokens: floor(6058559078 / (131072 x 8192 x 1.15 = 1234803097.6)) = floor(4.91) = 4.
    CHECK(one.max_concurrency_at_context == 4);
    // At 4 sequences: floor(6058559078 / 602931.2) = floor(10048.5) = 10048.
    const auto four = plan_wizard(arch, kLlama8BWeights, kv, kV24, at(8192, 4));
    CHECK(four.max_context_at_concurrency == 10048);
  }
  SECTION("80 GiB: memory allows 394943 tokens, capped at 131072 positions") {
    // Left: 77309411328 - 16060522496 - 1717986918 = 59530901914 B; / 150732.8 = 394943.6.
    const auto p = plan_wizard(arch, kLlama8BWeights, kv, kV80, at(8192));
    CHECK(p.max_context_at_concurrency == 131072);
    CHECK(p.max_context_limited_by == "max_position_embeddings");
  }
  SECTION("a requested context past max_position_embeddings is capped, with a warning") {
    const auto p = plan_wizard(arch, kLlama8BWeights, kv, kV80, at(200000));
    CHECK(p.context == 131072);
    // 131072 x 131072 = 2^34 B x 1.15 = 19756849561.6 -> 19756849562 B.
    CHECK(p.kv_cache_bytes == 19'756'849'562ULL);
    CHECK(has_warning(p, "--max-model-len 200000 exceeds max_position_embeddings 131072: capped to 131072"));
  }
  SECTION("nothing left after the weights: both maxima are 0") {
    const auto p = plan_wizard(arch, 30 * kGiB, kv, kV24, at(8192));
    CHECK_FALSE(p.fits);
    CHECK(p.max_concurrency_at_context == 0);
    CHECK(p.max_context_at_concurrency == 0);
    CHECK(p.max_context_limited_by == "memory");
  }
  SECTION("no per-token KV at all: unbounded concurrency, context up to max_position_embeddings") {
    KvCacheSpec none = kv;
    none.bytes_per_token = 0;
    const auto p = plan_wizard(arch, kLlama8BWeights, none, kV24, at(8192));
    CHECK(p.kv_cache_bytes == 0);
    CHECK(p.max_concurrency_at_context == std::numeric_limits<std::uint64_t>::max());
    CHECK(p.max_context_at_concurrency == 131072);
    CHECK(has_warning(p, "no layer holds per-token KV cache"));
  }
}

TEST_CASE("wizard: a KV cache over half of the allocatable memory is warned about", "[wizard]") {
  const auto arch = arch_of("meta-llama--Llama-2-7b-hf");
  const auto kv = kv_cache_spec(arch, "auto", DType::Float16);
  // 80 GiB, 20 sequences of 4096: KV 20 x 2^31 x 1.15 = 49392123904 B; allocatable 72 GiB = 77309411328 B;
  // share 49392123904 / 77309411328 = 63.9%. Required 14e9 + 49392123904 + 1717986918 = 65110110822: fits.
  const auto p = plan_wizard(arch, kExampleWeights, kv, kV80, at(4096, 20));
  CHECK(p.kv_cache_bytes == 49'392'123'904ULL);
  CHECK(p.fits);
  CHECK(has_warning(p, "the KV cache takes 63.9% of the allocatable memory (46.00 GiB of 72.00 GiB)"));
  // 10 sequences: 24696061952 / 77309411328 = 31.9%: no such warning.
  CHECK_FALSE(has_warning(plan_wizard(arch, kExampleWeights, kv, kV80, at(4096, 10)), "KV cache takes"));
}

TEST_CASE("wizard: TP search picks the smallest TP that fits", "[wizard]") {
  // Llama-3.1-70B (64 heads, 8 KV heads): 2 x 80 x 8 x 128 x 2 B = 327680 B per token;
  // KV at 8192 tokens: 327680 x 8192 = 2684354560 x 1.15 = 3087007744 B.
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-70B");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  REQUIRE(kv.bytes_per_token == 327680);
  auto s = at(8192);
  s.gpus_per_node = 8;
  const auto p = plan_wizard(arch, kLlama70BWeights, kv, kV80, s);
  // TP 1: 77309411328 allocatable < 141107412992 of weights alone.
  // TP 2: allocatable 2 x 80 GiB x 0.9 = 154618822656; overhead 1717986918 + 268435456 = 1986422374;
  //       required 141107412992 + 3087007744 + 1986422374 = 146180843110; headroom 8437979546 B (7.86 GiB).
  CHECK(p.tensor_parallel_size == 2);
  CHECK(p.gpus == 2);
  CHECK_FALSE(p.pinned);
  CHECK(p.allocatable_bytes == 154'618'822'656ULL);
  CHECK(p.overhead_bytes == 1'986'422'374ULL);
  CHECK(p.kv_cache_bytes == 3'087'007'744ULL);
  CHECK(p.required_bytes == 146'180'843'110ULL);
  CHECK(p.headroom_bytes == 8'437'979'546LL);
  CHECK(p.fits);
  CHECK(p.oom_risk == OomRisk::Low);
}

TEST_CASE("wizard: TP search skips sizes vLLM refuses and reports the largest when none fits", "[wizard]") {
  SECTION("24 heads, 8 KV heads: 3 and 6 divide the heads but not the KV heads, so 4 is next after 2") {
    // 2 layers, hidden 3072 -> head_dim 128; fp16: 2 x 2 x 8 x 128 x 2 = 8192 B per token.
    const auto arch = synthetic(2, 24, 8, 3072, 4096);
    const auto kv = kv_cache_spec(arch, "auto", DType::Float16);
    auto s = at(1024);
    s.gpus_per_node = 8;
    // 40 GiB of weights on 24 GiB GPUs: TP 2 allows 43.2 GiB, minus 40 + 1.25 overhead + 0.01 KV: fits.
    CHECK(plan_wizard(arch, 40 * kGiB, kv, kV24, s).tensor_parallel_size == 2);
    // 50 GiB: TP 2 allows 43.2 GiB (no); TP 3 would allow 64.8 GiB but 8 % 3 != 0; TP 4: 86.4 GiB fits.
    const auto p = plan_wizard(arch, 50 * kGiB, kv, kV24, s);
    CHECK(p.tensor_parallel_size == 4);
    CHECK(p.fits);
    CHECK(p.warnings.empty());
  }
  SECTION("Llama-3.1-70B on 24 GiB GPUs, 4 per node: even TP 4 (86.4 GiB) is short") {
    const auto arch = arch_of("meta-llama--Meta-Llama-3.1-70B");
    const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
    auto s = at(8192);
    s.gpus_per_node = 4;
    const auto p = plan_wizard(arch, kLlama70BWeights, kv, kV24, s);
    // allocatable 4 x 24 GiB x 0.9 = 92771293593.6 -> 92771293594; overhead 1 GiB + 0.75 GiB = 1879048192;
    // headroom 92771293594 - 141107412992 - 3087007744 - 1879048192 = -53302175334.
    CHECK(p.tensor_parallel_size == 4);
    CHECK(p.allocatable_bytes == 92'771'293'594ULL);
    CHECK(p.overhead_bytes == 1'879'048'192ULL);
    CHECK(p.headroom_bytes == -53'302'175'334LL);
    CHECK_FALSE(p.fits);
    CHECK(p.oom_risk == OomRisk::High);
    REQUIRE(p.not_fit_reasons.size() == 2);
    CHECK_THAT(p.not_fit_reasons[1], Contains("no tensor parallel size from 1 to 4"));
    // 3 GPUs per node: 3 does not divide 64 heads, so the largest candidate is 2.
    s.gpus_per_node = 3;
    CHECK(plan_wizard(arch, kLlama70BWeights, kv, kV24, s).tensor_parallel_size == 2);
  }
}

TEST_CASE("wizard: a pinned TP is used as given, and one vLLM refuses does not fit", "[wizard]") {
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");  // 32 heads, 8 KV heads
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  auto s = at(8192);
  s.gpus_per_node = 8;
  SECTION("TP 4 where TP 1 would fit") {
    s.tensor_parallel_size = 4;
    const auto p = plan_wizard(arch, kLlama8BWeights, kv, kV80, s);
    CHECK(p.pinned);
    CHECK(p.tensor_parallel_size == 4);
    CHECK(p.fits);
  }
  SECTION("TP 3 divides neither the 32 heads nor the 8 KV heads") {
    s.tensor_parallel_size = 3;
    const auto p = plan_wizard(arch, kLlama8BWeights, kv, kV80, s);
    // Still computed: allocatable 3 x 80 GiB x 0.9 = 216 GiB = 231928233984 B;
    // overhead 1717986918 + 2 x 268435456 = 2254857830 B; memory alone would fit.
    CHECK(p.allocatable_bytes == 231'928'233'984ULL);
    CHECK(p.overhead_bytes == 2'254'857'830ULL);
    CHECK(p.headroom_bytes > 0);
    CHECK_FALSE(p.fits);
    REQUIRE(p.not_fit_reasons.size() == 2);
    CHECK_THAT(p.not_fit_reasons[0], Contains("does not divide the 32 attention heads"));
    CHECK_THAT(p.not_fit_reasons[1], Contains("8 KV heads do not divide one another"));
    CHECK(has_warning(p, "tensor parallel size 3 does not divide the 32 attention heads: vLLM refuses"));
  }
  SECTION("TP 16 replicates the 8 KV heads: fits, with a warning") {
    s.tensor_parallel_size = 16;
    const auto p = plan_wizard(arch, kLlama8BWeights, kv, kV80, s);
    CHECK(p.fits);
    CHECK(has_warning(p, "exceeds the 8 KV heads"));
  }
}

TEST_CASE("wizard: settings out of range are bad input naming the flag", "[wizard]") {
  const auto arch = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto kv = kv_cache_spec(arch, "auto", DType::BFloat16);
  auto error_with = [&](auto change) {
    WizardSettings s = at(4096);
    change(s);
    return bad_input([&] { plan_wizard(arch, kLlama8BWeights, kv, kV80, s); });
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THAT(error_with([](auto& s) { s.gpu_memory_utilization = 0; }), Contains("--gpu-memory-utilization"));
  CHECK_THAT(error_with([](auto& s) { s.gpu_memory_utilization = 1.01; }), Contains("--gpu-memory-utilization"));
  CHECK_THAT(error_with([&](auto& s) { s.gpu_memory_utilization = nan; }), Contains("--gpu-memory-utilization"));
  CHECK_THAT(error_with([](auto& s) { s.fragmentation_factor = 0.99; }), Contains("--fragmentation-factor"));
  CHECK_THAT(error_with([](auto& s) { s.fragmentation_factor = 10.5; }), Contains("--fragmentation-factor"));
  CHECK_THAT(error_with([](auto& s) { s.headroom_gib = -0.5; }), Contains("--headroom-gib"));
  CHECK_THAT(error_with([](auto& s) { s.headroom_gib = 1025; }), Contains("--headroom-gib"));
  CHECK_THAT(error_with([](auto& s) { s.overhead_gib = -1.0; }), Contains("--overhead-gib"));
  CHECK_THAT(error_with([&](auto& s) { s.overhead_gib = nan; }), Contains("--overhead-gib"));
  CHECK_THAT(error_with([](auto& s) { s.context = 0; }), Contains("--max-model-len"));
  CHECK_THAT(error_with([](auto& s) { s.concurrency = 0; }), Contains("--concurrency"));
  CHECK_THAT(error_with([](auto& s) { s.tensor_parallel_size = 0; }), Contains("--tensor-parallel-size"));
  CHECK_THAT(error_with([](auto& s) { s.gpus_per_node = 0; }), Contains("--gpus-per-node"));
  CHECK_THAT(error_with([](auto& s) { s.thresholds = {1.0, 2.0}; }), Contains("--risk-thresholds-gib"));
  CHECK_THAT(bad_input([&] { plan_wizard(arch, kLlama8BWeights, kv, 0, at(4096)); }), Contains("--gpu-memory"));

  // The ends of each range are accepted.
  WizardSettings edge = at(4096);
  edge.gpu_memory_utilization = 1.0;
  edge.fragmentation_factor = 10.0;
  edge.headroom_gib = 0;
  edge.overhead_gib = 1024.0;
  CHECK(plan_wizard(arch, kLlama8BWeights, kv, kV80, edge).overhead_bytes == 1024 * kGiB);
  edge.fragmentation_factor = 1.0;
  CHECK(plan_wizard(arch, kLlama8BWeights, kv, kV80, edge).kv_cache_bytes == 131072ULL * 4096);
}

TEST_CASE("wizard: absurd context and concurrency never wrap", "[wizard]") {
  // No max_position_embeddings, so nothing caps the context. 2 layers, 4 KV heads, head_dim 64, fp16:
  // 2 x 2 x 4 x 64 x 2 = 2048 = 2^11 B per token.
  const auto arch = synthetic(2, 4, 4, 256, 0);
  const auto kv = kv_cache_spec(arch, "auto", DType::Float16);
  REQUIRE(kv.bytes_per_token == 2048);
  const std::uint64_t t40 = 1ULL << 40;
  SECTION("2^40 tokens: 2^51 B x 1.15 = 2589569785738035.2 -> a clean does-not-fit") {
    const auto p = plan_wizard(arch, kGiB, kv, kV80, at(t40));
    CHECK(p.kv_cache_bytes == 2'589'569'785'738'035ULL);
    CHECK_FALSE(p.fits);
    CHECK(p.headroom_bytes < 0);
    CHECK(p.max_concurrency_at_context == 0);
    // Left: 77309411328 - 1073741824 - 1717986918 = 74517682586; / (2048 x 1.15 = 2355.2) = 31639641.2.
    CHECK(p.max_context_at_concurrency == 31'639'641);
  }
  SECTION("2^40 sequences of one token: the same KV term") {
    CHECK(plan_wizard(arch, kGiB, kv, kV80, at(1, t40)).kv_cache_bytes == 2'589'569'785'738'035ULL);
  }
  SECTION("2^40 x 2^40 tokens overflow 64 bits: bad input") {
    CHECK_THAT(bad_input([&] { plan_wizard(arch, kGiB, kv, kV80, at(t40, t40)); }), Contains("--max-model-len"));
  }
  SECTION("2^40 x 2^13 tokens x 2^11 B = 2^64 B: bad input") {
    CHECK_THAT(bad_input([&] { plan_wizard(arch, kGiB, kv, kV80, at(t40, 1ULL << 13)); }), Contains("--concurrency"));
  }
  SECTION("2^63 B x 1.15 is past the byte range: bad input") {
    CHECK_THAT(bad_input([&] { plan_wizard(arch, kGiB, kv, kV80, at(t40, 1ULL << 12)); }), Contains("--max-model-len"));
  }
  SECTION("weights near 2^64 B: bad input, not a wrapped headroom") {
    const auto message =
        bad_input([&] { plan_wizard(arch, std::numeric_limits<std::uint64_t>::max() - kGiB, kv, kV80, at(4096)); });
    CHECK_FALSE(message.empty());
  }
}
