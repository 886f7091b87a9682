// libFuzzer target: the quick scan behind the bundled catalogs' lookups, checked against nlohmann's parse of the
// same text (fuzz/entry_points.hpp: run_json_scan says what must agree). A disagreement throws, which aborts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)vramcalc::fuzzing::run_json_scan(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
