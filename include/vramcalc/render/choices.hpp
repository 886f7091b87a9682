// The closed sets a run's output is chosen from: the output formats (--format) and the ready-to-run artefacts
// (--emit, a profile's outputs.emit). Options, completions, profiles and help all read these tables: a new format
// or artefact is one row here and its renderer. The memory models (--engine, --estimator) are engines/method.hpp.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace vramcalc {

enum class Format { Table, Json, Csv, Markdown };

struct FormatInfo {
  Format format;
  std::string_view name;   // as --format takes it and error messages list it
  std::string_view alias;  // another spelling --format accepts, or ""
  bool listings;           // `vram-calc skus` and `vram-calc models` print it too (not only plans)
  std::string_view use;    // what it is for, as --help says after the alias, or ""
};

inline constexpr std::array<FormatInfo, 4> kFormats = {{
    {Format::Table, "table", "", true, ""},
    {Format::Json, "json", "", true, ""},
    {Format::Csv, "csv", "", false, ""},
    {Format::Markdown, "markdown", "md", false, "for pull-request comments and CI summaries"},
}};

constexpr const FormatInfo& format_info(Format f) {
  for (const auto& info : kFormats)
    if (info.format == f) return info;
  return kFormats[0];
}

// The format a --format value names (its name or its alias, exactly as written), or nullopt.
constexpr std::optional<Format> format_named(std::string_view name) {
  for (const auto& info : kFormats)
    if (info.name == name || (!info.alias.empty() && info.alias == name)) return info.format;
  return std::nullopt;
}

enum class Emit { VllmArgs, VllmCommand, TgiCommand, K8s };

struct EmitInfo {
  Emit emit;
  std::string_view name;    // as --emit and a profile's outputs.emit take it
  std::string_view engine;  // the --engine it needs (an engine name of engines/method.hpp), or "" for either
};

inline constexpr std::array<EmitInfo, 4> kEmits = {{
    {Emit::VllmArgs, "vllm-args", "vllm"},        // the flags after `vllm serve MODEL`
    {Emit::VllmCommand, "vllm-command", "vllm"},  // the whole `vllm serve` command
    {Emit::TgiCommand, "tgi-command", "tgi"},     // the `text-generation-launcher` command
    {Emit::K8s, "k8s", ""},                       // a minimal Kubernetes Deployment
}};

// vllm-wizard's spellings of the same artefacts, which a profile's outputs.emit accepts too (--emit does not).
// In the order error messages list them.
struct EmitAlias {
  std::string_view alias;
  Emit emit;
};

inline constexpr std::array<EmitAlias, 5> kEmitAliases = {{
    {"command", Emit::VllmCommand},
    {"kubernetes", Emit::K8s},
    {"vllm_args", Emit::VllmArgs},
    {"vllm_command", Emit::VllmCommand},
    {"tgi_command", Emit::TgiCommand},
}};

constexpr const EmitInfo& emit_info(Emit e) {
  for (const auto& info : kEmits)
    if (info.emit == e) return info;
  return kEmits[0];
}

// The artefact a canonical name (as --emit takes it) names, or nullopt.
constexpr std::optional<Emit> emit_named(std::string_view name) {
  for (const auto& info : kEmits)
    if (info.name == name) return info.emit;
  return std::nullopt;
}

}  // namespace vramcalc
