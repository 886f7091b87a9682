#include "support.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
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

const vramcalc::ModelCatalog& bundled_models() {
  static const vramcalc::ModelCatalog catalog = vramcalc::ModelCatalog::load(repo_data("models.json"));
  return catalog;
}

const vramcalc::SkuCatalog& bundled_skus() {
  static const vramcalc::SkuCatalog catalog = vramcalc::SkuCatalog::load(repo_data("skus.json"));
  return catalog;
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

std::string remote_error(const RunResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());
  REQUIRE_FALSE(r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);
  return r.err;
}

MeasuredRun run_measured(const std::vector<std::string>& args) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    std::string binary = VRAMCALC_BINARY;
    std::vector<std::string> copy = args;
    std::vector<char*> argv{binary.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (freopen("/dev/null", "w", stdout) == nullptr || freopen("/dev/null", "w", stderr) == nullptr) _exit(127);
    setenv("HF_HUB_OFFLINE", "1", 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  MeasuredRun m;
  int status = 0;
  rusage usage{};
  REQUIRE(wait4(pid, &status, 0, &usage) == pid);
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  m.peak_rss_kib = usage.ru_maxrss;
  return m;
}

}  // namespace testsupport
