// GPU and cloud-instance SKUs (data/skus.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vramcalc {

struct Gpu {
  std::string name;  // "A100-80G"
  std::vector<std::string> aliases;
  std::string vendor;  // "NVIDIA", "AMD", "Intel", "AWS"
  std::string architecture;
  std::optional<double> compute_capability;
  double memory_gib_marketed = 0;                      // the label number ("80" for an 80 GB card)
  std::optional<std::uint64_t> memory_mib_reported;    // nvidia-smi memory.total, MiB
  std::vector<std::uint64_t> cuda_total_mib_observed;  // torch total_memory / cudaMemGetInfo totals, MiB
  bool bf16 = false;
  bool fp8 = false;
  std::optional<double> bandwidth_gbps;  // GB/s
  bool vllm_cuda = true;                 // false: vLLM's CUDA path does not serve it (Trainium, Inferentia, Radeon)
  std::string note;                      // why vllm_cuda is false, or other caveats
};

struct Sku {
  std::string name;                  // "A100-80G" or "Standard_NC24ads_A100_v4"
  std::vector<std::string> aliases;  // case-insensitive alternative names (KAITO spellings, ...)
  std::string cloud;                 // "" for a bare GPU; "azure", "aws", "gcp", "azure-arc"
  Gpu gpu;
  int gpus_per_node = 1;
  bool is_instance = false;
  bool kaito_supported = false;
  bool verified = true;
};

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
