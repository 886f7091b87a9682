// The test server (tests/serve_support.hpp): fork + exec of vram-calc-serve, its port read from its first log line.
#include "serve_support.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

namespace testsupport {

namespace {

std::string read_all(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TestServer::TestServer(const std::vector<std::string>& args, const std::string& env) {
  char pattern[] = "/tmp/vramcalc-serve-XXXXXX";
  const char* made = ::mkdtemp(pattern);
  if (made == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = made;
  const std::string log_file = dir_ + "/log";
  std::string command = "exec env HF_HOME='" + dir_ + "/hf' XDG_CACHE_HOME='" + dir_ +
                        "/xdg' HF_HUB_OFFLINE= HF_TOKEN= HF_ENDPOINT= " + env + " '" + VRAMCALC_SERVE_BINARY +
                        "' --host 127.0.0.1 --port 0";
  for (const auto& a : args) command += " '" + a + "'";
  command += " </dev/null >/dev/null 2>'" + log_file + "'";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The first line says where it listens: "vram-calc serve: listening on http://127.0.0.1:PORT (...)".
  for (int i = 0; i < 500 && port_ == 0; ++i) {
    const std::string log = read_all(log_file);
    if (const auto at = log.find("http://127.0.0.1:"); at != std::string::npos) {
      port_ = std::atoi(log.c_str() + at + 17);
      break;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("vram-calc-serve exited at start: " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (port_ == 0) throw std::runtime_error("vram-calc-serve did not start: " + read_all(log_file));
}

TestServer::~TestServer() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string TestServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::string TestServer::log() const { return read_all(dir_ + "/log"); }

int TestServer::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

HttpReply http(int port, const std::string& method, const std::string& path, const std::string& body,
               const std::map<std::string, std::string>& headers) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  httplib::Result r = method == "GET"      ? client.Get(path.c_str(), h)
                      : method == "POST"   ? client.Post(path.c_str(), h, body, "application/json")
                      : method == "DELETE" ? client.Delete(path.c_str(), h)
                      : method == "PUT"    ? client.Put(path.c_str(), h, body, "application/json")
                                           : client.Options(path.c_str(), h);
  HttpReply reply;
  if (!r) return reply;
  reply.status = r->status;
  reply.body = r->body;
  for (const auto& [k, v] : r->headers) {
    std::string lower = k;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[lower] = v;
  }
  return reply;
}

}  // namespace testsupport
