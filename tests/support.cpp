#include "support.hpp"

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "vramcalc/core/json_relaxed.hpp"

namespace testsupport {

std::filesystem::path test_data(const std::string& relative) {
  return std::filesystem::path(VRAMCALC_TEST_DATA_DIR) / relative;
}

std::filesystem::path repo_data(const std::string& relative) {
  return std::filesystem::path(VRAMCALC_DATA_DIR) / relative;
}

static std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json load_test_config(const std::string& dir) {
  auto file = test_data("configs/" + dir + "/config.json");
  return vramcalc::parse_json_relaxed(read_all(file), file.string());
}

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() / ("vramcalc-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::filesystem::path& file, const std::string& contents) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out << contents;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

RunResult run_cli(const std::string& args, const std::string& env) {
  TempDir dir;
  auto out_file = dir.path() / "stdout";
  auto err_file = dir.path() / "stderr";
  // Isolated from the developer's caches and token, and offline, unless `env` (applied last) says otherwise.
  const std::string isolation = "HF_HOME='" + (dir.path() / "hf").string() + "' XDG_CACHE_HOME='" +
                                (dir.path() / "xdg").string() + "' HF_HUB_OFFLINE=1 HF_TOKEN= HF_ENDPOINT= ";
  std::string cmd = isolation + env + (env.empty() ? "" : " ") + "'" + std::string(VRAMCALC_BINARY) + "' " + args +
                    " </dev/null >'" + out_file.string() + "' 2>'" + err_file.string() + "'";
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_all(out_file);
  r.err = read_all(err_file);
  return r;
}

}  // namespace testsupport
