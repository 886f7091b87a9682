#include "sources/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"

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

namespace {

// What a file that is not a regular one is, for the message that refuses it.
const char* file_type_name(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file or directory";
}

// The problem with a file of this type, or "" for a regular file.
std::string type_problem(mode_t mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "is a directory";
  return fmt::format("not a regular file ({})", file_type_name(mode));
}

FileRead refused(std::string problem, bool too_large = false) {
  return FileRead{std::nullopt, std::move(problem), too_large};
}

std::string over_limit(std::uintmax_t size, std::size_t limit, std::string_view kind) {
  return fmt::format("{} bytes is over the {} limit for {}", size, describe_limit(limit), kind);
}

// Closes a descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  explicit FdCloser(int descriptor) : fd(descriptor) {}
  ~FdCloser() { ::close(fd); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  FdCloser(FdCloser&&) = delete;
  FdCloser& operator=(FdCloser&&) = delete;
};

// Up to limit + 1 bytes of an open regular file; nullopt (errno set) when read() fails.
std::optional<std::string> read_up_to(int fd, std::size_t limit, std::uintmax_t size_hint) {
  std::string text;
  text.reserve(static_cast<std::size_t>(std::min<std::uintmax_t>(size_hint, limit)) + 1);
  char buffer[65536];
  while (text.size() <= limit) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return std::nullopt;
    if (got == 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  return text;
}

}  // namespace

std::string describe_limit(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} bytes", bytes);
}

FileRead read_regular_file(const fs::path& file, std::size_t limit, std::string_view kind) {
  // The type is checked before opening (opening a FIFO for reading waits for a writer; some devices act on open)
  // and again on the open descriptor, in case the path was replaced in between. O_NONBLOCK keeps that second
  // open from waiting; it changes nothing for a regular file.
  struct stat before {};
  if (::stat(file.c_str(), &before) != 0) return refused(std::strerror(errno));
  if (std::string problem = type_problem(before.st_mode); !problem.empty()) return refused(problem);
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return refused(std::strerror(errno));
  const FdCloser closer{fd};
  struct stat opened {};
  if (::fstat(fd, &opened) != 0) return refused(std::strerror(errno));
  if (std::string problem = type_problem(opened.st_mode); !problem.empty()) return refused(problem);
  const auto size = static_cast<std::uintmax_t>(opened.st_size);
  if (size > limit) return refused(over_limit(size, limit, kind), true);
  std::optional<std::string> text = read_up_to(fd, limit, size);
  if (!text) return refused(std::strerror(errno));
  if (text->size() > limit)  // it grew while being read
    return refused(fmt::format("over the {} limit for {}", describe_limit(limit), kind), true);
  return FileRead{std::move(text), "", false};
}

std::optional<std::string> read_file_limited(const fs::path& file, std::size_t limit) {
  return read_regular_file(file, limit, "files").text;
}

std::string read_input_file(const fs::path& file, const std::string& shown, std::size_t limit, std::string_view kind) {
  FileRead read = read_regular_file(file, limit, kind);
  if (!read.text)
    throw Error(ExitCode::BadInput, read.too_large ? fmt::format("{}: {}", shown, read.problem)
                                                   : fmt::format("{}: cannot read: {}", shown, read.problem));
  return std::move(*read.text);
}

}  // namespace vramcalc::detail
