// CLI11 2.1 has no completion generator, so this walks the option list parse_options built and writes
// bash, zsh and fish scripts from it. Only what an option's definition cannot say (its fixed set of values, read
// from the choice tables where there is one, or that it names a file, a SKU or a model) is listed here.
#include "cli/completions.hpp"
#include "cli/options.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "vramcalc/core/error.hpp"
#include "vramcalc/engines/kaito/plan.hpp"

namespace vramcalc::cli {

namespace {

struct ValueRule {
  const char* command;  // "vram-calc", or a subcommand's name
  const char* flag;
  ValueKind kind;
  std::vector<std::string> choices;
  bool comma_list = false;
};

// The value lists of the choice flags come from their tables (options.hpp's *_names); the rest are fixed here.
const std::vector<ValueRule>& value_rules() {
  static const std::vector<ValueRule> rules = {
      {"vram-calc", "--format", ValueKind::Choice, format_names(false)},
      {"skus", "--format", ValueKind::Choice, format_names(true)},
      {"models", "--format", ValueKind::Choice, format_names(true)},
      {"vram-calc", "--engine", ValueKind::Choice, engine_names()},
      {"vram-calc", "--estimator", ValueKind::Choice, estimator_names()},
      {"vram-calc", "--cudagraph-estimate", ValueKind::Choice, {"on", "off"}},
      {"vram-calc", "--kaito-rules", ValueKind::Choice, kaito_rules_names()},
      {"vram-calc", "--emit", ValueKind::Choice, emit_names(), true},
      {"vram-calc", "--kv-cache-dtype", ValueKind::Choice, {"auto", "fp8", "fp8_e4m3", "fp8_e5m2"}},
      {"vram-calc", "--dtype", ValueKind::Choice, {"auto", "float16", "bfloat16", "float32"}},
      {"vram-calc", "--quantization", ValueKind::Choice, {"fp8", "awq", "gptq", "int8", "bitsandbytes"}},
      {"vram-calc", "--model", ValueKind::Model, {}},
      {"vram-calc", "--sku", ValueKind::Sku, {}, true},
      {"vram-calc", "--profile", ValueKind::File, {}},
      {"vram-calc", "--ca-bundle", ValueKind::File, {}},
  };
  return rules;
}

FlagSpec describe_option(const std::string& command, const CLI::Option& opt) {
  FlagSpec f;
  for (const auto& name : opt.get_lnames()) f.names.push_back("--" + name);
  for (const auto& name : opt.get_snames()) f.names.push_back("-" + name);
  f.description = opt.get_description();
  f.default_value = opt.get_default_str();
  if (opt.get_items_expected_max() == 0) return f;  // a flag: no value
  f.kind = ValueKind::Word;
  for (const auto& rule : value_rules()) {
    if (command != rule.command || f.names.front() != rule.flag) continue;
    f.kind = rule.kind;
    f.choices = rule.choices;
    f.comma_list = rule.comma_list;
  }
  return f;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// Both catalog listings are JSON arrays of objects, one key per line at four spaces: pick one key's values.
std::string names_sed(const std::string& key) {
  return fmt::format(R"sh(sed -n 's/^    "{}": "\(.*\)",\{{0,1\}}$/\1/p')sh", key);
}

// ---- bash ----------------------------------------------------------------------------------------------

// `items` joined by `sep`, with a backslash-newline and `indent` wherever a line would pass 100 characters.
std::string wrap_join(const std::vector<std::string>& items, const std::string& sep, const std::string& indent) {
  std::string out;
  std::size_t line = indent.size();
  for (const auto& item : items) {
    if (!out.empty() && line + sep.size() + item.size() > 100) {
      out += sep.substr(0, sep.find_last_not_of(' ') + 1) + " \\\n" + indent;
      line = indent.size();
    } else if (!out.empty()) {
      out += sep;
      line += sep.size();
    }
    out += item;
    line += item.size();
  }
  return out;
}

// The `case $prev in` arms that complete one command's option values.
std::string bash_value_arms(const CommandSpec& cmd) {
  std::string out;
  std::vector<std::string> free_values;
  for (const auto& f : cmd.flags) {
    std::string action;
    switch (f.kind) {
      case ValueKind::None: continue;
      case ValueKind::Word: free_values.insert(free_values.end(), f.names.begin(), f.names.end()); continue;
      case ValueKind::Choice:
        action = f.comma_list ? fmt::format("_vram_calc_list \"{}\"", join(f.choices, " "))
                              : fmt::format("_vram_calc_words \"{}\"", join(f.choices, " "));
        break;
      case ValueKind::File: action = "_vram_calc_files"; break;
      case ValueKind::Model: action = "_vram_calc_files; _vram_calc_words \"$(_vram_calc_models)\" add"; break;
      case ValueKind::Sku: action = "_vram_calc_list \"all $(_vram_calc_skus)\""; break;
    }
    out += fmt::format("      {}) {} ;;\n", join(f.names, " | "), action);
  }
  // A number or free text: nothing to offer (and no options, which would be wrong there).
  if (!free_values.empty()) out += fmt::format("      {}) ;;\n", wrap_join(free_values, " | ", "        "));
  return out;
}

// The options and subcommands of one command; compgen keeps those that start with the word typed so far.
std::string bash_words(const CommandSpec& cmd) {
  std::vector<std::string> words;
  for (const auto& f : cmd.flags) words.insert(words.end(), f.names.begin(), f.names.end());
  for (const auto& s : cmd.subcommands) words.push_back(s.name);
  return wrap_join(words, " ", "        ");
}

std::string bash_command_body(const CommandSpec& cmd) {
  return fmt::format("    case $prev in\n{}      *) _vram_calc_words \"{}\" ;;\n    esac\n", bash_value_arms(cmd),
                     bash_words(cmd));
}

std::string bash_script(const CommandSpec& cli) {
  std::vector<std::string> value_flags, subcommand_names;
  auto collect = [&](const CommandSpec& c) {
    for (const auto& f : c.flags)
      if (f.kind != ValueKind::None) value_flags.insert(value_flags.end(), f.names.begin(), f.names.end());
  };
  collect(cli);
  std::string sub_cases;
  for (const auto& s : cli.subcommands) {
    collect(s);
    subcommand_names.push_back(s.name);
    sub_cases += fmt::format("  {})\n{}    ;;\n", s.name, bash_command_body(s));
  }
  std::sort(value_flags.begin(), value_flags.end());
  value_flags.erase(std::unique(value_flags.begin(), value_flags.end()), value_flags.end());

  return fmt::format(R"sh(# bash completion for vram-calc                              -*- shell-script -*-
# Written by vram-calc from its own option definitions when it was built; do not edit.

# Candidates from a word list ($1) matching $cur; "add" ($2) keeps what is already offered.
_vram_calc_words() {{
  local w
  [[ $2 == add ]] || COMPREPLY=()
  while IFS= read -r w; do COMPREPLY+=("$w"); done < <(compgen -W "$1" -- "$cur")
}}

# The last item of a comma-separated list ($cur) from the words in $1.
_vram_calc_list() {{
  local prefix="" w
  [[ $cur == *,* ]] && prefix=${{cur%,*}},
  COMPREPLY=()
  while IFS= read -r w; do COMPREPLY+=("$w"); done < <(compgen -P "$prefix" -W "$1" -- "${{cur##*,}}")
  compopt -o nospace 2>/dev/null
}}

_vram_calc_files() {{
  local w
  COMPREPLY=()
  while IFS= read -r w; do COMPREPLY+=("$w"); done < <(compgen -f -- "$cur")
  compopt -o filenames 2>/dev/null
}}

# SKU names and model ids from the catalog that the binary being completed reads.
_vram_calc_skus() {{ "${{COMP_WORDS[0]}}" skus --format json 2>/dev/null | {sku_sed}; }}
_vram_calc_models() {{ "${{COMP_WORDS[0]}}" models --format json 2>/dev/null | {model_sed}; }}

_vram_calc() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} prev="" cmd="" i
  ((COMP_CWORD > 0)) && prev=${{COMP_WORDS[COMP_CWORD - 1]}}
  # --flag=value reaches us as three words: --flag, =, value.
  if [[ $cur == = ]]; then
    cur=""
  elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
    prev=${{COMP_WORDS[COMP_CWORD - 2]}}
  fi
  # The subcommand, if one comes before the word being completed (option values skipped).
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${{COMP_WORDS[i]}} in
      {value_flags})
        [[ ${{COMP_WORDS[i + 1]}} == = ]] && ((i++))
        ((i++)) ;;
      {subcommands}) cmd=${{COMP_WORDS[i]}} ;;
    esac
  done
  case $cmd in
{sub_cases}  *)
{root_body}    ;;
  esac
}}
complete -F _vram_calc vram-calc
)sh",
                     fmt::arg("sku_sed", names_sed("name")), fmt::arg("model_sed", names_sed("id")),
                     fmt::arg("value_flags", wrap_join(value_flags, " | ", "        ")),
                     fmt::arg("subcommands", join(subcommand_names, " | ")), fmt::arg("sub_cases", sub_cases),
                     fmt::arg("root_body", bash_command_body(cli)));
}

// ---- zsh -----------------------------------------------------------------------------------------------

// Text inside an _arguments '[...]' description, itself inside single quotes.
std::string zsh_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\'') out += "'\\''";
    else if (c == '[' || c == ']' || c == '\\' || c == ':') out += std::string("\\") + c;
    else out += c;
  }
  return out;
}

std::string zsh_action(const FlagSpec& f) {
  const std::string message = f.names.front().substr(2);
  switch (f.kind) {
    case ValueKind::Choice:
      return f.comma_list ? fmt::format(":{}:_sequence compadd - {}", message, join(f.choices, " "))
                          : fmt::format(":{}:({})", message, join(f.choices, " "));
    case ValueKind::File: return ":file:_files";
    case ValueKind::Model: return ":model:_vram_calc_models";
    case ValueKind::Sku: return ":sku:_sequence _vram_calc_skus";
    case ValueKind::Word: return fmt::format(":{}: ", message);
    default: return "";
  }
}

// One _arguments line per option name, each excluding its aliases.
std::string zsh_specs(const CommandSpec& cmd, const std::string& indent) {
  std::string out;
  for (const auto& f : cmd.flags) {
    const std::string exclude = f.names.size() > 1 ? "(" + join(f.names, " ") + ")" : "";
    for (const auto& name : f.names) {
      const bool is_long = name.rfind("--", 0) == 0;
      const std::string takes = f.kind == ValueKind::None ? "" : (is_long ? "=" : "+");
      out +=
          fmt::format("{}'{}{}{}[{}]{}' \\\n", indent, exclude, name, takes, zsh_escape(f.description), zsh_action(f));
    }
  }
  return out;
}

std::string zsh_script(const CommandSpec& cli) {
  std::string commands, sub_cases;
  for (const auto& s : cli.subcommands) {
    commands += fmt::format(" '{}:{}'", s.name, zsh_escape(s.description));
    sub_cases += fmt::format("        {})\n          _arguments \\\n{}            && ret=0 ;;\n", s.name,
                             zsh_specs(s, "            "));
  }
  return fmt::format(R"sh(#compdef vram-calc
# zsh completion for vram-calc
# Written by vram-calc from its own option definitions when it was built; do not edit.

# SKU names and model ids from the catalog that the binary being completed reads.
_vram_calc_skus() {{
  local -a names
  names=(all ${{(f)"$(${{~words[1]}} skus --format json 2>/dev/null | {sku_sed})"}})
  compadd "$@" -a names
}}

_vram_calc_models() {{
  local -a ids
  ids=(${{(f)"$(${{~words[1]}} models --format json 2>/dev/null | {model_sed})"}})
  _alternative 'files:file:_files' 'ids:catalog id:compadd -a ids'
}}

_vram-calc() {{
  local curcontext=$curcontext state line ret=1
  typeset -A opt_args
  _arguments -C \
{root_specs}    ': :->command' \
    '*:: :->args' && ret=0
  case $state in
    command)
      local -a commands
      commands=({commands})
      _describe -t commands command commands && ret=0 ;;
    args)
      case $line[1] in
{sub_cases}      esac ;;
  esac
  return ret
}}

# Autoloaded from $fpath this file is the function itself; sourced, it registers it.
if [[ $funcstack[1] == _vram-calc ]]; then
  _vram-calc "$@"
else
  compdef _vram-calc vram-calc
fi
)sh",
                     fmt::arg("sku_sed", names_sed("name")), fmt::arg("model_sed", names_sed("id")),
                     fmt::arg("root_specs", zsh_specs(cli, "    ")), fmt::arg("commands", commands),
                     fmt::arg("sub_cases", sub_cases));
}

// ---- fish ----------------------------------------------------------------------------------------------

std::string fish_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string fish_lines(const CommandSpec& cmd, const std::string& condition) {
  std::string out;
  for (const auto& f : cmd.flags) {
    std::string line = "complete -c vram-calc -n " + fish_quote(condition);
    for (const auto& name : f.names)
      line += (name.rfind("--", 0) == 0 ? " -l " + name.substr(2) : " -s " + name.substr(1));
    switch (f.kind) {
      case ValueKind::Choice:
        line += f.comma_list
                    ? fmt::format(" -x -a '(__fish_complete_list , \"__vram_calc_words {}\")'", join(f.choices, " "))
                    : fmt::format(" -x -a '{}'", join(f.choices, " "));
        break;
      case ValueKind::File: line += " -r -F"; break;
      case ValueKind::Model: line += " -r -F -a '(__vram_calc_names models id)'"; break;
      case ValueKind::Sku: line += " -x -a '(__fish_complete_list , __vram_calc_skus)'"; break;
      case ValueKind::Word: line += " -x"; break;
      default: break;
    }
    out += line + " -d " + fish_quote(f.description) + "\n";
  }
  return out;
}

std::string fish_script(const CommandSpec& cli) {
  std::vector<std::string> names;
  for (const auto& s : cli.subcommands) names.push_back(s.name);
  const std::string no_subcommand = "not __fish_seen_subcommand_from " + join(names, " ");
  std::string out = fmt::format(R"sh(# fish completion for vram-calc
# Written by vram-calc from its own option definitions when it was built; do not edit.

function __vram_calc_words
    printf '%s\n' $argv
end

# SKU names and model ids from the catalog that the binary being completed reads ($argv: listing, JSON key).
function __vram_calc_names
    set -l bin (commandline -opc)[1]
    $bin $argv[1] --format json 2>/dev/null | string replace -rf '^    "'$argv[2]'": "(.*)",?$' '$1'
end

function __vram_calc_skus
    echo all
    __vram_calc_names skus name
end

complete -c vram-calc -f
)sh");
  for (const auto& s : cli.subcommands)
    out += fmt::format("complete -c vram-calc -n {} -a {} -d {}\n", fish_quote(no_subcommand), s.name,
                       fish_quote(s.description));
  out += fish_lines(cli, no_subcommand);
  for (const auto& s : cli.subcommands) out += fish_lines(s, "__fish_seen_subcommand_from " + s.name);
  return out;
}

}  // namespace

CommandSpec describe_cli(const CLI::App& app) {
  CommandSpec c{app.get_name(), app.get_description(), {}, {}};
  for (const CLI::Option* opt : app.get_options()) {
    // Group "" hides an option from --help; the generated files leave it out too. Positionals have no names.
    if (opt->get_group().empty() || opt->get_positional()) continue;
    c.flags.push_back(describe_option(c.name, *opt));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    c.subcommands.push_back(describe_cli(*sub));
  return c;
}

const std::vector<std::string>& completion_shells() {
  static const std::vector<std::string> shells = {"bash", "zsh", "fish"};
  return shells;
}

std::string completion_script(const CommandSpec& cli, const std::string& shell) {
  if (shell == "bash") return bash_script(cli);
  if (shell == "zsh") return zsh_script(cli);
  if (shell == "fish") return fish_script(cli);
  fail_input(fmt::format("--completions: \"{}\" is not one of {}", shell, join(completion_shells(), ", ")));
}

}  // namespace vramcalc::cli
