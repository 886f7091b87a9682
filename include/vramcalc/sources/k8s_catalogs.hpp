// The Kubernetes-side tables `vram-calc check` reads: KAITO's preset names with the Hugging Face models they run
// (data/kaito_presets.json), and node-label values that name a GPU (data/k8s_gpu_labels.json, and a user's
// --sku-map), each mapped to vram-calc's SKU names.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vramcalc {

class KaitoPresets {
 public:
  // Loads data/kaito_presets.json ({"presets": [{"name": ..., "model": ...}]}). Error(BadInput) when malformed.
  static KaitoPresets load(const std::filesystem::path& file);
  // The Hugging Face id a preset runs (case-insensitive); nullopt for an unknown preset.
  [[nodiscard]] std::optional<std::string> model(std::string_view preset) const;

 private:
  std::map<std::string, std::string> models_;  // lower-case name -> id
};

// What a node label's value names: one SKU, several candidates (the label alone is ambiguous), or a GPU vram-calc
// has no SKU for (empty both).
struct LabelSkus {
  std::vector<std::string> skus;
};

class GpuLabelMap {
 public:
  // data/k8s_gpu_labels.json: {"labels": {"<label>": {"<value>": "SKU" | ["SKU", ...] | null}}}.
  static GpuLabelMap load(const std::filesystem::path& file);
  // A user's --sku-map: YAML or JSON, a mapping of label values (or "label=value") to SKU names, or the same
  // shape as k8s_gpu_labels.json. Its entries take precedence over the bundled ones.
  void add_user_map(const std::filesystem::path& file);
  // The SKUs `value` of `label` names; nullopt when the table has no entry for it.
  [[nodiscard]] std::optional<LabelSkus> find(std::string_view label, std::string_view value) const;

 private:
  std::map<std::string, LabelSkus> by_label_value_;  // "label=value" (value lower-case)
  std::map<std::string, LabelSkus> user_any_label_;  // --sku-map values that apply to any label
};

// A user's --model-map: YAML or JSON mapping of paths (as the server sees them) to Hugging Face ids or local paths.
std::map<std::string, std::string> load_model_map(const std::filesystem::path& file);

}  // namespace vramcalc
