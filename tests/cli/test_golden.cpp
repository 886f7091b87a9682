// Golden outputs: every case under tests/golden/<group>/ is a command line with the exact stdout, stderr and exit
// code vram-calc gave when it was recorded (scripts/golden writes them; its header describes the format). Any
// difference fails, so a change of behaviour is always a deliberate one: regenerate with scripts/golden and give
// the reason in the commit.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace fs = std::filesystem;

namespace {

// The groups scripts/golden writes, one CTest test each (so they run in parallel).
const std::vector<std::string> kGroups = {"listings", "skus",   "engines", "sku-all", "emit",
                                          "settings", "sweeps", "local",   "errors"};

struct Case {
  std::vector<std::string> args;
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// "<word> <number>\n" at `pos`; advances past it.
std::size_t read_count(const std::string& text, std::size_t& pos, const std::string& word) {
  const std::string prefix = word + " ";
  REQUIRE(text.compare(pos, prefix.size(), prefix) == 0);
  const std::size_t end = text.find('\n', pos);
  REQUIRE(end != std::string::npos);
  const std::size_t n = std::stoull(text.substr(pos + prefix.size(), end - pos - prefix.size()));
  pos = end + 1;
  return n;
}

std::string read_line(const std::string& text, std::size_t& pos) {
  const std::size_t end = text.find('\n', pos);
  REQUIRE(end != std::string::npos);
  std::string line = text.substr(pos, end - pos);
  pos = end + 1;
  return line;
}

// "stdout N\n<N bytes>\n"
std::string read_block(const std::string& text, std::size_t& pos, const std::string& word) {
  const std::size_t n = read_count(text, pos, word);
  REQUIRE(pos + n + 1 <= text.size());
  std::string block = text.substr(pos, n);
  pos += n + 1;
  return block;
}

Case parse_case(const fs::path& file) {
  const std::string text = read_bytes(file);
  std::size_t pos = 0;
  Case c;
  const std::size_t argc = read_count(text, pos, "args");
  for (std::size_t i = 0; i < argc; ++i) c.args.push_back(read_line(text, pos));
  c.exit_code = static_cast<int>(read_count(text, pos, "exit"));
  c.out = read_block(text, pos, "stdout");
  c.err = read_block(text, pos, "stderr");
  return c;
}

// The JSON's "commit" value as "<commit>", as scripts/golden records it: it changes with every commit.
std::string without_commit(std::string text) {
  const std::string key = "\"commit\": \"";
  for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + key.size())) {
    const std::size_t value = at + key.size();
    const std::size_t end = text.find('"', value);
    if (end == std::string::npos) break;
    text.replace(value, end - value, "<commit>");
  }
  return text;
}

// Runs the binary from the repository root with the environment scripts/golden uses: offline, empty caches.
Case run_case(const std::vector<std::string>& args, const fs::path& scratch) {
  const fs::path out_file = scratch / "stdout";
  const fs::path err_file = scratch / "stderr";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    for (const char* prefix : {"HF_", "VRAM_CALC", "XDG_"}) {
      std::vector<std::string> names;
      for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry = *e;
        if (entry.rfind(prefix, 0) == 0) names.push_back(entry.substr(0, entry.find('=')));
      }
      for (const auto& n : names) unsetenv(n.c_str());
    }
    // Paths that do not exist, the same as scripts/golden's, so that messages naming them match.
    setenv("HF_HOME", "/nonexistent/vram-calc-golden/hf", 1);
    setenv("XDG_CACHE_HOME", "/nonexistent/vram-calc-golden/xdg", 1);
    setenv("HF_HUB_OFFLINE", "1", 1);
    setenv("HF_TOKEN", "", 1);
    setenv("HF_ENDPOINT", "", 1);
    setenv("LC_ALL", "C", 1);
    setenv("COLUMNS", "120", 1);
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0 || chdir(VRAMCALC_SOURCE_DIR) != 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<std::string> copy = args;
    std::string binary = VRAMCALC_BINARY;
    std::vector<char*> argv{binary.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  Case got;
  got.args = args;
  got.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  got.out = without_commit(read_bytes(out_file));
  got.err = read_bytes(err_file);
  return got;
}

// The first line where two texts differ, both versions, for the failure message.
std::string first_difference(const std::string& want, const std::string& got) {
  std::istringstream a(want), b(got);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) return "(they differ only in a trailing newline)";
    if (!more_a || !more_b || la != lb)
      return "line " + std::to_string(line) + ":\n  want: " + (more_a ? la : "<end>") +
             "\n  got:  " + (more_b ? lb : "<end>");
  }
}

void check_group(const std::string& group) {
  const fs::path dir = fs::path(VRAMCALC_SOURCE_DIR) / "tests" / "golden" / group;
  REQUIRE(fs::is_directory(dir));
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE_FALSE(files.empty());
  testsupport::TempDir scratch;
  int failures = 0;
  for (const auto& file : files) {
    const Case want = parse_case(file);
    const Case got = run_case(want.args, scratch.path());
    const bool same = got.exit_code == want.exit_code && got.out == want.out && got.err == want.err;
    if (same) continue;
    ++failures;
    if (failures > 5) continue;  // the first few are enough to see what changed
    std::string what = file.filename().string() + ": ";
    if (got.exit_code != want.exit_code)
      what += "exit " + std::to_string(got.exit_code) + ", recorded " + std::to_string(want.exit_code) + "; ";
    if (got.out != want.out) what += "stdout " + first_difference(want.out, got.out) + "\n";
    if (got.err != want.err) what += "stderr " + first_difference(want.err, got.err);
    FAIL_CHECK(what);
  }
  INFO(group << ": " << failures << " of " << files.size() << " cases differ (scripts/golden rewrites them)");
  CHECK(failures == 0);
}

}  // namespace

TEST_CASE("golden: listings and --help", "[golden]") { check_group("listings"); }
TEST_CASE("golden: every SKU name and alias", "[golden]") { check_group("skus"); }
TEST_CASE("golden: models x SKUs x engines and estimators x formats", "[golden]") { check_group("engines"); }
TEST_CASE("golden: --sku all and SKU lists", "[golden]") { check_group("sku-all"); }
TEST_CASE("golden: --emit", "[golden]") { check_group("emit"); }
TEST_CASE("golden: settings", "[golden]") { check_group("settings"); }
TEST_CASE("golden: sweeps", "[golden]") { check_group("sweeps"); }
TEST_CASE("golden: local configs and profiles", "[golden]") { check_group("local"); }
TEST_CASE("golden: errors", "[golden]") { check_group("errors"); }

TEST_CASE("golden: every recorded group is checked", "[golden]") {
  std::set<std::string> on_disk;
  for (const auto& entry : fs::directory_iterator(fs::path(VRAMCALC_SOURCE_DIR) / "tests" / "golden"))
    if (entry.is_directory()) on_disk.insert(entry.path().filename().string());
  CHECK(on_disk == std::set<std::string>(kGroups.begin(), kGroups.end()));
}
