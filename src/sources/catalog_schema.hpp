// What the two bundled-catalog loaders (data/models.json, data/skus.json) share: the error a row that breaks the
// schema raises, and the rule behind their quick lookups: any doubt about a piece the scan cut means the
// whole-file load, whose errors name the file and say what is wrong.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "vramcalc/core/error.hpp"

namespace vramcalc::detail {

// A bundled catalog's whole text; Error(BadInput) "cannot read <what> <file>" when it cannot be read. The catalogs
// ship with vram-calc, so no size limit applies.
std::string read_catalog_file(const std::filesystem::path& file, std::string_view what);

// A row or member that breaks a catalog's schema; the loader adds the file name.
struct SchemaError {
  std::string what;
};

// `scanned()` looks up what was asked in pieces cut by the quick scan (json_scan.hpp), giving nullopt when it
// cannot answer (a miss, a shape it does not expect). Its catalog, or `whole()` when it gives nullopt or a piece
// it parsed is malformed (SchemaError, Error, json::exception).
template <typename Catalog, typename Scanned, typename Whole>
Catalog scanned_or_whole(Scanned scanned, Whole whole) {
  try {
    if (std::optional<Catalog> found = scanned()) return std::move(*found);
  } catch (const SchemaError&) {
  } catch (const Error&) {
  } catch (const nlohmann::json::exception&) {
  }
  return whole();
}

}  // namespace vramcalc::detail
