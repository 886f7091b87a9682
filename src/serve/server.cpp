// The HTTP server of `vram-calc serve` (serve/serve.hpp): cpp-httplib with a bounded thread pool, timeouts, a
// body cap, bearer authentication, CORS, an access log line per request, metrics, and a graceful stop on SIGINT
// or SIGTERM (the listener closes, requests in flight finish).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <httplib.h>
#include <CLI/CLI.hpp>

#include "serve/api_error.hpp"
#include "serve/estimate.hpp"
#include "serve/metrics.hpp"
#include "serve/plan_api.hpp"
#include "serve/serve.hpp"
#include "serve/ui.hpp"
#include "vramcalc/cli/cli.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/render/render.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

namespace vramcalc::serve {

namespace {

using Clock = std::chrono::steady_clock;

struct Route {
  const char* method;
  const char* path;
};

// Every route, for 404 and 405 before any handler runs.
constexpr Route kRoutes[] = {
    {"GET", "/"},
    {"GET", "/healthz"},
    {"GET", "/metrics"},
    {"GET", "/skus"},
    {"GET", "/known-architectures"},
    {"GET", "/ui"},
    {"POST", "/plan"},
    {"POST", "/estimate-gpu-memory"},
};

bool known_path(const std::string& path) {
  for (const auto& r : kRoutes)
    if (path == r.path) return true;
  return false;
}

std::string allowed_methods(const std::string& path) {
  std::string out;
  for (const auto& r : kRoutes)
    if (path == r.path) out += (out.empty() ? "" : ", ") + std::string(r.method);
  return out;
}

void json_reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(2, ' ', true, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
}

void error_reply(httplib::Response& res, int status, const std::string& message, const std::string& field = "") {
  json_reply(res, status, {{"error", message}, {"field", field}});
}

nlohmann::json parse_body(const httplib::Request& req) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded()) throw ApiError(400, "the request body is not valid JSON");
  return body;
}

// Per-client budget of requests that may fetch from the Hub, over a sliding minute.
class HubBudget {
 public:
  explicit HubBudget(int per_minute) : per_minute_(per_minute) {}
  bool take(const std::string& client) {
    const std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    auto& times = seen_[client];
    while (!times.empty() && now - times.front() > std::chrono::minutes(1)) times.erase(times.begin());
    if (static_cast<int>(times.size()) >= per_minute_) return false;
    times.push_back(now);
    return true;
  }

 private:
  int per_minute_;
  std::mutex mutex_;
  std::map<std::string, std::vector<Clock::time_point>> seen_;
};

// What the handlers share.
struct State {
  ServeConfig config;
  Metrics metrics;
  HubBudget hub_budget;
  cli::PlanCatalogs catalogs;  // loaded once; also tells a catalog model (never fetched) from one that may be
  std::string skus_json;
};

// A model that the catalog does not hold may be fetched from the Hub: such requests count against the budget.
void charge_hub(State& s, const httplib::Request& req, const nlohmann::json& body, const char* model_key) {
  if (!s.config.allow_hub || !body.is_object() || !body.contains(model_key) || !body[model_key].is_string()) return;
  if (s.catalogs.models->find(body[model_key].get<std::string>()) != nullptr) return;
  if (!s.hub_budget.take(req.remote_addr))
    throw ApiError(
        429, fmt::format("over {} requests a minute that may fetch from the Hub", s.config.hub_requests_per_minute));
}

template <typename Handler>
httplib::Server::Handler guarded(Handler handler) {
  return [handler](const httplib::Request& req, httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const ApiError& e) {
      error_reply(res, e.status(), e.what(), e.field());
    } catch (const Error& e) {
      error_reply(res, e.code() == ExitCode::RemoteFailed ? 502 : 400, e.what());
    } catch (const std::exception& e) {
      error_reply(res, 500, std::string("internal error: ") + printable_line(e.what()));
    }
  };
}

void add_routes(httplib::Server& svr, State& s) {
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  svr.Get("/metrics", [&s](const httplib::Request&, httplib::Response& res) {
    res.set_content(s.metrics.prometheus_text(), "text/plain; version=0.0.4");
  });
  svr.Get("/",
          guarded([](const httplib::Request&, httplib::Response& res) { json_reply(res, 200, api_description()); }));
  svr.Get("/skus",
          [&s](const httplib::Request&, httplib::Response& res) { res.set_content(s.skus_json, "application/json"); });
  svr.Get("/known-architectures", guarded([](const httplib::Request&, httplib::Response& res) {
            json_reply(res, 200, known_architectures());
          }));
  svr.Get("/ui", [](const httplib::Request&, httplib::Response& res) {
    // Inline script and style only; nothing from another origin, no framing.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; "
                   "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(std::string(ui_page()), "text/html; charset=utf-8");
  });
  svr.Post("/plan", guarded([&s](const httplib::Request& req, httplib::Response& res) {
             const nlohmann::json body = parse_body(req);
             charge_hub(s, req, body, "model");
             const PlanReply reply = plan_request(body, s.config.allow_hub, s.catalogs);
             res.set_header("X-Vram-Calc-Exit-Code", std::to_string(reply.exit_code));
             res.set_content(reply.body, "application/json");
           }));
  svr.Post("/estimate-gpu-memory", guarded([&s](const httplib::Request& req, httplib::Response& res) {
             const nlohmann::json body = parse_body(req);
             charge_hub(s, req, body, "model_name");
             json_reply(res, 200, estimate_gpu_memory(body, EstimateContext{s.config.allow_hub}));
           }));
}

thread_local Clock::time_point request_start;

// Authentication, CORS and the 404/405 answers, before routing.
httplib::Server::HandlerResponse before_routing(State& s, const httplib::Request& req, httplib::Response& res) {
  request_start = Clock::now();
  if (s.config.cors_origin) {
    res.set_header("Access-Control-Allow-Origin", *s.config.cors_origin);
    res.set_header("Vary", "Origin");
    if (req.method == "OPTIONS") {
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization");
      return httplib::Server::HandlerResponse::Handled;
    }
  }
  if (!known_path(req.path)) {
    error_reply(res, 404, fmt::format("no such path: {}", printable_line(req.path)));
    return httplib::Server::HandlerResponse::Handled;
  }
  const std::string allowed = allowed_methods(req.path);
  if (allowed.find(req.method) == std::string::npos) {
    res.set_header("Allow", allowed);
    error_reply(res, 405, fmt::format("{} takes {}", req.path, allowed));
    return httplib::Server::HandlerResponse::Handled;
  }
  // Probes and the static page need no token (the page holds no data; its API calls do need one).
  if (s.config.auth_token && req.path != "/healthz" && req.path != "/ui") {
    const std::string expected = "Bearer " + *s.config.auth_token;
    const std::string given = req.get_header_value("Authorization");
    // Compared in constant time: the time taken does not say how much of the token was right.
    unsigned diff = given.size() != expected.size() ? 1U : 0U;
    for (std::size_t i = 0; i < given.size() && i < expected.size(); ++i)
      diff |= static_cast<unsigned>(given[i] ^ expected[i]);
    if (diff != 0) {
      res.set_header("WWW-Authenticate", "Bearer");
      error_reply(res, 401, "missing or wrong bearer token (Authorization: Bearer ...)");
      return httplib::Server::HandlerResponse::Handled;
    }
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

// One line per request on stderr: client, method, path (no query string, no body, no header), status, size, time.
void access_log(State& s, const httplib::Request& req, const httplib::Response& res) {
  const double seconds = std::chrono::duration<double>(Clock::now() - request_start).count();
  s.metrics.record(known_path(req.path) ? req.path : "other", res.status, seconds);
  const std::string line = fmt::format("{} \"{} {}\" {} {} {:.1f}ms\n", req.remote_addr, printable_line(req.method),
                                       printable_line(req.path), res.status, res.body.size(), seconds * 1000);
  std::fputs(line.c_str(), stderr);
}

ServeConfig parse_config(int argc, char** argv) {
  ServeConfig c;
  CLI::App app("vram-calc serve: the plan engine over HTTP (POST /plan, POST /estimate-gpu-memory, GET /ui)",
               "vram-calc serve");
  std::string auth_file;
  std::string cors;
  app.add_option("--host", c.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", c.port, "Port (0: any free port, printed at start)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--threads", c.threads, "Requests handled at once")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--timeout", c.timeout_seconds, "Read and write timeout per request, in seconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_flag("--allow-hub", c.allow_hub,
               "Let requests fetch models from the Hugging Face Hub (else catalog and caches)");
  app.add_flag("--share-hub-token", c.share_hub_token,
               "Use the server's own HF token (HF_TOKEN, the token file) for requests' Hub fetches");
  app.add_option("--auth-token-file", auth_file, "File holding a bearer token every request must send")
      ->type_name("FILE");
  app.add_option("--cors", cors, "Allow this origin to call the API from a browser (CORS is off without it)")
      ->type_name("ORIGIN");
  app.add_option("--hub-requests-per-minute", c.hub_requests_per_minute,
                 "Per client: requests a minute that may fetch from the Hub (with --allow-hub)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    fail_input(fmt::format("serve: {} (vram-calc serve --help)", e.what()));
  }
  if (!auth_file.empty()) {
    std::ifstream in(auth_file);
    std::string token;
    if (!in || !std::getline(in, token)) fail_input(fmt::format("--auth-token-file {}: cannot read it", auth_file));
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) fail_input(fmt::format("--auth-token-file {}: empty", auth_file));
    c.auth_token = token;
  }
  if (!cors.empty()) c.cors_origin = cors;
  return c;
}

}  // namespace

int run(int argc, char** argv) {
  try {
    const ServeConfig config = parse_config(argc, argv);
    // Requests never use the network or the server's token unless the operator said so.
    if (!config.allow_hub) ::setenv("HF_HUB_OFFLINE", "1", 1);
    if (!config.share_hub_token) ::setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1", 1);
    auto models = std::make_shared<const ModelCatalog>(ModelCatalog::load(find_data_file("models.json")));
    auto skus = std::make_shared<const SkuCatalog>(SkuCatalog::load(find_data_file("skus.json")));
    State s{config,
            {},
            HubBudget(config.hub_requests_per_minute),
            cli::PlanCatalogs{models, skus},
            sku_list_json(*skus).dump(2) + "\n"};

    // SIGINT and SIGTERM are taken by one thread (blocked everywhere else, the pool included), which stops the
    // listener; listen() then returns once the requests in flight are answered.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    httplib::Server svr;
    svr.new_task_queue = [threads = config.threads] {
      return new httplib::ThreadPool(static_cast<std::size_t>(threads));
    };
    svr.set_read_timeout(config.timeout_seconds, 0);
    svr.set_write_timeout(config.timeout_seconds, 0);
    svr.set_keep_alive_timeout(5);
    svr.set_tcp_nodelay(true);  // headers and body go out in two writes: without it, Nagle + delayed ACK add 40 ms
    svr.set_payload_max_length(kMaxBodyBytes);
    svr.set_pre_routing_handler(
        [&s](const httplib::Request& req, httplib::Response& res) { return before_routing(s, req, res); });
    svr.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request&, httplib::Response& res) -> httplib::Server::HandlerResponse {
          if (res.status == 413) {  // over the body cap: a client error like any other, in the API's shape
            error_reply(res, 400, fmt::format("the request body is over {} bytes", kMaxBodyBytes), "");
            return httplib::Server::HandlerResponse::Handled;
          }
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          error_reply(res, res.status, fmt::format("HTTP {}", res.status));
          return httplib::Server::HandlerResponse::Handled;
        }));
    svr.set_logger([&s](const httplib::Request& req, const httplib::Response& res) { access_log(s, req, res); });
    add_routes(svr, s);

    const int port = config.port == 0 ? svr.bind_to_any_port(config.host)
                                      : (svr.bind_to_port(config.host, config.port) ? config.port : -1);
    if (port < 0) fail_input(fmt::format("serve: cannot listen on {}:{}", config.host, config.port));
    std::fprintf(
        stderr, "vram-calc serve: listening on http://%s:%d (%s)\n", config.host.c_str(), port,
        config.allow_hub ? "models from the catalog, caches and the Hub" : "models from the catalog and caches");
    std::fflush(stderr);

    std::atomic<bool> signalled{false};
    std::thread stopper([&svr, &stop_signals, &signalled] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      signalled = true;
      svr.stop();
    });
    const bool ok = svr.listen_after_bind();
    // listen() also returns on an error; the stopper is then woken by a signal to the process (blocked in every
    // other thread, so it is the one that takes it).
    if (!signalled) ::kill(::getpid(), SIGTERM);
    stopper.join();
    std::fputs("vram-calc serve: stopped\n", stderr);
    return ok ? 0 : 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "vram-calc: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vram-calc: internal error: %s\n", printable_line(e.what()).c_str());
    return 2;
  }
}

}  // namespace vramcalc::serve
