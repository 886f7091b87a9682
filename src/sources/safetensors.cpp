#include "vramcalc/safetensors.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include "vramcalc/dtype.hpp"
#include "vramcalc/json_relaxed.hpp"

namespace vramcalc {
namespace {

using nlohmann::json;

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > kU64Max / a) return std::nullopt;
  return a * b;
}

std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
  if (b > kU64Max - a) return std::nullopt;
  return a + b;
}

// Tensor names come from the file: keep messages on one line and of bounded length.
std::string printable(std::string_view name) {
  constexpr std::size_t kMax = 120;
  std::string out;
  for (char c : name.substr(0, kMax)) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  if (name.size() > kMax) out += "...";
  return out;
}

// A JSON value that is a non-negative integer (nlohmann stores parsed non-negative integers as unsigned).
std::optional<std::uint64_t> as_u64(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  return std::nullopt;
}

// Bytes that `elements` elements of `dtype` occupy, when the dtype's size is known. Sub-byte dtypes
// (F4/I4/U4) are packed two to a byte, rounded up per tensor. nullopt: unknown dtype.
// Sets `overflow` when the product does not fit in 64 bits.
std::optional<std::uint64_t> expected_bytes(std::string_view dtype, std::uint64_t elements, bool& overflow) {
  overflow = false;
  const std::optional<double> size = safetensors_dtype_bytes(dtype);
  if (!size || *size <= 0) return std::nullopt;
  if (*size < 1) {
    // Only half-byte dtypes exist below one byte.
    return elements / 2 + elements % 2;
  }
  auto product = checked_mul(elements, static_cast<std::uint64_t>(*size));
  if (!product) overflow = true;
  return product;
}

void add_to(std::map<std::string, std::uint64_t>& totals, const std::string& key, std::uint64_t value,
            std::string_view origin, ExitCode on_error) {
  auto sum = checked_add(totals[key], value);
  if (!sum) throw Error(on_error, fmt::format("{}: {} totals overflow 64 bits", origin, printable(key)));
  totals[key] = *sum;
}

struct TensorErrors {
  std::string where;  // "<origin>: tensor <name>"
  ExitCode code;
  [[noreturn]] void fail(const std::string& what) const { throw Error(code, fmt::format("{}: {}", where, what)); }
};

TensorInfo parse_tensor(const std::string& name, const json& entry, std::string_view origin, ExitCode on_error) {
  const TensorErrors errors{fmt::format("{}: tensor {}", origin, printable(name)), on_error};

  if (!entry.is_object()) errors.fail("entry is not a JSON object");

  TensorInfo t;
  t.name = name;

  const auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string()) errors.fail("\"dtype\" is missing or not a string");
  t.dtype = dtype->get<std::string>();

  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array()) errors.fail("\"shape\" is missing or not an array");
  t.elements = 1;
  for (const auto& dim : *shape) {
    const auto d = as_u64(dim);
    if (!d)
      errors.fail(fmt::format("\"shape\" has {}; dimensions must be non-negative integers", printable(dim.dump())));
    t.shape.push_back(*d);
    const auto product = checked_mul(t.elements, *d);
    if (!product) errors.fail(fmt::format("shape {} has more elements than fit in 64 bits", printable(shape->dump())));
    t.elements = *product;
  }

  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2)
    errors.fail("\"data_offsets\" is missing or not an array of two integers");
  const auto begin = as_u64((*offsets)[0]);
  const auto end = as_u64((*offsets)[1]);
  if (!begin || !end) errors.fail("\"data_offsets\" must be two non-negative integers");
  if (*begin > *end) errors.fail(fmt::format("data_offsets [{}, {}] end before they begin", *begin, *end));
  t.bytes = *end - *begin;

  bool overflow = false;
  const auto expected = expected_bytes(t.dtype, t.elements, overflow);
  if (overflow)
    errors.fail(
        fmt::format("shape {} × {} is more bytes than fit in 64 bits", printable(shape->dump()), printable(t.dtype)));
  if (expected && *expected != t.bytes)
    errors.fail(fmt::format("data_offsets cover {} bytes but shape × dtype is {}", t.bytes, *expected));
  return t;
}

}  // namespace

std::uint64_t safetensors_header_length(const unsigned char* prefix8, std::string_view origin, ExitCode on_error) {
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<std::uint64_t>(prefix8[i]);
  if (length == 0) throw Error(on_error, fmt::format("{}: safetensors header length is 0", origin));
  if (length > kMaxSafetensorsHeaderBytes)
    throw Error(on_error, fmt::format("{}: safetensors header length {} is over the {}-byte limit (not a safetensors "
                                      "file?)",
                                      origin, length, kMaxSafetensorsHeaderBytes));
  return length;
}

SafetensorsSummary parse_safetensors_header(std::string_view header_json, std::string_view origin, ExitCode on_error) {
  // The header is padded to 8 bytes; the reference writer pads with spaces, and NUL padding is tolerated too (the
  // JSON parser refuses NUL bytes anywhere else).
  while (!header_json.empty() && header_json.back() == '\0') header_json.remove_suffix(1);
  const json header = parse_json_relaxed(header_json, origin, on_error);
  if (!header.is_object()) throw Error(on_error, fmt::format("{}: safetensors header is not a JSON object", origin));

  SafetensorsSummary summary;
  summary.files = 1;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        throw Error(on_error, fmt::format("{}: safetensors \"__metadata__\" is not a JSON object", origin));
      for (const auto& [key, value] : entry.items()) {
        if (value.is_string()) summary.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    TensorInfo t = parse_tensor(name, entry, origin, on_error);
    add_to(summary.bytes_by_dtype, t.dtype, t.bytes, origin, on_error);
    add_to(summary.elements_by_dtype, t.dtype, t.elements, origin, on_error);
    const auto bytes = checked_add(summary.total_bytes, t.bytes);
    const auto elements = checked_add(summary.total_elements, t.elements);
    if (!bytes || !elements) throw Error(on_error, fmt::format("{}: safetensors totals overflow 64 bits", origin));
    summary.total_bytes = *bytes;
    summary.total_elements = *elements;
    summary.tensors.push_back(std::move(t));
    ++summary.tensor_count;
  }
  return summary;
}

SafetensorsSummary read_safetensors_file(const std::filesystem::path& file) {
  const std::string origin = file.string();
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw Error(ExitCode::BadInput,
                fmt::format("{}: cannot read: {}", origin, ec ? ec.message() : std::string("no such file")));
  }
  if (std::filesystem::is_directory(status))
    throw Error(ExitCode::BadInput, fmt::format("{}: cannot read: is a directory", origin));

  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ExitCode::BadInput, fmt::format("{}: cannot read: {}", origin, std::strerror(errno)));

  std::array<unsigned char, 8> prefix{};
  in.read(reinterpret_cast<char*>(prefix.data()), static_cast<std::streamsize>(prefix.size()));
  if (in.gcount() != static_cast<std::streamsize>(prefix.size())) {
    throw Error(ExitCode::BadInput, fmt::format("{}: truncated safetensors file: {} bytes, shorter than the 8-byte "
                                                "header length",
                                                origin, in.gcount()));
  }
  // Checked against the limit before anything is allocated.
  const std::uint64_t length = safetensors_header_length(prefix.data(), origin, ExitCode::BadInput);

  // For a regular file, compare with its size before allocating the header buffer.
  if (std::filesystem::is_regular_file(status)) {
    const std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (!ec && size < 8 + length) {
      throw Error(ExitCode::BadInput, fmt::format("{}: truncated safetensors file: the header needs {} bytes but the "
                                                  "file has {}",
                                                  origin, 8 + length, size));
    }
  }

  std::string header(static_cast<std::size_t>(length), '\0');
  in.read(header.data(), static_cast<std::streamsize>(length));
  if (static_cast<std::uint64_t>(in.gcount()) != length) {
    throw Error(ExitCode::BadInput, fmt::format("{}: truncated safetensors file: the header needs {} bytes but only {} "
                                                "could be read",
                                                origin, 8 + length, 8 + in.gcount()));
  }
  return parse_safetensors_header(header, origin, ExitCode::BadInput);
}

void merge_summary(SafetensorsSummary& into, const SafetensorsSummary& from) {
  // Compute everything first so `into` is unchanged when a sum overflows.
  auto overflow = [] { throw Error(ExitCode::BadInput, "safetensors totals overflow 64 bits while merging files"); };
  auto merged_map = [&](const std::map<std::string, std::uint64_t>& a, const std::map<std::string, std::uint64_t>& b) {
    std::map<std::string, std::uint64_t> out = a;
    for (const auto& [key, value] : b) {
      auto sum = checked_add(out[key], value);
      if (!sum) overflow();
      out[key] = *sum;
    }
    return out;
  };
  auto bytes_by_dtype = merged_map(into.bytes_by_dtype, from.bytes_by_dtype);
  auto elements_by_dtype = merged_map(into.elements_by_dtype, from.elements_by_dtype);
  const auto total_bytes = checked_add(into.total_bytes, from.total_bytes);
  const auto total_elements = checked_add(into.total_elements, from.total_elements);
  const auto files = checked_add(into.files, from.files);
  if (!total_bytes || !total_elements || !files) overflow();

  if (into.files == 0 && into.metadata.empty()) into.metadata = from.metadata;
  into.tensors.insert(into.tensors.end(), from.tensors.begin(), from.tensors.end());
  into.tensor_count += from.tensor_count;
  into.bytes_by_dtype = std::move(bytes_by_dtype);
  into.elements_by_dtype = std::move(elements_by_dtype);
  into.total_bytes = *total_bytes;
  into.total_elements = *total_elements;
  into.files = *files;
}

}  // namespace vramcalc
