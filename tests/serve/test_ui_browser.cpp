// GET /ui (issue 16): the page is self-contained, and in headless Chromium it submits itself from its query string
// and draws what POST /plan answers: the verdict, and bar segments whose exact bytes (data-bytes) are the plan's
// per-GPU terms. A screenshot is kept in the build directory (test-artifacts/serve-ui.png).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "serve_support.hpp"
#include "support.hpp"

using testsupport::http;
using testsupport::TempDir;
using testsupport::TestServer;

namespace {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool have_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

// Debian's chromium, headless, on `url`: `action` is --dump-dom (the DOM after the virtual time budget, on
// stdout, written to `out`) or --screenshot=FILE. A fresh profile and HOME in `profile`; no sandbox, no /dev/shm
// (containers). Returns std::system's status.
int chromium(const std::string& action, const std::string& url, const std::filesystem::path& out,
             const std::filesystem::path& profile) {
  const std::string p = profile.string();
  const std::string command =
      "env HOME='" + p + "' XDG_CONFIG_HOME='" + p + "/config' XDG_CACHE_HOME='" + p +
      "/cache' timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
      "--no-default-browser-check --disable-extensions --disable-background-networking --hide-scrollbars "
      "--user-data-dir='" +
      p + "/profile' --window-size=1200,900 --virtual-time-budget=10000 " + action + " '" + url + "' >'" +
      out.string() + "' 2>'" + p + "/chromium.log'";
  return std::system(command.c_str());
}

// The bar's segments as the page drew them: data-term -> data-bytes.
std::map<std::string, std::int64_t> segments(const std::string& dom) {
  std::map<std::string, std::int64_t> out;
  const std::regex tag(R"re(<div [^>]*class="seg [^>]*>)re");
  const std::regex term(R"re(data-term="([a-z_]+)")re");
  const std::regex bytes(R"re(data-bytes="([0-9]+)")re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), tag); it != std::sregex_iterator(); ++it) {
    const std::string text = it->str();
    std::smatch t;
    std::smatch b;
    if (std::regex_search(text, t, term) && std::regex_search(text, b, bytes)) out[t[1].str()] = std::stoll(b[1].str());
  }
  return out;
}

}  // namespace

TEST_CASE("serve: /ui in headless Chromium draws the verdict and the per-GPU bar of POST /plan", "[serve][ui]") {
  TestServer server;
  const auto page = http(server.port(), "GET", "/ui");
  REQUIRE(page.status == 200);
  CHECK(page.headers.at("content-type").find("text/html") == 0);
  // One self-contained page: nothing is fetched from elsewhere, and it reads on a phone.
  CHECK(page.body.find("http://") == std::string::npos);
  CHECK(page.body.find("https://") == std::string::npos);
  CHECK(page.body.find("<meta name=\"viewport\"") != std::string::npos);
  CHECK(page.body.find("innerHTML") == std::string::npos);

  if (testsupport::kAddressSanitizer) {
    WARN("the browser test does not run under the sanitizers");
    return;
  }
  if (!have_chromium()) {
    WARN(
        "chromium is not installed (Debian: apt-get install chromium; scripts/test installs it): browser test "
        "skipped");
    return;
  }

  const auto reply = http(server.port(), "POST", "/plan",
                          R"({"model": "meta-llama/Llama-3.1-8B", "sku": "A100-80G", "max-model-len": 32768})");
  REQUIRE(reply.status == 200);
  const auto plan = nlohmann::json::parse(reply.body);
  const auto& g = plan.at("per_gpu");

  TempDir tmp;
  const std::string url = server.url("/ui?model=meta-llama/Llama-3.1-8B&sku=A100-80G&max-model-len=32768");
  const auto dom_file = tmp.path() / "dom.html";
  REQUIRE(chromium("--dump-dom", url, dom_file, tmp.path()) == 0);
  const std::string dom = read_file(dom_file);
  INFO(dom.substr(0, 2000));

  // The verdict, as the API says it.
  std::smatch verdict;
  REQUIRE(std::regex_search(dom, verdict, std::regex(R"re(data-verdict="([a-z_]+)">([^<]*)<)re")));
  CHECK(verdict[1].str() == plan.at("verdict").get<std::string>());
  CHECK(verdict[2].str() == "Fits");
  CHECK(dom.find(plan.at("vllm_command").get<std::string>()) != std::string::npos);

  // Every segment carries the plan's exact bytes; with "free" they fill the GPU.
  const auto drawn = segments(dom);
  const std::int64_t capacity = g.at("capacity_bytes").get<std::int64_t>();
  const std::map<std::string, std::int64_t> expected = {
      {"weights", g.at("weights_bytes").get<std::int64_t>()},
      {"activation", g.at("activation_bytes").get<std::int64_t>()},
      {"non_torch", g.at("non_torch_bytes").get<std::int64_t>()},
      {"cuda_graphs", plan.at("vllm").at("cudagraph_bytes").get<std::int64_t>()},
      {"kv_cache", g.at("kv_cache_bytes").get<std::int64_t>()},
  };
  std::int64_t used = 0;
  for (const auto& [term, bytes] : expected) {
    INFO(term);
    REQUIRE(drawn.count(term) == 1);
    CHECK(drawn.at(term) == bytes);
    used += bytes;
  }
  REQUIRE(drawn.count("free") == 1);
  CHECK(drawn.at("free") == capacity - used);
  CHECK(drawn.size() == expected.size() + 1);
  CHECK(dom.find("data-capacity-bytes=\"" + std::to_string(capacity) + "\"") != std::string::npos);
  CHECK(dom.find("data-budget-bytes=\"" + std::to_string(g.at("budget_bytes").get<std::int64_t>()) + "\"") !=
        std::string::npos);

  // The API's text reaches the page as text: an error naming a model with markup shows the markup, escaped.
  const auto error_file = tmp.path() / "error.html";
  REQUIRE(chromium("--dump-dom", server.url("/ui?model=%3Cimg%20src%3Dx%3Eevil/model&sku=A100-80G"), error_file,
                   tmp.path()) == 0);
  const std::string error_dom = read_file(error_file);
  CHECK(error_dom.find("role=\"alert\"") != std::string::npos);
  CHECK(error_dom.find("&lt;img src=x&gt;evil/model") != std::string::npos);
  CHECK(error_dom.find("<img") == std::string::npos);

  // The screenshot, a test artefact in the build directory.
  const auto artefacts = std::filesystem::path(VRAMCALC_BINARY).parent_path() / "test-artifacts";
  std::filesystem::create_directories(artefacts);
  const auto png = artefacts / "serve-ui.png";
  std::filesystem::remove(png);
  REQUIRE(chromium("--screenshot='" + png.string() + "'", url, tmp.path() / "screenshot.out", tmp.path()) == 0);
  const std::string image = read_file(png);
  CHECK(image.size() > 10000);
  CHECK(image.substr(0, 8) == "\x89PNG\r\n\x1a\n");
}
