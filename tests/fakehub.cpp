#include "fakehub.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace testsupport {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::filesystem::path tests_dir() { return std::filesystem::path(VRAMCALC_TEST_DATA_DIR).parent_path(); }

std::string read_file_or_empty(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& text, std::size_t max) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

nlohmann::json empty_stats() {
  return {{"requests", nlohmann::json::array()}, {"bytes_sent", 0}, {"token_leaked", false}};
}

// The stats file as written last (it is replaced atomically), or empty stats when absent or unreadable.
nlohmann::json read_stats(const std::filesystem::path& file) {
  auto text = read_file_or_empty(file);
  if (text.empty()) return empty_stats();
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? empty_stats() : parsed;
}

}  // namespace

std::filesystem::path FakeHub::repos_dir() { return test_data("hub"); }

FakeHub::FakeHub(bool tls, int latency_ms) : tls_(tls) {
  const auto port_file = dir_.path() / "port";
  const auto log = log_file();
  const char* python_env = std::getenv("VRAMCALC_TEST_PYTHON");
  // Debian's interpreter when present: a version-manager shim on PATH can cost a second per start.
  const std::string python = python_env && *python_env                     ? python_env
                             : std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3"
                                                                           : "python3";

  std::vector<std::string> args = {python,         (tests_dir() / "fakehub" / "server.py").string(),
                                   "--repos",      repos_dir().string(),
                                   "--port-file",  port_file.string(),
                                   "--stats-file", (dir_.path() / "stats.json").string(),
                                   "--control",    (dir_.path() / "control.json").string()};
  if (tls) {
    args.insert(args.end(), {"--tls", test_data("tls/server.pem").string(), test_data("tls/server-key.pem").string()});
  }
  if (latency_ms > 0) args.insert(args.end(), {"--latency-ms", std::to_string(latency_ms)});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // A clean signal state for the child: nothing blocked, SIGTERM/SIGINT/SIGPIPE at their defaults.
  sigset_t empty_mask;
  sigset_t defaults;
  sigemptyset(&empty_mask);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty_mask);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, python.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("fake hub: cannot start " + python + ": " + std::strerror(rc));
  pid_ = pid;

  const auto fail = [&](const std::string& why) {
    stop();
    throw std::runtime_error("fake hub: " + why + "; its output:\n" + tail(read_file_or_empty(log), 4000));
  };
  const auto deadline = Clock::now() + 10s;
  while (true) {
    const auto text = read_file_or_empty(port_file);
    if (!text.empty()) {
      port_ = std::atoi(text.c_str());
      if (port_ <= 0 || port_ > 65535) fail("bad port file contents \"" + text + "\"");
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      fail(WIFEXITED(status) ? "server.py exited with status " + std::to_string(WEXITSTATUS(status))
                             : "server.py was killed by a signal");
    }
    if (Clock::now() > deadline) fail("server.py did not write its port file within 10 s");
    std::this_thread::sleep_for(20ms);
  }
}

FakeHub::~FakeHub() { stop(); }

void FakeHub::stop() noexcept {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + 2s;
  while (Clock::now() < deadline) {
    const pid_t r = waitpid(pid_, nullptr, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(10ms);
  }
  ::kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string FakeHub::endpoint() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

void FakeHub::ignore_if_none_match(bool ignore) {
  control_["ignore_if_none_match"] = ignore;
  write_control();
}

void FakeHub::move_ref(const std::string& repo, const std::string& ref, const std::string& commit) {
  control_["refs"][repo][ref] = commit;
  write_control();
}

void FakeHub::write_control() const {
  // A new file renamed over the old one: the server never reads half of it, and sees a new inode.
  const auto file = dir_.path() / "control.json";
  const auto temp = dir_.path() / "control.json.tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << control_.dump();
    if (!out) throw std::runtime_error("fake hub: cannot write " + temp.string());
  }
  std::filesystem::rename(temp, file);
}

std::string FakeHub::ca_bundle() const { return test_data("tls/ca.pem").string(); }

nlohmann::json FakeHub::stats() const {
  const auto file = dir_.path() / "stats.json";
  const auto deadline = Clock::now() + 1s;
  auto last = read_stats(file);
  auto stable_since = Clock::now();
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    auto current = read_stats(file);
    if (current != last) {
      last = std::move(current);
      stable_since = Clock::now();
    } else if (Clock::now() - stable_since >= 50ms) {
      break;
    }
  }
  return last;
}

}  // namespace testsupport
