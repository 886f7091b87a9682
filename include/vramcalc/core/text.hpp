// ASCII case helpers for names that are matched case-insensitively (SKUs, catalog ids, flags, dtypes, units).
// ASCII only, on purpose: these names are ASCII, and a locale must not change how they match.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vramcalc {

// A-Z lowered; other bytes unchanged.
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
// `text` with A-Z lowered; other bytes unchanged.
std::string ascii_lower(std::string_view text);
// Levenshtein distance (insertions, deletions, substitutions) ignoring ASCII case: "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
// Equal ignoring ASCII case.
bool iequals_ascii(std::string_view a, std::string_view b);

}  // namespace vramcalc
