// Every cap vram-calc puts on what it reads, fetches or produces, in one place (README: "Limits").
// Each is far above what a real model, profile or cache entry needs and low enough that a hostile input is
// refused before it costs more than a small multiple of its own size in memory or time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vramcalc::limits {

// JSON nesting depth (objects and arrays) of any document read: configs, indexes, safetensors headers, cache
// entries, Hub responses. Real ones nest under 10 levels; deeper input is malformed (nlohmann's DOM copy, dump
// and comparison recurse, so 100k levels overflow the stack).
inline constexpr std::size_t kMaxJsonDepth = 64;

// Sizes of inputs by kind, in bytes. Real config.json files are under 100 KB; real safetensors indexes reach
// 13 MiB (hundreds of thousands of tensor names).
inline constexpr std::size_t kMaxConfigBytes = 4u << 20;  // config.json, params.json
inline constexpr std::size_t kMaxIndexBytes = 64u << 20;  // *.safetensors.index.json, pytorch_model.bin.index.json
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;  // one safetensors JSON header
// Different dtypes one safetensors summary may hold (a real model uses a handful; the format defines about 20).
// Each is a key of two maps, so a header naming a new dtype per tensor would otherwise grow them without bound.
inline constexpr std::size_t kMaxSafetensorsDtypes = 64;
// "__metadata__" string values kept per header; later ones are skipped (real files carry a few dozen at most).
inline constexpr std::size_t kMaxSafetensorsMetadataEntries = 1024;
inline constexpr std::size_t kMaxCacheEntryBytes = 16u << 20;  // one entry of vram-calc's own cache
inline constexpr std::size_t kMaxProfileBytes = 1u << 20;      // a YAML deployment profile
// `vram-calc check`: one manifest file (or stdin; `helm template` of a large chart is a few MB), the files a
// directory may hold, and the documents of all inputs together.
inline constexpr std::size_t kMaxManifestBytes = 32u << 20;
inline constexpr std::size_t kMaxManifestFiles = 10'000;
inline constexpr std::size_t kMaxManifestDocuments = 100'000;

// Concurrent connections to one host while fetching from the Hub; the rest of the requests queue (HTTP/2
// multiplexes them over fewer where the server offers it).
inline constexpr long kMaxConnectionsPerHost = 16;

// Rows a sweep may produce: sweep values x SKUs. Each row is a full plan (a few KB in memory, more as JSON).
inline constexpr std::size_t kMaxSweepRows = 10'000;

}  // namespace vramcalc::limits
