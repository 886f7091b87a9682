// libFuzzer target: Kubernetes manifests as `vram-calc check` reads them (fuzz/entry_points.hpp, run_manifest).
// Any exception other than a clean vramcalc::Error, or an output holding a control character, aborts, which
// libFuzzer records as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto problem = vramcalc::fuzzing::outcome_problem(vramcalc::fuzzing::run_manifest(input));
  if (!problem.empty()) {
    std::fprintf(stderr, "fuzz_manifest: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
