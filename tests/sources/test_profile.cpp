// YAML deployment profiles (--profile): vllm-wizard's schema, strict types and ranges, and one BadInput
// Error naming the dotted key and its line for every problem.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "support.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/sources/profile.hpp"

using namespace vramcalc;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

using Flags = std::vector<std::pair<std::string, std::string>>;

// The names a profile may choose from, as the CLI passes them (its tables: render/choices.hpp).
const ProfileChoices& choices() {
  static const ProfileChoices c = cli::profile_choices();
  return c;
}

Profile parse(const std::string& text) { return parse_profile(text, "p.yaml", choices()); }

Profile load_profile(const fs::path& file) { return vramcalc::load_profile(file, choices()); }

// The message of the BadInput Error that parsing `text` throws, or "(no error)".
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    return e.what();
  }
  return "(no error)";
}

// The message of the BadInput Error that loading `file` throws, or "(no error)".
std::string load_error_of(const fs::path& file) {
  try {
    load_profile(file);
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    return e.what();
  }
  return "(no error)";
}

// A profile with one key set: "section:\n  key: value\n" (the key is on line 2).
std::string one_key(const std::string& section, const std::string& key, const std::string& value) {
  return section + ":\n  " + key + ": " + value + "\n";
}

bool all_unset(const Profile& p) {
  return !p.model_id && !p.revision && !p.dtype && !p.quantization && !p.kv_cache_dtype && !p.max_model_len &&
         !p.params_b && !p.gpu_name && !p.sku && !p.gpus && !p.vram_gb && !p.interconnect && !p.tp_size &&
         !p.prompt_tokens && !p.gen_tokens && !p.concurrency && !p.streaming && !p.mode && !p.gpu_memory_utilization &&
         !p.overhead_gb && !p.fragmentation_factor && !p.headroom_gb && p.emit.empty() && p.vllm_args.empty();
}

}  // namespace

TEST_CASE("profile: a full profile sets every field, with aliases made canonical", "[profile]") {
  const fs::path file = testsupport::test_data("profiles/full.yaml");
  const Profile p = load_profile(file);
  CHECK(p.origin == file.string());
  CHECK(p.model_id == "meta-llama/Llama-3.1-8B-Instruct");
  CHECK(p.revision == "0e9e39f249a16976918f6564b8830bc894c89659");
  CHECK(p.dtype == "bfloat16");
  CHECK(p.quantization == "awq");
  CHECK(p.kv_cache_dtype == "fp8_e4m3");
  CHECK(p.max_model_len == 16384u);
  CHECK(p.params_b == Approx(8.03));
  CHECK(p.gpu_name == "H100");
  CHECK(p.sku == "A100-80G");
  CHECK(p.gpus == 2u);
  CHECK(p.vram_gb == Approx(79.25));
  CHECK(p.interconnect == "nvlink");
  CHECK(p.tp_size == 2u);
  CHECK(p.prompt_tokens == 3000u);
  CHECK(p.gen_tokens == 1000u);
  CHECK(p.concurrency == 32u);
  CHECK(p.streaming == true);
  CHECK(p.mode == "latency");
  CHECK(p.gpu_memory_utilization == Approx(0.92));
  CHECK(p.overhead_gb == Approx(1.5));
  CHECK(p.fragmentation_factor == Approx(1.1));
  CHECK(p.headroom_gb == Approx(2.0));
  CHECK(p.emit == std::vector<std::string>{"vllm-command", "k8s"});
  CHECK(p.vllm_args ==
        Flags{{"--enable-prefix-caching", ""}, {"--max-num-seqs", "64"}, {"--served-model-name", "llama"}});
}

TEST_CASE("profile: empty profiles and null sections leave everything unset", "[profile]") {
  for (const char* text : {"", "{}", "# just a comment\n", "---\n", "---\n...\n", "model: {}\n"}) {
    INFO(text);
    CHECK(all_unset(parse(text)));
  }
  CHECK(all_unset(load_profile(testsupport::test_data("profiles/empty.yaml"))));
  CHECK(all_unset(load_profile(testsupport::test_data("profiles/null-sections.yaml"))));
  CHECK(parse("").origin == "p.yaml");
}

TEST_CASE("profile: a key with a null value is left unset", "[profile]") {
  const Profile p = parse("model:\n  id:\n  quantization: ~\n  max_model_len: null\nworkload:\n  streaming:\n");
  CHECK(all_unset(p));
}

TEST_CASE("profile: an unknown section names itself, its line and the known sections", "[profile]") {
  CHECK(error_of("model:\n  id: x\n\nserving:\n  port: 8000\n") ==
        "p.yaml:4: unknown section 'serving' (known: model, hardware, workload, policy, outputs)");
}

TEST_CASE("profile: an unknown key names the dotted key, its line and the known keys", "[profile]") {
  CHECK(error_of("model:\n  id: x\n  context_length: 8192\n") ==
        "p.yaml:3: unknown key 'model.context_length' (known: id, revision, dtype, quantization, kv_cache_dtype, "
        "max_model_len, params_b)");
  CHECK(error_of("hardware:\n  gpus: 1\n\n  gpu: A100\n") ==
        "p.yaml:4: unknown key 'hardware.gpu' (known: gpu_name, gpus, vram_gb, interconnect, tp_size, sku)");
  CHECK(error_of("workload:\n  batch: 4\n") ==
        "p.yaml:2: unknown key 'workload.batch' (known: prompt_tokens, gen_tokens, concurrency, streaming, mode)");
  CHECK(error_of("policy: {gpu_memory_utilization: 0.9, swap_gb: 4}\n") ==
        "p.yaml:1: unknown key 'policy.swap_gb' (known: gpu_memory_utilization, overhead_gb, fragmentation_factor, "
        "headroom_gb)");
  CHECK(error_of("outputs:\n  emit: k8s\n  format: json\n") ==
        "p.yaml:3: unknown key 'outputs.format' (known: emit, vllm_args)");
  // Keys are case-sensitive, as in vllm-wizard's schema.
  CHECK_THAT(error_of("model:\n  ID: x\n"), StartsWith("p.yaml:2: unknown key 'model.ID'"));
  CHECK_THAT(error_of("Model:\n  id: x\n"), StartsWith("p.yaml:1: unknown section 'Model'"));
}

TEST_CASE("profile: a file's errors carry its path", "[profile]") {
  const fs::path file = testsupport::test_data("profiles/unknown-key.yaml");
  CHECK_THAT(load_error_of(file), StartsWith(file.string() + ":3: unknown key 'model.context_length'"));
}

TEST_CASE("profile: duplicate keys and sections are rejected by name and line", "[profile]") {
  CHECK(error_of("model:\n  id: a\n  id: b\n") == "p.yaml:3: duplicate key 'model.id'");
  CHECK(error_of("model:\n  id: a\nhardware:\n  gpus: 1\nmodel:\n  revision: main\n") ==
        "p.yaml:5: duplicate key 'model'");
}

TEST_CASE("profile: the top level and each section must be mappings", "[profile]") {
  CHECK_THAT(error_of("- model\n- hardware\n"), StartsWith("p.yaml:1: a profile must be a mapping of sections"));
  CHECK_THAT(error_of("just text\n"), Contains("not a single value"));
  CHECK(error_of("model: meta-llama/Llama-3.1-8B\n") ==
        "p.yaml:1: model: must be a mapping of keys (id, revision, dtype, quantization, kv_cache_dtype, "
        "max_model_len, params_b), not a single value");
  CHECK_THAT(error_of("\nhardware:\n  - A100\n"), StartsWith("p.yaml:2: hardware: must be a mapping of keys"));
  CHECK_THAT(error_of("? [a, b]\n: 1\n"), StartsWith("p.yaml:1: keys must be plain names"));
  CHECK_THAT(error_of("model:\n  ? {a: 1}\n  : 1\n"), StartsWith("p.yaml:2: model: keys must be plain names"));
}

TEST_CASE("profile: strings must be non-empty single lines; any scalar is text", "[profile]") {
  CHECK(error_of(one_key("model", "id", "\"\"")) == "p.yaml:2: model.id: must not be empty");
  CHECK_THAT(error_of(one_key("model", "id", "\"a\\nb\"")), StartsWith("p.yaml:2: model.id: must be one line"));
  CHECK_THAT(error_of(one_key("model", "id", "[a, b]")),
             StartsWith("p.yaml:2: model.id: must be a string, not a list"));
  CHECK_THAT(error_of(one_key("hardware", "interconnect", "{kind: nvlink}")),
             StartsWith("p.yaml:2: hardware.interconnect: must be a string, not a mapping"));
  CHECK_THAT(error_of(one_key("model", "revision", std::string(5000, 'a'))), Contains("longer than 4096"));
  // A revision or a GPU name that YAML would read as a number keeps its text as written.
  CHECK(parse(one_key("model", "revision", "1.10")).revision == "1.10");
  CHECK(parse(one_key("hardware", "gpu_name", "4090")).gpu_name == "4090");
  CHECK(parse(one_key("hardware", "interconnect", "PCIe Gen5")).interconnect == "PCIe Gen5");
}

TEST_CASE("profile: whole numbers are plain positive decimal digits", "[profile]") {
  const std::vector<std::string> bad = {"1.5",   "-3", "abc",    "true", "0",   "1e3",    "0x10",  "0o17",
                                        "1_000", "+5", "\"64\"", "'64'", "[1]", "{a: 1}", "12abc", ".inf"};
  for (const auto& value : bad) {
    INFO(value);
    CHECK_THAT(error_of(one_key("model", "max_model_len", value)),
               StartsWith("p.yaml:2: model.max_model_len: must be a positive whole number, not "));
  }
  CHECK(error_of(one_key("hardware", "gpus", "007")) ==
        "p.yaml:2: hardware.gpus: must be written without leading zeros, not 007");
  CHECK(error_of(one_key("workload", "concurrency", "\"8\"")) ==
        "p.yaml:2: workload.concurrency: must be a positive whole number, not \"8\"");
}

TEST_CASE("profile: whole numbers have upper limits", "[profile]") {
  // Tokens: up to 2^40.
  CHECK(parse(one_key("model", "max_model_len", "1099511627776")).max_model_len == 1099511627776u);
  CHECK(error_of(one_key("model", "max_model_len", "1099511627777")) ==
        "p.yaml:2: model.max_model_len: 1099511627777 is over the limit of 1099511627776");
  CHECK_THAT(error_of(one_key("workload", "prompt_tokens", "99999999999999999999999")),
             StartsWith("p.yaml:2: workload.prompt_tokens: 99999999999999999999999 is over the limit"));
  CHECK_THAT(error_of(one_key("workload", "gen_tokens", "1099511627777")), Contains("over the limit"));
  // Counts: up to 100000.
  CHECK(parse(one_key("hardware", "gpus", "100000")).gpus == 100000u);
  CHECK(parse(one_key("hardware", "tp_size", "100000")).tp_size == 100000u);
  CHECK(parse(one_key("workload", "concurrency", "100000")).concurrency == 100000u);
  CHECK(error_of(one_key("hardware", "gpus", "100001")) ==
        "p.yaml:2: hardware.gpus: 100001 is over the limit of 100000");
  CHECK_THAT(error_of(one_key("hardware", "tp_size", "100001")), Contains("over the limit of 100000"));
  CHECK_THAT(error_of(one_key("workload", "concurrency", "100001")), Contains("over the limit of 100000"));
}

TEST_CASE("profile: numbers are plain, finite decimals", "[profile]") {
  CHECK(parse(one_key("model", "params_b", "1e3")).params_b == Approx(1000.0));
  CHECK(parse(one_key("model", "params_b", "+.5")).params_b == Approx(0.5));
  CHECK(parse(one_key("model", "params_b", "70")).params_b == Approx(70.0));
  CHECK(parse(one_key("policy", "gpu_memory_utilization", "9E-1")).gpu_memory_utilization == Approx(0.9));
  for (const char* value : {".nan", ".NaN", ".inf", "-.inf", "+.Inf", "1e999"}) {
    INFO(value);
    CHECK_THAT(error_of(one_key("model", "params_b", value)),
               StartsWith("p.yaml:2: model.params_b: must be a finite number, not "));
  }
  for (const char* value : {"0x10", "\"0.9\"", "abc", "1.2.3", "1e", "e3", ".", "nan", "inf", "true", "[0.9]", "1,5"}) {
    INFO(value);
    CHECK_THAT(error_of(one_key("policy", "gpu_memory_utilization", value)),
               StartsWith("p.yaml:2: policy.gpu_memory_utilization: must be a number, not "));
  }
}

TEST_CASE("profile: numbers are checked against their ranges", "[profile]") {
  struct Case {
    const char* section;
    const char* key;
    const char* value;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"policy", "gpu_memory_utilization", "0", false},
      {"policy", "gpu_memory_utilization", "1", true},
      {"policy", "gpu_memory_utilization", "1.01", false},
      {"policy", "gpu_memory_utilization", "0.01", true},
      {"policy", "fragmentation_factor", "0.99", false},
      {"policy", "fragmentation_factor", "1", true},
      {"policy", "fragmentation_factor", "10", true},
      {"policy", "fragmentation_factor", "10.5", false},
      {"policy", "overhead_gb", "-0.1", false},
      {"policy", "overhead_gb", "0", true},
      {"policy", "overhead_gb", "1024", true},
      {"policy", "overhead_gb", "1024.5", false},
      {"policy", "headroom_gb", "-1", false},
      {"policy", "headroom_gb", "0", true},
      {"policy", "headroom_gb", "2000", false},
      {"hardware", "vram_gb", "0", false},
      {"hardware", "vram_gb", "100000", true},
      {"hardware", "vram_gb", "100001", false},
      {"hardware", "vram_gb", "-80", false},
      {"model", "params_b", "0", false},
      {"model", "params_b", "1e6", true},
      {"model", "params_b", "1.5e6", false},
  };
  for (const auto& c : cases) {
    INFO(c.key << ": " << c.value);
    const std::string error = error_of(one_key(c.section, c.key, c.value));
    if (c.ok) {
      CHECK(error == "(no error)");
    } else {
      CHECK_THAT(error, StartsWith("p.yaml:2: " + std::string(c.section) + "." + c.key + ": must be in "));
      CHECK_THAT(error, Contains(std::string("not ") + c.value));
    }
  }
  CHECK(error_of(one_key("policy", "gpu_memory_utilization", "1.5")) ==
        "p.yaml:2: policy.gpu_memory_utilization: must be in (0, 1], not 1.5");
  CHECK(error_of(one_key("policy", "fragmentation_factor", "0.5")) ==
        "p.yaml:2: policy.fragmentation_factor: must be in [1, 10], not 0.5");
}

TEST_CASE("profile: booleans are YAML 1.1's words, unquoted", "[profile]") {
  for (const char* value : {"true", "True", "TRUE", "yes", "Yes", "on", "ON"}) {
    INFO(value);
    CHECK(parse(one_key("workload", "streaming", value)).streaming == true);
  }
  for (const char* value : {"false", "False", "no", "NO", "off", "Off"}) {
    INFO(value);
    CHECK(parse(one_key("workload", "streaming", value)).streaming == false);
  }
  for (const char* value : {"\"true\"", "1", "0", "y", "n", "tRuE", "enabled", "[true]"}) {
    INFO(value);
    CHECK_THAT(error_of(one_key("workload", "streaming", value)),
               StartsWith("p.yaml:2: workload.streaming: must be true or false, not "));
  }
}

TEST_CASE("profile: dtype, quantization, kv_cache_dtype and mode are closed sets with aliases", "[profile]") {
  const std::vector<std::pair<std::string, std::string>> dtypes = {
      {"auto", "auto"},     {"float16", "float16"},   {"fp16", "float16"}, {"half", "float16"},
      {"BF16", "bfloat16"}, {"bfloat16", "bfloat16"}, {"fp32", "float32"}, {"float32", "float32"}};
  for (const auto& [written, canonical] : dtypes) CHECK(parse(one_key("model", "dtype", written)).dtype == canonical);
  CHECK(error_of(one_key("model", "dtype", "int4")) ==
        "p.yaml:2: model.dtype: \"int4\" is not one of auto, float16, bfloat16, float32 (or fp16, half, bf16, fp32)");

  for (const char* q : {"awq", "gptq", "int8", "fp8", "bitsandbytes", "AWQ"})
    CHECK(parse(one_key("model", "quantization", q)).quantization.has_value());
  CHECK(parse(one_key("model", "quantization", "GPTQ")).quantization == "gptq");
  CHECK_FALSE(parse(one_key("model", "quantization", "none")).quantization.has_value());
  CHECK(error_of(one_key("model", "quantization", "q4_k_m")) ==
        "p.yaml:2: model.quantization: \"q4_k_m\" is not one of none, awq, gptq, int8, fp8, bitsandbytes");

  const std::vector<std::pair<std::string, std::string>> kv = {
      {"auto", "auto"},         {"fp8", "fp8"},      {"fp8_e4m3", "fp8_e4m3"}, {"fp8_e4m3fn", "fp8_e4m3"},
      {"fp8_e5m2", "fp8_e5m2"}, {"fp16", "float16"}, {"bf16", "bfloat16"},     {"float32", "float32"}};
  for (const auto& [written, canonical] : kv)
    CHECK(parse(one_key("model", "kv_cache_dtype", written)).kv_cache_dtype == canonical);
  CHECK_THAT(error_of(one_key("model", "kv_cache_dtype", "int8")),
             StartsWith("p.yaml:2: model.kv_cache_dtype: \"int8\" is not one of auto, fp8, fp8_e4m3, fp8_e5m2"));

  for (const char* mode : {"throughput", "latency", "balanced"})
    CHECK(parse(one_key("workload", "mode", mode)).mode == mode);
  CHECK(error_of(one_key("workload", "mode", "fast")) ==
        "p.yaml:2: workload.mode: \"fast\" is not one of throughput, latency, balanced");
  CHECK_THAT(error_of(one_key("workload", "mode", "[latency]")), Contains("workload.mode: must be a string"));
}

TEST_CASE("profile: outputs.emit is a name or a list of names", "[profile]") {
  CHECK(parse("outputs:\n  emit: vllm-args\n").emit == std::vector<std::string>{"vllm-args"});
  CHECK(parse("outputs:\n  emit: [tgi-command, k8s]\n").emit == std::vector<std::string>{"tgi-command", "k8s"});
  // vllm-wizard's names, repeats dropped.
  CHECK(parse("outputs:\n  emit:\n    - command\n    - kubernetes\n    - vllm_args\n    - k8s\n").emit ==
        std::vector<std::string>{"vllm-command", "k8s", "vllm-args"});
  CHECK(parse("outputs:\n  emit: []\n").emit.empty());
  CHECK(error_of("outputs:\n  emit:\n    - k8s\n    - compose\n") ==
        "p.yaml:4: outputs.emit: \"compose\" is not one of vllm-args, vllm-command, tgi-command, k8s (or command, "
        "kubernetes, vllm_args, vllm_command, tgi_command)");
  CHECK_THAT(error_of("outputs:\n  emit: [k8s, [vllm-args]]\n"),
             StartsWith("p.yaml:2: outputs.emit: each entry must be a name, not a list"));
  CHECK_THAT(error_of("outputs:\n  emit: {k8s: true}\n"),
             StartsWith("p.yaml:2: outputs.emit: must be a name or a list of names, not a mapping"));
  CHECK_THAT(error_of("outputs:\n  emit: [k8s, \"\"]\n"), StartsWith("p.yaml:2: outputs.emit: must not be empty"));
}

TEST_CASE("profile: outputs.vllm_args as a mapping of flag to value", "[profile]") {
  const Profile p = parse(
      "outputs:\n"
      "  vllm_args:\n"
      "    enable-chunked-prefill: yes\n"
      "    --disable-log-requests:\n"
      "    max_num_batched_tokens: 8192\n"
      "    trust-remote-code: off\n"
      "    swap-space: \"true\"\n"
      "    block-size: 16\n");
  CHECK(p.vllm_args == Flags{{"--enable-chunked-prefill", ""},
                             {"--disable-log-requests", ""},
                             {"--max_num_batched_tokens", "8192"},
                             {"--swap-space", "true"},
                             {"--block-size", "16"}});
  CHECK(error_of("outputs:\n  vllm_args:\n    max-num-seqs: 64\n    limit-mm-per-prompt: {image: 2}\n") ==
        "p.yaml:4: outputs.vllm_args.limit-mm-per-prompt: must be one value, not a mapping");
  CHECK_THAT(error_of("outputs:\n  vllm_args:\n    served-model-name: [a, b]\n"),
             StartsWith("p.yaml:3: outputs.vllm_args.served-model-name: must be one value, not a list"));
  CHECK(error_of("outputs:\n  vllm_args:\n    \"max num seqs\": 64\n") ==
        "p.yaml:3: outputs.vllm_args: flag \"max num seqs\" may hold only letters, digits, '-' and '_'");
  CHECK_THAT(error_of("outputs:\n  vllm_args:\n    \"x; rm -rf /\": 1\n"), Contains("may hold only letters"));
  CHECK_THAT(error_of("outputs:\n  vllm_args:\n    -tp: 2\n"),
             StartsWith("p.yaml:3: outputs.vllm_args: \"-tp\" is not a long flag name"));
  CHECK_THAT(error_of("outputs:\n  vllm_args:\n    \"--\": 2\n"), Contains("is not a long flag name"));
  CHECK(error_of("outputs:\n  vllm_args:\n    --max-num-seqs: 64\n    max-num-seqs: 32\n") ==
        "p.yaml:4: outputs.vllm_args.max-num-seqs: --max-num-seqs is given twice");
  CHECK_THAT(error_of("outputs:\n  vllm_args:\n    chat-template: \"a\\nb\"\n"),
             StartsWith("p.yaml:3: outputs.vllm_args.chat-template: must be one line"));
}

TEST_CASE("profile: outputs.vllm_args as a list of flag strings", "[profile]") {
  const Profile p = parse(
      "outputs:\n"
      "  vllm_args:\n"
      "    - --enable-prefix-caching\n"
      "    - --max-num-seqs=64\n"
      "    - served-model-name=a=b\n"
      "    - --override-generation-config=\n");
  CHECK(p.vllm_args == Flags{{"--enable-prefix-caching", ""},
                             {"--max-num-seqs", "64"},
                             {"--served-model-name", "a=b"},
                             {"--override-generation-config", ""}});
  CHECK_THAT(error_of("outputs:\n  vllm_args:\n    - --max-num-seqs 64\n"),
             StartsWith("p.yaml:3: outputs.vllm_args: flag \"--max-num-seqs 64\" may hold only"));
  CHECK_THAT(error_of("outputs:\n  vllm_args:\n    - --a\n    - [--b]\n"),
             StartsWith("p.yaml:4: outputs.vllm_args: each entry must be a string"));
  CHECK_THAT(error_of("outputs:\n  vllm_args:\n    - {a: 1}\n"), Contains("each entry must be a string"));
  CHECK_THAT(error_of("outputs:\n  vllm_args:\n    - --a=1\n    - --a=2\n"), Contains("--a is given twice"));
  CHECK_THAT(error_of("outputs:\n  vllm_args: --enable-prefix-caching\n"),
             StartsWith("p.yaml:2: outputs.vllm_args: must be a mapping of flag: value or a list"));
}

TEST_CASE("profile: malformed YAML names its line", "[profile]") {
  CHECK(error_of("model:\n  id: x\nhardware: [A100, H100\n") ==
        "p.yaml:4: malformed YAML: end of sequence flow not found");
  CHECK(error_of("model:\n  id: x\n   sku: y\n") == "p.yaml:3: malformed YAML: illegal map value");
  CHECK(error_of("model:\n  id: x\n  - y\n") == "p.yaml:3: malformed YAML: end of map not found");
  CHECK_THAT(error_of("model:\n  id: x\n  sku: *nowhere\n"), StartsWith("p.yaml:3: malformed YAML: "));
  const fs::path file = testsupport::test_data("profiles/malformed.yaml");
  // yaml-cpp finds the unclosed list at the end of the file (line 4, after the last newline).
  CHECK(load_error_of(file) == file.string() + ":4: malformed YAML: end of sequence flow not found");
}

TEST_CASE("profile: hostile input ends in a profile or a BadInput error", "[profile]") {
  // Nesting past yaml-cpp's depth limit.
  CHECK_THAT(error_of("model: " + std::string(100000, '[')), Contains("malformed YAML"));
  CHECK_THAT(error_of("model: " + std::string(5000, '{') + "a: 1" + std::string(5000, '}')),
             Contains("malformed YAML"));
  // Aliases that would grow exponentially if copied: yaml-cpp shares nodes, and the schema rejects them anyway.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'z'; ++c) {  // z: &z [*y, *y, ...] -> 8^25 leaves if expanded
    const std::string previous(1, static_cast<char>(c - 1));
    std::string items;
    for (int i = 0; i < 8; ++i) items += (i == 0 ? "*" : ", *") + previous;
    bomb += std::string(1, c) + ": &" + c + " [" + items + "]\n";
  }
  CHECK_THAT(error_of(bomb), StartsWith("p.yaml:1: unknown section 'a'"));
  CHECK_THAT(error_of("x: &x [1, 2]\noutputs:\n  emit: [*x, *x, *x]\n"), StartsWith("p.yaml:1: unknown section 'x'"));
  CHECK(error_of("outputs:\n  emit: &e [k8s, vllm-args]\n") == "(no error)");
  // Binary junk and control bytes.
  CHECK_THAT(error_of(std::string("\x01\x02\xff\xfe: 3\n")), StartsWith("p.yaml:1: unknown section '\\x01\\x02"));
  CHECK_THAT(error_of(std::string("model:\n  id: \"a\\0b\"\n")), Contains("model.id: must be one line"));
  CHECK_THAT(error_of(std::string("\0\0\0\x7f", 4)), StartsWith("p.yaml"));
  CHECK_THAT(error_of(std::string("\xef\xbb\xbfmodel:\n  foo: 1\n")), StartsWith("p.yaml:2: unknown key 'model.foo'"));
  // Tabs: not allowed as YAML indentation; fine as separation after a colon.
  CHECK_THAT(error_of("model:\n\tid: x\n"), StartsWith("p.yaml:2: malformed YAML"));
  CHECK(parse("model:\n  id:\tx\n").model_id == "x");
  // Several documents: a profile is one.
  CHECK(error_of("model: {id: a}\n---\nmodel: {id: b}\n") ==
        "p.yaml:2: a profile is one YAML document; another one starts here");
  // A stray ',' where a value should start: yaml-cpp's LoadAll would loop forever on it.
  CHECK(error_of("# comment\n,\n") == "p.yaml:2: malformed YAML: unexpected token");
  CHECK(error_of("model:\n  id: x\n,\n") == "p.yaml:3: malformed YAML: end of map not found");
  // Explicit tags do not make a string a number.
  CHECK_THAT(error_of("hardware:\n  gpus: !!str 2\n"), Contains("hardware.gpus: must be a positive whole number"));
}

TEST_CASE("profile: examples/deploy.yaml parses", "[profile]") {
  const fs::path example = testsupport::repo_data("..") / "examples" / "deploy.yaml";
  const Profile p = load_profile(example);
  CHECK(p.model_id == "meta-llama/Llama-3.1-8B");  // in the bundled catalog, so the example runs offline
  CHECK(p.sku == "A100-80G");
  CHECK(p.gpus == 1u);
  CHECK(p.max_model_len == 8192u);
  CHECK(p.gpu_memory_utilization == Approx(0.90));
  CHECK(p.emit.empty());  // the example prints the report; emit is shown commented out
  CHECK(p.vllm_args == Flags{{"--enable-prefix-caching", ""}, {"--max-num-seqs", "64"}});
}

TEST_CASE("profile: unreadable profile files", "[profile]") {
  testsupport::TempDir dir;
  const fs::path missing = dir.path() / "missing.yaml";
  CHECK(load_error_of(missing) == missing.string() + ": cannot read profile: no such file or directory");
  CHECK(load_error_of(dir.path()) == dir.path().string() + ": cannot read profile: is a directory");

  const fs::path big = dir.path() / "big.yaml";
  testsupport::write_file(big, "# " + std::string(1024 * 1024, 'x') + "\n");
  CHECK(load_error_of(big) ==
        big.string() + ": cannot read profile: 1048579 bytes is over the 1 MiB limit for profiles");

  // Just under the limit is read (and here parses as an empty profile).
  const fs::path fits = dir.path() / "fits.yaml";
  testsupport::write_file(fits, "# " + std::string(1024 * 1024 - 3, 'x') + "\n");
  CHECK(all_unset(load_profile(fits)));
}

TEST_CASE("profile: a leading ~ is the home directory", "[profile]") {
  testsupport::TempDir home;
  testsupport::write_file(home.path() / "deploy.yaml", "model:\n  id: org/model\n");
  testsupport::EnvVar env("HOME", home.path().string());
  const Profile p = load_profile("~/deploy.yaml");
  CHECK(p.model_id == "org/model");
  CHECK(p.origin == "~/deploy.yaml");
  CHECK(load_error_of("~/absent.yaml") == "~/absent.yaml: cannot read profile: no such file or directory");
}
