// The Hugging Face Hub, read with the fewest round trips: see hub.hpp for the plan of requests.
#include "vramcalc/sources/hub.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include <fmt/format.h>
#include <unistd.h>

#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/sources/hf_cache.hpp"
#include "vramcalc/sources/safetensors.hpp"

#include "sources/hub_parse.hpp"
#include "sources/safetensors_index.hpp"

namespace vramcalc {

namespace {

constexpr std::size_t kMaxShards = 100'000;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

bool truthy(std::string v) {
  v = ascii_lower(v);
  return v == "1" || v == "on" || v == "yes" || v == "true";
}

// Percent-encodes a revision for the URL path ("refs/pr/1" keeps its slashes encoded as the Hub expects).
std::string encode_revision(const std::string& rev) {
  std::string out;
  for (unsigned char c : rev) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string host_of(const std::string& endpoint) {
  auto origin = url_origin(endpoint);
  auto pos = origin.find("://");
  return pos == std::string::npos ? origin : origin.substr(pos + 3);
}

class Fetcher {
 public:
  Fetcher(const std::string& id, const HubOptions& o, HttpClient& http) : id_(id), o_(o), http_(http) {
    // hub_options_from_environment() already moved HF_ENDPOINT's user info aside; an endpoint set by other
    // code gets the same treatment, so that no credential reaches a message or the cache.
    SplitUrl endpoint = split_userinfo(o.endpoint);
    endpoint_ = std::move(endpoint.url);
    credentials_ = o.endpoint_credentials ? o.endpoint_credentials : endpoint.credentials;
    base_ = fmt::format("{}/{}/resolve/{}/", endpoint_, id, encode_revision(o.revision));
    origin_ = url_origin(endpoint_);
  }

  HttpRequest request(const std::string& file, std::size_t max_body, std::vector<std::string> headers = {},
                      bool head = false) const {
    HttpRequest r;
    r.url = base_ + file;
    r.headers = std::move(headers);
    r.bearer_token = o_.token;
    r.basic_auth = credentials_;
    r.auth_origin = origin_;
    r.max_body = max_body;
    r.head = head;
    return r;
  }

  HttpRequest range(const std::string& file, std::uint64_t first, std::uint64_t last) const {
    return request(file, static_cast<std::size_t>(last - first + 1), {fmt::format("Range: bytes={}-{}", first, last)});
  }

  std::vector<HttpResponse> round(const std::vector<HttpRequest>& requests) {
    if (requests.empty()) return {};
    const std::size_t before = done_;
    total_ += requests.size();
    auto out = http_.fetch(requests, [&](std::size_t d, std::size_t) {
      done_ = before + d;
      show_progress();
    });
    return out;
  }

  void show_progress() const {
    if (!o_.progress) return;
    std::fprintf(stderr, "\r\033[Kvram-calc: fetching %s from %s: %zu/%zu", id_.c_str(), host_of(endpoint_).c_str(),
                 done_, total_);
    std::fflush(stderr);
  }
  void end_progress() const {
    if (o_.progress && total_ > 0) {
      std::fputs("\r\033[K", stderr);
      std::fflush(stderr);
    }
  }

  // Throws the error a user must understand for a failed response to `file`; returns when it is usable.
  // `optional_file`: a 404 for a missing file is not an error (returns false).
  bool check(const HttpResponse& r, const std::string& file, bool optional_file) const {
    const std::string host = host_of(r.final_url.empty() ? endpoint_ : r.final_url);
    switch (r.failure) {
      case HttpResponse::Failure::None: break;
      case HttpResponse::Failure::Timeout:
        throw RemoteError(fmt::format("timed out fetching {} of {} from {} (limits: connect {} s, transfer {} s; "
                                      "see --timeout)",
                                      file, id_, host, o_.http.connect_timeout_s, o_.http.timeout_s),
                          true);
      case HttpResponse::Failure::Tls:
        throw RemoteError(fmt::format("TLS failure talking to {}: {} (a private CA goes in --ca-bundle or "
                                      "CURL_CA_BUNDLE; verification is never turned off)",
                                      host, r.error),
                          false);
      case HttpResponse::Failure::Truncated:
        throw RemoteError(fmt::format("{} of {} from {}: the response was cut short after {} tries ({})", file, id_,
                                      host, r.attempts, r.error),
                          true);
      case HttpResponse::Failure::Insecure: throw RemoteError(fmt::format("{} of {}: {}", file, id_, r.error), false);
      case HttpResponse::Failure::Connect:
        throw RemoteError(fmt::format("cannot reach {} after {} tries: {}", host, r.attempts, r.error), true);
      case HttpResponse::Failure::Other:
        throw RemoteError(fmt::format("fetching {} of {} from {} failed: {}", file, id_, host, r.error), true);
    }
    const long s = r.status;
    if (s == 200 || s == 206 || s == 304) return true;
    const std::string code = r.header("x-error-code");
    if (s == 401 || s == 403) {
      if (code == "RepoNotFound")
        throw RemoteError(fmt::format("{}: repository not found on {} (check the id; a private repository needs "
                                      "HF_TOKEN or --token)",
                                      id_, host),
                          false);
      const std::string page = fmt::format("{}/{}", endpoint_, id_);
      if (o_.token)
        throw RemoteError(fmt::format("{}: access denied with the token given (HTTP {}); accept the licence on {} "
                                      "with the account that owns the token",
                                      id_, s, page),
                          false);
      throw RemoteError(fmt::format("{} is gated or private (HTTP {}): accept the licence on {} and set HF_TOKEN "
                                    "(or --token)",
                                    id_, s, page),
                        false);
    }
    if (s == 404) {
      if (code == "RepoNotFound")
        throw RemoteError(fmt::format("{}: repository not found on {} (check the id)", id_, host), false);
      if (code == "RevisionNotFound")
        throw RemoteError(fmt::format("{}: revision '{}' not found (check --revision)", id_, o_.revision), false);
      if (optional_file) return false;
      throw RemoteError(fmt::format("{}: no {} at revision '{}' (check the id or --revision)", id_, file, o_.revision),
                        false);
    }
    if (s == 416 && optional_file) return false;
    if (s == 429)
      throw RemoteError(fmt::format("{} is rate-limiting requests (HTTP 429) after {} tries: wait and retry, or set "
                                    "HF_TOKEN for higher limits",
                                    host, r.attempts),
                        true);
    if (s >= 500)
      throw RemoteError(fmt::format("{} answered HTTP {} for {} of {} after {} tries", host, s, file, id_, r.attempts),
                        true);
    throw RemoteError(fmt::format("{} answered HTTP {} for {} of {}", host, s, file, id_), false);
  }

  static std::string commit_of(const HttpResponse& r) {
    std::string c = r.first_hop_headers.contains("x-repo-commit") ? r.first_hop_headers.at("x-repo-commit")
                                                                  : r.header("x-repo-commit");
    return c;
  }

  std::string origin_of(const std::string& file) const {
    return fmt::format("{} of {} ({})", file, id_, host_of(endpoint_));
  }

  // `limit`: the request's max_body (limits.hpp, by kind of file), named when the body was over it.
  nlohmann::json parse_json(const HttpResponse& r, const std::string& file, std::size_t limit) const {
    return hub_detail::parse_json_body(r.body, r.body_capped, origin_of(file), limit);
  }

  // Safetensors headers from first ranges, with one more round for the ones longer than the first range.
  struct HeaderJob {
    std::string file;
    std::string bytes;  // bytes 0.. of the file received so far
    std::uint64_t header_length = 0;
  };

  // Takes a first-range response for a job; returns true when the header is complete.
  bool absorb_first(HeaderJob& job, const HttpResponse& r) const {
    job.bytes = r.body;
    job.header_length = hub_detail::first_range_header_length(job.bytes, origin_of(job.file));
    return job.bytes.size() >= 8 + job.header_length;
  }

  SafetensorsSummary complete_headers(std::vector<HeaderJob>& jobs) {
    std::vector<HttpRequest> more;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      auto& j = jobs[i];
      const std::uint64_t need = 8 + j.header_length;
      if (j.bytes.size() >= need) continue;
      more.push_back(range(j.file, j.bytes.size(), need - 1));
      which.push_back(i);
    }
    auto responses = round(more);
    for (std::size_t k = 0; k < responses.size(); ++k) {
      auto& j = jobs[which[k]];
      check(responses[k], j.file, false);
      if (responses[k].status == 200) {
        // The server ignored the range and sent the file from the start (capped at what we asked for).
        j.bytes = responses[k].body;
      } else {
        j.bytes += responses[k].body;
      }
      if (j.bytes.size() < 8 + j.header_length)
        throw RemoteError(fmt::format("{}: the safetensors header is truncated ({} of {} bytes)", origin_of(j.file),
                                      j.bytes.size(), 8 + j.header_length),
                          true);
    }
    SafetensorsSummary total;
    for (auto& j : jobs) {
      auto s = parse_safetensors_header(std::string_view(j.bytes).substr(8, j.header_length), origin_of(j.file),
                                        ExitCode::RemoteFailed);
      s.files = 1;
      merge_summary(total, s);
    }
    return total;
  }

  // Takes a second-round response: Mistral's params.json, the PyTorch total, or a safetensors first range (a
  // shard, or Mistral's consolidated file) that becomes a header job.
  void absorb_second(CachedModel& m, std::vector<HeaderJob>& jobs, const std::string& file,
                     const HttpResponse& r) const {
    if (file == "params.json") {
      if (!check(r, file, true))
        throw RemoteError(fmt::format("{}: no config.json (nor Mistral's params.json) at revision '{}' (check the id "
                                      "or --revision)",
                                      id_, o_.revision),
                          false);
      m.config = config_from_mistral_params(parse_json(r, file, limits::kMaxConfigBytes), origin_of(file));
      m.config_file = "params.json";
      m.config_etag = r.header("etag");
      m.commit = commit_of(r);
    } else if (file == "pytorch_model.bin.index.json") {
      if (check(r, file, true)) {
        const auto total = hub_detail::pytorch_index_total(parse_json(r, file, limits::kMaxIndexBytes));
        if (total && !m.other_total_size) {
          m.other_total_size = total;
          m.other_total_source = "metadata.total_size of pytorch_model.bin.index.json";
        }
      }
    } else if (file == "pytorch_model.bin") {
      if (check(r, file, true) && !m.other_total_size) {
        std::string size = r.first_hop_headers.contains("x-linked-size") ? r.first_hop_headers.at("x-linked-size")
                                                                         : r.header("content-length");
        if (const auto v = hub_detail::parse_size_header(size)) {
          m.other_total_size = v;
          m.other_total_source = "size of pytorch_model.bin";
        }
      }
    } else {
      // A safetensors first range (a shard, or Mistral's consolidated file).
      if (!check(r, file, file == "consolidated.safetensors")) return;
      jobs.push_back(HeaderJob{file, {}, 0});
      absorb_first(jobs.back(), r);
    }
  }

  // The cached entry, when the answer to its revalidation shows it still holds: a 304 (for the same commit, or
  // none named), or a 200 for the same commit. Mirrors and proxies often ignore If-None-Match and send the whole
  // config again; a commit never changes, so the index and headers read for it are still right, and only the
  // config just received replaces the cached one. A 200 without X-Repo-Commit proves nothing: nullopt.
  std::optional<CachedModel> still_current(const CachedModel& previous, const HttpResponse& r) const {
    const std::string commit = commit_of(r);
    const bool same_commit = !commit.empty() && commit == previous.commit;
    if (r.status == 304 && (commit.empty() || same_commit)) return previous;
    if (r.status != 200 || !same_commit) return std::nullopt;
    CachedModel same = previous;
    same.config = parse_json(r, "config.json", limits::kMaxConfigBytes);
    if (const std::string etag = r.header("etag"); !etag.empty()) same.config_etag = etag;
    return same;
  }

  // Round 0: a branch or tag the cache holds costs one request for config.json, conditional when its ETag is
  // known; its X-Repo-Commit tells whether the cached commit is still the revision's. Returns the entry when it
  // still holds; otherwise a 200 is kept in `config_response` for the full fetch, which then needs no other.
  std::optional<CachedModel> revalidate(const std::optional<CachedModel>& previous,
                                        std::optional<HttpResponse>& config_response) {
    if (!previous || previous->revision != o_.revision || previous->config_file != "config.json") return std::nullopt;
    std::vector<std::string> headers;
    if (!previous->config_etag.empty()) headers.push_back("If-None-Match: " + previous->config_etag);
    auto r = round({request("config.json", limits::kMaxConfigBytes, std::move(headers))});
    check(r[0], "config.json", false);
    if (auto same = still_current(*previous, r[0])) return same;
    if (r[0].status == 200) config_response = std::move(r[0]);
    return std::nullopt;
  }

  CachedModel run(const std::optional<CachedModel>& previous) {
    CachedModel m;
    m.endpoint = endpoint_;
    m.id = id_;
    m.revision = o_.revision;
    m.fetched_at = static_cast<std::int64_t>(std::time(nullptr));

    const std::string first_range = fmt::format("Range: bytes=0-{}", kSpeculativeRangeBytes - 1);
    std::optional<HttpResponse> config_response;
    if (auto same = revalidate(previous, config_response)) {
      same->fetched_at = m.fetched_at;
      end_progress();
      return std::move(*same);
    }

    // Round 1: config, index and a speculative first range of a single-file checkpoint, in parallel.
    std::vector<HttpRequest> r1;
    if (!config_response) r1.push_back(request("config.json", limits::kMaxConfigBytes));
    r1.push_back(request("model.safetensors.index.json", limits::kMaxIndexBytes));
    r1.push_back(request("model.safetensors", kSpeculativeRangeBytes, {first_range}));
    auto responses = round(r1);
    std::size_t k = 0;
    if (!config_response) config_response = std::move(responses[k++]);
    HttpResponse index_response = std::move(responses[k++]);
    HttpResponse single_response = std::move(responses[k++]);

    const bool have_config = check(*config_response, "config.json", true);
    const bool mistral = !have_config;
    if (have_config) {
      m.config = parse_json(*config_response, "config.json", limits::kMaxConfigBytes);
      m.config_file = "config.json";
      m.config_etag = config_response->header("etag");
      m.commit = commit_of(*config_response);
    }

    std::vector<HeaderJob> jobs;
    std::vector<HttpRequest> r2;
    std::vector<std::string> r2_files;
    if (check(index_response, "model.safetensors.index.json", true)) {
      const auto index = hub_detail::read_safetensors_index(index_response.body, index_response.body_capped,
                                                            origin_of("model.safetensors.index.json"));
      m.index_total_size = index.total_size;
      // Round 2: the first range of every shard, all at once. Sized from the index's estimate, the shards'
      // first round reads kilobytes, not 256 KiB each.
      for (const auto& [shard, estimate] : index.shards) {
        r2.push_back(range(shard, 0, hub_detail::shard_first_range_bytes(estimate) - 1));
        r2_files.push_back(shard);
      }
    } else if (check(single_response, "model.safetensors", true)) {
      jobs.push_back(HeaderJob{"model.safetensors", {}, 0});
      absorb_first(jobs.back(), single_response);
    } else if (!mistral) {
      // No safetensors: the PyTorch index total, or the size of a single pytorch_model.bin (HEAD).
      r2.push_back(request("pytorch_model.bin.index.json", limits::kMaxIndexBytes));
      r2_files.push_back("pytorch_model.bin.index.json");
      r2.push_back(request("pytorch_model.bin", 0, {}, true));  // HEAD: headers only
      r2_files.push_back("pytorch_model.bin");
    }
    if (mistral) {
      r2.push_back(request("params.json", limits::kMaxConfigBytes));
      r2_files.push_back("params.json");
      r2.push_back(request("consolidated.safetensors", kSpeculativeRangeBytes, {first_range}));
      r2_files.push_back("consolidated.safetensors");
    }

    auto second = round(r2);
    for (std::size_t i = 0; i < second.size(); ++i) absorb_second(m, jobs, r2_files[i], second[i]);
    if (!jobs.empty()) m.safetensors = complete_headers(jobs);
    end_progress();
    if (m.config.is_null() || !m.config.is_object())
      throw RemoteError(fmt::format("{}: no usable config at revision '{}'", id_, o_.revision), false);
    return m;
  }

 private:
  std::string id_;
  const HubOptions& o_;
  HttpClient& http_;
  std::string endpoint_;  // o_.endpoint without user info: what messages and the cache entry show
  std::optional<UrlCredentials> credentials_;
  std::string base_;
  std::string origin_;
  std::size_t done_ = 0;
  std::size_t total_ = 0;
};

}  // namespace

namespace hub_detail {

nlohmann::json parse_json_body(const std::string& body, bool capped, const std::string& origin, std::size_t limit) {
  if (capped)
    throw RemoteError(fmt::format("{}: over the {} MiB limit for this file, refused", origin, limit >> 20), false);
  auto j = parse_json_relaxed(body, origin, ExitCode::RemoteFailed);
  if (!j.is_object()) throw RemoteError(fmt::format("{}: expected a JSON object", origin), false);
  return j;
}

SafetensorsIndex read_safetensors_index(const std::string& body, bool capped, const std::string& origin) {
  if (capped)
    throw RemoteError(
        fmt::format("{}: over the {} MiB limit for this file, refused", origin, limits::kMaxIndexBytes >> 20), false);
  // Read as events, not as a DOM: a hostile index of the cap's size cost 13-16x its size as a DOM.
  const auto facts = detail::read_safetensors_index_facts(body, origin, ExitCode::RemoteFailed);
  if (!facts.is_object) throw RemoteError(fmt::format("{}: expected a JSON object", origin), false);
  SafetensorsIndex out;
  if (facts.has_total_size) {
    if (!facts.total_size) throw RemoteError(fmt::format("{}: metadata.total_size is not a byte count", origin), false);
    out.total_size = facts.total_size;
  }
  auto suspicious = [&](const std::string& name) {
    // JSON-quoted, so that a newline in the name cannot split the one-line message.
    const std::string quoted = nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    throw RemoteError(fmt::format("{}: suspicious shard name {}", origin, quoted), false);
  };
  if (facts.empty_entry) suspicious("");
  for (const auto& shard : facts.shards) {
    const std::string& name = shard.first;
    if (name.find("..") != std::string::npos || name[0] == '/' || name.find('?') != std::string::npos) suspicious(name);
  }
  if (facts.shards.size() > kMaxShards)
    throw RemoteError(fmt::format("{}: {} shards is absurd", origin, facts.shards.size()), false);
  out.shards.insert(facts.shards.begin(), facts.shards.end());
  return out;
}

std::size_t shard_first_range_bytes(std::size_t estimate) {
  return std::clamp<std::size_t>(estimate + estimate / 4 + 4096, std::size_t{16} * 1024, kSpeculativeRangeBytes);
}

std::uint64_t first_range_header_length(const std::string& bytes, const std::string& origin) {
  if (bytes.size() < 8)
    throw RemoteError(fmt::format("{}: {} bytes is too short for a safetensors header", origin, bytes.size()), false);
  return safetensors_header_length(reinterpret_cast<const unsigned char*>(bytes.data()), origin,
                                   ExitCode::RemoteFailed);
}

std::optional<std::uint64_t> pytorch_index_total(const nlohmann::json& index) {
  // Not json::value(): on a "metadata" that is not an object it threw json::type_error (test_fuzz_regressions).
  const auto meta = index.find("metadata");
  if (meta == index.end() || !meta->is_object()) return std::nullopt;
  const auto ts = meta->find("total_size");
  if (ts == meta->end() || !ts->is_number_integer() || ts->get<std::int64_t>() < 0) return std::nullopt;
  return ts->get<std::uint64_t>();
}

std::optional<std::uint64_t> parse_size_header(const std::string& value) {
  // Digits only: strtoull alone also takes a sign and spaces, so "-1" read as 18446744073709551615 bytes, and it
  // saturates on overflow (ERANGE).
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const auto v = std::strtoull(value.c_str(), &end, 10);
  if (errno == ERANGE || end == nullptr || *end != '\0' || v == 0) return std::nullopt;
  return v;
}

}  // namespace hub_detail

bool is_hub_id(const std::string& id) {
  const auto slash = id.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == id.size() ||
      id.find('/', slash + 1) != std::string::npos)
    return false;
  if (id.size() > 200 || id.find("..") != std::string::npos) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

HubOptions hub_options_from_environment() {
  HubOptions o;
  if (auto e = env("HF_ENDPOINT"); !e.empty()) {
    while (!e.empty() && e.back() == '/') e.pop_back();
    // Credentials in the URL are kept apart from it: the endpoint is printed, and stored in the cache.
    SplitUrl split = split_userinfo(e);
    if (split.url.rfind("https://", 0) != 0 && split.url.rfind("http://", 0) != 0)
      throw Error(ExitCode::BadInput,
                  fmt::format("HF_ENDPOINT must start with https:// or http://, got \"{}\"", split.url));
    o.endpoint = std::move(split.url);
    o.endpoint_credentials = std::move(split.credentials);
  }
  o.offline = truthy(env("HF_HUB_OFFLINE"));
  for (const char* var : {"CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"}) {
    if (auto v = env(var); !v.empty()) {
      o.http.ca_bundle = v;
      break;
    }
  }
  o.hf_hub_dir = hf_hub_cache_dir();
  o.cache_dir = ResultCache::default_dir();
  o.progress = isatty(STDERR_FILENO) != 0;
  return o;
}

CachedModel fetch_from_hub(const std::string& id, const HubOptions& options, HttpClient& http,
                           const std::optional<CachedModel>& previous) {
  Fetcher f(id, options, http);
  return f.run(previous);
}

ModelInput hub_model_input(const CachedModel& entry, const std::string& origin) {
  ModelInput in;
  in.id = entry.id;
  in.origin = origin;
  in.config = entry.config;
  in.safetensors = entry.safetensors;
  in.index_total_size = entry.index_total_size;
  in.checkpoint_total_size = entry.other_total_size;
  in.checkpoint_total_source = entry.other_total_source;
  if (entry.config_file == "params.json")
    in.warnings.push_back(fmt::format("{} has no config.json: its Mistral params.json was converted", entry.id));
  return in;
}

nlohmann::json config_from_mistral_params(const nlohmann::json& p, const std::string& origin) {
  auto need = [&](const char* key) -> const nlohmann::json& {
    auto it = p.find(key);
    if (it == p.end() || !it->is_number_integer())
      throw RemoteError(fmt::format("{}: missing or non-integer {}", origin, key), false);
    return *it;
  };
  // Optional fields are type-checked here rather than read with json::value(), which throws json::type_error for
  // a value of the wrong type and converts an out-of-range float to int (undefined behaviour); see
  // tests/test_fuzz_regressions.cpp.
  auto optional = [&](const nlohmann::json& object, const char* key, const char* name, bool integer,
                      nlohmann::json fallback) {
    auto it = object.find(key);
    if (it == object.end()) return fallback;
    if (integer ? !it->is_number_integer() : !it->is_boolean())
      throw RemoteError(fmt::format("{}: {} is not {}", origin, name, integer ? "an integer" : "true or false"), false);
    return *it;
  };
  nlohmann::json c;
  const bool moe = p.contains("moe") && p["moe"].is_object();
  c["model_type"] = moe ? "mixtral" : "mistral";
  c["architectures"] = {moe ? "MixtralForCausalLM" : "MistralForCausalLM"};
  c["hidden_size"] = need("dim");
  c["num_hidden_layers"] = need("n_layers");
  c["num_attention_heads"] = need("n_heads");
  c["num_key_value_heads"] = p.contains("n_kv_heads") ? need("n_kv_heads") : need("n_heads");
  c["intermediate_size"] = need("hidden_dim");
  c["vocab_size"] = need("vocab_size");
  if (p.contains("head_dim")) c["head_dim"] = need("head_dim");
  for (const char* key : {"max_position_embeddings", "max_seq_len"})
    if (p.contains(key) && p[key].is_number_integer()) c["max_position_embeddings"] = p[key];
  if (p.contains("sliding_window") && p["sliding_window"].is_number_integer())
    c["sliding_window"] = p["sliding_window"];
  else c["sliding_window"] = nullptr;
  c["tie_word_embeddings"] = optional(p, "tied_embeddings", "tied_embeddings", false, false);
  c["torch_dtype"] = "bfloat16";
  if (moe) {
    c["num_local_experts"] = optional(p["moe"], "num_experts", "moe.num_experts", true, 8);
    c["num_experts_per_tok"] = optional(p["moe"], "num_experts_per_tok", "moe.num_experts_per_tok", true, 2);
  }
  return c;
}

}  // namespace vramcalc
