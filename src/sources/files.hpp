// Small file-system helpers shared by the local sources and the caches. Private to src/sources.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace vramcalc::detail {

// $HOME, else the password database's home of the current user; nullopt when neither knows.
std::optional<std::filesystem::path> home_directory();

// os.path.expanduser: a leading "~" or "~user" up to the first '/' becomes that home directory; the value is
// left as it is when the home directory is unknown.
std::filesystem::path expand_user(const std::string& value);

// A whole local file, or why it was refused.
struct FileRead {
  std::optional<std::string> text;  // the contents; nullopt when refused
  std::string problem;              // why it was refused: "No such file or directory", "not a regular file (a FIFO)",
                                    // "5242880 bytes is over the 4 MiB limit for config files"
  bool too_large = false;           // the refusal was the size limit (the file itself could be read)
};

// Reads a regular file (or a link to one) whole, in binary mode, refusing anything over `limit` bytes. Anything
// else is refused before it is read: a FIFO or a character device such as /dev/zero would block or never end.
// `kind` names what the limit is for in the problem ("config files"). Never blocks on the file's type.
FileRead read_regular_file(const std::filesystem::path& file, std::size_t limit, std::string_view kind);

// read_regular_file's text; nullopt when it cannot be opened or read, is not a regular file, or is longer than
// `limit` bytes.
std::optional<std::string> read_file_limited(const std::filesystem::path& file, std::size_t limit);

// read_regular_file's text, or Error(BadInput) "<shown>: cannot read: <problem>" ("<shown>: <problem>" for the
// size limit).
std::string read_input_file(const std::filesystem::path& file, const std::string& shown, std::size_t limit,
                            std::string_view kind);

// "4 MiB" for a whole number of MiB (or KiB), else "N bytes": a limit as messages show it.
std::string describe_limit(std::size_t bytes);

}  // namespace vramcalc::detail
