// `vram-calc serve`: the plan engine over HTTP (issue 16). A separate executable (vram-calc-serve, which
// `vram-calc serve` execs), so that the plan path never loads cpp-httplib and its TLS and compression libraries.
// Private to the server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vramcalc::serve {

struct ServeConfig {
  std::string host = "127.0.0.1";
  int port = 8000;
  int threads = 8;                         // the request thread pool
  int timeout_seconds = 30;                // read and write timeouts
  bool allow_hub = false;                  // --allow-hub: requests may fetch models from the Hub
  bool share_hub_token = false;            // --share-hub-token: the server's HF token serves requests
  std::optional<std::string> auth_token;   // from --auth-token-file: requests need "Authorization: Bearer <it>"
  std::optional<std::string> cors_origin;  // --cors ORIGIN
  int hub_requests_per_minute = 30;        // per client, for requests that may fetch from the Hub
};

// The largest request body accepted (HTTP 400 beyond it).
inline constexpr std::size_t kMaxBodyBytes = 1u << 20;

// Runs the server until SIGINT or SIGTERM; returns the exit code. argv[0] is the program.
int run(int argc, char** argv);

}  // namespace vramcalc::serve
