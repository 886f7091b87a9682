// Reading a container's command line as a shell would, far enough to find the server it starts and its arguments:
// `sh -c "exec vllm serve MODEL --flag value"`, `command: [vllm, serve]` + `args: [...]`, Kubernetes' $(VAR).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vramcalc {

// An environment lookup: the value of a variable, nullopt when it is not set (or cannot be known).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// One simple command of a shell script: its leading VAR=value assignments and its words.
struct ShellCommand {
  std::vector<std::pair<std::string, std::string>> assignments;
  std::vector<std::string> words;
};

// What splitting a script found: its simple commands, in order, and what it could not read (an unclosed quote, a
// variable it could not expand), one phrase each.
struct ShellScript {
  std::vector<ShellCommand> commands;
  std::vector<std::string> problems;
};

// Splits a POSIX shell script into simple commands at ; && || | & and newlines, with single and double quotes,
// backslashes, line continuations and comments; $VAR and ${VAR} are expanded with `env` outside single quotes (an
// unknown variable is a problem, and expands to nothing). Not a shell: no globbing, subshells or here-documents
// (a $(...) command substitution is kept as written, and is a problem).
ShellScript split_shell(std::string_view script, const EnvLookup& env);

// Kubernetes' expansion of command and args: $(VAR) becomes the container's variable, $$ a literal $, and a
// reference to an unknown variable stays as written (as the kubelet leaves it). `unknown` collects the names of
// variables that are set but whose value cannot be known (env lookup returning nullopt while `defined` is true).
std::string expand_k8s_vars(std::string_view text, const EnvLookup& env,
                            const std::function<bool(std::string_view)>& defined, std::vector<std::string>& unknown);

// The servers vram-calc sizes, and how a command line starts them.
enum class ServerKind { Vllm, Tgi, KserveHuggingFace };

struct ServerCommand {
  ServerKind kind = ServerKind::Vllm;
  std::string program;            // the words that start it, as written: "vllm serve", "python3 -m vllm...."
  std::vector<std::string> args;  // what follows, up to the end of that simple command
  std::vector<std::pair<std::string, std::string>> assignments;  // VAR=value before it in the script
};

// The first server a command line starts: `words` are the container's command followed by its args; a shell
// (`sh -c SCRIPT`, `bash -lc SCRIPT`) is split and searched. `image_entrypoint`: the server the image's entrypoint
// runs, given only when the container has no command of its own (its args then go to that server). nullopt when no
// known server starts.
std::optional<ServerCommand> find_server(const std::vector<std::string>& words,
                                         std::optional<ServerKind> image_entrypoint, const EnvLookup& env,
                                         std::vector<std::string>& problems);

}  // namespace vramcalc
