#include "vramcalc/sources/resolve.hpp"
#include "vramcalc/core/text.hpp"

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/sources/hf_cache.hpp"
#include "vramcalc/sources/result_cache.hpp"

namespace vramcalc {

ModelInput catalog_input(const CatalogModel& entry) {
  ModelInput in;
  in.id = entry.id;
  in.origin = "bundled catalog";
  in.config = entry.config;
  in.catalog_weight_bytes = entry.safetensors_total_bytes;
  in.catalog_num_params = entry.num_params;
  if (entry.reconstructed)
    in.warnings.push_back(fmt::format("the catalog's config for {} was reconstructed, not copied verbatim", entry.id));
  return in;
}

namespace {

// Entries written before credentials were kept out of the cache may still hold them in the endpoint.
std::string cached_origin(const CachedModel& m) {
  return fmt::format("vram-calc cache ({} at {}, fetched from {})", m.revision, m.commit.substr(0, 12),
                     without_userinfo(m.endpoint));
}

// A cache entry that was there but could not be used (corrupt, over its limit, for something else) is a miss,
// said once: the next successful fetch replaces it, and --offline explains why it did not help.
std::string unusable_cache_warning(const std::string& why) {
  return fmt::format("ignored an unusable vram-calc cache entry ({}); a successful fetch replaces it", why);
}

ModelInput with_cache_warning(ModelInput in, const std::string& unusable) {
  if (!unusable.empty()) in.warnings.push_back(unusable_cache_warning(unusable));
  return in;
}

std::string suggestions(const ModelCatalog& catalog, const std::string& spec) {
  const auto close = catalog.suggest(spec, 3);
  if (close.empty()) return "";
  std::string hint = " Did you mean ";
  for (std::size_t i = 0; i < close.size(); ++i)
    hint += (i == 0 ? "" : i + 1 == close.size() ? " or " : ", ") + close[i];
  return hint + "?";
}

}  // namespace

ModelInput resolve_model(const std::string& spec, const ResolveOptions& options) {
  if (spec.empty()) fail_input("--model: empty model name");
  if (options.local_paths && looks_like_local_path(spec)) return load_local_model(spec);
  const HubOptions& hub = options.hub;
  if (!is_hub_id(spec))
    fail_input(fmt::format("--model {}: not an existing path, and not a Hugging Face id of the form org/name", spec));

  // 1. huggingface_hub's own cache.
  if (!hub.refresh) {
    if (auto in = load_from_hf_cache(hub.hf_hub_dir, spec, hub.revision)) return *in;
  }

  // 2. vram-calc's cache: a commit never changes; a branch is revalidated with one conditional request.
  const ResultCache cache(hub.cache_dir);
  const std::string endpoint = without_userinfo(hub.endpoint);
  std::optional<CachedModel> cached;
  std::string unusable;  // why an entry that was there is not used
  if (!hub.refresh) cached = cache.find(endpoint, spec, hub.revision, &unusable);
  if (cached && (is_commit_hash(hub.revision) || hub.offline)) return hub_model_input(*cached, cached_origin(*cached));

  // 3. The bundled catalog, for the default revision.
  if (!cached && !hub.refresh && !hub.revision_given && options.catalog) {
    const ModelCatalog& catalog = options.catalog();
    if (const CatalogModel* entry = catalog.find(spec)) {
      ModelInput in = catalog_input(*entry);
      if (edit_distance(entry->id, spec) != 0)  // found under an alias: a renamed repository
        in.warnings.push_back(fmt::format("{} is now {} on the Hugging Face Hub", spec, entry->id));
      return with_cache_warning(std::move(in), unusable);
    }
  }

  // 4. The network.
  if (hub.offline) {
    std::string hint = options.catalog && !hub.revision_given ? suggestions(options.catalog(), spec) : "";
    if (!unusable.empty()) hint += fmt::format(" (Its vram-calc cache entry is unusable: {}.)", unusable);
    throw Error(ExitCode::RemoteFailed,
                fmt::format("{} (revision {}) is not in the Hugging Face cache ({}), vram-calc's cache or the bundled "
                            "catalog, and HF_HUB_OFFLINE / --offline forbids fetching it.{}",
                            spec, hub.revision, hub.hf_hub_dir.string(), hint));
  }
  HttpClient http(hub.http);
  try {
    CachedModel fetched = fetch_from_hub(spec, hub, http, cached);
    cache.store(fetched);
    const bool revalidated = cached && fetched.commit == cached->commit && fetched.config_etag == cached->config_etag;
    return with_cache_warning(hub_model_input(fetched, fmt::format("{} at {}{}", endpoint, fetched.commit.substr(0, 12),
                                                                   revalidated ? ", cached copy still current" : "")),
                              unusable);
  } catch (const RemoteError& e) {
    if (!cached || !e.transient()) throw;
    ModelInput in = hub_model_input(*cached, cached_origin(*cached));
    in.warnings.push_back(
        fmt::format("the hub could not be reached ({}); using the cached copy, which may be stale", e.what()));
    return in;
  }
}

}  // namespace vramcalc
