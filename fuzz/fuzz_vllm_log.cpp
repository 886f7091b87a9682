// libFuzzer target: any bytes as a vLLM startup log, as `vram-calc explain-log` reads it (fuzz/entry_points.hpp,
// run_vllm_log). Any exception, a kept string holding a control character, or an unstable record aborts, which
// libFuzzer records as a crash; a super-linear path shows up as a -timeout (scripts/fuzz: 10 s).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto problem = vramcalc::fuzzing::outcome_problem(vramcalc::fuzzing::run_vllm_log(input));
  if (!problem.empty()) {
    std::fprintf(stderr, "fuzz_vllm_log: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
