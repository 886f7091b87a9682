// The pure part of the Hub client: how response bodies and headers are read, apart from the requests that fetch
// them. Private to src/sources/hub.cpp (which defines these) and exposed only so the fuzz targets and tests can
// drive them without a server. Every failure is a RemoteError (exit 3) naming `origin`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vramcalc/core/limits.hpp"

namespace vramcalc::hub_detail {

// A config or index body as a JSON object: refused when the body was capped (at `limit`, named in the message),
// malformed or not an object.
nlohmann::json parse_json_body(const std::string& body, bool capped, const std::string& origin,
                               std::size_t limit = limits::kMaxIndexBytes);

// What model.safetensors.index.json tells: metadata.total_size, and each shard named in weight_map with an
// estimate of its header's size (each tensor entry is its name plus about 100 bytes of dtype, shape, offsets).
struct SafetensorsIndex {
  std::optional<std::uint64_t> total_size;
  std::map<std::string, std::size_t> shards;
};
// Read from the body as events, without a DOM (src/sources/safetensors_index.hpp); refused when the body was capped.
SafetensorsIndex read_safetensors_index(const std::string& body, bool capped, const std::string& origin);

// The first range to request of a shard whose header is estimated at `estimate` bytes: with margin, so that
// it usually holds the whole header, between 16 KiB and kSpeculativeRangeBytes.
std::size_t shard_first_range_bytes(std::size_t estimate);

// The header length a first range of a safetensors file declares (checked against the limit).
std::uint64_t first_range_header_length(const std::string& bytes, const std::string& origin);

// metadata.total_size of pytorch_model.bin.index.json when it is a byte count; nullopt otherwise (never throws).
std::optional<std::uint64_t> pytorch_index_total(const nlohmann::json& index);

// A size header (x-linked-size, content-length): decimal digits, above zero; nullopt otherwise.
std::optional<std::uint64_t> parse_size_header(const std::string& value);

}  // namespace vramcalc::hub_detail
