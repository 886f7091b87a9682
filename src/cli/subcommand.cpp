#include "cli/subcommand.hpp"

#include <fmt/format.h>

#include "cli/output.hpp"
#include "vramcalc/core/error.hpp"

namespace vramcalc::cli {

bool parse_subcommand_flags(CLI::App& app, int argc, char** argv, std::string_view name) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    write_output(app.help());
    return false;
  } catch (const CLI::ParseError& e) {
    fail_input(fmt::format("{}: {} (vram-calc {} --help)", name, e.what(), name));
  }
  return true;
}

}  // namespace vramcalc::cli
