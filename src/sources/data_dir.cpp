// Locating the bundled data files (data/models.json, data/skus.json).
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/sources/catalog.hpp"

#ifndef VRAMCALC_SOURCE_DATA_DIR
#define VRAMCALC_SOURCE_DATA_DIR ""
#endif

namespace vramcalc {

namespace {

namespace fs = std::filesystem;

// The candidate directories, in search order. Unresolvable ones (no env var, no /proc) are left out.
std::vector<fs::path> data_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("VRAM_CALC_DATA_DIR"); env != nullptr && *env != '\0') dirs.emplace_back(env);

  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && !exe.empty()) {
    const fs::path bin = exe.parent_path();
    dirs.push_back(bin / ".." / "share" / "vram-calc");         // installed: <prefix>/bin + <prefix>/share/vram-calc
    dirs.push_back(bin / ".." / ".." / "share" / "vram-calc");  // the server: <prefix>/libexec/vram-calc
    dirs.push_back(bin / "data");                               // unpacked next to the binary
    dirs.push_back(bin / ".." / "data");                        // a build directory inside the source tree
  }

  const std::string compiled = VRAMCALC_SOURCE_DATA_DIR;
  if (!compiled.empty()) dirs.emplace_back(compiled);
  return dirs;
}

}  // namespace

fs::path find_data_file(std::string_view file) {
  const auto dirs = data_dirs();
  std::string looked;
  for (const auto& dir : dirs) {
    const fs::path candidate = dir / fs::path(std::string(file));
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.lexically_normal();
    looked += (looked.empty() ? "" : ", ") + dir.lexically_normal().string();
  }
  throw Error(ExitCode::BadInput, fmt::format("cannot find data file {} (looked in {}; set VRAM_CALC_DATA_DIR)", file,
                                              looked.empty() ? "nowhere" : looked));
}

}  // namespace vramcalc
