// The bundled catalog of popular models (data/models.json), served with no network.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vramcalc {

struct CatalogModel {
  std::string id;                    // current Hugging Face id, e.g. "meta-llama/Llama-3.1-8B"
  std::vector<std::string> aliases;  // renamed ids, e.g. "meta-llama/Meta-Llama-3.1-8B"
  nlohmann::json config;             // the verbatim config.json
  nlohmann::json summary;            // the normalized summary written by the generator (informational)
  std::optional<std::uint64_t> safetensors_total_bytes;  // known checkpoint size, when known
  std::optional<std::uint64_t> num_params;               // known exact logical parameter count
  std::string source;                                    // where the config came from
  bool reconstructed = false;                            // config reconstructed rather than verbatim
};

class ModelCatalog {
 public:
  // Loads data/models.json. Throws Error(BadInput) naming the file when it is missing or malformed.
  static ModelCatalog load(const std::filesystem::path& file);
  // For looking up one model (a plan's --model): find(id) answers as on load(file), but when id is in the file
  // only the entries whose text contains it (ASCII case-insensitively) are parsed, and the catalog holds just the
  // ones that match. On a miss, or a file the quick scan cannot split, it is load(file), so suggest() sees every
  // model. Entries that are not parsed are not checked: load() reports a malformed one (`vram-calc models`).
  static ModelCatalog load_for(const std::filesystem::path& file, std::string_view id);

  // Case-insensitive lookup by id or alias; nullptr when absent.
  [[nodiscard]] const CatalogModel* find(std::string_view id) const;
  // Up to `n` ids closest to `id` (edit distance, case-insensitive), for "did you mean" messages.
  [[nodiscard]] std::vector<std::string> suggest(std::string_view id, std::size_t n = 3) const;
  [[nodiscard]] const std::vector<CatalogModel>& models() const { return models_; }
  [[nodiscard]] const std::string& generated() const { return generated_; }  // catalog date

 private:
  std::vector<CatalogModel> models_;
  std::string generated_;
};

// Where data files live: $VRAM_CALC_DATA_DIR, else <exe>/../share/vram-calc, else <exe>/data,
// else the source tree's data/ (compiled in). Returns the first directory holding `file`.
std::filesystem::path find_data_file(std::string_view file);

}  // namespace vramcalc
