// End to end for issue 5: the TGI engine, the wizard estimator, the feasibility report every engine shares, the
// suggestions, sweeps, CSV, profiles and emitted configuration.
#include <catch2/catch.hpp>

#include <sstream>

#include "support.hpp"
#include "vramcalc/core/units.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

json run_json(const std::string& args, int expected_exit = 0) {
  const auto r = run_cli(args + " --format json");
  INFO(args << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == expected_exit);
  return json::parse(r.out);
}

std::string usage_error(const std::string& args) {
  const auto r = run_cli(args);
  INFO(args << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  return r.err;
}

// The notebook's example (TGI estimation notebook), on a 24 GB GPU.
const std::string kNotebook =
    "--model meta-llama/Llama-3.1-8B --sku L4 --gpu-memory 24GB --engine tgi --dtype float16 "
    "--max-input-tokens 8750 --max-total-tokens 8782 --max-batch-prefill-tokens 8782";

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("TGI engine: the notebook's example with the corrected head_dim, end to end", "[cli][tgi]") {
  const auto j = run_json(kNotebook);
  CHECK(j["engine"] == "tgi");
  CHECK(j["estimator"].is_null());
  const auto& t = j["tgi"];
  CHECK(t["batch_size"] == 2);
  CHECK(t["cuda_overhead_bytes"] == 1'200'000'000ULL);
  CHECK(t["model_bytes"] == 16'060'522'496ULL);
  CHECK(t["prefill_bytes"] == 2'081'520'000ULL);   // 2.08152 GB
  CHECK(t["decode_bytes"] == 237'888ULL);          // 0.00024 GB
  CHECK(t["kv_cache_bytes"] == 2'301'886'464ULL);  // 2.30189 GB
  CHECK(t["total_needed_bytes"] == 21'644'166'848ULL);
  CHECK(t["available_bytes"] == 22'800'000'000ULL);
  CHECK(t["is_enough_vram"] == true);
  CHECK(j["fits"] == true);
  CHECK(j["tgi_command"] ==
        "text-generation-launcher --model-id meta-llama/Llama-3.1-8B --num-shard 1 --max-input-tokens 8750 "
        "--max-total-tokens 8782 --max-batch-prefill-tokens 8782 --dtype float16");
  // Feasibility per GPU: (22.8e9 - 21644166848) bytes of headroom, under 2 GiB: medium risk, still exit 0.
  CHECK(j["feasibility"]["headroom_bytes"] == 22'800'000'000LL - 21'644'166'848LL);
  CHECK(j["feasibility"]["oom_risk"] == "medium");
  CHECK(j["vllm_command"].is_null());

  SECTION("the table says GB = 10^9 and explains the head_dim fix") {
    const auto r = run_cli(kNotebook);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("GB = 10^9 bytes"));
    CHECK_THAT(r.out, Catch::Contains("21.64417"));
    CHECK_THAT(r.out, Catch::Contains("is_enough_vram           True"));
    CHECK_THAT(r.out, Catch::Contains("4096 / 8 = 512"));
  }
  SECTION("--num-shard is --tensor-parallel-size; without it the smallest shard count that fits is searched") {
    const auto two = run_json(kNotebook + " --num-shard 2");
    CHECK(two["tgi"]["num_shard"] == 2);
    CHECK(two["tgi"]["available_bytes"] == 45'600'000'000ULL);
    CHECK(two["tgi"]["cuda_overhead_bytes"] == 2'400'000'000ULL);
    // A request that needs two L4s, on a 4 x L4 instance, takes more than one shard.
    const auto big = run_json(
        "--model meta-llama/Llama-3.1-8B --sku g6.12xlarge --engine tgi --dtype float16 "
        "--max-input-tokens 30000 --max-total-tokens 32000 --max-batch-prefill-tokens 32000");
    CHECK(big["tgi"]["num_shard"].get<int>() > 1);
    CHECK(big["fits"] == true);
  }
  SECTION("--cuda-memory-fraction scales what is available") {
    // Pinned to one shard: a bare L4 is a node of up to 8, where the search would take a second shard.
    const auto half = run_json(kNotebook + " --num-shard 1 --cuda-memory-fraction 0.5", 1);
    CHECK(half["tgi"]["available_bytes"] == 11'400'000'000ULL);
    CHECK(half["fits"] == false);
    CHECK(half["feasibility"]["oom_risk"] == "high");
  }
  SECTION("flags of other engines are refused, one line, exit 2") {
    CHECK_THAT(usage_error(kNotebook + " --estimator vllm"), Catch::Contains("--engine tgi has its own"));
    CHECK_THAT(usage_error(kNotebook + " --gpu-memory-utilization 0.9"), Catch::Contains("--cuda-memory-fraction"));
    CHECK_THAT(usage_error("--model meta-llama/Llama-3.1-8B --sku L4 --max-input-tokens 100"),
               Catch::Contains("--engine tgi"));
    CHECK_THAT(usage_error("--model meta-llama/Llama-3.1-8B --sku L4 --engine tgi --max-input-tokens 9000 "
                           "--max-total-tokens 8782"),
               Catch::Contains("--max-input-tokens"));
  }
}

TEST_CASE("TGI sweep: the notebook's table over 4 x 24 GB, as table, JSON array and CSV", "[cli][tgi][sweep]") {
  const std::string base =
      "--model meta-llama/Llama-3.1-8B --sku L4 --gpu-memory 24GB --engine tgi --dtype float16 "
      "--num-shard 4 --sweep-tokens 10000:20000:1000";
  const auto j = run_json(base);
  REQUIRE(j.size() == 11);
  CHECK(j[0]["sweep"]["value"] == "10000");
  CHECK(j[0]["tgi"]["max_input_tokens"] == 9999);
  CHECK(j[0]["tgi"]["max_total_tokens"] == 10000);
  CHECK(j[0]["tgi"]["max_batch_prefill_tokens"] == 10000);
  CHECK(j[0]["tgi"]["cuda_overhead_bytes"] == 4'800'000'000ULL);  // the notebook's 4.8
  CHECK(j[0]["tgi"]["available_bytes"] == 91'200'000'000ULL);     // the notebook's 91.2
  CHECK(j[10]["sweep"]["value"] == "20000");
  for (const auto& row : j) CHECK(row["tgi"]["batch_size"] == 2);  // ceil(t / (t - 1))
  // KV grows by exactly 2 x 1000 tokens x 131,072 B per step.
  CHECK(j[1]["tgi"]["kv_cache_bytes"].get<std::uint64_t>() - j[0]["tgi"]["kv_cache_bytes"].get<std::uint64_t>() ==
        2ULL * 1000 * 131072);

  const auto csv = run_cli(base + " --format csv");
  CHECK(csv.exit_code == 0);
  const auto rows = lines_of(csv.out);
  REQUIRE(rows.size() == 12);  // header + 11
  CHECK(rows[0].rfind("sweep_flag,sweep_value,model,sku", 0) == 0);
  CHECK_THAT(rows[1], Catch::StartsWith("tokens,10000,meta-llama/Llama-3.1-8B,L4,"));
  CHECK_THAT(rows[1], Catch::Contains(",4800000000,16060522496,"));

  const auto table = run_cli(base);
  CHECK_THAT(table.out, Catch::Contains("91.20000"));
  CHECK(lines_of(table.out).size() > 11);
}

TEST_CASE("sweep: any numeric flag, one plan per value; the original value is replaced", "[cli][sweep]") {
  const auto j = run_json(
      "--model meta-llama/Llama-3.1-8B --sku A100-80G --estimator vllm --max-model-len 999 "
      "--sweep max-model-len=4096:16384:4096");
  REQUIRE(j.size() == 4);
  CHECK(j[0]["vllm"]["max_model_len"] == 4096);
  CHECK(j[3]["vllm"]["max_model_len"] == 16384);
  CHECK(j[3]["sweep"]["flag"] == "--max-model-len");
  // Utilization in fractional steps stays exact.
  const auto u =
      run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G --sweep gpu-memory-utilization=0.8:0.95:0.05");
  REQUIRE(u.size() == 4);
  CHECK(u[1]["settings"]["gpu_memory_utilization"] == Approx(0.85));
  CHECK(u[3]["sweep"]["value"] == "0.95");
  CHECK_THAT(usage_error("--model meta-llama/Llama-3.1-8B --sku A100-80G --sweep model=1:2:1"),
             Catch::Contains("not a numeric flag"));
  CHECK_THAT(usage_error("--model meta-llama/Llama-3.1-8B --sku A100-80G --sweep max-model-len=10:1:1"),
             Catch::Contains("below the start"));
  CHECK_THAT(usage_error("--model meta-llama/Llama-3.1-8B --sku A100-80G --sweep max-model-len=1:1000000:1"),
             Catch::Contains("at most 10000"));
  CHECK_THAT(usage_error("--model meta-llama/Llama-3.1-8B --sku A100-80G --sweep-tokens 1:2:1"),
             Catch::Contains("--engine tgi"));
}

TEST_CASE("wizard estimator: vllm-wizard's overhead and fragmentation over vram-calc's weights and KV",
          "[cli][wizard]") {
  const auto j = run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G --estimator wizard --max-model-len 8192");
  CHECK(j["estimator"] == "wizard");
  CHECK(j["settings"]["fragmentation_factor"] == Approx(1.15));
  const auto& w = j["wizard"];
  const double V = 81920.0 * 1048576.0;  // nvidia-smi total of an A100-80G
  CHECK(w["allocatable_bytes"] == static_cast<std::uint64_t>(std::llround(V * 0.9)));
  CHECK(w["overhead_bytes"] == static_cast<std::uint64_t>(std::llround(0.02 * V)));  // 1.6 GiB > 1 GiB
  CHECK(w["kv_cache_bytes"] == static_cast<std::uint64_t>(std::llround(131072.0 * 8192 * 1.15)));
  CHECK(w["weights_bytes"] == 16'060'522'496ULL);
  CHECK(j["feasibility"]["headroom_bytes"] == w["headroom_bytes"]);
  CHECK(j["feasibility"]["oom_risk"] == "low");
  CHECK(j["vllm_command"].get<std::string>().find("--max-model-len 8192") != std::string::npos);
  SECTION("--overhead-gib replaces the formula, and belongs to the wizard") {
    const auto f = run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G --estimator wizard --overhead-gib 3");
    CHECK(f["wizard"]["overhead_bytes"] == 3 * vramcalc::kGiB);
    CHECK_THAT(usage_error("--model meta-llama/Llama-3.1-8B --sku A100-80G --overhead-gib 3"),
               Catch::Contains("--estimator wizard"));
  }
}

TEST_CASE("feasibility: headroom, risk, bounds and the exit code follow fits whatever the risk", "[cli][feasibility]") {
  const std::string base = "--model meta-llama/Llama-3.1-8B --sku A100-80G --max-model-len 4096";
  const auto j = run_json(base);
  const auto& f = j["feasibility"];
  CHECK(f["fits"] == true);
  CHECK(f["context"] == 4096);
  CHECK(f["concurrency"] == 1);
  CHECK(f["oom_risk"] == "low");
  CHECK(f["max_concurrency_at_context"].get<std::uint64_t>() > 1);
  CHECK(f["max_context_at_concurrency"] == 131072);  // capped by max_position_embeddings
  SECTION("--headroom-gib takes exactly that much from the headroom") {
    const auto h = run_json(base + " --headroom-gib 5");
    CHECK(f["headroom_bytes"].get<std::int64_t>() - h["feasibility"]["headroom_bytes"].get<std::int64_t>() ==
          static_cast<std::int64_t>(5 * vramcalc::kGiB));
  }
  SECTION("--concurrency and --fragmentation-factor multiply the KV cache") {
    const auto c = run_json(base + " --concurrency 4 --fragmentation-factor 1.5");
    const auto kv_one = 131072.0 * 4096;
    const double drop = static_cast<double>(f["headroom_bytes"].get<std::int64_t>() -
                                            c["feasibility"]["headroom_bytes"].get<std::int64_t>());
    CHECK(drop == Approx(kv_one * (4 * 1.5 - 1)).epsilon(1e-6));
    CHECK(c["feasibility"]["concurrency"] == 4);
  }
  SECTION("--risk-thresholds-gib moves the classes; a medium or high risk that fits still exits 0") {
    const auto t = run_json(base + " --risk-thresholds-gib 100,60");
    CHECK(t["feasibility"]["oom_risk"] == "high");
    CHECK(t["fits"] == true);
    CHECK_THAT(usage_error(base + " --risk-thresholds-gib 0,2"), Catch::Contains("--risk-thresholds-gib"));
  }
  SECTION("a plan that does not fit exits 1 and lists the nearest changes that would, each one proven") {
    const std::string tight =
        "--model meta-llama/Llama-3.1-8B --sku L4 --estimator vllm --max-model-len 131072 "
        "--tensor-parallel-size 1";
    const auto n = run_json(tight, 1);
    CHECK(n["fits"] == false);
    REQUIRE_FALSE(n["suggestions"].empty());
    bool has_context = false, has_tp = false;
    for (const auto& s : n["suggestions"]) {
      CHECK(s["fits"] == true);
      const std::string flags = s["flags"];
      has_context = has_context || flags.rfind("--max-model-len", 0) == 0;
      has_tp = has_tp || flags.rfind("--tensor-parallel-size 2", 0) == 0;
      if (flags.find('(') != std::string::npos) continue;  // needs another checkpoint
      // Each suggestion's flags, added to the same command, make it fit. For the context, the last flag wins.
      const auto r = run_cli(tight + " " + flags + " --format json");
      INFO(flags << "\n" << r.err);
      CHECK(r.exit_code == 0);
    }
    CHECK(has_context);
    CHECK(has_tp);  // fp8 KV alone is not enough here: 8 GiB needed, 3.5 GiB available
    const auto table = run_cli(tight);
    CHECK(table.exit_code == 1);
    CHECK_THAT(table.out, Catch::Contains("Would fit with"));
  }
}

TEST_CASE("emit: prints only the artefact for the chosen plan", "[cli][emit]") {
  const std::string base = "--model meta-llama/Llama-3.1-70B --sku p4de.24xlarge --estimator vllm --max-model-len 8192";
  const auto plan = run_json(base);
  const auto cmd = run_cli(base + " --emit vllm-command");
  CHECK(cmd.exit_code == 0);
  CHECK(cmd.out == plan["vllm_command"].get<std::string>() + "\n");
  const auto args = run_cli(base + " --emit vllm-args");
  CHECK(args.out ==
        plan["vllm_command"].get<std::string>().substr(std::string("vllm serve meta-llama/Llama-3.1-70B ").size()) +
            "\n");
  const auto k8s = run_cli(base + " --emit k8s");
  CHECK(k8s.exit_code == 0);
  CHECK_THAT(k8s.out, Catch::Contains("kind: Deployment"));
  CHECK_THAT(k8s.out, Catch::Contains("nvidia.com/gpu: " + std::to_string(plan["plan"]["gpus"].get<int>())));
  CHECK_THAT(k8s.out, Catch::Contains("nvidia.com/gpu.product: \"NVIDIA-A100-SXM4-80GB\""));
  CHECK_THAT(k8s.out, Catch::Contains("\"--tensor-parallel-size\", \"" +
                                      std::to_string(plan["plan"]["tensor_parallel_size"].get<int>()) + "\""));
  CHECK_THAT(k8s.out, Catch::Contains("image: \"vllm/vllm-openai:"));
  const auto tgi = run_cli(kNotebook + " --emit tgi-command,k8s");
  CHECK(tgi.exit_code == 0);
  CHECK_THAT(tgi.out, Catch::StartsWith("text-generation-launcher --model-id meta-llama/Llama-3.1-8B"));
  CHECK_THAT(tgi.out, Catch::Contains("text-generation-inference"));
  CHECK_THAT(usage_error(base + " --emit tgi-command"), Catch::Contains("--engine tgi"));
  CHECK_THAT(usage_error(base + " --emit helm"), Catch::Contains("vllm-args, vllm-command, tgi-command, k8s"));
}

TEST_CASE("profile: a vllm-wizard profile sizes the deployment; flags override it", "[cli][profile]") {
  const auto example = testsupport::repo_data("models.json").parent_path().parent_path() / "examples" / "deploy.yaml";
  const auto j = run_json("--profile " + example.string());
  CHECK(j["model"]["id"] == "meta-llama/Llama-3.1-8B");
  CHECK(j["sku"]["name"] == "A100-80G");
  const auto over = run_json("--profile " + example.string() + " --max-model-len 1234 --sku H100-80G");
  CHECK(over["sku"]["name"] == "H100-80G");
  CHECK(over["feasibility"]["context"] == 1234);

  testsupport::TempDir dir;
  const auto bad = dir.path() / "bad.yaml";
  testsupport::write_file(bad, "model:\n  id: meta-llama/Llama-3.1-8B\nhardware:\n  sku: A100-80G\n  colour: blue\n");
  const auto err = usage_error("--profile " + bad.string());
  CHECK_THAT(err, Catch::Contains("hardware.colour"));
  CHECK_THAT(err, Catch::Contains(":5"));

  const auto prof = dir.path() / "p.yaml";
  testsupport::write_file(prof,
                          "model:\n  id: meta-llama/Llama-3.1-8B\n  max_model_len: 8192\nhardware:\n"
                          "  gpu_name: A100-80G\n  vram_gb: 40\nworkload:\n  concurrency: 3\npolicy:\n"
                          "  headroom_gb: 1.5\n  fragmentation_factor: 1.2\noutputs:\n  emit: vllm-command\n"
                          "  vllm_args:\n    enable-prefix-caching: true\n");
  const auto cmd = run_cli("--profile " + prof.string());
  CHECK(cmd.exit_code == 0);
  CHECK_THAT(cmd.out, Catch::StartsWith("vllm serve meta-llama/Llama-3.1-8B"));
  CHECK_THAT(cmd.out, Catch::Contains("--enable-prefix-caching"));
  const auto pj = run_json("--profile " + prof.string() + " --emit ''");
  // vram_gb is GiB, read as nvidia-smi's total (KAITO's figure); vLLM's plan takes CUDA's, 459 MiB less.
  CHECK(pj["baseline"]["gpu_memory_bytes"] == 40 * vramcalc::kGiB);
  CHECK(pj["sku"]["gpu_memory_bytes"] == 40 * vramcalc::kGiB - 459 * vramcalc::kMiB);
  CHECK(pj["feasibility"]["concurrency"] == 3);
  CHECK(pj["settings"]["headroom_gib"] == Approx(1.5));
  CHECK(pj["settings"]["fragmentation_factor"] == Approx(1.2));
}

TEST_CASE("a bfloat16 model on a GPU without bfloat16 is served as float16, and the commands say so",
          "[cli][feasibility]") {
  const auto v = run_json("--model meta-llama/Llama-3.1-8B --sku g4dn.12xlarge --max-model-len 2048");
  CHECK_THAT(v["vllm_command"].get<std::string>(), Catch::Contains("--dtype float16"));
  bool warned = false;
  for (const auto& w : v["warnings"]) warned = warned || w.get<std::string>().find("no bfloat16") != std::string::npos;
  CHECK(warned);
  const auto t = run_json("--model meta-llama/Llama-3.1-8B --sku g4dn.12xlarge --engine tgi --max-total-tokens 2048");
  CHECK_THAT(t["tgi_command"].get<std::string>(), Catch::Contains("--dtype float16"));
  // An A100 has bfloat16: no --dtype.
  const auto a = run_json("--model meta-llama/Llama-3.1-8B --sku A100-80G --max-model-len 2048");
  CHECK(a["vllm_command"].get<std::string>().find("--dtype") == std::string::npos);
}

TEST_CASE("TGI: a shard count that does not divide the heads does not fit", "[cli][tgi]") {
  const auto j = run_json(
      "--model meta-llama/Llama-3.1-8B --sku g6.48xlarge --engine tgi --num-shard 3 "
      "--max-total-tokens 4096",
      1);
  CHECK(j["fits"] == false);
  CHECK_THAT(j["tgi"]["not_fit_reasons"].dump(), Catch::Contains("do not divide the 32 attention heads"));
}
