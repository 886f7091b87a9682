// What a GPU and a SKU (a bare GPU, or a cloud instance of several) are: plain descriptions, read from
// data/skus.json by sources/sku_catalog.hpp and used by every engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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
  bool cuda_served =
      true;          // false: the servers' CUDA path (vLLM, TGI) does not serve it (Trainium, Inferentia, Radeon)
  std::string note;  // why cuda_served is false, or other caveats
};

// GPUs in one node of a bare GPU SKU ("H100-80G"): the common server shape (8 SXM or PCIe cards).
inline constexpr int kBareGpusPerNode = 8;

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

}  // namespace vramcalc
