// render_json's text written out in pieces as it is made, for a caller that prints it (the plan command's stdout).
// --sku all --format json is over a megabyte: made whole, it is that much fresh memory to touch, a third of that
// command's page faults (bench/RESULTS.md); in pieces, one buffer of about 64 KB is written again and again.
#pragma once

#include <functional>
#include <string_view>

#include "vramcalc/report/report.hpp"

namespace vramcalc {

// Calls `write` with consecutive pieces of render_json(report, as_array), newline included: their concatenation is
// that text byte for byte. A piece is valid only during the call. What `write` throws goes to the caller.
void render_json_to(const Report& report, bool as_array, const std::function<void(std::string_view)>& write);

}  // namespace vramcalc
