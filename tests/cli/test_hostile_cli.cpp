// Hostile input at the command line's edge: files that are not files, output that cannot be written, sweeps
// that would not fit in memory, tokens echoed by usage errors, out-of-range settings, deep YAML, oversized
// local JSON (issue 11, round 2).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/options.hpp"
#include "sources/files.hpp"
#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/sources/hf_cache.hpp"
#include "vramcalc/sources/local.hpp"
#include "vramcalc/sources/profile.hpp"

using namespace vramcalc;
using Catch::Contains;
using testsupport::RunResult;
using testsupport::TempDir;
using testsupport::write_file;
namespace fs = std::filesystem;

namespace {

const std::string kPlan = "--model meta-llama/Llama-3.1-8B --sku A100-80G";  // in the bundled catalog: offline
const std::string kConfig = R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2})";

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The binary with the same isolation as run_cli (offline, no token, fresh HF_HOME under `dir`).
std::string isolated_binary(const TempDir& dir) {
  return "HF_HOME='" + (dir.path() / "hf").string() + "' XDG_CACHE_HOME='" + (dir.path() / "xdg").string() +
         "' HF_HUB_OFFLINE=1 HF_TOKEN= HF_ENDPOINT= '" + std::string(VRAMCALC_BINARY) + "'";
}

int exit_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

// Runs the binary with `args` under `timeout SECONDS` (a run that blocks ends in exit 124), stdout sent to
// `stdout_to` (a shell redirection such as ">/dev/full" or ">&-").
RunResult run_redirected(const std::string& args, const std::string& stdout_to, int seconds = 10) {
  TempDir dir;
  const fs::path err = dir.path() / "stderr";
  const std::string cmd = "timeout " + std::to_string(seconds) + " env " + isolated_binary(dir) + " " + args +
                          " </dev/null " + stdout_to + " 2>'" + err.string() + "'";
  RunResult r;
  r.exit_code = exit_status(std::system(cmd.c_str()));
  r.err = read_text(err);
  return r;
}

// Runs the binary with stdout on a pipe whose reader has already gone, SIGPIPE ignored: every write is EPIPE.
RunResult run_into_closed_pipe(const std::string& args) {
  TempDir dir;
  const fs::path err = dir.path() / "stderr";
  const std::string cmd =
      "timeout 10 env " + isolated_binary(dir) + " " + args + " </dev/null 2>'" + err.string() + "'";
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGPIPE, SIG_IGN);  // inherited through exec: the shell and vram-calc see EPIPE, not the signal
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[1]);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  RunResult r;
  r.exit_code = exit_status(status);
  r.err = read_text(err);
  return r;
}

Error error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no error");
  return Error(ExitCode::Fits, "");
}

}  // namespace

TEST_CASE("hostile cli: a FIFO or a device as --model or --profile is refused at once", "[hostile-cli]") {
  TempDir dir;
  const fs::path fifo_config = dir.path() / "model" / "config.json";
  fs::create_directories(fifo_config.parent_path());
  REQUIRE(::mkfifo(fifo_config.c_str(), 0600) == 0);
  const fs::path fifo_profile = dir.path() / "deploy.yaml";
  REQUIRE(::mkfifo(fifo_profile.c_str(), 0600) == 0);

  SECTION("a FIFO config.json, given directly or as the directory's") {
    for (const fs::path& model : {fifo_config, fifo_config.parent_path()}) {
      const RunResult r = run_redirected("--model '" + model.string() + "' --sku A100-80G", ">/dev/null");
      CHECK(r.exit_code == 2);  // 124 when it blocked until `timeout` ended it
      CHECK_THAT(r.err, Contains("config.json: cannot read: not a regular file (a FIFO)"));
    }
  }
  SECTION("a FIFO profile") {
    const RunResult r = run_redirected("--profile '" + fifo_profile.string() + "'", ">/dev/null");
    CHECK(r.exit_code == 2);
    CHECK(r.err == "vram-calc: " + fifo_profile.string() + ": cannot read profile: not a regular file (a FIFO)\n");
  }
  SECTION("/dev/zero never ends: refused as a device") {
    RunResult r = run_redirected("--profile /dev/zero", ">/dev/null");
    CHECK(r.exit_code == 2);
    CHECK(r.err == "vram-calc: /dev/zero: cannot read profile: not a regular file (a character device)\n");
    r = run_redirected("--model /dev/zero --sku A100-80G", ">/dev/null");
    CHECK(r.exit_code == 2);
    CHECK(r.err == "vram-calc: /dev/zero: cannot read: not a regular file (a character device)\n");
  }
  SECTION("a link to a regular file is still read") {
    write_file(dir.path() / "real.json", kConfig);
    fs::create_symlink(dir.path() / "real.json", dir.path() / "link.json");
    const ModelInput m = load_local_model(dir.path() / "link.json");
    CHECK(m.config.at("hidden_size") == 64);
  }
}

TEST_CASE("hostile cli: read_regular_file names what it refuses", "[hostile-cli]") {
  TempDir dir;
  const fs::path fifo = dir.path() / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(detail::read_regular_file(fifo, 100, "files").problem == "not a regular file (a FIFO)");
  CHECK(detail::read_regular_file(dir.path(), 100, "files").problem == "is a directory");
  CHECK(detail::read_regular_file(dir.path() / "absent", 100, "files").problem == "No such file or directory");
  CHECK_FALSE(detail::read_file_limited(fifo, 100).has_value());
  write_file(dir.path() / "ten", "0123456789");
  CHECK(detail::read_file_limited(dir.path() / "ten", 10) == "0123456789");
  const detail::FileRead big = detail::read_regular_file(dir.path() / "ten", 9, "tests");
  CHECK(big.too_large);
  CHECK(big.problem == "10 bytes is over the 9 bytes limit for tests");
  CHECK(detail::describe_limit(limits::kMaxIndexBytes) == "64 MiB");
}

TEST_CASE("hostile cli: output that cannot be written is exit 2, for every command that prints", "[hostile-cli]") {
  // --sku all --format json is written in pieces as it is made (over a megabyte): an error on any piece counts.
  const std::vector<std::string> commands = {kPlan,
                                             kPlan + " --format json",
                                             kPlan + " --emit vllm-command",
                                             "--model meta-llama/Llama-3.1-8B --sku all --format json",
                                             "skus",
                                             "models --format json",
                                             "--help",
                                             "--version"};
  for (const std::string& command : commands) {
    CAPTURE(command);
    RunResult r = run_redirected(command, ">/dev/full");
    CHECK(r.exit_code == 2);
    CHECK(r.err == "vram-calc: cannot write the output: No space left on device\n");
    r = run_redirected(command, ">&-");
    CHECK(r.exit_code == 2);
    CHECK(r.err == "vram-calc: cannot write the output: Bad file descriptor\n");
    r = run_into_closed_pipe(command);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "vram-calc: cannot write the output: Broken pipe\n");
  }
  // The same commands still succeed when the output can be written.
  CHECK(run_redirected("--version", ">/dev/null").exit_code == 0);
  CHECK(run_redirected(kPlan, ">/dev/null").exit_code == 0);
}

TEST_CASE("hostile cli: a sweep is capped at kMaxSweepRows rows, values x SKUs", "[hostile-cli]") {
  const RunResult r =
      testsupport::run_cli("--model meta-llama/Llama-3.1-8B --sku all --sweep max-model-len=1:10000:1 --format json");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("--sweep: 10000 values x "));
  CHECK_THAT(r.err, Contains(" rows, over the limit of 10000 per run"));

  const RunResult two = testsupport::run_cli(
      "--model meta-llama/Llama-3.1-8B --sku A100-80G,H100-80G --sweep max-model-len=1:5001:1 --format json");
  CHECK(two.exit_code == 2);
  CHECK_THAT(two.err, Contains("--sweep: 5001 values x 2 SKUs is 10002 rows, over the limit of 10000 per run"));

  CHECK_THAT(testsupport::run_cli("--help").out, Contains("at most 10000 rows (values x SKUs)"));
}

TEST_CASE("hostile cli: a token on the command line never comes back in a usage error", "[hostile-cli]") {
  const std::string secret = "hf_SuperSecretValue123";
  // Each command line, and whether the message quotes the value (it then shows *** instead). An unknown flag is
  // named alone, with the flag it resembles, so its value is never quoted at all.
  const std::vector<std::pair<std::string, bool>> lines = {
      {"--token " + secret + " --bogus", false},
      {"--token=" + secret + " --bogus " + secret, false},
      {"--tokne " + secret, false},
      {"--tokne=" + secret, false},
      {"--dtype= --token " + secret, true},
      {secret, true},
      {"--model " + kPlan.substr(8) + " " + secret, true},
      {"--hf-token " + secret + " --model x", false},
  };
  for (const auto& [line, echoed] : lines) {
    CAPTURE(line);
    const RunResult r = testsupport::run_cli(line);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find(secret) == std::string::npos);
    CHECK(r.err.find(secret) == std::string::npos);
    CHECK(r.err.find("SuperSecret") == std::string::npos);
    if (echoed) CHECK_THAT(r.err, Contains("***"));
  }
  // A short value is redacted where it stands as a word, not inside the message's own words.
  const RunResult x = testsupport::run_cli("--dtype= --token x");
  CHECK(x.exit_code == 2);
  CHECK_THAT(x.err, Contains("not expected: ***"));
  CHECK_THAT(x.err, Contains("expected"));
}

TEST_CASE("hostile cli: per-GPU GiB settings are range-checked at parse time", "[hostile-cli]") {
  const auto err = [](const std::string& flags) {
    const RunResult r = testsupport::run_cli(kPlan + " " + flags);
    CHECK(r.exit_code == 2);
    return r.err;
  };
  CHECK(err("--activation-gib 1024") == "vram-calc: --activation-gib: 1024 is outside [0, 1024) GiB\n");
  CHECK(err("--non-torch-gib 1024") == "vram-calc: --non-torch-gib: 1024 is outside [0, 1024) GiB\n");
  CHECK(err("--non-torch-gib -1") == "vram-calc: --non-torch-gib: -1 is outside [0, 1024) GiB\n");
  CHECK(err("--headroom-gib 1024.5") == "vram-calc: --headroom-gib: 1024.5 is outside [0, 1024] GiB\n");
  CHECK(err("--estimator wizard --overhead-gib 2000") == "vram-calc: --overhead-gib: 2000 is outside [0, 1024] GiB\n");
  CHECK(err("--engine tgi --cuda-overhead-gb 1001") == "vram-calc: --cuda-overhead-gb: 1001 is outside [0, 1000] GB\n");
  // The top of each range is accepted (the plan itself may not fit).
  // (--activation-gib is the KAITO sizing guide's term: under vLLM's accounting it moves only the baseline.)
  CHECK(testsupport::run_cli(kPlan + " --estimator kaito --activation-gib 1023.9").exit_code == 1);
  CHECK(testsupport::run_cli(kPlan + " --headroom-gib 1024").exit_code == 1);
}

TEST_CASE("hostile cli: sweep values are plain numbers, never 1e+10", "[hostile-cli]") {
  CHECK(cli::sweep_values("--max-model-len", "10000000000:10000000000:1") == std::vector<std::string>{"10000000000"});
  CHECK(cli::sweep_values("--headroom-gib", "0.00001:0.00003:0.00001") ==
        std::vector<std::string>{"0.00001", "0.00002", "0.00003"});
  CHECK(cli::sweep_values("--gpu-memory-utilization", "0.5:0.7:0.1") == std::vector<std::string>{"0.5", "0.6", "0.7"});
  const RunResult r = testsupport::run_cli(kPlan + " --sweep max-model-len=10000000000:10000000000:1 --format csv");
  CHECK(r.exit_code != 2);
  CHECK_THAT(r.out, Contains("10000000000"));
  CHECK(r.err.find("1e+10") == std::string::npos);
}

TEST_CASE("hostile cli: YAML nested too deep names the line, column and problem", "[hostile-cli]") {
  std::string yaml = "model:\n";
  for (int level = 1; level < 1000; ++level) yaml += std::string(2 * level, ' ') + "k" + std::to_string(level) + ":\n";
  const Error e = error_of([&] { parse_profile(yaml, "deep.yaml", {}); });
  CHECK(e.code() == ExitCode::BadInput);
  CHECK_THAT(e.what(), Catch::Matches(R"(deep\.yaml:\d+:\d+: malformed YAML: nesting too deep \(over \d+ levels\))"));
  const Error flow = error_of([] { parse_profile("model: " + std::string(1000, '['), "flow.yaml", {}); });
  CHECK_THAT(flow.what(), Catch::StartsWith("flow.yaml:1:1: malformed YAML: nesting too deep"));
}

TEST_CASE("hostile cli: a model directory's config.json that cannot be read says why", "[hostile-cli]") {
  TempDir dir;
  SECTION("a dangling link is not 'no config.json'") {
    fs::create_symlink(dir.path() / "gone.json", dir.path() / "config.json");
    const Error e = error_of([&] { load_local_model(dir.path()); });
    CHECK(e.code() == ExitCode::BadInput);
    CHECK(std::string(e.what()) == (dir.path() / "config.json").string() + ": a symbolic link to " +
                                       (dir.path() / "gone.json").string() + ", which does not exist");
  }
  SECTION("a loop of links") {
    fs::create_symlink("config.json", dir.path() / "config.json");
    const Error e = error_of([&] { load_local_model(dir.path()); });
    CHECK_THAT(e.what(), Contains("config.json: cannot access: Too many levels of symbolic links"));
  }
  SECTION("a loop of links in the Hugging Face cache is not 'not cached'") {
    const std::string commit = "0123456789abcdef0123456789abcdef01234567";
    const fs::path snapshot = dir.path() / "models--acme--loop" / "snapshots" / commit;
    fs::create_directories(snapshot);
    fs::create_symlink("config.json", snapshot / "config.json");
    const Error e = error_of([&] { load_from_hf_cache(dir.path(), "acme/loop", commit); });
    CHECK_THAT(e.what(), Contains("config.json: cannot access: Too many levels of symbolic links"));
  }
  SECTION("a directory named config.json") {
    fs::create_directories(dir.path() / "config.json");
    const Error e = error_of([&] { load_local_model(dir.path()); });
    CHECK(std::string(e.what()) == (dir.path() / "config.json").string() + ": cannot read: is a directory");
  }
}

TEST_CASE("hostile cli: local JSON files are capped by kind", "[hostile-cli]") {
  TempDir dir;
  SECTION("a 5 MiB config.json, valid JSON padded with spaces") {
    const std::string padded = kConfig + std::string(5u << 20, ' ');
    write_file(dir.path() / "config.json", padded);
    const RunResult r = testsupport::run_cli("--model '" + dir.path().string() + "' --sku A100-80G");
    CHECK(r.exit_code == 2);
    CHECK(r.err == "vram-calc: " + (dir.path() / "config.json").string() + ": " + std::to_string(padded.size()) +
                       " bytes is over the 4 MiB limit for config files\n");
  }
  SECTION("a config.json just under the limit is read") {
    write_file(dir.path() / "config.json", kConfig + std::string(limits::kMaxConfigBytes - kConfig.size(), ' '));
    CHECK(load_local_model(dir.path()).config.at("num_hidden_layers") == 2);
  }
  SECTION("an index over 64 MiB (sparse: refused by its size, before reading), and a 1 MB one read") {
    write_file(dir.path() / "config.json", kConfig);
    const fs::path index = dir.path() / "model.safetensors.index.json";
    write_file(index, R"({"metadata": {"total_size": 1234}})" + std::string(1'000'000, ' '));
    CHECK(load_local_model(dir.path()).index_total_size == 1234u);
    fs::resize_file(index, limits::kMaxIndexBytes + 1);
    const Error e = error_of([&] { load_local_model(dir.path()); });
    CHECK(std::string(e.what()) ==
          index.string() + ": 67108865 bytes is over the 64 MiB limit for safetensors indexes");
  }
  SECTION("the same limits in the Hugging Face cache") {
    const std::string commit = "0123456789abcdef0123456789abcdef01234567";
    const fs::path snapshot = dir.path() / "models--acme--big" / "snapshots" / commit;
    write_file(snapshot / "config.json", kConfig);
    const fs::path index = snapshot / "model.safetensors.index.json";
    write_file(index, "{}");
    fs::resize_file(index, limits::kMaxIndexBytes + 1);
    const Error e = error_of([&] { load_from_hf_cache(dir.path(), "acme/big", commit); });
    CHECK(std::string(e.what()) ==
          index.string() + ": 67108865 bytes is over the 64 MiB limit for safetensors indexes");
  }
}

TEST_CASE("hostile cli: a sweep reads its profile once, not once per value", "[hostile-cli]") {
  TempDir dir;
  const fs::path profile = dir.path() / "deploy.yaml";
  std::string text = "model:\n  id: meta-llama/Llama-3.1-8B\nhardware:\n  sku: A100-80G\n";
  while (text.size() + 102 < limits::kMaxProfileBytes) text += "#" + std::string(100, 'x') + "\n";
  write_file(profile, text);
  // Parsing this profile takes tens of milliseconds: 1000 times over ran for about a minute, and longer under the
  // sanitizers, where the 1000 plans alone take about 9 s (and more on a busy machine): 40 s tells the two apart.
  const RunResult r = run_redirected("--profile '" + profile.string() + "' --sweep max-model-len=1:1000:1 --format csv",
                                     ">/dev/null", 40);
  CHECK(r.exit_code == 0);  // 124 when `timeout` ended it
  CHECK(r.err.empty());
}
