#include "sources/files.hpp"

#include <cstdlib>
#include <fstream>
#include <vector>

#include <pwd.h>
#include <unistd.h>

namespace vramcalc::detail {

namespace fs = std::filesystem;

namespace {

// The password database's home directory for `name` (the current user when empty).
std::optional<std::string> passwd_home(const std::string& name) {
  const long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(suggested > 0 ? static_cast<std::size_t>(suggested) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  const int rc = name.empty() ? getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found)
                              : getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr || found->pw_dir == nullptr || *found->pw_dir == '\0') return std::nullopt;
  return std::string(found->pw_dir);
}

}  // namespace

std::optional<fs::path> home_directory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return fs::path(home);
  if (auto home = passwd_home("")) return fs::path(*home);
  return std::nullopt;
}

fs::path expand_user(const std::string& value) {
  if (value.empty() || value.front() != '~') return fs::path(value);
  const std::size_t slash = value.find('/');
  const std::string user = value.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::optional<fs::path> home;
  if (user.empty()) {
    home = home_directory();
  } else if (auto other = passwd_home(user)) {
    home = fs::path(*other);
  }
  if (!home || home->empty()) return fs::path(value);
  const std::string rest = slash == std::string::npos ? std::string() : value.substr(slash + 1);
  return rest.empty() ? *home : *home / rest;
}

std::optional<std::string> read_file_limited(const fs::path& file, std::size_t limit) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  char buffer[65536];
  while (in) {
    in.read(buffer, sizeof buffer);
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > limit) return std::nullopt;
  }
  if (in.bad()) return std::nullopt;
  return text;
}

}  // namespace vramcalc::detail
