// What every command shares at the edge: writing stdout (a write error is exit 2, never a silent success) and
// keeping tokens out of what it prints. Private to the CLI.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vramcalc::cli {

// Writes all of `text` to stdout and flushes it. Throws Error(BadInput) "cannot write the output: ..." when stdout
// is full, closed, or its reader went away.
void write_output(const std::string& text);

// write_output in pieces: each piece written (an error throws as above), then finish_output flushes and checks once.
void write_output_piece(std::string_view text);
void finish_output();

// `message` with the command line's secrets (token-like flags' values, hf_... words) replaced by ***.
std::string redact_secrets(std::string message, const std::vector<std::string>& args);

// Called inside a catch (...) block: prints the exception in flight as every command does (one line on stderr,
// `args`' secrets redacted) and returns its exit code: an Error's own, else 2 (out of memory, or an internal error).
int report_failure(const std::vector<std::string>& args);

}  // namespace vramcalc::cli
