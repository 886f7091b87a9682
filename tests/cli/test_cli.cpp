// End to end: run the vram-calc binary, read its exit code, parse its JSON, read its one-line errors.
#include <catch2/catch.hpp>

#include <cmath>

#include <fmt/format.h>

#include "support.hpp"
#include "vramcalc/core/units.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

json run_json(const std::string& args, int expected_exit = 0) {
  const auto r = run_cli(args + " --format json");
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == expected_exit);
  return json::parse(r.out);  // stdout holds the JSON and nothing else
}

// A usage or input error: exit 2, one line on stderr, nothing on stdout.
std::string usage_error(const std::string& args) {
  const auto r = run_cli(args);
  INFO(args << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  REQUIRE_FALSE(r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);
  return r.err;
}

}  // namespace

TEST_CASE("the README's command: Llama-3.1-8B on one A100-80G from the bundled catalog", "[cli]") {
  const auto j = run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G");
  CHECK(j["schema_version"] == 2);
  CHECK(j["estimator"] == "vllm");  // vLLM's own accounting by default (issue 13)
  CHECK(j["model"]["id"] == "meta-llama/Llama-3.1-8B");
  CHECK(j["model"]["architecture"] == "LlamaForCausalLM");
  CHECK(j["model"]["num_params"] == 8030261248ULL);
  CHECK(j["model"]["weight_bytes"] == 16060522496ULL);
  CHECK(j["model"]["weight_source"] == "catalog");
  CHECK(j["model"]["dtype"] == "bfloat16");
  CHECK(j["model"]["num_hidden_layers"] == 32);
  CHECK(j["model"]["num_attention_heads"] == 32);
  CHECK(j["model"]["num_key_value_heads"] == 8);
  CHECK(j["model"]["head_dim"] == 128);
  CHECK(j["model"]["max_position_embeddings"] == 131072);
  CHECK(j["kv_cache"]["bytes_per_token"] == 131072);
  CHECK(j["kv_cache"]["dtype"] == "bfloat16");
  CHECK(j["sku"]["name"] == "A100-80G");
  CHECK(j["sku"]["gpus_per_node"] == 8);  // a bare GPU: one node of up to 8
  CHECK(j["sku"]["memory_marketed_bytes"] == 80000000000ULL);
  CHECK(j["plan"]["gpus"] == 1);
  CHECK(j["plan"]["nodes"] == 1);
  CHECK(j["plan"]["tensor_parallel_size"] == 1);
  CHECK(j["plan"]["pipeline_parallel_size"] == 1);
  CHECK(j["plan"]["max_model_len"] == 131072);  // the cache holds the model's whole context
  CHECK(j["plan"]["max_model_len_limited_by"] == "max_position_embeddings");
  CHECK(j["plan"]["fits"] == true);
  const double u = j["settings"]["gpu_memory_utilization"];  // the default vLLM release's
  CHECK(j["vllm_command"] == fmt::format("vllm serve meta-llama/Llama-3.1-8B --max-model-len 131072 "
                                         "--gpu-memory-utilization {}",
                                         u));
  // The KAITO sizing guide's plan beside it, by hand: V = 81920 MiB (nvidia-smi), u = 0.9, W = 14.96 GiB,
  // 128 KiB per token: floor((80 x 0.9 - 1.02 x 14.957 - 2.3) / (131072 / 2^30)) = 445,999 tokens.
  const auto& b = j["baseline"];
  CHECK(b["method"] == "kaito");
  CHECK(b["gpu_memory_bytes"] == 81920ULL * 1048576ULL);
  CHECK(b["budget_bytes"] == 77309411328ULL);
  CHECK(b["gpus"] == 1);
  CHECK(b["max_model_len"] == 131072);
  CHECK(b["max_model_len_by_memory"] == 445999);
  CHECK(j["warnings"].is_array());
}

TEST_CASE("the table shows the breakdown, the verdict and the vllm serve line", "[cli]") {
  const auto r = run_cli("--model meta-llama/Llama-3.1-8B --sku A100-80G");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("14.96"));  // weight GiB
  CHECK_THAT(r.out, Catch::Contains("2 x 32 layers x 8 kv_heads x 128 head_dim x 2 B (bfloat16) = 131,072 B"));
  CHECK_THAT(r.out, Catch::Contains("GiB = 2^30 bytes"));
  CHECK_THAT(r.out, Catch::Contains("FITS"));
  CHECK_THAT(r.out, Catch::Contains("vllm serve meta-llama/Llama-3.1-8B"));
}

TEST_CASE("catalog ids are case-insensitive and renamed repositories resolve", "[cli][catalog]") {
  auto j = run_json("--model META-LLAMA/llama-3.1-8b --sku a100-80g");
  CHECK(j["model"]["id"] == "meta-llama/Llama-3.1-8B");
  j = run_json("--model meta-llama/Meta-Llama-3.1-8B --sku A100-80G");
  CHECK(j["model"]["id"] == "meta-llama/Llama-3.1-8B");
  CHECK(j["warnings"].dump().find("is now meta-llama/Llama-3.1-8B") != std::string::npos);
}

TEST_CASE("a local config.json and a local model directory", "[cli][local]") {
  const auto file = testsupport::test_data("configs/Qwen--Qwen3-8B/config.json");
  auto j = run_json("--model '" + file.string() + "' --sku H100-80G");
  CHECK(j["model"]["num_params"] == 8190735360ULL);
  CHECK(j["model"]["weight_source"] == "parameter_count");
  CHECK(j["model"]["weight_bytes"] == 8190735360ULL * 2);
  j = run_json("--model '" + file.parent_path().string() + "' --sku H100-80G");
  CHECK(j["model"]["num_params"] == 8190735360ULL);
}

TEST_CASE("several SKUs: one row each, fitting ones first, fewest GPUs first", "[cli][skus]") {
  const auto j = run_json("--model meta-llama/Llama-3.1-70B --sku L4,H100-80G,p4d.24xlarge --max-model-len 8192");
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 3);
  for (std::size_t i = 1; i < j.size(); ++i) {
    const bool prev_fits = j[i - 1]["plan"]["fits"];
    const bool fits = j[i]["plan"]["fits"];
    CHECK((prev_fits || !fits));
    if (prev_fits == fits) CHECK(j[i - 1]["plan"]["gpus"] <= j[i]["plan"]["gpus"]);
  }
  const auto all = run_json("--model meta-llama/Llama-3.1-8B --sku all");
  CHECK(all.size() > 100);
  const auto r = run_cli("--model meta-llama/Llama-3.1-8B --sku all");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("not vLLM/CUDA"));
}

TEST_CASE("pinned hardware: does it fit on exactly these GPUs? The exit code says", "[cli][pinned]") {
  auto j = run_json("--model meta-llama/Llama-3.1-70B --sku A100-80G --gpus 1", 1);
  CHECK(j["plan"]["fits"] == false);
  CHECK(j["plan"]["gpus"] == 1);
  j = run_json(
      "--model meta-llama/Llama-3.1-70B --sku Standard_ND96amsr_A100_v4 --tensor-parallel-size 4 "
      "--max-model-len 32768");
  CHECK(j["plan"]["gpus"] == 4);
  CHECK(j["plan"]["tensor_parallel_size"] == 4);
  CHECK(j["plan"]["fits"] == true);
  CHECK(j["vllm_command"].get<std::string>().find("--tensor-parallel-size 4 --max-model-len 32768") !=
        std::string::npos);
}

TEST_CASE("Falcon does not fit where it needs several GPUs, under KAITO's rules", "[cli]") {
  // KAITO serves Falcon on one GPU only (its presets disable tensor parallelism); vLLM itself shards it.
  auto j = run_json("--model tiiuae/falcon-40b --sku A100-80G --estimator kaito", 1);
  CHECK(j["plan"]["fits"] == false);
  j = run_json("--model tiiuae/falcon-40b --sku H200 --estimator kaito", 0);
  CHECK(j["plan"]["gpus"] == 1);
}

TEST_CASE("overrides: GPU memory, dtype, quantization, parameter count, weight bytes", "[cli][overrides]") {
  auto j = run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G --gpu-memory 48GiB");
  // nvidia-smi's total for KAITO's baseline; CUDA's (the median 459 MiB less) for vLLM's plan.
  CHECK(j["baseline"]["gpu_memory_bytes"] == 48ULL << 30);
  CHECK(j["sku"]["gpu_memory_bytes"] == (48ULL << 30) - 459ULL * 1048576ULL);
  CHECK(j["sku"]["gpu_memory_source"].get<std::string>().rfind("--gpu-memory", 0) == 0);
  j = run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G --quantization fp8");
  // Linear layers at 1 byte + a scale each; embeddings, LM head and norms stay bfloat16 (see test_quantization).
  CHECK(j["model"]["weight_bytes"] == 9'081'201'536ULL);
  CHECK(j["vllm_command"].get<std::string>().find("--quantization fp8") != std::string::npos);
  j = run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G --params-b 70");
  CHECK(j["model"]["num_params"] == 70'000'000'000ULL);
  CHECK(j["model"]["num_params_source"] == "--params-b");
  j = run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G --weight-bytes 10GiB");
  CHECK(j["model"]["weight_bytes"] == 10ULL << 30);
  CHECK(j["model"]["weight_source"] == "override");
  j = run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G --kv-cache-dtype fp8 --dtype float16");
  CHECK(j["kv_cache"]["bytes_per_token"] == 65536);
  CHECK(j["model"]["dtype"] == "float16");
  CHECK(j["vllm_command"].get<std::string>().find("--dtype float16 --kv-cache-dtype fp8") != std::string::npos);
}

TEST_CASE("listings: skus and models", "[cli][list]") {
  auto r = run_cli("skus --format json");
  REQUIRE(r.exit_code == 0);
  auto skus = json::parse(r.out);
  CHECK(skus.size() > 100);
  r = run_cli("models --format json");
  REQUIRE(r.exit_code == 0);
  auto models = json::parse(r.out);
  CHECK(models.size() == 68);
  r = run_cli("models");
  CHECK_THAT(r.out, Catch::Contains("meta-llama/Llama-3.1-8B"));
}

TEST_CASE("help and version exit 0 and document the exit codes", "[cli]") {
  auto r = run_cli("--help-all");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("Exit codes"));
  CHECK_THAT(r.out, Catch::Contains("--gpu-memory-utilization"));
  r = run_cli("--version");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("vram-calc "));
}

TEST_CASE("every usage and input error is one line on stderr, exit 2, nothing on stdout", "[cli][errors]") {
  const std::string base = "--model meta-llama/Llama-3.1-8B --sku A100-80G ";
  CHECK_THAT(usage_error(base + "--gpu-memory-utilization 1.5"), Catch::Contains("--gpu-memory-utilization"));
  CHECK_THAT(usage_error(base + "--gpu-memory-utilization 0"), Catch::Contains("--gpu-memory-utilization"));
  CHECK_THAT(usage_error(base + "--gpu-memory-utilization abc"), Catch::Contains("--gpu-memory-utilization"));
  CHECK_THAT(usage_error(base + "--max-model-len 0"), Catch::Contains("--max-model-len"));
  CHECK_THAT(usage_error(base + "--max-model-len -5"), Catch::Contains("--max-model-len"));
  CHECK_THAT(usage_error(base + "--max-model-len 1.5"), Catch::Contains("--max-model-len"));
  CHECK_THAT(usage_error(base + "--dtype int4"), Catch::Contains("--dtype"));
  CHECK_THAT(usage_error(base + "--kv-cache-dtype foo"), Catch::Contains("--kv-cache-dtype"));
  CHECK_THAT(usage_error(base + "--format xml"), Catch::Contains("--format"));
  CHECK_THAT(usage_error(base + "--gpu-memory '80 parsecs'"), Catch::Contains("--gpu-memory"));
  CHECK_THAT(usage_error(base + "--gpus 0"), Catch::Contains("--gpus"));
  CHECK_THAT(usage_error(base + "--quantization int3"), Catch::Contains("--quantization"));
  CHECK_THAT(usage_error(base + "--frobnicate"), Catch::Contains("frobnicate"));
  CHECK_THAT(usage_error("--model meta-llama/Llama-3.1-8B --sku A100-80"), Catch::Contains("A100-80G"));
  CHECK_THAT(usage_error("--model 'not a path, not an id' --sku A100-80G"), Catch::Contains("org/name"));
  CHECK_THAT(usage_error("--sku A100-80G"), Catch::Contains("--model"));
  CHECK_THAT(usage_error("--model meta-llama/Llama-3.1-8B"), Catch::Contains("--sku"));
}

TEST_CASE("bad local files are exit 2 naming the file", "[cli][errors]") {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "broken.json", "{\"model_type\": \"llama\", ");
  CHECK_THAT(usage_error("--model '" + (dir.path() / "broken.json").string() + "' --sku A100-80G"),
             Catch::Contains("broken.json"));
  testsupport::write_file(dir.path() / "empty" / "README", "no config here");
  CHECK_THAT(usage_error("--model '" + (dir.path() / "empty").string() + "' --sku A100-80G"),
             Catch::Contains("config.json"));
  testsupport::write_file(dir.path() / "layers.json",
                          R"({"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32,
                              "num_hidden_layers": "many", "vocab_size": 32000, "intermediate_size": 11008})");
  CHECK_THAT(usage_error("--model '" + (dir.path() / "layers.json").string() + "' --sku A100-80G"),
             Catch::Contains("num_hidden_layers"));
  CHECK_THAT(usage_error("--model ./does/not/exist --sku A100-80G"), Catch::Contains("does/not/exist"));
}

TEST_CASE("a model directory with safetensors shards: exact sizes from the headers", "[cli][local][safetensors]") {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "config.json",
                          R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
                              "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 128,
                              "vocab_size": 1000, "max_position_embeddings": 512, "torch_dtype": "bfloat16"})");
  // Two shards: 64000 BF16 elements, then 10 F32 elements (cast to bfloat16 for serving) and 96 packed U8 bytes.
  auto shard = [&](const std::string& name, const std::string& header) {
    std::string prefix(8, '\0');
    for (int i = 0; i < 8; ++i)
      prefix[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    testsupport::write_file(dir.path() / name, prefix + header);
  };
  shard("model-00001-of-00002.safetensors",
        R"({"model.embed_tokens.weight": {"dtype": "BF16", "shape": [1000, 64], "data_offsets": [0, 128000]}})");
  shard("model-00002-of-00002.safetensors",
        R"({"model.norm.weight": {"dtype": "F32", "shape": [10], "data_offsets": [0, 40]},
            "model.packed": {"dtype": "U8", "shape": [96], "data_offsets": [40, 136]}})");
  const auto j = run_json("--model '" + dir.path().string() + "' --sku L4");
  CHECK(j["model"]["weight_source"] == "safetensors_headers");
  CHECK(j["model"]["weight_bytes"] == (64000 + 10) * 2 + 96);
  CHECK(j["model"]["source"].get<std::string>().find("local directory") != std::string::npos);
}

TEST_CASE("the vLLM estimator: what vLLM will log, with the layout it needs", "[cli][vllm]") {
  auto j = run_json("--model meta-llama/Llama-3.1-8B --sku H100-80G --estimator vllm --max-model-len 16000");
  CHECK(j["estimator"] == "vllm");
  const auto& v = j["vllm"];
  CHECK(v["total_bytes"] == 81085ULL * 1048576ULL);  // median of the CUDA totals observed on H100s (MiB)
  // The default release's utilization (0.92 from v0.22).
  CHECK(v["requested_bytes"] == static_cast<std::uint64_t>(std::llround(81085.0 * 1048576.0 * 0.92)));
  CHECK(v["max_num_batched_tokens"] == 8192);  // H100-class API-server defaults
  CHECK(v["max_num_seqs"] == 1024);
  CHECK(v["block_size"] == 16);
  CHECK(v["kv_cache_tokens"].get<std::uint64_t>() % 16 == 0);
  CHECK(v["max_model_len_fits"] == true);
  CHECK(j["plan"]["tensor_parallel_size"] == 1);
  CHECK(j["vllm_command"].get<std::string>().find("--max-model-len 16000") != std::string::npos);

  SECTION("--kv-cache-memory sizes blocks from the budget exactly as vLLM does") {
    // 1000 blocks of 32 layers x 64 KiB pages.
    j = run_json(
        "--model meta-llama/Llama-3.1-8B --sku H100-80G --estimator vllm --max-model-len 16000 "
        "--kv-cache-memory " +
        std::to_string(1000ULL * 32 * 65536));
    CHECK(j["vllm"]["num_gpu_blocks"] == 1000);
    CHECK(j["vllm"]["kv_cache_tokens"] == 16000);
    CHECK(j["vllm"]["max_concurrency"] == 1.0);
    CHECK(j["vllm_command"].get<std::string>().find("--kv-cache-memory 2097152000") != std::string::npos);
    // Pinned to one GPU: unpinned, the search would move to TP 2, where half the KV heads per GPU fit 32000.
    j = run_json(
        "--model meta-llama/Llama-3.1-8B --sku H100-80G --estimator vllm --max-model-len 32000 "
        "--tensor-parallel-size 1 --kv-cache-memory " +
            std::to_string(1000ULL * 32 * 65536),
        1);
    CHECK(j["vllm"]["max_model_len_fits"] == false);
    CHECK(j["vllm"]["estimated_max_model_len"] == 16000);
  }
  SECTION("--max-model-len auto gives the largest length that fits") {
    j = run_json(
        "--model meta-llama/Llama-3.1-70B --sku H100-80G --estimator vllm --tensor-parallel-size 2 "
        "--max-model-len auto");
    CHECK(j["vllm"]["max_model_len_fits"] == true);
    CHECK(j["vllm"]["max_model_len"].get<std::uint64_t>() <= 131072u);
  }
  SECTION("the smallest valid layout is searched: 70B takes several H100s of one p5 node, by tensor parallelism") {
    j = run_json("--model meta-llama/Llama-3.1-70B --sku p5.48xlarge --estimator vllm --max-model-len 8192");
    CHECK(j["plan"]["tensor_parallel_size"] >= 2);
    CHECK(j["plan"]["gpus"] == j["plan"]["tensor_parallel_size"]);
    CHECK(j["plan"]["pipeline_parallel_size"] == 1);
    CHECK(j["plan"]["fits"] == true);
    // One GPU fewer (a valid TP that divides 64 heads and 8 KV heads) would not fit.
    const auto tp = j["plan"]["tensor_parallel_size"].get<int>();
    const auto smaller = run_cli(
        "--model meta-llama/Llama-3.1-70B --sku p5.48xlarge --estimator vllm "
        "--max-model-len 8192 --tensor-parallel-size " +
        std::to_string(tp / 2));
    CHECK(smaller.exit_code == 1);
  }
  SECTION("vLLM v0.21+ subtracts the CUDA-graph pool from the KV budget; earlier releases leave it in the headroom") {
    const std::string base =
        "--model meta-llama/Llama-3.1-8B --sku H100-80G --estimator vllm --max-model-len 16000 "
        "--gpu-memory-utilization 0.9 ";
    const auto old = run_json(base + "--vllm-version 0.11");
    CHECK(old["vllm"]["cudagraph_in_kv_budget"] == false);
    CHECK(old["vllm"]["cudagraph_bytes"] == vramcalc::kGiB / 2);
    auto fresh = run_json(base + "--vllm-version 0.21");
    CHECK(fresh["vllm"]["cudagraph_in_kv_budget"] == true);
    CHECK(fresh["vllm"]["cudagraph_estimated"] == true);
    // Within one release, the graph estimate is the whole difference that --cudagraph-estimate off makes.
    const auto off = run_json(base + "--vllm-version 0.21 --cudagraph-estimate off");
    CHECK(off["vllm"]["cudagraph_in_kv_budget"] == false);
    CHECK(off["vllm"]["available_kv_cache_bytes"].get<std::int64_t>() -
              fresh["vllm"]["available_kv_cache_bytes"].get<std::int64_t>() ==
          fresh["vllm"]["cudagraph_bytes"].get<std::int64_t>());
    CHECK(fresh["vllm"]["cudagraph_bytes"].get<std::int64_t>() > 0);
    const auto two = run_json(base + "--vllm-version 0.21 --cudagraph-memory 2GiB");
    CHECK(two["vllm"]["cudagraph_estimated"] == false);
    CHECK(off["vllm"]["available_kv_cache_bytes"].get<std::int64_t>() -
              two["vllm"]["available_kv_cache_bytes"].get<std::int64_t>() ==
          static_cast<std::int64_t>(2 * vramcalc::kGiB));
    fresh = run_json(base + "--vllm-version 0.21 --enforce-eager");
    CHECK(fresh["vllm"]["cudagraph_bytes"] == 0);
    CHECK(fresh["vllm"]["available_kv_cache_bytes"] == off["vllm"]["available_kv_cache_bytes"]);
    CHECK(fresh["vllm_command"].get<std::string>().find("--enforce-eager") != std::string::npos);
    // v0.22 and later default to 0.92 utilization.
    const auto v022 = run_json(
        "--model meta-llama/Llama-3.1-8B --sku H100-80G --estimator vllm --vllm-version 0.22 "
        "--max-model-len 16000");
    CHECK(v022["vllm"]["requested_bytes"] == static_cast<std::uint64_t>(std::llround(81085.0 * 1048576.0 * 0.92)));
  }
  SECTION("flags of the vLLM estimator need it") {
    const auto r = run_cli("--model meta-llama/Llama-3.1-8B --sku H100-80G --estimator kaito --kv-cache-memory 10GiB");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--estimator vllm"));
  }
}
