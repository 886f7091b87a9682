// What `check` and `explain-log` share in reading their own flags. Private to the CLI.
#pragma once

#include <string_view>

#include <CLI/CLI.hpp>

namespace vramcalc::cli {

// Parses `vram-calc <name>`'s flags into `app`: true to go on; false when --help was asked, its help then printed
// (exit 0). A flag CLI11 refuses throws Error(BadInput) as one line, "<name>: <CLI11's message> (vram-calc <name>
// --help)".
bool parse_subcommand_flags(CLI::App& app, int argc, char** argv, std::string_view name);

}  // namespace vramcalc::cli
