// YAML deployment profiles (--profile deploy.yaml), with vllm-wizard's sections and keys:
//   model:    id, revision, dtype, quantization, kv_cache_dtype, max_model_len, params_b
//   hardware: gpu_name, gpus, vram_gb, interconnect, tp_size, sku (a vram-calc catalog name)
//   workload: prompt_tokens, gen_tokens, concurrency, streaming, mode
//   policy:   gpu_memory_utilization, overhead_gb, fragmentation_factor, headroom_gb
//   outputs:  emit, vllm_args
// The _gb keys mean GiB (2^30 bytes), as vllm-wizard computes them. Every key is optional; a key or section
// outside this schema, or a value of the wrong type or out of range, is an error naming the key and its line.
// A key set to null (`key:`) is left unset. Numbers and booleans are unquoted; whole numbers are plain decimal
// digits; booleans are true/false (YAML 1.1's yes/no/on/off too). Names below are stored canonical, in lower case.
// Command-line flags override what a profile sets (the CLI does the merging).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vramcalc {

struct Profile {
  std::string origin;  // the file, for messages

  // model
  std::optional<std::string> model_id;
  std::optional<std::string> revision;
  std::optional<std::string> dtype;           // auto, float16, bfloat16, float32 (fp16/bf16/fp32/half accepted)
  std::optional<std::string> quantization;    // awq, gptq, int8, fp8, bitsandbytes ("none" leaves it unset)
  std::optional<std::string> kv_cache_dtype;  // auto, fp8, fp8_e4m3, fp8_e5m2, float16, bfloat16, float32
                                              // (fp8_e4m3fn, fp16, bf16, fp32, half accepted)
  std::optional<std::uint64_t> max_model_len;
  std::optional<double> params_b;

  // hardware
  std::optional<std::string> gpu_name;  // a GPU name the SKU catalog knows ("A100-80G", "H100", ...)
  std::optional<std::string> sku;       // a vram-calc SKU name; wins over gpu_name
  std::optional<std::uint64_t> gpus;
  std::optional<double> vram_gb;            // GiB per GPU
  std::optional<std::string> interconnect;  // pcie, nvlink, ... (recorded, not used in memory sizing)
  std::optional<std::uint64_t> tp_size;

  // workload
  std::optional<std::uint64_t> prompt_tokens;
  std::optional<std::uint64_t> gen_tokens;
  std::optional<std::uint64_t> concurrency;
  std::optional<bool> streaming;
  std::optional<std::string> mode;  // throughput, latency, balanced

  // policy
  std::optional<double> gpu_memory_utilization;
  std::optional<double> overhead_gb;  // GiB
  std::optional<double> fragmentation_factor;
  std::optional<double> headroom_gb;  // GiB

  // outputs
  std::vector<std::string> emit;  // emit: one name or a list of ProfileChoices::emit_names (or their aliases),
                                  // stored canonical; repeats dropped
  // Extra `vllm serve` flags in file order: {"--enable-prefix-caching", ""}, {"--max-num-seqs", "64"}. From a mapping
  // (flag: value; true or null is a bare flag, false leaves it out) or a list ("--flag" or "--flag=value").
  std::vector<std::pair<std::string, std::string>> vllm_args;
};

// The names a profile may choose from that belong to layers above this one: the CLI passes them from its tables
// (render/choices.hpp), so that a profile accepts exactly what the flags do.
struct ProfileChoices {
  std::vector<std::string_view> emit_names;  // outputs.emit: canonical names, in the order messages list them
  std::vector<std::pair<std::string_view, std::string_view>> emit_aliases;  // {other spelling, canonical name}
};

// Parses profile text. Throws Error(BadInput) "<origin>:<line>: <key>: <problem>" for malformed YAML, unknown
// keys or sections, wrong types, values out of range and names outside `choices`.
Profile parse_profile(std::string_view text, std::string_view origin, const ProfileChoices& choices);

// Reads and parses a profile file (bounded size). Throws Error(BadInput) naming the file when unreadable.
Profile load_profile(const std::filesystem::path& file, const ProfileChoices& choices);

}  // namespace vramcalc
