// Errors and exit codes shared by every command.
#pragma once

#include <stdexcept>
#include <string>

namespace vramcalc {

// Documented exit codes (README, --help). Every command uses the same ones.
enum class ExitCode : int {
  Fits = 0,          // the plan fits (or an informational command succeeded)
  DoesNotFit = 1,    // the plan was computed and does not fit
  BadInput = 2,      // bad usage or bad local input (flags, files, configs)
  RemoteFailed = 3,  // a remote source failed (network, auth, not found, malformed remote data)
};

// An error that ends the run with a one-line message and a documented exit code.
// The message never contains a token or other secret.
// The constructor makes the message safe to print whatever text it quotes (a file name, a config string, argv):
// newlines, ESC and every other control character, C1 controls and bytes that are not UTF-8 are escaped as
// \n, \t, \x1b, \u009b, \xff (include/vramcalc/printable.hpp, printable_line), so what() is always one line
// that cannot drive the terminal.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message);
  [[nodiscard]] ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

// Shorthand for the most common failure: bad local input (exit 2).
[[noreturn]] void fail_input(const std::string& message);

}  // namespace vramcalc
