// Hostile text on its way out (issue 11, class 5): a directory name, a model_type or an architecture holding ESC,
// newlines, C1 controls or bytes that are not UTF-8 reaches the terminal escaped in every format, every error stays
// one line, the shell commands stay one line that bash reads back as the same arguments, and the k8s manifest stays
// YAML whose args are the intended strings. Before, all of them were printed raw: a directory name could recolour
// or clear the terminal, split the error message in two and break the manifest.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "fuzz/entry_points.hpp"
#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/sources/hub.hpp"

using namespace vramcalc;
using testsupport::run_cli;
using testsupport::RunResult;
using testsupport::TempDir;

namespace {

// ESC sequences (colour, clear screen, window title with BEL), a newline, a C1 CSI and NEL, a stray 0xff byte.
const std::string kDirName = "evil\x1b[31mred\nline\xff";
const std::string kModelType = "llama\x1b[2J\nx\xc2\x9bz";
const std::string kArchitecture =
    "Llama\x1b]0;pwn\x07"
    "ForCausalLM\xc2\x85\n";

// One argument for /bin/sh (run_cli's std::system): single quotes hold any byte but the quote itself.
std::string sh_word(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A local model directory with a hostile name and a Llama-3.1-8B config with a hostile model_type and architecture.
struct HostileModel {
  TempDir dir;
  std::string path = (dir.path() / kDirName).string();
  HostileModel() {
    nlohmann::json config = testsupport::load_test_config("meta-llama--Meta-Llama-3.1-8B");
    config["model_type"] = kModelType;
    config["architectures"] = {kArchitecture};
    testsupport::write_file(std::filesystem::path(path) / "config.json", config.dump(2));
  }
  [[nodiscard]] RunResult run(const std::string& flags, const std::string& env = "") const {
    return run_cli("--model " + sh_word(path) + " --sku A100-80G " + flags, env);
  }
};

// Lines of printable text (the fuzz targets' own check): "" when clean.
std::string problem(const std::string& text) { return fuzzing::text_problem(text, true); }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Runs `script` with bash and returns what it wrote to stdout.
std::string bash_output(const std::string& script) {
  TempDir dir;
  testsupport::write_file(dir.path() / "script.sh", script);
  const auto out = dir.path() / "out";
  const std::string cmd = "bash '" + (dir.path() / "script.sh").string() + "' >'" + out.string() + "' 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The words bash reads from a command line printed by vram-calc, after its first `skip` words (the program).
std::vector<std::string> words_bash_reads(const std::string& command_line, std::size_t skip) {
  const std::string out =
      bash_output("set -- " + command_line + "\nshift " + std::to_string(skip) + "\nprintf '%s\\0' \"$@\"\n");
  std::vector<std::string> words;
  std::string word;
  for (const char c : out) {
    if (c == '\0') words.push_back(std::exchange(word, ""));
    else word += c;
  }
  return words;
}

// The directory path as JSON and YAML carry it: the byte that is not UTF-8 as U+FFFD.
std::string path_as_unicode(const std::string& path) {
  std::string out = path;
  out.replace(out.find('\xff'), 1, "\xef\xbf\xbd");
  return out;
}

}  // namespace

TEST_CASE("hostile text: the escape convention of printable_line and printable_lines", "[hostile-out]") {
  CHECK(printable_line("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(printable_line(std::string("\x1b[31m\x07\x7f\0", 8)) == "\\x1b[31m\\x07\\x7f\\x00");
  CHECK(printable_line("\xc2\x9b"
                       "1m \xc2\x85") == "\\u009b1m \\u0085");    // C1 controls
  CHECK(printable_line("\xff \xc0\xaf \xed\xa0\x80 \xe2\x82") ==  // not UTF-8
        "\\xff \\xc0\\xaf \\xed\\xa0\\x80 \\xe2\\x82");
  // Everything else is left alone: backslashes (already escaped text stays the same), valid UTF-8, Markdown.
  CHECK(printable_line(R"(C:\path "a\nb" | *x*)") == R"(C:\path "a\nb" | *x*)");
  CHECK(printable_line("\xc2\xa0 ≥ é 🙂 \xf4\x8f\xbf\xbf") == "\xc2\xa0 ≥ é 🙂 \xf4\x8f\xbf\xbf");
  CHECK(printable_line(printable_line(kDirName)) == printable_line(kDirName));
  // Several lines: the line breaks stay, nothing else does.
  CHECK(printable_lines("a\x1b\nb\r\n") == "a\\x1b\nb\\r\n");
}

TEST_CASE("hostile text: an Error's message is one printable line whatever it quotes", "[hostile-out]") {
  // Before, Error kept the message as given, and the CLI printed it after "vram-calc: " as it was.
  const Error e(ExitCode::BadInput, "cannot read " + kDirName + ": " + kModelType);
  CHECK(std::string(e.what()) == "cannot read evil\\x1b[31mred\\nline\\xff: llama\\x1b[2J\\nx\\u009bz");
  CHECK(fuzzing::text_problem(e.what(), false).empty());
  const RemoteError remote("shard " + kArchitecture, false);  // every Error, whatever its class
  CHECK(std::string(remote.what()) == "shard Llama\\x1b]0;pwn\\x07ForCausalLM\\u0085\\n");
  try {
    fail_input("a\nb");
    FAIL("fail_input returned");
  } catch (const Error& thrown) {
    CHECK(std::string(thrown.what()) == "a\\nb");
  }
}

TEST_CASE("hostile text: shell_quote keeps a command on one line that bash reads back exactly", "[hostile-out]") {
  // Unchanged for ordinary words: bare when safe, single quotes otherwise.
  CHECK(shell_quote("meta-llama/Llama-3.1-8B") == "meta-llama/Llama-3.1-8B");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("é") == "'é'");
  // Control characters and bytes that are not UTF-8: ANSI-C quotes, byte for byte.
  CHECK(shell_quote("a\nb") == "$'a\\nb'");
  CHECK(shell_quote("x\x1b'\\\xc2\x9b\xff") == "$'x\\x1b\\'\\\\\\xc2\\x9b\\xff'");
  const std::vector<std::string> words = {kDirName, kModelType, kArchitecture, "it's", "a\\nb", "\t\x7f"};
  std::string line;
  for (const auto& w : words) {
    line += ' ';
    line += shell_quote(w);
  }
  CHECK(problem(line).empty());
  CHECK(words_bash_reads(line, 0) == words);
}

TEST_CASE("hostile text: the table escapes a directory name, model_type and architecture", "[hostile-out]") {
  const HostileModel model;
  const auto r = model.run("");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(problem(r.out) == "");  // before: ESC, BEL, C1 and 0xff bytes, raw
  CHECK(r.out.find('\x1b') == std::string::npos);
  const auto out_lines = lines(r.out);
  REQUIRE(out_lines.size() > 2);
  // One line each, the text escaped in place (before, the directory's newline split the Model line in two).
  CHECK(out_lines[0] ==
        "Model         " + printable_line(model.path) + "  (local directory " + printable_line(model.path) + ")");
  CHECK_THAT(out_lines[1], Catch::StartsWith("Architecture  Llama\\x1b]0;pwn\\x07ForCausalLM\\u0085\\n "
                                             "(llama\\x1b[2J\\nx\\u009bz), 32 layers"));
  CHECK_THAT(r.out, Catch::Contains("\nvllm serve $'" + model.path.substr(0, model.path.find('\x1b')) +
                                    "\\x1b[31mred\\nline\\xff' --max-model-len"));
}

TEST_CASE("hostile text: Markdown and CSV stay printable, one row per line", "[hostile-out]") {
  const HostileModel model;
  const auto md = model.run("--format markdown");
  REQUIRE(md.exit_code == 0);
  CHECK(problem(md.out) == "");
  CHECK_THAT(md.out,
             Catch::Contains("| Architecture | Llama\\\\x1b\\]0;pwn\\\\x07ForCausalLM\\\\u0085  (llama\\\\x1b\\[2J "
                             "x\\\\u009bz), 32 layers"));
  const auto csv = model.run("--format csv");
  REQUIRE(csv.exit_code == 0);
  CHECK(problem(csv.out) == "");
  const auto rows = lines(csv.out);
  REQUIRE(rows.size() == 2);  // before: the directory's newline, in quotes, made the row two lines
  CHECK_THAT(rows[1], Catch::StartsWith(",," + printable_line(model.path) + ",A100-80G,"));
}

TEST_CASE("hostile text: JSON escapes DEL and C1 too and parses back to the same strings", "[hostile-out]") {
  const HostileModel model;
  const auto r = model.run("--format json");
  REQUIRE(r.exit_code == 0);
  CHECK(problem(r.out) == "");  // before: the C1 characters were written raw
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["model"]["id"] == path_as_unicode(model.path));
  CHECK(j["model"]["model_type"] == kModelType);
  CHECK(j["model"]["architecture"] == kArchitecture);
  CHECK_THAT(r.out, Catch::Contains(R"("model_type": "llama\u001b[2J\nx\u009bz")"));
}

TEST_CASE("hostile text: --emit commands are one line that bash reads as the same arguments", "[hostile-out]") {
  const HostileModel model;
  const auto vllm = model.run("--emit vllm-command");
  REQUIRE(vllm.exit_code == 0);
  CHECK(problem(vllm.out) == "");
  REQUIRE(lines(vllm.out).size() == 1);              // before: two lines, the second starting with "line"
  const auto words = words_bash_reads(vllm.out, 2);  // after `vllm serve`
  REQUIRE_FALSE(words.empty());
  CHECK(words[0] == model.path);
  const auto tgi = model.run("--engine tgi --emit tgi-command");
  REQUIRE(tgi.exit_code == 0);
  CHECK(problem(tgi.out) == "");
  REQUIRE(lines(tgi.out).size() == 1);
  const auto tgi_words = words_bash_reads(tgi.out, 1);
  REQUIRE(tgi_words.size() > 2);
  CHECK(tgi_words[0] == "--model-id");
  CHECK(tgi_words[1] == model.path);
}

TEST_CASE("hostile text: the k8s manifest stays YAML whose args are the intended strings", "[hostile-out]") {
  const HostileModel model;
  for (const std::string engine : {"vllm", "tgi"}) {
    INFO(engine);
    const auto r = model.run("--engine " + engine + " --emit k8s");
    REQUIRE(r.exit_code == 0);
    CHECK(problem(r.out) == "");
    // The first comment names the model on its one line (before: the newline ended the comment, and "line..."
    // followed as YAML).
    const auto out_lines = lines(r.out);
    REQUIRE(out_lines.size() > 2);
    CHECK_THAT(out_lines[0], Catch::StartsWith("# vram-calc: " + printable_line(model.path) + " on A100-80G (1 x "));
    CHECK_THAT(out_lines[1], Catch::StartsWith("# "));
    YAML::Node doc;
    REQUIRE_NOTHROW(doc = YAML::Load(r.out));
    CHECK(doc["kind"].as<std::string>() == "Deployment");
    const YAML::Node args = doc["spec"]["template"]["spec"]["containers"][0]["args"];
    REQUIRE(args.IsSequence());
    const std::size_t at = engine == "tgi" ? 1 : 0;  // tgi: --model-id MODEL; vllm: MODEL first
    CHECK(args[at].as<std::string>() == path_as_unicode(model.path));
  }
}

TEST_CASE("hostile text: errors quoting a flag or a path are one line with nothing raw", "[hostile-out]") {
  const HostileModel model;
  const auto check_error = [](const RunResult& r, const std::string& expected) {
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    REQUIRE_FALSE(r.err.empty());
    CHECK(r.err.find('\n') == r.err.size() - 1);  // before: two lines
    CHECK(fuzzing::text_problem(r.err.substr(0, r.err.size() - 1), false) == "");
    CHECK_THAT(r.err, Catch::Contains(expected));
  };
  check_error(run_cli("--model " + sh_word(model.path) + " --sku " + sh_word("A1\x1b[2J\nB")),
              "--sku A1\\x1b[2J\\nB: unknown SKU");
  check_error(run_cli("--model " + sh_word(model.path + "/missing\n\x1b") + " --sku A100-80G"),
              "/missing\\n\\x1b: no such file or directory");
}
