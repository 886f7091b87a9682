// vLLM's paged KV cache: from the memory vLLM logged as available for the cache, the blocks, tokens and
// concurrency it logged are reproduced to within the rounding of the logged GiB figure
// (tests/data/vllm_calibration.jsonl, real startup logs).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "support.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/kv_pages.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/model/architecture.hpp"

using namespace vramcalc;
using nlohmann::json;

namespace {

ModelArch arch_of(const std::string& dir) { return normalize_config(testsupport::load_test_config(dir), dir); }

std::int64_t gib(double g) { return static_cast<std::int64_t>(std::llround(g * static_cast<double>(kGiB))); }

// The config directory of a logged model (an -Instruct log uses its base model's identical architecture).
std::string config_dir(const std::string& model) {
  if (model == "meta-llama/Llama-3.1-8B-Instruct") return "meta-llama--Meta-Llama-3.1-8B";
  std::string dir = model;
  dir.replace(dir.find('/'), 1, "--");
  return dir;
}

}  // namespace

TEST_CASE("pages: 2 x block x KV heads per GPU x head size x bytes; MLA keeps one latent", "[vllm][kv]") {
  const auto llama = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto kv = kv_cache_spec(llama, "auto", DType::BFloat16);
  auto l = vllm_kv_layout(llama, kv, {});
  CHECK(l.block_size == 16);
  CHECK(l.page_bytes == 2 * 16 * 8 * 128 * 2);
  CHECK(l.layers_per_gpu == 32);
  CHECK(l.uniform);
  SECTION("tensor parallelism splits the KV heads, and replicates them past their count") {
    CHECK(vllm_kv_layout(llama, kv, {.tensor_parallel_size = 4}).kv_heads_per_gpu == 2);
    const auto rep = vllm_kv_layout(llama, kv, {.tensor_parallel_size = 16});
    CHECK(rep.kv_heads_per_gpu == 1);
    CHECK_FALSE(rep.notes.empty());
  }
  SECTION("pipeline stages split the layers as vLLM does") {
    CHECK(vllm_kv_layout(llama, kv, {.pipeline_parallel_size = 3}).layers_per_gpu == 11);  // 11, 11, 10 -> 11
    CHECK(vllm_pp_partition(61, 2) == std::vector<std::uint64_t>{31, 30});
    CHECK(vllm_pp_partition(62, 4) == std::vector<std::uint64_t>{15, 16, 16, 15});
    CHECK(vllm_pp_partition(32, 3) == std::vector<std::uint64_t>{11, 11, 10});
  }
  SECTION("DeepSeek-V3: block 64, one head of 512 + 64, on every TP rank") {
    const auto ds = arch_of("deepseek-ai--DeepSeek-V3");
    const auto dl = vllm_kv_layout(ds, kv_cache_spec(ds, "auto", DType::BFloat16), {.tensor_parallel_size = 8});
    CHECK(dl.block_size == 64);
    CHECK(dl.page_bytes == 1 * 64 * 1 * 576 * 2);
    CHECK(dl.layers_per_gpu == 61);
  }
  SECTION("an fp8 cache halves the page") {
    CHECK(vllm_kv_layout(llama, kv_cache_spec(llama, "fp8", DType::BFloat16), {}).page_bytes == 16 * 8 * 128 * 2);
  }
}

TEST_CASE("hybrid sliding/full models share one block pool in groups (gpt-oss-120b, TP 4)", "[vllm][kv]") {
  // Reference worked example: 18 sliding (window 128) + 18 full layers, 8 / 4 = 2 KV heads per GPU, head 64,
  // block 16, max_num_batched_tokens 2048, max_model_len 16384, 45.32 GiB available: vLLM logged
  // 2,640,144 tokens and a concurrency of 284.25x.
  const auto a = arch_of("openai--gpt-oss-120b");
  const auto l = vllm_kv_layout(a, kv_cache_spec(a, "auto", DType::BFloat16), {.tensor_parallel_size = 4});
  CHECK_FALSE(l.uniform);
  CHECK(l.page_bytes == 8192);
  CHECK(l.group_size == 18);
  CHECK(l.num_groups == 2);
  const auto lo = vllm_kv_capacity(l, gib(45.315), 16384, 2048);
  const auto hi = vllm_kv_capacity(l, gib(45.325), 16384, 2048);
  CHECK(lo.kv_cache_tokens <= 2'640'144u);
  CHECK(hi.kv_cache_tokens >= 2'640'144u);
  // Per request: 1024 blocks (full) + ceil((128 - 1 + 2048) / 16) + 1 = 137 (sliding) = 1161.
  CHECK(lo.max_concurrency <= 284.255);
  CHECK(hi.max_concurrency >= 284.245);
}

TEST_CASE("hybrid attention + Mamba: state pages, and attention blocks raised to match them", "[vllm][kv][mamba]") {
  // Nemotron-H 56B: Mamba2 state per layer = conv (16384 + 2 x 8 x 256 = 20480 channels x 3) x 2 B
  // + SSM (256 heads x 64 x 256 state) x 2 B = 122,880 + 8,388,608 = 8,511,488 B. One attention token on one layer is
  // 2 x 8 KV heads x 128 x 2 B = 4096 B, so vLLM raises the block to 16 x ceil(8,511,488 / (16 x 4096)) = 2080 tokens,
  // and pads the Mamba page to the attention page: 2080 x 4096 = 8,519,680 B.
  const auto a = arch_of("nvidia--Nemotron-H-56B-Base-8K");
  const auto l = vllm_kv_layout(a, kv_cache_spec(a, "auto", DType::BFloat16), {});
  CHECK(l.mamba_page_bytes == 8'511'488u);
  CHECK(l.block_size == 2080);
  CHECK(l.page_bytes == 8'519'680u);
  CHECK(l.layers_per_gpu == 64);  // 10 attention + 54 Mamba layers
  CHECK(l.group_size == 10);
  CHECK(l.num_groups == 7);  // 1 attention group + ceil(54 / 10) Mamba groups
  // A request of 8192 tokens: 10 layers x ceil(8192 / 2080) = 4 blocks, plus one state page per Mamba layer.
  CHECK(vllm_request_bytes(l, 8192, 8192) == (10ULL * 4 + 54) * 8'519'680ULL);
  SECTION("Nemotron 3 Nano keeps its SSM state in float32, as its config says") {
    const auto nano = arch_of("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16");
    const auto nl = vllm_kv_layout(nano, kv_cache_spec(nano, "auto", DType::BFloat16), {});
    CHECK(nl.mamba_page_bytes == 6144ULL * 3 * 2 + 64ULL * 64 * 128 * 4);
    CHECK(nl.block_size == 2096);
  }
}

TEST_CASE("the capacity check and vLLM's estimated max_model_len", "[vllm][kv]") {
  const auto a = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto l = vllm_kv_layout(a, kv_cache_spec(a, "auto", DType::BFloat16), {});
  // 1000 blocks of 32 layers x 64 KiB pages: 16,000 tokens.
  const std::int64_t available = 1000LL * 32 * 65536;
  auto c = vllm_kv_capacity(l, available, 16000, 2048);
  CHECK(c.num_gpu_blocks == 1000);
  CHECK(c.kv_cache_tokens == 16000u);
  CHECK(c.fits);
  CHECK(c.max_concurrency == Approx(1.0));
  c = vllm_kv_capacity(l, available, 32000, 2048);
  CHECK_FALSE(c.fits);
  CHECK(c.estimated_max_model_len == 16000u);  // a multiple of the block size
  c = vllm_kv_capacity(l, available - 1, 32000, 2048);
  CHECK(c.estimated_max_model_len == 15984u);
  SECTION("no memory at all: nothing fits") {
    const auto none = vllm_kv_capacity(l, gib(-2.14), 16000, 2048);
    CHECK_FALSE(none.fits);
    CHECK(none.num_gpu_blocks == 0);
  }
}

TEST_CASE("every logged KV budget reproduces vLLM's logged blocks, tokens and concurrency", "[vllm][calibration]") {
  std::ifstream in(testsupport::test_data("vllm_calibration.jsonl"));
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    const json r = json::parse(line);
    const std::string id = r["id"];
    INFO(id << " " << r["model"].get<std::string>());
    if (r["kv_cache_gib"].is_null()) {
      WARN(id << ": no KV budget was logged (" << r["error_type"].dump()
              << "): needs the profile model of the full estimator, not checked here");
      continue;
    }
    const double kv_gib = r["kv_cache_gib"];
    const bool counts_logged = !r["gpu_blocks"].is_null() || !r["kv_cache_tokens"].is_null();
    const auto a = arch_of(config_dir(r["model"]));
    const std::string kv_dtype = r["kv_cache_dtype"].is_string() ? r["kv_cache_dtype"].get<std::string>() : "auto";
    VllmKvSettings s;
    s.block_size = r["block_size"].is_number() ? r["block_size"].get<std::uint64_t>() : 16;
    s.tensor_parallel_size = r["tensor_parallel_size"].is_number() ? r["tensor_parallel_size"].get<std::uint64_t>() : 1;
    s.max_num_batched_tokens =
        r["max_num_batched_tokens"].is_number() ? r["max_num_batched_tokens"].get<std::uint64_t>() : 2048;
    const auto l = vllm_kv_layout(a, kv_cache_spec(a, kv_dtype, DType::BFloat16), s);
    const std::uint64_t len = r["max_model_len"].is_number() ? r["max_model_len"].get<std::uint64_t>() : 16000;

    // The logged GiB figure has two decimals: the true budget lies within half a hundredth of it.
    const auto lo = vllm_kv_capacity(l, gib(kv_gib - 0.005), len, s.max_num_batched_tokens);
    const auto hi = vllm_kv_capacity(l, gib(kv_gib + 0.005), len, s.max_num_batched_tokens);
    if (kv_gib <= 0) {
      CHECK_FALSE(lo.fits);
      CHECK_FALSE(hi.fits);
      ++checked;
      continue;
    }
    if (!counts_logged) {
      WARN(id << ": only the KV budget was logged (no blocks or tokens): nothing to compare here");
      continue;
    }
    if (!r["gpu_blocks"].is_null()) {
      const auto blocks = r["gpu_blocks"].get<std::int64_t>();
      CHECK(lo.num_gpu_blocks <= blocks);
      CHECK(hi.num_gpu_blocks >= blocks);
    }
    if (!r["kv_cache_tokens"].is_null()) {
      const auto tokens = r["kv_cache_tokens"].get<std::uint64_t>();
      CHECK(lo.kv_cache_tokens <= tokens);
      CHECK(hi.kv_cache_tokens >= tokens);
    }
    if (!r["max_concurrency"].is_null()) {
      const double conc = r["max_concurrency"];  // logged with two decimals
      CHECK(lo.max_concurrency <= conc + 0.005);
      CHECK(hi.max_concurrency >= conc - 0.005);
    }
    if (r["error_type"] == "max_model_len_exceeds_kv_capacity") {
      CHECK_FALSE(hi.fits);
      // V0 logs no estimate; vLLM V1 would suggest the whole blocks that fit: blocks x block size.
      const double logged = r["gpu_blocks"].get<double>() * static_cast<double>(s.block_size);
      CHECK(std::fabs(static_cast<double>(hi.estimated_max_model_len) - logged) <= 0.02 * logged);
    } else {
      CHECK(lo.fits);
    }
    ++checked;
  }
  CHECK(checked == 7);  // 001, 002, 022, 024, 025, 026 with counts, and 034's negative budget
}

TEST_CASE("the longest length: the last one whose requests fit the budget, 0 to the ceiling", "[vllm][kv]") {
  const auto llama = arch_of("meta-llama--Meta-Llama-3.1-8B");
  const auto l = vllm_kv_layout(llama, kv_cache_spec(llama, "auto", DType::BFloat16), {});
  // 128 KiB per token in 16-token blocks: 1,000 blocks hold one 16,000-token request, or two of 8,000.
  const double budget = 1000.0 * 16 * 131072;
  CHECK(vllm_longest_length(l, 2048, 1, budget, 131072) == 16000);
  CHECK(vllm_longest_length(l, 2048, 2, budget, 131072) == 8000);
  CHECK(vllm_longest_length(l, 2048, 1, budget, 131072, 2.0) == 8000);  // a fragmentation factor of 2
  CHECK(vllm_longest_length(l, 2048, 1, budget, 4096) == 4096);         // capped by the ceiling
  CHECK(vllm_longest_length(l, 2048, 1, 0, 131072) == 0);
  CHECK(vllm_longest_length(l, 2048, 1, -1e9, 131072) == 0);
  // Whatever it returns fits, and one token more does not.
  const std::uint64_t len = vllm_longest_length(l, 2048, 3, 7.5e9, 131072);
  CHECK(static_cast<double>(vllm_request_bytes(l, len, 2048)) * 3 <= 7.5e9);
  CHECK(static_cast<double>(vllm_request_bytes(l, len + 1, 2048)) * 3 > 7.5e9);
}
