// vLLM's speculative decoding (speculative.hpp): --speculative-config as vLLM takes it, the capture list under
// speculation (checked against vllm-new-006's logged counts), the MTP drafter's weights and KV layers, and DeepSeek
// V4's prefill workspace (attention_workspace.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/attention_workspace.hpp"
#include "vramcalc/engines/vllm/cudagraph.hpp"
#include "vramcalc/engines/vllm/plan.hpp"
#include "vramcalc/engines/vllm/speculative.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"

using namespace vramcalc;
using testsupport::run_cli;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

void expect_bad_input(const std::function<void()>& f, const std::string& starts_with) {
  try {
    f();
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    INFO(e.what());
    CHECK(std::string(e.what()).rfind(starts_with, 0) == 0);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

VllmSpeculativeSettings parsed(const std::string& text) {
  VllmSpeculativeSettings s;
  parse_speculative_config(text, s);
  return s;
}

// vllm-new-006's settings: vLLM 0.25.0 on an RTX PRO 6000 (compute capability 12.0), max_num_seqs 64,
// max_num_batched_tokens 4096.
VllmCaptureInputs record_006(std::uint64_t query_len) {
  VllmCaptureInputs in;
  in.version = parse_vllm_version("0.25.0");
  in.max_num_seqs = 64;
  in.max_num_batched_tokens = 4096;
  in.compute_capability = 12.0;
  in.uniform_decode_query_len = query_len;
  return in;
}

}  // namespace

TEST_CASE("vLLM's --speculative-config parses as vLLM takes it", "[vllm][speculative]") {
  SECTION("MTP, its family aliases, and a count taken from the checkpoint when left out") {
    const auto s = parsed(R"({"method": "mtp", "num_speculative_tokens": 2})");
    CHECK(s.method == VllmSpeculativeMethod::Mtp);
    CHECK(s.num_speculative_tokens == 2u);
    CHECK(s.text == R"({"method": "mtp", "num_speculative_tokens": 2})");
    CHECK(parsed(R"({"method": "deepseek_mtp"})").method == VllmSpeculativeMethod::Mtp);
    CHECK_FALSE(parsed(R"({"method": "qwen3_5_mtp"})").num_speculative_tokens.has_value());
  }
  SECTION("ngram and suffix carry no weights; eagle and draft models name a checkpoint") {
    const auto ngram = parsed(R"({"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 5})");
    CHECK(ngram.method == VllmSpeculativeMethod::Ngram);
    CHECK(ngram.ignored_keys == std::vector<std::string>{"prompt_lookup_max"});
    CHECK(parsed(R"({"method": "suffix", "num_speculative_tokens": 8})").method == VllmSpeculativeMethod::Suffix);
    const auto eagle = parsed(R"({"method": "eagle3", "model": "org/EAGLE3-head", "num_speculative_tokens": 3})");
    CHECK(eagle.method == VllmSpeculativeMethod::Eagle);
    CHECK(eagle.model == "org/EAGLE3-head");
    // No method: vLLM detects it from the draft's name.
    CHECK(parsed(R"({"model": "yuhuili/EAGLE-LLaMA3-Instruct-8B", "num_speculative_tokens": 2})").method_name ==
          "eagle");
    CHECK(parsed(R"({"model": "meta-llama/Llama-3.2-1B", "num_speculative_tokens": 2})").method ==
          VllmSpeculativeMethod::DraftModel);
  }
  SECTION("malformed or incomplete: one line naming the flag") {
    expect_bad_input([] { (void)parsed(R"({"method": "mtp", )"); }, "--speculative-config: malformed JSON");
    expect_bad_input([] { (void)parsed("[1, 2]"); }, "--speculative-config: expected a JSON object");
    expect_bad_input([] { (void)parsed(R"({"method": "lookahead", "num_speculative_tokens": 2})"); },
                     "--speculative-config: method \"lookahead\" is not one vLLM knows");
    expect_bad_input([] { (void)parsed(R"({"method": "foo_mtp"})"); }, "--speculative-config: method \"foo_mtp\"");
    expect_bad_input([] { (void)parsed(R"({"method": 3})"); }, "--speculative-config: method must be a string");
    expect_bad_input([] { (void)parsed(R"({"method": "ngram"})"); },
                     "--speculative-config: method \"ngram\" needs num_speculative_tokens");
    expect_bad_input([] { (void)parsed(R"({"method": "mtp", "num_speculative_tokens": 0})"); },
                     "--speculative-config: num_speculative_tokens must be an integer from 1");
    expect_bad_input([] { (void)parsed(R"({"method": "mtp", "num_speculative_tokens": 2.5})"); },
                     "--speculative-config: num_speculative_tokens");
    expect_bad_input([] { (void)parsed(R"({"method": "eagle", "num_speculative_tokens": 2})"); },
                     "--speculative-config: method \"eagle\" needs \"model\"");
    expect_bad_input([] { (void)parsed(R"({"num_speculative_tokens": 2})"); },
                     "--speculative-config: needs \"method\"");
  }
}

TEST_CASE("the capture list under speculation: vllm-new-006's PIECEWISE=42, FULL=26",
          "[vllm][speculative][cudagraph]") {
  const VllmCompilationSettings defaults;
  SECTION("without speculation the same settings give 19 and 11 graphs") {
    const auto l = vllm_capture_list(defaults, record_006(1));
    CHECK(l.piecewise.size() == 19);
    CHECK(l.full.size() == 11);
  }
  SECTION("MTP with 2 tokens: a ceiling of 64 x 3 x 2 = 384, every size rounded up to a multiple of 3") {
    const auto l = vllm_capture_list(defaults, record_006(3));
    CHECK(l.piecewise.size() == 42);  // "PIECEWISE=42 (largest=384)": 1 and 2 both round to 3
    CHECK(l.piecewise.back() == 384);
    CHECK(l.full.size() == 26);  // "FULL=26 (largest=192)": decode batches of 3 tokens for up to 64 requests
    CHECK(l.full.back() == 192);
    CHECK(l.full.front() == 3);
    for (auto s : l.sizes) CHECK(s % 3 == 0);
    CHECK(std::vector<std::uint64_t>(l.sizes.begin(), l.sizes.begin() + 5) ==
          std::vector<std::uint64_t>{3, 6, 9, 18, 24});
  }
  SECTION("PIECEWISE only: no FULL decode graphs, so no rounding") {
    VllmCompilationSettings c;
    c.cudagraph_mode = CudagraphMode::Piecewise;
    const auto l = vllm_capture_list(c, record_006(3));
    CHECK(l.piecewise.size() == 43);
    CHECK(l.piecewise.front() == 1);
    CHECK(l.full.empty());
  }
  SECTION("explicit sizes are rounded too; none left at all is refused, as vLLM refuses it") {
    VllmCompilationSettings c;
    c.capture_sizes = std::vector<std::uint64_t>{1, 2, 4};
    CHECK(vllm_capture_list(c, record_006(3)).sizes == std::vector<std::uint64_t>{3});  // 4 -> 6 is past the largest
    c.capture_sizes = std::vector<std::uint64_t>{1, 2};
    expect_bad_input([&] { (void)vllm_capture_list(c, record_006(3)); }, "--speculative-config: no CUDA-graph size");
  }
  SECTION("the drafter's layers join the per-graph cost") {
    const auto v4 = arch_of("deepseek-ai--DeepSeek-V4-Flash");
    auto in = record_006(3);
    const auto plain = plan_vllm_cudagraphs(v4, defaults, in, 2, 1, std::nullopt);
    in.draft_layers = 1;
    const auto with_draft = plan_vllm_cudagraphs(v4, defaults, in, 2, 1, std::nullopt);
    CHECK(plain.capture.graphs() == 68);
    CHECK(with_draft.bytes > plain.bytes);
    CHECK_THAT(with_draft.formula, Catch::Contains("the layers include the drafter's 1"));
  }
}

TEST_CASE("the MTP drafter's weights: its layers split like a decoder layer, embedding and head shared",
          "[vllm][speculative]") {
  SECTION("a dense bf16 model on one GPU: exactly its MTP parameters x 2 B") {
    const auto a = arch_of("Qwen--Qwen3.8-27B");
    const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
    std::string formula;
    const auto one = vllm_mtp_weights_per_gpu(a, w, 1, 1, 1, false, formula);
    CHECK(static_cast<double>(one) == Approx(static_cast<double>(a.mtp_params) * 2).epsilon(1e-9));
    CHECK_THAT(formula, Catch::Contains("MTP drafter: 1 layer(s)"));
    const auto two = vllm_mtp_weights_per_gpu(a, w, 2, 1, 1, false, formula);
    CHECK(two > one / 2);  // norms are replicated, KV heads kept whole past their count
    CHECK(static_cast<double>(two) < 0.52 * static_cast<double>(one));
  }
  SECTION("DeepSeek-V4-Flash: FP8 blocks and MXFP4 experts, about the checkpoint's 3.4 GiB MTP share on one GPU") {
    const auto a = arch_of("deepseek-ai--DeepSeek-V4-Flash");
    const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
    std::string formula;
    const double one = to_gib(vllm_mtp_weights_per_gpu(a, w, 1, 1, 1, false, formula));
    CHECK(one > 3.3);  // the checkpoint's 148.66 GiB less the served 145.2 GiB (docs/vllm-accuracy.md)
    CHECK(one < 3.6);
    const double two = to_gib(vllm_mtp_weights_per_gpu(a, w, 2, 1, 1, false, formula));
    CHECK(two > 0.49 * one);
    CHECK(two < 0.55 * one);
  }
  SECTION("no MTP layers, or a checkpoint total that already holds them: nothing added") {
    const auto llama = arch_of("meta-llama--Meta-Llama-3.1-8B");
    const auto w = estimate_weights(llama, CheckpointSizes{}, WeightSettings{});
    std::string formula;
    CHECK(vllm_mtp_weights_per_gpu(llama, w, 1, 1, 1, false, formula) == 0);
    const auto p =
        plan_vllm_speculative(llama, w, parsed(R"({"method": "mtp", "num_speculative_tokens": 1})"), 1, 1, 1, false);
    CHECK(p.draft_weight_bytes == 0);
    REQUIRE(p.warnings.size() == 1);
    CHECK_THAT(p.warnings.front(), Catch::Contains("no multi-token-prediction layers are read"));
    const auto glm = arch_of("zai-org--GLM-5.1");
    auto from_index = estimate_weights(glm, CheckpointSizes{}, WeightSettings{});
    from_index.source = WeightSource::SafetensorsIndex;
    const auto q = plan_vllm_speculative(glm, from_index, parsed(R"({"method": "mtp"})"), 8, 1, 1, false);
    CHECK(q.draft_weight_bytes == 0);
    CHECK(q.draft_layers == 1);
    CHECK(q.num_speculative_tokens == 1);  // num_nextn_predict_layers
    CHECK_THAT(q.draft_weights_formula, Catch::Contains("already in the checkpoint's total"));
  }
  SECTION("ngram loads nothing; an EAGLE head is not sized and says so") {
    const auto a = arch_of("meta-llama--Meta-Llama-3.1-8B");
    const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
    const auto ngram =
        plan_vllm_speculative(a, w, parsed(R"({"method": "ngram", "num_speculative_tokens": 4})"), 1, 1, 1, false);
    CHECK(ngram.uniform_decode_query_len == 5);
    CHECK(ngram.draft_weight_bytes == 0);
    CHECK(ngram.warnings.empty());
    const auto eagle = plan_vllm_speculative(
        a, w, parsed(R"({"method": "eagle", "model": "org/head", "num_speculative_tokens": 3})"), 1, 1, 1, false);
    REQUIRE(eagle.warnings.size() == 1);
    CHECK_THAT(eagle.warnings.front(),
               Catch::Contains("draft model's weights, KV cache layers and CUDA graphs are not"));
  }
}

TEST_CASE("the drafter's KV layers: one more layer of the last layer's kind per MTP layer", "[vllm][speculative]") {
  SECTION("GLM-5.1 (MLA + DSA indexer): the MTP layer's latent and indexer keys join the pool, fewer tokens fit") {
    const auto a = arch_of("zai-org--GLM-5.1");
    REQUIRE(a.mtp_layers == 1);
    const auto kv = kv_cache_spec(a, "auto", DType::BFloat16);
    VllmKvSettings ks;
    ks.tensor_parallel_size = 8;
    const auto plain = vllm_kv_layout(a, kv, ks);
    const auto drafted = vllm_kv_layout(vllm_arch_with_draft_layers(a, a.mtp_layers), kv, ks);
    CHECK(drafted.layers_per_gpu == plain.layers_per_gpu + 2);
    CHECK(drafted.page_bytes == plain.page_bytes);
    const std::int64_t budget = 40LL * static_cast<std::int64_t>(kGiB);
    CHECK(vllm_kv_capacity(drafted, budget, 4096, 8192).kv_cache_tokens <
          vllm_kv_capacity(plain, budget, 4096, 8192).kv_cache_tokens);
  }
  SECTION("DeepSeek V4: the MTP layer attends through its sliding window only, outside the modelled pool") {
    const auto a = arch_of("deepseek-ai--DeepSeek-V4-Flash");
    const auto kv = kv_cache_spec(a, "fp8", DType::BFloat16);
    VllmKvSettings ks;
    ks.tensor_parallel_size = 2;
    const auto drafted_arch = vllm_arch_with_draft_layers(a, 1);
    CHECK(drafted_arch.layer_kinds.size() == 44);
    CHECK(drafted_arch.compress_ratios.back() == 0);
    CHECK(drafted_arch.num_hidden_layers == 43);
    const auto plain = vllm_kv_layout(a, kv, ks);
    const auto drafted = vllm_kv_layout(drafted_arch, kv, ks);
    CHECK(drafted.layers_per_gpu == plain.layers_per_gpu);
    CHECK(drafted.page_bytes == plain.page_bytes);
  }
}

TEST_CASE("DeepSeek V4's prefill KV-gather workspace, reserved in the profile run", "[vllm][speculative][workspace]") {
  const auto v4 = arch_of("deepseek-ai--DeepSeek-V4-Flash");
  // vllm-new-006: 4 x (1048576 / 4 + 4096 + 127) x 512 x 2 B.
  const auto ws = vllm_attention_workspace(v4, 1048576, 4096);
  CHECK(ws.bytes == 4ULL * (262144 + 4096 + 127) * 512 * 2);
  CHECK(to_gib(ws.bytes) == Approx(1.016).margin(0.001));
  CHECK_THAT(ws.formula, Catch::Contains("prefill KV-gather workspace"));
  // A short context gathers only what it holds.
  CHECK(vllm_attention_workspace(v4, 2048, 8192).bytes == 4ULL * (512 + 2048) * 512 * 2);
  CHECK(vllm_attention_workspace(arch_of("deepseek-ai--DeepSeek-V3"), 1048576, 4096).bytes == 0);
}

TEST_CASE("a plan with MTP speculation: vllm-new-006's drafter, graphs and workspace", "[vllm][speculative]") {
  const auto a = arch_of("deepseek-ai--DeepSeek-V4-Flash");
  const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
  const auto kv = kv_cache_spec(a, "fp8", w.serving_dtype);
  Gpu gpu;
  gpu.name = "NVIDIA RTX PRO 6000 Blackwell Workstation Edition";
  gpu.compute_capability = 12.0;
  const GpuMemory total{static_cast<std::uint64_t>(95.18 * static_cast<double>(kGiB)), "logged"};
  VllmSettings s;
  s.version = parse_vllm_version("0.25.0");
  s.gpu_memory_utilization = 0.95;
  s.max_model_len = 1048576;
  s.max_num_batched_tokens = 4096;
  s.max_num_seqs = 64;
  s.block_size = 256;
  s.tensor_parallel_size = 2;
  const auto plain = plan_vllm(a, w, kv, gpu, total, s);
  s.speculative = parsed(R"({"method": "mtp", "num_speculative_tokens": 2})");
  const auto spec = plan_vllm(a, w, kv, gpu, total, s);
  CHECK(spec.speculative.draft_layers == 1);
  CHECK(spec.weights_bytes == plain.weights_bytes + spec.speculative.draft_weight_bytes);
  CHECK(to_gib(spec.speculative.draft_weight_bytes) > 1.6);  // ~1.7 GiB per GPU at TP 2
  CHECK(to_gib(spec.speculative.draft_weight_bytes) < 1.9);
  CHECK(spec.cudagraph.capture.piecewise.size() == 42);
  CHECK(spec.cudagraph.capture.full.size() == 26);
  CHECK(plain.cudagraph.capture.piecewise.size() == 19);
  CHECK(spec.attention_workspace_bytes == plain.attention_workspace_bytes);  // V4's, with or without speculation
  CHECK(spec.available_kv_bytes < plain.available_kv_bytes);
  const auto sum = vllm_summary(spec, s);
  bool draft_term = false;
  for (const auto& t : sum.memory) draft_term = draft_term || (t.name == "draft weights" && t.bytes > 0);
  CHECK(draft_term);
  const auto flag = std::find(sum.command.begin(), sum.command.end(), "--speculative-config");
  REQUIRE(flag != sum.command.end());
  CHECK(*(flag + 1) == R"({"method": "mtp", "num_speculative_tokens": 2})");
}

TEST_CASE("the command line's --speculative-config: errors exit 2, the serve line carries it", "[cli][speculative]") {
  const std::string model = "--model " + testsupport::test_data("configs/deepseek-ai--DeepSeek-V3").string();
  SECTION("an unknown method is one line on stderr and exit 2") {
    const auto r = run_cli(model + R"( --sku H100-80G --speculative-config '{"method": "lookahead"}')");
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("--speculative-config: method \"lookahead\" is not one vLLM knows"));
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
  SECTION("malformed JSON, and a flag of the vLLM estimator only") {
    const auto bad = run_cli(model + R"( --sku H100-80G --speculative-config '{"method": ')");
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains("--speculative-config: malformed JSON"));
    const auto kaito = run_cli(model + R"( --sku H100-80G --estimator kaito --speculative-config '{"method": "mtp"}')");
    CHECK(kaito.exit_code == 2);
    CHECK_THAT(kaito.err, Catch::Contains("--speculative-config needs --estimator vllm"));
  }
  SECTION(
      "MTP (DeepSeek-V3: its MTP layer is read, tests/model/test_deepseek_v3_mtp.cpp): the vllm serve line "
      "carries the flag") {
    const auto r = run_cli(model + R"( --sku H100-80G --gpus 8 --max-model-len 8192 --format json)" +
                           R"( --speculative-config '{"method": "mtp", "num_speculative_tokens": 1}')");
    INFO(r.err);
    REQUIRE(r.exit_code <= 1);
    CHECK_THAT(r.out, Catch::Contains("--speculative-config"));
    CHECK(r.out.find("no multi-token-prediction layers are read") == std::string::npos);
  }
}
