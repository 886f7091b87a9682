#include "vramcalc/sources/safetensors.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <system_error>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vramcalc/core/dtype.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/limits.hpp"

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

// Adds `value` to `totals[key]`, refusing a key beyond kMaxSafetensorsDtypes and a sum that overflows.
void add_to(std::map<std::string, std::uint64_t>& totals, const std::string& key, std::uint64_t value,
            std::string_view origin, ExitCode on_error) {
  auto it = totals.find(key);
  if (it == totals.end()) {
    if (totals.size() >= kMaxSafetensorsDtypes)
      throw Error(on_error, fmt::format("{}: more than {} different dtypes (a model uses a handful)", origin,
                                        kMaxSafetensorsDtypes));
    it = totals.emplace(key, 0).first;
  }
  auto sum = checked_add(it->second, value);
  if (!sum) throw Error(on_error, fmt::format("{}: {} totals overflow 64 bits", origin, printable(key)));
  it->second = *sum;
}

// Tensor names seen so far in one header, as 128-bit fingerprints (two independent 64-bit hashes) rather than
// copies of the names. A name given twice is refused: a JSON object keeps only one of them, so the totals would
// depend on the reader.
class NameSet {
 public:
  // false when `name` was inserted before.
  bool insert(std::string_view name) { return seen_.insert(fingerprint(name)).second; }

 private:
  struct Fingerprint {
    std::uint64_t a, b;
    bool operator==(const Fingerprint& other) const { return a == other.a && b == other.b; }
  };
  struct FirstHalf {
    std::size_t operator()(const Fingerprint& f) const noexcept { return f.a; }
  };
  static Fingerprint fingerprint(std::string_view name) {
    std::uint64_t fnv = 14695981039346656037ull;  // FNV-1a, independent of std::hash (murmur in libstdc++)
    for (const char c : name) fnv = (fnv ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return {std::hash<std::string_view>{}(name), fnv};
  }
  std::unordered_set<Fingerprint, FirstHalf> seen_;
};

// The members of a tensor entry that are checked; the others are skipped.
enum class Field { Other, Dtype, Shape, Offsets };

// One tensor entry while it is read: only what its checks need, never the whole shape (a hostile shape can have
// millions of dimensions). Fields given twice keep the last value, as a JSON object would.
struct Entry {
  std::string name;
  std::optional<std::string> dtype;  // nullopt: missing or not a string
  bool shape_is_array = false;
  std::uint64_t shape_dims = 0;
  std::uint64_t elements = 1;
  std::optional<std::string> bad_dim;  // the first dimension that is not a non-negative integer, as written
  bool elements_overflow = false;      // the product overflowed before any bad dimension
  std::string shape_shown;             // the shape as written, cut a little past what messages show
  bool offsets_is_array = false;
  std::size_t offsets_count = 0;
  std::array<std::optional<std::uint64_t>, 2> offsets;  // the first two; nullopt: not a non-negative integer

  void start_shape() {
    shape_is_array = true;
    shape_dims = 0;
    elements = 1;
    bad_dim.reset();
    elements_overflow = false;
    shape_shown = "[";
  }
  void start_offsets() {
    offsets_is_array = true;
    offsets_count = 0;
    offsets = {};
  }
};

constexpr std::size_t kShownChars = 121;  // printable() shows 120 and marks anything longer

// Adds one dimension: a scalar, or (`scalar` null) an array or an object, never a valid dimension. Dumps only what
// a message may show: a hostile shape can have tens of millions of dimensions.
void add_dim(Entry& e, const json* scalar, bool container_is_array = false) {
  if (e.shape_shown.size() < kShownChars) {
    if (e.shape_dims > 0) e.shape_shown += ',';
    e.shape_shown += scalar ? scalar->dump() : std::string(container_is_array ? "[...]" : "{...}");
  }
  ++e.shape_dims;
  if (e.bad_dim || e.elements_overflow) return;  // only the first problem is reported
  const auto d = scalar ? as_u64(*scalar) : std::nullopt;
  if (!d) {
    e.bad_dim = scalar ? scalar->dump() : std::string(container_is_array ? "an array" : "an object");
    return;
  }
  const auto product = checked_mul(e.elements, *d);
  if (product) e.elements = *product;
  else e.elements_overflow = true;
}

void add_offset(Entry& e, const json* scalar) {
  if (e.offsets_count < e.offsets.size()) e.offsets[e.offsets_count] = scalar ? as_u64(*scalar) : std::nullopt;
  ++e.offsets_count;
}

struct TensorErrors {
  std::string where;  // "<origin>: tensor <name>"
  ExitCode code;
  [[noreturn]] void fail(const std::string& what) const { throw Error(code, fmt::format("{}: {}", where, what)); }
};

// Checks a whole entry, in the order the checks were always made, and adds it to `summary`.
void add_entry(const Entry& e, SafetensorsSummary& summary, std::string_view origin, ExitCode on_error) {
  const TensorErrors errors{fmt::format("{}: tensor {}", origin, printable(e.name)), on_error};
  if (!e.dtype) errors.fail("\"dtype\" is missing or not a string");
  if (!e.shape_is_array) errors.fail("\"shape\" is missing or not an array");
  const std::string shape = e.shape_shown.size() < kShownChars ? e.shape_shown + "]" : e.shape_shown;
  if (e.bad_dim)
    errors.fail(fmt::format("\"shape\" has {}; dimensions must be non-negative integers", printable(*e.bad_dim)));
  if (e.elements_overflow) errors.fail(fmt::format("shape {} has more elements than fit in 64 bits", printable(shape)));
  if (!e.offsets_is_array || e.offsets_count != 2)
    errors.fail("\"data_offsets\" is missing or not an array of two integers");
  const auto& [begin, end] = e.offsets;
  if (!begin || !end) errors.fail("\"data_offsets\" must be two non-negative integers");
  if (*begin > *end) errors.fail(fmt::format("data_offsets [{}, {}] end before they begin", *begin, *end));
  const std::uint64_t bytes = *end - *begin;

  bool overflow = false;
  const auto expected = expected_bytes(*e.dtype, e.elements, overflow);
  if (overflow)
    errors.fail(fmt::format("shape {} × {} is more bytes than fit in 64 bits", printable(shape), printable(*e.dtype)));
  if (expected && *expected != bytes)
    errors.fail(fmt::format("data_offsets cover {} bytes but shape × dtype is {}", bytes, *expected));

  add_to(summary.bytes_by_dtype, *e.dtype, bytes, origin, on_error);
  add_to(summary.elements_by_dtype, *e.dtype, e.elements, origin, on_error);
  const auto total_bytes = checked_add(summary.total_bytes, bytes);
  const auto total_elements = checked_add(summary.total_elements, e.elements);
  if (!total_bytes || !total_elements)
    throw Error(on_error, fmt::format("{}: safetensors totals overflow 64 bits", origin));
  summary.total_bytes = *total_bytes;
  summary.total_elements = *total_elements;
  ++summary.tensor_count;
}

// Reads a header as nlohmann's parser walks it (SAX): each tensor entry is checked and added to the totals when
// it closes, and only that entry is held, so memory stays at the text plus one entry however many tensors there
// are (the DOM took several times the text). Depth counts open containers: 1 is the header object, 2 a tensor
// entry or "__metadata__", 3 an array inside an entry.
class HeaderReader : public nlohmann::json_sax<json> {
 public:
  HeaderReader(std::string_view origin, ExitCode on_error, SafetensorsSummary& summary)
      : origin_(origin), on_error_(on_error), summary_(summary) {}

  bool null() override { return scalar(json(nullptr)); }
  bool boolean(bool val) override { return scalar(json(val)); }
  bool number_integer(number_integer_t val) override { return scalar(json(val)); }
  bool number_unsigned(number_unsigned_t val) override { return scalar(json(val)); }
  bool number_float(number_float_t val, const string_t& /*raw*/) override { return scalar(json(val)); }
  bool string(string_t& val) override { return scalar(json(std::move(val))); }
  bool binary(binary_t& /*val*/) override { return scalar(json(nullptr)); }  // JSON text has no binary values
  bool start_object(std::size_t /*elements*/) override { return open(false); }
  bool start_array(std::size_t /*elements*/) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& val) override;
  bool parse_error(std::size_t position, const std::string& /*last_token*/, const json::exception& ex) override {
    error_position_ = position;
    error_what_ = ex.what();
    return false;
  }

  [[nodiscard]] bool too_deep() const { return too_deep_; }
  [[nodiscard]] std::size_t error_position() const { return error_position_; }
  [[nodiscard]] const std::string& error_what() const { return error_what_; }

 private:
  bool scalar(json value);
  bool open(bool is_array);
  bool close();
  [[noreturn]] void fail_not_object() const;

  std::string_view origin_;
  ExitCode on_error_;
  SafetensorsSummary& summary_;
  NameSet names_;
  std::size_t depth_ = 0;
  std::string root_key_;      // the tensor name (or "__metadata__") whose value is being read
  bool in_metadata_ = false;  // that value is "__metadata__"
  Entry entry_;
  Field field_ = Field::Other;  // the entry's key being read
  Field array_ = Field::Other;  // the entry's array being read ("shape" or "data_offsets")
  std::string metadata_key_;
  bool too_deep_ = false;
  std::size_t error_position_ = 0;
  std::string error_what_;
};

[[noreturn]] void HeaderReader::fail_not_object() const {
  if (depth_ == 0) throw Error(on_error_, fmt::format("{}: safetensors header is not a JSON object", origin_));
  if (root_key_ == "__metadata__")
    throw Error(on_error_, fmt::format("{}: safetensors \"__metadata__\" is not a JSON object", origin_));
  throw Error(on_error_, fmt::format("{}: tensor {}: entry is not a JSON object", origin_, printable(root_key_)));
}

bool HeaderReader::key(string_t& val) {
  if (depth_ == 1) {
    if (!names_.insert(val))
      throw Error(on_error_, fmt::format("{}: {} appears twice in the safetensors header", origin_, printable(val)));
    root_key_ = std::move(val);
  } else if (depth_ == 2 && in_metadata_) {
    metadata_key_ = std::move(val);
  } else if (depth_ == 2) {
    field_ = val == "dtype"          ? Field::Dtype
             : val == "shape"        ? Field::Shape
             : val == "data_offsets" ? Field::Offsets
                                     : Field::Other;
  }
  return true;
}

bool HeaderReader::scalar(json value) {
  if (depth_ <= 1) fail_not_object();
  if (depth_ == 2 && in_metadata_) {
    auto& metadata = summary_.metadata;
    if (value.is_string() && (metadata.size() < kMaxSafetensorsMetadataEntries || metadata.contains(metadata_key_)))
      metadata[metadata_key_] = std::move(value.get_ref<std::string&>());
  } else if (depth_ == 2) {
    // A scalar where an entry expects a string or an array.
    if (field_ == Field::Dtype)
      entry_.dtype =
          value.is_string() ? std::optional<std::string>(std::move(value.get_ref<std::string&>())) : std::nullopt;
    if (field_ == Field::Shape) entry_.shape_is_array = false;
    if (field_ == Field::Offsets) entry_.offsets_is_array = false;
  } else if (depth_ == 3 && array_ == Field::Shape) {
    add_dim(entry_, &value);
  } else if (depth_ == 3 && array_ == Field::Offsets) {
    add_offset(entry_, &value);
  }
  return true;
}

bool HeaderReader::open(bool is_array) {
  if (depth_ >= limits::kMaxJsonDepth) {
    too_deep_ = true;
    return false;
  }
  if (depth_ == 0 && is_array) fail_not_object();
  if (depth_ == 1) {
    if (is_array) fail_not_object();
    in_metadata_ = root_key_ == "__metadata__";
    if (!in_metadata_) {
      entry_ = Entry{};
      entry_.name = std::move(root_key_);
    }
  } else if (depth_ == 2 && !in_metadata_) {
    // A container where an entry expects a string or an array.
    array_ = is_array && (field_ == Field::Shape || field_ == Field::Offsets) ? field_ : Field::Other;
    if (field_ == Field::Dtype) entry_.dtype.reset();
    if (field_ == Field::Shape && is_array) entry_.start_shape();
    if (field_ == Field::Shape && !is_array) entry_.shape_is_array = false;
    if (field_ == Field::Offsets && is_array) entry_.start_offsets();
    if (field_ == Field::Offsets && !is_array) entry_.offsets_is_array = false;
  } else if (depth_ == 3 && array_ == Field::Shape) {
    add_dim(entry_, nullptr, is_array);
  } else if (depth_ == 3 && array_ == Field::Offsets) {
    add_offset(entry_, nullptr);
  }
  ++depth_;
  return true;
}

bool HeaderReader::close() {
  if (depth_ == 3) array_ = Field::Other;
  if (depth_ == 2 && !in_metadata_) add_entry(entry_, summary_, origin_, on_error_);
  if (depth_ == 2) in_metadata_ = false;
  --depth_;
  return true;
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
  // The header is padded to 8 bytes; the reference writer pads with spaces, and NUL padding is tolerated too. A NUL
  // anywhere else is malformed: nlohmann's lexer would take it for the end of the input.
  while (!header_json.empty() && header_json.back() == '\0') header_json.remove_suffix(1);
  if (const auto nul = header_json.find('\0'); nul != std::string_view::npos)
    throw_malformed_json(header_json, nul, "a NUL byte (JSON text cannot contain one)", origin, on_error);

  SafetensorsSummary summary;
  summary.files = 1;
  HeaderReader reader(origin, on_error, summary);
  // Strict JSON: unlike config.json files, headers are written by the safetensors library (serde_json), which
  // never writes Python's NaN/Infinity and refuses them when loading, so they are malformed here.
  if (!json::sax_parse(header_json.data(), header_json.data() + header_json.size(), &reader)) {
    if (reader.too_deep())
      throw_malformed_json(header_json, json_nesting_overflow_at(header_json),
                           fmt::format("nested deeper than {} levels", limits::kMaxJsonDepth), origin, on_error);
    // nlohmann reports the 1-based count of characters read; the offending character is the last one read.
    const std::size_t offset = reader.error_position() > 0 ? reader.error_position() - 1 : 0;
    throw_malformed_json(header_json, offset, json_error_reason(reader.error_what()), origin, on_error);
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
    for (const auto& [key, value] : b) add_to(out, key, value, "safetensors files", ExitCode::BadInput);
    return out;
  };
  auto bytes_by_dtype = merged_map(into.bytes_by_dtype, from.bytes_by_dtype);
  auto elements_by_dtype = merged_map(into.elements_by_dtype, from.elements_by_dtype);
  const auto total_bytes = checked_add(into.total_bytes, from.total_bytes);
  const auto total_elements = checked_add(into.total_elements, from.total_elements);
  const auto tensor_count = checked_add(into.tensor_count, from.tensor_count);
  const auto files = checked_add(into.files, from.files);
  if (!total_bytes || !total_elements || !tensor_count || !files) overflow();

  if (into.files == 0 && into.metadata.empty()) into.metadata = from.metadata;
  into.tensor_count = *tensor_count;
  into.bytes_by_dtype = std::move(bytes_by_dtype);
  into.elements_by_dtype = std::move(elements_by_dtype);
  into.total_bytes = *total_bytes;
  into.total_elements = *total_elements;
  into.files = *files;
}

}  // namespace vramcalc
