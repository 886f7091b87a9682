// The rotary-position tables vLLM keeps on every GPU (ModelArch::rotary_tables): part of what "Model loading took"
// reports, beside the parameters. Pure.
#pragma once

#include <cstdint>
#include <string>

#include "vramcalc/core/dtype.hpp"
#include "vramcalc/model/architecture.hpp"

namespace vramcalc {

struct VllmRotaryTables {
  std::uint64_t bytes = 0;  // on every GPU: not split by tensor or pipeline parallelism
  std::string formula;      // "" when the model has none
};
// The tables of `arch` in the serving `dtype`: positions x rotary_dim x the dtype's bytes, summed.
VllmRotaryTables vllm_rotary_tables(const ModelArch& arch, DType dtype);

}  // namespace vramcalc
