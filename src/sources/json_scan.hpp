// Cutting a JSON text into pieces without parsing it, so that a lookup in a bundled data file parses only the
// entries that can match (bench/RESULTS.md: a full parse of data/skus.json was most of a plan's own work).
// The scan follows only strings and nesting: it validates nothing, so callers parse every piece they use and
// fall back to a full parse (which reports what is wrong) whenever a scan gives up.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace vramcalc::detail {

struct JsonMember {
  std::string_view key;    // as written between the quotes (the scan gives up on keys holding escapes)
  std::string_view value;  // the value's text, without surrounding whitespace
};

// The members of a text that is one JSON object, in order (duplicates kept). nullopt when it is not an object,
// a key holds an escape, the nesting does not close, or anything but whitespace follows the object.
std::optional<std::vector<JsonMember>> scan_object(std::string_view text);

// The elements of a JSON array whose elements are all objects, in order. nullopt otherwise.
std::optional<std::vector<std::string_view>> scan_object_array(std::string_view text);

// The value of the one member called `key`: nullopt when there is none or more than one.
std::optional<std::string_view> unique_member(const std::vector<JsonMember>& members, std::string_view key);

// ASCII case-insensitive "does `text` contain `needle`", the filter that picks the entries worth parsing.
bool contains_icase(std::string_view text, std::string_view needle);

}  // namespace vramcalc::detail
