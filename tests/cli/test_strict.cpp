// Issue 14: an uncertain plan on the command line. The verdict reads "uncertain" in every format, the exit code
// follows fits unless --strict, and a model directory's safetensors headers keep the weights exact whatever the
// architecture.
#include <catch2/catch.hpp>

#include <string>

#include "support.hpp"

using nlohmann::json;

namespace {

// A model directory: `config` and one safetensors shard of 1000 x 64 BF16 elements (128,000 bytes).
void write_model_dir(const std::filesystem::path& dir, const std::string& config) {
  testsupport::write_file(dir / "config.json", config);
  const std::string header =
      R"({"model.embed_tokens.weight": {"dtype": "BF16", "shape": [1000, 64], "data_offsets": [0, 128000]}})";
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i)
    prefix[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  testsupport::write_file(dir / "model.safetensors", prefix + header);
}

constexpr const char* kInvented =
    R"({"model_type": "brand_new_lm", "architectures": ["BrandNewForCausalLM"], "hidden_size": 64,
        "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 1000,
        "max_position_embeddings": 512, "torch_dtype": "bfloat16"})";

}  // namespace

TEST_CASE("strict: an invented model_type is uncertain in every format; --strict exits 1", "[cli][strict]") {
  testsupport::TempDir dir;
  write_model_dir(dir.path(), kInvented);
  const std::string model = "--model '" + dir.path().string() + "' --sku L4";

  auto run = testsupport::run_cli(model + " --format json");
  REQUIRE(run.exit_code == 0);  // it fits, and without --strict the exit code follows fits
  const json j = json::parse(run.out);
  CHECK(j["fits"] == true);
  CHECK(j["verdict"] == "uncertain");
  const json& c = j["model"]["confidence"];
  CHECK(c["parameters"] == "guess");
  CHECK(c["kv_cache"] == "guess");
  CHECK(c["weights"] == "exact");  // from the shard's header, whatever the architecture
  CHECK(c["uncertain"] == true);
  CHECK(j["model"]["weight_source"] == "safetensors_headers");
  CHECK(j["model"]["weight_bytes"] == 1000 * 64 * 2);
  REQUIRE(c["reasons"].is_array());
  CHECK(c["reasons"][0].get<std::string>().find("model_type \"brand_new_lm\"") != std::string::npos);

  run = testsupport::run_cli(model);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("verdict                  FITS (uncertain: parameter count and KV cache are guesses)") !=
        std::string::npos);
  CHECK(run.out.find("Confidence    UNCERTAIN: parameters guess, weights exact, KV cache guess") != std::string::npos);
  CHECK(run.out.find(" per token [guess]") != std::string::npos);

  run = testsupport::run_cli(model + " --format csv");
  CHECK(run.exit_code == 0);
  CHECK(run.out.find(",verdict\n") != std::string::npos);
  CHECK(run.out.find(",uncertain\n") != std::string::npos);

  run = testsupport::run_cli(model + " --format markdown");
  CHECK(run.out.find("**FITS (uncertain: parameter count and KV cache are guesses)**") != std::string::npos);
  CHECK(run.out.find("| Confidence | **uncertain**") != std::string::npos);

  for (const char* format : {"table", "json", "csv", "markdown"}) {
    INFO(format);
    run = testsupport::run_cli(model + " --strict --format " + format);
    CHECK(run.exit_code == 1);
    CHECK_FALSE(run.out.empty());  // the plan is printed as usual
    CHECK(run.err.empty());
  }
}

TEST_CASE("strict: experts without MoE layers and an unknown layer type are uncertain too", "[cli][strict]") {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "experts.json",
                          R"({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
                              "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 1000,
                              "max_position_embeddings": 512, "num_local_experts": 16, "num_experts_per_tok": 2})");
  testsupport::write_file(dir.path() / "layers.json",
                          R"({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
                              "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 1000,
                              "max_position_embeddings": 512, "layer_types": ["full_attention", "hyena"]})");
  for (const char* file : {"experts.json", "layers.json"}) {
    INFO(file);
    const std::string model = "--model '" + (dir.path() / file).string() + "' --sku L4";
    auto run = testsupport::run_cli(model + " --format json");
    REQUIRE(run.exit_code == 0);
    const json j = json::parse(run.out);
    CHECK(j["verdict"] == "uncertain");
    CHECK(j["model"]["confidence"]["parameters"] == "guess");
    CHECK_FALSE(j["model"]["confidence"]["reasons"].empty());
    CHECK(testsupport::run_cli(model + " --strict").exit_code == 1);
  }
}

TEST_CASE("strict: a known model is certain, and --strict changes nothing", "[cli][strict]") {
  auto run = testsupport::run_cli("--model meta-llama/Llama-3.1-8B --sku H100-80G --format json --strict");
  REQUIRE(run.exit_code == 0);
  const json j = json::parse(run.out);
  CHECK(j["verdict"] == "fits");
  CHECK(j["model"]["confidence"]["uncertain"] == false);
  CHECK(j["model"]["confidence"]["parameters"] == "exact");
  CHECK(j["model"]["confidence"]["kv_cache"] == "exact");
  // A plan that does not fit says so, certain.
  run = testsupport::run_cli("--model meta-llama/Llama-3.1-8B --sku T4 --gpus 1 --max-model-len 131072 --format json");
  CHECK(run.exit_code == 1);
  CHECK(json::parse(run.out)["verdict"] == "does_not_fit");
}
