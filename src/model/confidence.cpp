// The confidence record: exact, estimated or guess for the parameters, the weights and the KV cache, and why.
#include "vramcalc/model/confidence.hpp"
#include "model/confidence.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "model/config_reader.hpp"

namespace vramcalc {

std::string_view confidence_name(Confidence c) {
  switch (c) {
    case Confidence::Exact: return "exact";
    case Confidence::Estimated: return "estimated";
    case Confidence::Guess: return "guess";
  }
  return "guess";
}

void ModelConfidence::lower(Confidence& field, Confidence to, const std::string& reason) {
  field = std::max(field, to);
  if (!reason.empty() && std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) reasons.push_back(reason);
}

bool ModelConfidence::uncertain() const {
  return parameters == Confidence::Guess || kv_cache == Confidence::Guess || weights == Confidence::Guess;
}

std::string ModelConfidence::summary() const {
  return fmt::format("parameters {}, weights {}, KV cache {}", confidence_name(parameters), confidence_name(weights),
                     confidence_name(kv_cache));
}

std::string ModelConfidence::guesses() const {
  std::vector<std::string> names;
  if (parameters == Confidence::Guess) names.emplace_back("parameter count");
  if (weights == Confidence::Guess) names.emplace_back("weights");
  if (kv_cache == Confidence::Guess) names.emplace_back("KV cache");
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  if (names.empty()) return out;
  return out + (names.size() == 1 && names[0] != "weights" ? " is a guess" : " are guesses");
}

namespace detail {

namespace {

// "layers 0, 2, 4 and 9 more": enough to find them in the config, never a thousand numbers.
std::string layer_list(const std::vector<std::uint64_t>& layers) {
  constexpr std::size_t kShown = 4;
  std::string out = layers.size() == 1 ? "layer " : "layers ";
  for (std::size_t i = 0; i < std::min(layers.size(), kShown); ++i)
    out += (i == 0 ? "" : ", ") + std::to_string(layers[i]);
  if (layers.size() > kShown) out += fmt::format(" and {} more", layers.size() - kShown);
  return out;
}

}  // namespace

void note_unknown_layer_types(ModelArch& arch, const std::map<std::string, std::vector<std::uint64_t>>& unknown) {
  ModelConfidence& c = arch.confidence;
  for (const auto& [type, layers] : unknown) {
    const std::string reason =
        fmt::format("layer_types: {} ({}) is not a layer kind vram-calc knows: sized as full attention",
                    quoted_excerpt(type), layer_list(layers));
    c.lower(c.parameters, Confidence::Guess, reason);
    c.lower(c.kv_cache, Confidence::Guess, reason);
  }
}

void assess_confidence(ModelArch& arch) {
  ModelConfidence& c = arch.confidence;
  const std::string& type = arch.text_model_type.empty() ? arch.model_type : arch.text_model_type;
  if (!arch.known_family) {
    const std::string reason = fmt::format(
        "model_type {} is not a family vram-calc knows: the parameter count and the KV cache are those of a "
        "Llama-style decoder of the config's sizes",
        quoted_excerpt(type));
    c.lower(c.parameters, Confidence::Guess, reason);
    c.lower(c.kv_cache, Confidence::Guess, reason);
  }
  if (arch.num_experts > 0 && arch.moe_layers == 0)
    c.lower(c.parameters, Confidence::Guess,
            fmt::format("the config names {} experts but no decoder layer holds them in the layout vram-calc knows "
                        "for {}: the experts are not counted",
                        arch.num_experts, quoted_excerpt(type)));
  if (arch.num_experts > 0 && arch.moe_layers > 0 && arch.experts_per_token == 0)
    c.lower(c.parameters, Confidence::Estimated,
            fmt::format("the config names {} experts but not how many each token uses (num_experts_per_tok): the "
                        "active parameters and the experts' activation are unknown",
                        arch.num_experts));
}

}  // namespace detail

}  // namespace vramcalc
