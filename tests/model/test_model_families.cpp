// config.json -> one architecture description, family by family, on the real configs in tests/data/configs.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {
ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }
}  // namespace

TEST_CASE("Llama: the reference decoder", "[model][family]") {
  const auto a = arch_of("meta-llama--Meta-Llama-3.1-8B");
  CHECK(a.architecture == "LlamaForCausalLM");
  CHECK(a.num_hidden_layers == 32);
  CHECK(a.hidden_size == 4096);
  CHECK(a.num_attention_heads == 32);
  CHECK(a.num_key_value_heads == 8);
  CHECK(a.kv_heads_source == "num_key_value_heads");
  CHECK(a.head_dim == 128);
  CHECK(a.head_dim_source == "hidden_size / num_attention_heads");
  CHECK(a.max_position_embeddings == 131072u);
  CHECK(a.config_dtype == DType::BFloat16);
  CHECK_FALSE(a.tie_word_embeddings);
  CHECK(a.kv_layers() == 32);
  CHECK(a.warnings.empty());
}

TEST_CASE("field names of older families: n_layer, n_embd, n_head, n_positions, d_model, n_heads", "[model][family]") {
  SECTION("GPT-2") {
    const auto a = arch_of("openai-community--gpt2-large");
    CHECK(a.num_hidden_layers == 36);
    CHECK(a.hidden_size == 1280);
    CHECK(a.num_attention_heads == 20);
    CHECK(a.max_position_embeddings == 1024u);
    CHECK(a.max_position_source == "n_positions");
    CHECK(a.tie_word_embeddings);
  }
  SECTION("MPT: d_model, n_heads, n_layers, max_seq_len") {
    const auto a = arch_of("mosaicml--mpt-7b-instruct");
    CHECK(a.num_hidden_layers == 32);
    CHECK(a.hidden_size == 4096);
    CHECK(a.num_attention_heads == 32);
    CHECK(a.num_key_value_heads == 32);
    CHECK(a.max_position_embeddings == 2048u);
    CHECK(a.max_position_source == "max_seq_len");
  }
  SECTION("BLOOM has no position limit at all: said, and nothing is capped") {
    const auto a = arch_of("bigscience--bloom");
    CHECK(a.hidden_size == 14336);
    CHECK_FALSE(a.max_position_embeddings.has_value());
    REQUIRE(a.warnings.size() == 1);
    CHECK_THAT(a.warnings[0], Catch::Contains("no max_position_embeddings"));
  }
}

TEST_CASE("KV heads follow the KAITO sizing guide and the Falcon and MPT spellings", "[model][kv-heads]") {
  SECTION("num_key_value_heads wins") { CHECK(arch_of("Qwen--Qwen2.5-7B").num_key_value_heads == 4); }
  SECTION("without it, multi-head attention: kv = num_attention_heads") {
    const auto a = arch_of("CohereForAI--c4ai-command-r-v01");
    CHECK(a.num_key_value_heads == 64);
  }
  SECTION("Falcon RefinedWeb: n_head_kv (new decoder architecture)") {
    const auto a = arch_of("tiiuae--falcon-40b");
    CHECK(a.num_key_value_heads == 8);
    CHECK(a.kv_heads_source == "n_head_kv");
    CHECK(a.head_dim == 64);
  }
  SECTION("Falcon in the converted format: new_decoder_architecture + num_kv_heads") {
    json c = {{"model_type", "falcon"},  {"hidden_size", 8192}, {"num_attention_heads", 128},
              {"num_hidden_layers", 60}, {"num_kv_heads", 8},   {"new_decoder_architecture", true},
              {"vocab_size", 65024}};
    CHECK(normalize_config(c, "falcon").num_key_value_heads == 8);
  }
  SECTION("Falcon-7B style: multi_query true -> 1 KV head") {
    json c = {{"model_type", "RefinedWebModel"},
              {"hidden_size", 4544},
              {"n_head", 71},
              {"n_layer", 32},
              {"multi_query", true},
              {"vocab_size", 65024}};
    const auto a = normalize_config(c, "falcon-7b");
    CHECK(a.num_key_value_heads == 1);
    CHECK(a.falcon_single_gpu);
  }
  SECTION("MPT grouped-query: attn_config.kv_n_heads") {
    auto c = testsupport::load_test_config("mosaicml--mpt-7b-instruct");
    c["attn_config"]["kv_n_heads"] = 8;
    CHECK(normalize_config(c, "mpt").num_key_value_heads == 8);
  }
  SECTION("generic multi_query: true -> 1") {
    json c = {{"model_type", "llama"}, {"hidden_size", 1024}, {"num_attention_heads", 8}, {"num_hidden_layers", 2},
              {"multi_query", true},   {"vocab_size", 100},   {"intermediate_size", 4096}};
    CHECK(normalize_config(c, "mq").num_key_value_heads == 1);
  }
}

TEST_CASE("head_dim comes from the config when set, and can differ from hidden / heads", "[model][head-dim]") {
  CHECK(arch_of("google--gemma-2-9b").head_dim == 256);     // 3584 / 16 = 224
  CHECK(arch_of("google--gemma-2-2b").head_dim == 256);     // 2304 / 8 = 288
  CHECK(arch_of("google--gemma-3-1b-it").head_dim == 256);  // 1152 / 4 = 288
  CHECK(arch_of("Qwen--Qwen3-0.6B").head_dim == 128);       // 1024 / 16 = 64
  CHECK(arch_of("meta-llama--Llama-3.2-1B-Instruct").head_dim == 64);
  // Never hidden / kv_heads (the TGI estimation notebook's bug): Llama-3.1-8B would get 4096 / 8 = 512.
  CHECK(arch_of("meta-llama--Meta-Llama-3.1-8B").head_dim == 128);
}

TEST_CASE("nested text_config: the language model is sized, the vision tower counted", "[model][multimodal]") {
  SECTION("Llava relies on transformers' Llama defaults for most text fields, and says so") {
    const auto a = arch_of("llava-hf--llava-1.5-7b-hf");
    CHECK(a.text_model_type == "llama");
    CHECK(a.hidden_size == 4096);
    CHECK(a.num_hidden_layers == 32);
    CHECK(a.vocab_size == 32064);
    CHECK(a.max_position_embeddings == 4096u);
    CHECK(a.multimodal);
    REQUIRE(a.warnings.size() == 1);
    CHECK_THAT(a.warnings[0], Catch::Contains("llama defaults"));
  }
  SECTION("Gemma 3: 62 layers, 5 local : 1 global") {
    const auto a = arch_of("google--gemma-3-27b-it");
    CHECK(a.num_hidden_layers == 62);
    CHECK(a.head_dim == 128);
    CHECK(a.count_layers(LayerKind::FullAttention) == 10);
    CHECK(a.count_layers(LayerKind::SlidingAttention) == 52);
    CHECK(a.sliding_window == 1024u);
  }
  SECTION("Llama 4 Scout: chunked local attention on 3 of 4 layers, 16 experts") {
    const auto a = arch_of("meta-llama--Llama-4-Scout-17B-16E-Instruct");
    CHECK(a.num_hidden_layers == 48);
    CHECK(a.count_layers(LayerKind::ChunkedAttention) == 36);
    CHECK(a.count_layers(LayerKind::FullAttention) == 12);
    CHECK(a.num_experts == 16);
    CHECK(a.moe_layers == 48);
  }
  SECTION("Mistral 3: an explicit null sliding_window is not replaced by Mistral's default") {
    const auto a = arch_of("mistralai--Mistral-Small-3.2-24B-Instruct-2506");
    CHECK_FALSE(a.sliding_window.has_value());
    CHECK(a.count_layers(LayerKind::FullAttention) == 40);
  }
  SECTION("Qwen2-VL keeps the text model at the top level") {
    const auto a = arch_of("Qwen--Qwen2-VL-7B-Instruct");
    CHECK(a.hidden_size == 3584);
    CHECK(a.multimodal);
  }
}

TEST_CASE("MLA: DeepSeek and Kimi-K2 cache one compressed latent", "[model][mla]") {
  for (const char* dir : {"deepseek-ai--DeepSeek-V3", "deepseek-ai--DeepSeek-R1", "moonshotai--Kimi-K2-Instruct"}) {
    INFO(dir);
    const auto a = arch_of(dir);
    CHECK(a.mla);
    CHECK(a.kv_lora_rank == 512);
    CHECK(a.qk_rope_head_dim == 64);
    CHECK(a.num_experts > 0);
  }
  const auto v3 = arch_of("deepseek-ai--DeepSeek-V3");
  CHECK(v3.moe_layers == 58);  // first_k_dense_replace = 3 dense layers of 61
  CHECK(v3.shared_experts == 1);
}

TEST_CASE("tensor parallel sizes vLLM accepts: heads split evenly, KV heads split or replicated", "[model][tp]") {
  const auto qwen = arch_of("Qwen--Qwen2.5-7B");  // 28 heads, 4 KV heads
  CHECK(qwen.tp_valid(1));
  CHECK(qwen.tp_valid(2));
  CHECK(qwen.tp_valid(4));
  CHECK_FALSE(qwen.tp_divides_heads(8));  // 28 % 8 != 0
  CHECK_FALSE(qwen.tp_valid(8));
  CHECK(qwen.tp_divides_heads(7));           // 28 % 7 == 0 ...
  CHECK_FALSE(qwen.tp_matches_kv_heads(7));  // ... but 4 KV heads neither split nor replicate over 7 ranks
  CHECK_FALSE(qwen.tp_valid(7));
  CHECK_FALSE(qwen.tp_valid(0));

  const auto llama = arch_of("meta-llama--Meta-Llama-3.1-8B");  // 32 heads, 8 KV heads
  CHECK(llama.tp_valid(8));
  CHECK(llama.tp_valid(16));  // KV heads replicated: 16 % 8 == 0
  CHECK(llama.tp_valid(32));

  const auto v3 = arch_of("deepseek-ai--DeepSeek-V3");  // MLA: no KV heads to split
  CHECK(v3.tp_matches_kv_heads(16));
  CHECK(v3.tp_valid(16));
  CHECK_FALSE(v3.tp_valid(3));
}

TEST_CASE("MoE: experts count in the weights, not in the KV cache", "[model][moe]") {
  const auto mixtral = arch_of("mistralai--Mixtral-8x7B-v0.1");
  CHECK(mixtral.num_experts == 8);
  CHECK(mixtral.experts_per_token == 2);
  CHECK(mixtral.moe_intermediate_size == 14336);
  CHECK(mixtral.params_with_role(WeightRole::Experts) == 32ULL * 8 * 3 * 4096 * 14336);
  CHECK(mixtral.kv_layers() == 32);
  const auto qwen = arch_of("Qwen--Qwen3-30B-A3B");
  CHECK(qwen.num_experts == 128);
  CHECK(qwen.moe_intermediate_size == 768);
  const auto phi = arch_of("microsoft--Phi-3.5-MoE-instruct");
  CHECK(phi.num_experts == 16);
  const auto oss = arch_of("openai--gpt-oss-20b");
  CHECK(oss.num_experts == 32);
  CHECK(oss.experts_per_token == 4);
}

TEST_CASE("sliding-window and hybrid layers are recorded per layer", "[model][layers]") {
  SECTION("Mistral 7B v0.1: every layer slides over 4096 tokens") {
    const auto a = arch_of("mistralai--Mistral-7B-v0.1");
    CHECK(a.sliding_window == 4096u);
    CHECK(a.count_layers(LayerKind::SlidingAttention) == 32);
  }
  SECTION("Gemma 2: even layers slide, odd layers are global") {
    const auto a = arch_of("google--gemma-2-9b");
    REQUIRE(a.layer_kinds.size() == 42);
    CHECK(a.layer_kinds[0] == LayerKind::SlidingAttention);
    CHECK(a.layer_kinds[1] == LayerKind::FullAttention);
    CHECK(a.count_layers(LayerKind::SlidingAttention) == 21);
  }
  SECTION("gpt-oss: layer_types alternate sliding and full") {
    const auto a = arch_of("openai--gpt-oss-120b");
    CHECK(a.count_layers(LayerKind::SlidingAttention) == 18);
    CHECK(a.count_layers(LayerKind::FullAttention) == 18);
  }
  SECTION("Nemotron-H: Mamba, attention and MLP layers from hybrid_override_pattern") {
    const auto a = arch_of("nvidia--Nemotron-H-56B-Base-8K");
    CHECK(a.count_layers(LayerKind::Mamba) == 54);
    CHECK(a.count_layers(LayerKind::FullAttention) == 10);
    CHECK(a.count_layers(LayerKind::MlpOnly) == 54);
    CHECK(a.ssm_state_size == 256);
    const auto nano = arch_of("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16");
    CHECK(nano.count_layers(LayerKind::FullAttention) == 6);
    CHECK(nano.moe_layers == 23);
  }
  SECTION("a sliding window as long as the context does not limit anything (Phi-3.5-MoE)") {
    CHECK_FALSE(arch_of("microsoft--Phi-3.5-MoE-instruct").sliding_window.has_value());
  }
  SECTION("Qwen2 with use_sliding_window false is full attention") {
    CHECK(arch_of("Qwen--Qwen2-7B-Instruct").count_layers(LayerKind::FullAttention) == 28);
  }
}

TEST_CASE("non-strict numbers in real configs are accepted", "[model][json]") {
  // Nemotron-H-56B's time_step_limit holds a bare Infinity.
  const auto a = arch_of("nvidia--Nemotron-H-56B-Base-8K");
  CHECK(a.num_params() == 56324350464ULL);
}

TEST_CASE("an unknown architecture is sized as a Llama-style decoder, with a warning", "[model][unknown]") {
  json c = {{"model_type", "brand_new_lm"}, {"architectures", {"BrandNewForCausalLM"}},
            {"hidden_size", 2048},          {"num_attention_heads", 16},
            {"num_hidden_layers", 24},      {"intermediate_size", 8192},
            {"vocab_size", 32000},          {"max_position_embeddings", 4096}};
  const auto a = normalize_config(c, "new.json");
  CHECK_FALSE(a.known_family);
  REQUIRE_FALSE(a.warnings.empty());
  CHECK_THAT(a.warnings[0], Catch::Contains("unknown architecture 'brand_new_lm'"));
  CHECK(a.num_params() == 2ULL * 32000 * 2048 + 24ULL * (4ULL * 2048 * 2048 + 3ULL * 2048 * 8192 + 2 * 2048) + 2048);
}
