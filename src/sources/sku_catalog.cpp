// GPU and cloud-instance SKUs, loaded from data/skus.json.
#include "vramcalc/sources/sku_catalog.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sources/catalog_schema.hpp"
#include "sources/json_scan.hpp"
#include "sources/sku_catalog_scan.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/sources/catalog.hpp"

namespace vramcalc {

namespace {

using nlohmann::json;

using detail::SchemaError;

// Field readers: a missing key or null gives the fallback / nullopt; a value of the wrong type is a SchemaError.
std::string opt_string(const json& row, const char* key) {
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) return {};
  if (!it->is_string()) throw SchemaError{fmt::format("\"{}\" is not a string", key)};
  return it->get<std::string>();
}

std::string req_string(const json& row, const char* key) {
  std::string s = opt_string(row, key);
  if (s.empty()) throw SchemaError{fmt::format("\"{}\" is missing or empty", key)};
  return s;
}

bool opt_bool(const json& row, const char* key, bool fallback) {
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw SchemaError{fmt::format("\"{}\" is not a boolean", key)};
  return it->get<bool>();
}

std::optional<double> opt_number(const json& row, const char* key) {
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw SchemaError{fmt::format("\"{}\" is not a number", key)};
  return it->get<double>();
}

std::optional<std::uint64_t> opt_count(const json& row, const char* key) {
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned()) throw SchemaError{fmt::format("\"{}\" is not a non-negative integer", key)};
  return it->get<std::uint64_t>();
}

std::vector<std::string> opt_strings(const json& row, const char* key) {
  std::vector<std::string> out;
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) return out;
  if (!it->is_array()) throw SchemaError{fmt::format("\"{}\" is not an array", key)};
  for (const auto& v : *it) {
    if (!v.is_string()) throw SchemaError{fmt::format("\"{}\" holds a non-string", key)};
    out.push_back(v.get<std::string>());
  }
  return out;
}

Gpu parse_gpu(const json& row) {
  if (!row.is_object()) throw SchemaError{"a gpus[] row is not an object"};
  Gpu g;
  g.name = req_string(row, "name");
  try {
    g.aliases = opt_strings(row, "aliases");
    g.vendor = opt_string(row, "vendor");
    g.architecture = opt_string(row, "architecture");
    g.compute_capability = opt_number(row, "compute_capability");
    const auto marketed = opt_number(row, "memory_gib_marketed");
    if (!marketed || *marketed <= 0) throw SchemaError{"\"memory_gib_marketed\" is not a positive number"};
    g.memory_gib_marketed = *marketed;
    g.memory_mib_reported = opt_count(row, "memory_mib_reported");
    auto torch = row.find("torch_total_memory_mib_observed");
    if (torch != row.end() && !torch->is_null()) {
      if (!torch->is_array()) throw SchemaError{"\"torch_total_memory_mib_observed\" is not an array"};
      for (const auto& v : *torch) {
        if (!v.is_number_unsigned()) throw SchemaError{"\"torch_total_memory_mib_observed\" holds a non-integer"};
        g.cuda_total_mib_observed.push_back(v.get<std::uint64_t>());
      }
    }
    g.bf16 = opt_bool(row, "bf16", false);
    g.fp8 = opt_bool(row, "fp8", false);
    g.bandwidth_gbps = opt_number(row, "bandwidth_gbps");
    g.cuda_served = opt_bool(row, "vllm_cuda", true);
    // "note" says why cuda_served is false; other rows carry their caveats in "notes".
    g.note = opt_string(row, "note");
    if (g.note.empty()) g.note = opt_string(row, "notes");
  } catch (const SchemaError& err) {
    throw SchemaError{fmt::format("gpu {}: {}", g.name, err.what)};
  }
  return g;
}

// The SKU of a bare GPU row.
Sku parse_bare_gpu(const json& row) {
  Sku s;
  s.gpu = parse_gpu(row);
  s.name = s.gpu.name;
  s.aliases = s.gpu.aliases;
  s.verified = opt_bool(row, "verified", true);
  return s;
}

// An instances[] row: the SKU with a copy of its GPU, found by exact name with `gpu_by_name`.
template <typename GpuByName>
Sku parse_instance(const json& row, GpuByName gpu_by_name) {
  if (!row.is_object()) throw SchemaError{"an instances[] row is not an object"};
  Sku s;
  s.name = req_string(row, "name");
  try {
    s.aliases = opt_strings(row, "aliases");
    s.cloud = req_string(row, "cloud");
    const std::string gpu = req_string(row, "gpu");
    const Gpu* g = gpu_by_name(gpu);
    if (g == nullptr) throw SchemaError{fmt::format("names unknown gpu {}", gpu)};
    s.gpu = *g;
    auto count = row.find("gpu_count");
    if (count == row.end() || !count->is_number_unsigned() || count->get<std::uint64_t>() < 1 ||
        count->get<std::uint64_t>() > 1024)
      throw SchemaError{"\"gpu_count\" is not a whole number of GPUs"};
    s.gpus_per_node = static_cast<int>(count->get<std::uint64_t>());
    s.is_instance = true;
    s.kaito_supported = opt_bool(row, "kaito_supported", false);
    s.verified = opt_bool(row, "verified", true);
  } catch (const SchemaError& err) {
    throw SchemaError{fmt::format("instance {}: {}", s.name, err.what)};
  }
  return s;
}

bool named(const Sku& s, std::string_view name) { return detail::sku_named(s, name); }

// The "sku" of a kaito.current row ("" for a row that is not an object).
std::string kaito_row_sku(const json& krow) { return krow.is_object() ? opt_string(krow, "sku") : std::string(); }

// --- Loose spellings (SkuCatalog::match, steps 2 and 3) ---

// A word of a spelling: lowercased text between spaces, dashes and underscores. A memory figure ("80gb", "80G",
// "80GiB") keeps its number alone and is marked, so that every unit reads the same and "80" never matches a model
// number.
struct Word {
  std::string text;
  bool memory = false;
  bool operator==(const Word&) const = default;
};
using Words = std::vector<Word>;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_letter(char c) { return c >= 'a' && c <= 'z'; }

// `w` (lowercased) as a memory figure: a whole number followed by g, gb or gib, its leading zeros dropped.
std::optional<std::string> memory_figure(std::string_view w) {
  std::size_t digits = 0;
  while (digits < w.size() && is_digit(w[digits])) ++digits;
  const std::string_view unit = w.substr(digits);
  if (digits == 0 || (unit != "g" && unit != "gb" && unit != "gib")) return std::nullopt;
  const std::string_view number = w.substr(0, digits);
  return std::string(number.substr(std::min(number.find_first_not_of('0'), number.size() - 1)));
}

Words words(std::string_view text) {
  const std::string lower = ascii_lower(text);
  Words out;
  std::size_t start = 0;
  while (start < lower.size()) {
    std::size_t end = lower.find_first_of(" -_", start);
    if (end == std::string::npos) end = lower.size();
    if (end > start) {
      const std::string_view w = std::string_view(lower).substr(start, end - start);
      if (auto figure = memory_figure(w)) out.push_back({std::move(*figure), true});
      else out.push_back({std::string(w), false});
    }
    start = end + 1;
  }
  return out;
}

// `ws` with each word cut where a digit follows a letter ("a100" -> "a", "100"; "sxm4" -> "sxm", "4"), so that a
// model number is a piece of its own: "RTX 6000" is found in "RTX A6000" and in "RTX 6000 Ada".
Words pieces(const Words& ws) {
  Words out;
  for (const auto& w : ws) {
    std::size_t start = 0;
    for (std::size_t i = 1; !w.memory && i < w.text.size(); ++i) {
      if (!is_lower_letter(w.text[i - 1]) || !is_digit(w.text[i])) continue;
      out.push_back({w.text.substr(start, i - start), false});
      start = i;
    }
    out.push_back({w.text.substr(start), w.memory});
  }
  return out;
}

// A name as the loose steps read it.
struct Query {
  Words words;
  Words pieces;
  bool model_number = false;  // a piece that starts with a digit and is not a memory figure: step 3 applies
};

Query query(std::string_view name) {
  Query q;
  q.words = words(name);
  // GPU feature discovery appends -SHARED to the product label of a GPU shared by time-slicing or MPS.
  if (q.words.size() > 1 && q.words.back() == Word{"shared", false}) q.words.pop_back();
  q.pieces = pieces(q.words);
  q.model_number =
      std::any_of(q.pieces.begin(), q.pieces.end(), [](const Word& p) { return !p.memory && is_digit(p.text[0]); });
  return q;
}

template <typename Pred>
bool any_spelling(const Sku& s, Pred pred) {
  return pred(s.name) || std::any_of(s.aliases.begin(), s.aliases.end(), pred);
}

// Step 2: a name or alias of `s` is the query's words.
bool same_words(const Sku& s, const Query& q) {
  return any_spelling(s, [&](const std::string& n) { return words(n) == q.words; });
}

// Step 3: bare GPU `s` has a name or alias holding every piece of the query, its memory counting as a piece of each.
bool holds_pieces(const Sku& s, const Query& q) {
  if (s.is_instance) return false;
  const Word memory{fmt::format("{}", s.gpu.memory_gib_marketed), true};
  return any_spelling(s, [&](const std::string& n) {
    Words have = pieces(words(n));
    have.push_back(memory);
    return std::all_of(q.pieces.begin(), q.pieces.end(),
                       [&](const Word& p) { return std::find(have.begin(), have.end(), p) != have.end(); });
  });
}

template <typename Test>
std::vector<const Sku*> matching(const std::vector<Sku>& skus, const Query& q, Test test) {
  std::vector<const Sku*> out;
  for (const auto& s : skus)
    if (test(s, q)) out.push_back(&s);
  return out;
}

// SkuCatalog::match over `skus` (catalog order), so that the quick path of load_for can run it on a few rows.
SkuMatch match_in(const std::vector<Sku>& skus, std::string_view name) {
  const Query q = query(name);
  if (q.words.empty()) return {};
  for (const auto& s : skus) {
    if (!named(s, name)) continue;
    if (s.is_instance || iequals_ascii(s.name, name) || !q.model_number) return {&s, {}};
    // An alias of a bare GPU that other GPUs' names also hold ("A100"): a family name. It stands for this GPU
    // unless the family's memory differs, where a silent choice would size the plan on the wrong memory.
    auto family = matching(skus, q, holds_pieces);
    const bool mixed = std::any_of(family.begin(), family.end(), [&](const Sku* f) {
      return f->gpu.memory_gib_marketed != s.gpu.memory_gib_marketed;
    });
    if (mixed) return {nullptr, std::move(family)};
    return {&s, {}};
  }
  auto found = matching(skus, q, same_words);
  if (found.empty() && q.model_number) found = matching(skus, q, holds_pieces);
  if (found.size() == 1) return {found.front(), {}};
  if (found.empty()) return {};
  return {nullptr, std::move(found)};
}

// "--sku A100: ambiguous, it could be A100-40G, A100-80G or A100-80G-PCIE; ...": at most 8 names, then a count.
std::string ambiguous_message(std::string_view name, const std::vector<const Sku*>& candidates) {
  constexpr std::size_t kShown = 8;
  const std::size_t shown = std::min(candidates.size(), kShown);
  std::string list;
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) list += (i + 1 == shown && shown == candidates.size()) ? " or " : ", ";
    list += candidates[i]->name;
  }
  if (shown < candidates.size()) list += fmt::format(" and {} more", candidates.size() - shown);
  return fmt::format("--sku {}: ambiguous, it could be {}; name one (vram-calc skus lists them all)", name, list);
}

}  // namespace

namespace {

// A row that can hold `name`: its text spells it in some case, or holds an escape that could.
bool may_name(std::string_view row, std::string_view name) {
  return detail::contains_icase(row, name) || row.find('\\') != std::string_view::npos;
}

}  // namespace

SkuCatalog SkuCatalog::load(const std::filesystem::path& file) {
  const std::string text = detail::read_catalog_file(file, "SKU catalog");
  SkuCatalog catalog;
  // Parsing all of skus.json into a document was most of what --sku all cost beyond start-up (bench/RESULTS.md):
  // the rows are read straight from the quick scan's pieces where they can be (sku_catalog_scan.hpp). Otherwise the
  // whole file is parsed, so errors name its line and column.
  if (const auto rows = detail::scan_sku_rows(text)) {
    if (auto skus = detail::skus_from_rows(*rows)) {
      catalog.skus_ = std::move(*skus);
      return catalog;
    }
  }
  const json doc = parse_json_relaxed(text, file.string());
  try {
    if (!doc.is_object()) throw SchemaError{"the top level is not an object"};
    auto version = doc.find("schema_version");
    if (version == doc.end() || !version->is_number_integer() || version->get<long long>() != 1)
      throw SchemaError{"schema_version is not 1"};
    auto gpus = doc.find("gpus");
    auto instances = doc.find("instances");
    if (gpus == doc.end() || !gpus->is_array()) throw SchemaError{"\"gpus\" is not an array"};
    if (instances == doc.end() || !instances->is_array()) throw SchemaError{"\"instances\" is not an array"};

    // One Sku per bare GPU, in catalog order.
    catalog.skus_.reserve(gpus->size() + instances->size());
    for (const auto& row : *gpus) {
      Sku s = parse_bare_gpu(row);
      for (const auto& other : catalog.skus_)
        if (iequals_ascii(other.name, s.gpu.name)) throw SchemaError{fmt::format("gpu {} is listed twice", s.gpu.name)};
      catalog.skus_.push_back(std::move(s));
    }
    const std::size_t gpu_count = catalog.skus_.size();
    auto gpu_by_name = [&](std::string_view name) -> const Gpu* {
      for (std::size_t i = 0; i < gpu_count; ++i)
        if (catalog.skus_[i].gpu.name == name) return &catalog.skus_[i].gpu;
      return nullptr;
    };

    // Then one per cloud instance, holding a copy of its GPU.
    std::vector<Sku> rows;
    rows.reserve(instances->size());
    for (const auto& row : *instances) rows.push_back(parse_instance(row, gpu_by_name));

    // A bare GPU is KAITO-supported when a row of KAITO's current tables uses it: an instance flagged
    // kaito_supported, or one whose name or alias a kaito.current row spells.
    std::set<std::string> kaito_gpus;
    for (const auto& s : rows)
      if (s.kaito_supported) kaito_gpus.insert(s.gpu.name);
    if (auto kaito = doc.find("kaito"); kaito != doc.end() && kaito->is_object()) {
      if (auto current = kaito->find("current"); current != kaito->end() && current->is_array()) {
        for (const auto& krow : *current) {
          const std::string sku = kaito_row_sku(krow);
          if (sku.empty()) continue;
          for (const auto& s : rows)
            if (named(s, sku)) kaito_gpus.insert(s.gpu.name);
        }
      }
    }
    for (std::size_t i = 0; i < gpu_count; ++i)
      catalog.skus_[i].kaito_supported = kaito_gpus.contains(catalog.skus_[i].gpu.name);

    for (auto& s : rows) catalog.skus_.push_back(std::move(s));
  } catch (const SchemaError& err) {
    throw Error(ExitCode::BadInput, fmt::format("{}: malformed SKU catalog: {}", file.string(), err.what));
  } catch (const json::exception& err) {
    throw Error(ExitCode::BadInput, fmt::format("{}: malformed SKU catalog: {}", file.string(), err.what()));
  }
  return catalog;
}

namespace {

json parse_row(std::string_view row, const std::string& origin) { return parse_json_relaxed(row, origin); }

// Whether load() marks bare `gpu` KAITO-supported: an instance of it is flagged so, or a kaito.current row spells
// one's name or alias. Reads only the instance rows that can name the GPU and the KAITO rows that can name those.
bool kaito_supports(const detail::SkuRows& rows, const Gpu& gpu, const std::string& origin) {
  std::vector<Sku> instances;
  for (const auto row : rows.instances) {
    if (!may_name(row, gpu.name)) continue;
    bool of_this_gpu = false;
    Sku s = parse_instance(parse_row(row, origin), [&](std::string_view name) {
      of_this_gpu = name == gpu.name;
      return &gpu;  // only kept when it is this GPU
    });
    if (of_this_gpu) instances.push_back(std::move(s));
  }
  if (std::any_of(instances.begin(), instances.end(), [](const Sku& s) { return s.kaito_supported; })) return true;
  for (const auto krow : rows.kaito_current) {
    const bool spelled = std::any_of(instances.begin(), instances.end(), [&](const Sku& s) {
      return may_name(krow, s.name) ||
             std::any_of(s.aliases.begin(), s.aliases.end(), [&](const auto& a) { return may_name(krow, a); });
    });
    if (!spelled) continue;
    const std::string sku = kaito_row_sku(parse_row(krow, origin));
    if (!sku.empty() && std::any_of(instances.begin(), instances.end(), [&](const Sku& s) { return named(s, sku); }))
      return true;
  }
  return false;
}

// Whether match() over the whole catalog gives bare GPU `s` for `name`, its name or an alias. An alias with a model
// number may be a family name (match(), step 1): the GPUs that could share it are those with a name or alias holding
// each piece of it, so only the rows whose text spells every piece are read.
bool alias_stands(const detail::SkuRows& rows, const Sku& s, std::string_view name, const std::string& origin) {
  const Query q = query(name);
  if (iequals_ascii(s.name, name) || !q.model_number) return true;
  std::vector<Sku> near;
  for (const auto row : rows.gpus) {
    const bool spells_all =
        std::all_of(q.pieces.begin(), q.pieces.end(), [&](const Word& p) { return p.memory || may_name(row, p.text); });
    if (spells_all) near.push_back(parse_bare_gpu(parse_row(row, origin)));
  }
  const SkuMatch m = match_in(near, name);
  return m.sku != nullptr && m.sku->name == s.name;
}

// The SKU find() would return from load() for `name`: bare GPUs first, then instances, each in catalog order,
// parsing only the rows that can spell it. nullopt when none does.
std::optional<Sku> sku_from_rows(const detail::SkuRows& rows, std::string_view name, const std::string& origin) {
  for (const auto row : rows.gpus) {
    if (!may_name(row, name)) continue;
    if (Sku s = parse_bare_gpu(parse_row(row, origin)); named(s, name)) {
      if (!alias_stands(rows, s, name, origin)) return std::nullopt;  // a family name: load() names the candidates
      s.kaito_supported = kaito_supports(rows, s.gpu, origin);
      return s;
    }
  }
  // An instance carries a copy of the first bare GPU row called exactly what it names.
  auto gpu_named = [&](std::string_view gpu) -> std::optional<Gpu> {
    for (const auto row : rows.gpus)
      if (may_name(row, gpu))
        if (Gpu g = parse_gpu(parse_row(row, origin)); g.name == gpu) return g;
    return std::nullopt;
  };
  for (const auto row : rows.instances) {
    if (!may_name(row, name)) continue;
    std::optional<Gpu> gpu;
    Sku s = parse_instance(parse_row(row, origin), [&](std::string_view g) {
      gpu = gpu_named(g);
      return gpu ? &*gpu : nullptr;
    });
    if (named(s, name)) return s;
  }
  return std::nullopt;
}

}  // namespace

SkuCatalog SkuCatalog::load_for(const std::filesystem::path& file, const std::vector<std::string>& names) {
  // A plan needs one SKU or a few, and parsing all of skus.json was most of its own work (bench/RESULTS.md).
  const std::string text = detail::read_catalog_file(file, "SKU catalog");
  auto scanned = [&]() -> std::optional<SkuCatalog> {
    const auto rows = detail::scan_sku_rows(text);
    if (!rows || names.empty()) return std::nullopt;
    SkuCatalog catalog;
    for (const auto& name : names) {
      auto found = sku_from_rows(*rows, name, file.string());
      if (!found) return std::nullopt;  // an unknown name: load() gives the suggestions
      catalog.skus_.push_back(std::move(*found));
    }
    return catalog;
  };
  return detail::scanned_or_whole<SkuCatalog>(scanned, [&] { return load(file); });
}

SkuMatch SkuCatalog::match(std::string_view name) const { return match_in(skus_, name); }

const Sku* SkuCatalog::find(std::string_view name) const {
  SkuMatch m = match(name);
  if (!m.candidates.empty()) fail_input(ambiguous_message(name, m.candidates));
  return m.sku;
}

std::vector<std::string> SkuCatalog::suggest(std::string_view name, std::size_t n) const {
  // Every name and alias scores its edit distance; close ones (a third of the query's length, at least 2) qualify,
  // and so does any name containing the query (3+ characters). Canonical names only, each once, closest first,
  // catalog order among equals.
  const std::string needle = ascii_lower(name);
  const std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  std::vector<std::pair<std::size_t, const Sku*>> scored;
  for (const auto& s : skus_) {
    std::optional<std::size_t> best;
    auto consider = [&](const std::string& candidate) {
      const std::size_t d = edit_distance(name, candidate);
      const bool contains = needle.size() >= 3 && ascii_lower(candidate).find(needle) != std::string::npos;
      if (d <= limit || contains) best = std::min(best.value_or(d), d);
    };
    consider(s.name);
    for (const auto& a : s.aliases) consider(a);
    if (best) scored.emplace_back(*best, &s);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& [d, s] : scored) {
    if (out.size() >= n) break;
    if (std::find(out.begin(), out.end(), s->name) == out.end()) out.push_back(s->name);
  }
  return out;
}

}  // namespace vramcalc
