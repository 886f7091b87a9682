// libFuzzer target: config.json text through relaxed JSON, normalization, weights, the KV cache and
// a plan per engine and estimator (fuzz/entry_points.hpp).
// Rejections (vramcalc::Error) are expected; any other exception, or a rejection that is not one clean line,
// aborts, which libFuzzer records as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto problem = vramcalc::fuzzing::outcome_problem(vramcalc::fuzzing::run_config(input));
  if (!problem.empty()) {
    std::fprintf(stderr, "fuzz_config: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
