// Quantization schemes: which weight groups they convert, and the bytes a converted matrix takes with its
// scales, zero points and indices, laid out as each format stores them in a checkpoint.
#include "vramcalc/model/quantization.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <cmath>
#include <regex>

#include <fmt/format.h>

#include "model/config_reader.hpp"
#include "vramcalc/core/error.hpp"

namespace vramcalc {

namespace {

using Method = QuantScheme::Method;

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// [rows, cols] of a block-scale layout: two positive integers, or nullopt.
std::optional<std::pair<std::uint64_t, std::uint64_t>> block_shape(const nlohmann::json& v) {
  auto positive = [](const nlohmann::json& e) { return e.is_number_integer() && e.get<std::int64_t>() > 0; };
  if (!v.is_array() || v.size() != 2 || !positive(v[0]) || !positive(v[1])) return std::nullopt;
  return std::make_pair(v[0].get<std::uint64_t>(), v[1].get<std::uint64_t>());
}

void read_ignore_list(const nlohmann::json& qc, std::string_view key, std::vector<std::string>& out,
                      std::string_view origin) {
  auto it = qc.find(std::string(key));
  if (it == qc.end() || it->is_null()) return;
  if (!it->is_array())
    fail_input(fmt::format("{}: quantization_config.{}: expected a list of module names", origin, key));
  for (const auto& e : *it) {
    if (!e.is_string())
      fail_input(fmt::format("{}: quantization_config.{}: expected module names (strings)", origin, key));
    out.push_back(e.get<std::string>());
  }
}

// Wildcard match where '*' matches any run of characters (as fnmatch does for these lists).
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == text[t] || pattern[p] == '?')) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// An ignore-list entry matches a module when it names it, one of its parents, or a dotted part of its path
// (transformers checks `key in module_name` this way), by glob, or by "re:" regex (compressed-tensors).
bool ignore_matches(const std::string& entry, const std::string& name) {
  if (entry.rfind("re:", 0) == 0) {
    try {
      return std::regex_search(name, std::regex("^(?:" + entry.substr(3) + ")"));
    } catch (const std::regex_error&) {
      return false;
    }
  }
  if (entry.find('*') != std::string::npos) return glob_match(entry, name) || glob_match(entry + ".*", name);
  if (name == entry || name.rfind(entry + ".", 0) == 0) return true;
  const std::string dotted = "." + entry;
  return name.find(dotted + ".") != std::string::npos ||
         (name.size() > dotted.size() && name.compare(name.size() - dotted.size(), dotted.size(), dotted) == 0);
}

int read_bits(detail::ConfigReader& r, std::initializer_list<std::string_view> names, int fallback) {
  auto bits = r.count(names, 64);
  if (!bits) return fallback;
  if (*bits != 2 && *bits != 3 && *bits != 4 && *bits != 8)
    r.fail(*names.begin(), fmt::format("{} bits is not a weight width vram-calc knows (2, 3, 4 or 8)", *bits));
  return static_cast<int>(*bits);
}

std::int64_t read_group_size(detail::ConfigReader& r, std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    const auto* v = r.get(name);
    if (v == nullptr) continue;
    if (v->is_number_integer() && v->get<std::int64_t>() == -1) return -1;
    return static_cast<std::int64_t>(*r.count({name}, 1'000'000));
  }
  return -1;
}

void parse_compressed_tensors(detail::ConfigReader& r, const nlohmann::json& qc, QuantScheme& s,
                              std::string_view origin) {
  read_ignore_list(qc, "ignore", s.ignore, origin);
  const auto* groups = r.get("config_groups");
  if (groups == nullptr || !groups->is_object() || groups->empty())
    r.fail("config_groups", "expected an object with at least one quantization group");
  const auto& group = groups->begin().value();
  if (!group.is_object() || !group.contains("weights") || !group["weights"].is_object())
    r.fail("config_groups", "the first group has no \"weights\" object");
  detail::ConfigReader w(group["weights"], std::string(origin), "quantization_config.config_groups.weights.");
  s.bits = read_bits(w, {"num_bits"}, 8);
  const std::string type = w.text("type").value_or("int");
  s.is_float = type == "float";
  const std::string strategy = w.text("strategy").value_or("tensor");
  s.zero_points = !w.flag("symmetric").value_or(true);
  if (strategy == "group") {
    s.group_size = read_group_size(w, {"group_size"});
  } else if (strategy == "block") {
    const auto* bs = w.get("block_structure");
    s.block = bs != nullptr ? block_shape(*bs) : std::nullopt;
    if (!s.block) s.block = std::make_pair(128ULL, 128ULL);
  } else if (strategy == "tensor") {
    s.per_tensor_scale = true;
  }  // "channel": one scale per output row (group_size -1)
}

}  // namespace

QuantScheme parse_quantization_config(const nlohmann::json& qc, std::string_view origin) {
  if (!qc.is_object()) fail_input(fmt::format("{}: quantization_config: expected an object", origin));
  detail::ConfigReader r(qc, std::string(origin), "quantization_config.");
  QuantScheme s;
  s.method_name = r.text("quant_method").value_or("");
  if (s.method_name.empty() && (qc.contains("load_in_4bit") || qc.contains("load_in_8bit")))
    s.method_name = "bitsandbytes";
  std::string m = s.method_name;
  m = ascii_lower(m);

  if (m == "gptq" || m == "awq") {
    s.method = m == "gptq" ? Method::Gptq : Method::Awq;
    s.bits = read_bits(r, {"bits", "w_bit"}, 4);
    s.group_size = read_group_size(r, {"group_size", "q_group_size"});
    s.zero_points = true;  // both store packed qzeros, symmetric or not
    s.has_g_idx = m == "gptq";
    s.quantize_lm_head = r.flag("lm_head").value_or(false);
    read_ignore_list(qc, "modules_to_not_convert", s.ignore, origin);
  } else if (m == "fp8") {
    s.method = Method::Fp8;
    s.bits = 8;
    s.is_float = true;
    if (const auto* bs = r.get("weight_block_size")) {
      s.block = block_shape(*bs);
      if (!s.block) r.fail("weight_block_size", "expected two positive integers");
    } else {
      s.per_tensor_scale = true;
    }
    read_ignore_list(qc, "modules_to_not_convert", s.ignore, origin);
    read_ignore_list(qc, "ignored_layers", s.ignore, origin);
  } else if (m == "fbgemm_fp8") {
    s.method = Method::FbgemmFp8;
    s.bits = 8;
    s.is_float = true;
    read_ignore_list(qc, "modules_to_not_convert", s.ignore, origin);
  } else if (m == "compressed-tensors" || m == "compressed_tensors") {
    s.method = Method::CompressedTensors;
    parse_compressed_tensors(r, qc, s, origin);
  } else if (m == "mxfp4") {
    s.method = Method::Mxfp4;
    s.bits = 4;
    s.is_float = true;
    s.group_size = 32;
    s.experts_only = true;
    read_ignore_list(qc, "modules_to_not_convert", s.ignore, origin);
  } else if (m == "bitsandbytes") {
    s.method = Method::BitsAndBytes;
    s.bits = r.flag("load_in_8bit").value_or(false) ? 8 : 4;
    s.group_size = s.bits == 4 ? 64 : -1;
    s.double_quant = r.flag("bnb_4bit_use_double_quant").value_or(false);
    read_ignore_list(qc, "llm_int8_skip_modules", s.ignore, origin);
  }
  return s;
}

std::optional<QuantScheme> quantization_flag_scheme(std::string_view name_view) {
  std::string name(name_view);
  name = ascii_lower(name);
  QuantScheme s;
  s.method_name = name;
  if (name == "fp8") {
    s.method = Method::Fp8;  // dynamic per-tensor FP8, as vLLM quantizes an unquantized checkpoint
    s.bits = 8;
    s.is_float = true;
    s.per_tensor_scale = true;
  } else if (name == "awq" || name == "gptq" || name == "q4") {
    s.method = name == "awq" ? Method::Awq : Method::Gptq;
    s.bits = 4;
    s.group_size = 128;
    s.zero_points = true;
    s.has_g_idx = name != "awq";
  } else if (name == "int8" || name == "q8") {
    s.method = Method::Int8;  // W8A8 int8, one scale per output channel
    s.bits = 8;
  } else if (name == "bitsandbytes") {
    s.method = Method::BitsAndBytes;
    s.bits = 4;
    s.group_size = 64;
  } else {
    return std::nullopt;
  }
  return s;
}

bool group_is_quantized(const WeightGroup& g, const QuantScheme& s) {
  if (!s.active() || !g.is_linear()) return false;
  switch (g.role) {
    case WeightRole::Attention:
    case WeightRole::Mlp:
    case WeightRole::Mamba:
      if (s.experts_only) return false;
      break;
    case WeightRole::Experts: break;
    case WeightRole::LmHead:
      if (!s.quantize_lm_head) return false;
      break;
    default: return false;
  }
  return std::none_of(s.ignore.begin(), s.ignore.end(),
                      [&](const std::string& e) { return ignore_matches(e, g.name); });
}

double group_bytes(const WeightGroup& g, const QuantScheme& s, DType dtype) {
  const double unquantized = dtype_bytes(dtype);
  if (!group_is_quantized(g, s)) return static_cast<double>(g.params()) * unquantized;

  const double rows = static_cast<double>(g.rows);
  const double cols = static_cast<double>(g.cols);
  const double elements = rows * cols;
  const double groups_per_row =
      s.group_size > 0 ? static_cast<double>(ceil_div(g.cols, static_cast<std::uint64_t>(s.group_size))) : 1.0;
  double per_matrix = elements * s.bits / 8.0;
  switch (s.method) {
    case Method::Gptq:
    case Method::Awq:
      per_matrix += groups_per_row * rows * 2.0;           // fp16 scales
      per_matrix += groups_per_row * rows * s.bits / 8.0;  // packed zero points
      if (s.has_g_idx) per_matrix += cols * 4.0;           // int32 g_idx
      break;
    case Method::Fp8:
      if (s.block)
        per_matrix += static_cast<double>(ceil_div(g.rows, s.block->first) * ceil_div(g.cols, s.block->second)) * 4.0;
      else per_matrix += 4.0;  // one float32 scale
      break;
    case Method::FbgemmFp8:
    case Method::Int8:
      per_matrix += rows * 4.0;  // float32 per-channel scale
      break;
    case Method::CompressedTensors:
      if (s.per_tensor_scale) {
        per_matrix += 4.0;
      } else if (s.block) {
        per_matrix += static_cast<double>(ceil_div(g.rows, s.block->first) * ceil_div(g.cols, s.block->second)) * 4.0;
      } else {
        per_matrix += groups_per_row * rows * 2.0;               // bf16 scale per group (or per channel)
        if (s.zero_points) per_matrix += groups_per_row * rows;  // int8 zero points
      }
      break;
    case Method::Mxfp4:
      per_matrix += rows * groups_per_row;  // one E8M0 scale byte per 32 elements
      break;
    case Method::BitsAndBytes:
      if (s.bits == 8) {
        per_matrix += rows * 4.0;  // SCB row scales
      } else {
        const double blocks = elements / 64.0;
        per_matrix += s.double_quant ? blocks * 1.0 + blocks / 256.0 * 4.0 : blocks * 4.0;  // absmax
      }
      break;
    case Method::None: break;
  }
  return per_matrix * static_cast<double>(g.matrices) + static_cast<double>(g.extra) * unquantized;
}

std::string describe_scheme(const QuantScheme& s) {
  switch (s.method) {
    case Method::None: return "none";
    case Method::Gptq:
    case Method::Awq:
      return fmt::format("{} {}-bit, {}", s.method == Method::Gptq ? "GPTQ" : "AWQ", s.bits,
                         s.group_size > 0 ? fmt::format("group {}", s.group_size) : std::string("per channel"));
    case Method::Fp8:
      return s.block ? fmt::format("FP8, {}x{} block scales", s.block->first, s.block->second)
                     : std::string("FP8, per-tensor scale");
    case Method::FbgemmFp8: return "FP8 (fbgemm), per-channel scales";
    case Method::Int8: return "INT8 W8A8, per-channel scales";
    case Method::CompressedTensors:
      return fmt::format("compressed-tensors {}-bit {}{}", s.bits, s.is_float ? "float" : "int",
                         s.group_size > 0 ? fmt::format(", group {}", s.group_size) : std::string());
    case Method::Mxfp4: return "MXFP4 experts (4.25 bits per weight)";
    case Method::BitsAndBytes:
      return s.bits == 8 ? std::string("bitsandbytes 8-bit") : std::string("bitsandbytes 4-bit");
  }
  return s.method_name;
}

}  // namespace vramcalc
