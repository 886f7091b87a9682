// Small file-system helpers shared by the local sources and the caches. Private to src/sources.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace vramcalc::detail {

// $HOME, else the password database's home of the current user; nullopt when neither knows.
std::optional<std::filesystem::path> home_directory();

// os.path.expanduser: a leading "~" or "~user" up to the first '/' becomes that home directory; the value is
// left as it is when the home directory is unknown.
std::filesystem::path expand_user(const std::string& value);

// A whole file, read in binary mode; nullopt when it cannot be opened or read, or is longer than `limit` bytes.
std::optional<std::string> read_file_limited(const std::filesystem::path& file, std::size_t limit);

}  // namespace vramcalc::detail
