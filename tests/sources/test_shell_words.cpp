// Shell words and server command lines, as `vram-calc check` reads containers (sources/shell_words.hpp).
#include <catch2/catch.hpp>

#include <map>

#include "vramcalc/sources/shell_words.hpp"

using namespace vramcalc;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

}  // namespace

TEST_CASE("split_shell: quotes, escapes, continuations and separators as sh reads them", "[check][shell]") {
  const auto script =
      split_shell("set -e; MODEL=x exec vllm serve 'a b' \"c $HOME d\" e\\ f \\\n  --flag=1 && echo done # comment\nls",
                  env_of({{"HOME", "/root"}}));
  REQUIRE(script.commands.size() == 4);
  CHECK(script.commands[0].words == std::vector<std::string>{"set", "-e"});
  CHECK(script.commands[1].assignments == std::vector<std::pair<std::string, std::string>>{{"MODEL", "x"}});
  CHECK(script.commands[1].words ==
        std::vector<std::string>{"exec", "vllm", "serve", "a b", "c /root d", "e f", "--flag=1"});
  CHECK(script.commands[2].words == std::vector<std::string>{"echo", "done"});
  CHECK(script.commands[3].words == std::vector<std::string>{"ls"});
  CHECK(script.problems.empty());
}

TEST_CASE("split_shell: unknown variables, defaults and unclosed quotes are problems, not crashes", "[check][shell]") {
  const auto script = split_shell("vllm serve $MODEL ${LEN:-4096} \"${GPU_UTIL}\" 'open", env_of({}));
  REQUIRE(script.commands.size() == 1);
  CHECK(script.commands[0].words == std::vector<std::string>{"vllm", "serve", "4096", "", "open"});
  REQUIRE(script.problems.size() == 3);
  CHECK(script.problems[0] == "$MODEL is not set in the container's environment");
  CHECK(script.problems[2] == "an unclosed single quote");
}

TEST_CASE("expand_k8s_vars: $(VAR) from the container's environment, $$ escapes, unknown ones left", "[check][shell]") {
  std::vector<std::string> unknown;
  const auto defined = [](std::string_view n) { return n == "SECRET"; };
  const auto text =
      expand_k8s_vars("--max-model-len=$(LEN) $$(LEN) $(SECRET) $(NOPE)", env_of({{"LEN", "8192"}}), defined, unknown);
  CHECK(text == "--max-model-len=8192 $(LEN) $(SECRET) $(NOPE)");
  CHECK(unknown == std::vector<std::string>{"SECRET"});
}

TEST_CASE("find_server: each spelling of vLLM's and TGI's servers", "[check][shell]") {
  std::vector<std::string> problems;
  const auto env = env_of({{"MODEL", "Qwen/Qwen3-8B"}});
  SECTION("vllm serve in command and args lists") {
    const auto s = find_server({"vllm", "serve", "meta-llama/Llama-3.1-8B", "--max-model-len", "8192"}, std::nullopt,
                               env, problems);
    REQUIRE(s);
    CHECK(s->kind == ServerKind::Vllm);
    CHECK(s->program == "vllm serve");
    CHECK(s->args == std::vector<std::string>{"meta-llama/Llama-3.1-8B", "--max-model-len", "8192"});
  }
  SECTION("python -m vllm.entrypoints.openai.api_server") {
    const auto s = find_server({"/usr/bin/python3", "-m", "vllm.entrypoints.openai.api_server", "--model", "x/y"},
                               std::nullopt, env, problems);
    REQUIRE(s);
    CHECK(s->program == "/usr/bin/python3 -m vllm.entrypoints.openai.api_server");
    CHECK(s->args == std::vector<std::string>{"--model", "x/y"});
  }
  SECTION("sh -c with one quoted string, after other commands") {
    const auto s = find_server({"/bin/sh", "-c", "pip list; exec vllm serve $MODEL -tp 2 | tee /log"}, std::nullopt,
                               env, problems);
    REQUIRE(s);
    CHECK(s->args == std::vector<std::string>{"Qwen/Qwen3-8B", "-tp", "2"});
  }
  SECTION("bash -lc and the TGI launcher") {
    const auto s = find_server({"bash", "-lc", "text-generation-launcher --model-id x/y"}, std::nullopt, env, problems);
    REQUIRE(s);
    CHECK(s->kind == ServerKind::Tgi);
  }
  SECTION("args only: the image's entrypoint runs them") {
    const auto s = find_server({"--model-id", "x/y"}, ServerKind::Tgi, env, problems);
    REQUIRE(s);
    CHECK(s->kind == ServerKind::Tgi);
    CHECK(s->args.size() == 2);
  }
  SECTION("no server") {
    CHECK_FALSE(find_server({"nginx", "-g", "daemon off;"}, std::nullopt, env, problems));
    CHECK_FALSE(find_server({"sh", "-c", "sleep infinity"}, std::nullopt, env, problems));
  }
}
