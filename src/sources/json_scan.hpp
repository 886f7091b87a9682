// Cutting a JSON text into pieces without parsing it, so that a lookup in a bundled data file parses only the
// entries that can match (bench/RESULTS.md: a full parse of data/skus.json was most of a plan's own work).
// The scan follows only strings and nesting: it validates nothing, so callers parse every piece they use and
// fall back to a full parse (which reports what is wrong) whenever a scan gives up.
#pragma once

#include <cstdint>
#include <initializer_list>
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

// scan_object, and in the same pass the elements of the members named in `arrays` as scan_object_array gives them:
// arrays[i] for the last member called arrays[i] when it is an array of objects, nullopt when there is none or it is
// not. A data file's table is most of its text, which scan_object and then scan_object_array would go through twice.
struct ObjectScan {
  std::vector<JsonMember> members;
  std::vector<std::optional<std::vector<std::string_view>>> arrays;
};
std::optional<ObjectScan> scan_object_arrays(std::string_view text, std::initializer_list<std::string_view> arrays);

// The elements of a JSON array whose elements are all objects, in order. nullopt otherwise.
std::optional<std::vector<std::string_view>> scan_object_array(std::string_view text);

// The value of the one member called `key`: nullopt when there is none or more than one.
std::optional<std::string_view> unique_member(const std::vector<JsonMember>& members, std::string_view key);

// The elements of a JSON array, whatever their kind, each as its text. nullopt when it is not an array.
std::optional<std::vector<std::string_view>> scan_array(std::string_view text);

// --- Values read without a parser (a catalog's quick load) ---
// Each reads a value's text as cut by the scan (no surrounding space) and gives nullopt unless the text is exactly
// that kind of value and needs none of what they leave to a real parser: so a quick reader that gives up at any
// nullopt never accepts what the parser would refuse, nor reads a value differently.

// A string holding printable ASCII only (no escape, no control character, no byte above 0x7e): its contents.
std::optional<std::string_view> plain_string(std::string_view value);
// A number in JSON's grammar, as nlohmann's parser gives it to get<double>(): an integer that fits 64 bits (signed or
// not) converted, anything else parsed to the nearest double. nullopt for "-0" and for an out-of-range value, which
// the parser holds otherwise.
std::optional<double> plain_number(std::string_view value);
// A non-negative integer that fits 64 bits, as nlohmann's is_number_unsigned() holds it (no sign, fraction or
// exponent).
std::optional<std::uint64_t> plain_unsigned(std::string_view value);
// Whether `value` is one JSON value (nested or not) whose strings are all plain_string's and whose numbers are all
// plain_number's.
bool plain_json(std::string_view value);

// ASCII case-insensitive "does `text` contain `needle`", the filter that picks the entries worth parsing.
bool contains_icase(std::string_view text, std::string_view needle);

}  // namespace vramcalc::detail
