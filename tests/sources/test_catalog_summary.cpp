// The catalog's normalized summaries (written by scripts/gen_catalog.py from the binary's own output) agree
// with what the current code computes from the stored configs: a stale catalog fails here.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vramcalc/memory/kv_cache.hpp"
#include "vramcalc/memory/weights.hpp"
#include "vramcalc/model/architecture.hpp"
#include "vramcalc/sources/catalog.hpp"

using namespace vramcalc;

TEST_CASE("catalog summaries match the model layer", "[catalog][summary]") {
  const auto catalog = ModelCatalog::load(testsupport::repo_data("models.json"));
  REQUIRE(catalog.models().size() == 68);
  for (const auto& m : catalog.models()) {
    INFO(m.id);
    REQUIRE(m.summary.is_object());
    REQUIRE_FALSE(m.summary.empty());
    const ModelArch a = normalize_config(m.config, m.id);
    const auto w = estimate_weights(a, CheckpointSizes{}, WeightSettings{});
    const auto kv = kv_cache_spec(a, "auto", w.serving_dtype);
    CHECK(m.summary["architecture"] == a.architecture);
    CHECK(m.summary["num_params"] == a.num_params());
    CHECK(m.summary["weight_bytes"] == w.bytes);
    CHECK(m.summary["num_hidden_layers"] == a.num_hidden_layers);
    CHECK(m.summary["num_attention_heads"] == a.num_attention_heads);
    CHECK(m.summary["num_key_value_heads"] == a.num_key_value_heads);
    CHECK(m.summary["head_dim"] == a.head_dim);
    CHECK(m.summary["kv_cache_bytes_per_token"] == kv.bytes_per_token);
    if (m.num_params && a.num_experts == 0 && !a.mla && !a.multimodal) CHECK(*m.num_params == a.num_params());
  }
}
