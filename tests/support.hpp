// Helpers shared by the tests: paths to test data, temporary directories, running the binary.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

namespace testsupport {

// True in the sanitized build (scripts/test --sanitize). AddressSanitizer keeps freed memory in quarantine (256 MB)
// and shadows every byte, so peak-memory bounds only mean something without it: tests skip them there.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// tests/data/<relative>
std::filesystem::path test_data(const std::string& relative);
// The repository's data/ directory (bundled catalog and SKUs).
std::filesystem::path repo_data(const std::string& relative);
// The bundled catalogs (data/models.json, data/skus.json), loaded once for the whole test binary.
const vramcalc::ModelCatalog& bundled_models();
const vramcalc::SkuCatalog& bundled_skus();
// tests/data/configs/<dir>/config.json parsed (relaxed JSON).
nlohmann::json load_test_config(const std::string& dir);

// A fresh empty directory under the system temp dir, removed when the object is destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& file, const std::string& contents);

// Sets (or, with nullopt, unsets) an environment variable; the destructor restores what was there before.
class EnvVar {
 public:
  EnvVar(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    set(value);
  }
  ~EnvVar() { set(old_); }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  void set(const std::optional<std::string>& value) {
    if (value) ::setenv(name_, value->c_str(), 1);
    else ::unsetenv(name_);
  }
  const char* name_;
  std::optional<std::string> old_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the built vram-calc binary with `args` (a shell-quoted argument string appended to the binary path),
// with extra environment assignments prefixed (e.g. "HOME=/tmp/x"). Captures stdout and stderr separately.
// Every run starts isolated: HF_HOME and XDG_CACHE_HOME in a fresh temporary directory, HF_HUB_OFFLINE=1,
// HF_TOKEN and HF_ENDPOINT empty; assignments in `env` come after and override these.
RunResult run_cli(const std::string& args, const std::string& env = "");

// Checks that a run failed remotely: exit 3, one line on stderr, nothing on stdout. Returns the line.
std::string remote_error(const RunResult& r);

struct MeasuredRun {
  int exit_code = -1;
  long peak_rss_kib = 0;
  double seconds = 0;
};
// Runs the built binary with `args` (no shell; stdout and stderr discarded; HF_HUB_OFFLINE=1) and measures it:
// wait4's rusage covers this child only, whatever else the test process ran before.
MeasuredRun run_measured(const std::vector<std::string>& args);

}  // namespace testsupport
