// The settings lines of a vLLM log (vllm_log_internal.hpp):
//   "non-default args: {'model': 'x', 'max_model_len': 65536, 'compilation_config': {...}, ...}" (v0.8+, a Python
//     dict repr: single quotes, True/False/None, nested dicts, enum reprs);
//   "args: Namespace(model='x', tensor_parallel_size=1, ...)" (V0 API server);
//   "Initializing a V1 LLM engine (v0.10.1.1) with config: model='x', dtype=torch.bfloat16, max_seq_len=16384, ...,
//     compilation_config={...}" (compilation_config JSON in v0.10, a Python dict later), V0's "Initializing an LLM
//     engine (v0.6.3.post1) with config: ..." and "Initializing a V0 LLM engine (v0.8.5) with config: ...";
//   "vLLM API server version 0.11.0"; "Using max model len 131072"; "Chunked prefill is enabled with
//     max_num_batched_tokens=2048."; "Setting attention block size to 2096 tokens ..." (hybrid models);
//   "Automatically detected platform cuda."; GPU names ("device_name=NVIDIA_H100_80GB_HBM3" in the fused-MoE config
//     notice, "GPU 0: NVIDIA H100 80GB HBM3", an nvidia-smi table row, "AMD Instinct MI300X").
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sources/vllm_log_internal.hpp"

namespace vramcalc::vllm_log_detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::optional<std::uint64_t> as_count(const PyValue& v) {
  if (v.kind != PyValue::Kind::Number && v.kind != PyValue::Kind::String) return std::nullopt;
  std::size_t i = 0;
  const auto n = read_count(v.text, i);
  return n && i == v.text.size() ? n : std::nullopt;
}

std::optional<double> as_number(const PyValue& v) {
  if (v.kind != PyValue::Kind::Number && v.kind != PyValue::Kind::String) return std::nullopt;
  std::size_t i = 0;
  const auto n = read_number(v.text, i);
  return n && i == v.text.size() ? n : std::nullopt;
}

std::optional<bool> as_bool(const PyValue& v) {
  if (v.kind == PyValue::Kind::Bool) return v.flag;
  return std::nullopt;
}

// A string setting as logged: a quoted or bare value, "torch." dropped from dtypes; nothing for None/"".
std::optional<std::string> as_text(const PyValue& v) {
  if (v.kind != PyValue::Kind::String && v.kind != PyValue::Kind::Raw && v.kind != PyValue::Kind::Number)
    return std::nullopt;
  std::string_view t = v.text;
  if (starts_with(t, "torch.")) t.remove_prefix(6);
  if (t.empty() || t == "None") return std::nullopt;
  return std::string(utf8_prefix(t, 200));
}

// CUDAGraphMode as logged: "<CUDAGraphMode.FULL_AND_PIECEWISE: (2, 1)>", "FULL_DECODE_ONLY", 1, [2, 1].
std::optional<std::string> cudagraph_mode(const PyValue& v) {
  static constexpr std::string_view kNames[] = {"NONE", "PIECEWISE", "FULL"};
  if (v.kind == PyValue::Kind::Raw || v.kind == PyValue::Kind::String) {
    std::string_view t = v.text;
    if (const std::size_t at = t.find("CUDAGraphMode."); at != std::string_view::npos) t = t.substr(at + 14);
    std::string name;
    for (const char c : t.substr(0, 40)) {
      if (!is_upper(c) && c != '_' && !(c >= 'a' && c <= 'z')) break;
      name += c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    }
    return name.empty() ? std::nullopt : std::optional<std::string>(name);
  }
  if (const auto n = as_count(v); n && *n <= 2) return std::string(kNames[*n]);
  if (v.kind == PyValue::Kind::List && v.items.size() == 2) {
    const auto a = as_count(v.items[0]), b = as_count(v.items[1]);
    if (!a || !b) return std::nullopt;
    if (*a == 2) return std::string(*b == 1 ? "FULL_AND_PIECEWISE" : *b == 0 ? "FULL_DECODE_ONLY" : "FULL");
    if (*a <= 1) return std::string(kNames[*a]);
  }
  return std::nullopt;
}

std::vector<std::uint64_t> capture_sizes(const PyValue& v) {
  std::vector<std::uint64_t> out;
  if (v.kind != PyValue::Kind::List) return out;
  for (const auto& item : v.items)
    if (const auto n = as_count(item)) out.push_back(*n);
  return out;
}

template <typename T>
void put(std::optional<T>& slot, const std::optional<T>& value) {
  if (!slot && value) slot = value;
}

void apply_compilation(const PyValue& c, VllmLogSettings& s) {
  if (c.kind != PyValue::Kind::Dict) return;
  if (const PyValue* m = c.find("cudagraph_mode")) put(s.cudagraph_mode, cudagraph_mode(*m));
  if (const PyValue* sizes = c.find("cudagraph_capture_sizes"); sizes && s.cudagraph_capture_sizes.empty())
    s.cudagraph_capture_sizes = capture_sizes(*sizes);
}

// One setting by the name vLLM gives it; `source` is the text the value was read from.
void apply(std::string_view key, const PyValue& v, std::string_view source, VllmLogSettings& s) {
  if (key == "model" || key == "model_tag") put(s.model, as_text(v));
  else if (key == "tensor_parallel_size") put(s.tensor_parallel_size, as_count(v));
  else if (key == "pipeline_parallel_size") put(s.pipeline_parallel_size, as_count(v));
  else if (key == "data_parallel_size") put(s.data_parallel_size, as_count(v));
  else if (key == "enable_expert_parallel") put(s.enable_expert_parallel, as_bool(v));
  else if (key == "gpu_memory_utilization") put(s.gpu_memory_utilization, as_number(v));
  else if (key == "max_model_len" || key == "max_seq_len") put(s.max_model_len, as_count(v));
  else if (key == "max_num_batched_tokens") put(s.max_num_batched_tokens, as_count(v));
  else if (key == "max_num_seqs") put(s.max_num_seqs, as_count(v));
  else if (key == "block_size") put(s.block_size, as_count(v));
  else if (key == "dtype") put(s.dtype, as_text(v));
  else if (key == "kv_cache_dtype") put(s.kv_cache_dtype, as_text(v));
  else if (key == "quantization") put(s.quantization, as_text(v));
  else if (key == "enforce_eager") put(s.enforce_eager, as_bool(v));
  else if (key == "compilation_config") apply_compilation(v, s);
  else if ((key == "cuda_graph_sizes" || key == "cudagraph_capture_sizes") && s.cudagraph_capture_sizes.empty())
    s.cudagraph_capture_sizes = capture_sizes(v);
  else if (key == "speculative_config" && v.kind != PyValue::Kind::None && v.end > v.begin)
    put(s.speculative_config, std::optional<std::string>(utf8_prefix(source.substr(v.begin, v.end - v.begin), 500)));
}

// "non-default args: {...}".
void read_args_dict(std::string_view text, VllmLogSettings& s) {
  std::size_t pos = 0;
  const PyValue dict = read_py_value(text, pos);
  for (const auto& member : dict.items) apply(member.key, member, text, s);
}

// "key=value, key=value" (the config line's tail, Namespace(...)'s inside).
void read_key_values(std::string_view text, VllmLogSettings& s) {
  for (const auto& [key, raw] : split_key_values(text)) {
    std::size_t pos = 0;
    const PyValue v = read_py_value(raw, pos);
    apply(key, v, raw, s);
  }
}

// The version in "(v0.10.1.1)" or after "version ": up to a space or ')'.
std::optional<std::string> version_at(std::string_view t) {
  if (!t.empty() && t[0] == 'v') t.remove_prefix(1);
  if (t.empty() || !is_digit(t[0])) return std::nullopt;
  const std::size_t end = std::min(t.find_first_of(" )"), t.size());
  return std::string(utf8_prefix(t.substr(0, end), 80));
}

bool read_engine_config(std::string_view t, SettingsLayers& layers) {
  const std::size_t with = t.find("with config:");
  if (with == std::string_view::npos) return false;
  const std::size_t engine = t.rfind("LLM engine (", with);
  if (engine == std::string_view::npos || with - engine > 200) return false;
  const std::string_view head = t.substr(0, with);
  if (head.find("Initializing a V1 LLM engine") != std::string_view::npos) layers.v1 = true;
  if (head.find("Initializing an LLM engine") != std::string_view::npos ||
      head.find("Initializing a V0 LLM engine") != std::string_view::npos)
    layers.v0 = true;
  put(layers.info.version, version_at(t.substr(engine + 12)));
  read_key_values(t.substr(with + 12), layers.config);
  return true;
}

// Words of a GPU name from `t` (after its vendor prefix): up to a double space or punctuation, a word starting
// with a lowercase letter, 6 words or 64 bytes.
std::string name_words(std::string_view t) {
  std::string out;
  std::size_t i = 0;
  for (int words = 0; words < 6 && i < t.size(); ++words) {
    if (t[i] >= 'a' && t[i] <= 'z') break;
    // Words are short: the separator is looked for in a bounded window, so the scan stays linear.
    const std::size_t end = std::min(t.substr(0, i + 70).find_first_of(" |,;()\"'", i), std::min(t.size(), i + 70));
    if (end == i) break;
    std::string_view word = t.substr(i, end - i);
    if (word.back() == '.') word.remove_suffix(1);
    if (out.size() + word.size() > 64) break;
    if (!out.empty()) out += ' ';
    out += word;
    if (end >= t.size() || t[end] != ' ' || (end + 1 < t.size() && t[end + 1] == ' ')) break;
    i = end + 1;
  }
  return out;
}

bool has_digit(std::string_view t) { return std::any_of(t.begin(), t.end(), is_digit); }

std::optional<std::string> gpu_name(std::string_view t) {
  if (const std::size_t at = t.find("device_name="); at != std::string_view::npos) {
    std::string name;
    for (const char c : t.substr(at + 12, 64)) {
      if (!(is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z') || c == '_' || c == '-')) break;
      name += c == '_' ? ' ' : c;
    }
    if (has_digit(name)) return name;
  }
  for (const std::string_view vendor : {"NVIDIA ", "AMD Instinct ", "AMD Radeon "}) {
    for (std::size_t at = t.find(vendor); at != std::string_view::npos; at = t.find(vendor, at + 1)) {
      const std::string words = name_words(t.substr(at + vendor.size()));
      const std::string_view first = std::string_view(words).substr(0, words.find(' '));
      const bool known = has_digit(first) || first == "GeForce" || first == "RTX" || first == "Tesla" ||
                         first == "Quadro" || first == "TITAN" || first == "DGX" || vendor != "NVIDIA ";
      if (known && has_digit(words)) return std::string(vendor) + words;
    }
  }
  return std::nullopt;
}

// The single-value lines; returns whether one was read.
bool read_value_lines(std::string_view t, SettingsLayers& layers) {
  VllmLogSettings& s = layers.lines;
  if (const auto n = count_after(t, "Using max model len")) {
    put(s.max_model_len, n);
  } else if (const auto m = count_after(t, "Chunked prefill is enabled with max_num_batched_tokens=")) {
    put(s.max_num_batched_tokens, m);
  } else if (const auto b = count_after(t, "Setting attention block size to")) {
    put(s.block_size, b);
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool read_settings_line(std::string_view t, SettingsLayers& layers) {
  if (const std::size_t at = t.find("non-default args:"); at != std::string_view::npos) {
    read_args_dict(t.substr(at + 17), layers.args);
    return true;
  }
  if (const std::size_t at = t.find("args: Namespace("); at != std::string_view::npos) {
    std::string_view inside = t.substr(at + 16);
    if (!inside.empty() && inside.back() == ')') inside.remove_suffix(1);
    read_key_values(inside, layers.args);
    return true;
  }
  if (read_engine_config(t, layers)) return true;
  if (const std::size_t at = t.find("vLLM API server version "); at != std::string_view::npos) {
    put(layers.info.version, version_at(t.substr(at + 24)));
    return true;
  }
  if (read_value_lines(t, layers)) return true;
  if (const std::size_t at = t.find("Automatically detected platform "); at != std::string_view::npos) {
    std::string_view p = t.substr(at + 32);
    p = p.substr(0, std::min(p.find_first_of(" ."), p.size()));
    if (!p.empty()) put(layers.info.platform, std::optional<std::string>(utf8_prefix(p, 40)));
    return false;
  }
  if (!layers.info.gpu_name) layers.info.gpu_name = gpu_name(t);
  return false;
}

void fill_missing(VllmLogSettings& into, const VllmLogSettings& from) {
  put(into.model, from.model);
  put(into.version, from.version);
  put(into.tensor_parallel_size, from.tensor_parallel_size);
  put(into.pipeline_parallel_size, from.pipeline_parallel_size);
  put(into.data_parallel_size, from.data_parallel_size);
  put(into.enable_expert_parallel, from.enable_expert_parallel);
  put(into.gpu_memory_utilization, from.gpu_memory_utilization);
  put(into.max_model_len, from.max_model_len);
  put(into.max_num_batched_tokens, from.max_num_batched_tokens);
  put(into.max_num_seqs, from.max_num_seqs);
  put(into.block_size, from.block_size);
  put(into.dtype, from.dtype);
  put(into.kv_cache_dtype, from.kv_cache_dtype);
  put(into.quantization, from.quantization);
  put(into.enforce_eager, from.enforce_eager);
  put(into.cudagraph_mode, from.cudagraph_mode);
  if (into.cudagraph_capture_sizes.empty()) into.cudagraph_capture_sizes = from.cudagraph_capture_sizes;
  put(into.speculative_config, from.speculative_config);
  put(into.gpu_name, from.gpu_name);
  put(into.platform, from.platform);
}

void fill_missing(VllmLogFigures& into, const VllmLogFigures& from) {
  put(into.weights_gib, from.weights_gib);
  put(into.activation_peak_gib, from.activation_peak_gib);
  put(into.non_torch_gib, from.non_torch_gib);
  put(into.cuda_graph_estimated_gib, from.cuda_graph_estimated_gib);
  put(into.cuda_graph_actual_gib, from.cuda_graph_actual_gib);
  put(into.kv_cache_gib, from.kv_cache_gib);
  put(into.requested_gib, from.requested_gib);
  put(into.total_gpu_gib, from.total_gpu_gib);
  put(into.non_kv_total_gib, from.non_kv_total_gib);
  put(into.kv_cache_tokens, from.kv_cache_tokens);
  put(into.gpu_blocks, from.gpu_blocks);
  put(into.max_concurrency, from.max_concurrency);
  put(into.concurrency_tokens_per_request, from.concurrency_tokens_per_request);
  put(into.piecewise_graphs, from.piecewise_graphs);
  put(into.full_graphs, from.full_graphs);
  put(into.equivalent_utilization, from.equivalent_utilization);
  put(into.piecewise_largest, from.piecewise_largest);
  put(into.full_largest, from.full_largest);
  put(into.cudagraph_estimate_deducted, from.cudagraph_estimate_deducted);
  put(into.compensating_utilization, from.compensating_utilization);
  put(into.consumed_gib, from.consumed_gib);
  put(into.free_gpu_gib, from.free_gpu_gib);
}

}  // namespace vramcalc::vllm_log_detail
