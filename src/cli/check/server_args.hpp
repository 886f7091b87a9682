// A server's settings as a manifest gives them: its command line (both spellings of each flag, vLLM's short
// flags), its environment, a mounted --config file, or a KAITO inference config; turned into vram-calc's flags.
// Private to the CLI.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/sources/manifest.hpp"

namespace vramcalc::cli {

struct ServerSettings {
  ServerKind kind = ServerKind::Vllm;
  std::optional<std::string> model;  // the id or path the server loads
  std::string model_from;            // where it was read: "vllm serve's argument", "--model-id", "MODEL_ID", ...
  // Settings by the server's own flag name without dashes ("max-model-len", "num-shard"): the last one given wins,
  // the command line over the environment over a --config file. nullopt: a flag without a value (--enforce-eager).
  std::map<std::string, std::optional<std::string>> values;
  std::vector<std::string> unknowns;  // what it cannot tell (a --config it cannot read, a value from a Secret)
  std::vector<std::string> notes;     // flags and variables it does not size with

  [[nodiscard]] bool has(const std::string& flag) const { return values.contains(flag); }
  [[nodiscard]] std::optional<std::string> value(const std::string& flag) const;
  // A count flag's value (1 when absent); nullopt when given but not a positive whole number.
  [[nodiscard]] std::optional<std::uint64_t> count(const std::string& flag, std::uint64_t absent = 1) const;
};

// What the workload's server runs with. KAITO workloads take their preset's model (`kaito_model`) and the vllm
// section of their inference config.
ServerSettings read_server_settings(const Workload& workload, const std::optional<std::string>& kaito_model);

// vram-calc's flags for the settings it sizes with (`--max-model-len 8192`, `--engine tgi`, ...), without the model,
// the SKU and the layout, which the checker adds.
std::vector<std::string> vram_calc_flags(const ServerSettings& settings, std::vector<std::string>& notes);

// The vLLM release an image tag names (vllm/vllm-openai:v0.11.0 -> "0.11.0"); nullopt for latest, nightly, digests.
std::optional<std::string> vllm_version_of_image(const std::string& image);

}  // namespace vramcalc::cli
