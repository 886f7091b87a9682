// A small HTTP(S) client over libcurl for the Hub: parallel requests on one connection pool (HTTP/2 when the
// server offers it, at most limits::kMaxConnectionsPerHost connections to a host), redirects followed here so
// credentials only ever go to the host they belong to and never from https to http, retries with backoff on
// connection errors, 5xx and 429 (honouring Retry-After), and a cap on every body received.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vramcalc {

struct HttpOptions {
  std::string ca_bundle;  // CA file for TLS verification (empty: the system's); verification is always on
  long connect_timeout_s = 10;
  long timeout_s = 60;  // whole transfer, per attempt
  int max_tries = 3;
  double backoff_s = 0.5;         // first retry delay; doubles each time
  double max_retry_after_s = 30;  // longest Retry-After honoured
  int max_redirects = 5;
  std::string user_agent = "vram-calc";
};

// The user name and password of a URL's user info ("https://user:password@host"), percent-decoded.
struct UrlCredentials {
  std::string user;
  std::string password;
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;          // "Name: value" (Range, If-None-Match, ...)
  std::optional<std::string> bearer_token;   // sent only while the URL's scheme://host:port equals auth_origin
  std::optional<UrlCredentials> basic_auth;  // HTTP Basic, like bearer_token only to auth_origin (the token wins)
  std::string auth_origin;                   // "https://huggingface.co" (scheme://host[:port])
  std::size_t max_body = 64u << 20;          // bytes kept; the transfer stops once this much arrived
  bool head = false;
};

struct HttpResponse {
  long status = 0;                                       // final status (0: no HTTP response at all)
  std::map<std::string, std::string> headers;            // lowercase names, final response
  std::map<std::string, std::string> first_hop_headers;  // headers of the first response (before a redirect)
  std::string body;
  bool body_capped = false;  // stopped at max_body (the rest was never downloaded)
  std::string error;         // transport failure, one line ("" when an HTTP response came)
  // Insecure: a redirect refused because following it would drop TLS (https -> http).
  enum class Failure { None, Connect, Timeout, Tls, Truncated, Insecure, Other } failure = Failure::None;
  int attempts = 0;
  std::string final_url;
  [[nodiscard]] std::string header(const std::string& lowercase_name) const;  // "" when absent
};

// Called as transfers complete: (done, total).
using ProgressFn = std::function<void(std::size_t, std::size_t)>;

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Runs every request concurrently; returns responses in request order. Never throws for HTTP or transport
  // failures (they are in the responses); throws Error(RemoteFailed) only when libcurl cannot be set up.
  std::vector<HttpResponse> fetch(const std::vector<HttpRequest>& requests, const ProgressFn& progress = {});

  [[nodiscard]] std::uint64_t requests_sent() const { return requests_sent_; }
  [[nodiscard]] std::uint64_t bytes_received() const { return bytes_received_; }
  [[nodiscard]] const HttpOptions& options() const { return options_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HttpOptions options_;
  std::uint64_t requests_sent_ = 0;
  std::uint64_t bytes_received_ = 0;
};

// "https://huggingface.co:443/x" -> "https://huggingface.co" (default ports dropped, host lowercased);
// "" when the URL has no scheme://host.
std::string url_origin(const std::string& url);
// Resolves a Location header against the URL it came from (absolute, scheme-relative, path-absolute or
// relative). Absolute means a scheme (ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")) and "://" before any '/', '?'
// or '#': "/x?next=https://evil/" is a path on the same host.
std::string resolve_location(const std::string& base, const std::string& location);

// A URL without its user info and the credentials that were in it: "https://u:p@host/x" -> "https://host/x" and
// {"u", "p"}. A URL without user info comes back as it is. Without "://", the text before the first '/' is
// taken as the authority, so that a malformed URL quoted in an error message does not show a password either.
struct SplitUrl {
  std::string url;
  std::optional<UrlCredentials> credentials;
};
SplitUrl split_userinfo(const std::string& url);
// split_userinfo(url).url: what may be printed, logged or stored.
std::string without_userinfo(const std::string& url);

}  // namespace vramcalc
