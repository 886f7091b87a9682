// GPU and cloud-instance SKUs, loaded from data/skus.json.
#include "vramcalc/sku.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vramcalc/catalog.hpp"
#include "vramcalc/error.hpp"
#include "vramcalc/json_relaxed.hpp"

namespace vramcalc {

namespace {

using nlohmann::json;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ExitCode::BadInput, fmt::format("cannot read SKU catalog {}", file.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(ExitCode::BadInput, fmt::format("cannot read SKU catalog {}", file.string()));
  return ss.str();
}

// A row that breaks the schema; the caller adds the file name.
struct SchemaError {
  std::string what;
};

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
    g.vllm_cuda = opt_bool(row, "vllm_cuda", true);
    // "note" says why vllm_cuda is false; other rows carry their caveats in "notes".
    g.note = opt_string(row, "note");
    if (g.note.empty()) g.note = opt_string(row, "notes");
  } catch (const SchemaError& err) {
    throw SchemaError{fmt::format("gpu {}: {}", g.name, err.what)};
  }
  return g;
}

}  // namespace

SkuCatalog SkuCatalog::load(const std::filesystem::path& file) {
  const std::string text = read_file(file);
  const json doc = parse_json_relaxed(text, file.string());
  SkuCatalog catalog;
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
    std::vector<bool> gpu_verified;
    for (const auto& row : *gpus) {
      Sku s;
      s.gpu = parse_gpu(row);
      for (const auto& other : catalog.skus_)
        if (iequals(other.name, s.gpu.name)) throw SchemaError{fmt::format("gpu {} is listed twice", s.gpu.name)};
      s.name = s.gpu.name;
      s.aliases = s.gpu.aliases;
      s.verified = opt_bool(row, "verified", true);
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
    for (const auto& row : *instances) {
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
      rows.push_back(std::move(s));
    }

    // A bare GPU is KAITO-supported when a row of KAITO's current tables uses it: an instance flagged
    // kaito_supported, or one whose name or alias a kaito.current row spells.
    std::set<std::string> kaito_gpus;
    for (const auto& s : rows)
      if (s.kaito_supported) kaito_gpus.insert(s.gpu.name);
    if (auto kaito = doc.find("kaito"); kaito != doc.end() && kaito->is_object()) {
      if (auto current = kaito->find("current"); current != kaito->end() && current->is_array()) {
        for (const auto& krow : *current) {
          if (!krow.is_object()) continue;
          const std::string sku = opt_string(krow, "sku");
          for (const auto& s : rows) {
            bool match = iequals(s.name, sku);
            for (const auto& a : s.aliases) match = match || iequals(a, sku);
            if (match) kaito_gpus.insert(s.gpu.name);
          }
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

const Sku* SkuCatalog::find(std::string_view name) const {
  // First match in catalog order (bare GPUs, then instances) wins when two SKUs share a name or alias.
  for (const auto& s : skus_) {
    if (iequals(s.name, name)) return &s;
    for (const auto& a : s.aliases)
      if (iequals(a, name)) return &s;
  }
  return nullptr;
}

std::vector<std::string> SkuCatalog::suggest(std::string_view name, std::size_t n) const {
  // Every name and alias scores its edit distance; close ones (a third of the query's length, at least 2) qualify,
  // and so does any name containing the query (3+ characters). Canonical names only, each once, closest first,
  // catalog order among equals.
  const std::string needle = to_lower(name);
  const std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  std::vector<std::pair<std::size_t, const Sku*>> scored;
  for (const auto& s : skus_) {
    std::optional<std::size_t> best;
    auto consider = [&](const std::string& candidate) {
      const std::size_t d = edit_distance(name, candidate);
      const bool contains = needle.size() >= 3 && to_lower(candidate).find(needle) != std::string::npos;
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
