// KAITO presets, GPU node labels and the user's maps for `vram-calc check` (sources/k8s_catalogs.hpp).
#include "vramcalc/sources/k8s_catalogs.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "sources/files.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/limits.hpp"

namespace vramcalc {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

nlohmann::json read_json(const std::filesystem::path& file, std::string_view kind) {
  const std::string text = detail::read_input_file(file, file.string(), limits::kMaxConfigBytes, kind);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail_input(fmt::format("{}: malformed JSON: {}", file.string(), e.what()));
  }
}

// A YAML (or JSON, which is YAML) mapping of plain keys to plain values.
std::vector<std::pair<std::string, YAML::Node>> read_mapping(const std::filesystem::path& file, std::string_view what) {
  const std::string text = detail::read_input_file(file, file.string(), limits::kMaxProfileBytes, what);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_input(fmt::format("{}:{}: malformed YAML: {}", file.string(), e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) fail_input(fmt::format("{}: {} must be a mapping", file.string(), what));
  std::vector<std::pair<std::string, YAML::Node>> out;
  for (const auto& e : root) out.emplace_back(e.first.Scalar(), e.second);
  return out;
}

LabelSkus skus_of(const YAML::Node& v, const std::string& where) {
  LabelSkus s;
  if (v.IsScalar()) s.skus.push_back(v.Scalar());
  else if (v.IsSequence())
    for (const auto& e : v) s.skus.push_back(e.Scalar());
  else if (!v.IsNull()) fail_input(fmt::format("{}: a SKU name, a list of them, or null", where));
  return s;
}

}  // namespace

KaitoPresets KaitoPresets::load(const std::filesystem::path& file) {
  const nlohmann::json j = read_json(file, "data files");
  KaitoPresets p;
  if (!j.contains("presets") || !j["presets"].is_array()) fail_input(file.string() + ": no presets array");
  for (const auto& e : j["presets"]) {
    if (!e.is_object() || !e.value("name", nlohmann::json()).is_string() ||
        !e.value("model", nlohmann::json()).is_string())
      fail_input(file.string() + ": every preset needs a name and a model");
    p.models_[lower(e["name"].get<std::string>())] = e["model"].get<std::string>();
  }
  return p;
}

std::optional<std::string> KaitoPresets::model(std::string_view preset) const {
  const auto it = models_.find(lower(preset));
  return it == models_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

GpuLabelMap GpuLabelMap::load(const std::filesystem::path& file) {
  const nlohmann::json j = read_json(file, "data files");
  GpuLabelMap m;
  if (!j.contains("labels") || !j["labels"].is_object()) fail_input(file.string() + ": no labels object");
  for (const auto& [label, values] : j["labels"].items()) {
    if (!values.is_object()) fail_input(fmt::format("{}: labels.{} must be an object", file.string(), label));
    for (const auto& [value, sku] : values.items()) {
      LabelSkus s;
      if (sku.is_string()) s.skus.push_back(sku.get<std::string>());
      else if (sku.is_array())
        for (const auto& e : sku) s.skus.push_back(e.get<std::string>());
      m.by_label_value_[label + "=" + lower(value)] = s;
    }
  }
  return m;
}

void GpuLabelMap::add_user_map(const std::filesystem::path& file) {
  for (const auto& [key, value] : read_mapping(file, "--sku-map")) {
    const std::string where = fmt::format("{}: {}", file.string(), key);
    if (key == "labels" && value.IsMap()) {  // the bundled table's shape
      for (const auto& label : value)
        for (const auto& v : label.second)
          by_label_value_[label.first.Scalar() + "=" + lower(v.first.Scalar())] = skus_of(v.second, where);
      continue;
    }
    if (const auto eq = key.find('='); eq != std::string::npos)
      by_label_value_[key.substr(0, eq) + "=" + lower(key.substr(eq + 1))] = skus_of(value, where);
    else user_any_label_[lower(key)] = skus_of(value, where);
  }
}

std::optional<LabelSkus> GpuLabelMap::find(std::string_view label, std::string_view value) const {
  if (const auto it = user_any_label_.find(lower(value)); it != user_any_label_.end()) return it->second;
  const auto it = by_label_value_.find(std::string(label) + "=" + lower(value));
  if (it == by_label_value_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> load_model_map(const std::filesystem::path& file) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : read_mapping(file, "--model-map")) {
    if (!value.IsScalar()) fail_input(fmt::format("{}: {}: the value must be a model id or path", file.string(), key));
    std::string path = key;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    out[path] = value.Scalar();
  }
  return out;
}

}  // namespace vramcalc
