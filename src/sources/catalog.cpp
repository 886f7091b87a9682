// The bundled model catalog (data/models.json) and the edit distance behind "did you mean" suggestions.
#include "vramcalc/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "sources/files.hpp"
#include "vramcalc/error.hpp"
#include "vramcalc/json_relaxed.hpp"

namespace vramcalc {

namespace {

using nlohmann::json;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string read_file(const std::filesystem::path& file) {
  auto text = detail::read_file_limited(file, std::numeric_limits<std::size_t>::max());
  if (!text) throw Error(ExitCode::BadInput, fmt::format("cannot read model catalog {}", file.string()));
  return std::move(*text);
}

// A catalog entry that breaks the schema; the caller adds the file name.
struct SchemaError {
  std::string what;
};

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

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The token after a ':' at `from` ("1" for `"schema_version": 1,`).
std::string_view value_token(std::string_view text, std::size_t from) {
  while (from < text.size() && is_space(text[from])) ++from;
  std::size_t end = from;
  while (end < text.size() && !is_space(text[end]) && text[end] != ',' && text[end] != '}') ++end;
  return text.substr(from, end - from);
}

// The text of each entry of the top-level "models" array, found by a scan that follows only strings and nesting
// (nothing is parsed, so this is not validation). nullopt unless the text is one object with one "models" key, a
// "schema_version" of 1, no escapes in its keys and objects as the array's elements; load() then says what is
// wrong, if anything.
std::optional<std::vector<std::string_view>> entry_texts(std::string_view text) {
  std::vector<std::string_view> entries;
  std::string_view key, last_string;  // the last key, and the last string, seen at depth 1
  int depth = 0, models_keys = 0, version_keys = 0;
  bool in_models = false, version_ok = false, closed = false;
  std::size_t entry_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (closed) {
      if (!is_space(c)) return std::nullopt;
      continue;
    }
    if (c == '"') {
      const std::size_t start = i + 1;
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
      if (i >= text.size() || (in_models && depth == 2)) return std::nullopt;
      if (depth == 1) last_string = text.substr(start, i - start);
      continue;
    }
    if (c == ':' && depth == 1) {
      key = last_string;
      if (key.find('\\') != std::string_view::npos) return std::nullopt;
      if (key == "models") ++models_keys;
      if (key == "schema_version") {
        ++version_keys;
        version_ok = value_token(text, i + 1) == "1";
      }
    } else if (c == '{' || c == '[') {
      if (depth == 0 && c != '{') return std::nullopt;
      if (depth == 1 && c == '[' && key == "models") {
        in_models = true;
      } else if (in_models && depth == 2) {
        if (c != '{') return std::nullopt;
        entry_start = i;
      }
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth < 0) return std::nullopt;
      if (in_models && depth == 2) entries.push_back(text.substr(entry_start, i - entry_start + 1));
      if (in_models && depth == 1) in_models = false;
      if (depth == 0) closed = true;
    } else if (in_models && depth == 2 && !is_space(c) && c != ',') {
      return std::nullopt;  // an element that is not an object
    }
  }
  if (!closed || models_keys != 1 || version_keys != 1 || !version_ok) return std::nullopt;
  return entries;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Two-row Levenshtein over ASCII-lowercased characters.
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

ModelCatalog ModelCatalog::load(const std::filesystem::path& file) {
  const std::string text = read_file(file);
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
  const std::string text = read_file(file);
  const auto entries = entry_texts(text);
  if (!entries) return load(file);
  auto same = [](char a, char b) { return lower(a) == lower(b); };
  ModelCatalog catalog;
  for (const std::string_view entry : *entries) {
    // An entry can only be the one asked for when its text spells the id (or holds an escape that could).
    if (std::search(entry.begin(), entry.end(), id.begin(), id.end(), same) == entry.end() &&
        entry.find('\\') == std::string_view::npos)
      continue;
    try {
      CatalogModel m = parse_entry(parse_json_relaxed(entry, file.string()));
      bool match = iequals(m.id, id);
      for (const auto& alias : m.aliases) match = match || iequals(alias, id);
      if (match) catalog.models_.push_back(std::move(m));
    } catch (const SchemaError&) {
      return load(file);  // which says what is wrong, naming the file
    } catch (const Error&) {
      return load(file);
    } catch (const json::exception&) {
      return load(file);
    }
  }
  return catalog.models_.empty() ? load(file) : catalog;
}

const CatalogModel* ModelCatalog::find(std::string_view id) const {
  for (const auto& m : models_) {
    if (iequals(m.id, id)) return &m;
    for (const auto& alias : m.aliases)
      if (iequals(alias, id)) return &m;
  }
  return nullptr;
}

std::vector<std::string> ModelCatalog::suggest(std::string_view id, std::size_t n) const {
  // Score every id and alias: the edit distance to the whole id, or to its repository name when the query has no
  // organisation ("llama-3.1-8b"). Close ones (a third of the query's length, at least 2) qualify, and so does any
  // id containing the query (3+ characters). Aliases count for the model they name.
  const bool has_org = id.find('/') != std::string_view::npos;
  const std::string needle = to_lower(id);
  const std::size_t limit = std::max<std::size_t>(2, id.size() / 3);
  std::vector<std::pair<std::size_t, const CatalogModel*>> scored;
  for (const auto& m : models_) {
    std::optional<std::size_t> best;
    auto consider = [&](const std::string& name) {
      std::size_t d = edit_distance(id, has_org ? std::string_view(name) : repo_name(name));
      if (!has_org) d = std::min(d, edit_distance(id, name));
      const bool contains = needle.size() >= 3 && to_lower(name).find(needle) != std::string::npos;
      if (d <= limit || contains) best = std::min(best.value_or(d), d);
    };
    consider(m.id);
    for (const auto& alias : m.aliases) consider(alias);
    if (best) scored.emplace_back(*best, &m);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return to_lower(a.second->id) < to_lower(b.second->id);
  });
  std::vector<std::string> out;
  for (const auto& [d, m] : scored) {
    if (out.size() >= n) break;
    out.push_back(m->id);
  }
  return out;
}

}  // namespace vramcalc
