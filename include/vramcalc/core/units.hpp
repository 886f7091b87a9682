// Byte units and checked 64-bit arithmetic.
// GiB = 2^30 bytes, GB = 10^9 bytes: the output always says which one it uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vramcalc {

inline constexpr std::uint64_t kKiB = 1024ULL;
inline constexpr std::uint64_t kMiB = 1024ULL * 1024ULL;
inline constexpr std::uint64_t kGiB = 1024ULL * 1024ULL * 1024ULL;
inline constexpr std::uint64_t kTiB = kGiB * 1024ULL;
inline constexpr std::uint64_t kGB = 1'000'000'000ULL;

inline constexpr double to_gib(std::uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kGiB); }
inline constexpr double to_gb(std::uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kGB); }

// Checked arithmetic: throws Error(BadInput) naming `what` when the result does not fit in 64 bits.
std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, std::string_view what);
std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, std::string_view what);

// Rounds a non-negative finite double to the nearest integer byte count (throws if out of range).
std::uint64_t round_bytes(double bytes, std::string_view what);

// Parses a size with a unit: "48GiB", "80GB", "15.99GiB", "24000MiB", "512KiB", "1.5TB", "123" (bytes)
// or "123B". Units are case-insensitive (GiB/GB/MiB/MB/KiB/KB/TiB/TB/B). Returns nullopt on bad syntax,
// zero, negative or absurd (> 1 PiB) values.
std::optional<std::uint64_t> parse_size(std::string_view text);

// A token count as vLLM's own argument parser reads one (human_readable_int, for --max-model-len and
// --max-num-batched-tokens): a whole number, or a number and a suffix. k, m, g, t are powers of 1000 and may follow
// a decimal, truncated (25.6k = 25600); K, M, G, T are powers of 1024 and follow whole numbers only (32K = 32768).
// Surrounding whitespace is ignored. `error` says why when there is no `value` (nullopt and "" for a value over
// 2^63).
struct TokenCount {
  std::optional<std::uint64_t> value;
  std::string error;
};
TokenCount parse_token_count(std::string_view text);

// "15.00 GiB" style formatting with two decimals.
std::string format_gib(std::uint64_t bytes);
std::string format_gb(std::uint64_t bytes);
// Groups digits: 8030261248 -> "8,030,261,248".
std::string format_count(std::uint64_t n);

}  // namespace vramcalc
