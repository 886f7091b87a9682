// Fetching a model's metadata from a Hugging Face hub in as few round trips as possible:
// round 0: with a cached entry for the revision, config.json alone; its X-Repo-Commit unchanged ends the fetch;
// round 1: config.json, model.safetensors.index.json and a speculative first range of model.safetensors;
// round 2: a first range of every shard the index names, all in parallel, sized from the tensor names the index
//          lists for that shard (at most 256 KiB);
// round 3: the rest of any header longer than that. Tensor data is never downloaded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/core/error.hpp"
#include "vramcalc/sources/http.hpp"
#include "vramcalc/sources/local.hpp"
#include "vramcalc/sources/result_cache.hpp"

namespace vramcalc {

inline constexpr std::size_t kSpeculativeRangeBytes = std::size_t{256} * 1024;

// A hub failure (exit 3). `transient` marks network trouble (connection errors, timeouts, 5xx and 429 after
// retries), where a possibly stale cached entry is better than nothing.
class RemoteError : public Error {
 public:
  RemoteError(const std::string& message, bool transient)
      : Error(ExitCode::RemoteFailed, message), transient_(transient) {}
  [[nodiscard]] bool transient() const noexcept { return transient_; }

 private:
  bool transient_;
};

struct HubOptions {
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT without user info, no trailing slash
  // The user info of HF_ENDPOINT ("https://user:password@mirror"): sent as HTTP Basic auth to the endpoint's
  // origin only (HF_TOKEN wins when both are set); never printed, logged or cached.
  std::optional<UrlCredentials> endpoint_credentials;
  std::string revision = "main";     // --revision: branch, tag or commit
  bool revision_given = false;       // --revision was passed (bypasses the catalog)
  std::optional<std::string> token;  // never printed, logged or cached
  bool offline = false;              // --offline or HF_HUB_OFFLINE
  bool refresh = false;              // --refresh: skip caches and catalog
  bool progress = false;             // one-line progress on stderr
  HttpOptions http;
  std::filesystem::path hf_hub_dir;  // huggingface_hub's cache
  std::filesystem::path cache_dir;   // vram-calc's own cache
};

// Options from the environment (HF_ENDPOINT, HF_HUB_OFFLINE, CURL_CA_BUNDLE / REQUESTS_CA_BUNDLE /
// SSL_CERT_FILE, the HF cache and token conventions); command-line flags are applied on top by the caller.
// Throws Error(BadInput) for a malformed HF_ENDPOINT. User info in HF_ENDPOINT goes to endpoint_credentials.
HubOptions hub_options_from_environment();

// True for "org/name" ids a hub can serve (letters, digits, '-', '_', '.'; one '/').
bool is_hub_id(const std::string& id);

// Fetches `id` from the hub over the network. `previous`, when it is an entry for the same revision, is
// revalidated first with one request for config.json (If-None-Match when its ETag is known): a 304, or a 200 whose
// X-Repo-Commit is the entry's commit (mirrors and proxies that ignore If-None-Match), keeps the entry's index and
// header totals, so an unchanged branch costs one request; another commit is read again in full.
// Throws Error(RemoteFailed, one line) for 404, 401/403 (gated), 429 after retries, TLS failures, a redirect
// from https to http, timeouts, truncated or malformed bodies, bodies over their limit (limits.hpp: configs,
// indexes) and oversized safetensors headers. The message never contains the token or endpoint credentials.
CachedModel fetch_from_hub(const std::string& id, const HubOptions& options, HttpClient& http,
                           const std::optional<CachedModel>& previous = std::nullopt);

// A fetched or cached entry as the input the model layer reads.
ModelInput hub_model_input(const CachedModel& entry, const std::string& origin);

// Mistral's params.json (consolidated checkpoints) as an equivalent transformers config.json.
nlohmann::json config_from_mistral_params(const nlohmann::json& params, const std::string& origin);

}  // namespace vramcalc
