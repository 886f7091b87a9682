// libcurl multi-interface client. One multi handle lives as long as the client, so connections (and HTTP/2
// streams) are reused across rounds of requests. Redirects are followed here, not by curl, so the bearer
// token (and Basic credentials) are attached per hop only when the hop's origin is the endpoint's, and a hop
// from https to http is refused. Connections per host are capped (limits::kMaxConnectionsPerHost) and only so
// many transfers are handed to libcurl at once: an index naming thousands of shards once opened a socket for
// each and ran out of file descriptors.
//
// libcurl is loaded with dlopen on first use, not linked: it pulls in some thirty libraries (OpenSSL, GnuTLS,
// Kerberos, LDAP, ...) whose loading and initialisation cost several times a whole local plan, and only the Hub
// path needs them (bench/RESULTS.md has the numbers). The header still comes from libcurl's -dev package.
#include "vramcalc/sources/http.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <thread>

#include <curl/curl.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/limits.hpp"

namespace vramcalc {

namespace {

using Clock = std::chrono::steady_clock;

// Transfers handed to libcurl at once; the rest wait here. Each costs an easy handle (tens of KB inside libcurl)
// and, until HTTP/2 multiplexes it, a queue slot whose timeout is already running. This many keep one HTTP/2
// connection's streams (100 by default) busy; over HTTP/1.1 they share kMaxConnectionsPerHost connections.
constexpr std::size_t kMaxTransfersInFlight = 8 * static_cast<std::size_t>(limits::kMaxConnectionsPerHost);
// Connections in all: the endpoint and the CDN host its redirects point at. A server that redirects every
// request to a different host name still gets no more sockets than this.
constexpr long kMaxTotalConnections = 2 * limits::kMaxConnectionsPerHost;
// The longest URL quoted in an error message.
constexpr std::size_t kMaxQuotedUrl = 200;

std::string lower(std::string s) {
  s = ascii_lower(s);
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse response;
  std::string url;
  int hops = 0;
  int failures = 0;
  bool done = false;
  bool in_flight = false;
  Clock::time_point ready_at = Clock::now();
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  std::map<std::string, std::string> headers;  // of the response being received
  std::string body;
  bool capped = false;
  std::uint64_t delivered = 0;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  t->delivered += n;
  const std::size_t room = t->request->max_body > t->body.size() ? t->request->max_body - t->body.size() : 0;
  if (n > room) {
    t->body.append(data, room);
    t->capped = true;
    return 0;  // stop the transfer: the rest is never downloaded
  }
  t->body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->headers.clear();  // a new response (after an interim 1xx)
  } else if (auto colon = line.find(':'); colon != std::string::npos) {
    t->headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return n;
}

HttpResponse::Failure classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return HttpResponse::Failure::Connect;
    case CURLE_PARTIAL_FILE: return HttpResponse::Failure::Truncated;
    case CURLE_OPERATION_TIMEDOUT: return HttpResponse::Failure::Timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE: return HttpResponse::Failure::Tls;
    default: return HttpResponse::Failure::Other;
  }
}

bool retryable(HttpResponse::Failure f) {
  return f == HttpResponse::Failure::Connect || f == HttpResponse::Failure::Truncated;
}

// The libcurl functions this file calls, looked up in libcurl.so.4 (the soname libcurl4-openssl-dev links
// against). The types come from curl.h, so a mismatch is a compile error.
constexpr const char* kLibcurl = "libcurl.so.4";

struct CurlApi {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
  decltype(&::curl_multi_init) multi_init = nullptr;
  decltype(&::curl_multi_setopt) multi_setopt = nullptr;
  decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
  decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&::curl_multi_perform) multi_perform = nullptr;
  decltype(&::curl_multi_poll) multi_poll = nullptr;
  decltype(&::curl_multi_info_read) multi_info_read = nullptr;
};

template <typename Fn>
void bind(void* lib, Fn& fn, const char* name) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (fn == nullptr)
    throw Error(ExitCode::RemoteFailed, fmt::format("cannot use libcurl ({}): it has no {}", kLibcurl, name));
}

CurlApi load_curl() {
  void* lib = dlopen(kLibcurl, RTLD_NOW | RTLD_LOCAL);  // never closed: it lives as long as the process
  if (lib == nullptr) {
    const char* why = dlerror();
    throw Error(ExitCode::RemoteFailed,
                fmt::format("cannot load libcurl, needed to fetch from a Hub (install libcurl4): {}",
                            why != nullptr ? why : kLibcurl));
  }
  CurlApi api;
  bind(lib, api.global_init, "curl_global_init");
  bind(lib, api.easy_init, "curl_easy_init");
  bind(lib, api.easy_setopt, "curl_easy_setopt");
  bind(lib, api.easy_getinfo, "curl_easy_getinfo");
  bind(lib, api.easy_cleanup, "curl_easy_cleanup");
  bind(lib, api.easy_strerror, "curl_easy_strerror");
  bind(lib, api.slist_append, "curl_slist_append");
  bind(lib, api.slist_free_all, "curl_slist_free_all");
  bind(lib, api.multi_init, "curl_multi_init");
  bind(lib, api.multi_setopt, "curl_multi_setopt");
  bind(lib, api.multi_cleanup, "curl_multi_cleanup");
  bind(lib, api.multi_add_handle, "curl_multi_add_handle");
  bind(lib, api.multi_remove_handle, "curl_multi_remove_handle");
  bind(lib, api.multi_perform, "curl_multi_perform");
  bind(lib, api.multi_poll, "curl_multi_poll");
  bind(lib, api.multi_info_read, "curl_multi_info_read");
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    throw Error(ExitCode::RemoteFailed, "cannot initialise libcurl");
  return api;
}

// Loaded (and curl_global_init run) once, by the first HttpClient; a failure throws Error(RemoteFailed) and is
// tried again by the next one.
const CurlApi& curl() {
  static const CurlApi api = load_curl();
  return api;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

// The length of `url`'s scheme when it starts with scheme "://" (RFC 3986: ALPHA *(ALPHA / DIGIT / "+" / "-" /
// ".")), before any '/', '?' or '#'; 0 otherwise.
std::size_t scheme_length(const std::string& url) {
  const auto colon = url.find_first_of(":/?#");
  if (colon == std::string::npos || colon == 0 || url[colon] != ':' || url.compare(colon, 3, "://") != 0) return 0;
  if (std::isalpha(static_cast<unsigned char>(url[0])) == 0) return 0;
  return std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(colon), is_scheme_char) ? colon : 0;
}

std::string scheme_of(const std::string& url) { return lower(url.substr(0, scheme_length(url))); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A URL as it may appear in a one-line message: no user info, control and non-ASCII bytes as %XX, and cut
// short when long (a Location header is whatever the server sent).
std::string quoted_url(const std::string& url) {
  std::string out;
  for (unsigned char c : without_userinfo(url)) {
    if (out.size() >= kMaxQuotedUrl) return out + "...";
    if (c <= 0x20 || c >= 0x7f) out += fmt::format("%{:02X}", c);
    else out.push_back(static_cast<char>(c));
  }
  return out;
}

}  // namespace

std::string url_origin(const std::string& url) {
  const auto scheme_end = scheme_length(url);
  if (scheme_end == 0) return "";
  const std::string scheme = lower(url.substr(0, scheme_end));
  const auto host_start = scheme_end + 3;
  auto host_end = url.find_first_of("/?#", host_start);
  std::string authority =
      lower(url.substr(host_start, host_end == std::string::npos ? std::string::npos : host_end - host_start));
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (authority.empty()) return "";
  const std::string default_port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : "";
  if (!default_port.empty() && authority.size() > default_port.size() &&
      authority.compare(authority.size() - default_port.size(), default_port.size(), default_port) == 0)
    authority.resize(authority.size() - default_port.size());
  return scheme + "://" + authority;
}

SplitUrl split_userinfo(const std::string& url) {
  const std::size_t scheme = scheme_length(url);
  const std::size_t authority_start = scheme == 0 ? 0 : scheme + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", authority_start), url.size());
  const std::size_t at = url.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  if (at == std::string::npos || at < authority_start || at >= authority_end) return {url, std::nullopt};
  const std::string userinfo = url.substr(authority_start, at - authority_start);
  const std::size_t colon = userinfo.find(':');
  UrlCredentials credentials{percent_decode(userinfo.substr(0, colon)),
                             colon == std::string::npos ? "" : percent_decode(userinfo.substr(colon + 1))};
  return {url.substr(0, authority_start) + url.substr(at + 1), std::move(credentials)};
}

std::string without_userinfo(const std::string& url) { return split_userinfo(url).url; }

std::string resolve_location(const std::string& base, const std::string& location) {
  if (scheme_length(location) != 0) return location;
  const std::string origin = url_origin(base);
  if (location.rfind("//", 0) == 0) return base.substr(0, base.find("://") + 1) + location;
  if (!location.empty() && location[0] == '/') return origin + location;
  // Relative to the base's directory.
  const auto query = base.find('?');
  const std::string path = base.substr(0, query);
  return path.substr(0, path.rfind('/') + 1) + location;
}

namespace {

// One call of HttpClient::fetch: every request's transfer, started as libcurl takes them (at most
// kMaxTransfersInFlight at once), retried, redirected hop by hop, until each has its response.
class Round {
 public:
  Round(CURLM* multi, const HttpOptions& options, const std::vector<HttpRequest>& requests, const ProgressFn& progress)
      : multi_(multi), options_(options), transfers_(requests.size()), progress_(progress) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      transfers_[i].request = &requests[i];
      transfers_[i].url = requests[i].url;
    }
  }

  // An exception (libcurl out of memory) leaves no handle in the multi handle pointing at a freed transfer.
  ~Round() {
    for (auto& t : transfers_)
      if (t.in_flight) release(t);
  }
  Round(const Round&) = delete;
  Round& operator=(const Round&) = delete;

  std::vector<HttpResponse> run() {
    while (finished_ < transfers_.size()) {
      bool slot_wanted = false;
      const auto next_ready = start_ready(slot_wanted);
      int running = 0;
      curl().multi_perform(multi_, &running);
      int queued = 0;
      while (CURLMsg* msg = curl().multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Transfer* t = nullptr;
        curl().easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
        complete(*t, msg->data.result);
      }
      if (finished_ == transfers_.size()) break;
      // A transfer waiting for a slot that just came free starts at once.
      if (slot_wanted && in_flight_ < kMaxTransfersInFlight) continue;
      wait(running, next_ready);
    }
    std::vector<HttpResponse> out;
    out.reserve(transfers_.size());
    for (auto& t : transfers_) out.push_back(std::move(t.response));
    return out;
  }

  std::uint64_t requests_sent = 0;
  std::uint64_t bytes_received = 0;

 private:
  // Starts every transfer that is due, while slots last; returns when the next retry is due (max: none) and
  // sets `slot_wanted` when a due transfer found no free slot.
  Clock::time_point start_ready(bool& slot_wanted) {
    const auto now = Clock::now();
    auto next_ready = Clock::time_point::max();
    for (auto& t : transfers_) {
      if (t.done || t.in_flight) continue;
      if (t.ready_at > now) {
        next_ready = std::min(next_ready, t.ready_at);
      } else if (in_flight_ < kMaxTransfersInFlight) {
        start(t);
      } else {
        slot_wanted = true;
      }
    }
    return next_ready;
  }

  void wait(int running, Clock::time_point next_ready) const {
    int wait_ms = 100;
    if (next_ready != Clock::time_point::max()) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(next_ready - Clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<long long>(until, 0, 100));
    }
    if (running > 0) {
      curl().multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
    } else if (wait_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    }
  }

  void start(Transfer& t) {
    t.easy = curl().easy_init();
    if (t.easy == nullptr) throw Error(ExitCode::RemoteFailed, "cannot create a libcurl transfer");
    t.headers.clear();
    t.body.clear();
    t.capped = false;
    t.error_buffer[0] = '\0';
    t.header_list = nullptr;
    for (const auto& h : t.request->headers) t.header_list = curl().slist_append(t.header_list, h.c_str());
    set_credentials(t);
    curl().easy_setopt(t.easy, CURLOPT_URL, t.url.c_str());
    curl().easy_setopt(t.easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl().easy_setopt(t.easy, CURLOPT_HTTPHEADER, t.header_list);
    curl().easy_setopt(t.easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl().easy_setopt(t.easy, CURLOPT_NOSIGNAL, 1L);
    curl().easy_setopt(t.easy, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
    curl().easy_setopt(t.easy, CURLOPT_TIMEOUT, options_.timeout_s);
    curl().easy_setopt(t.easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl().easy_setopt(t.easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl().easy_setopt(t.easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl().easy_setopt(t.easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_bundle.empty()) curl().easy_setopt(t.easy, CURLOPT_CAINFO, options_.ca_bundle.c_str());
    if (t.request->head) curl().easy_setopt(t.easy, CURLOPT_NOBODY, 1L);
    curl().easy_setopt(t.easy, CURLOPT_WRITEFUNCTION, on_body);
    curl().easy_setopt(t.easy, CURLOPT_WRITEDATA, &t);
    curl().easy_setopt(t.easy, CURLOPT_HEADERFUNCTION, on_header);
    curl().easy_setopt(t.easy, CURLOPT_HEADERDATA, &t);
    curl().easy_setopt(t.easy, CURLOPT_ERRORBUFFER, t.error_buffer);
    curl().easy_setopt(t.easy, CURLOPT_PRIVATE, &t);
    curl().multi_add_handle(multi_, t.easy);
    t.in_flight = true;
    ++in_flight_;
    ++t.response.attempts;
    ++requests_sent;
  }

  // Credentials go to the endpoint's origin only, hop by hop: never to a CDN a redirect points at.
  static void set_credentials(Transfer& t) {
    const HttpRequest& r = *t.request;
    if (r.auth_origin.empty() || url_origin(t.url) != r.auth_origin) return;
    if (r.bearer_token) {
      const std::string auth = "Authorization: Bearer " + *r.bearer_token;
      t.header_list = curl().slist_append(t.header_list, auth.c_str());
    }
    if (r.basic_auth) {
      // libcurl sends no Basic header of its own when the bearer token's Authorization header is there.
      curl().easy_setopt(t.easy, CURLOPT_HTTPAUTH, static_cast<unsigned long>(CURLAUTH_BASIC));
      curl().easy_setopt(t.easy, CURLOPT_USERNAME, r.basic_auth->user.c_str());
      curl().easy_setopt(t.easy, CURLOPT_PASSWORD, r.basic_auth->password.c_str());
    }
  }

  void finish(Transfer& t) {
    t.done = true;
    t.response.final_url = t.url;
    ++finished_;
    if (progress_) progress_(finished_, transfers_.size());
  }

  static void schedule_retry(Transfer& t, double delay_s) {
    ++t.failures;
    t.ready_at = Clock::now() + std::chrono::milliseconds(static_cast<long>(delay_s * 1000));
  }

  // Releases the finished attempt's libcurl handles; returns its HTTP status (0: none).
  long release(Transfer& t) {
    long status = 0;
    curl().easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    curl().multi_remove_handle(multi_, t.easy);
    curl().easy_cleanup(t.easy);
    curl().slist_free_all(t.header_list);
    t.easy = nullptr;
    t.header_list = nullptr;
    t.in_flight = false;
    --in_flight_;
    bytes_received += t.delivered;
    t.delivered = 0;
    return status;
  }

  void complete(Transfer& t, CURLcode code) {
    const long status = release(t);
    const bool capped_ok = code == CURLE_WRITE_ERROR && t.capped;
    if (code != CURLE_OK && !capped_ok) {
      const auto failure = classify(code);
      if (retryable(failure) && t.failures + 1 < options_.max_tries) {
        schedule_retry(t, options_.backoff_s * std::pow(2.0, t.failures));
        return;
      }
      t.response.status = 0;
      t.response.failure = failure;
      t.response.error =
          t.error_buffer[0] != '\0' ? std::string(t.error_buffer) : std::string(curl().easy_strerror(code));
      finish(t);
      return;
    }
    if (status >= 300 && status < 400 && status != 304 && redirect(t)) return;
    if ((status == 429 || status >= 500) && t.failures + 1 < options_.max_tries) {
      schedule_retry(t, retry_delay(t));
      return;
    }
    t.response.status = status;
    t.response.headers = std::move(t.headers);
    if (t.hops == 0) t.response.first_hop_headers = t.response.headers;
    t.response.body = std::move(t.body);
    t.response.body_capped = t.capped;
    finish(t);
  }

  // Follows a redirect (or refuses it: a hop from https to http would lose TLS); false when there is none to
  // follow, and the 3xx is the response.
  bool redirect(Transfer& t) {
    const auto location = t.headers.find("location");
    if (location == t.headers.end() || t.hops >= options_.max_redirects) return false;
    if (t.hops == 0) t.response.first_hop_headers = t.headers;
    const std::string next = resolve_location(t.url, location->second);
    if (scheme_of(t.url) == "https" && scheme_of(next) != "https") {
      t.response.failure = HttpResponse::Failure::Insecure;
      t.response.error =
          fmt::format("refusing redirect from {} to {} (TLS downgrade)", quoted_url(t.url), quoted_url(next));
      finish(t);
      return true;
    }
    ++t.hops;
    t.url = next;
    t.ready_at = Clock::now();
    return true;
  }

  // Exponential backoff, or the server's Retry-After (seconds) up to max_retry_after_s.
  double retry_delay(const Transfer& t) const {
    double delay = options_.backoff_s * std::pow(2.0, t.failures);
    if (auto ra = t.headers.find("retry-after"); ra != t.headers.end()) {
      char* end = nullptr;
      const double seconds = std::strtod(ra->second.c_str(), &end);
      if (end != ra->second.c_str() && std::isfinite(seconds) && seconds >= 0)
        delay = std::min(seconds, options_.max_retry_after_s);
    }
    return delay;
  }

  CURLM* multi_;
  const HttpOptions& options_;
  std::vector<Transfer> transfers_;
  const ProgressFn& progress_;
  std::size_t finished_ = 0;
  std::size_t in_flight_ = 0;
};

}  // namespace

struct HttpClient::Impl {
  CURLM* multi = nullptr;
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>()), options_(std::move(options)) {
  impl_->multi = curl().multi_init();
  if (impl_->multi == nullptr) throw Error(ExitCode::RemoteFailed, "cannot initialise libcurl");
  curl().multi_setopt(impl_->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  // Transfers beyond these wait in libcurl for a free connection (or an HTTP/2 stream on an open one).
  curl().multi_setopt(impl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS, limits::kMaxConnectionsPerHost);
  curl().multi_setopt(impl_->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, kMaxTotalConnections);
}

HttpClient::~HttpClient() {
  if (impl_ && impl_->multi != nullptr) curl().multi_cleanup(impl_->multi);
}

std::vector<HttpResponse> HttpClient::fetch(const std::vector<HttpRequest>& requests, const ProgressFn& progress) {
  Round round(impl_->multi, options_, requests, progress);
  auto responses = round.run();
  requests_sent_ += round.requests_sent;
  bytes_received_ += round.bytes_received;
  return responses;
}

}  // namespace vramcalc
