// How far a plan's inputs can be trusted (issue 14): the parameter count, the weights and the KV cache, each exact,
// estimated or a guess, with the reasons. normalize_config sets the model's part (an architecture vram-calc does not
// know, a field of a shape it has not seen); the report adds the weights' from where their bytes came from
// (src/report/build.cpp): safetensors headers are exact whatever the architecture. A guess anywhere makes the
// verdict "uncertain", and --strict turns that into exit 1.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vramcalc {

// Best first: a lower value never replaces a worse one (ModelConfidence::lower).
enum class Confidence {
  Exact,      // read from the checkpoint, or computed by a layout vram-calc knows for this family
  Estimated,  // a layout vram-calc knows with a figure from elsewhere (a file size, --params-b)
  Guess,      // a layout vram-calc does not know, or a field of a shape it has not seen: may be far off
};
std::string_view confidence_name(Confidence c);  // "exact", "estimated", "guess"

struct ModelConfidence {
  Confidence parameters = Confidence::Exact;
  Confidence kv_cache = Confidence::Exact;
  Confidence weights = Confidence::Exact;  // the weight bytes (the report sets it from WeightEstimate's source)
  std::vector<std::string> reasons;        // why anything is below exact, each once, in the order found

  // Lowers `field` to `to` unless it is already lower, and records `reason` (once).
  void lower(Confidence& field, Confidence to, const std::string& reason);
  // True when anything is a guess: the verdict then reads "uncertain".
  [[nodiscard]] bool uncertain() const;
  // "parameters guess, KV cache guess, weights exact".
  [[nodiscard]] std::string summary() const;
  // The guesses alone, for a verdict line: "parameter count and KV cache are guesses".
  [[nodiscard]] std::string guesses() const;
};

}  // namespace vramcalc
