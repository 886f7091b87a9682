// Issue 14: the multimodal encoder in vLLM's profile run. vLLM sends a dummy batch of its largest items through the
// encoder and keeps the outputs in the encoder cache through the decoder's dummy run (GPUModelRunner.profile_run,
// MultiModalBudget, compute_mm_encoder_budget). Every figure is computed by hand from the configs in
// tests/data/configs and the processors' published sizes; the encoder's pass is counted from vLLM's code
// (src/engines/vllm/activation.cpp): per patch, the blocks' MLP moment (3 hidden-wide rows and 2 intermediate-wide
// ones, 3 for a gated MLP) and the pixel values, in the model dtype.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/profile.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

double coef(const char* name) {
  static const json fit = [] {
    std::ifstream in(testsupport::repo_data("vllm_profile_fit.json"));
    return json::parse(in);
  }();
  return fit.at("coefficients").at(name).get<double>();
}

// An H100 API server of vLLM 0.29: 8192 batched tokens, 1024 sequences, FlashInfer's sampler, bf16.
VllmProfileSettings h100() {
  VllmProfileSettings s;
  s.max_num_batched_tokens = 8192;
  s.max_num_seqs = 1024;
  s.flashinfer_sampler = true;
  s.max_model_len = 32768;
  return s;
}

std::uint64_t rounded(double bytes) { return static_cast<std::uint64_t>(std::llround(bytes)); }

}  // namespace

TEST_CASE("multimodal: the dummy item of each family, from its config", "[vllm][multimodal]") {
  SECTION("Qwen2-VL-7B: the processor's largest image, 12845056 pixels / (14 x 14 x 2 x 2)") {
    const auto a = arch_of("Qwen--Qwen2-VL-7B-Instruct");
    REQUIRE(a.mm_encoder);
    const auto& m = *a.mm_encoder;
    CHECK(m.modality == "image");
    CHECK(m.modalities == std::vector<std::string>{"image", "video"});
    CHECK(m.tokens_per_item == 12'845'056 / (14 * 14 * 2 * 2));  // 16384
    CHECK(m.encoder_tokens_per_item == 16384ULL * 4);            // 65536 patches
    CHECK(m.hidden == 1280);                                     // vision_config.embed_dim
    CHECK(m.intermediate == 1280ULL * 4);                        // embed_dim x mlp_ratio
    CHECK(m.output_hidden == 3584);                              // vision_config.hidden_size: the LM's width
    CHECK(m.input_values_per_token == 3ULL * 2 * 14 * 14);       // in_chans x temporal_patch_size x patch^2
    CHECK_FALSE(m.gated_mlp);                                    // fc1, QuickGELU, fc2
    CHECK(m.deepstack_levels == 0);
  }
  SECTION("Qwen2.5-VL: the same patches through a gated MLP (gate_up_proj)") {
    const auto a = arch_of("Qwen--Qwen2.5-VL-7B-Instruct");
    REQUIRE(a.mm_encoder);
    CHECK(a.mm_encoder->gated_mlp);
    CHECK(a.mm_encoder->intermediate == 3420);
    CHECK(a.mm_encoder->input_values_per_token == 1176);
  }
  SECTION("Llava 1.5: (336 / 14)^2 = 576 patches, the class token dropped (\"default\" strategy)") {
    const auto a = arch_of("llava-hf--llava-1.5-7b-hf");
    REQUIRE(a.mm_encoder);
    CHECK(a.mm_encoder->tokens_per_item == 24ULL * 24);
    CHECK(a.mm_encoder->encoder_tokens_per_item == 24 * 24 + 1);
    CHECK(a.mm_encoder->hidden == 1024);
    CHECK(a.mm_encoder->intermediate == 4096);
    CHECK(a.mm_encoder->output_hidden == 4096);
  }
  SECTION("Qwen 3.6: 16777216 pixels / (16 x 16 x 2 x 2), a 1152-wide tower into a 5120-wide model") {
    const auto a = arch_of("Qwen--Qwen3.6-27B");
    REQUIRE(a.mm_encoder);
    CHECK(a.mm_encoder->tokens_per_item == 16'777'216 / (16 * 16 * 4));  // 16384, as vLLM logs for Qwen3.6
    CHECK(a.mm_encoder->encoder_tokens_per_item == 65536);
    CHECK(a.mm_encoder->hidden == 1152);
    CHECK(a.mm_encoder->intermediate == 4304);
    CHECK(a.mm_encoder->output_hidden == 5120);  // out_hidden_size
    CHECK(a.mm_encoder->input_values_per_token == 3ULL * 2 * 16 * 16);
    CHECK_FALSE(a.mm_encoder->gated_mlp);
    CHECK(a.mm_encoder->deepstack_levels == 0);  // deepstack_visual_indexes: []
  }
  SECTION("Gemma 3: (896 / 14)^2 = 4096 SigLIP patches pooled to 256 tokens") {
    const auto a = arch_of("google--gemma-3-27b-it");
    REQUIRE(a.mm_encoder);
    CHECK(a.mm_encoder->tokens_per_item == 256);
    CHECK(a.mm_encoder->encoder_tokens_per_item == 64ULL * 64);
  }
  SECTION("Gemma 4: 280 soft tokens, each pooled from 3 x 3 patches; E4B also takes audio") {
    const auto a = arch_of("google--gemma-4-E4B-it");
    REQUIRE(a.mm_encoder);
    CHECK(a.mm_encoder->tokens_per_item == 280);
    CHECK(a.mm_encoder->encoder_tokens_per_item == 280ULL * 9);
    CHECK(a.mm_encoder->hidden == 768);
    CHECK(a.mm_encoder->modalities == std::vector<std::string>{"image", "video", "audio"});
    CHECK(a.mm_encoder->gated_mlp);  // gate_proj, up_proj
    CHECK(a.mm_encoder->input_values_per_token == 3ULL * 16 * 16);
  }
  SECTION("Mistral 3: 1540 / 14 = 110 patches a side, merged 2 x 2: 55 rows of 55 tokens + a break each") {
    const auto a = arch_of("mistralai--Mistral-Small-3.2-24B-Instruct-2506");
    REQUIRE(a.mm_encoder);
    CHECK(a.mm_encoder->tokens_per_item == 55ULL * 56);
    CHECK(a.mm_encoder->encoder_tokens_per_item == 110ULL * 110);
  }
  SECTION("Llama 4: 16 tiles + a global one of (336 / 14)^2 patches (+ class), pixel-shuffled by 0.5 x 0.5") {
    const auto a = arch_of("meta-llama--Llama-4-Scout-17B-16E-Instruct");
    REQUIRE(a.mm_encoder);
    CHECK(a.mm_encoder->tokens_per_item == 17ULL * 144);
    CHECK(a.mm_encoder->encoder_tokens_per_item == 17ULL * 577);
  }
  SECTION("Mllama: no dummy item (vLLM's V1 engine never ran it); a text-only model: none") {
    CHECK_FALSE(arch_of("meta-llama--Llama-3.2-11B-Vision-Instruct").mm_encoder);
    CHECK_FALSE(arch_of("meta-llama--Meta-Llama-3.1-8B").mm_encoder);
  }
}

TEST_CASE("multimodal: Qwen2-VL-7B on an H100, one image of 65536 patches outweighs the sampler",
          "[vllm][multimodal]") {
  const auto a = arch_of("Qwen--Qwen2-VL-7B-Instruct");
  auto s = h100();
  const auto e = estimate_vllm_profile(a, s);
  REQUIRE(e.encoder.profiled);
  // Budget: max(8192 batched tokens, 16384 per image) = 16384; items: 16384 / 16384 = 1.
  CHECK(e.encoder.budget_tokens == 16384);
  CHECK(e.encoder.items == 1);
  CHECK(e.encoder.encoder_tokens == 65536);
  // Encoder: 65536 patches x (3 x 1280 hidden + 2 x 5120 MLP) x 2 B = 1.72 GiB; its input, 65536 x 1176 pixel values
  // x 2 B = 0.14 GiB.
  const double f = coef("forward_copies");
  const double encoder = 65536.0 * (3 * 1280 + 2 * 5120) * 2;
  const double pixels = 65536.0 * 1176 * 2;
  CHECK(e.encoder.forward_bytes == rounded(encoder));
  CHECK(e.encoder.input_bytes == rounded(pixels));
  // Cache: 1 image x 16384 tokens x 3584 x 2 B = 117,440,512 B.
  CHECK(e.encoder.cache_bytes == 16384ULL * 3584 * 2);
  // Decoder: forward f x 8192 x 18944 x 2 B = 1.18 GiB; sampler 2.352 x 1024 x 152064 x 4 B + 8192 x 3584 x 2 B =
  // 1.42 GiB, with the cache 1.53 GiB: the encoder's 1.72 GiB is the peak, plus the pixel values and c.
  const double forward = f * 8192 * 18944 * 2;
  const double sampler = coef("sampler_copies_flashinfer") * 1024 * 152064 * 4 + 8192.0 * 3584 * 2;
  REQUIRE(encoder > std::max(forward, sampler) + 16384.0 * 3584 * 2);
  const double c = coef("activation_constant_gib") * static_cast<double>(kGiB);
  CHECK(static_cast<double>(e.activation_bytes) == Approx(encoder + pixels + c).margin(2));
  CHECK(e.sampler_bytes == 0);
  CHECK(e.activation_formula.find("encoder 1 image: 1 x 65536 patches x (3 x 1280 hidden + 2 x 5120 MLP)") !=
        std::string::npos);

  SECTION("TP 2 halves the encoder's MLP rows, not its residual: 3 x 1280 + 2 x 5120 / 2") {
    s.tensor_parallel_size = 2;
    CHECK(estimate_vllm_encoder_profile(a, s).forward_bytes == rounded(65536.0 * (3 * 1280 + 5120) * 2));
  }
  SECTION("a 448 x 448 dummy image: 448 x 448 / 784 = 256 tokens, so 8192 / 256 = 32 of them") {
    s.multimodal.limit_per_prompt =
        parse_limit_mm_per_prompt(R"({"image": {"count": 4, "width": 448, "height": 448}})");
    const auto small = estimate_vllm_encoder_profile(a, s);
    CHECK(small.tokens_per_item == 256);
    CHECK(small.budget_tokens == 8192);
    CHECK(small.items == 32);  // min(8192 / 256, 1024 seqs x min(4, 32768 / 256))
    CHECK(small.encoder_tokens == 32ULL * 256 * 4);
    CHECK(small.forward_bytes == rounded(32.0 * 1024 * (3 * 1280 + 2 * 5120) * 2));
    CHECK(small.input_bytes == rounded(32.0 * 1024 * 1176 * 2));
    CHECK(small.cache_bytes == 32ULL * 256 * 3584 * 2);
  }
  SECTION("images off: vLLM profiles video, sized as one image item (said)") {
    s.multimodal.limit_per_prompt = parse_limit_mm_per_prompt("image=0");
    const auto video = estimate_vllm_encoder_profile(a, s);
    CHECK(video.profiled);
    CHECK(video.modality == "video");
    CHECK(video.items == 1);
    CHECK(video.note.find("profiles video instead") != std::string::npos);
    s.multimodal.limit_per_prompt = parse_limit_mm_per_prompt("image=0,video=0");
    const auto none = estimate_vllm_profile(a, s);
    CHECK_FALSE(none.encoder.profiled);
    CHECK(none.encoder.note.find("no encoder cache") != std::string::npos);
    // The decoder's peak alone: the sampler pass.
    CHECK(none.activation_bytes == rounded(std::max(forward, sampler) + c));
  }
  SECTION("--language-model-only and --skip-mm-profiling: no encoder pass") {
    s.language_model_only = true;
    CHECK_FALSE(estimate_vllm_encoder_profile(a, s).profiled);
    s.language_model_only = false;
    s.multimodal.skip_mm_profiling = true;
    const auto skipped = estimate_vllm_encoder_profile(a, s);
    CHECK_FALSE(skipped.profiled);
    CHECK(skipped.note.find("--skip-mm-profiling") != std::string::npos);
  }
}

TEST_CASE("multimodal: Llava 1.5 batches as many 576-token images as the budget holds", "[vllm][multimodal]") {
  const auto a = arch_of("llava-hf--llava-1.5-7b-hf");
  auto s = h100();
  const double f = coef("forward_copies");
  // 8192 / 576 = 14 images of 577 patches through a 1024-wide CLIP (MLP 4096), 3 x 14 x 14 pixel values a patch.
  auto e = estimate_vllm_encoder_profile(a, s);
  CHECK(e.budget_tokens == 8192);
  CHECK(e.items == 14);
  CHECK(e.encoder_tokens == 14ULL * 577);
  CHECK(e.forward_bytes == rounded(14.0 * 577 * (3 * 1024 + 2 * 4096) * 2));
  const double pixels = 14.0 * 577 * 588 * 2;
  CHECK(e.input_bytes == rounded(pixels));
  CHECK(e.cache_bytes == 14ULL * 576 * 4096 * 2);
  // The API server of a smaller GPU: 2048 / 576 = 3.
  s.max_num_batched_tokens = 2048;
  CHECK(estimate_vllm_encoder_profile(a, s).items == 3);
  // Two images per prompt and one sequence: min(8192 / 576, 1 x min(2, 32768 / 576)) = 2.
  s.max_num_batched_tokens = 8192;
  s.max_num_seqs = 1;
  s.multimodal.limit_per_prompt = parse_limit_mm_per_prompt("image=2");
  CHECK(estimate_vllm_encoder_profile(a, s).items == 2);
  // A width and height do not change Llava's item (every image is resized to 336 x 336): said.
  s.multimodal.limit_per_prompt = parse_limit_mm_per_prompt(R"({"image": {"count": 2, "width": 64, "height": 64}})");
  e = estimate_vllm_encoder_profile(a, s);
  CHECK(e.tokens_per_item == 576);
  CHECK(e.note.find("not modelled for this tower") != std::string::npos);
  // Llava takes images only: image=0 leaves nothing to profile.
  s.multimodal.limit_per_prompt = parse_limit_mm_per_prompt("image=0");
  CHECK_FALSE(estimate_vllm_encoder_profile(a, s).profiled);
  // Here the decoder's forward (4.09 x 8192 x 12288 qkv x 2 B = 0.77 GiB) stays above the encoder's 0.17 GiB; the
  // encoder's outputs and pixel values are held through it.
  s = h100();
  const auto p = estimate_vllm_profile(a, s);
  const double forward = f * 8192 * 12288 * 2;
  const double c = coef("activation_constant_gib") * static_cast<double>(kGiB);
  CHECK(static_cast<double>(p.activation_bytes) == Approx(forward + 14.0 * 576 * 4096 * 2 + pixels + c).margin(2));
}

TEST_CASE("multimodal: the encoder budget agrees with the lines vLLM logs for Qwen 3.6", "[vllm][multimodal]") {
  // "Encoder cache will be initialized with a budget of 16384 tokens, and profiled with 1 image items of the maximum
  // feature size." (Qwen/Qwen3.6-27B, vLLM 0.19.1 on an A100: 2048 batched tokens), and "a budget of 32768 tokens,
  // and profiled with 2 image items" (Qwen3.6 with 32768 batched tokens, vLLM 0.2x); both from public startup logs
  // found with the search tool.
  const auto a = arch_of("Qwen--Qwen3.6-27B");
  auto s = h100();
  s.max_num_batched_tokens = 2048;
  s.max_num_seqs = 256;
  auto e = estimate_vllm_encoder_profile(a, s);
  CHECK(e.budget_tokens == 16384);
  CHECK(e.items == 1);
  s.max_num_batched_tokens = 32768;
  e = estimate_vllm_encoder_profile(a, s);
  CHECK(e.budget_tokens == 32768);
  CHECK(e.items == 2);
  // Two images of 65536 patches through a 1152-wide tower with a 4304 MLP; the cache at the model's 5120.
  CHECK(e.forward_bytes == rounded(2.0 * 65536 * (3 * 1152 + 2 * 4304) * 2));
  CHECK(e.input_bytes == rounded(2.0 * 65536 * 1536 * 2));
  CHECK(e.cache_bytes == 2ULL * 16384 * 5120 * 2);
}

TEST_CASE("multimodal: --limit-mm-per-prompt in vLLM's two spellings", "[vllm][multimodal]") {
  auto l = parse_limit_mm_per_prompt("image=2,video=0");
  CHECK(l.size() == 2);
  CHECK(l.at("image").count == 2);
  CHECK(l.at("video").count == 0);
  l = parse_limit_mm_per_prompt(
      R"({"image": 3, "audio": {"count": 1}, "video": {"count": 1, "width": 640, "height": 480}})");
  CHECK(l.at("image").count == 3);
  CHECK_FALSE(l.at("image").width);
  CHECK(l.at("audio").count == 1);
  CHECK(l.at("video").width == 640u);
  CHECK(l.at("video").height == 480u);
  CHECK(format_limit_mm_per_prompt(l) == R"({"audio":1,"image":3,"video":{"count":1,"height":480,"width":640}})");
  for (const char* bad : {"image", "image=two", "=2", "{\"image\": -1}", "[1, 2]", "{\"image\": {\"count\": 1.5}}"}) {
    INFO(bad);
    try {
      (void)parse_limit_mm_per_prompt(bad);
      FAIL("accepted");
    } catch (const Error& err) {
      CHECK(err.code() == ExitCode::BadInput);
      CHECK(std::string(err.what()).find("--limit-mm-per-prompt") != std::string::npos);
    }
  }
}

TEST_CASE("multimodal: the CLI passes the flags to vLLM and says what it assumed", "[vllm][multimodal][cli]") {
  const std::string qwen = testsupport::test_data("configs/Qwen--Qwen2-VL-7B-Instruct/config.json").string();
  auto run = testsupport::run_cli("--model " + qwen + " --sku H100-80G --format json");
  REQUIRE(run.exit_code == 0);
  auto j = json::parse(run.out);
  CHECK(j["vllm"]["encoder"]["items"] == 1);
  CHECK(j["vllm"]["encoder"]["budget_tokens"] == 16384);
  CHECK(j["vllm"]["encoder"]["forward_bytes"] == rounded(65536.0 * (3 * 1280 + 2 * 5120) * 2));

  run = testsupport::run_cli("--model " + qwen + " --sku H100-80G --format json --limit-mm-per-prompt image=0,video=0");
  REQUIRE(run.exit_code == 0);
  j = json::parse(run.out);
  CHECK(j["vllm"]["encoder"].is_null());
  // Passed on as the JSON today's vLLM parses, whichever spelling was given.
  CHECK(j["vllm_command"].get<std::string>().find(R"(--limit-mm-per-prompt '{"image":0,"video":0}')") !=
        std::string::npos);

  run = testsupport::run_cli("--model " + qwen + " --sku H100-80G --format json --skip-mm-profiling");
  j = json::parse(run.out);
  CHECK(j["vllm"]["encoder"].is_null());
  CHECK(j["vllm_command"].get<std::string>().find("--skip-mm-profiling") != std::string::npos);

  run = testsupport::run_cli("--model " + qwen + " --sku H100-80G --limit-mm-per-prompt image=x");
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("--limit-mm-per-prompt") != std::string::npos);
  run = testsupport::run_cli("--model " + qwen + " --sku H100-80G --estimator kaito --skip-mm-profiling");
  CHECK(run.exit_code == 2);

  const std::string mllama =
      testsupport::test_data("configs/meta-llama--Llama-3.2-11B-Vision-Instruct/config.json").string();
  run = testsupport::run_cli("--model " + mllama + " --sku H100-80G --format json");
  j = json::parse(run.out);
  bool said = false;
  for (const auto& w : j["warnings"]) said = said || w.get<std::string>().find("V0 engine only") != std::string::npos;
  CHECK(said);
}
