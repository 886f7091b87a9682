// Rotary-position tables, as vLLM builds them (vllm/model_executor/layers/rotary_embedding/): every RotaryEmbedding
// registers a cos_sin_cache buffer of [positions, rotary_dim] (cos and sin of rotary_dim / 2 frequencies each) in the
// model dtype when the model is constructed, and get_rope returns one shared instance per distinct configuration.
// The buffer lives on the GPU, so "Model loading took" counts it (Llama-3.1-8B: 8,030,261,248 parameters x 2 B =
// 14.9575 GiB + 131,072 x 128 x 2 B = 0.0313 GiB is the 14.9888 GiB vLLM logs).
// Positions by rope type (get_rope, and each class's _compute_cos_sin_cache):
//   default, llama3, mrope, proportional   max_position_embeddings
//   linear                                  max_position_embeddings x factor (LinearScalingRotaryEmbedding)
//   dynamic                                 max_position_embeddings x factor (unless NTK "alpha")
//   yarn, deepseek_yarn                     max(original_max_position_embeddings x factor, max_position_embeddings)
//   longrope (Phi-3)                        original + max_position_embeddings (a short and a long cache)
#include "model/rotary.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace vramcalc::detail {

namespace {

// A table's positions past this are a malformed config, not a model (10M-token Llama 4 is 1e7).
constexpr double kMaxTablePositions = 1e11;

std::optional<double> number_in(const nlohmann::json* object, const char* key) {
  if (object == nullptr || !object->is_object()) return std::nullopt;
  const auto it = object->find(key);
  if (it == object->end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) && v > 0 ? std::optional<double>(v) : std::nullopt;
}

std::string text_in(const nlohmann::json* object, const char* key) {
  if (object == nullptr || !object->is_object()) return {};
  const auto it = object->find(key);
  return it != object->end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The table of one rope configuration (`scaling`: a rope_scaling / rope_parameters object, or null) rotating
// `rotary_dim` of each head; `original_fallback` is the config's own original_max_position_embeddings (Phi-3 keeps
// it beside rope_scaling), `what` names the layers in the breakdown.
RotaryTable table_for(const nlohmann::json* scaling, std::uint64_t max_positions, std::uint64_t rotary_dim,
                      std::optional<double> original_fallback, const std::string& what) {
  std::string type = text_in(scaling, "rope_type");
  if (type.empty()) type = text_in(scaling, "type");
  const double factor = number_in(scaling, "factor").value_or(1.0);
  const double max_pos = static_cast<double>(max_positions);
  const double original =
      number_in(scaling, "original_max_position_embeddings").value_or(original_fallback.value_or(max_pos));
  double positions = max_pos;
  std::string rule = fmt::format("max_position_embeddings {}", max_positions);
  if (type == "linear" || (type == "dynamic" && !number_in(scaling, "alpha"))) {
    positions = std::ceil(max_pos * factor);
    rule = fmt::format("{} rope: max_position_embeddings {} x factor {:g}", type, max_positions, factor);
  } else if (type == "yarn" || type == "deepseek_yarn") {
    positions = std::max(std::ceil(original * factor), max_pos);
    rule = fmt::format("yarn: max(original_max_position_embeddings {:g} x factor {:g}, {})", original, factor,
                       max_positions);
  } else if (type == "longrope" || type == "su") {
    positions = original + max_pos;
    rule = fmt::format("longrope: a short cache of {:g} and a long one of {} positions", original, max_positions);
  } else if (!type.empty() && type != "default") {
    rule = fmt::format("{} rope: {}", type, rule);
  }
  RotaryTable t;
  t.positions = static_cast<std::uint64_t>(std::min(positions, kMaxTablePositions));
  t.rotary_dim = rotary_dim;
  t.what = what.empty() ? rule : fmt::format("{}, {}", what, rule);
  return t;
}

// The rotated part of a head: an explicit rotary_dim, else head_dim x partial_rotary_factor (rotary_pct for
// GPT-NeoX), from the rope object or the config; vLLM rounds it down.
std::uint64_t rotary_dim_of(const ConfigReader& cfg, const nlohmann::json* rope, std::uint64_t head_dim) {
  if (auto dim = cfg.number("rotary_dim"); dim && *dim > 0 && *dim <= static_cast<double>(head_dim))
    return static_cast<std::uint64_t>(*dim);
  std::optional<double> fraction = number_in(rope, "partial_rotary_factor");
  if (!fraction) fraction = cfg.number("partial_rotary_factor");
  if (!fraction) fraction = cfg.number("rotary_pct");
  if (!fraction || *fraction > 1.0) return head_dim;
  return static_cast<std::uint64_t>(static_cast<double>(head_dim) * *fraction);
}

// The head size of the first layer of `kind` (Gemma 4's global layers are wider), else the model's.
std::uint64_t head_dim_of_kind(const ModelArch& a, LayerKind kind) {
  for (std::size_t i = 0; i < a.layer_kinds.size(); ++i)
    if (a.layer_kinds[i] == kind) return a.attention_at(i).head_dim;
  return a.head_dim;
}

bool has_kind(const ModelArch& a, LayerKind kind) {
  return std::find(a.layer_kinds.begin(), a.layer_kinds.end(), kind) != a.layer_kinds.end();
}

}  // namespace

void read_rotary_tables(ModelArch& a, const Family& family, const ConfigReader& cfg) {
  // ALiBi (BLOOM, MPT, Falcon's alibi variant), learned positions (GPT-2), none at all (Nemotron-H's attention).
  if (family.stack == Stack::Gpt2 || family.stack == Stack::Bloom || family.stack == Stack::Mpt ||
      family.stack == Stack::NemotronH)
    return;
  if (family.stack == Stack::Falcon && cfg.flag("alibi").value_or(false)) return;
  // Without a maximum, vLLM takes a per-model default of a few thousand positions: a few MiB, left out.
  if (!a.max_position_embeddings || a.head_dim == 0) return;
  const std::uint64_t max_pos = *a.max_position_embeddings;
  const nlohmann::json* params = cfg.get("rope_parameters");
  const nlohmann::json* scaling = cfg.get("rope_scaling");
  const nlohmann::json* rope = params != nullptr ? params : scaling;
  const std::optional<double> original = cfg.number("original_max_position_embeddings");

  if (family.stack == Stack::Gemma4 && params != nullptr && params->is_object()) {
    // Gemma 4: one rope per layer kind; "proportional" rotates the whole head (Gemma4RotaryEmbedding zero-pads
    // the frequencies past partial_rotary_factor instead of shortening the table).
    for (const auto& [key, kind] : {std::pair{"sliding_attention", LayerKind::SlidingAttention},
                                    std::pair{"full_attention", LayerKind::FullAttention}}) {
      const auto it = params->find(key);
      if (it == params->end() || !has_kind(a, kind)) continue;
      const nlohmann::json* layer_rope = &*it;
      const std::uint64_t head = head_dim_of_kind(a, kind);
      const bool proportional = text_in(layer_rope, "rope_type") == "proportional";
      a.rotary_tables.push_back(table_for(layer_rope, max_pos,
                                          proportional ? head : rotary_dim_of(cfg, layer_rope, head), original,
                                          fmt::format("{} layers", key)));
    }
    return;
  }
  // Latent attention (DeepSeek V2/V3, Kimi, GLM 5, DeepSeek V4's single KV head) rotates qk_rope_head_dim of it.
  const auto rope_head = cfg.count({"qk_rope_head_dim"}, kMaxWidth);
  const std::uint64_t rotary = rope_head ? *rope_head : rotary_dim_of(cfg, rope, a.head_dim);
  if (rotary == 0) return;
  if (family.name == "gemma3_text") {
    // Gemma 3: sliding layers use rope_local_base_freq without scaling, global layers rope_theta with rope_scaling.
    a.rotary_tables.push_back(table_for(nullptr, max_pos, rotary, original, "sliding layers"));
    a.rotary_tables.push_back(table_for(rope, max_pos, rotary, original, "global layers"));
    return;
  }
  a.rotary_tables.push_back(table_for(rope, max_pos, rotary, original, ""));
  // DeepSeek V4's compressor attention rotates with its own base (compress_rope_theta): a second table.
  if (family.stack == Stack::DeepseekV4 && cfg.has("compress_rope_theta"))
    a.rotary_tables.push_back(table_for(rope, max_pos, rotary, original, "compressor (compress_rope_theta)"));
}

}  // namespace vramcalc::detail
