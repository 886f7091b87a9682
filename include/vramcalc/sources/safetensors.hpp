// Reading safetensors headers: an 8-byte little-endian length, then that many bytes of JSON
// mapping tensor names to {dtype, shape, data_offsets}, plus an optional "__metadata__".
// Only headers are read; tensor data never is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/limits.hpp"

namespace vramcalc {

// The caps on headers (include/vramcalc/limits.hpp says why each is what it is).
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = limits::kMaxSafetensorsHeaderBytes;
inline constexpr std::size_t kMaxSafetensorsDtypes = limits::kMaxSafetensorsDtypes;
inline constexpr std::size_t kMaxSafetensorsMetadataEntries = limits::kMaxSafetensorsMetadataEntries;

// What a set of headers holds, as totals: headers are read entry by entry and no per-tensor record is kept, so
// memory does not grow with the number of tensors.
struct SafetensorsSummary {
  std::map<std::string, std::uint64_t> bytes_by_dtype;     // "BF16" -> bytes (dtype as written in the header)
  std::map<std::string, std::uint64_t> elements_by_dtype;  // "BF16" -> elements
  std::uint64_t total_bytes = 0;
  std::uint64_t total_elements = 0;
  std::uint64_t tensor_count = 0;
  std::uint64_t files = 0;                      // number of headers merged into this summary
  std::map<std::string, std::string> metadata;  // "__metadata__" of the first file (string values)
};

// Decodes the 8-byte little-endian header length. Throws Error(on_error) naming `origin` when the
// length is zero or over kMaxSafetensorsHeaderBytes.
std::uint64_t safetensors_header_length(const unsigned char* prefix8, std::string_view origin,
                                        ExitCode on_error = ExitCode::BadInput);

// Parses the JSON header. Validates every entry (dtype string, non-negative integer shape, two ordered
// data_offsets, offsets consistent with shape x dtype size where the dtype is known, no 64-bit overflow, no name
// twice) and throws Error(on_error, "<origin>: ...") on the first problem. Nesting deeper than
// limits::kMaxJsonDepth is malformed. Memory: the text plus one entry, whatever the number of tensors.
SafetensorsSummary parse_safetensors_header(std::string_view header_json, std::string_view origin,
                                            ExitCode on_error = ExitCode::BadInput);

// Reads the header of a local .safetensors file (prefix + header only). Errors are BadInput.
SafetensorsSummary read_safetensors_file(const std::filesystem::path& file);

// Adds `from` into `into` (per-dtype totals, tensor and file counts). Checked for overflow and kMaxSafetensorsDtypes.
void merge_summary(SafetensorsSummary& into, const SafetensorsSummary& from);

}  // namespace vramcalc
