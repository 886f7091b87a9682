// JSON parsing that accepts what real config.json files contain.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "vramcalc/error.hpp"

namespace vramcalc {

// Parses JSON text. Outside string literals, the non-standard tokens Python's json module writes
// (`NaN`, `Infinity`, `-Infinity`) are accepted: Infinity becomes +/-inf (a float), NaN becomes null.
// Text that nests objects and arrays deeper than limits::kMaxJsonDepth is malformed, refused before any value is
// built. On malformed input throws Error(on_error, "<origin>: malformed JSON at line L, column C: <reason>").
nlohmann::json parse_json_relaxed(std::string_view text, std::string_view origin,
                                  ExitCode on_error = ExitCode::BadInput);

}  // namespace vramcalc
