// What packaging ships besides the plan: shell completions and the man page (written by the binary's hidden
// --completions and --man options) and the build information --version prints.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "support.hpp"

using testsupport::run_cli;

namespace {

// The public long options, as --help lists them ("  -m,--model TEXT  ..."), for the app and its subcommands.
std::set<std::string> public_long_options() {
  std::set<std::string> names;
  for (const std::string args : {"--help", "skus --help", "models --help"}) {
    const auto r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("  -", 0) != 0) continue;
      std::istringstream spec(line.substr(2, line.find(' ', 2) - 2));  // "-m,--model"
      for (std::string name; std::getline(spec, name, ',');)
        if (name.rfind("--", 0) == 0) names.insert(name);
    }
  }
  return names;
}

// The newest "generated" date of the two catalog files, as the build reads it.
std::string catalog_date() {
  std::string newest;
  for (const char* file : {"models.json", "skus.json"}) {
    std::ifstream in(testsupport::repo_data(file));
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::smatch m;
    const std::string text = head.substr(0, static_cast<std::size_t>(in.gcount()));
    REQUIRE(std::regex_search(text, m, std::regex(R"re("generated"\s*:\s*"(\d{4}-\d{2}-\d{2})")re")));
    newest = std::max(newest, m[1].str());
  }
  return newest;
}

// Runs `script` with bash and returns its stdout.
std::string bash(const std::string& script) {
  testsupport::TempDir dir;
  testsupport::write_file(dir.path() / "script.bash", script);
  const std::string cmd = "bash '" + (dir.path() / "script.bash").string() + "' 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

}  // namespace

TEST_CASE("completion scripts name every public option and hide the hidden ones", "[packaging]") {
  const auto options = public_long_options();
  REQUIRE(options.count("--model") == 1);
  REQUIRE(options.count("--sweep-tokens") == 1);
  for (const std::string shell : {"bash", "zsh", "fish"}) {
    INFO(shell);
    const auto r = run_cli("--completions " + shell);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    for (const auto& name : options) {
      INFO(name);
      // zsh writes --model=, fish -l model; both still contain the bare name.
      CHECK(r.out.find(shell == "fish" ? " -l " + name.substr(2) + " " : name) != std::string::npos);
    }
    for (const char* hidden : {"--completions", "--man", " -l completions", " -l man "})
      CHECK(r.out.find(hidden) == std::string::npos);
    CHECK_THAT(r.out, Catch::Contains("vllm tgi"));
    CHECK_THAT(r.out, Catch::Contains("vllm kaito wizard"));
    CHECK_THAT(r.out, Catch::Contains("vllm-args vllm-command tgi-command k8s"));
    CHECK_THAT(r.out, Catch::Contains("skus"));
  }
}

TEST_CASE("an unknown shell for completions is a usage error", "[packaging]") {
  const auto r = run_cli("--completions tcsh");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  REQUIRE_FALSE(r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK_THAT(r.err, Catch::Contains("--completions") && Catch::Contains("tcsh") && Catch::Contains("bash"));
}

TEST_CASE("the bash completion completes options, values and subcommands", "[packaging]") {
  const auto r = run_cli("--completions bash");
  REQUIRE(r.exit_code == 0);
  // Each line: the words typed, the last one being completed; prints what bash would offer.
  const std::string out = bash(r.out + R"sh(
try() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _vram_calc; echo "${COMPREPLY[*]}"; }
try vram-calc --eng
try vram-calc --engine ""
try vram-calc --format = j
try vram-calc sk
try vram-calc skus --format ""
try vram-calc --emit vllm-args,vllm-c
try vram-calc --gpus ""
)sh");
  CHECK(out == "--engine\nvllm tgi\njson\nskus\ntable json\nvllm-args,vllm-command\n\n");
}

TEST_CASE("version prints the version, the commit and the catalog date", "[packaging]") {
  const auto r = run_cli("--version");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Matches(R"(vram-calc \d+\.\d+\.\d+ \(commit ([0-9a-f]{4,40}(-dirty)?|unknown), )"
                                   R"(catalog \d{4}-\d{2}-\d{2}\)\n)"));
  CHECK_THAT(r.out, Catch::Contains("catalog " + catalog_date() + ")"));

  // JSON keeps tool.version the plain version and records the same commit and date beside it.
  const auto plan = run_cli("--model meta-llama/Llama-3.1-8B --sku A100-80G --format json");
  REQUIRE(plan.exit_code == 0);
  const auto tool = nlohmann::json::parse(plan.out).at("tool");
  CHECK_THAT(r.out, Catch::StartsWith("vram-calc " + tool.at("version").get<std::string>() + " (commit " +
                                      tool.at("commit").get<std::string>() + ", catalog " +
                                      tool.at("catalog_date").get<std::string>() + ")"));
}

TEST_CASE("the man page documents every public option, the estimators, engines and exit codes", "[packaging]") {
  const auto r = run_cli("--man");
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::StartsWith(".TH VRAM\\-CALC 1 \"" + catalog_date() + "\""));
  for (const auto& name : public_long_options()) {
    std::string roff;  // as the page writes it: \-\-model
    for (const char c : name) roff += c == '-' ? std::string("\\-") : std::string(1, c);
    INFO(name);
    CHECK(r.out.find("\\fB" + roff + "\\fR") != std::string::npos);
  }
  CHECK(r.out.find("\\-\\-completions") == std::string::npos);
  CHECK(r.out.find("\\-\\-man") == std::string::npos);
  for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH \"ESTIMATORS (\\-\\-estimator)\"",
                              ".SH \"ENGINES (\\-\\-engine)\"", ".SH \"EXIT STATUS\"", ".SH ENVIRONMENT"})
    CHECK_THAT(r.out, Catch::Contains(section));
  for (const char* code : {"\\fB0\\fR", "\\fB1\\fR", "\\fB2\\fR", "\\fB3\\fR"})
    CHECK_THAT(r.out, Catch::Contains(code));
  CHECK_THAT(r.out, Catch::Contains("\\fBwizard\\fR") && Catch::Contains("\\fBtgi\\fR"));
  // No line may start a request by accident: every line is a macro we wrote or text.
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && (line[0] == '.' || line[0] == '\''))
      CHECK_THAT(line, Catch::Matches(R"(\.(TH|SH|SS|TP|PP|nf|fi|br|nh|ad|B|BR|I)( .*)?)"));
}
