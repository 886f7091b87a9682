// What the manifest reader's two halves share (src/sources/manifest_yaml.cpp reads the YAML streams,
// manifest_kinds.cpp the workload kinds). Private to src/sources.
#pragma once

#include <vector>

#include <yaml-cpp/yaml.h>

#include "vramcalc/sources/manifest.hpp"

namespace vramcalc {

struct ManifestReader::Document {
  YAML::Node root;
  ManifestPlace place;  // the line where the document starts
};

// Every workload, skipped resource and ConfigMap-backed file of `documents`, into `set`.
void extract_workloads(const std::vector<const ManifestReader::Document*>& documents, ManifestSet& set);

}  // namespace vramcalc
