// The memory figures, errors and start-up markers of a vLLM log line, by message text (vllm_log_internal.hpp).
//
// Wordings, by release (a line may hold several: newer builds join the KV size and the concurrency, and the
// tabulations people paste join many with ';'):
//   weights     V0 "Loading model weights took X GB" (GiB in fact); "Model loading took X GiB [memory] and Y seconds"
//               (also "took:"); V0/V1 summary "model weights take X GiB"; debug "weights memory: X GiB";
//               v0.11/v0.26.0 "X GiB for weight"
//   activation  debug "torch peak memory increase: X GiB"; "PyTorch activation peak memory takes X GiB";
//               v0.11+ "X GiB for peak activation"; tabulated "Peak activation X GiB"
//   non-torch   V0 "non_torch_memory=X GiB"; "non_torch_memory takes X GiB"; debug "non-torch forward increase
//               memory: X GiB"; "X GiB for non-torch memory"; tabulated "Non-torch X GiB"
//   consumed    v0.26.1+ "X GiB for consumed memory (weights + non-torch)"; debug "Total non KV cache memory: X GiB"
//   graphs      "Graph capturing finished in N secs, took X GiB"; v0.20+ "Profiling CUDA graph memory: PIECEWISE=N
//               (largest=M), FULL=K (largest=J)", "Estimated CUDA graph memory: X GiB total", "CUDA graph pool memory:
//               X GiB (actual), Y GiB (estimated)", "... is equivalent to --gpu-memory-utilization=U ..." (also the
//               "disabled" and pre-default "In v0.19 ... will be enabled by default" notices); "X GiB for CUDAGraph
//               memory"; tabulated "CUDAGraph X GiB"
//   KV          "Available KV cache memory: X GiB"; "the rest of the memory reserved for KV Cache is X GiB"; V0
//               "kv_cache_size=X GiB"; v0.26+ "Current kv cache memory in use is X GiB"; "GPU KV cache size: N tokens"
//               (a token count, never bytes); "Maximum concurrency for L tokens per request: X.XXx"; V0 "# GPU
//               blocks: N, # CPU blocks: M" / "# cuda blocks: N"; API server "num_gpu_blocks is: N"
//   budget      V0 "total_gpu_memory=T GiB ... gpu_memory_utilization=U"; "total_gpu_memory (T GiB) x
//               gpu_memory_utilization (U) = R GiB"; v0.11+ "Free memory on device (F/T GiB) on startup. Desired GPU
//               memory utilization is (U, R GiB)"; torch's OOM "total capacity of T GiB"
//   errors      "No available memory for the cache blocks"; "To serve at least one request with the model(s)'s max
//               seq len (N), (X GiB KV cache is needed, ... available KV cache memory (Y GiB) ... estimated maximum
//               model length is E"; V0 "The model's max seq len (N) is larger than the maximum number of tokens that
//               can be stored in KV cache (M)"; "max_num_seqs (S) exceeds available Mamba cache blocks (B)"; "CUDA
//               out of memory", "OutOfMemoryError", "Tried to allocate X GiB"; "Free memory on device ... is less
//               than desired GPU memory utilization" (counted as out of memory); "EngineCore failed to start",
//               "Engine core initialization failed" (other)
//   started     "Starting vLLM API server", "Application startup complete", "Uvicorn running on", "init engine
//               (profile, create kv cache, warmup model) took"
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sources/vllm_log_internal.hpp"

namespace vramcalc::vllm_log_detail {

namespace {

bool has(std::string_view t, std::string_view needle) { return t.find(needle) != std::string_view::npos; }

// Sets `slot` from `value` when it is empty; returns whether `value` held something.
template <typename T>
bool put(std::optional<T>& slot, const std::optional<T>& value) {
  if (!value) return false;
  if (!slot) slot = value;
  return true;
}

// The first of several GiB figures after (or, for a leading ' ', before) their anchors.
std::optional<double> after_any(std::string_view t, std::initializer_list<std::string_view> anchors) {
  for (const auto a : anchors)
    if (const auto v = number_after(t, a, true)) return v;
  return std::nullopt;
}

std::optional<double> before_any(std::string_view t, std::initializer_list<std::string_view> anchors) {
  for (const auto a : anchors)
    if (const auto v = number_before_anchor(t, a)) return v;
  return std::nullopt;
}

// Weights, activation, non-torch and the non-KV total.
bool model_figures(std::string_view t, LineFacts& f) {
  VllmLogFigures& g = f.figures;
  bool any = false;
  if (put(g.weights_gib, number_after(t, "Loading model weights took", true))) any = f.v0_wording = true;
  any |= put(g.weights_gib, after_any(t, {"Model loading took", "model weights take", "weights memory:"}));
  any |= put(g.weights_gib, before_any(t, {" GiB for weight,", " GiB for weight."}));
  any |= put(g.activation_peak_gib,
             after_any(t, {"torch peak memory increase:", "PyTorch activation peak memory takes", "Peak activation"}));
  any |= put(g.activation_peak_gib, before_any(t, {" GiB for peak activation"}));
  any |= put(g.non_torch_gib, after_any(t, {"non_torch_memory takes",
                                            "non_torch_memory=", "non-torch forward increase memory:", "Non-torch"}));
  any |= put(g.non_torch_gib, before_any(t, {" GiB for non-torch memory"}));
  any |= put(g.consumed_gib, before_any(t, {" GiB for consumed memory"}));
  any |= put(g.non_kv_total_gib, after_any(t, {"Total non KV cache memory:"}));
  f.per_gpu |= any;
  return any;
}

// "Profiling CUDA graph memory: PIECEWISE=N (largest=M), FULL=K (largest=J)".
bool graph_counts(std::string_view t, VllmLogFigures& g) {
  const std::size_t at = t.find("Profiling CUDA graph memory:");
  if (at == std::string_view::npos) return false;
  const std::string_view rest = t.substr(at);
  bool any = false;
  if (const std::size_t p = rest.find("PIECEWISE="); p != std::string_view::npos) {
    any |= put(g.piecewise_graphs, count_after(rest.substr(p), "PIECEWISE="));
    put(g.piecewise_largest, count_after(rest.substr(p), "largest="));
  }
  if (const std::size_t p = rest.find("FULL="); p != std::string_view::npos) {
    any |= put(g.full_graphs, count_after(rest.substr(p), "FULL="));
    put(g.full_largest, count_after(rest.substr(p), "largest="));
  }
  return any;
}

// The CUDA-graph profiling notices: the utilization they quote, its equivalent, the compensating value.
bool graph_notices(std::string_view t, LineFacts& f) {
  VllmLogFigures& g = f.figures;
  bool any = false;
  if (has(t, "CUDA graph memory profiling is enabled")) any |= put(g.cudagraph_estimate_deducted, {true});
  if (has(t, "CUDA graph memory profiling is disabled") ||
      has(t, "CUDA graph memory profiling will be enabled by default"))
    any |= put(g.cudagraph_estimate_deducted, {false});
  if (const std::size_t at = t.find("is equivalent to"); at != std::string_view::npos) {
    std::string_view rest = t.substr(at + 16);
    for (const std::string_view skip : {" --gpu-memory-utilization=", " "})
      if (rest.substr(0, skip.size()) == skip) rest.remove_prefix(skip.size());
    std::size_t i = 0;
    any |= put(g.equivalent_utilization, read_number(rest, i));
    put(f.implied.gpu_memory_utilization, number_after(t.substr(0, at), "--gpu-memory-utilization=", false));
    put(g.compensating_utilization, number_after(t, "increase --gpu-memory-utilization to", false));
    put(g.compensating_utilization, number_after(t, "increase to", false));
  }
  if (const std::size_t at = t.find("--gpu-memory-utilization from"); at != std::string_view::npos) {
    std::string_view rest = t.substr(at + 29);
    std::size_t i = 1;
    if (put(f.implied.gpu_memory_utilization, read_number(rest, i))) {
      any = true;
      put(g.compensating_utilization, number_after(rest.substr(i), "to", false));
    }
  }
  return any;
}

bool graph_figures(std::string_view t, LineFacts& f) {
  VllmLogFigures& g = f.figures;
  bool any = put(g.cuda_graph_estimated_gib, after_any(t, {"Estimated CUDA graph memory:"}));
  if (const std::size_t at = t.find("Graph capturing finished in"); at != std::string_view::npos)
    any |= put(g.cuda_graph_actual_gib, number_after(t.substr(at), ", took", true));
  if (put(g.cuda_graph_actual_gib, after_any(t, {"CUDA graph pool memory:"}))) {
    any = true;
    put(g.cuda_graph_estimated_gib, before_any(t, {" GiB (estimated)"}));
  }
  any |= put(g.cuda_graph_actual_gib, before_any(t, {" GiB for CUDAGraph memory"}));
  any |= put(g.cuda_graph_actual_gib, after_any(t, {"CUDAGraph "}));
  any |= graph_counts(t, g);
  any |= graph_notices(t, f);
  f.per_gpu |= any;
  if (any && (has(t, "Estimated CUDA graph memory") || has(t, "CUDA graph pool memory"))) f.v1_wording = true;
  return any;
}

// KV memory, tokens, blocks and concurrency.
bool kv_figures(std::string_view t, LineFacts& f) {
  VllmLogFigures& g = f.figures;
  bool per_gpu = false;
  if (put(g.kv_cache_gib, after_any(t, {"Available KV cache memory:"}))) per_gpu = f.v1_wording = true;
  per_gpu |= put(g.kv_cache_gib, after_any(t, {"the rest of the memory reserved for KV Cache is",
                                               "kv_cache_size=", "Current kv cache memory in use is"}));
  bool any = per_gpu;
  if (const std::size_t at = t.find("GPU KV cache size:"); at != std::string_view::npos) {
    std::string_view rest = t.substr(at + 18);
    std::size_t i = rest.empty() || rest[0] != ' ' ? 0 : 1;
    if (const auto tokens = read_count(rest, i); tokens && rest.substr(i, 7) == " tokens") {
      any |= put(g.kv_cache_tokens, tokens);
      f.v1_wording = true;
    }
  }
  if (const std::size_t at = t.find("Maximum concurrency for"); at != std::string_view::npos) {
    const std::string_view rest = t.substr(at);
    const auto tokens = count_after(rest, "Maximum concurrency for");
    const auto x = number_after(rest, "tokens per request:", false);
    if (tokens && x) {
      any = true;
      put(g.concurrency_tokens_per_request, tokens);
      put(g.max_concurrency, x);
      put(f.implied.max_model_len, tokens);
    }
  }
  if (put(g.gpu_blocks, count_after(t, "GPU blocks:")) || put(g.gpu_blocks, count_after(t, "# cuda blocks:")))
    any = f.v0_wording = true;
  if (put(g.gpu_blocks, count_after(t, "num_gpu_blocks is:"))) any = f.v1_wording = true;
  f.per_gpu |= per_gpu;
  return any;
}

// "Free memory on device (F/T GiB)" / "Free memory on device: F/T GiB".
bool free_memory(std::string_view t, LineFacts& f) {
  const std::size_t at = t.find("Free memory on device");
  if (at == std::string_view::npos) return false;
  std::string_view rest = t.substr(at + 21);
  std::size_t i = 0;
  while (i < rest.size() && i < 3 && (rest[i] == ' ' || rest[i] == '(' || rest[i] == ':')) ++i;
  const auto free = read_number(rest, i);
  if (!free || i >= rest.size() || rest[i] != '/') return false;
  const auto total = gib_at(rest, i + 1);
  if (!total) return false;
  put(f.figures.free_gpu_gib, free);
  put(f.figures.total_gpu_gib, total);
  f.per_gpu = true;
  return true;
}

// The budget: total, utilization, requested.
bool budget_figures(std::string_view t, LineFacts& f) {
  VllmLogFigures& g = f.figures;
  bool any = free_memory(t, f);
  if (put(g.total_gpu_gib, after_any(t, {"total_gpu_memory="}))) {
    any = true;
    put(f.implied.gpu_memory_utilization, number_after(t, "gpu_memory_utilization=", false));
    if (has(t, "Memory profiling results:")) f.v0_wording = true;
  }
  if (const std::size_t at = t.find("total_gpu_memory ("); at != std::string_view::npos) {
    const std::string_view rest = t.substr(at);
    any |= put(g.total_gpu_gib, after_any(rest, {"total_gpu_memory ("}));
    put(f.implied.gpu_memory_utilization, number_after(rest, "gpu_memory_utilization (", false));
    if (const std::size_t eq = rest.find(") = "); eq != std::string_view::npos)
      put(g.requested_gib, gib_at(rest, eq + 4));
  }
  for (const std::string_view anchor : {"Desired GPU memory utilization is", "Desired GPU utilization:"}) {
    const std::size_t at = t.find(anchor);
    if (at == std::string_view::npos) continue;
    std::string_view rest = t.substr(at + anchor.size());
    std::size_t i = 0;
    while (i < rest.size() && i < 3 && (rest[i] == ' ' || rest[i] == '(')) ++i;
    if (!put(f.implied.gpu_memory_utilization, read_number(rest, i))) continue;
    for (int k = 0; k < 3 && i < rest.size() && (rest[i] == ',' || rest[i] == ' ' || rest[i] == '('); ++k) ++i;
    any |= put(g.requested_gib, gib_at(rest, i));
  }
  return any;
}

bool memory_error(std::string_view t, LineFacts& f) {
  VllmLogError& e = f.error;
  if (has(t, "No available memory for the cache blocks")) {
    e.kind = VllmLogFailure::NoKvMemory;
  } else if (has(t, "To serve at least one request with the model")) {
    e.kind = VllmLogFailure::MaxSeqLen;
    e.max_seq_len = count_after(t, "max seq len");
    e.needed_kv_gib = number_before_anchor(t, " GiB KV cache is needed");
    e.available_kv_gib = number_after(t, "available KV cache memory", true);
    e.estimated_max_model_len = count_after(t, "estimated maximum model length is");
    put(f.implied.max_model_len, e.max_seq_len);
  } else if (has(t, "max seq len") && has(t, "stored in KV cache")) {
    e.kind = VllmLogFailure::MaxSeqLen;
    e.max_seq_len = count_after(t, "max seq len");
    e.kv_tokens_capacity = count_after(t, "stored in KV cache");
    put(f.implied.max_model_len, e.max_seq_len);
    f.v0_wording = true;
  } else if (has(t, "exceeds available Mamba cache blocks")) {
    e.kind = VllmLogFailure::MambaBlocks;
    e.mamba_cache_blocks = count_after(t, "Mamba cache blocks");
    put(f.implied.max_num_seqs, count_after(t, "max_num_seqs"));
  } else if (has(t, "CUDA out of memory") || has(t, "HIP out of memory") || has(t, "OutOfMemoryError") ||
             has(t, "CUDA error: out of memory") || has(t, "Tried to allocate")) {
    e.kind = VllmLogFailure::OutOfMemory;
    e.oom_allocation_gib = number_after(t, "Tried to allocate", true);
    put(f.figures.total_gpu_gib, number_after(t, "total capacity of", true));
  } else if (has(t, "is less than desired GPU memory utilization")) {
    e.kind = VllmLogFailure::OutOfMemory;
  } else {
    return false;
  }
  return true;
}

bool other_error(std::string_view t, LineFacts& f) {
  for (const std::string_view anchor :
       {"EngineCore failed to start", "Engine core initialization failed", "Engine process failed to start"}) {
    if (has(t, anchor)) {
      f.error.kind = VllmLogFailure::Other;
      return true;
    }
  }
  return false;
}

bool started(std::string_view t) {
  for (const std::string_view anchor : {"Starting vLLM API server", "Application startup complete",
                                        "Uvicorn running on", "init engine (profile, create kv cache, warmup model)"})
    if (has(t, anchor)) return true;
  return false;
}

}  // namespace

bool read_line_facts(std::string_view message, LineFacts& facts) {
  bool any = model_figures(message, facts);
  any |= graph_figures(message, facts);
  any |= kv_figures(message, facts);
  any |= budget_figures(message, facts);
  facts.memory = any;
  if (memory_error(message, facts)) facts.memory = true;
  else if (other_error(message, facts)) any = true;
  facts.started = started(message);
  return any || facts.memory || facts.started;
}

}  // namespace vramcalc::vllm_log_detail
