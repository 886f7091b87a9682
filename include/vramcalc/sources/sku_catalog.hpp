// The catalog of GPU and cloud-instance SKUs (data/skus.json); the types are in core/hardware.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vramcalc/core/hardware.hpp"

namespace vramcalc {

class SkuCatalog {
 public:
  // Loads data/skus.json. Throws Error(BadInput) naming the file when it is missing or malformed.
  static SkuCatalog load(const std::filesystem::path& file);
  // The SKUs `names` ask for (names or aliases, any case), with the fields load() gives them, parsing only the
  // rows whose text can spell one; all() holds just those, in the order asked. When a name matches nothing, or
  // the file is not the shape the quick scan expects, it is load(file), so unknown names get suggest() over the
  // whole catalog and a malformed file its error. Unlike load(), rows it does not read are not checked.
  static SkuCatalog load_for(const std::filesystem::path& file, const std::vector<std::string>& names);

  // Case-insensitive lookup by name or alias, bare GPUs and instances alike; nullptr when absent.
  [[nodiscard]] const Sku* find(std::string_view name) const;
  // Up to n closest names, for "did you mean" in the unknown-SKU error.
  [[nodiscard]] std::vector<std::string> suggest(std::string_view name, std::size_t n = 3) const;
  // All SKUs: bare GPUs first (catalog order), then instances.
  [[nodiscard]] const std::vector<Sku>& all() const { return skus_; }

 private:
  std::vector<Sku> skus_;
};

}  // namespace vramcalc
