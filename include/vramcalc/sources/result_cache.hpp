// vram-calc's own cache of what it fetched from a hub: configs, index totals and parsed safetensors header
// summaries (never tensors), keyed by endpoint, repository id and resolved commit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vramcalc/sources/safetensors.hpp"

namespace vramcalc {

struct CachedModel {
  std::string endpoint;                           // e.g. "https://huggingface.co"
  std::string id;                                 // "org/name"
  std::string revision;                           // as requested: "main", a tag, or a commit hash
  std::string commit;                             // resolved commit (X-Repo-Commit)
  std::string config_etag;                        // ETag of config.json, for If-None-Match revalidation
  std::string config_file;                        // "config.json" or "params.json" (Mistral format)
  nlohmann::json config;                          // the config object as fetched
  std::optional<std::uint64_t> index_total_size;  // metadata.total_size of the safetensors index
  std::optional<std::uint64_t> other_total_size;  // pytorch_model.bin.index.json total or a single file's size
  std::string other_total_source;                 // where other_total_size came from
  std::optional<SafetensorsSummary> safetensors;  // per-dtype totals (tensors list left empty)
  std::int64_t fetched_at = 0;                    // unix seconds
};

// Serializes a cached entry to JSON and back (the on-disk format, schema_version 1). Throws Error(BadInput)
// when the JSON does not have the expected shape.
nlohmann::json cached_model_to_json(const CachedModel& m);
CachedModel cached_model_from_json(const nlohmann::json& j);

class ResultCache {
 public:
  // $XDG_CACHE_HOME/vram-calc, else ~/.cache/vram-calc.
  static std::filesystem::path default_dir();
  explicit ResultCache(std::filesystem::path dir);

  // The entry for `revision`: a commit hash is looked up directly; a branch or tag through the ref file
  // written by the last store() for it. nullopt when absent or unusable: a corrupt entry, one over
  // limits::kMaxCacheEntryBytes or one for something else is a miss, never an error (the cache is only an
  // optimisation), and `unusable`, when given, gets one line saying which file and why ("" when simply absent).
  [[nodiscard]] std::optional<CachedModel> find(const std::string& endpoint, const std::string& id,
                                                const std::string& revision, std::string* unusable = nullptr) const;
  // The entry for a commit, regardless of which revision named it.
  [[nodiscard]] std::optional<CachedModel> find_commit(const std::string& endpoint, const std::string& id,
                                                       const std::string& commit,
                                                       std::string* unusable = nullptr) const;
  // Writes the entry (by commit) and the ref (revision -> commit), each atomically (temp file + rename), so a
  // concurrent or killed run never leaves a torn file. Failures to write are ignored (returns false).
  bool store(const CachedModel& m) const;

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace vramcalc
