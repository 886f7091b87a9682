// The choice lists (engines and estimators from engines/method.hpp, formats and --emit artefacts from
// render/choices.hpp) are read from their tables by every place that offers or checks them: the parser, --help,
// the completions and the profile reader. In-process: parse_options on argv built here.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/engines/method.hpp"
#include "vramcalc/render/choices.hpp"
#include "vramcalc/sources/profile.hpp"

using namespace vramcalc;
using Catch::Matchers::Contains;

namespace {

cli::Options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "vram-calc");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return cli::parse_options(static_cast<int>(args.size()), argv.data());
}

// A plan's arguments (--model and --sku are only names here: parse_options reads no file) plus `more`.
cli::Options parse_plan(const std::vector<std::string>& more) {
  std::vector<std::string> args = {"--model", "org/model", "--sku", "A100-80G"};
  args.insert(args.end(), more.begin(), more.end());
  return parse(args);
}

// The message of the BadInput error parsing throws, or "(no error)".
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> names(const std::vector<std::string_view>& views) { return {views.begin(), views.end()}; }

std::string joined(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// --engine E (and --estimator S where the engine has several memory models) for each method.
std::vector<std::string> method_flags(const MethodInfo& info) {
  std::vector<std::string> flags = {"--engine", std::string(info.engine)};
  if (!info.estimator.empty()) flags.insert(flags.end(), {"--estimator", std::string(info.estimator)});
  return flags;
}

}  // namespace

TEST_CASE("choices: every method's --engine and --estimator names parse to that method", "[choices]") {
  for (const auto& info : kMethods) {
    INFO(info.name);
    CHECK(parse_plan(method_flags(info)).report.method == info.method);
    const auto engines = cli::engine_names();
    CHECK(std::find(engines.begin(), engines.end(), info.engine) != engines.end());
  }
  CHECK(cli::engine_names() == std::vector<std::string>{"vllm", "tgi"});
  CHECK(cli::estimator_names() == std::vector<std::string>{"vllm", "kaito", "wizard"});
  CHECK(parse_plan({}).report.method == Method::Vllm);  // the first engine and its first estimator
  CHECK(error_of([] { parse_plan({"--engine", "sglang"}); }) == "--engine: \"sglang\" is not one of vllm, tgi");
  CHECK(error_of([] {
          parse_plan({"--estimator", "exact"});
        }) == "--estimator: \"exact\" is not one of vllm, kaito, wizard");
  CHECK_THAT(error_of([] {
               parse_plan({"--engine", "tgi", "--estimator", "vllm"});
             }),
             Contains("--engine tgi has its own (TGI estimation notebook)"));
}

TEST_CASE("choices: every format name and alias parses, and listings take only theirs", "[choices]") {
  for (const auto& info : kFormats) {
    INFO(info.name);
    CHECK(parse_plan({"--format", std::string(info.name)}).format == info.format);
    if (!info.alias.empty()) CHECK(parse_plan({"--format", std::string(info.alias)}).format == info.format);
    for (const char* listing : {"skus", "models"}) {
      if (info.listings) {
        CHECK(parse({listing, "--format", std::string(info.name)}).format == info.format);
      } else {
        CHECK(error_of([&] {
                parse({listing, "--format", std::string(info.name)});
              }) == "--format " + std::string(info.name) + " is for plans; listings are table or json");
      }
    }
  }
  CHECK(cli::format_names(false) == std::vector<std::string>{"table", "json", "csv", "markdown"});
  CHECK(error_of([] {
          parse_plan({"--format", "yaml"});
        }) == "--format: \"yaml\" is not one of table, json, csv, markdown");
}

TEST_CASE("choices: every --emit name parses, and needs the engine its table row names", "[choices]") {
  for (const auto& info : kEmits) {
    INFO(info.name);
    for (const auto& method : kMethods) {
      const bool suits = info.engine.empty() || info.engine == method.engine;
      std::vector<std::string> args = method_flags(method);
      args.insert(args.end(), {"--emit", std::string(info.name)});
      if (suits) {
        CHECK(parse_plan(args).emit == std::vector<Emit>{info.emit});
      } else {
        CHECK(error_of([&] { parse_plan(args); }) ==
              "--emit " + std::string(info.name) + " needs --engine " + std::string(info.engine));
      }
    }
  }
  CHECK(parse_plan({"--emit", "vllm-command,k8s"}).emit == std::vector<Emit>{Emit::VllmCommand, Emit::K8s});
  CHECK(error_of([] {
          parse_plan({"--emit", "kubernetes"});
        }) == "--emit: \"kubernetes\" is not one of vllm-args, vllm-command, tgi-command, k8s");
}

TEST_CASE("choices: --help and the completions list every name of each table", "[choices]") {
  const std::string help = parse({"--help"}).help_text;
  CHECK_THAT(help, Contains("Server to size: vllm or tgi"));
  for (const auto& info : kMethods) {
    if (!info.estimator.empty())
      CHECK_THAT(help, Contains(std::string(info.estimator) + " (" + std::string(info.source) + ")"));
  }
  CHECK_THAT(help, Contains("Output: table, json, csv or markdown (md; for pull-request comments and CI summaries)"));
  CHECK_THAT(help, Contains("Print only a ready-to-run artefact: vllm-args, vllm-command, tgi-command or k8s"));
  CHECK_THAT(parse({"skus", "--help"}).help_text, Contains("Output: table or json"));

  for (const std::string shell : {"bash", "zsh", "fish"}) {
    INFO(shell);
    const std::string script = parse({"--completions", shell}).help_text;
    for (const auto& list : {cli::engine_names(), cli::estimator_names(), cli::format_names(false),
                             cli::format_names(true), cli::emit_names()})
      CHECK_THAT(script, Contains(joined(list, " ")));
    for (const auto& info : kMethods) CHECK_THAT(script, Contains(std::string(info.engine)));
    for (const auto& info : kFormats) CHECK_THAT(script, Contains(std::string(info.name)));
    for (const auto& info : kEmits) CHECK_THAT(script, Contains(std::string(info.name)));
  }
}

TEST_CASE("choices: a profile's outputs.emit takes every name of the table and its aliases, nothing else",
          "[choices]") {
  const ProfileChoices choices = cli::profile_choices();
  CHECK(names(choices.emit_names) == cli::emit_names());
  for (const auto& info : kEmits) {
    INFO(info.name);
    const std::string name(info.name);
    CHECK(parse_profile("outputs:\n  emit: " + name + "\n", "p.yaml", choices).emit == std::vector<std::string>{name});
  }
  for (const auto& alias : kEmitAliases) {
    INFO(alias.alias);
    CHECK(parse_profile("outputs:\n  emit: [" + std::string(alias.alias) + "]\n", "p.yaml", choices).emit ==
          std::vector<std::string>{std::string(emit_info(alias.emit).name)});
  }
  CHECK(error_of([&] { parse_profile("# deploy\n\noutputs:\n  emit: [k8s, compose]\n", "p.yaml", choices); }) ==
        "p.yaml:4: outputs.emit: \"compose\" is not one of vllm-args, vllm-command, tgi-command, k8s (or command, "
        "kubernetes, vllm_args, vllm_command, tgi_command)");
}
