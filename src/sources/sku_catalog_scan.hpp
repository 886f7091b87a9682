// data/skus.json read through the quick scan (json_scan.hpp), private to src/sources: the rows cut without parsing,
// and SkuCatalog::load's SKUs made from them without a JSON document (bench/RESULTS.md: parsing the catalog into one
// was most of what loading every SKU cost).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "vramcalc/core/hardware.hpp"

namespace vramcalc::detail {

// data/skus.json cut into rows by scan_object (nothing parsed yet): the gpus and instances rows and the
// kaito.current rows. nullopt when the scan gives up, or the file is not the shape load() reads (schema_version 1,
// gpus and instances arrays of objects, kaito.current, when present, an array of objects named once).
struct SkuRows {
  std::vector<std::string_view> gpus, instances, kaito_current;
};
std::optional<SkuRows> scan_sku_rows(std::string_view text);

// Whether `name` is the SKU's name or one of its aliases, ignoring ASCII case.
bool sku_named(const Sku& sku, std::string_view name);

// What SkuCatalog::load gives for the rows: bare GPUs in catalog order, then instances, KAITO support marked. nullopt
// at anything load() could read otherwise or refuse: a string that is not plain printable ASCII, a value of the wrong
// kind, a member other than the rows' provenance (which load() never reads) that is not plain JSON (json_scan.hpp,
// plain_json), a row load() rejects. The caller then loads the whole file, which says what is wrong.
std::optional<std::vector<Sku>> skus_from_rows(const SkuRows& rows);

}  // namespace vramcalc::detail
