// The bundled model catalog (data/models.json) and the edit distance behind "did you mean" suggestions.
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "sources/catalog_schema.hpp"
#include "sources/files.hpp"
#include "sources/json_scan.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"

namespace vramcalc {

std::string detail::read_catalog_file(const std::filesystem::path& file, std::string_view what) {
  auto text = detail::read_file_limited(file, std::numeric_limits<std::size_t>::max());
  if (!text) throw Error(ExitCode::BadInput, fmt::format("cannot read {} {}", what, file.string()));
  return std::move(*text);
}

namespace {

using nlohmann::json;

using detail::SchemaError;

std::optional<std::uint64_t> optional_count(const json& entry, const char* key) {
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned()) throw SchemaError{fmt::format("\"{}\" is not a non-negative integer or null", key)};
  return it->get<std::uint64_t>();
}

CatalogModel parse_entry(const json& e) {
  if (!e.is_object()) throw SchemaError{"a model entry is not an object"};
  CatalogModel m;
  auto id = e.find("id");
  if (id == e.end() || !id->is_string() || id->get_ref<const std::string&>().empty())
    throw SchemaError{"a model entry has no \"id\" string"};
  m.id = id->get<std::string>();
  try {
    if (auto a = e.find("aliases"); a != e.end() && !a->is_null()) {
      if (!a->is_array()) throw SchemaError{"\"aliases\" is not an array"};
      for (const auto& alias : *a) {
        if (!alias.is_string()) throw SchemaError{"an alias is not a string"};
        m.aliases.push_back(alias.get<std::string>());
      }
    }
    auto config = e.find("config");
    if (config == e.end() || !config->is_object()) throw SchemaError{"\"config\" is not an object"};
    m.config = *config;
    if (auto s = e.find("summary"); s != e.end() && !s->is_null()) {
      if (!s->is_object()) throw SchemaError{"\"summary\" is not an object"};
      m.summary = *s;
    } else {
      m.summary = json::object();
    }
    m.safetensors_total_bytes = optional_count(e, "safetensors_total_bytes");
    m.num_params = optional_count(e, "num_params");
    if (auto s = e.find("source"); s != e.end() && !s->is_null()) {
      if (!s->is_string()) throw SchemaError{"\"source\" is not a string"};
      m.source = s->get<std::string>();
    }
    if (auto r = e.find("reconstructed"); r != e.end() && !r->is_null()) {
      if (!r->is_boolean()) throw SchemaError{"\"reconstructed\" is not a boolean"};
      m.reconstructed = r->get<bool>();
    }
  } catch (const SchemaError& err) {
    throw SchemaError{fmt::format("model {}: {}", m.id, err.what)};
  }
  return m;
}

// The part of a Hugging Face id after the organisation ("Llama-3.1-8B" of "meta-llama/Llama-3.1-8B").
std::string_view repo_name(std::string_view id) {
  const auto slash = id.rfind('/');
  return slash == std::string_view::npos ? id : id.substr(slash + 1);
}

}  // namespace

ModelCatalog ModelCatalog::load(const std::filesystem::path& file) {
  const std::string text = detail::read_catalog_file(file, "model catalog");
  const json doc = parse_json_relaxed(text, file.string());
  ModelCatalog catalog;
  try {
    if (!doc.is_object()) throw SchemaError{"the top level is not an object"};
    auto version = doc.find("schema_version");
    if (version == doc.end() || !version->is_number_integer() || version->get<long long>() != 1)
      throw SchemaError{"schema_version is not 1"};
    if (auto g = doc.find("generated"); g != doc.end() && g->is_string()) catalog.generated_ = g->get<std::string>();
    auto models = doc.find("models");
    if (models == doc.end() || !models->is_array()) throw SchemaError{"\"models\" is not an array"};
    catalog.models_.reserve(models->size());
    for (const auto& entry : *models) catalog.models_.push_back(parse_entry(entry));
  } catch (const SchemaError& err) {
    throw Error(ExitCode::BadInput, fmt::format("{}: malformed model catalog: {}", file.string(), err.what));
  } catch (const json::exception& err) {
    throw Error(ExitCode::BadInput, fmt::format("{}: malformed model catalog: {}", file.string(), err.what()));
  }
  return catalog;
}

ModelCatalog ModelCatalog::load_for(const std::filesystem::path& file, std::string_view id) {
  // Parsing all of models.json is most of what a plan of a catalog model costs beyond start-up (bench/RESULTS.md).
  const std::string text = detail::read_catalog_file(file, "model catalog");
  auto scanned = [&]() -> std::optional<ModelCatalog> {
    const auto scan = detail::scan_object_arrays(text, {"models"});
    if (!scan) return std::nullopt;
    const auto& members = scan->members;
    const auto version = detail::unique_member(members, "schema_version");
    const auto models = detail::unique_member(members, "models");
    const auto& entries = scan->arrays[0];  // the elements of "models" when it is an array of objects
    if (!version || *version != "1" || !models || !entries) return std::nullopt;
    ModelCatalog catalog;
    if (auto generated = detail::unique_member(members, "generated")) {
      const json g = parse_json_relaxed(*generated, file.string());
      if (g.is_string()) catalog.generated_ = g.get<std::string>();
    }
    for (const std::string_view entry : *entries) {
      // An entry can only be the one asked for when its text spells the id (or holds an escape that could).
      if (!detail::contains_icase(entry, id) && entry.find('\\') == std::string_view::npos) continue;
      CatalogModel m = parse_entry(parse_json_relaxed(entry, file.string()));
      bool match = iequals_ascii(m.id, id);
      for (const auto& alias : m.aliases) match = match || iequals_ascii(alias, id);
      if (match) catalog.models_.push_back(std::move(m));
    }
    if (catalog.models_.empty()) return std::nullopt;
    return catalog;
  };
  return detail::scanned_or_whole<ModelCatalog>(scanned, [&] { return load(file); });
}

const CatalogModel* ModelCatalog::find(std::string_view id) const {
  for (const auto& m : models_) {
    if (iequals_ascii(m.id, id)) return &m;
    for (const auto& alias : m.aliases)
      if (iequals_ascii(alias, id)) return &m;
  }
  return nullptr;
}

std::vector<std::string> ModelCatalog::suggest(std::string_view id, std::size_t n) const {
  // Score every id and alias: the edit distance to the whole id, or to its repository name when the query has no
  // organisation ("llama-3.1-8b"). Close ones (a third of the query's length, at least 2) qualify, and so does any
  // id containing the query (3+ characters). Aliases count for the model they name.
  const bool has_org = id.find('/') != std::string_view::npos;
  const std::string needle = ascii_lower(id);
  const std::size_t limit = std::max<std::size_t>(2, id.size() / 3);
  std::vector<std::pair<std::size_t, const CatalogModel*>> scored;
  for (const auto& m : models_) {
    std::optional<std::size_t> best;
    auto consider = [&](const std::string& name) {
      std::size_t d = edit_distance(id, has_org ? std::string_view(name) : repo_name(name));
      if (!has_org) d = std::min(d, edit_distance(id, name));
      const bool contains = needle.size() >= 3 && ascii_lower(name).find(needle) != std::string::npos;
      if (d <= limit || contains) best = std::min(best.value_or(d), d);
    };
    consider(m.id);
    for (const auto& alias : m.aliases) consider(alias);
    if (best) scored.emplace_back(*best, &m);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return ascii_lower(a.second->id) < ascii_lower(b.second->id);
  });
  std::vector<std::string> out;
  for (const auto& [d, m] : scored) {
    if (out.size() >= n) break;
    out.push_back(m->id);
  }
  return out;
}

}  // namespace vramcalc
