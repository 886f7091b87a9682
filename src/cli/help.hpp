// --help's shape: the options grouped by topic, each value with the kind of thing it takes (SIZE, TOKENS, ...), and
// a short footer of examples; --help-all adds the formulas (the long footer options.cpp keeps for the man page).
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace vramcalc::cli {

// Puts every visible option of `app` in its topic group with its value's type name. An option the table does not
// know goes to "Other options" (tests/cli/test_help.cpp keeps that group empty).
void organize_help(CLI::App& app);

// The footer of --help: three examples and where the formulas are.
std::string_view short_help_footer();

}  // namespace vramcalc::cli
