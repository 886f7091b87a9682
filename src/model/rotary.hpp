// The rotary-position tables a model's attention builds (ModelArch::rotary_tables). Private to the model layer.
#pragma once

#include "model/config_reader.hpp"
#include "model/families.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc::detail {

// Fills arch.rotary_tables from the config's rope fields: one table per distinct rope configuration the attention
// layers use (vLLM's get_rope shares one between layers alike), none for ALiBi, learned or absent positions. Needs
// the attention shape, the layer kinds and Gemma 4's per-layer head sizes read first.
void read_rotary_tables(ModelArch& arch, const Family& family, const ConfigReader& cfg);

}  // namespace vramcalc::detail
