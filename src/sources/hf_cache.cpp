// huggingface_hub's conventions on local disk: where its cache and token live (the same environment variables
// and defaults as huggingface_hub/constants.py), and reading a model from that cache.
#include "vramcalc/sources/hf_cache.hpp"

#include "sources/files.hpp"
#include "sources/safetensors_index.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/limits.hpp"

namespace vramcalc {
namespace {

using detail::expand_user;
using detail::read_file_limited;

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kMaxTokenFileBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxRefFileBytes = std::size_t{4} * 1024;
constexpr const char* kIndexName = "model.safetensors.index.json";

// An environment variable's value; unset and empty both count as absent.
std::optional<std::string> env_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// huggingface_hub's _clean_token: line breaks removed anywhere, surrounding whitespace stripped.
std::optional<std::string> clean_token(std::string token) {
  token.erase(std::remove_if(token.begin(), token.end(), [](char c) { return c == '\r' || c == '\n'; }), token.end());
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  const auto first = std::find_if_not(token.begin(), token.end(), is_space);
  const auto last = std::find_if_not(token.rbegin(), token.rend(), is_space).base();
  if (first >= last) return std::nullopt;
  return std::string(first, last);
}

// huggingface_hub's _is_true for boolean environment variables.
bool env_true(const char* name) {
  auto value = env_value(name);
  if (!value) return false;
  std::string upper = *value;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper == "1" || upper == "ON" || upper == "YES" || upper == "TRUE";
}

bool is_repo_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// "org/name" -> "models--org--name", "name" -> "models--name" (huggingface_hub's repo_folder_name). nullopt for
// anything that is not a valid repository id (and so cannot be in the cache, or would leave it).
std::optional<std::string> repo_folder_name(const std::string& id) {
  if (id.empty() || id.find("--") != std::string::npos || id.find("..") != std::string::npos) return std::nullopt;
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = id.find('/', start);
    parts.push_back(id.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() > 2) return std::nullopt;
  std::string folder = "models";
  for (const auto& part : parts) {
    if (part.empty() || part == "." || !std::all_of(part.begin(), part.end(), is_repo_name_char)) return std::nullopt;
    folder += "--";
    folder += part;
  }
  return folder;
}

// A revision usable as a relative path under refs/: no empty, "." or ".." components, no NUL or backslash.
bool is_safe_revision(const std::string& revision) {
  if (revision.empty() || revision.size() > 255) return false;
  if (revision.find('\0') != std::string::npos || revision.find('\\') != std::string::npos) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = revision.find('/', start);
    const std::string part = revision.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

// The commit a ref file names. nullopt when there is no such file; Error(BadInput) when it is unreadable or
// does not hold a commit hash.
std::optional<std::string> read_ref(const fs::path& ref) {
  std::error_code ec;
  if (!fs::is_regular_file(ref, ec)) return std::nullopt;
  const std::optional<std::string> text = read_file_limited(ref, kMaxRefFileBytes);
  if (!text) throw Error(ExitCode::BadInput, fmt::format("{}: cannot read the Hugging Face cache ref", ref.string()));
  std::optional<std::string> commit = clean_token(*text);
  if (!commit || !is_commit_hash(*commit))
    throw Error(ExitCode::BadInput,
                fmt::format("{}: Hugging Face cache ref does not hold a commit hash", ref.string()));
  return commit;
}

// metadata.total_size of a safetensors index (nullopt when it has none). Error(BadInput) when malformed.
std::optional<std::uint64_t> read_index_total(const fs::path& file) {
  const std::string shown = file.string();
  return detail::local_index_total(detail::read_local_safetensors_index(file, shown), shown);
}

// The snapshot without its weight headers: config.json and the index total. Used when reading the whole
// snapshot failed on something the cache may legitimately lack or hide (a shard blob that cannot be read).
ModelInput load_config_and_index(const fs::path& snapshot, const std::string& why) {
  ModelInput input = load_local_model(snapshot / "config.json");  // a bad config.json is still an error
  const fs::path index = snapshot / kIndexName;
  std::error_code ec;
  if (fs::exists(index, ec)) input.index_total_size = read_index_total(index);
  input.warnings.push_back(fmt::format("{}: not using the safetensors headers in the Hugging Face cache ({}); using {}",
                                       snapshot.string(), why,
                                       input.index_total_size ? "the index total_size instead" : "the config instead"));
  return input;
}

}  // namespace

fs::path hf_home_dir() {
  if (auto home = env_value("HF_HOME")) return expand_user(*home);
  if (auto xdg = env_value("XDG_CACHE_HOME")) return expand_user(*xdg) / "huggingface";
  return expand_user("~") / ".cache" / "huggingface";
}

fs::path hf_hub_cache_dir() {
  if (auto hub = env_value("HF_HUB_CACHE")) return expand_user(*hub);
  if (auto legacy = env_value("HUGGINGFACE_HUB_CACHE")) return expand_user(*legacy);  // older name, still honoured
  return hf_home_dir() / "hub";
}

fs::path hf_token_path() {
  if (auto path = env_value("HF_TOKEN_PATH")) return expand_user(*path);
  return hf_home_dir() / "token";
}

std::optional<std::string> resolve_token(const std::optional<std::string>& flag) {
  if (flag) {
    if (auto token = clean_token(*flag)) return token;
  }
  // huggingface_hub sends no implicit (environment or file) token when this is set.
  if (env_true("HF_HUB_DISABLE_IMPLICIT_TOKEN")) return std::nullopt;
  if (auto env = env_value("HF_TOKEN")) {
    if (auto token = clean_token(*env)) return token;
  }
  if (auto env = env_value("HUGGING_FACE_HUB_TOKEN")) {  // older name, still honoured by huggingface_hub
    if (auto token = clean_token(*env)) return token;
  }
  const fs::path file = hf_token_path();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  const std::optional<std::string> text = read_file_limited(file, kMaxTokenFileBytes);
  if (!text) return std::nullopt;  // unreadable: as if there were no token file
  return clean_token(*text);
}

bool is_commit_hash(const std::string& revision) {
  return revision.size() == 40 && std::all_of(revision.begin(), revision.end(),
                                              [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<ModelInput> load_from_hf_cache(const fs::path& hub_dir, const std::string& id,
                                             const std::string& revision) {
  const std::optional<std::string> folder = repo_folder_name(id);
  if (!folder || !is_safe_revision(revision)) return std::nullopt;
  const fs::path repo = hub_dir / *folder;
  std::error_code ec;
  if (!fs::is_directory(repo, ec)) return std::nullopt;

  std::optional<std::string> commit;
  if (is_commit_hash(revision)) {
    commit = revision;
  } else {
    commit = read_ref(repo / "refs" / fs::path(revision));
    if (!commit) return std::nullopt;
  }

  const fs::path snapshot = repo / "snapshots" / *commit;
  if (!fs::is_directory(snapshot, ec)) return std::nullopt;
  // exists() follows the link: a dangling link into blobs/ means config.json was never downloaded. A Mistral-format
  // snapshot (params.json only) also ends here.
  if (!fs::exists(snapshot / "config.json", ec)) {
    // Not there is normal; a loop of links or an unsearchable snapshot is reported as what it is.
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
      throw Error(ExitCode::BadInput,
                  fmt::format("{}: cannot access: {}", (snapshot / "config.json").string(), ec.message()));
    return std::nullopt;
  }

  ModelInput input;
  try {
    // Shards that were never downloaded are normal here: their links are absent or dangling, and
    // load_local_model then reads only the config and the index total.
    input = load_local_model(snapshot);
  } catch (const Error& e) {
    input = load_config_and_index(snapshot, e.what());
  }
  input.id = id;
  input.origin = "Hugging Face cache " + snapshot.string();
  return input;
}

}  // namespace vramcalc
