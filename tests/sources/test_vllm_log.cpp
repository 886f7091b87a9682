// The vLLM startup-log reader (vramcalc/sources/vllm_log.hpp) on whole logs: the synthetic ones in
// tests/data/vllm_logs/ (V0 v0.6, V1 v0.10.1, v0.26 with CUDA-graph profiling, a v0.11 start-up failing on
// max_model_len, TP 4 with interleaved ranks, a log without memory lines) and small inline ones for each wording.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"
#include "vramcalc/sources/vllm_log.hpp"

using namespace vramcalc;

namespace {

std::string log_text(const std::string& name) {
  std::ifstream in(testsupport::test_data("vllm_logs/" + name), std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

VllmLog read_log(const std::string& name) { return parse_vllm_log(log_text(name)); }

using Sizes = std::vector<std::uint64_t>;

Sizes default_v0_10_sizes() {
  Sizes out;
  for (std::uint64_t s = 512; s >= 8; s -= 8) out.push_back(s);
  out.insert(out.end(), {4, 2, 1});
  return out;
}

}  // namespace

TEST_CASE("vLLM log: a V0 v0.6.3 startup (Namespace args, the profiling results line, # GPU blocks)", "[vllm_log]") {
  const VllmLog log = read_log("v0_6_startup.log");
  const VllmLogSettings& s = log.settings;
  CHECK(s.model == "meta-llama/Llama-3.1-8B-Instruct");
  CHECK_FALSE(s.model_local);
  CHECK(s.version == "0.6.3.post1");
  CHECK(s.v0_engine);
  CHECK_FALSE(s.v1_engine);
  CHECK(s.tensor_parallel_size == 1u);
  CHECK(s.pipeline_parallel_size == 1u);
  CHECK(s.gpu_memory_utilization == 0.9);
  CHECK(s.max_model_len == 20000u);
  CHECK(s.max_num_seqs == 256u);
  CHECK_FALSE(s.max_num_batched_tokens);  // None in the Namespace: vLLM picks it
  CHECK(s.block_size == 16u);
  CHECK(s.dtype == "bfloat16");  // the engine's torch.bfloat16 wins over the args' 'auto'
  CHECK(s.kv_cache_dtype == "auto");
  CHECK_FALSE(s.quantization);
  CHECK(s.enforce_eager == false);
  CHECK_FALSE(s.cudagraph_mode);
  CHECK(s.cudagraph_capture_sizes.empty());
  const VllmLogFigures& f = log.figures;
  CHECK(f.weights_gib == 14.9888);  // "took 14.9888 GB": GiB in fact
  CHECK(f.non_torch_gib == 0.35);
  CHECK(f.kv_cache_gib == 3.81);
  CHECK(f.total_gpu_gib == 23.58);
  CHECK(f.gpu_blocks == 1952u);
  CHECK(f.max_concurrency == 1.56);
  CHECK(f.concurrency_tokens_per_request == 20000u);
  CHECK_FALSE(f.activation_peak_gib);    // peak_torch_memory is absolute (weights included): not an activation
  CHECK_FALSE(f.cuda_graph_actual_gib);  // "Graph capturing finished in 11 secs." states no size
  CHECK_FALSE(f.kv_cache_tokens);
  CHECK(log.engine_started);
  CHECK(log.error.kind == VllmLogFailure::None);
  CHECK(log.memory_lines == 4);
  CHECK(log.ranks == 1);
}

TEST_CASE("vLLM log: a V1 v0.10.1.1 startup (JSON compilation_config, no graph profiling)", "[vllm_log]") {
  const VllmLog log = read_log("v0_10_1_startup.log");
  const VllmLogSettings& s = log.settings;
  CHECK(s.model == "Qwen/Qwen2-7B-Instruct");
  CHECK(s.version == "0.10.1.1");
  CHECK(s.v1_engine);
  CHECK_FALSE(s.v0_engine);
  CHECK(s.platform == "cuda");
  CHECK(s.gpu_name == "NVIDIA A100-SXM4-80GB");  // the pasted "nvidia-smi -L"
  CHECK(s.tensor_parallel_size == 1u);
  CHECK(s.gpu_memory_utilization == 0.25);
  CHECK(s.max_model_len == 16384u);
  CHECK(s.max_num_batched_tokens == 2048u);  // "Chunked prefill is enabled with max_num_batched_tokens=2048."
  CHECK_FALSE(s.max_num_seqs);
  CHECK(s.dtype == "bfloat16");
  CHECK(s.kv_cache_dtype == "auto");
  CHECK(s.enforce_eager == false);
  CHECK(s.cudagraph_mode == "PIECEWISE");  // "cudagraph_mode":1
  CHECK(s.cudagraph_capture_sizes == default_v0_10_sizes());
  const VllmLogFigures& f = log.figures;
  CHECK(f.weights_gib == 14.2488);  // not "Loading weights took 3.98 seconds"
  CHECK(f.kv_cache_gib == 5.01);
  CHECK(f.kv_cache_tokens == 93872u);
  CHECK(f.max_concurrency == 5.73);
  CHECK(f.concurrency_tokens_per_request == 16384u);
  CHECK(f.cuda_graph_actual_gib == 0.5);
  CHECK(f.gpu_blocks == 5867u);  // the API server's num_gpu_blocks
  CHECK_FALSE(f.cuda_graph_estimated_gib);
  CHECK_FALSE(f.cudagraph_estimate_deducted);
  CHECK(log.engine_started);
  CHECK(log.error.kind == VllmLogFailure::None);
  CHECK(log.ranks == 1);
}

TEST_CASE("vLLM log: v0.26 with CUDA-graph profiling, the equivalence line and the free-memory summary", "[vllm_log]") {
  const VllmLog log = read_log("v0_26_cudagraph_profiling.log");
  const VllmLogSettings& s = log.settings;
  CHECK(s.model == "Qwen/Qwen3-8B-FP8");
  CHECK(s.version == "0.26.0");
  CHECK(s.v1_engine);
  CHECK(s.tensor_parallel_size == 1u);
  CHECK(s.data_parallel_size == 1u);
  CHECK(s.gpu_memory_utilization == 0.92);  // from the equivalence line and the free-memory summary
  CHECK(s.max_model_len == 32768u);
  CHECK(s.max_num_batched_tokens == 8192u);
  CHECK(s.max_num_seqs == 64u);
  CHECK(s.dtype == "bfloat16");
  CHECK(s.kv_cache_dtype == "fp8");
  CHECK(s.quantization == "fp8");
  CHECK(s.enforce_eager == false);
  CHECK(s.cudagraph_mode == "FULL_AND_PIECEWISE");  // <CUDAGraphMode.FULL_AND_PIECEWISE: (2, 1)>
  CHECK(s.cudagraph_capture_sizes == Sizes{1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64});
  const VllmLogFigures& f = log.figures;
  CHECK(f.weights_gib == 8.8);
  CHECK(f.activation_peak_gib == 2.31);
  CHECK(f.non_torch_gib == 0.14);
  CHECK(f.piecewise_graphs == 11u);
  CHECK(f.piecewise_largest == 64u);
  CHECK(f.full_graphs == 11u);
  CHECK(f.full_largest == 64u);
  CHECK(f.cuda_graph_estimated_gib == 0.61);
  CHECK(f.cuda_graph_actual_gib == 0.55);
  CHECK(f.cudagraph_estimate_deducted == true);
  CHECK(f.equivalent_utilization == 0.9063);
  CHECK(f.compensating_utilization == 0.9337);
  CHECK(f.kv_cache_gib == 28.98);
  CHECK(f.kv_cache_tokens == 422048u);
  CHECK(f.max_concurrency == 12.88);
  CHECK(f.free_gpu_gib == 43.91);
  CHECK(f.total_gpu_gib == 44.39);
  CHECK(f.requested_gib == 40.84);
  CHECK(log.engine_started);
  CHECK(log.memory_lines == 10);
}

TEST_CASE("vLLM log: a v0.11 start-up failing on max_model_len", "[vllm_log]") {
  const VllmLog log = read_log("v0_11_failed_max_seq_len.log");
  CHECK_FALSE(log.engine_started);
  CHECK(log.error.kind == VllmLogFailure::MaxSeqLen);  // the ValueError replaces "EngineCore failed to start."
  CHECK(log.error.max_seq_len == 131072u);
  CHECK(log.error.needed_kv_gib == 16.0);
  CHECK(log.error.available_kv_gib == 4.38);
  CHECK(log.error.estimated_max_model_len == 35872u);
  CHECK(log.error.line.rfind("ValueError: To serve at least one request with the models's max seq len (131072)", 0) ==
        0);
  CHECK(log.figures.weights_gib == 14.9889);
  CHECK(log.figures.kv_cache_gib == 4.38);
  CHECK_FALSE(log.figures.kv_cache_tokens);
  const VllmLogSettings& s = log.settings;
  CHECK(s.version == "0.11.0");
  CHECK(s.max_model_len == 131072u);  // "Using max model len 131072" (the model's own maximum)
  CHECK(s.gpu_memory_utilization == 0.9);
  CHECK(s.cudagraph_mode == "FULL_AND_PIECEWISE");  // "cudagraph_mode":[2,1]
  CHECK(s.cudagraph_capture_sizes.size() == 67);
  CHECK(log.memory_lines >= 3);
}

TEST_CASE("vLLM log: TP 4, four workers interleaved, ANSI colours, docker timestamps, CRLF", "[vllm_log]") {
  const std::string text = log_text("tp4_interleaved.log");
  REQUIRE(text.find('\x1b') != std::string::npos);
  REQUIRE(text.find("\r\n") != std::string::npos);
  const VllmLog log = parse_vllm_log(text);
  CHECK(log.ranks == 4);
  // Rank 0's figures, whatever order the ranks logged in (rank 2 first; rank 1's weights and rank 3's KV differ).
  CHECK(log.figures.weights_gib == 14.2536);
  CHECK(log.figures.kv_cache_gib == 52.11);
  CHECK(log.figures.cuda_graph_actual_gib == 0.84);
  CHECK(log.figures.kv_cache_tokens == 2276720u);
  CHECK(log.figures.max_concurrency == 55.58);
  CHECK(log.figures.gpu_blocks == 142295u);
  const VllmLogSettings& s = log.settings;
  CHECK(s.model == "Qwen/Qwen3-30B-A3B");
  CHECK(s.version == "0.10.0");
  CHECK(s.tensor_parallel_size == 4u);
  CHECK(s.enable_expert_parallel == true);
  CHECK(s.gpu_memory_utilization == 0.9);
  CHECK(s.max_model_len == 40960u);
  CHECK(s.max_num_batched_tokens == 8192u);
  CHECK(s.max_num_seqs == 128u);
  CHECK(s.block_size == 16u);
  CHECK(s.gpu_name == "NVIDIA H100 80GB HBM3");  // the fused-MoE config notice's device_name
  CHECK(s.cudagraph_capture_sizes == default_v0_10_sizes());
  CHECK(log.engine_started);
  // Evidence keeps vLLM's own prefixes, without the colour codes and docker's timestamps.
  REQUIRE(!log.evidence.empty());
  for (const auto& e : log.evidence) {
    CHECK(e.find('\x1b') == std::string::npos);
    CHECK(e.find('\r') == std::string::npos);
    CHECK(e.rfind("2025-08-02T", 0) == std::string::npos);
  }
  CHECK(log.evidence.back().find("num_gpu_blocks is: 142295") != std::string::npos);
}

TEST_CASE("vLLM log: a log that stops before loading has settings but no memory lines", "[vllm_log]") {
  const VllmLog log = read_log("no_memory_lines.log");
  CHECK(log.memory_lines == 0);
  CHECK_FALSE(log.engine_started);
  CHECK(log.error.kind == VllmLogFailure::None);
  CHECK(log.settings.model == "<local>/my-finetune");  // a local directory: its last component, the user redacted
  CHECK(log.settings.model_local);
  CHECK(log.settings.enforce_eager == true);
  CHECK(log.settings.speculative_config == "{'method': 'ngram', 'num_speculative_tokens': 4, 'prompt_lookup_max': 4}");
  CHECK(log.settings.max_model_len == 8192u);
  for (const auto& e : log.evidence) CHECK(e.find("carol") == std::string::npos);
}

TEST_CASE("vLLM log: text that is not a vLLM log", "[vllm_log]") {
  for (const std::string text :
       {std::string(), std::string("\n\n\r\n"), std::string("hello world\n"),
        std::string("2024-05-01T10:00:00.000000Z  INFO text_generation_launcher: Args { model_id: \"x\" }\n"
                    "2024-05-01T10:00:05.000000Z  INFO text_generation_router: Connected\n"),
        std::string("\xff\xfe\x00\x01 binary \x1b[31m red", 20)}) {
    const VllmLog log = parse_vllm_log(text);
    CHECK(log.memory_lines == 0);
    CHECK_FALSE(log.engine_started);
    CHECK(log.error.kind == VllmLogFailure::None);
    CHECK(log.ranks == 1);
  }
}

TEST_CASE("vLLM log: container log formats around the same line", "[vllm_log]") {
  const std::string line =
      "(EngineCore pid=7) INFO 05-01 19:58:31 [gpu_worker.py:440] Available KV cache memory: 3.07 GiB";
  for (const std::string wrapped : {
           "2025-05-01T19:58:31.123456789Z " + line,           // docker logs -t
           "2025-05-01T19:58:31.123456789+00:00 " + line,      // kubectl logs --timestamps
           "2025-05-01T19:58:31.123456789Z stdout F " + line,  // CRI (containerd) file
           "vllm-1  | " + line,                                // docker compose
           "vllm-1  | 2025-05-01T19:58:31.123Z " + line,       // compose with timestamps
           "[pod/vllm-0/vllm] " + line,                        // kubectl --prefix
           "May 01 19:58:31 gpu-host docker[1234]: " + line,   // syslog / journalctl
           "{\"log\":\"" + line + "\\n\",\"stream\":\"stdout\",\"time\":\"2025-05-01T19:58:31Z\"}",  // json-file
           "\x1b[1;36m" + line + "\x1b[0m",                                                          // colour
           "[1;36m" + line + "[0;0m",  // colour whose ESC a paste lost
       }) {
    INFO(wrapped);
    const VllmLog log = parse_vllm_log(wrapped);
    CHECK(log.figures.kv_cache_gib == 3.07);
    REQUIRE(log.evidence.size() == 1);
    CHECK(log.evidence[0] == line);
  }
}

TEST_CASE("vLLM log: GPU KV cache size is a token count, never a capacity in bytes", "[vllm_log]") {
  const VllmLog log = parse_vllm_log(
      "GPU KV cache size: 79,648 tokens\nMaximum concurrency for 65,536 tokens per "
      "request: 4.03x\n");
  CHECK(log.figures.kv_cache_tokens == 79648u);
  CHECK_FALSE(log.figures.kv_cache_gib);
  CHECK(log.figures.max_concurrency == 4.03);
  CHECK(log.figures.concurrency_tokens_per_request == 65536u);
  // A size that is not followed by "tokens" is no token count either.
  CHECK_FALSE(parse_vllm_log("GPU KV cache size: 12.5 GiB").figures.kv_cache_tokens);
}

TEST_CASE("vLLM log: the V0 v0.6.5+ summary and the V1 debug line", "[vllm_log]") {
  const VllmLog v0 = parse_vllm_log(
      "INFO 12-10 08:01:02 worker.py:237] Memory profiling takes 4.20 seconds\n"
      "INFO 12-10 08:01:02 worker.py:237] the current vLLM instance can use total_gpu_memory (79.19GiB) x "
      "gpu_memory_utilization (0.90) = 71.27GiB\n"
      "INFO 12-10 08:01:02 worker.py:237] model weights take 14.99GiB; non_torch_memory takes 0.13GiB; PyTorch "
      "activation peak memory takes 1.19GiB; the rest of the memory reserved for KV Cache is 54.96GiB.\n"
      "INFO 12-10 08:01:02 executor_base.py:110] # cuda blocks: 28139, # CPU blocks: 2048\n");
  CHECK(v0.figures.total_gpu_gib == 79.19);
  CHECK(v0.settings.gpu_memory_utilization == 0.9);
  CHECK(v0.figures.requested_gib == 71.27);
  CHECK(v0.figures.weights_gib == 14.99);
  CHECK(v0.figures.non_torch_gib == 0.13);
  CHECK(v0.figures.activation_peak_gib == 1.19);
  CHECK(v0.figures.kv_cache_gib == 54.96);
  CHECK(v0.figures.gpu_blocks == 28139u);
  CHECK(v0.settings.v0_engine);
  const VllmLog debug = parse_vllm_log(
      "(EngineCore_0 pid=82) DEBUG 08-27 21:03:11 [gpu_worker.py:270] Memory profiling takes 5.21 seconds. Total non "
      "KV cache memory: 15.47GiB; torch peak memory increase: 0.38GiB; non-torch forward increase memory: 0.09GiB; "
      "weights memory: 15.00GiB.");
  CHECK(debug.figures.non_kv_total_gib == 15.47);
  CHECK(debug.figures.activation_peak_gib == 0.38);
  CHECK(debug.figures.non_torch_gib == 0.09);
  CHECK(debug.figures.weights_gib == 15.0);
}

TEST_CASE("vLLM log: failures by kind, and only before the engine started", "[vllm_log]") {
  const VllmLog oom = parse_vllm_log(
      "(Worker_TP0 pid=5) ERROR 06-01 10:00:00 [core.py:1] torch.OutOfMemoryError: CUDA out of memory. Tried to "
      "allocate 224.00 MiB. GPU 0 has a total capacity of 79.19 GiB of which 141.06 MiB is free.");
  CHECK(oom.error.kind == VllmLogFailure::OutOfMemory);
  CHECK(oom.error.oom_allocation_gib == Approx(224.0 / 1024));
  CHECK(oom.figures.total_gpu_gib == 79.19);
  CHECK(oom.memory_lines == 1);
  CHECK(oom.error.line.rfind("torch.OutOfMemoryError: CUDA out of memory.", 0) == 0);

  const VllmLog mamba = parse_vllm_log(
      "ValueError: max_num_seqs (256) exceeds available Mamba cache blocks (184). Each decode sequence requires one "
      "Mamba cache block, so CUDA graph capture cannot proceed.");
  CHECK(mamba.error.kind == VllmLogFailure::MambaBlocks);
  CHECK(mamba.error.mamba_cache_blocks == 184u);
  CHECK(mamba.settings.max_num_seqs == 256u);

  const VllmLog no_kv = parse_vllm_log(
      "(EngineCore_DP0 pid=9) ERROR 08-19 05:56:57 [core.py:1346] ValueError: No available memory for the cache "
      "blocks. Try increasing `gpu_memory_utilization` when initializing the engine.");
  CHECK(no_kv.error.kind == VllmLogFailure::NoKvMemory);

  // A negative available KV cache with no start is that failure even when the excerpt stops before the error.
  const VllmLog negative = parse_vllm_log("Available KV cache memory: -2.14 GiB\nEngineCore failed to start.");
  CHECK(negative.error.kind == VllmLogFailure::NoKvMemory);
  CHECK(negative.figures.kv_cache_gib == -2.14);

  const VllmLog other = parse_vllm_log("Model loading took 1.5 GiB\nRuntimeError: Engine core initialization failed.");
  CHECK(other.error.kind == VllmLogFailure::Other);

  const VllmLog free_short = parse_vllm_log(
      "ValueError: Free memory on device (12.3/79.19 GiB) on startup is less than desired GPU memory utilization "
      "(0.9, 71.27 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.");
  CHECK(free_short.error.kind == VllmLogFailure::OutOfMemory);
  CHECK(free_short.figures.free_gpu_gib == 12.3);
  CHECK(free_short.figures.total_gpu_gib == 79.19);

  // An OOM while serving, after the engine started, is not a start-up failure.
  const VllmLog serving = parse_vllm_log(
      "Available KV cache memory: 5.0 GiB\nINFO:     Application startup complete.\n"
      "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.");
  CHECK(serving.engine_started);
  CHECK(serving.error.kind == VllmLogFailure::None);
  // Nor is a warning that merely mentions running out of memory.
  CHECK(parse_vllm_log("CUDA graphs can take additional 1~3 GiB memory per GPU. If you are running out of memory, "
                       "consider decreasing `gpu_memory_utilization`.")
            .error.kind == VllmLogFailure::None);
}

TEST_CASE("vLLM log: the CUDA-graph profiling notices of each release", "[vllm_log]") {
  const VllmLog disabled = parse_vllm_log(
      "CUDA graph memory profiling is disabled (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0). Without it, CUDA graph "
      "memory is not accounted for during KV cache allocation, which may require lowering --gpu-memory-utilization to "
      "avoid OOM. Consider re-enabling it (the default as of v0.21.0) and increasing --gpu-memory-utilization from "
      "0.9300 to 0.9683.");
  CHECK(disabled.figures.cudagraph_estimate_deducted == false);
  CHECK(disabled.settings.gpu_memory_utilization == 0.93);
  CHECK(disabled.figures.compensating_utilization == 0.9683);
  const VllmLog pre_default = parse_vllm_log(
      "In v0.19, CUDA graph memory profiling will be enabled by default (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1), "
      "which more accurately accounts for CUDA graph memory during KV cache allocation. To try it now, set "
      "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1 and increase --gpu-memory-utilization from 0.8500 to 0.8582 to "
      "maintain the same effective KV cache size.");
  CHECK(pre_default.figures.cudagraph_estimate_deducted == false);
  CHECK(pre_default.settings.gpu_memory_utilization == 0.85);
  CHECK(pre_default.figures.compensating_utilization == 0.8582);
}

TEST_CASE("vLLM log: settings from a Hugging Face cache path, a hybrid block size, DP ranks", "[vllm_log]") {
  const VllmLog log = parse_vllm_log(
      "INFO 02-19 10:54:09 llm_engine.py:237] Initializing an LLM engine (v0.6.3.post1) with config: "
      "model='/root/.cache/huggingface/hub/models--thesven--Mistral-7B-Instruct-v0.3-GPTQ/snapshots/2d24a7f4', "
      "speculative_config=None, dtype=torch.float16, max_seq_len=2048, tensor_parallel_size=1, quantization=gptq, "
      "enforce_eager=True, kv_cache_dtype=auto\n"
      "(EngineCore pid=3) INFO 05-01 19:56:00 [config.py:1] Setting attention block size to 2096 tokens to ensure "
      "that attention page size is >= mamba page size.\n");
  CHECK(log.settings.model == "thesven/Mistral-7B-Instruct-v0.3-GPTQ");
  CHECK_FALSE(log.settings.model_local);
  CHECK(log.settings.quantization == "gptq");
  CHECK(log.settings.dtype == "float16");
  CHECK(log.settings.enforce_eager == true);
  CHECK(log.settings.block_size == 2096u);
  CHECK(log.settings.v0_engine);

  // Data-parallel engines: EngineCore_DP0's figures, not DP1's, though DP1 logged first.
  const VllmLog dp = parse_vllm_log(
      "(EngineCore_DP1 pid=20) INFO 01-01 00:00:00 [kv_cache_utils.py:1] GPU KV cache size: 1,000 tokens\n"
      "(EngineCore_DP0 pid=10) INFO 01-01 00:00:00 [kv_cache_utils.py:1] GPU KV cache size: 2,000 tokens\n"
      "(Worker_DP1_TP0 pid=21) INFO 01-01 00:00:00 [gpu_worker.py:1] Available KV cache memory: 1.0 GiB\n"
      "(Worker_DP0_TP0 pid=11) INFO 01-01 00:00:00 [gpu_worker.py:1] Available KV cache memory: 2.0 GiB\n");
  CHECK(dp.figures.kv_cache_tokens == 2000u);
  CHECK(dp.figures.kv_cache_gib == 2.0);
  CHECK(dp.ranks == 2);

  // A V0 driver (no prefix) is rank 0; its VllmWorkerProcess workers are not.
  const VllmLog v0tp = parse_vllm_log(
      "(VllmWorkerProcess pid=362296) INFO 10-07 10:20:18 model_runner.py:1060] Loading model weights took 1.5875 GB\n"
      "INFO 10-07 10:20:17 model_runner.py:1060] Loading model weights took 1.5874 GB\n");
  CHECK(v0tp.figures.weights_gib == 1.5874);
  CHECK(v0tp.ranks == 2);

  // Ray workers on other nodes: the driver's figures, every worker counted.
  const VllmLog ray = parse_vllm_log(
      "(RayWorkerWrapper pid=4321, ip=10.0.0.3) INFO 09-01 12:00:00 model_runner.py:1067] Loading model weights took "
      "7.5100 GB\n"
      "INFO 09-01 12:00:01 model_runner.py:1067] Loading model weights took 7.5000 GB\n"
      "(RayWorkerWrapper pid=4322, ip=10.0.0.4) INFO 09-01 12:00:02 model_runner.py:1067] Loading model weights took "
      "7.5200 GB\n");
  CHECK(ray.figures.weights_gib == 7.5);
  CHECK(ray.ranks == 3);
}

TEST_CASE("vLLM log: evidence is capped at 200 lines of 1000 bytes", "[vllm_log]") {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "Model loading took " + std::to_string(i) + ".5 GiB memory\n";
  text += "Available KV cache memory: 1.0 GiB " + std::string(5000, 'x') + "\n";
  const VllmLog log = parse_vllm_log(text);
  CHECK(log.evidence.size() == 200);
  CHECK(log.memory_lines == 501);
  CHECK(log.figures.weights_gib == 0.5);  // the first
  const VllmLog long_line = parse_vllm_log("Available KV cache memory: 1.0 GiB " + std::string(5000, 'x'));
  REQUIRE(long_line.evidence.size() == 1);
  CHECK(long_line.evidence[0].size() == 1000);
}
