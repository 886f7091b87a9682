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

// What a SKU name resolves to: one SKU, nothing, or several candidates when the name is ambiguous.
struct SkuMatch {
  const Sku* sku = nullptr;            // the SKU the name spells; nullptr when none or several
  std::vector<const Sku*> candidates;  // when ambiguous: every SKU it could mean, in catalog order
};

class SkuCatalog {
 public:
  // Loads data/skus.json. Throws Error(BadInput) naming the file when it is missing or malformed.
  static SkuCatalog load(const std::filesystem::path& file);
  // The SKUs `names` ask for (names or aliases, any case), with the fields load() gives them, parsing only the
  // rows whose text can spell one; all() holds just those, in the order asked. When a name is not a name or alias
  // (a loose spelling, an unknown or ambiguous name), or the file is not the shape the quick scan expects, it is
  // load(file), so find() matches loosely and suggest() works over the whole catalog, and a malformed file gets its
  // error. Unlike load(), rows it does not read are not checked.
  static SkuCatalog load_for(const std::filesystem::path& file, const std::vector<std::string>& names);

  // The SKU `name` means, tried in this order:
  //  1. a name or alias in any case, bare GPUs and instances alike (the first in catalog order). An alias that only
  //     names a family whose GPUs differ in memory (A100: 40 or 80 GB; H100; V100) is ambiguous instead: sizing on
  //     the wrong memory is the mistake to avoid, whichever member the catalog's source mapped it to;
  //  2. the same words, ignoring case, spaces, dashes and underscores, with a memory figure in GB, G or GiB read as
  //     one (h100_80gb, "A100 80GB", GPU feature discovery's NVIDIA-A100-SXM4-80GB, its -SHARED suffix dropped);
  //  3. for bare GPUs, a model number and any other words found in one name or alias, or its memory ("H100 SXM5",
  //     "Tesla T4 16GB", "RTX 6000"). Several SKUs at any step make the name ambiguous.
  [[nodiscard]] SkuMatch match(std::string_view name) const;
  // match(name).sku: nullptr when absent. Throws Error(BadInput), one line naming the candidates, when ambiguous.
  [[nodiscard]] const Sku* find(std::string_view name) const;
  // Up to n closest names, for "did you mean" in the unknown-SKU error.
  [[nodiscard]] std::vector<std::string> suggest(std::string_view name, std::size_t n = 3) const;
  // All SKUs: bare GPUs first (catalog order), then instances.
  [[nodiscard]] const std::vector<Sku>& all() const { return skus_; }

 private:
  std::vector<Sku> skus_;
};

}  // namespace vramcalc
