// Token counts as vLLM's own argument parser reads them (its human_readable_int): what `--max-model-len 32k`
// means must be what vLLM will take it to mean.
#include <catch2/catch.hpp>

#include <string>

#include "vramcalc/core/units.hpp"

using vramcalc::parse_token_count;

TEST_CASE("token counts: plain numbers, and k m g t as powers of 1000, K M G T as powers of 1024", "[units][tokens]") {
  CHECK(parse_token_count("131072").value == 131072u);
  CHECK(parse_token_count("32k").value == 32000u);
  CHECK(parse_token_count("32K").value == 32768u);
  CHECK(parse_token_count("1m").value == 1000000u);
  CHECK(parse_token_count("1M").value == 1048576u);
  CHECK(parse_token_count("2g").value == 2000000000u);
  CHECK(parse_token_count("1G").value == 1073741824u);
  CHECK(parse_token_count("1t").value == 1000000000000u);
  CHECK(parse_token_count("1T").value == 1099511627776u);
  CHECK(parse_token_count("  64k\t").value == 64000u);  // vLLM strips the value first
}

TEST_CASE("token counts: decimals only before a decimal suffix, truncated as Python's int(float(x) * 1000)",
          "[units][tokens]") {
  CHECK(parse_token_count("25.6k").value == 25600u);
  CHECK(parse_token_count("0.1k").value == 100u);  // 0.1 * 1000 = 100.00000000000001 in doubles, truncated
  CHECK(parse_token_count("1.5m").value == 1500000u);
  const auto binary = parse_token_count("25.6K");
  CHECK_FALSE(binary.value);
  CHECK(binary.error == "decimals are not allowed with binary suffixes like K (did you mean 25.6k?)");
}

TEST_CASE("token counts: anything else is not one", "[units][tokens]") {
  for (const std::string bad : {"", "k", "32kk", "1e3", "-5", "3.5", ".5k", "5.k", "32 k", "32KB", "0x10"}) {
    INFO(bad);
    const auto r = parse_token_count(bad);
    CHECK_FALSE(r.value);
    CHECK(r.error == "not a whole number");
  }
  CHECK_FALSE(parse_token_count("99999999999T").value);  // beyond 2^63
  CHECK_FALSE(parse_token_count("99999999999999999999").value);
}
