#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <map>

#include <fmt/format.h>

#include "render/json_sections.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/model/quantization.hpp"
#include "vramcalc/render/render.hpp"

#ifndef VRAMCALC_VERSION
#define VRAMCALC_VERSION "0.0.0"
#endif
#ifndef VRAMCALC_COMMIT  // set at configure time (cmake/build_info.cmake)
#define VRAMCALC_COMMIT "unknown"
#endif
#ifndef VRAMCALC_CATALOG_DATE
#define VRAMCALC_CATALOG_DATE "unknown"
#endif

namespace vramcalc {

namespace render_detail {

namespace {

// The code point of the UTF-8 sequence of `length` bytes at text[i] (already known to be valid).
std::uint32_t code_point_at(std::string_view text, std::size_t i, std::size_t length) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(text[i + k])); };
  if (length == 2) return (byte(0) & 0x1F) << 6 | (byte(1) & 0x3F);
  if (length == 3) return (byte(0) & 0x0F) << 12 | (byte(1) & 0x3F) << 6 | (byte(2) & 0x3F);
  return (byte(0) & 0x07) << 18 | (byte(1) & 0x3F) << 12 | (byte(2) & 0x3F) << 6 | (byte(3) & 0x3F);
}

// What libyaml (kubectl's parser) refuses in a stream or reads as a line break, besides the C0 controls: DEL, the
// C1 controls but NEL, U+2028/U+2029, the byte-order mark and U+FFFE/U+FFFF. NEL is escaped too (a C1 control).
bool unsafe_in_yaml(std::uint32_t cp) {
  return cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE ||
         cp == 0xFFFF;
}

}  // namespace

std::string escape_yaml_unsafe(std::string_view text) {
  // Nearly every output is plain ASCII without DEL: nothing to escape, and a scan of the bytes says so cheaply
  // (--sku all writes over a megabyte).
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x7F; }))
    return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = std::max<std::size_t>(1, utf8_sequence_length(text, i));
    const std::uint32_t cp = length == 1 ? static_cast<unsigned char>(text[i]) : code_point_at(text, i, length);
    if (unsafe_in_yaml(cp)) out += fmt::format("\\u{:04x}", cp);
    else out.append(text, i, length);
    i += length;
  }
  return out;
}

namespace {

// A string as nlohmann's dump() writes it (ensure_ascii off): quotes, backslashes and C0 controls escaped, other
// bytes as they are; a string with invalid UTF-8 is left to nlohmann (error_handler_t::replace: U+FFFD).
void write_string(std::string& out, std::string_view text) {
  const std::size_t start = out.size();
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    // A run of characters written as they are, appended at once.
    std::size_t end = i;
    while (end < text.size()) {
      const auto b = static_cast<unsigned char>(text[end]);
      if (b < 0x20 || b == '"' || b == '\\' || b >= 0x80) break;
      ++end;
    }
    if (end > i) {
      out.append(text, i, end - i);
      i = end;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else if (const std::size_t length = utf8_sequence_length(text, i); length > 1) {
          out.append(text, i, length);
          i += length;
          continue;
        } else {
          // Invalid UTF-8 (from argv, a profile or a file name): nlohmann's own replacement, byte for byte.
          out.resize(start);
          out += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
          return;
        }
    }
    ++i;
  }
  out += '"';
}

template <typename Integer>
void write_integer(std::string& out, Integer value) {
  std::array<char, 24> digits{};
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), result.ptr);
}

void newline(std::string& out, int indent, int depth) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(depth), ' ');
}

// nlohmann's dump() layout, written directly: its serializer costs about 90 instructions a byte, which made the
// megabyte of --sku all --format json most of that command's time.
void write_value(std::string& out, const nlohmann::json& j, int indent, int depth) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      if (j.empty()) return void(out += "{}");
      out += '{';
      bool first = true;
      for (const auto& [key, value] : j.get_ref<const nlohmann::json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        newline(out, indent, depth + 1);
        write_string(out, key);
        out += indent < 0 ? ":" : ": ";
        write_value(out, value, indent, depth + 1);
      }
      newline(out, indent, depth);
      out += '}';
      return;
    }
    case nlohmann::json::value_t::array: {
      if (j.empty()) return void(out += "[]");
      out += '[';
      bool first = true;
      for (const auto& value : j) {
        if (!first) out += ',';
        first = false;
        newline(out, indent, depth + 1);
        write_value(out, value, indent, depth + 1);
      }
      newline(out, indent, depth);
      out += ']';
      return;
    }
    case nlohmann::json::value_t::string: return write_string(out, j.get_ref<const std::string&>());
    case nlohmann::json::value_t::number_unsigned: return write_integer(out, j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_integer: return write_integer(out, j.get<std::int64_t>());
    case nlohmann::json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; return;
    case nlohmann::json::value_t::null: out += "null"; return;
    default: out += j.dump(); return;  // floating point, exactly as nlohmann writes it
  }
}

}  // namespace

std::string dump_json(const nlohmann::json& j, int indent) {
  std::string out;
  write_value(out, j, indent, 0);
  // The text is valid UTF-8 now, and the characters escape_yaml_unsafe escapes can only be inside strings, where
  // \uXXXX means the same to JSON and YAML.
  return escape_yaml_unsafe(out);
}

}  // namespace render_detail

namespace {

nlohmann::json optional_json(const std::optional<std::uint64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// The CUDA-reported total: the median of the observed readings (driver dependent), or null.
std::optional<std::uint64_t> cuda_total_bytes(const Gpu& gpu) {
  if (gpu.cuda_total_mib_observed.empty()) return std::nullopt;
  auto v = gpu.cuda_total_mib_observed;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2] * kMiB;
}

nlohmann::json model_json(const Report& r) {
  const ModelArch& a = r.arch;
  std::map<std::string, std::uint64_t> kinds;
  for (auto k : a.layer_kinds) ++kinds[std::string(layer_kind_name(k))];
  nlohmann::json m = {
      {"id", r.input.id},
      {"source", r.input.origin},
      {"architecture", a.architecture},
      {"model_type", a.text_model_type.empty() ? a.model_type : a.text_model_type},
      {"known_family", a.known_family},
      {"num_params", r.weights.num_params},
      {"num_params_source", r.weights.num_params_source},
      {"weight_bytes", r.weights.bytes},
      {"weight_source", weight_source_name(r.weights.source)},
      {"weight_source_detail", r.weights.source_detail},
      {"weight_bytes_computed", r.weights.computed_bytes},
      {"dtype", dtype_name(r.weights.serving_dtype)},
      {"dtype_reason", r.weights.serving_dtype_reason},
      {"num_hidden_layers", a.num_hidden_layers},
      {"hidden_size", a.hidden_size},
      {"intermediate_size", a.intermediate_size},
      {"vocab_size", a.vocab_size},
      {"num_attention_heads", a.num_attention_heads},
      {"num_key_value_heads", a.num_key_value_heads},
      {"head_dim", a.head_dim},
      {"head_dim_source", a.head_dim_source},
      {"max_position_embeddings", optional_json(a.max_position_embeddings)},
      {"tie_word_embeddings", a.tie_word_embeddings},
      {"layer_kinds", kinds},
      {"sliding_window", optional_json(a.sliding_window)},
      {"multimodal", a.multimodal},
      {"vision_params", a.vision_params},
  };
  m["quantization"] = r.weights.quantization ? nlohmann::json{{"method", r.weights.quantization->method_name},
                                                              {"description", describe_scheme(*r.weights.quantization)},
                                                              {"quantized_params", r.weights.quantized_params}}
                                             : nlohmann::json(nullptr);
  m["moe"] = a.num_experts > 0 ? nlohmann::json{{"num_experts", a.num_experts},
                                                {"experts_per_token", a.experts_per_token},
                                                {"shared_experts", a.shared_experts},
                                                {"moe_intermediate_size", a.moe_intermediate_size},
                                                {"moe_layers", a.moe_layers}}
                               : nlohmann::json(nullptr);
  m["mla"] = a.mla ? nlohmann::json{{"kv_lora_rank", a.kv_lora_rank}, {"qk_rope_head_dim", a.qk_rope_head_dim}}
                   : nlohmann::json(nullptr);
  // issue 14: how far the figures can be trusted (docs/json-schema.md, model.confidence).
  const ModelConfidence& c = a.confidence;
  m["confidence"] = {{"parameters", confidence_name(c.parameters)},
                     {"weights", confidence_name(c.weights)},
                     {"kv_cache", confidence_name(c.kv_cache)},
                     {"uncertain", c.uncertain()},
                     {"reasons", c.reasons}};
  return m;
}

}  // namespace

nlohmann::json plan_json(const Report& r, const SkuPlan& sp) {
  const Gpu& gpu = sp.sku.gpu;
  nlohmann::json j;
  j["schema_version"] = kJsonSchemaVersion;
  j["tool"] = {{"name", "vram-calc"},
               {"version", VRAMCALC_VERSION},
               {"commit", VRAMCALC_COMMIT},
               {"catalog_date", VRAMCALC_CATALOG_DATE}};
  j["model"] = model_json(r);
  j["kv_cache"] = {{"dtype", dtype_name(r.kv.dtype)}, {"bytes_per_token", r.kv.bytes_per_token},
                   {"layers", r.kv.layers},           {"kv_heads", r.kv.kv_heads},
                   {"head_dim", r.kv.head_dim},       {"mla", r.kv.mla},
                   {"mla_latent", r.kv.mla_latent},   {"formula", r.kv.formula}};
  j["sku"] = {
      {"name", sp.sku.name},
      {"cloud", sp.sku.cloud.empty() ? nlohmann::json(nullptr) : nlohmann::json(sp.sku.cloud)},
      {"gpu", gpu.name},
      {"gpus_per_node", sp.sku.gpus_per_node},
      {"gpu_memory_bytes", sp.gpu_memory.bytes},
      {"gpu_memory_source", sp.gpu_memory.source},
      {"memory_marketed_bytes", round_bytes(gpu.memory_gib_marketed * 1e9, "marketed memory")},
      {"memory_reported_bytes",
       gpu.memory_mib_reported ? nlohmann::json(*gpu.memory_mib_reported * kMiB) : nlohmann::json(nullptr)},
      {"memory_cuda_total_bytes", optional_json(cuda_total_bytes(gpu))},
      {"bf16", gpu.bf16},
      {"fp8", gpu.fp8},
      {"vllm_cuda", gpu.cuda_served},
      {"kaito_supported", sp.sku.kaito_supported},
  };
  const KaitoSettings& k = r.settings.kaito;
  j["settings"] = {
      {"gpu_memory_utilization", k.gpu_memory_utilization},
      {"max_model_len_requested", k.max_model_len},
      {"max_model_len_given", k.max_model_len_given},
      {"dtype", r.settings.dtype_flag},
      {"kv_cache_dtype", r.settings.kv_cache_dtype_flag},
      {"quantization",
       r.settings.quantization_flag ? nlohmann::json(*r.settings.quantization_flag) : nlohmann::json(nullptr)},
      {"non_torch_gib", k.non_torch_gib},
      {"activation_gib", k.activation_gib},
      {"weight_overhead", k.weight_overhead},
      {"gpus", optional_json(k.gpus)},
      {"tensor_parallel_size", optional_json(k.tensor_parallel_size)},
      {"pipeline_parallel_size", optional_json(k.pipeline_parallel_size)},
  };
  // KAITO's per-GPU figures, the baseline of every method (vLLM's replace them: render_detail::add_engine_json).
  const PerGpuBreakdown& g = sp.kaito.per_gpu;
  j["per_gpu"] = {{"weights_bytes", g.weights_bytes},     {"weight_overhead_bytes", g.weight_overhead_bytes},
                  {"kv_cache_bytes", g.kv_cache_bytes},   {"activation_bytes", g.activation_bytes},
                  {"non_torch_bytes", g.non_torch_bytes}, {"total_bytes", g.total_bytes},
                  {"capacity_bytes", g.capacity_bytes},   {"budget_bytes", g.budget_bytes}};
  render_detail::add_engine_json(j, r, sp);
  return j;
}

std::string render_json(const Report& r, bool as_array) {
  nlohmann::json out;
  if (as_array) {
    out = nlohmann::json::array();
    for (const auto& p : r.plans) out.push_back(plan_json(r, p));
  } else {
    out = plan_json(r, r.plans.front());
  }
  // Strings reach the report from argv, profiles and file names, none of them checked as UTF-8: invalid bytes are
  // written as U+FFFD rather than making dump() throw (found by fuzz_profile; tests/test_fuzz_regressions.cpp).
  return render_detail::dump_json(out, 2) + "\n";
}

nlohmann::json sku_list_json(const SkuCatalog& skus) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : skus.all()) {
    out.push_back(
        {{"name", s.name},
         {"aliases", s.aliases},
         {"cloud", s.cloud.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.cloud)},
         {"gpu", s.gpu.name},
         {"gpus_per_node", s.gpus_per_node},
         {"memory_marketed_gb", s.gpu.memory_gib_marketed},
         {"memory_reported_bytes",
          s.gpu.memory_mib_reported ? nlohmann::json(*s.gpu.memory_mib_reported * kMiB) : nlohmann::json(nullptr)},
         {"bf16", s.gpu.bf16},
         {"fp8", s.gpu.fp8},
         {"vllm_cuda", s.gpu.cuda_served},
         {"kaito_supported", s.kaito_supported},
         {"verified", s.verified}});
  }
  return out;
}

}  // namespace vramcalc
