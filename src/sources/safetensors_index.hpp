// What a model.safetensors.index.json says, read without building its DOM. Private to src/sources.
//
// Real indexes reach 13 MiB (hundreds of thousands of tensor names) and the cap is limits::kMaxIndexBytes;
// as an nlohmann DOM, a hostile index of that size took 13 to 16 times its size in memory (a weight_map of
// a million tiny entries, or an array of zeros). Read as SAX events, only the per-shard totals are kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "vramcalc/core/error.hpp"

namespace vramcalc::detail {

// The members the sources read, with enough about their shape for each caller to apply its own rules.
struct SafetensorsIndexFacts {
  bool is_object = false;  // the document is a JSON object (nothing below is set otherwise)

  enum class Shape { Absent, Null, Object, Other };
  Shape metadata = Shape::Absent;
  bool has_total_size = false;              // metadata.total_size is present, whatever its value
  std::optional<std::uint64_t> total_size;  // ... and is a non-negative integer (an integral float counts)
  std::string total_size_json;              // its JSON spelling (scalars; "[...]"/"{...}" for containers)

  Shape weight_map = Shape::Absent;
  std::uint64_t tensors = 0;                    // weight_map entries
  std::map<std::string, std::uint64_t> shards;  // file name -> sum over its tensors of (name length + 100)
  std::optional<std::string> non_string_entry;  // the first tensor whose file is not a string
  std::optional<std::string> empty_entry;       // the first tensor whose file is ""
};

// Reads `text`. Malformed JSON (over-deep nesting included) throws the same Error parse_json_relaxed does,
// with `origin` and `on_error`. A member that appears twice counts twice (a DOM keeps the last).
SafetensorsIndexFacts read_safetensors_index_facts(std::string_view text, std::string_view origin, ExitCode on_error);

// A local index file (a model directory, the Hugging Face cache): read within limits::kMaxIndexBytes, and refused
// with Error(BadInput) naming `shown` when it is not a JSON object.
SafetensorsIndexFacts read_local_safetensors_index(const std::filesystem::path& file, const std::string& shown);

// metadata.total_size by the local sources' rules: nullopt when there is none; Error(BadInput) naming `shown` when
// "metadata" is neither null nor an object, or total_size is not a non-negative integer.
std::optional<std::uint64_t> local_index_total(const SafetensorsIndexFacts& facts, const std::string& shown);

}  // namespace vramcalc::detail
