#include "vramcalc/resolve.hpp"

#include <fmt/format.h>

#include "vramcalc/error.hpp"

namespace vramcalc {

ModelInput catalog_input(const CatalogModel& entry) {
  ModelInput in;
  in.id = entry.id;
  in.origin = "bundled catalog";
  in.config = entry.config;
  in.catalog_weight_bytes = entry.safetensors_total_bytes;
  in.catalog_num_params = entry.num_params;
  if (entry.reconstructed)
    in.warnings.push_back(fmt::format("the catalog's config for {} was reconstructed, not copied verbatim", entry.id));
  return in;
}

ModelInput resolve_model(const std::string& spec, const ModelCatalog& catalog) {
  if (spec.empty()) fail_input("--model: empty model name");
  if (looks_like_local_path(spec)) return load_local_model(spec);
  if (const CatalogModel* entry = catalog.find(spec)) {
    ModelInput in = catalog_input(*entry);
    // Found under an alias (a renamed repository): say what it is called now.
    if (edit_distance(entry->id, spec) != 0)
      in.warnings.push_back(fmt::format("{} is now {} on the Hugging Face Hub", spec, entry->id));
    return in;
  }
  std::string hint;
  const auto close = catalog.suggest(spec, 3);
  if (!close.empty()) {
    hint = " Did you mean ";
    for (std::size_t i = 0; i < close.size(); ++i) hint += (i == 0 ? "" : i + 1 == close.size() ? " or " : ", ") + close[i];
    hint += "?";
  }
  fail_input(fmt::format("--model {}: not a local path and not in the bundled catalog ({} models; `vram-calc models` "
                         "lists them).{} Fetching from the Hugging Face Hub comes with network support, not in this "
                         "build yet: pass a local config.json or model directory instead.",
                         spec, catalog.models().size(), hint));
}

}  // namespace vramcalc
