// An architecture estimated from a parameter count, for a model vram-calc cannot read (neither in the catalog nor on
// the Hub): the vLLM memory-calculator API's approach, a llama-style decoder whose
//   layers and attention heads   come from the size range the count falls in (the shapes of Llama, Mistral, Yi and
//                                GPT-3 at those sizes, table in estimated_architecture.cpp);
//   hidden size h                solves the parameter count's quadratic in h:
//                                  P = L x (2 + 2 x kv/heads + 3 x f x E) x h^2 + (2 x vocab + 2 x L + 1) x h
//                                (q and o projections, k and v at kv/heads of h, E gated MLPs of f x h, the untied
//                                embedding and LM head, the norms), rounded to a multiple of 16 x heads (head
//                                dimension a multiple of 16);
//   intermediate size            f x h rounded to a multiple of 256, f = 3.5 (Mistral 7B, Llama 3);
//   KV heads                     8 (grouped-query attention, as Llama 3, Mistral and Qwen 2.5), or the most below 8
//                                that divide the heads;
//   vocabulary                   32000 (Llama 2, Mistral).
// A name's "8x7B" gives a Mixtral-style mixture of 8 experts, 2 per token, each of the 7B shape. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vramcalc {

// What an estimate starts from.
struct ModelSize {
  double params_billions = 0;  // total parameters, or one expert model's ("7" of "8x7B") when per_expert
  std::uint64_t experts = 0;   // routed experts (0: dense)
  bool per_expert = false;     // params_billions is the size of one expert model, as "8x7B" writes it
  std::string text;            // where it came from, for messages: "7b", "8x7B", "params_billions 13"
};

// The size a model name states: the first "<number>b" ("-7b", "70B", "1.5b", "7b-instruct") or "<number>m"
// ("-350m", in millions) standing as a word of its own (not followed by a letter or digit: "4bit" is no size), or
// "<N>x<number>b" ("8x7B", a mixture of N experts). A size right after a separator and "A" ("-A3B") is the active
// parameter count of a mixture and skipped. nullopt when the name states none, or a size outside (0, 10000] billion.
std::optional<ModelSize> model_size_from_name(std::string_view name);

// Bounds of what the estimate takes: 1 million to 10 trillion parameters, at most 1024 experts.
inline constexpr double kMinEstimatedBillions = 0.001;
inline constexpr double kMaxEstimatedBillions = 10000;
inline constexpr std::uint64_t kMaxEstimatedExperts = 1024;

// Constants of the estimate (see above).
inline constexpr double kEstimatedMlpFactor = 3.5;
inline constexpr std::uint64_t kEstimatedKvHeads = 8;
inline constexpr std::uint64_t kEstimatedVocab = 32000;
inline constexpr std::uint64_t kEstimatedExpertsPerToken = 2;

// The estimated config.json (a transformers LlamaForCausalLM, or MixtralForCausalLM with experts) that
// normalize_config reads. Throws Error(BadInput) for a size outside the bounds above.
nlohmann::json estimated_config(const ModelSize& size);

// One line describing an estimated config: "llama-style, 32 layers, hidden 4096, 32 heads (8 KV heads), intermediate
// 14336, vocabulary 32000".
std::string describe_estimated_config(const nlohmann::json& config);

}  // namespace vramcalc
