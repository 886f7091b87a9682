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
#include <vector>

#include "vramcalc/error.hpp"

namespace vramcalc {

// Headers longer than this are refused before anything is allocated.
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

struct TensorInfo {
  std::string name;
  std::string dtype;  // as written in the header: "BF16", "F8_E4M3", "U8", ...
  std::vector<std::uint64_t> shape;
  std::uint64_t elements = 0;  // product of shape (1 for a scalar)
  std::uint64_t bytes = 0;     // data_offsets[1] - data_offsets[0]
};

struct SafetensorsSummary {
  std::vector<TensorInfo> tensors;
  std::map<std::string, std::uint64_t> bytes_by_dtype;     // "BF16" -> bytes
  std::map<std::string, std::uint64_t> elements_by_dtype;  // "BF16" -> elements
  std::uint64_t total_bytes = 0;
  std::uint64_t total_elements = 0;
  std::uint64_t tensor_count = 0;               // kept when `tensors` is dropped (cached summaries)
  std::uint64_t files = 0;                      // number of headers merged into this summary
  std::map<std::string, std::string> metadata;  // "__metadata__" of the first file (string values)
};

// Decodes the 8-byte little-endian header length. Throws Error(on_error) naming `origin` when the
// length is zero or over kMaxSafetensorsHeaderBytes.
std::uint64_t safetensors_header_length(const unsigned char* prefix8, std::string_view origin,
                                        ExitCode on_error = ExitCode::BadInput);

// Parses the JSON header. Validates every entry (dtype string, non-negative integer shape, two ordered
// data_offsets, offsets consistent with shape x dtype size where the dtype is known, no 64-bit overflow)
// and throws Error(on_error, "<origin>: ...") on the first problem.
SafetensorsSummary parse_safetensors_header(std::string_view header_json, std::string_view origin,
                                            ExitCode on_error = ExitCode::BadInput);

// Reads the header of a local .safetensors file (prefix + header only). Errors are BadInput.
SafetensorsSummary read_safetensors_file(const std::filesystem::path& file);

// Adds `from` into `into` (tensors, per-dtype totals, file count). Checked for overflow.
void merge_summary(SafetensorsSummary& into, const SafetensorsSummary& from);

}  // namespace vramcalc
