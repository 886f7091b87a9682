// vLLM's CUDA graphs (cudagraph.hpp): the capture list derived as vLLM derives it (checked against the counts real
// v0.20+ logs print: "Profiling CUDA graph memory: PIECEWISE=N (largest=..), FULL=M (largest=..)"), the estimate and
// its fitted costs (data/vllm_cudagraph_fit.json), the flags that move them, and the advice.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <functional>

#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/cudagraph.hpp"
#include "vramcalc/engines/vllm/plan.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

VllmCaptureInputs inputs(std::uint64_t mns, std::uint64_t mnbt, const char* version = "0.29.0") {
  VllmCaptureInputs in;
  in.version = parse_vllm_version(version);
  in.max_num_seqs = mns;
  in.max_num_batched_tokens = mnbt;
  return in;
}

const json& fit() {
  static const json j = [] {
    std::ifstream in(testsupport::repo_data("vllm_cudagraph_fit.json"));
    return json::parse(in);
  }();
  return j;
}

void expect_bad_input(const std::function<void()>& f, const std::string& starts_with) {
  try {
    f();
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    CHECK(std::string(e.what()).rfind(starts_with, 0) == 0);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

}  // namespace

TEST_CASE("the capture list matches the counts vLLM logs", "[vllm][cudagraph]") {
  const VllmCompilationSettings defaults;
  SECTION("max_num_seqs 256 (under 70 GiB): PIECEWISE=51 (largest=512), FULL=35 (largest=256), vllm-new-004") {
    const auto l = vllm_capture_list(defaults, inputs(256, 2048, "0.22.1"));
    CHECK(l.mode == CudagraphMode::FullAndPiecewise);
    CHECK(l.piecewise.size() == 51);
    CHECK(l.piecewise.back() == 512);
    CHECK(l.full.size() == 35);
    CHECK(l.full.back() == 256);
  }
  SECTION("max_num_seqs 128: PIECEWISE=35 (largest=256), FULL=19 (largest=128), vllm-new-012") {
    const auto l = vllm_capture_list(defaults, inputs(128, 32768));
    CHECK(l.piecewise.size() == 35);
    CHECK(l.piecewise.back() == 256);
    CHECK(l.full.size() == 19);
    CHECK(l.full.back() == 128);
  }
  SECTION("max_num_seqs 8: PIECEWISE=5 (largest=16), FULL=4 (largest=8), vllm-new-003") {
    const auto l = vllm_capture_list(defaults, inputs(8, 65536, "0.23.1"));
    CHECK(l.piecewise == std::vector<std::uint64_t>{1, 2, 4, 8, 16});
    CHECK(l.full == std::vector<std::uint64_t>{1, 2, 4, 8});
  }
  SECTION("--max-cudagraph-capture-size 4 with one sequence: PIECEWISE=3 (largest=4), FULL=1, vllm-new-001") {
    VllmCompilationSettings c;
    c.max_capture_size = 4;
    const auto l = vllm_capture_list(c, inputs(1, 4096, "0.20.0"));
    CHECK(l.piecewise == std::vector<std::uint64_t>{1, 2, 4});
    CHECK(l.full == std::vector<std::uint64_t>{1});
    c.max_capture_size = 1;  // vllm-new-002: PIECEWISE=1, FULL=1
    CHECK(vllm_capture_list(c, inputs(8, 65536, "0.20.0")).graphs() == 2);
  }
  SECTION("H100 defaults (max_num_seqs 1024): every size is also a FULL decode size") {
    const auto l = vllm_capture_list(defaults, inputs(1024, 8192));
    CHECK(l.piecewise.size() == 51);
    CHECK(l.full.size() == 51);
  }
  SECTION("compute capability 10.x raises the ceiling to 1024 (83 sizes)") {
    auto in = inputs(1024, 8192);
    in.compute_capability = 10.0;
    CHECK(vllm_capture_list(defaults, in).piecewise.size() == 83);
    in.compute_capability = 12.0;  // RTX 5090: not data-centre Blackwell
    CHECK(vllm_capture_list(defaults, in).piecewise.size() == 51);
  }
  SECTION("max_num_batched_tokens caps the ceiling and is captured itself when off the stride") {
    const auto l = vllm_capture_list(defaults, inputs(256, 300));
    CHECK(l.piecewise.back() == 300);
    CHECK(l.piecewise.size() == 3 + 31 + 3 + 1);  // 1 2 4, 8..248, 256 272 288, 300
  }
  SECTION("v0.10: PIECEWISE only, 1, 2, 4 and every multiple of 8 up to 512 (67 sizes)") {
    const auto l = vllm_capture_list(defaults, inputs(1024, 8192, "0.10.1"));
    CHECK(l.mode == CudagraphMode::Piecewise);
    CHECK(l.piecewise.size() == 67);
    CHECK(l.full.empty());
  }
}

TEST_CASE("modes, -O levels and explicit capture sizes move the list as in vLLM", "[vllm][cudagraph]") {
  VllmCompilationSettings c;
  SECTION("-O0: no graphs; -O1: PIECEWISE only; -O2 and -O3: FULL_AND_PIECEWISE") {
    c.optimization_level = 0;
    CHECK(vllm_capture_list(c, inputs(256, 2048)).graphs() == 0);
    c.optimization_level = 1;
    auto l = vllm_capture_list(c, inputs(256, 2048));
    CHECK(l.mode == CudagraphMode::Piecewise);
    CHECK(l.full.empty());
    CHECK(l.mode_source == "-O1");
    c.optimization_level = 3;
    CHECK(vllm_capture_list(c, inputs(256, 2048)).mode == CudagraphMode::FullAndPiecewise);
  }
  SECTION("cudagraph_mode wins over -O; FULL_DECODE_ONLY captures the decode sizes, FULL every size") {
    c.optimization_level = 1;
    c.cudagraph_mode = CudagraphMode::FullDecodeOnly;
    auto l = vllm_capture_list(c, inputs(8, 8192));
    CHECK(l.piecewise.empty());
    CHECK(l.full == std::vector<std::uint64_t>{1, 2, 4, 8});
    c.cudagraph_mode = CudagraphMode::Full;
    l = vllm_capture_list(c, inputs(8, 8192));
    CHECK(l.full == std::vector<std::uint64_t>{1, 2, 4, 8, 16});
  }
  SECTION("explicit sizes are de-duplicated, sorted and cut at max_num_batched_tokens") {
    c.capture_sizes = std::vector<std::uint64_t>{8, 4, 4, 1, 9000};
    const auto l = vllm_capture_list(c, inputs(256, 8192));
    CHECK(l.piecewise == std::vector<std::uint64_t>{1, 4, 8});
  }
  SECTION("an explicit ceiling that disagrees with explicit sizes is refused, as vLLM refuses it") {
    c.capture_sizes = std::vector<std::uint64_t>{1, 2, 4};
    c.max_capture_size = 8;
    expect_bad_input([&] { (void)vllm_capture_list(c, inputs(256, 8192)); }, "--max-cudagraph-capture-size 8");
  }
}

TEST_CASE("vLLM flags --compilation-config and --cudagraph-capture-sizes parse as vLLM takes them",
          "[vllm][cudagraph]") {
  VllmCompilationSettings c;
  parse_compilation_config(
      R"({"cudagraph_mode": "piecewise", "cudagraph_capture_sizes": [1, 2, 4], "max_cudagraph_capture_size": 4,
          "mode": 3})",
      c);
  CHECK(c.cudagraph_mode == CudagraphMode::Piecewise);
  CHECK(c.capture_sizes == std::vector<std::uint64_t>{1, 2, 4});
  CHECK(c.max_capture_size == 4u);
  CHECK(c.ignored_keys == std::vector<std::string>{"mode"});
  expect_bad_input(
      [] {
        VllmCompilationSettings x;
        parse_compilation_config("{\"cudagraph_mode\": ", x);
      },
      "--compilation-config: malformed JSON");
  expect_bad_input(
      [] {
        VllmCompilationSettings x;
        parse_compilation_config("[1]", x);
      },
      "--compilation-config");
  expect_bad_input(
      [] {
        VllmCompilationSettings x;
        parse_compilation_config(R"({"cudagraph_mode": "FAST"})", x);
      },
      "--compilation-config: cudagraph_mode");
  expect_bad_input(
      [] {
        VllmCompilationSettings x;
        parse_compilation_config(R"({"cudagraph_capture_sizes": [0]})", x);
      },
      "--compilation-config: cudagraph_capture_sizes");
  CHECK(parse_capture_sizes("1,2,4,8") == std::vector<std::uint64_t>{1, 2, 4, 8});
  CHECK(parse_capture_sizes("[1, 2, 4]") == std::vector<std::uint64_t>{1, 2, 4});
  for (const char* bad : {"", "1,,2", "a", "0", "1;2", "-1"})
    expect_bad_input([&] { (void)parse_capture_sizes(bad); }, "--cudagraph-capture-sizes");
}

TEST_CASE("the estimate: first capture + per graph x the graphs after each mode's first", "[vllm][cudagraph]") {
  const auto llama = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto coef = fit().at("coefficients");
  SECTION("the C++ costs equal data/vllm_cudagraph_fit.json (refit, then update src/engines/vllm/cudagraph.cpp)") {
    VllmCaptureList one;
    one.mode = CudagraphMode::Piecewise;
    one.piecewise = {8};
    const auto first = estimate_vllm_cudagraph(llama, 32, one);
    CHECK(static_cast<double>(first.bytes) ==
          Approx(coef.at("first_capture_gib").get<double>() * static_cast<double>(kGiB)).margin(1));
    CHECK(static_cast<double>(first.per_graph) ==
          Approx(coef.at("per_graph_bytes_per_layer_hidden").get<double>() * 32 * 4096).margin(1));
  }
  SECTION("the structure of vLLM's estimate, with its numbers in the formula") {
    const auto l = vllm_capture_list(VllmCompilationSettings{}, inputs(256, 2048));
    const auto e = estimate_vllm_cudagraph(llama, 32, l);
    CHECK(e.bytes == e.first_capture + e.per_graph * (50 + 34));
    CHECK(e.formula.find("PIECEWISE=51 (largest=512), FULL=35 (largest=256)") != std::string::npos);
    CHECK(e.formula.find("84 more graphs") != std::string::npos);
    // Pipeline stages hold fewer layers, hence fewer graph nodes; TP does not change it (the same graphs per rank).
    CHECK(estimate_vllm_cudagraph(llama, 16, l).bytes < e.bytes);
    CHECK(vllm_layers_on_gpu(llama, 2) == 16);
  }
  SECTION("no graphs, no estimate") {
    VllmCompilationSettings c;
    c.optimization_level = 0;
    const auto e = estimate_vllm_cudagraph(llama, 32, vllm_capture_list(c, inputs(256, 2048)));
    CHECK(e.bytes == 0);
    CHECK(e.formula.find("no CUDA graphs") != std::string::npos);
  }
  SECTION("before v0.20 the pool lives in the headroom: the v0.10 rule of thumb, 0.50 GiB + 0.15 per TP doubling") {
    CHECK(vllm_legacy_cudagraph_pool(1) == static_cast<std::uint64_t>(0.50 * kGiB));
    CHECK(vllm_legacy_cudagraph_pool(2) == static_cast<std::uint64_t>(std::llround(0.65 * kGiB)));
    CHECK(vllm_legacy_cudagraph_pool(0) == vllm_legacy_cudagraph_pool(1));
    const auto p =
        plan_vllm_cudagraphs(llama, VllmCompilationSettings{}, inputs(256, 2048, "0.10.1"), 2, 1, std::nullopt);
    CHECK(p.bytes == vllm_legacy_cudagraph_pool(2));
  }
}

TEST_CASE("the advice: how much KV cache turning the estimate off or shortening the list recovers",
          "[vllm][cudagraph]") {
  const auto llama = arch_of("meta-llama--Meta-Llama-3.1-8B");
  VllmKvLayout layout;
  layout.page_bytes = 65536;  // one block of one layer, 16 tokens
  layout.group_size = 32;
  layout.block_size = 16;
  SECTION("many graphs: the estimate, in GiB and tokens, and what a ceiling of 64 would give back") {
    const auto p = plan_vllm_cudagraphs(llama, VllmCompilationSettings{}, inputs(1024, 8192), 1, 1, std::nullopt);
    REQUIRE(p.likely_overshoots);
    const auto advice = vllm_cudagraph_advice(p, layout);
    REQUIRE(advice);
    CHECK(advice->find("--enforce-eager") != std::string::npos);
    CHECK(advice->find("VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0") != std::string::npos);
    CHECK(advice->find("--max-cudagraph-capture-size 64") != std::string::npos);
    CHECK(advice->find(format_count(vllm_kv_tokens_for(layout, p.bytes)) + " tokens") != std::string::npos);
    CHECK(p.bytes_short_list < p.bytes);
  }
  SECTION("a short list of a dense model: no advice") {
    VllmCompilationSettings c;
    c.max_capture_size = 8;
    const auto p = plan_vllm_cudagraphs(llama, c, inputs(8, 8192), 1, 1, std::nullopt);
    CHECK_FALSE(p.likely_overshoots);
    CHECK_FALSE(vllm_cudagraph_advice(p, layout));
  }
  SECTION("a hybrid Mamba model: advice even with a short list") {
    const auto nemotron = arch_of("nvidia--Nemotron-H-56B-Base-8K");
    REQUIRE(nemotron.count_layers(LayerKind::Mamba) > 0);
    VllmCompilationSettings c;
    c.max_capture_size = 8;
    const auto p = plan_vllm_cudagraphs(nemotron, c, inputs(8, 8192), 1, 1, std::nullopt);
    CHECK(p.likely_overshoots);
    CHECK(vllm_cudagraph_advice(p, layout)->find("hybrid model") != std::string::npos);
  }
  SECTION("KV tokens for a number of bytes, as vLLM turns its budget into tokens") {
    CHECK(vllm_kv_tokens_for(layout, 65536ULL * 32 * 10) == 160);
    CHECK(vllm_kv_tokens_for(VllmKvLayout{}, kGiB) == 0);
  }
}

TEST_CASE("the CLI: the estimate in the budget, the flags that move it, and what turns it off", "[vllm][cudagraph]") {
  const std::string base =
      "--model meta-llama/Llama-3.1-8B --sku H100-80G --estimator vllm --max-model-len 16000 --format json ";
  const auto kv = [](const testsupport::RunResult& r) {
    return json::parse(r.out)["vllm"]["available_kv_cache_bytes"].get<std::int64_t>();
  };
  const auto fresh = testsupport::run_cli(base);
  REQUIRE(fresh.exit_code == 0);
  const json j = json::parse(fresh.out);
  CHECK(j["vllm"]["cudagraph_in_kv_budget"] == true);
  const auto graphs = j["vllm"]["cudagraph_bytes"].get<std::int64_t>();
  CHECK(graphs > static_cast<std::int64_t>(kGiB / 2));
  SECTION("--enforce-eager, --cudagraph-estimate off and -O0 give the estimate back to the KV cache") {
    for (const char* off : {"--enforce-eager", "--cudagraph-estimate off", "-O0", "-O 0",
                            "--compilation-config '{\"cudagraph_mode\":\"NONE\"}'"}) {
      INFO(off);
      const auto r = testsupport::run_cli(base + off);
      REQUIRE(r.exit_code == 0);
      CHECK(kv(r) == kv(fresh) + graphs);
    }
  }
  SECTION("a shorter capture list reserves less, and the command carries the flag") {
    const auto r = testsupport::run_cli(base + "--max-cudagraph-capture-size 64");
    REQUIRE(r.exit_code == 0);
    CHECK(kv(r) > kv(fresh));
    CHECK(json::parse(r.out)["vllm_command"].get<std::string>().find("--max-cudagraph-capture-size 64") !=
          std::string::npos);
    CHECK(kv(testsupport::run_cli(base + "--max-num-seqs 16")) > kv(fresh));
  }
  SECTION("--cudagraph-memory still names the figure") {
    const auto r = testsupport::run_cli(base + "--cudagraph-memory 2GiB");
    CHECK(kv(r) == kv(fresh) + graphs - static_cast<std::int64_t>(2 * kGiB));
  }
  SECTION("bad values are one-line usage errors (exit 2)") {
    for (const char* bad : {"--compilation-config '{oops'", "--cudagraph-estimate maybe", "-O7",
                            "--cudagraph-capture-sizes 1,x", "--max-cudagraph-capture-size 0"}) {
      INFO(bad);
      const auto r = testsupport::run_cli(base + bad);
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
  }
  SECTION("an unknown --compilation-config key is ignored with a warning") {
    const auto r = testsupport::run_cli(base + "--compilation-config '{\"cudagraph_mode\":\"PIECEWISE\",\"x\":1}'");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\\\"x\\\" is not modelled") != std::string::npos);
  }
  SECTION("--vllm-version 0.10.1: the pool stays in the headroom, the v0.10 figures unchanged") {
    const auto r = testsupport::run_cli(base + "--vllm-version 0.10.1");
    REQUIRE(r.exit_code == 0);
    const json old = json::parse(r.out);
    CHECK(old["vllm"]["cudagraph_in_kv_budget"] == false);
    CHECK(old["vllm"]["cudagraph_bytes"] == kGiB / 2);
  }
}
