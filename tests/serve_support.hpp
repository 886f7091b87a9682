// Starting `vram-calc serve` (the vram-calc-serve executable) on a free loopback port inside a test, and talking
// to it. Shared by the tests under tests/serve/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace testsupport {

// A running server: started with `args` (beyond --host 127.0.0.1 --port 0) and `env` assignments ("A=1 B=2"), in
// the isolation run_cli uses (offline, empty caches, no token). The destructor stops it (SIGTERM) and waits.
class TestServer {
 public:
  explicit TestServer(const std::vector<std::string>& args = {}, const std::string& env = "");
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url(const std::string& path = "/") const;
  // Everything the server wrote to stderr so far (its access log).
  [[nodiscard]] std::string log() const;
  // SIGTERM, then waits: the exit code (-1 when killed by a signal).
  int stop();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;  // temporary directory: HF_HOME, caches, the log
};

struct HttpReply {
  int status = 0;  // 0: no answer (connection failed)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// One request to 127.0.0.1:port. `headers`: extra request headers.
HttpReply http(int port, const std::string& method, const std::string& path, const std::string& body = "",
               const std::map<std::string, std::string>& headers = {});

}  // namespace testsupport
