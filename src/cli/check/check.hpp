// `vram-calc check FILE_OR_DIR...`: Kubernetes manifests in, a verdict per workload out. Private to the CLI.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/check/result.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/k8s_catalogs.hpp"
#include "vramcalc/sources/local.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

namespace vramcalc::cli {

// Runs the check command; argv[0] is "check". Returns the exit code (README, "vram-calc check").
int run_check(int argc, char** argv);

// What every workload is checked against, loaded once per run.
struct CheckContext {
  SkuCatalog skus;
  GpuLabelMap labels;
  std::optional<KaitoPresets> presets;           // loaded at the first KAITO workload
  std::map<std::string, std::string> model_map;  // --model-map
  std::optional<std::string> sku;                // --sku: every workload on this SKU
  std::vector<std::string> hub_flags;            // --offline, --token, ... passed on to each plan
  bool offline = false;
  std::optional<std::string> vllm_version;  // --vllm-version: the release when an image tag names none
  // Models already resolved (by id and revision): a hundred manifests of one model resolve it once.
  std::map<std::string, ModelInput> models;
  std::optional<ModelCatalog> catalog;
};

// The verdict on one workload, with the figures behind it.
CheckResult check_workload(const Workload& workload, CheckContext& context);

}  // namespace vramcalc::cli
