// Turning --model into a ModelInput. Order: a local path; the Hugging Face cache; vram-calc's own cache; the
// bundled catalog; the network. --refresh skips both caches and the catalog; --revision skips the catalog.
#pragma once

#include <functional>
#include <string>

#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/hub.hpp"
#include "vramcalc/sources/local.hpp"

namespace vramcalc {

struct ResolveOptions {
  HubOptions hub;
  std::function<const ModelCatalog&()> catalog;  // loaded only when the catalog is consulted
  // false: a spec is never read as a local path, only as a catalog or Hub id (`vram-calc serve`: requests come
  // from people the operator does not control).
  bool local_paths = true;
};

// Errors: a spec that is neither a path nor an org/name id is Error(BadInput); anything the hub refuses, or a
// model missing in offline mode, is Error(RemoteFailed) with one line saying what and why.
ModelInput resolve_model(const std::string& spec, const ResolveOptions& options);

// A catalog entry as a ModelInput (its config, known checkpoint size and parameter count).
ModelInput catalog_input(const CatalogModel& entry);

}  // namespace vramcalc
