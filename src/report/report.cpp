// The report's own views: warnings without duplicates, and the checkpoint sizes its source gives.
#include <algorithm>

#include "vramcalc/report/report.hpp"

namespace vramcalc {

namespace {

void add_unique(std::vector<std::string>& out, const std::vector<std::string>& more) {
  for (const auto& w : more)
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
}

}  // namespace

std::vector<std::string> Report::model_warnings() const {
  std::vector<std::string> out;
  add_unique(out, input.warnings);
  add_unique(out, arch.warnings);
  add_unique(out, weights.warnings);
  return out;
}

std::vector<std::string> Report::all_warnings(const SkuPlan& p) const {
  const auto texts = all_warning_texts(p);
  return {texts.begin(), texts.end()};
}

std::vector<std::string_view> Report::all_warning_texts(const SkuPlan& p) const {
  std::vector<std::string_view> out;
  for (const auto* list : {&input.warnings, &arch.warnings, &weights.warnings, &p.warnings, &p.summary.warnings})
    for (const auto& text : *list)
      if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
  return out;
}

std::string_view Report::verdict(const SkuPlan& p) const {
  if (uncertain()) return "uncertain";
  return p.fits() ? "fits" : "does_not_fit";
}

CheckpointSizes checkpoint_sizes(const ModelInput& input) {
  CheckpointSizes c;
  if (input.safetensors) {
    c.header_bytes_by_dtype = input.safetensors->bytes_by_dtype;
    c.header_elements_by_dtype = input.safetensors->elements_by_dtype;
    c.header_total_bytes = input.safetensors->total_bytes;
    c.header_tensors = input.safetensors->tensor_count;
    c.header_files = input.safetensors->files;
  }
  c.index_total_size = input.index_total_size;
  c.checkpoint_total_size = input.checkpoint_total_size;
  c.checkpoint_total_source = input.checkpoint_total_source;
  c.catalog_weight_bytes = input.catalog_weight_bytes;
  return c;
}

}  // namespace vramcalc
