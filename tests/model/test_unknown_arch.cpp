// Issue 14: an architecture vram-calc does not know never passes as a plan. The confidence record (exact, estimated,
// guess for the parameters, the weights and the KV cache, with the reasons) on an invented model_type, experts that no
// decoder layer holds, and a layer type it cannot size; the weights exact from safetensors headers whatever the
// architecture. Every expected count is written out from the config's numbers.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"
#include "vramcalc/model/confidence.hpp"
#include "vramcalc/report/build.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

// A small Llama-shaped config: 24 layers, hidden 2048, 16 heads (head_dim 128), MHA, gated MLP 8192, vocab 32000.
json small_config(const std::string& model_type) {
  return {{"model_type", model_type}, {"architectures", {"SomethingForCausalLM"}},
          {"hidden_size", 2048},      {"num_attention_heads", 16},
          {"num_hidden_layers", 24},  {"intermediate_size", 8192},
          {"vocab_size", 32000},      {"max_position_embeddings", 4096},
          {"torch_dtype", "bfloat16"}};
}

// The Llama layout of small_config by hand: embedding + lm_head (untied), per layer q/k/v/o (4 x 2048 x 2048), gate/up/
// down (3 x 2048 x 8192) and two RMSNorms (2 x 2048), then the final norm (2048).
constexpr std::uint64_t kSmallLlamaParams =
    2ULL * 32000 * 2048 + 24ULL * (4ULL * 2048 * 2048 + 3ULL * 2048 * 8192 + 2ULL * 2048) + 2048;

bool mentions(const ModelConfidence& c, const std::string& text) {
  for (const auto& r : c.reasons)
    if (r.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("unknown arch: a family vram-calc knows is exact, and not uncertain", "[model][confidence]") {
  const auto a = normalize_config(small_config("llama"), "llama.json");
  CHECK(a.confidence.parameters == Confidence::Exact);
  CHECK(a.confidence.kv_cache == Confidence::Exact);
  CHECK_FALSE(a.confidence.uncertain());
  CHECK(a.confidence.reasons.empty());
  CHECK(a.num_params() == kSmallLlamaParams);  // 1,741,785,088
}

TEST_CASE("unknown arch: an invented model_type is sized as Llama, and the count and KV cache are guesses",
          "[model][confidence]") {
  const auto a = normalize_config(small_config("brand_new_lm"), "new.json");
  CHECK_FALSE(a.known_family);
  CHECK(a.confidence.parameters == Confidence::Guess);
  CHECK(a.confidence.kv_cache == Confidence::Guess);
  CHECK(a.confidence.uncertain());
  CHECK(mentions(a.confidence, "model_type \"brand_new_lm\" is not a family vram-calc knows"));
  CHECK(a.confidence.guesses() == "parameter count and KV cache are guesses");
  CHECK(confidence_name(a.confidence.parameters) == "guess");
  // The guess is still the Llama layout of the config's sizes: the same count as the llama config above.
  CHECK(a.num_params() == kSmallLlamaParams);
  // KV per token, the Llama way: 2 (K, V) x 24 layers x 16 KV heads x 128 head_dim x 2 B = 196,608 B.
  CHECK(kv_cache_spec(a, "auto", DType::BFloat16).bytes_per_token == 2ULL * 24 * 16 * 128 * 2);
}

TEST_CASE("unknown arch: experts that no decoder layer holds are never multiplied by zero layers silently",
          "[model][confidence]") {
  SECTION("a known dense family with an expert count (llama has no MoE layout)") {
    auto c = small_config("llama");
    c["num_local_experts"] = 8;
    c["num_experts_per_tok"] = 2;
    const auto a = normalize_config(c, "llama-experts.json");
    CHECK(a.num_experts == 8);
    CHECK(a.moe_layers == 0);
    // The experts are not counted: the dense count, exactly the llama one.
    CHECK(a.num_params() == kSmallLlamaParams);
    CHECK(a.confidence.parameters == Confidence::Guess);
    CHECK(a.confidence.kv_cache == Confidence::Exact);  // experts do not touch the KV cache
    CHECK(a.confidence.uncertain());
    CHECK(mentions(a.confidence, "the config names 8 experts but no decoder layer holds them"));
  }
  SECTION("an unknown family with 128 experts and no count per token (\"MoE 128 experts (top-0) in 0 layers\")") {
    auto c = small_config("brand_new_moe");
    c["num_experts"] = 128;
    const auto a = normalize_config(c, "moe.json");
    CHECK(a.num_experts == 128);
    CHECK(a.experts_per_token == 0);
    CHECK(a.moe_layers == 0);
    CHECK(a.confidence.parameters == Confidence::Guess);
    CHECK(mentions(a.confidence, "the config names 128 experts but no decoder layer holds them"));
    CHECK(mentions(a.confidence, "is not a family vram-calc knows"));
  }
  SECTION("MoE layers without a count per token: the total is exact, the active count is not") {
    json c = {{"model_type", "mixtral"},  {"hidden_size", 1024},    {"num_attention_heads", 8},
              {"num_key_value_heads", 2}, {"num_hidden_layers", 4}, {"intermediate_size", 2048},
              {"vocab_size", 1000},       {"num_local_experts", 4}, {"max_position_embeddings", 4096}};
    const auto a = normalize_config(c, "mixtral.json");
    CHECK(a.moe_layers == 4);
    CHECK(a.confidence.parameters == Confidence::Estimated);
    CHECK_FALSE(a.confidence.uncertain());
    CHECK(mentions(a.confidence, "not how many each token uses"));
  }
}

TEST_CASE("unknown arch: a layer type it cannot size is full attention, a guess, not an error", "[model][confidence]") {
  auto c = small_config("llama");
  c["num_hidden_layers"] = 6;
  c["layer_types"] = {"full_attention", "wavelet_mixer", "full_attention", "wavelet_mixer", "wavelet_mixer", "x\ny"};
  const auto a = normalize_config(c, "layers.json");
  CHECK(a.count_layers(LayerKind::FullAttention) == 6);
  CHECK(a.kv_layers() == 6);
  CHECK(a.confidence.parameters == Confidence::Guess);
  CHECK(a.confidence.kv_cache == Confidence::Guess);
  CHECK(mentions(a.confidence,
                 "layer_types: \"wavelet_mixer\" (layers 1, 3, 4) is not a layer kind vram-calc knows: sized as full "
                 "attention"));
  // A type from the file is quoted with its control characters escaped: the reason stays on one line.
  CHECK(mentions(a.confidence, "layer_types: \"x\\ny\" (layer 5)"));
  // KV per token over the 6 layers sized as full attention: 2 x 6 x 16 x 128 x 2 B = 49,152 B.
  CHECK(kv_cache_spec(a, "auto", DType::BFloat16).bytes_per_token == 2ULL * 6 * 16 * 128 * 2);
  // Parameters: the 6 layers of the Llama layout, embeddings and final norm.
  CHECK(a.num_params() == 2ULL * 32000 * 2048 + 6ULL * (4ULL * 2048 * 2048 + 3ULL * 2048 * 8192 + 2ULL * 2048) + 2048);
}

TEST_CASE("unknown arch: the weights are exact from safetensors headers whatever the architecture",
          "[model][confidence][report]") {
  ModelInput input;
  input.id = "local/brand-new";
  input.origin = "local directory";
  input.config = small_config("brand_new_lm");
  SafetensorsSummary st;
  // One BF16 tensor set of 1,000,000,000 elements and 4,096 packed bytes.
  st.bytes_by_dtype = {{"BF16", 2'000'000'000ULL}, {"U8", 4096}};
  st.elements_by_dtype = {{"BF16", 1'000'000'000ULL}, {"U8", 4096}};
  st.total_bytes = 2'000'004'096ULL;
  st.total_elements = 1'000'004'096ULL;
  st.tensor_count = 2;
  st.files = 1;
  input.safetensors = st;
  const Report r = model_report(input, ReportSettings{});
  CHECK(r.weights.source == WeightSource::SafetensorsHeaders);
  CHECK(r.weights.bytes == 1'000'000'000ULL * 2 + 4096);
  CHECK(r.arch.confidence.weights == Confidence::Exact);
  CHECK(r.arch.confidence.parameters == Confidence::Guess);
  CHECK(r.arch.confidence.kv_cache == Confidence::Guess);
  CHECK(r.uncertain());  // the KV cache is still a guess
  CHECK(mentions(r.arch.confidence, "the weight bytes are exact whatever the architecture (safetensors_headers)"));

  SECTION("without headers the weights are as good as the guessed count") {
    input.safetensors.reset();
    const Report guessed = model_report(input, ReportSettings{});
    CHECK(guessed.weights.source == WeightSource::ParameterCount);
    CHECK(guessed.arch.confidence.weights == Confidence::Guess);
    CHECK(guessed.arch.confidence.guesses() == "parameter count, weights and KV cache are guesses");
  }
  SECTION("--params-b states the count: an estimate, while the KV cache stays a guess") {
    input.safetensors.reset();
    ReportSettings s;
    s.weights.params_b = 2.0;
    const Report given = model_report(input, s);
    CHECK(given.weights.num_params == 2'000'000'000ULL);
    CHECK(given.arch.confidence.parameters == Confidence::Estimated);
    CHECK(given.arch.confidence.weights == Confidence::Estimated);
    CHECK(given.uncertain());
  }
  SECTION("a known family from a checkpoint file size: estimated weights, not uncertain") {
    input.config = small_config("llama");
    input.safetensors.reset();
    input.checkpoint_total_size = 3'483'570'176ULL;
    input.checkpoint_total_source = "model.bin size";
    const Report known = model_report(input, ReportSettings{});
    CHECK(known.weights.source == WeightSource::CheckpointSize);
    CHECK(known.arch.confidence.weights == Confidence::Estimated);
    CHECK_FALSE(known.uncertain());
  }
}
