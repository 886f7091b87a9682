// Quantization schemes: which weight groups they convert, and the bytes a converted matrix takes with its
// scales, zero points and indices, laid out as each format stores them in a checkpoint.
#include "vramcalc/model/quantization.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <regex>
#include <set>

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

// One compressed-tensors weight format (a config group's "weights") into `s`.
void read_compressed_weights(const nlohmann::json& weights, const std::string& format, QuantScheme& s,
                             std::string_view origin) {
  detail::ConfigReader w(weights, std::string(origin), "quantization_config.config_groups.weights.");
  s.bits = read_bits(w, {"num_bits"}, 8);
  const std::string type = w.text("type").value_or("int");
  s.is_float = type == "float";
  const std::string strategy = w.text("strategy").value_or("tensor");
  s.zero_points = !w.flag("symmetric").value_or(true);
  if (strategy == "group" || strategy == "tensor_group") {
    s.group_size = read_group_size(w, {"group_size"});
    // issue 14: FP4/FP8 group formats store 1-byte scales: NVFP4 ("tensor_group", group 16) an FP8 E4M3 scale per
    // group plus a float32 global scale per tensor; MXFP4/MXFP8 (group 32) an E8M0 exponent per group.
    const std::string scale_dtype = w.text("scale_dtype").value_or("");
    const bool mx = format.find("mxfp") != std::string::npos || scale_dtype.find("e8m0") != std::string::npos ||
                    scale_dtype.find("uint8") != std::string::npos;
    if (strategy == "tensor_group" && s.is_float) {
      s.scale_bytes = 1;
      s.global_scale = true;
    } else if (s.is_float && mx) {
      s.scale_bytes = 1;
    }
  } else if (strategy == "block") {
    const auto* bs = w.get("block_structure");
    s.block = bs != nullptr ? block_shape(*bs) : std::nullopt;
    if (!s.block) s.block = std::make_pair(128ULL, 128ULL);
  } else if (strategy == "tensor") {
    s.per_tensor_scale = true;
  }  // "channel": one scale per output row (group_size -1)
}

// compressed-tensors: the first config group gives the scheme; later groups that target modules by name (a "re:"
// regex or a module path, not the class "Linear") become overrides (e.g. MXFP4 experts beside MXFP8 linears).
void parse_compressed_tensors(detail::ConfigReader& r, const nlohmann::json& qc, QuantScheme& s,
                              std::string_view origin) {
  read_ignore_list(qc, "ignore", s.ignore, origin);
  const auto* groups = r.get("config_groups");
  if (groups == nullptr || !groups->is_object() || groups->empty())
    r.fail("config_groups", "expected an object with at least one quantization group");
  const std::string format = r.text("format").value_or("");
  bool first = true;
  for (const auto& [name, group] : groups->items()) {
    if (!group.is_object() || !group.contains("weights") || !group["weights"].is_object())
      r.fail("config_groups", fmt::format("group {} has no \"weights\" object", detail::quoted_excerpt(name)));
    if (first) {
      read_compressed_weights(group["weights"], format, s, origin);
      first = false;
      continue;
    }
    std::vector<std::string> targets;
    read_ignore_list(group, "targets", targets, origin);
    QuantScheme sub = s;
    sub.overrides.clear();
    read_compressed_weights(group["weights"], format, sub, origin);
    auto shared = std::make_shared<const QuantScheme>(std::move(sub));
    for (const auto& t : targets)
      if (t != "Linear") s.overrides.push_back({t, shared});
  }
}

// issue 14: ModelOpt (NVIDIA TensorRT Model Optimizer) checkpoints: quant_algo NVFP4 (W4A4 or W4A16), FP8, or
// MIXED_PRECISION with a per-module quant_algo in quantized_layers. The fields sit in quantization_config itself or,
// as in hf_quant_config.json, under its "quantization" object.
QuantScheme modelopt_algo_scheme(const std::string& algo, std::int64_t group_size, const std::string& name) {
  QuantScheme s;
  s.method_name = name;
  std::string a = algo;
  a = ascii_lower(a);
  if (a.find("nvfp4") != std::string::npos) {
    s.method = Method::Nvfp4;
    s.bits = 4;
    s.is_float = true;
    s.group_size = group_size > 0 ? group_size : 16;
    s.scale_bytes = 1;  // FP8 E4M3 per group
    s.global_scale = true;
  } else if (a.rfind("fp8", 0) == 0) {
    s.method = Method::Fp8;  // per-tensor FP8 (FP8_PER_CHANNEL_PER_TOKEN: one float32 per output row)
    s.bits = 8;
    s.is_float = true;
    s.per_tensor_scale = a == "fp8";
  } else if (a.find("awq") != std::string::npos || a.find("int4") != std::string::npos) {
    s.method = Method::Awq;  // W4A16_AWQ / W4A8_AWQ: packed int4, fp16 scales per group
    s.bits = 4;
    s.group_size = group_size > 0 ? group_size : 128;
    s.zero_points = true;
  }
  return s;
}

// ModelOpt's quantized_layers keys name one module, experts one by one ("...experts.7.gate_proj"); vram-calc's
// groups stack the experts ("...experts.gate_proj"): drop the expert index so that one key matches the group.
std::string without_expert_index(const std::string& key) {
  static const std::regex expert_index(R"(\.experts\.\d+\.)");
  return std::regex_replace(key, expert_index, ".experts.");
}

void parse_modelopt(const nlohmann::json& qc, QuantScheme& s, std::string_view origin) {
  const nlohmann::json& body = qc.contains("quantization") && qc["quantization"].is_object() ? qc["quantization"] : qc;
  detail::ConfigReader r(body, std::string(origin), "quantization_config.");
  read_ignore_list(body, "exclude_modules", s.ignore, origin);
  read_ignore_list(body, "ignore", s.ignore, origin);
  const std::string algo = r.text("quant_algo").value_or("");
  const std::int64_t group = read_group_size(r, {"group_size"});
  if (algo.empty() && r.get("config_groups") != nullptr) {  // exported in compressed-tensors form
    s.method = Method::CompressedTensors;
    parse_compressed_tensors(r, body, s, origin);
    return;
  }
  if (ascii_lower(std::string(algo)) != "mixed_precision") {
    QuantScheme a = modelopt_algo_scheme(algo, group, s.method_name);
    a.ignore = s.ignore;
    s = std::move(a);
    return;
  }
  s.method = Method::ModelOptMixed;
  const auto* layers = r.get("quantized_layers");
  if (layers == nullptr || !layers->is_object()) r.fail("quantized_layers", "expected an object of module names");
  // One scheme per distinct (quant_algo, group_size), shared by the modules that use it.
  std::map<std::pair<std::string, std::int64_t>, std::shared_ptr<const QuantScheme>> schemes;
  std::set<std::string> seen;
  for (const auto& [module, spec] : layers->items()) {
    if (!spec.is_object()) r.fail("quantized_layers", "expected an object per module");
    detail::ConfigReader m(spec, std::string(origin), "quantization_config.quantized_layers.");
    const std::string layer_algo = m.text("quant_algo").value_or(algo);
    const std::int64_t layer_group = spec.contains("group_size") ? read_group_size(m, {"group_size"}) : group;
    auto& scheme = schemes[{layer_algo, layer_group}];
    if (!scheme)
      scheme = std::make_shared<const QuantScheme>(modelopt_algo_scheme(layer_algo, layer_group, "modelopt"));
    if (!scheme->active()) continue;  // an algorithm vram-calc does not size: kept 16-bit
    const std::string pattern = without_expert_index(module);
    if (seen.insert(pattern).second) s.overrides.push_back({pattern, scheme});
  }
}

// issue 14: Intel AutoRound ("auto-round"): integer weights packed GPTQ-style (auto_round:auto_gptq) or AWQ-style,
// with fp16 scales per group and packed zero points, symmetric or not; no act-order index.
void parse_auto_round(detail::ConfigReader& r, const nlohmann::json& qc, QuantScheme& s, std::string_view origin) {
  s.method = Method::AutoRound;
  s.bits = read_bits(r, {"bits", "w_bit"}, 4);
  s.group_size = read_group_size(r, {"group_size"});
  s.zero_points = true;  // both packings store qzeros, even when sym is true
  s.quantize_lm_head = r.flag("lm_head").value_or(false);
  read_ignore_list(qc, "modules_to_not_convert", s.ignore, origin);
  // AutoRound also exports floating-point formats: NVFP4 ("nv_fp", group 16, FP8 scales + a float32 global scale)
  // and MXFP4/MXFP8 ("mx_fp", group 32, E8M0 scales), without zero points.
  const std::string data_type = r.text("data_type").value_or("int");
  if (data_type.rfind("nv_fp", 0) == 0) {
    s.is_float = true;
    s.zero_points = false;
    s.scale_bytes = 1;
    s.global_scale = true;
    if (s.group_size <= 0) s.group_size = 16;
  } else if (data_type.rfind("mx_fp", 0) == 0) {
    s.is_float = true;
    s.zero_points = false;
    s.scale_bytes = 1;
    if (s.group_size <= 0) s.group_size = 32;
  }
}

}  // namespace

QuantScheme parse_quantization_config(const nlohmann::json& qc, std::string_view origin) {
  if (!qc.is_object()) fail_input(fmt::format("{}: quantization_config: expected an object", origin));
  detail::ConfigReader r(qc, std::string(origin), "quantization_config.");
  QuantScheme s;
  s.method_name = r.text("quant_method").value_or("");
  if (s.method_name.empty() && (qc.contains("load_in_4bit") || qc.contains("load_in_8bit")))
    s.method_name = "bitsandbytes";
  // issue 14: hf_quant_config.json's shape ({"producer": ..., "quantization": {"quant_algo": ...}}) is ModelOpt's.
  if (s.method_name.empty() && qc.contains("quantization") && qc["quantization"].is_object())
    s.method_name = "modelopt";
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
    // issue 14: DeepSeek V3/V4's "scale_fmt": "ue8m0" stores each block scale as a 1-byte power of two.
    if (r.text("scale_fmt").value_or("") == "ue8m0") s.scale_bytes = 1;
  } else if (m == "modelopt" || m == "modelopt_fp4" || m == "modelopt_mixed") {  // issue 14
    parse_modelopt(qc, s, origin);
  } else if (m == "auto-round" || m == "auto_round" || m == "intel/auto-round") {  // issue 14
    parse_auto_round(r, qc, s, origin);
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

namespace {

bool ignored(const WeightGroup& g, const QuantScheme& s) {
  return std::any_of(s.ignore.begin(), s.ignore.end(), [&](const std::string& e) { return ignore_matches(e, g.name); });
}

// issue 14: the per-module format that converts this group instead of the scheme itself, if any.
const QuantScheme* matching_override(const WeightGroup& g, const QuantScheme& s) {
  for (const auto& o : s.overrides) {
    if (!o.scheme) continue;
    const bool hit = o.pattern == "@experts" ? g.role == WeightRole::Experts : ignore_matches(o.pattern, g.name);
    if (hit) return o.scheme.get();
  }
  return nullptr;
}

// The bytes of one converted matrix (rows x cols) and its scales, zero points and indices under scheme `s`.
double converted_matrix_bytes(const WeightGroup& g, const QuantScheme& s) {
  const double rows = static_cast<double>(g.rows);
  const double cols = static_cast<double>(g.cols);
  const double elements = rows * cols;
  const double groups_per_row =
      s.group_size > 0 ? static_cast<double>(ceil_div(g.cols, static_cast<std::uint64_t>(s.group_size))) : 1.0;
  const double blocks =
      s.block ? static_cast<double>(ceil_div(g.rows, s.block->first) * ceil_div(g.cols, s.block->second)) : 0.0;
  const double scale = s.scale_bytes > 0 ? s.scale_bytes : 0.0;  // 0: the method's default below
  double per_matrix = elements * s.bits / 8.0;
  switch (s.method) {
    case Method::Gptq:
    case Method::Awq:
      per_matrix += groups_per_row * rows * 2.0;           // fp16 scales
      per_matrix += groups_per_row * rows * s.bits / 8.0;  // packed zero points
      if (s.has_g_idx) per_matrix += cols * 4.0;           // int32 g_idx
      break;
    case Method::AutoRound:
      per_matrix += groups_per_row * rows * (scale > 0 ? scale : 2.0);        // fp16 (or FP8/E8M0) scales
      if (s.zero_points) per_matrix += groups_per_row * rows * s.bits / 8.0;  // packed zero points
      if (s.global_scale) per_matrix += 4.0;
      break;
    case Method::Fp8:
      if (s.block) per_matrix += blocks * (scale > 0 ? scale : 4.0);  // float32 (or UE8M0) per block
      else if (s.per_tensor_scale) per_matrix += 4.0;                 // one float32 scale
      else per_matrix += rows * 4.0;                                  // one float32 per output row
      break;
    case Method::FbgemmFp8:
    case Method::Int8:
      per_matrix += rows * 4.0;  // float32 per-channel scale
      break;
    case Method::CompressedTensors:
      if (s.per_tensor_scale) {
        per_matrix += 4.0;
      } else if (s.block) {
        per_matrix += blocks * 4.0;
      } else {
        per_matrix += groups_per_row * rows * (scale > 0 ? scale : 2.0);  // bf16 (FP4/MX: 1-byte) scale per group
        if (s.zero_points) per_matrix += groups_per_row * rows;           // int8 zero points
        if (s.global_scale) per_matrix += 4.0;                            // NVFP4's float32 global scale
      }
      break;
    case Method::Nvfp4:
      per_matrix += groups_per_row * rows * 1.0;  // FP8 E4M3 scale per 16 elements
      per_matrix += 4.0;                          // float32 weight_scale_2 per tensor
      break;
    case Method::Mxfp4:
      per_matrix += rows * groups_per_row;  // one E8M0 scale byte per 32 elements
      break;
    case Method::BitsAndBytes:
      if (s.bits == 8) {
        per_matrix += rows * 4.0;  // SCB row scales
      } else {
        const double absmax_blocks = elements / 64.0;
        per_matrix += s.double_quant ? absmax_blocks * 1.0 + absmax_blocks / 256.0 * 4.0 : absmax_blocks * 4.0;
      }
      break;
    case Method::ModelOptMixed:  // only its overrides convert anything
    case Method::None: break;
  }
  return per_matrix;
}

}  // namespace

bool group_is_quantized(const WeightGroup& g, const QuantScheme& s) {
  if (!s.active() || !g.is_linear()) return false;
  if (const QuantScheme* o = matching_override(g, s)) {
    // A module named by an override is converted by it (embeddings, norms and routers never are).
    const bool convertible = g.role == WeightRole::Attention || g.role == WeightRole::Mlp ||
                             g.role == WeightRole::Mamba || g.role == WeightRole::Experts ||
                             g.role == WeightRole::LmHead;
    return o->active() && convertible && !ignored(g, s) && !ignored(g, *o);
  }
  if (s.method == Method::ModelOptMixed) return false;
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
  return !ignored(g, s);
}

double group_bytes(const WeightGroup& g, const QuantScheme& s, DType dtype) {
  const double unquantized = dtype_bytes(dtype);
  if (!group_is_quantized(g, s)) return static_cast<double>(g.params()) * unquantized;
  const QuantScheme* o = matching_override(g, s);
  const double per_matrix = converted_matrix_bytes(g, o != nullptr ? *o : s);
  return per_matrix * static_cast<double>(g.matrices) + static_cast<double>(g.extra) * unquantized;
}

std::string describe_scheme(const QuantScheme& s) {
  std::string base;
  switch (s.method) {
    case Method::None: return "none";
    case Method::Gptq:
    case Method::Awq:
      base = fmt::format("{} {}-bit, {}", s.method == Method::Gptq ? "GPTQ" : "AWQ", s.bits,
                         s.group_size > 0 ? fmt::format("group {}", s.group_size) : std::string("per channel"));
      break;
    case Method::Fp8:
      base = s.block ? fmt::format("FP8, {}x{} block scales", s.block->first, s.block->second)
                     : std::string(s.per_tensor_scale ? "FP8, per-tensor scale" : "FP8, per-channel scales");
      break;
    case Method::FbgemmFp8: base = "FP8 (fbgemm), per-channel scales"; break;
    case Method::Int8: base = "INT8 W8A8, per-channel scales"; break;
    case Method::CompressedTensors:
      base = fmt::format("compressed-tensors {}-bit {}{}", s.bits, s.is_float ? "float" : "int",
                         s.group_size > 0 ? fmt::format(", group {}", s.group_size) : std::string());
      break;
    case Method::Mxfp4: base = "MXFP4 experts (4.25 bits per weight)"; break;
    case Method::BitsAndBytes:
      base = s.bits == 8 ? std::string("bitsandbytes 8-bit") : std::string("bitsandbytes 4-bit");
      break;
    case Method::Nvfp4: base = fmt::format("NVFP4 (ModelOpt), group {} with FP8 scales", s.group_size); break;
    case Method::AutoRound:
      base = fmt::format("AutoRound {}-bit {}, {}", s.bits, s.is_float ? "float" : "int",
                         s.group_size > 0 ? fmt::format("group {}", s.group_size) : std::string("per channel"));
      break;
    case Method::ModelOptMixed:
      base = fmt::format("ModelOpt mixed precision ({} module formats)", s.overrides.size());
      break;
  }
  // Overrides other than ModelOpt's per-module list (DeepSeek V4's experts) are worth naming.
  if (s.method != Method::ModelOptMixed)
    for (const auto& o : s.overrides)
      if (o.scheme && o.pattern == "@experts") base += "; experts: " + describe_scheme(*o.scheme);
  return base;
}

}  // namespace vramcalc
