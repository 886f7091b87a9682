// Reading Kubernetes YAML streams for `vram-calc check` (sources/manifest.hpp): the documents of every input, with
// their positions; the workload kinds are read in manifest_kinds.cpp.
#include "sources/manifest_internal.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "sources/files.hpp"
#include "sources/yaml_documents.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/core/printable.hpp"

namespace fs = std::filesystem;

namespace vramcalc {

namespace {

std::string one_line(std::string_view text) { return printable_line(std::string(text)); }

}  // namespace

void ManifestReader::add(std::string_view text, const std::string& file) {
  files_.push_back(file);
  const std::string copy(text);
  std::vector<YAML::Mark> starts;
  try {
    std::istringstream in(copy);
    YAML::Parser parser(in);
    detail::DocumentStarts events;
    while (parser.HandleNextDocument(events)) {
      const auto n = events.starts.size();
      if (n >= 2 && events.starts[n - 1].pos == events.starts[n - 2].pos)
        throw YAML::ParserException(events.starts[n - 1], "unexpected token");
      if (documents_.size() + n > limits::kMaxManifestDocuments)
        throw YAML::ParserException(events.starts[n - 1],
                                    fmt::format("over {} documents in all inputs", limits::kMaxManifestDocuments));
    }
    starts = std::move(events.starts);
    std::vector<YAML::Node> roots = YAML::LoadAll(copy);
    for (std::size_t i = 0; i < roots.size(); ++i) {
      const int line = i < starts.size() ? starts[i].line + 1 : 1;
      documents_.push_back(std::make_shared<const Document>(Document{roots[i], ManifestPlace{file, i, line}}));
    }
  } catch (const YAML::DeepRecursion& e) {
    errors_.push_back({ManifestPlace{file, starts.size(), e.mark.line + 1}, "malformed YAML: nesting too deep"});
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    errors_.push_back({ManifestPlace{file, 0, line}, "malformed YAML: " + one_line(e.msg)});
  }
}

void ManifestReader::add_path(const std::string& path) {
  if (path == "-") {
    std::string text;
    char buffer[65536];
    while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
      text.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
      if (text.size() > limits::kMaxManifestBytes) {
        files_.push_back("-");
        errors_.push_back({ManifestPlace{"-", 0, 0}, fmt::format("standard input is over the {} limit for manifests",
                                                                 detail::describe_limit(limits::kMaxManifestBytes))});
        return;
      }
    }
    add(text, "-");
    return;
  }
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) {
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) found.push_back(it->path().string());
      if (found.size() > limits::kMaxManifestFiles) break;
    }
    if (ec) {
      errors_.push_back({ManifestPlace{path, 0, 0}, "cannot read the directory: " + ec.message()});
      files_.push_back(path);
      return;
    }
    if (found.size() > limits::kMaxManifestFiles) {
      errors_.push_back(
          {ManifestPlace{path, 0, 0}, fmt::format("over {} YAML files under it", limits::kMaxManifestFiles)});
      files_.push_back(path);
      return;
    }
    std::sort(found.begin(), found.end());
    for (const auto& f : found) add_path(f);
    return;
  }
  const detail::FileRead read = detail::read_regular_file(p, limits::kMaxManifestBytes, "manifests");
  if (!read.text) {
    files_.push_back(path);
    errors_.push_back({ManifestPlace{path, 0, 0}, "cannot read: " + read.problem});
    return;
  }
  add(*read.text, path);
}

ManifestSet ManifestReader::read() const {
  ManifestSet set;
  set.files = files_;
  set.errors = errors_;
  std::vector<const Document*> docs;
  docs.reserve(documents_.size());
  for (const auto& d : documents_) docs.push_back(d.get());
  extract_workloads(docs, set);
  return set;
}

}  // namespace vramcalc
