// config.json -> ModelArch: find the language model, read its shape under whichever names the family uses,
// decide the KV heads, head_dim and per-layer attention kinds, then build every weight group.
#include <algorithm>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "model/build.hpp"
#include "model/confidence.hpp"
#include "model/config_reader.hpp"
#include "model/families.hpp"
#include "model/multimodal.hpp"
#include "model/rotary.hpp"
#include "model/weights_gemma4.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/model/architecture.hpp"
#include "vramcalc/model/quantization.hpp"

namespace vramcalc {

std::string_view layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::FullAttention: return "full_attention";
    case LayerKind::SlidingAttention: return "sliding_attention";
    case LayerKind::ChunkedAttention: return "chunked_attention";
    case LayerKind::CrossAttention: return "cross_attention";
    case LayerKind::Mamba: return "mamba";
    case LayerKind::MlpOnly: return "mlp_only";
    case LayerKind::ShortConv: return "conv";  // issue 14: LFM2
    case LayerKind::LinearAttention: return "linear_attention";
  }
  return "unknown";
}

bool holds_kv_per_token(LayerKind k) {
  return k == LayerKind::FullAttention || k == LayerKind::SlidingAttention || k == LayerKind::ChunkedAttention;
}

bool holds_state_per_request(LayerKind k) {
  return k == LayerKind::Mamba || k == LayerKind::LinearAttention || k == LayerKind::ShortConv;
}

std::string_view weight_role_name(WeightRole r) {
  switch (r) {
    case WeightRole::Embedding: return "embedding";
    case WeightRole::LmHead: return "lm_head";
    case WeightRole::Attention: return "attention";
    case WeightRole::Mlp: return "mlp";
    case WeightRole::Experts: return "experts";
    case WeightRole::Router: return "router";
    case WeightRole::Mamba: return "mamba";
    case WeightRole::Norm: return "norm";
    case WeightRole::Vision: return "vision";
  }
  return "unknown";
}

std::uint64_t WeightGroup::matrix_params() const { return matrices * rows * cols; }
std::uint64_t WeightGroup::params() const { return matrix_params() + extra; }

std::uint64_t ModelArch::num_params() const {
  std::uint64_t total = 0;
  for (const auto& g : weights) total += g.params();
  return total;
}

std::uint64_t ModelArch::params_with_role(WeightRole role) const {
  std::uint64_t total = 0;
  for (const auto& g : weights)
    if (g.role == role) total += g.params();
  return total;
}

std::uint64_t ModelArch::count_layers(LayerKind k) const {
  return static_cast<std::uint64_t>(std::count(layer_kinds.begin(), layer_kinds.end(), k));
}

std::uint64_t ModelArch::state_layers() const {
  return static_cast<std::uint64_t>(std::count_if(layer_kinds.begin(), layer_kinds.end(), holds_state_per_request));
}

std::uint64_t ModelArch::kv_layers() const {
  // Layers that hold their own KV cache: a layer that reads another's (Gemma 4's KV sharing) adds nothing.
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < layer_kinds.size(); ++i) n += attention_at(i).holds_own_kv() ? 1 : 0;
  return n;
}

LayerAttention ModelArch::attention_at(std::size_t i) const {
  if (i < layer_attention.size()) return layer_attention[i];
  LayerAttention a;
  const LayerKind k = i < layer_kinds.size() ? layer_kinds[i] : LayerKind::FullAttention;
  if (!holds_kv_per_token(k)) return a;
  if (mla) {  // one latent per token, no separate V
    a.kv_heads = 1;
    a.head_dim = kv_lora_rank + qk_rope_head_dim;
  } else {
    a.kv_heads = num_key_value_heads;
    a.head_dim = head_dim;
    a.v_head_dim = head_dim;
  }
  a.window = k == LayerKind::SlidingAttention   ? sliding_window.value_or(0)
             : k == LayerKind::ChunkedAttention ? attention_chunk_size.value_or(0)
                                                : 0;
  return a;
}

bool ModelArch::tp_divides_heads(std::uint64_t tp) const { return tp != 0 && num_attention_heads % tp == 0; }

bool ModelArch::tp_matches_kv_heads(std::uint64_t tp) const {
  auto fits = [tp](std::uint64_t k) { return k == 0 || (tp != 0 && (k % tp == 0 || tp % k == 0)); };
  if (mla) return true;
  // Every layer's KV head count must split or replicate evenly (Gemma 4's global layers have fewer).
  for (const auto& la : layer_attention)
    if (!fits(la.kv_heads)) return false;
  return fits(num_key_value_heads);
}

namespace {

using detail::ConfigReader;
using detail::Family;

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// KV heads as the KAITO sizing guide and the Falcon/MPT configs define them; records which field decided.
std::uint64_t read_kv_heads(ConfigReader& cfg, const Family& family, std::uint64_t heads, std::string& source) {
  if (family.stack == detail::Stack::Falcon) {
    // cfg.text, not json::value(): a model_type that is not a string is a clean error, not a json::type_error.
    const bool refined_web = cfg.text("model_type").value_or("") == "RefinedWeb";
    const bool new_arch = cfg.flag("new_decoder_architecture").value_or(false) || refined_web;
    if (new_arch) {
      std::string which;
      if (auto kv = cfg.count({"num_kv_heads", "n_head_kv", "num_key_value_heads"}, detail::kMaxHeads, &which)) {
        source = which;
        return *kv;
      }
      source = "num_attention_heads (new_decoder_architecture without num_kv_heads)";
      return heads;
    }
    if (cfg.flag("multi_query").value_or(cfg.text("model_type").value_or("") == "RefinedWebModel")) {
      source = "multi_query";
      return 1;
    }
    source = "num_attention_heads";
    return heads;
  }
  if (family.stack == detail::Stack::Mpt) {
    if (const auto* attn = cfg.get("attn_config"); attn != nullptr && attn->is_object()) {
      ConfigReader attn_cfg(*attn, cfg.origin(), cfg.prefix() + "attn_config.");
      if (auto kv = attn_cfg.count({"kv_n_heads"}, detail::kMaxHeads)) {
        source = "attn_config.kv_n_heads";
        return *kv;
      }
      if (attn_cfg.text("attn_type").value_or("") == "multiquery_attention") {
        source = "attn_config.attn_type multiquery_attention";
        return 1;
      }
    }
  }
  if (auto kv = cfg.count({"num_key_value_heads"}, detail::kMaxHeads)) {
    source = "num_key_value_heads";
    return *kv;
  }
  if (cfg.flag("multi_query").value_or(false)) {
    source = "multi_query";
    return 1;
  }
  source = "num_attention_heads (no num_key_value_heads: multi-head attention)";
  return heads;
}

// nullopt for a type vram-calc does not know (issue 14: the layer is sized as full attention, a guess).
std::optional<LayerKind> parse_layer_type(const std::string& type) {
  if (type == "full_attention" || type == "attention") return LayerKind::FullAttention;
  if (type == "sliding_attention") return LayerKind::SlidingAttention;
  if (type == "chunked_attention") return LayerKind::ChunkedAttention;
  if (type == "mamba") return LayerKind::Mamba;
  if (type == "linear_attention") return LayerKind::LinearAttention;
  if (type == "conv") return LayerKind::ShortConv;  // issue 14: LFM2's short convolutions
  return std::nullopt;
}

// One LayerKind per decoder layer, from the family's conventions.
std::vector<LayerKind> read_layer_kinds(ModelArch& arch, const Family& family, ConfigReader& cfg) {
  const std::uint64_t n = arch.num_hidden_layers;
  std::vector<LayerKind> kinds(n, LayerKind::FullAttention);

  if (family.stack == detail::Stack::NemotronH) {
    auto pattern = cfg.text("hybrid_override_pattern");
    if (!pattern) cfg.fail("hybrid_override_pattern", "missing (NemotronH needs one letter per layer)");
    if (pattern->size() != n)
      cfg.fail("hybrid_override_pattern",
               fmt::format("has {} letters but num_hidden_layers is {}", pattern->size(), n));
    for (std::uint64_t i = 0; i < n; ++i) {
      switch ((*pattern)[i]) {
        case 'M': kinds[i] = LayerKind::Mamba; break;
        case '*': kinds[i] = LayerKind::FullAttention; break;
        case '-':
        case 'E': kinds[i] = LayerKind::MlpOnly; break;
        default:
          cfg.fail("hybrid_override_pattern",
                   fmt::format("unknown layer letter {}", detail::quoted_excerpt(pattern->substr(i, 1))));
      }
    }
    return kinds;
  }

  if (const auto* types = cfg.get("layer_types"); types != nullptr) {
    if (!types->is_array() || types->size() != n)
      cfg.fail("layer_types", fmt::format("expected a list of {} layer types", n));
    std::map<std::string, std::vector<std::uint64_t>> unknown;  // issue 14: left as full attention, a guess
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!(*types)[i].is_string()) cfg.fail("layer_types", "expected strings");
      const auto type = (*types)[i].get<std::string>();
      if (auto kind = parse_layer_type(type)) kinds[i] = *kind;
      else unknown[type].push_back(i);
    }
    detail::note_unknown_layer_types(arch, unknown);
    return kinds;
  }

  if (family.stack == detail::Stack::Qwen3_5) {  // issue 14: transformers' default, every interval-th layer is full
    const std::uint64_t interval = cfg.require_count({"full_attention_interval"}, detail::kMaxLayers);
    for (std::uint64_t i = 0; i < n; ++i)
      kinds[i] = (i + 1) % interval == 0 ? LayerKind::FullAttention : LayerKind::LinearAttention;
    return kinds;
  }

  if (family.name == "mllama_text_model") {
    for (auto idx : cfg.index_list("cross_attention_layers", n - 1).value_or(std::vector<std::uint64_t>{}))
      kinds[idx] = LayerKind::CrossAttention;
    return kinds;
  }

  if (family.name == "llama4_text" && arch.attention_chunk_size) {
    // no_rope_layers[i] == 1: RoPE layer with chunked local attention; 0: NoPE layer with global attention.
    // Empty means transformers' default: every 4th layer is global.
    auto no_rope = cfg.index_list("no_rope_layers", 1).value_or(std::vector<std::uint64_t>{});
    for (std::uint64_t i = 0; i < n; ++i) {
      const bool rope = no_rope.empty() ? ((i + 1) % 4 != 0) : (i < no_rope.size() && no_rope[i] == 1);
      kinds[i] = rope ? LayerKind::ChunkedAttention : LayerKind::FullAttention;
    }
    return kinds;
  }

  if (!arch.sliding_window) return kinds;
  if (family.name == "gemma2") {
    for (std::uint64_t i = 0; i < n; i += 2) kinds[i] = LayerKind::SlidingAttention;
  } else if (family.name == "gemma3_text") {
    const std::uint64_t pattern = cfg.count({"sliding_window_pattern"}, detail::kMaxLayers).value_or(6);
    for (std::uint64_t i = 0; i < n; ++i)
      if ((i + 1) % pattern != 0) kinds[i] = LayerKind::SlidingAttention;
  } else {
    std::fill(kinds.begin(), kinds.end(), LayerKind::SlidingAttention);
  }
  return kinds;
}

// sliding_window when it really limits attention (some configs set it to the full context, or disable it).
std::optional<std::uint64_t> read_sliding_window(ModelArch& arch, const Family& family, ConfigReader& cfg) {
  if (cfg.flag("use_sliding_window") == false) return std::nullopt;
  if (family.name == "qwen2" && !cfg.flag("use_sliding_window").value_or(false)) return std::nullopt;
  auto window = cfg.count({"sliding_window"}, detail::kMaxPositions);
  if (!window) return std::nullopt;
  if (arch.max_position_embeddings && *window >= *arch.max_position_embeddings) return std::nullopt;
  return window;
}

void read_moe(ModelArch& arch, ConfigReader& cfg) {
  arch.num_experts =
      cfg.count_or_zero({"num_local_experts", "num_experts", "n_routed_experts"}, detail::kMaxExperts).value_or(0);
  if (arch.num_experts == 0) return;
  arch.experts_per_token =
      cfg.count_or_zero({"num_experts_per_tok", "experts_per_token", "moe_topk"}, detail::kMaxExperts).value_or(0);
  arch.shared_experts = cfg.count_or_zero({"n_shared_experts"}, detail::kMaxExperts).value_or(0);
  // 0 when absent: the experts then use intermediate_size (Mixtral), filled in once that is read.
  arch.moe_intermediate_size = cfg.count({"moe_intermediate_size"}, detail::kMaxIntermediate).value_or(0);
  if (arch.experts_per_token > arch.num_experts)
    cfg.fail("num_experts_per_tok",
             fmt::format("{} is more than the {} experts", arch.experts_per_token, arch.num_experts));
}

void read_mla(ModelArch& arch, ConfigReader& cfg) {
  if (!cfg.has("kv_lora_rank")) return;
  arch.mla = true;
  arch.kv_lora_rank = cfg.require_count({"kv_lora_rank"}, detail::kMaxWidth);
  arch.qk_rope_head_dim = cfg.require_count({"qk_rope_head_dim"}, detail::kMaxWidth);
}

// issue 14: Gated DeltaNet widths (transformers' defaults when omitted) and the recurrent state's dtype, which
// vLLM takes from Qwen 3.5's "mamba_ssm_dtype" (vllm/model_executor/models/config.py).
void read_linear_attention(ModelArch& arch, ConfigReader& cfg) {
  arch.linear_num_key_heads = cfg.require_count({"linear_num_key_heads"}, detail::kMaxHeads);
  arch.linear_num_value_heads = cfg.require_count({"linear_num_value_heads"}, detail::kMaxHeads);
  arch.linear_key_head_dim = cfg.require_count({"linear_key_head_dim"}, detail::kMaxWidth);
  arch.linear_value_head_dim = cfg.require_count({"linear_value_head_dim"}, detail::kMaxWidth);
  arch.linear_conv_kernel = cfg.require_count({"linear_conv_kernel_dim"}, detail::kMaxWidth);
  if (arch.linear_num_value_heads % arch.linear_num_key_heads != 0)
    cfg.fail("linear_num_value_heads", fmt::format("{} value heads are not a multiple of the {} key heads",
                                                   arch.linear_num_value_heads, arch.linear_num_key_heads));
  if (auto t = cfg.text("mamba_ssm_dtype"); t && *t != "auto") arch.mamba_ssm_cache_dtype = parse_torch_dtype(*t);
}

void read_mamba(ModelArch& arch, ConfigReader& cfg) {
  arch.mamba_num_heads = cfg.require_count({"mamba_num_heads"}, detail::kMaxHeads);
  arch.mamba_head_dim = cfg.require_count({"mamba_head_dim"}, detail::kMaxWidth);
  arch.ssm_state_size = cfg.require_count({"ssm_state_size"}, detail::kMaxWidth);
  arch.mamba_n_groups = cfg.count({"n_groups"}, detail::kMaxHeads).value_or(1);
  arch.mamba_conv_kernel = cfg.count({"conv_kernel"}, detail::kMaxWidth).value_or(4);
  if (auto t = cfg.text("mamba_ssm_cache_dtype"); t && *t != "auto") arch.mamba_ssm_cache_dtype = parse_torch_dtype(*t);
}

std::uint64_t read_intermediate(ModelArch& arch, const Family& family, ConfigReader& cfg) {
  switch (family.stack) {
    case detail::Stack::Gpt2: return cfg.count({"n_inner"}, detail::kMaxIntermediate).value_or(4 * arch.hidden_size);
    case detail::Stack::Bloom: return 4 * arch.hidden_size;
    case detail::Stack::Mpt: return cfg.count({"expansion_ratio"}, 1000).value_or(4) * arch.hidden_size;
    case detail::Stack::Falcon:
      return cfg.count({"ffn_hidden_size"}, detail::kMaxIntermediate).value_or(4 * arch.hidden_size);
    default: break;
  }
  if (auto i = cfg.count({"intermediate_size", "ffn_hidden_size", "n_inner"}, detail::kMaxIntermediate)) return *i;
  if (arch.num_experts > 0 && arch.moe_intermediate_size > 0) return arch.moe_intermediate_size;
  return cfg.require_count({"intermediate_size"}, detail::kMaxIntermediate);
}

// The language model's config: a nested text_config (Llava, Gemma 3, Mllama, Llama 4, Mistral 3) or llm_config,
// else the top level; `prefix` names it in messages ("text_config." or "").
const nlohmann::json& language_config(ConfigReader& top, const nlohmann::json& config, std::string& prefix) {
  for (const char* key : {"text_config", "llm_config"}) {
    if (const auto* t = top.get(key); t != nullptr) {
      if (!t->is_object()) top.fail(key, "expected an object");
      prefix = std::string(key) + ".";
      return *t;
    }
  }
  return config;
}

// The family that reads the config: the language model's type, else the wrapper's; a generic Llama-style decoder
// (warned) when neither is known.
const Family& family_of(ModelArch& arch) {
  const Family* family = detail::find_family(arch.text_model_type);
  if (family == nullptr && arch.text_model_type != arch.model_type) family = detail::find_family(arch.model_type);
  if (family != nullptr) return *family;
  arch.known_family = false;
  arch.warnings.push_back(
      fmt::format("unknown architecture '{}' ({}): sized as a Llama-style decoder (q/k/v/o attention, gated MLP); "
                  "check the parameter count against the model card",
                  arch.text_model_type.empty() ? arch.model_type : arch.text_model_type, arch.architecture));
  return detail::generic_family();
}

// Layers, widths, heads, KV heads and head_dim, with the checks vLLM would fail on.
void read_attention(ModelArch& arch, const Family& family, ConfigReader& cfg) {
  arch.num_hidden_layers =
      cfg.require_count({"num_hidden_layers", "n_layer", "num_layers", "n_layers"}, detail::kMaxLayers);
  arch.hidden_size = cfg.require_count({"hidden_size", "n_embd", "n_embed", "d_model"}, detail::kMaxWidth);
  arch.num_attention_heads =
      cfg.require_count({"num_attention_heads", "n_head", "n_heads", "num_heads"}, detail::kMaxHeads);
  arch.num_key_value_heads = read_kv_heads(cfg, family, arch.num_attention_heads, arch.kv_heads_source);
  if (arch.num_key_value_heads > arch.num_attention_heads || arch.num_attention_heads % arch.num_key_value_heads != 0)
    cfg.fail(arch.kv_heads_source.substr(0, arch.kv_heads_source.find(' ')),
             fmt::format("{} KV heads do not divide the {} attention heads", arch.num_key_value_heads,
                         arch.num_attention_heads));

  std::string head_dim_field;
  if (auto hd = cfg.count({"head_dim", "attention_head_dim"}, detail::kMaxWidth, &head_dim_field)) {
    arch.head_dim = *hd;
    arch.head_dim_source = head_dim_field;
  } else {
    if (arch.hidden_size % arch.num_attention_heads != 0)
      cfg.fail("num_attention_heads", fmt::format("{} heads do not divide hidden_size {} (and there is no head_dim)",
                                                  arch.num_attention_heads, arch.hidden_size));
    arch.head_dim = arch.hidden_size / arch.num_attention_heads;
    arch.head_dim_source = "hidden_size / num_attention_heads";
  }
}

// Vocabulary and the longest context the positions allow (warned when the config has none).
void read_vocab_and_positions(ModelArch& arch, ConfigReader& cfg) {
  arch.vocab_size = cfg.require_count({"vocab_size", "padded_vocab_size"}, detail::kMaxVocab);
  std::string pos_field;
  arch.max_position_embeddings =
      cfg.count({"max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "max_sequence_length"},
                detail::kMaxPositions, &pos_field);
  if (arch.max_position_embeddings) {
    arch.max_position_source = pos_field;
  } else {
    arch.warnings.push_back(
        "the config has no max_position_embeddings (or n_positions, max_seq_len, seq_length): "
        "the context length is capped by memory only");
  }
}

// The checkpoint's dtype (the wrapper's torch_dtype or newer "dtype", else the text config's) and its
// quantization_config (the first found).
void read_dtype_and_quantization(ModelArch& arch, ConfigReader& top, ConfigReader& cfg, const std::string& origin) {
  for (ConfigReader* r : {&top, &cfg}) {
    for (const char* key : {"torch_dtype", "dtype"}) {
      if (arch.config_dtype) break;
      if (auto name = r->text(key)) {
        arch.config_dtype = parse_torch_dtype(*name);
        if (!arch.config_dtype)
          arch.warnings.push_back(
              fmt::format("{}{} \"{}\" is not a dtype vram-calc knows: treated as absent", r->prefix(), key, *name));
      }
    }
  }
  for (ConfigReader* r : {&top, &cfg}) {
    if (const auto* qc = r->get("quantization_config"); qc != nullptr && !arch.quant.active())
      arch.quant = parse_quantization_config(*qc, origin);
  }
}

}  // namespace

ModelArch normalize_config(const nlohmann::json& config, std::string_view origin_view) {
  const std::string origin(origin_view);
  if (!config.is_object()) fail_input(fmt::format("{}: config.json must be a JSON object", origin));

  ModelArch arch;
  ConfigReader top(config, origin, "");
  arch.model_type = top.text("model_type").value_or("");
  if (const auto* archs = top.get("architectures"); archs != nullptr) {
    if (!archs->is_array()) top.fail("architectures", "expected a list of class names");
    if (!archs->empty() && (*archs)[0].is_string()) arch.architecture = (*archs)[0].get<std::string>();
  }

  std::string prefix;
  const nlohmann::json* text_obj = &language_config(top, config, prefix);
  arch.text_model_type =
      text_obj->is_object() && text_obj->contains("model_type") && (*text_obj)["model_type"].is_string()
          ? (*text_obj)["model_type"].get<std::string>()
          : std::string(prefix.empty() ? arch.model_type : detail::default_text_model_type(arch.model_type));
  if (arch.model_type.empty() && arch.text_model_type.empty() && arch.architecture.empty())
    fail_input(fmt::format("{}: missing model_type and architectures: is this a Hugging Face config.json?", origin));

  const Family& family = family_of(arch);
  arch.falcon_single_gpu = family.falcon_single_gpu;
  ConfigReader cfg(*text_obj, origin, prefix,
                   arch.known_family ? detail::family_defaults(family) : nlohmann::json::object());
  read_attention(arch, family, cfg);
  read_vocab_and_positions(arch, cfg);

  // tie_word_embeddings: the text config's, else the wrapper's, else the family default.
  if (auto tie = cfg.flag("tie_word_embeddings")) {
    arch.tie_word_embeddings = *tie;
  } else if (auto top_tie = top.flag("tie_word_embeddings")) {
    arch.tie_word_embeddings = *top_tie;
  } else {
    arch.tie_word_embeddings = family.tie_default;
  }

  read_moe(arch, cfg);
  arch.intermediate_size = read_intermediate(arch, family, cfg);
  if (arch.num_experts > 0 && arch.moe_intermediate_size == 0) arch.moe_intermediate_size = arch.intermediate_size;
  read_mla(arch, cfg);
  if (family.stack == detail::Stack::NemotronH) read_mamba(arch, cfg);
  if (family.stack == detail::Stack::Qwen3_5) read_linear_attention(arch, cfg);  // issue 14
  arch.sliding_window = read_sliding_window(arch, family, cfg);
  arch.attention_chunk_size = cfg.count({"attention_chunk_size"}, detail::kMaxPositions);
  arch.layer_kinds = read_layer_kinds(arch, family, cfg);
  // Per-layer KV shapes: Gemma 4 reads its own (head sizes per layer kind, KV sharing); every other family leaves
  // layer_attention empty and ModelArch::attention_at derives each layer's from the global fields.
  if (family.stack == detail::Stack::Gemma4) detail::read_gemma4_text(arch, cfg);
  detail::read_rotary_tables(arch, family, cfg);
  read_dtype_and_quantization(arch, top, cfg, origin);

  detail::build_language_model(arch, family, cfg);
  // Gemma 4's wrapper may hold an audio tower without a vision tower; its towers are weights_gemma4.cpp's.
  const bool gemma4 = family.stack == detail::Stack::Gemma4;
  if (top.get("vision_config") != nullptr || (gemma4 && top.get("audio_config") != nullptr)) {
    arch.multimodal = true;
    arch.vision_params =
        gemma4 ? detail::build_gemma4_towers(arch, config, origin) : detail::build_vision_model(arch, config, origin);
    arch.mm_encoder = detail::read_mm_encoder(arch, config, origin);  // issue 14: vLLM's encoder profile
  }

  if (!cfg.defaulted().empty())
    arch.warnings.push_back(fmt::format("{} omits {}: using transformers' {} defaults",
                                        prefix.empty() ? "config" : prefix.substr(0, prefix.size() - 1),
                                        joined(cfg.defaulted()), family.name));
  detail::assess_confidence(arch);  // issue 14: what was only guessed (src/model/confidence.cpp)
  return arch;
}

}  // namespace vramcalc
