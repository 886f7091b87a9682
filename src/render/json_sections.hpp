// Pieces of the JSON renderer shared by its files (private to src/render).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "render/json_writer.hpp"
#include "vramcalc/report/report.hpp"

namespace vramcalc::render_detail {

// The sections of a plan object that json_engines.cpp writes, each as the value of its member (the caller writes
// the name). Members in byte order of their names, as nlohmann's std::map keeps them (render/json_writer.hpp).
void write_baseline(JsonWriter& w, const SkuPlan& sp);  // another memory model's plan of the SKU, or null
void write_feasibility(JsonWriter& w, const Feasibility& f);
void write_plan_summary(JsonWriter& w, const SkuPlan& sp);  // "plan": the chosen method's summary
void write_suggestions(JsonWriter& w, const std::vector<Suggestion>& list);
// "vllm", "wizard", "tgi": the method's own object when `m` is the plan's method, else null.
void write_method_section(JsonWriter& w, Method m, const Report& r, const SkuPlan& sp);
// "vllm_command", "tgi_command": the launch command when `engine` is the plan's, else null.
void write_launch_command(JsonWriter& w, std::string_view engine, const SkuPlan& sp);
void write_warnings(JsonWriter& w, const Report& r, const SkuPlan& sp);

// A sweep point's member of a plan object: "sweep": {"flag": ..., "value": ...}.
struct SweepMember {
  std::string_view flag;
  std::string_view value;
};
// One plan object as text, as render_json writes it (`indent` as json::dump's), with a "sweep" member when given.
std::string plan_json_text(const Report& r, const SkuPlan& sp, int indent, const SweepMember* sweep);

// Valid UTF-8 text with what YAML parsers refuse or read as a line break, besides the C0 controls, escaped as
// \uXXXX: DEL, the C1 controls, U+2028/U+2029, U+FEFF, U+FFFE/U+FFFF. Inside a JSON string or a YAML
// double-quoted scalar the escape means the same character; in a YAML comment it is just text.
std::string escape_yaml_unsafe(std::string_view text);

// `j` as JSON text (`indent` as json::dump's; -1 for one line) that is safe on a terminal and valid YAML: strings
// reach reports from argv, profiles, file names and configs, none of them checked. Invalid UTF-8 is written as
// U+FFFD (json::dump() would throw); the C0 controls are escaped as nlohmann escapes them, the rest as
// escape_yaml_unsafe does (write_json_string).
std::string dump_json(const nlohmann::json& j, int indent);

}  // namespace vramcalc::render_detail
