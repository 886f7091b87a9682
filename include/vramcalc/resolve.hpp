// Turning --model into a ModelInput: a local path first, then the bundled catalog.
#pragma once

#include <string>

#include "vramcalc/catalog.hpp"
#include "vramcalc/sources.hpp"

namespace vramcalc {

// Resolution order: an existing local path (config.json file or model directory), then a catalog id or alias
// (case-insensitive). Anything else is Error(BadInput) with close catalog ids suggested and a note that
// fetching from the Hugging Face Hub needs network support, which this build does not have yet.
ModelInput resolve_model(const std::string& spec, const ModelCatalog& catalog);

// A catalog entry as a ModelInput (its config, known checkpoint size and parameter count).
ModelInput catalog_input(const CatalogModel& entry);

}  // namespace vramcalc
