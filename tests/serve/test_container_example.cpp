// The container example of `vram-calc serve` (examples/serve, issue 16), checked without Docker or a cluster: the
// Dockerfile builds with scripts/deps's packages on Debian 12 and installs the libraries the server links, and the
// Kubernetes example is a Deployment and a Service whose probes ask /healthz.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace {

const std::string kSource = VRAMCALC_SOURCE_DIR;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// scripts/deps's `packages=(...)`, without the "$@" the caller's extra names go into.
std::vector<std::string> deps_packages() {
  const std::string script = read_text(kSource + "/scripts/deps");
  const auto start = script.find("packages=(");
  REQUIRE(start != std::string::npos);
  const auto end = script.find(')', start);
  REQUIRE(end != std::string::npos);
  std::vector<std::string> out;
  for (const auto& w : words(script.substr(start + 10, end - start - 10)))
    if (w.find('$') == std::string::npos) out.push_back(w);
  return out;
}

struct Stage {
  std::string from;                   // the FROM line's image
  std::vector<std::string> packages;  // what its `apt-get install` installs
  std::string text;                   // the stage's instructions, continuation lines joined
};

// The Dockerfile's stages, their base images and the packages each installs.
std::vector<Stage> dockerfile_stages() {
  std::istringstream in(read_text(kSource + "/examples/serve/Dockerfile"));
  std::vector<Stage> stages;
  std::string line, logical;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '#') continue;
    const bool continued = !line.empty() && line.back() == '\\';
    logical += continued ? line.substr(0, line.size() - 1) + " " : line;
    if (continued) continue;
    const auto w = words(logical);
    if (!w.empty() && w[0] == "FROM") stages.push_back({w.at(1), {}, ""});
    if (!stages.empty()) stages.back().text += logical + "\n";
    const auto install = std::find(w.begin(), w.end(), "install");
    if (!stages.empty() && install != w.end() && install != w.begin() && *(install - 1) == "apt-get")
      for (auto it = install + 1; it != w.end() && *it != "&&"; ++it)
        if (it->front() != '-') stages.back().packages.push_back(*it);
    logical.clear();
  }
  return stages;
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Output of a shell command.
std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

// The Debian packages holding the shared libraries `binary` names as NEEDED (the base image's libc6, libgcc-s1 and
// libstdc++6, and the sanitizers' runtimes, left out).
std::set<std::string> linked_packages(const std::string& binary) {
  std::set<std::string> needed;
  const std::regex needed_line(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
  const std::string dynamic = run("readelf -d '" + binary + "'");
  for (std::sregex_iterator it(dynamic.begin(), dynamic.end(), needed_line), end; it != end; ++it)
    needed.insert((*it)[1]);
  REQUIRE(!needed.empty());
  std::set<std::string> packages;
  const std::regex ldd_line(R"(^\s*(\S+) => (/\S+))");
  std::istringstream ldd(run("ldd '" + binary + "'"));
  for (std::string line; std::getline(ldd, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, ldd_line) || needed.count(m[1]) == 0) continue;
    const std::string lib = m[1];
    if (lib.find("asan") != std::string::npos || lib.find("ubsan") != std::string::npos) continue;
    // dpkg knows a file by the path its package ships it at: the resolved one, or /lib rather than /usr/lib (usrmerge).
    const std::string path = m[2];
    const std::string owner =
        run("for p in '" + path + "' \"$(readlink -f '" + path +
            "')\"; do dpkg -S \"$p\" || dpkg -S \"${p#/usr}\" || dpkg -S \"/usr$p\"; done 2>/dev/null "
            "| head -n 1");
    const std::string package = owner.substr(0, owner.find(':'));
    INFO(lib << " belongs to no package: " << owner);
    REQUIRE(!package.empty());
    if (package != "libc6" && package != "libgcc-s1" && package != "libstdc++6") packages.insert(package);
  }
  return packages;
}

}  // namespace

TEST_CASE("container example: the Dockerfile builds on Debian 12 with scripts/deps's packages", "[serve][container]") {
  const auto deps = deps_packages();
  CHECK(has(deps, "libcpp-httplib-dev"));
  CHECK(deps.size() >= 10);
  const auto stages = dockerfile_stages();
  REQUIRE(stages.size() == 2);
  for (const auto& s : stages) CHECK(s.from == "debian:bookworm-slim");
  const Stage& build = stages.front();
  for (const auto& p : deps) {
    INFO("scripts/deps installs " << p << "; the Dockerfile's build stage does not");
    CHECK(has(build.packages, p));
  }
  CHECK(build.text.find("cmake --build") != std::string::npos);
  CHECK(build.text.find("cmake --install") != std::string::npos);
}

TEST_CASE("container example: the runtime stage holds what the binaries link and runs vram-calc serve",
          "[serve][container]") {
  const auto stages = dockerfile_stages();
  REQUIRE(stages.size() == 2);
  const Stage& runtime = stages.back();
  // The libraries the built binaries link, package by package, and libcurl4, which the Hub path loads with dlopen.
  for (const std::string& binary : {std::string(VRAMCALC_BINARY), std::string(VRAMCALC_SERVE_BINARY)})
    for (const auto& p : linked_packages(binary)) {
      INFO(binary << " links a library of " << p << ", which the runtime stage does not install");
      CHECK(has(runtime.packages, p));
    }
  CHECK(has(runtime.packages, "libcurl4"));
  CHECK(has(runtime.packages, "ca-certificates"));
  // No compiler or -dev package at run time.
  for (const auto& p : runtime.packages) {
    INFO(p);
    CHECK(p.find("-dev") == std::string::npos);
    CHECK(p != "g++");
  }
  CHECK(runtime.text.find(R"(ENTRYPOINT ["vram-calc", "serve", "--host", "0.0.0.0", "--port", "8000"])") !=
        std::string::npos);
  CHECK(runtime.text.find("USER 10001") != std::string::npos);
  CHECK(runtime.text.find("VRAM_CALC_DATA_DIR=/usr/share/vram-calc") != std::string::npos);
}

TEST_CASE("container example: a Deployment and a Service, probed on /healthz, non-root and read-only",
          "[serve][container]") {
  const auto docs = YAML::LoadAllFromFile(kSource + "/examples/serve/kubernetes.yaml");
  REQUIRE(docs.size() == 2);
  const YAML::Node* deployment = nullptr;
  const YAML::Node* service = nullptr;
  for (const auto& d : docs) {
    if (d["kind"].as<std::string>() == "Deployment") deployment = &d;
    if (d["kind"].as<std::string>() == "Service") service = &d;
  }
  REQUIRE(deployment != nullptr);
  REQUIRE(service != nullptr);
  const YAML::Node pod = (*deployment)["spec"]["template"];
  const YAML::Node c = pod["spec"]["containers"][0];
  REQUIRE(c.IsMap());
  const std::string port_name = c["ports"][0]["name"].as<std::string>();
  CHECK(c["ports"][0]["containerPort"].as<int>() == 8000);
  for (const char* probe : {"readinessProbe", "livenessProbe"}) {
    INFO(probe);
    CHECK(c[probe]["httpGet"]["path"].as<std::string>() == "/healthz");
    CHECK(c[probe]["httpGet"]["port"].as<std::string>() == port_name);
  }
  for (const char* kind : {"requests", "limits"}) {
    INFO(kind);
    CHECK(c["resources"][kind]["cpu"].IsDefined());
    CHECK(c["resources"][kind]["memory"].IsDefined());
  }
  CHECK(pod["spec"]["securityContext"]["runAsNonRoot"].as<bool>());
  CHECK(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  CHECK_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  // The one writable place: an emptyDir for the caches, where HF_HOME and XDG_CACHE_HOME point.
  const std::string mount = c["volumeMounts"][0]["mountPath"].as<std::string>();
  const std::string volume = c["volumeMounts"][0]["name"].as<std::string>();
  CHECK(pod["spec"]["volumes"][0]["name"].as<std::string>() == volume);
  CHECK(pod["spec"]["volumes"][0]["emptyDir"].IsDefined());
  for (const auto& e : c["env"]) CHECK(e["value"].as<std::string>().rfind(mount, 0) == 0);
  // The Service selects the pods and sends to the container's port.
  const auto labels = pod["metadata"]["labels"];
  for (const auto& kv : (*service)["spec"]["selector"])
    CHECK(labels[kv.first.as<std::string>()].as<std::string>() == kv.second.as<std::string>());
  CHECK((*service)["spec"]["ports"][0]["targetPort"].as<std::string>() == port_name);
  // The Deployment's selector matches its own pods.
  for (const auto& kv : (*deployment)["spec"]["selector"]["matchLabels"])
    CHECK(labels[kv.first.as<std::string>()].as<std::string>() == kv.second.as<std::string>());
}
