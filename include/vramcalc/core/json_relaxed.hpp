// JSON parsing that accepts what real config.json files contain.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "vramcalc/core/error.hpp"

namespace vramcalc {

// Parses JSON text. Outside string literals, the non-standard tokens Python's json module writes
// (`NaN`, `Infinity`, `-Infinity`) are accepted: Infinity becomes +/-inf (a float), NaN becomes null.
// Text that nests objects and arrays deeper than limits::kMaxJsonDepth is malformed, refused before any value is
// built. On malformed input throws Error(on_error, "<origin>: malformed JSON at line L, column C: <reason>").
nlohmann::json parse_json_relaxed(std::string_view text, std::string_view origin,
                                  ExitCode on_error = ExitCode::BadInput);

// The pieces of that error, for readers that parse JSON their own way (safetensors headers, read as SAX events).
// The offset of the first '[' or '{' that opens a container deeper than limits::kMaxJsonDepth, outside strings;
// npos when the text nests no deeper. Linear and allocation-free.
std::size_t json_nesting_overflow_at(std::string_view text);
// nlohmann's exception text as the one-line reason of the message below (its own position dropped).
std::string json_error_reason(const std::string& what);
// Throws Error(on_error, "<origin>: malformed JSON at line L, column C: <reason>") for `offset` in `text`.
[[noreturn]] void throw_malformed_json(std::string_view text, std::size_t offset, const std::string& reason,
                                       std::string_view origin, ExitCode on_error);

}  // namespace vramcalc
