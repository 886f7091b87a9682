// vLLM's speculative decoding: --speculative-config, the drafter's weights and KV layers (see speculative.hpp).
// Sources, read in vLLM's code: vllm/config/speculative.py (the methods and their aliases, num_speculative_tokens),
// vllm/v1/spec_decode/ (the drafter shares the target's embedding and LM head), vllm/models/*/mtp.py (an MTP layer:
// a decoder layer, its input projections and norms).
#include "vramcalc/engines/vllm/speculative.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/text.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/engines/vllm/plan.hpp"

namespace vramcalc {

namespace {

constexpr std::string_view kFlag = "--speculative-config";
// More draft tokens than this is not a configuration anyone serves; the bound keeps the arithmetic small.
constexpr std::uint64_t kMaxSpeculativeTokens = 256;

// vLLM's per-family MTP method names (MTPModelTypes), all served as "mtp".
constexpr std::array<std::string_view, 27> kMtpAliases = {"mtp",
                                                          "deepseek_mtp",
                                                          "dots3_note_mtp",
                                                          "mimo_mtp",
                                                          "mimo_v2_mtp",
                                                          "glm4_moe_mtp",
                                                          "glm4_moe_lite_mtp",
                                                          "glm_ocr_mtp",
                                                          "ernie_mtp",
                                                          "nemotron_h_mtp",
                                                          "exaone_moe_mtp",
                                                          "exaone4_5_mtp",
                                                          "qwen3_next_mtp",
                                                          "qwen4_exp_mtp",
                                                          "qwen3_5_mtp",
                                                          "longcat_flash_mtp",
                                                          "bailing_hybrid_v3_mtp",
                                                          "minimax_m3_mtp",
                                                          "bailing_hybrid_mtp",
                                                          "kimi_k3_mtp",
                                                          "pangu_ultra_moe_mtp",
                                                          "step3p5_mtp",
                                                          "hy_v3_mtp",
                                                          "hy_v4_mtp",
                                                          "gemma4_mtp",
                                                          "inkling_mtp",
                                                          "glm5_next_mtp"};

struct MethodName {
  std::string_view name;
  VllmSpeculativeMethod method;
};
constexpr std::array<MethodName, 12> kMethods = {{
    {"ngram", VllmSpeculativeMethod::Ngram},
    {"ngram_gpu", VllmSpeculativeMethod::Ngram},
    {"suffix", VllmSpeculativeMethod::Suffix},
    {"eagle", VllmSpeculativeMethod::Eagle},
    {"eagle3", VllmSpeculativeMethod::Eagle},
    {"draft_model", VllmSpeculativeMethod::DraftModel},
    {"medusa", VllmSpeculativeMethod::OtherWeights},
    {"mlp_speculator", VllmSpeculativeMethod::OtherWeights},
    {"dflash", VllmSpeculativeMethod::OtherWeights},
    {"dspark", VllmSpeculativeMethod::OtherWeights},
    {"extract_hidden_states", VllmSpeculativeMethod::OtherWeights},
    {"custom_class", VllmSpeculativeMethod::OtherWeights},
}};

std::optional<VllmSpeculativeMethod> method_of(std::string_view name) {
  if (std::find(kMtpAliases.begin(), kMtpAliases.end(), name) != kMtpAliases.end()) return VllmSpeculativeMethod::Mtp;
  for (const auto& m : kMethods)
    if (m.name == name) return m.method;
  return std::nullopt;
}

bool needs_model(VllmSpeculativeMethod m) {
  return m == VllmSpeculativeMethod::Eagle || m == VllmSpeculativeMethod::DraftModel;
}

// vLLM's detection when "method" is left out and "model" names a draft: an EAGLE head by its name, else a draft model.
std::string method_from_model(const std::string& model) {
  const std::string lower = ascii_lower(model);
  if (lower.find("eagle3") != std::string::npos) return "eagle3";
  if (lower.find("eagle") != std::string::npos) return "eagle";
  return "draft_model";
}

bool in_checkpoint_total(WeightSource s) {
  return s == WeightSource::SafetensorsHeaders || s == WeightSource::SafetensorsIndex ||
         s == WeightSource::CheckpointSize || s == WeightSource::CatalogSize;
}

}  // namespace

void parse_speculative_config(const std::string& json_text, VllmSpeculativeSettings& s) {
  const nlohmann::json j = parse_json_relaxed(json_text, kFlag);
  if (!j.is_object())
    fail_input(
        fmt::format("{}: expected a JSON object like {{\"method\": \"mtp\", \"num_speculative_tokens\": 2}}", kFlag));
  s = VllmSpeculativeSettings{};
  s.text = json_text;
  for (const auto& [key, value] : j.items()) {
    if (key == "method") {
      if (!value.is_string()) fail_input(fmt::format("{}: method must be a string such as \"mtp\"", kFlag));
      s.method_name = value.get<std::string>();
    } else if (key == "num_speculative_tokens") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() == 0 ||
          value.get<std::uint64_t>() > kMaxSpeculativeTokens)
        fail_input(fmt::format("{}: num_speculative_tokens must be an integer from 1 to {}, not {}", kFlag,
                               kMaxSpeculativeTokens, value.dump()));
      s.num_speculative_tokens = value.get<std::uint64_t>();
    } else if (key == "model") {
      if (!value.is_string() && !value.is_null()) fail_input(fmt::format("{}: model must be a string", kFlag));
      if (value.is_string()) s.model = value.get<std::string>();
    } else {
      s.ignored_keys.push_back(key);
    }
  }
  if (s.method_name.empty()) {
    if (s.model.empty())
      fail_input(fmt::format("{}: needs \"method\" (mtp, ngram, eagle, eagle3, draft_model, ...)", kFlag));
    s.method_name = method_from_model(s.model);  // as vLLM detects it
  }
  const auto method = method_of(s.method_name);
  if (!method)
    fail_input(fmt::format(
        "{}: method \"{}\" is not one vLLM knows (mtp or a family's *_mtp name, ngram, ngram_gpu, suffix, eagle, "
        "eagle3, draft_model, medusa, mlp_speculator, dflash, dspark, extract_hidden_states, custom_class)",
        kFlag, s.method_name));
  s.method = *method;
  if (needs_model(s.method) && s.model.empty())
    fail_input(fmt::format("{}: method \"{}\" needs \"model\", the draft checkpoint", kFlag, s.method_name));
  if (s.method != VllmSpeculativeMethod::Mtp && !s.num_speculative_tokens)
    fail_input(
        fmt::format("{}: method \"{}\" needs num_speculative_tokens (a positive integer)", kFlag, s.method_name));
}

std::uint64_t vllm_mtp_weights_per_gpu(const ModelArch& a, const WeightEstimate& w, std::uint64_t tp, std::uint64_t pp,
                                       std::uint64_t dp, bool ep, std::string& formula) {
  formula.clear();
  if (a.mtp_params == 0 || a.mtp_layers == 0 || a.num_hidden_layers == 0) return 0;
  // The last decoder layer stands in for the MTP layer's body: same attention and MLP / MoE, same quantization.
  ModelArch ref = a;
  ref.weights.clear();
  const int last = static_cast<int>(a.num_hidden_layers) - 1;
  std::uint64_t ref_params = 0;
  for (const auto& g : a.weights)
    if (g.layer == last) {
      ref.weights.push_back(g);
      ref_params += g.params();
    }
  WeightEstimate rw = w;
  rw.language_model_only = false;
  std::uint64_t per_gpu = 0;
  if (ref_params > 0) {
    rw.bytes = weight_bytes_from_groups(ref, w.quantization, w.serving_dtype);
    per_gpu = vllm_weights_per_gpu(ref, rw, tp, pp, dp, ep);
  } else {  // no per-layer groups: the model's own bytes per parameter on this GPU
    ref_params = std::max<std::uint64_t>(1, a.num_params());
    per_gpu = vllm_weights_per_gpu(a, w, tp, pp, dp, ep);
  }
  const double share = static_cast<double>(a.mtp_params) / static_cast<double>(ref_params);
  const std::uint64_t bytes = round_bytes(static_cast<double>(per_gpu) * share, "MTP weights per GPU");
  formula = fmt::format(
      "MTP drafter: {} layer(s), {} parameters, sized as decoder layer {} ({:.3f} GiB on this GPU for {} parameters) "
      "x {:.3f} = {:.3f} GiB; embedding and LM head shared with the model",
      a.mtp_layers, format_count(a.mtp_params), last, to_gib(per_gpu), format_count(ref_params), share, to_gib(bytes));
  return bytes;
}

VllmSpeculativePlan plan_vllm_speculative(const ModelArch& a, const WeightEstimate& w, const VllmSpeculativeSettings& s,
                                          std::uint64_t tp, std::uint64_t pp, std::uint64_t dp, bool ep) {
  VllmSpeculativePlan p;
  if (!s.enabled()) return p;
  p.enabled = true;
  const bool mtp = s.method == VllmSpeculativeMethod::Mtp;
  // MTP without a count takes the checkpoint's MTP layers (vLLM reads num_nextn_predict_layers).
  p.num_speculative_tokens = s.num_speculative_tokens.value_or(std::max<std::uint64_t>(1, a.mtp_layers));
  p.uniform_decode_query_len = 1 + p.num_speculative_tokens;
  if (mtp && a.mtp_layers == 0) {
    p.warnings.push_back(fmt::format(
        "{} method \"{}\": no multi-token-prediction layers are read from this model's config ({}), so no draft "
        "weights or KV layers are counted; vLLM's MTP drafter loads the checkpoint's own, or refuses a model without",
        kFlag, s.method_name, a.architecture.empty() ? a.model_type : a.architecture));
  } else if (mtp) {
    p.draft_layers = a.mtp_layers;
    if (in_checkpoint_total(w.source)) {
      p.draft_weights_formula = fmt::format("the MTP layers ({} parameters) are already in the checkpoint's total",
                                            format_count(a.mtp_params));
    } else {
      p.draft_weight_bytes = vllm_mtp_weights_per_gpu(a, w, tp, pp, dp, ep, p.draft_weights_formula);
    }
  } else if (s.method != VllmSpeculativeMethod::Ngram && s.method != VllmSpeculativeMethod::Suffix) {
    p.warnings.push_back(fmt::format(
        "{} method \"{}\"{}: the draft model's weights, KV cache layers and CUDA graphs are not counted (vram-calc "
        "sizes only MTP and ngram drafting): the plan underestimates each GPU by the draft's share",
        kFlag, s.method_name, s.model.empty() ? std::string() : fmt::format(" (model {})", s.model)));
  }
  return p;
}

ModelArch vllm_arch_with_draft_layers(const ModelArch& a, std::uint64_t draft_layers) {
  ModelArch out = a;
  if (draft_layers == 0 || a.layer_kinds.empty()) return out;
  const std::size_t last = a.layer_kinds.size() - 1;
  // DeepSeek V4: vLLM gives the MTP layer compress ratio 1 ("MTP layer is not included in the compress ratio list"):
  // a sliding window only, no compressor, no indexer.
  const bool v4 = !a.compress_ratios.empty();
  for (std::uint64_t k = 0; k < draft_layers; ++k) {
    out.layer_kinds.push_back(v4 ? LayerKind::SlidingAttention : a.layer_kinds[last]);
    if (!a.layer_attention.empty()) {
      LayerAttention la = a.attention_at(last);
      la.shares_kv_with = -1;  // the drafter's layer writes its own cache
      out.layer_attention.push_back(la);
    }
    if (!a.indexer_layers.empty()) out.indexer_layers.push_back(!v4 && a.indexer_layers.back());
    if (v4) out.compress_ratios.push_back(0);
  }
  return out;
}

}  // namespace vramcalc
