// Hugging Face conventions on disk: where huggingface_hub keeps its cache and token, and reading a model
// from that cache (models--org--name/refs/<revision>, snapshots/<commit>/...).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "vramcalc/sources/local.hpp"

namespace vramcalc {

// $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
std::filesystem::path hf_home_dir();
// $HF_HUB_CACHE, else $HF_HOME/hub (hf_home_dir()/hub).
std::filesystem::path hf_hub_cache_dir();
// $HF_TOKEN_PATH, else hf_home_dir()/token.
std::filesystem::path hf_token_path();

// The token to send, in huggingface_hub's order: `flag` (--token), else $HF_TOKEN, else the token file
// (whitespace trimmed). Empty values count as absent. The token is never printed or logged.
std::optional<std::string> resolve_token(const std::optional<std::string>& flag);

// True when `revision` is a full 40-hex commit hash (cache entries for it never expire).
bool is_commit_hash(const std::string& revision);

// Loads `id` at `revision` from a huggingface_hub cache directory (the hub dir, e.g. ~/.cache/huggingface/hub):
// refs/<revision> gives the commit (a revision that is already a commit hash is used directly), and
// snapshots/<commit>/ is read like a local model directory (config.json, index total, shard headers that are
// present). nullopt when the repository, ref, snapshot or its config.json is absent. A present but malformed
// file is Error(BadInput) naming it. The ModelInput's id is `id`, origin "Hugging Face cache <snapshot dir>".
std::optional<ModelInput> load_from_hf_cache(const std::filesystem::path& hub_dir, const std::string& id,
                                             const std::string& revision);

}  // namespace vramcalc
