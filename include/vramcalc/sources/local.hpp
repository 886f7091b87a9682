// Where a model's config and weight sizes come from: local files, the bundled catalog
// (and, from the Hub issue on, the Hugging Face Hub and caches).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vramcalc/sources/safetensors.hpp"

namespace vramcalc {

// Everything a source knows about a model before normalization.
struct ModelInput {
  std::string id;                                 // what to call the model in output (catalog id, or the path given)
  std::string origin;                             // "local file ...", "local directory ...", "bundled catalog"
  nlohmann::json config;                          // the config.json object
  std::optional<SafetensorsSummary> safetensors;  // exact sizes from safetensors headers, when read
  std::optional<std::uint64_t> index_total_size;  // metadata.total_size of model.safetensors.index.json
  std::optional<std::uint64_t> checkpoint_total_size;  // pytorch_model.bin.index.json total, or one file's size
  std::string checkpoint_total_source;                 // where checkpoint_total_size came from
  std::optional<std::uint64_t> catalog_weight_bytes;   // catalog-known checkpoint bytes (INDEX.json)
  std::optional<std::uint64_t> catalog_num_params;     // catalog-known logical parameter count
  std::vector<std::string> warnings;
};

// True when `spec` names an existing file or directory (or looks like a path: starts with '/', '.', '~').
bool looks_like_local_path(const std::string& spec);

// Loads a config.json path, or a model directory: its config.json, plus model.safetensors.index.json
// (metadata.total_size) and the headers of every *.safetensors file present (exact sizes).
// Errors (missing config.json, unreadable file, malformed JSON or header) are Error(BadInput) naming the file.
ModelInput load_local_model(const std::filesystem::path& path);

}  // namespace vramcalc
