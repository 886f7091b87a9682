// A fake Hugging Face Hub for tests: runs tests/fakehub/server.py (python3, standard library only) on
// 127.0.0.1 with the repositories of tests/data/hub, so Hub code is tested without the internet.
// See tests/fakehub/README.md for the repositories, routes, faults and the stats format.
#pragma once

#include <sys/types.h>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace testsupport {

class FakeHub {
 public:
  // Starts the server (HTTPS with tests/data/tls/server.pem when `tls`; every answer delayed by `latency_ms`)
  // and waits up to 10 s until it listens. Throws std::runtime_error, with the tail of its log, if it does not.
  explicit FakeHub(bool tls = false, int latency_ms = 0);
  // SIGTERM, then SIGKILL after 2 s.
  ~FakeHub();
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT" (what HF_ENDPOINT should be).
  [[nodiscard]] std::string endpoint() const;
  // tests/data/tls/ca.pem: the CA that signed the server's certificate (for CURLOPT_CAINFO).
  [[nodiscard]] std::string ca_bundle() const;
  // The request log: {"requests": [{"method", "path", "host", "range", "auth", "status", "body_bytes"}...],
  // "bytes_sent": N, "token_leaked": bool}. Waits (at most 1 s) until it has not changed for 50 ms, so that
  // requests a client just finished are counted with their final byte counts.
  [[nodiscard]] nlohmann::json stats() const;
  [[nodiscard]] int port() const { return port_; }

  // Behaviour switched while the server runs (its control file, replaced atomically, reread by the next request):
  // answer every If-None-Match with 200 and the whole file, as mirrors and proxies that ignore it do.
  void ignore_if_none_match(bool ignore = true);
  // Points `ref` of `repo` ("acme/sharded") at `commit` (40 hex): X-Repo-Commit changes, the files stay the same.
  void move_ref(const std::string& repo, const std::string& ref, const std::string& commit);

  // tests/data/hub: the served repositories (<org>--<name>/ with _repo.json).
  [[nodiscard]] static std::filesystem::path repos_dir();
  // The server's stdout/stderr (set FAKEHUB_VERBOSE=1 in the environment to log every request there).
  [[nodiscard]] std::filesystem::path log_file() const { return dir_.path() / "fakehub.log"; }

 private:
  void stop() noexcept;
  void write_control() const;

  TempDir dir_;
  nlohmann::json control_ = nlohmann::json::object();
  bool tls_ = false;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace testsupport

using testsupport::FakeHub;
