// Pieces of the JSON renderer shared by its files (private to src/render).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vramcalc/report/report.hpp"

namespace vramcalc::render_detail {

// Adds engine, fits, tgi, wizard, feasibility, suggestions, the commands and the warnings to one plan object.
void add_engine_json(nlohmann::json& j, const Report& r, const SkuPlan& sp);

// Valid UTF-8 text with what YAML parsers refuse or read as a line break, besides the C0 controls, escaped as
// \uXXXX: DEL, the C1 controls, U+2028/U+2029, U+FEFF, U+FFFE/U+FFFF. Inside a JSON string or a YAML
// double-quoted scalar the escape means the same character; in a YAML comment it is just text.
std::string escape_yaml_unsafe(std::string_view text);

// `j` as JSON text (`indent` as json::dump's; -1 for one line) that is safe on a terminal and valid YAML: strings
// reach reports from argv, profiles, file names and configs, none of them checked. Invalid UTF-8 is written as
// U+FFFD (json::dump() would throw); nlohmann escapes the C0 controls, escape_yaml_unsafe the rest.
std::string dump_json(const nlohmann::json& j, int indent);

}  // namespace vramcalc::render_detail
