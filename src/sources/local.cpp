#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/sources/local.hpp"

#include "sources/files.hpp"
#include "sources/safetensors_index.hpp"

namespace vramcalc {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kIndexName = "model.safetensors.index.json";

[[noreturn]] void bad_input(const std::string& message) { throw Error(ExitCode::BadInput, message); }

// "~" and "~/..." refer to the home directory, for paths that reached us without shell expansion (e.g. quoted).
fs::path expand_home(const fs::path& path) {
  const std::string s = path.string();
  if (s != "~" && s.rfind("~/", 0) != 0) return path;
  return detail::expand_user(s);
}

json read_config(const fs::path& file, const std::string& shown) {
  json config = parse_json_relaxed(detail::read_input_file(file, shown, limits::kMaxConfigBytes, "config files"), shown,
                                   ExitCode::BadInput);
  if (!config.is_object()) bad_input(fmt::format("{}: config is not a JSON object", shown));
  return config;
}

struct SafetensorsIndex {
  std::optional<std::uint64_t> total_size;
  std::set<std::string> shards;  // distinct file names in weight_map
  bool has_weight_map = false;
};

SafetensorsIndex read_index(const fs::path& file, const std::string& shown) {
  using Shape = detail::SafetensorsIndexFacts::Shape;
  const auto facts = detail::read_local_safetensors_index(file, shown);
  SafetensorsIndex out;
  out.total_size = detail::local_index_total(facts, shown);
  if (facts.weight_map == Shape::Null || facts.weight_map == Shape::Other)
    bad_input(fmt::format("{}: \"weight_map\" is not a JSON object", shown));
  out.has_weight_map = facts.tensors > 0;
  if (const auto& bad = facts.non_string_entry ? facts.non_string_entry : facts.empty_entry)
    bad_input(fmt::format("{}: weight_map entry for {} is not a file name", shown, bad->substr(0, 120)));
  for (const auto& shard : facts.shards) out.shards.insert(shard.first);
  return out;
}

// Regular files (or links to them) named *.safetensors directly in `dir`, sorted by file name.
std::vector<std::string> safetensors_files(const fs::path& dir, const std::string& shown) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) bad_input(fmt::format("{}: cannot list directory: {}", shown, ec.message()));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    if (it->path().extension() == ".safetensors" && it->is_regular_file(entry_ec))
      names.push_back(it->path().filename().string());
  }
  if (ec) bad_input(fmt::format("{}: cannot list directory: {}", shown, ec.message()));
  std::sort(names.begin(), names.end());
  return names;
}

// Whether `file` exists, following links (a dangling link does not). Error(BadInput) with the real reason when
// that cannot be told, e.g. a loop of links or a directory that cannot be searched: not "no such file".
bool entry_exists(const fs::path& file, const std::string& shown) {
  std::error_code ec;
  const bool exists = fs::exists(file, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    bad_input(fmt::format("{}: cannot access: {}", shown, ec.message()));
  return exists;
}

std::string join_limited(const std::vector<std::string>& names, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += fmt::format(", ... ({} more)", names.size() - limit);
  return out;
}

void load_directory(const fs::path& dir, const std::string& shown, ModelInput& input) {
  const fs::path config_file = dir / "config.json";
  const std::string config_shown = (fs::path(shown) / "config.json").string();
  if (!entry_exists(config_file, config_shown)) {
    std::error_code ec;
    if (fs::is_symlink(config_file, ec))
      bad_input(fmt::format("{}: a symbolic link to {}, which does not exist", config_shown,
                            fs::read_symlink(config_file, ec).string()));
    bad_input(fmt::format("{}: no config.json in this directory", shown));
  }
  input.config = read_config(config_file, config_shown);

  std::optional<SafetensorsIndex> index;
  const fs::path index_file = dir / kIndexName;
  if (entry_exists(index_file, (fs::path(shown) / kIndexName).string())) {
    index = read_index(index_file, (fs::path(shown) / kIndexName).string());
    input.index_total_size = index->total_size;
  }

  const std::vector<std::string> present = safetensors_files(dir, shown);
  if (present.empty()) return;

  std::vector<std::string> to_read = present;
  if (index && index->has_weight_map) {
    std::vector<std::string> missing;
    for (const auto& shard : index->shards) {
      if (!std::binary_search(present.begin(), present.end(), shard)) missing.push_back(shard);
    }
    if (!missing.empty()) {
      input.warnings.push_back(fmt::format(
          "{}: {} of {} shards listed in {} are missing ({}); not reading the shards that are present, using {}", shown,
          missing.size(), index->shards.size(), kIndexName, join_limited(missing, 5),
          index->total_size ? fmt::format("the index total_size ({} bytes) instead", *index->total_size)
                            : std::string("the config instead (the index has no total_size)")));
      return;
    }
    // Only the shards the index names: a directory may also hold e.g. consolidated.safetensors with the same weights.
    to_read.assign(index->shards.begin(), index->shards.end());
    std::vector<std::string> ignored;
    std::set_difference(present.begin(), present.end(), to_read.begin(), to_read.end(), std::back_inserter(ignored));
    if (!ignored.empty()) {
      input.warnings.push_back(
          fmt::format("{}: ignoring {} (not listed in {})", shown, join_limited(ignored, 5), kIndexName));
    }
  }

  SafetensorsSummary summary;
  for (const auto& name : to_read) merge_summary(summary, read_safetensors_file(dir / name));
  input.safetensors = std::move(summary);
}

}  // namespace

bool looks_like_local_path(const std::string& spec) {
  if (spec.empty()) return false;
  if (spec.front() == '/' || spec.front() == '.' || spec.front() == '~') return true;
  std::error_code ec;
  return fs::exists(fs::path(spec), ec);
}

ModelInput load_local_model(const fs::path& path) {
  const std::string shown = path.string();
  const fs::path actual = expand_home(path);

  std::error_code ec;
  const fs::file_status status = fs::status(actual, ec);
  if (!fs::exists(status)) {
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
      bad_input(fmt::format("{}: cannot access: {}", shown, ec.message()));
    bad_input(fmt::format("{}: no such file or directory", shown));
  }

  ModelInput input;
  input.id = shown;
  if (fs::is_directory(status)) {
    input.origin = "local directory " + shown;
    load_directory(actual, shown, input);
    return input;
  }
  if (actual.extension() == ".safetensors")
    bad_input(
        fmt::format("{}: a .safetensors file is not a config; give the model directory or its config.json", shown));
  input.origin = "local file " + shown;
  input.config = read_config(actual, shown);
  return input;
}

}  // namespace vramcalc
