// data/skus.json through the quick scan (sku_catalog_scan.hpp): the rows, and load()'s SKUs read from them directly.
// The readers below follow sku_catalog.cpp's (opt_string, parse_gpu, parse_instance, load) field by field; where
// those would throw, or a value is not one json_scan.hpp reads without a parser, these give up (GiveUp) and load()
// parses the whole file instead, so that what they accept they read as load() would.
#include "sources/sku_catalog_scan.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "sources/json_scan.hpp"
#include "vramcalc/core/text.hpp"

namespace vramcalc::detail {

std::optional<SkuRows> scan_sku_rows(std::string_view text) {
  auto scan = scan_object_arrays(text, {"gpus", "instances"});
  if (!scan) return std::nullopt;
  const auto& members = scan->members;
  const auto version = unique_member(members, "schema_version");
  const auto gpus = unique_member(members, "gpus");
  const auto instances = unique_member(members, "instances");
  auto& gpu_rows = scan->arrays[0];  // the elements of "gpus" and "instances" when they are arrays of objects
  auto& instance_rows = scan->arrays[1];
  if (!version || *version != "1" || !gpus || !instances || !gpu_rows || !instance_rows) return std::nullopt;
  SkuRows rows;
  rows.gpus = std::move(*gpu_rows);
  rows.instances = std::move(*instance_rows);
  // kaito.current is optional; a shape load() would read differently (not objects, duplicate keys) gives up.
  for (const auto& m : members) {
    if (m.key != "kaito" || m.value.front() != '{') continue;
    auto kaito = scan_object_arrays(m.value, {"current"});
    if (!kaito || unique_member(members, "kaito") != m.value) return std::nullopt;
    for (const auto& k : kaito->members) {
      if (k.key != "current" || k.value.front() != '[') continue;
      if (!kaito->arrays[0] || unique_member(kaito->members, "current") != k.value) return std::nullopt;
      rows.kaito_current = std::move(*kaito->arrays[0]);
    }
  }
  return rows;
}

bool sku_named(const Sku& s, std::string_view name) {
  if (iequals_ascii(s.name, name)) return true;
  return std::any_of(s.aliases.begin(), s.aliases.end(), [&](const std::string& a) { return iequals_ascii(a, name); });
}

namespace {

// Anything the quick read does not take: load() parses the whole file.
struct GiveUp {};

// Row members load() never reads and that hold most of the file's text: provenance for people, not figures. They are
// not checked either (load() has never parsed them).
bool provenance(std::string_view key) {
  return key == "source" || key == "memory_mib_reported_note" || key == "unverified_fields";
}

// One row's members; a key given twice reads as its last value, as in nlohmann's document.
class Row {
 public:
  // Every key printable ASCII and every member but the provenance plain JSON, or GiveUp.
  explicit Row(std::string_view text) {
    auto members = scan_object(text);
    if (!members) throw GiveUp{};
    members_ = std::move(*members);
    for (const auto& m : members_) {
      const bool plain_key = std::all_of(m.key.begin(), m.key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
      if (!plain_key || (!provenance(m.key) && !plain_json(m.value))) throw GiveUp{};
    }
  }

  // The value's text; nullopt when the member is missing or null (which every reader treats alike).
  [[nodiscard]] std::optional<std::string_view> find(std::string_view key) const {
    const auto last =
        std::find_if(members_.rbegin(), members_.rend(), [&](const JsonMember& m) { return m.key == key; });
    if (last == members_.rend() || last->value == "null") return std::nullopt;
    return last->value;
  }

  [[nodiscard]] std::string opt_string(std::string_view key) const {
    const auto v = find(key);
    return v ? std::string(must(plain_string(*v))) : std::string();
  }
  [[nodiscard]] std::string req_string(std::string_view key) const {
    std::string s = opt_string(key);
    if (s.empty()) throw GiveUp{};
    return s;
  }
  [[nodiscard]] bool opt_bool(std::string_view key, bool fallback) const {
    const auto v = find(key);
    if (!v) return fallback;
    if (*v != "true" && *v != "false") throw GiveUp{};
    return *v == "true";
  }
  [[nodiscard]] std::optional<double> opt_number(std::string_view key) const {
    const auto v = find(key);
    return v ? std::optional(must(plain_number(*v))) : std::nullopt;
  }
  [[nodiscard]] std::optional<std::uint64_t> opt_count(std::string_view key) const {
    const auto v = find(key);
    return v ? std::optional(must(plain_unsigned(*v))) : std::nullopt;
  }
  [[nodiscard]] std::vector<std::string> opt_strings(std::string_view key) const {
    std::vector<std::string> out;
    if (const auto v = find(key))
      for (const auto element : must(scan_array(*v))) out.emplace_back(must(plain_string(element)));
    return out;
  }
  [[nodiscard]] std::vector<std::uint64_t> opt_counts(std::string_view key) const {
    std::vector<std::uint64_t> out;
    if (const auto v = find(key))
      for (const auto element : must(scan_array(*v))) out.push_back(must(plain_unsigned(element)));
    return out;
  }

 private:
  template <typename T>
  static T must(std::optional<T> value) {
    if (!value) throw GiveUp{};
    return std::move(*value);
  }

  std::vector<JsonMember> members_;
};

// sku_catalog.cpp's parse_gpu.
Gpu read_gpu(const Row& row) {
  Gpu g;
  g.name = row.req_string("name");
  g.aliases = row.opt_strings("aliases");
  g.vendor = row.opt_string("vendor");
  g.architecture = row.opt_string("architecture");
  g.compute_capability = row.opt_number("compute_capability");
  const auto marketed = row.opt_number("memory_gib_marketed");
  if (!marketed || *marketed <= 0) throw GiveUp{};
  g.memory_gib_marketed = *marketed;
  g.memory_mib_reported = row.opt_count("memory_mib_reported");
  g.cuda_total_mib_observed = row.opt_counts("torch_total_memory_mib_observed");
  g.bf16 = row.opt_bool("bf16", false);
  g.fp8 = row.opt_bool("fp8", false);
  g.bandwidth_gbps = row.opt_number("bandwidth_gbps");
  g.cuda_served = row.opt_bool("vllm_cuda", true);
  g.note = row.opt_string("note");
  if (g.note.empty()) g.note = row.opt_string("notes");
  return g;
}

// sku_catalog.cpp's parse_bare_gpu.
Sku read_bare_gpu(const Row& row) {
  Sku s;
  s.gpu = read_gpu(row);
  s.name = s.gpu.name;
  s.aliases = s.gpu.aliases;
  s.verified = row.opt_bool("verified", true);
  return s;
}

// sku_catalog.cpp's parse_instance, its GPU the first of `skus[0, gpu_count)` called exactly so.
Sku read_instance(const Row& row, const std::vector<Sku>& skus, std::size_t gpu_count) {
  Sku s;
  s.name = row.req_string("name");
  s.aliases = row.opt_strings("aliases");
  s.cloud = row.req_string("cloud");
  const std::string gpu = row.req_string("gpu");
  const auto bare = std::find_if(skus.begin(), skus.begin() + static_cast<std::ptrdiff_t>(gpu_count),
                                 [&](const Sku& b) { return b.gpu.name == gpu; });
  if (bare == skus.begin() + static_cast<std::ptrdiff_t>(gpu_count)) throw GiveUp{};
  s.gpu = bare->gpu;
  const auto count = row.opt_count("gpu_count");
  if (!count || *count < 1 || *count > 1024) throw GiveUp{};
  s.gpus_per_node = static_cast<int>(*count);
  s.is_instance = true;
  s.kaito_supported = row.opt_bool("kaito_supported", false);
  s.verified = row.opt_bool("verified", true);
  return s;
}

// load()'s rule: a bare GPU is KAITO-supported when an instance of it is flagged so, or a kaito.current row's "sku"
// spells the name or an alias of one.
void mark_kaito_support(std::vector<Sku>& skus, std::size_t gpu_count, const std::vector<std::string_view>& kaito) {
  std::set<std::string> kaito_gpus;
  // Every instance's GPU by each of its spellings lowercased: sku_named, for the rows all at once.
  std::multimap<std::string, const std::string*> gpu_by_spelling;
  for (std::size_t i = gpu_count; i < skus.size(); ++i) {
    if (skus[i].kaito_supported) kaito_gpus.insert(skus[i].gpu.name);
    gpu_by_spelling.emplace(ascii_lower(skus[i].name), &skus[i].gpu.name);
    for (const auto& alias : skus[i].aliases) gpu_by_spelling.emplace(ascii_lower(alias), &skus[i].gpu.name);
  }
  for (const auto krow : kaito) {
    // Only "sku" is read, and only it is checked, as load() parses nothing else of these rows.
    const auto members = scan_object(krow);
    if (!members) throw GiveUp{};
    std::optional<std::string_view> sku;
    for (const auto& m : *members)
      if (m.key == "sku") sku = m.value;
    if (!sku || *sku == "null") continue;
    const auto name = plain_string(*sku);
    if (!name) throw GiveUp{};
    if (name->empty()) continue;
    const auto [first, last] = gpu_by_spelling.equal_range(ascii_lower(*name));
    for (auto it = first; it != last; ++it) kaito_gpus.insert(*it->second);
  }
  for (std::size_t i = 0; i < gpu_count; ++i) skus[i].kaito_supported = kaito_gpus.contains(skus[i].gpu.name);
}

}  // namespace

std::optional<std::vector<Sku>> skus_from_rows(const SkuRows& rows) {
  try {
    std::vector<Sku> skus;
    skus.reserve(rows.gpus.size() + rows.instances.size());
    for (const auto text : rows.gpus) {
      Sku s = read_bare_gpu(Row(text));
      for (const auto& other : skus)
        if (iequals_ascii(other.name, s.gpu.name)) throw GiveUp{};  // listed twice: load() says so
      skus.push_back(std::move(s));
    }
    const std::size_t gpu_count = skus.size();
    for (const auto text : rows.instances) skus.push_back(read_instance(Row(text), skus, gpu_count));
    mark_kaito_support(skus, gpu_count, rows.kaito_current);
    return skus;
  } catch (const GiveUp&) {
    return std::nullopt;
  }
}

}  // namespace vramcalc::detail
