// Shell completions and the man page, generated from the CLI11 definition that parse_options builds, so they
// cannot drift from the flags. Private to the CLI.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vramcalc::cli {

// What a flag's value completes to.
enum class ValueKind { None, Word, Choice, File, Sku, Model };

// One public option, as the generators need it.
struct FlagSpec {
  std::vector<std::string> names;    // long names first ("--model"), then short ones ("-m")
  ValueKind kind = ValueKind::None;  // None: a flag without a value
  std::string default_value;         // as --help shows it, or ""
  std::string description;
  std::vector<std::string> choices;  // ValueKind::Choice: the fixed set parse_options accepts
  bool comma_list = false;           // the value is NAME[,NAME...] (--sku, --emit)
};

// The app or one of its subcommands.
struct CommandSpec {
  std::string name;
  std::string description;
  std::vector<FlagSpec> flags;  // hidden ones (group "") left out
  std::vector<CommandSpec> subcommands;
};

CommandSpec describe_cli(const CLI::App& app);

// bash, zsh or fish; the shells the hidden --completions option takes.
const std::vector<std::string>& completion_shells();
std::string completion_script(const CommandSpec& cli, const std::string& shell);

// A man(7) page: options, commands, and the --help footer's sections (estimators, engines, exit status).
// `date` is the catalog date, so the page is the same from one build to the next.
std::string man_page(const CommandSpec& cli, const std::string& footer, const std::string& version,
                     const std::string& date);

}  // namespace vramcalc::cli
