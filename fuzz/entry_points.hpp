// The entry points the fuzz targets drive, shared with tests/test_fuzz_regressions.cpp so that every crash the
// fuzzers find is replayed by the test suite through exactly the same calls. Header-only: the Catch2 binary
// compiles only tests/*.cpp, and each fuzz target is a single file.
//
// An input ends in one of two clean outcomes: accepted (a result, which is then pushed downstream as far as is
// cheap), or rejected with a vramcalc::Error. Any other exception escapes on purpose: it is a bug, and libFuzzer
// reports it as a crash (the CLI would turn it into "internal error").
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/model/architecture.hpp"
#include "vramcalc/render/render.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/hub.hpp"
#include "vramcalc/sources/manifest.hpp"
#include "vramcalc/sources/profile.hpp"
#include "vramcalc/sources/safetensors.hpp"
#include "vramcalc/sources/vllm_log.hpp"

// Private headers, by relative path: the tests are not built with src/ on their include path.
#include "cli/check/result.hpp"
#include "cli/check/server_args.hpp"
#include "cli/options.hpp"
#include "sources/hub_parse.hpp"
#include "sources/json_scan.hpp"

namespace vramcalc::fuzzing {

struct Outcome {
  bool accepted = true;
  ExitCode code = ExitCode::Fits;  // the Error's code when rejected
  std::string message;             // the Error's message when rejected
};

// What in `text` a terminal must not see, "" when nothing: a C0 control character (a '\n' is one too unless
// `several_lines`, where it is the line break), DEL, a C1 control character (U+0080-U+009F, two bytes in UTF-8) or
// bytes that are not UTF-8. Written apart from vramcalc/core/printable.hpp on purpose: it checks that code.
inline std::string text_problem(std::string_view text, bool several_lines) {
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto where = [&](std::size_t i, const char* what) {
    return std::string(what) + " at byte " + std::to_string(i) + " of " + std::to_string(text.size());
  };
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char b = at(i);
    if (b == '\n' && several_lines) {
      ++i;
    } else if (b < 0x20 || b == 0x7f) {
      return where(i, b == '\n' ? "a line break in one line" : "a control character");
    } else if (b < 0x80) {
      ++i;
    } else {
      // A UTF-8 sequence: its length from the lead byte, then continuation bytes, no overlong forms, no surrogates,
      // nothing above U+10FFFF.
      const std::size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
      if (n == 0 || b > 0xF4 || i + n > text.size()) return where(i, "bytes that are not UTF-8");
      std::uint32_t cp = b & (0xFF >> (n + 1));
      for (std::size_t k = 1; k < n; ++k) {
        if ((at(i + k) & 0xC0) != 0x80) return where(i, "bytes that are not UTF-8");
        cp = cp << 6 | (at(i + k) & 0x3F);
      }
      const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp < smallest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return where(i, "bytes that are not UTF-8");
      if (cp <= 0x9F) return where(i, "a C1 control character");
      i += n;
    }
  }
  return "";
}

// What is wrong with an outcome, "" when it is clean: a rejection must carry exit code 2 or 3 and a non-empty
// one-line message with no control character (the CLI prints it after "vram-calc: " and promises one line).
inline std::string outcome_problem(const Outcome& o) {
  if (o.accepted) return "";
  if (o.code != ExitCode::BadInput && o.code != ExitCode::RemoteFailed)
    return "rejected with exit code " + std::to_string(static_cast<int>(o.code));
  if (o.message.empty()) return "rejected with an empty message";
  if (const auto problem = text_problem(o.message, false); !problem.empty())
    return "rejected with a message that is not one printable line (" + problem +
           "): " + nlohmann::json(o.message).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  return "";
}

// Rendered output (a table, Markdown, JSON, a command, a manifest) must be lines of printable text: throws
// std::logic_error, which escapes like any other bug, when `text` holds anything else.
inline const std::string& checked_output(const char* what, const std::string& text) {
  if (const auto problem = text_problem(text, true); !problem.empty())
    throw std::logic_error(std::string("rendered ") + what + " holds " + problem);
  return text;
}

// Runs `body`, turning a vramcalc::Error into a rejection. Nothing else is caught.
template <typename Body>
Outcome guarded(Body&& body) {
  try {
    body();
    return {};
  } catch (const Error& e) {
    return {false, e.code(), e.what()};
  }
}

// What plans are made against, built by hand so that no data file is read: an 8-GPU H100 node, or a 4-GPU T4 node
// (no bfloat16, no fp8: the warnings and float16 paths).
inline Sku fuzz_sku(bool with_bf16) {
  Sku sku;
  sku.name = with_bf16 ? "fuzz-8xH100" : "fuzz-4xT4";
  sku.gpu.name = with_bf16 ? "H100-80G" : "T4";
  sku.gpu.vendor = "NVIDIA";
  sku.gpu.memory_gib_marketed = with_bf16 ? 80 : 16;
  sku.gpu.memory_mib_reported = with_bf16 ? 81559 : 15360;
  sku.gpu.cuda_total_mib_observed = {with_bf16 ? 81008ULL : 14930ULL};
  sku.gpu.bf16 = with_bf16;
  sku.gpu.fp8 = with_bf16;
  sku.gpus_per_node = with_bf16 ? 8 : 4;
  sku.is_instance = true;
  return sku;
}

// The report of a run over an accepted model, through the CLI's own pipeline (report/build.hpp): weights, KV cache,
// the model-level warnings (with a profile's notes) and the plan of one memory model (kMethods[`method_index` modulo
// their number], engines/method.hpp), with suggestions, rendered as JSON, a table, Markdown, CSV and commands, so
// that the renderers see every string a report can carry. One memory model per input keeps executions fast; inputs
// of different lengths reach every one.
inline void plan_and_render(const ModelInput& input, const ReportSettings& settings, const Sku& sku,
                            std::size_t method_index, const std::vector<Emit>& emits = {},
                            const std::vector<std::string>& notes = {}) {
  ReportRequest request{settings, notes, {&sku}, true};
  request.settings.method = kMethods[method_index % kMethods.size()].method;
  const Report r = build_report(input, request);
  const SkuPlan& plan = r.plans.front();
  (void)checked_output("JSON", render_json(r, false));
  (void)checked_output("table", render_table(r, false));
  (void)checked_output("Markdown", render_markdown(r, false));
  (void)checked_output("CSV", render_csv({SweepPoint{"", "", r}}));
  (void)checked_output("command",
                       render_emit(r, plan, r.settings.method == Method::Tgi ? Emit::TgiCommand : Emit::VllmCommand));
  for (const auto& what : emits) (void)checked_output("--emit output", render_emit(r, plan, what));
}

// The model id a config names for itself (_name_or_path, as transformers writes it), else `fallback`: text from the
// file that then reaches every renderer and the k8s manifest as the model id, as a directory name would.
inline std::string id_from_config(const nlohmann::json& config, const std::string& fallback) {
  if (!config.is_object()) return fallback;
  const auto it = config.find("_name_or_path");
  return it != config.end() && it->is_string() && !it->get<std::string>().empty() ? it->get<std::string>() : fallback;
}

// fuzz_config: config.json text, as a local file or the Hub would hand it over, through the whole plan.
inline Outcome run_config(std::string_view text) {
  return guarded([&] {
    ModelInput input;
    input.origin = "fuzz";
    input.config = parse_json_relaxed(text, "config.json");
    input.id = id_from_config(input.config, "fuzz/config");
    plan_and_render(input, ReportSettings{}, fuzz_sku(text.size() / kMethods.size() % 2 == 0), text.size(),
                    {Emit::VllmArgs, Emit::K8s});
  });
}

// A small, valid Llama-like config: the model the other targets plan with.
inline const nlohmann::json& fixed_config() {
  static const nlohmann::json config = {{"model_type", "llama"},
                                        {"architectures", {"LlamaForCausalLM"}},
                                        {"hidden_size", 512},
                                        {"num_hidden_layers", 4},
                                        {"num_attention_heads", 8},
                                        {"num_key_value_heads", 2},
                                        {"intermediate_size", 1024},
                                        {"vocab_size", 1000},
                                        {"max_position_embeddings", 4096},
                                        {"torch_dtype", "bfloat16"}};
  return config;
}

// fuzz_safetensors: an 8-byte length prefix, then header JSON (the declared length is checked, then the rest of
// the input is parsed whatever its length, so the fuzzer need not match the two). An accepted header is merged
// twice, as shards are, and its totals are the weight figure of a plan.
inline Outcome run_safetensors(std::string_view bytes) {
  return guarded([&] {
    if (bytes.size() < 8) fail_input("shorter than the 8-byte header length");
    (void)safetensors_header_length(reinterpret_cast<const unsigned char*>(bytes.data()), "fuzz.safetensors");
    const SafetensorsSummary s = parse_safetensors_header(bytes.substr(8), "fuzz.safetensors");
    SafetensorsSummary total;
    merge_summary(total, s);
    merge_summary(total, s);
    ModelInput input;
    input.id = "fuzz/safetensors";
    input.config = fixed_config();
    input.safetensors = total;
    const Sku sku = fuzz_sku(true);
    const Report r = build_report(input, ReportRequest{ReportSettings{}, {}, {&sku}, false});
    // Tensor names and dtypes from the header reach warnings: every renderer that prints them.
    (void)checked_output("JSON", render_json(r, false));
    (void)checked_output("table", render_table(r, false));
    (void)checked_output("Markdown", render_markdown(r, false));
  });
}

// The options a profile yields, through the CLI's own merging (flags left unset, so the profile fills them).
// The profile goes to a file because that is what --profile reads.
inline cli::Options options_from_profile(std::string_view text) {
  // One file per process, rewritten for each input and removed at exit.
  struct ScratchFile {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("vram-calc-fuzz-profile-" + std::to_string(::getpid()) + ".yaml");
    ~ScratchFile() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  };
  static const ScratchFile file;
  {
    std::ofstream out(file.path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  // --model and --sku are required; given here, they override the profile's (which are only names anyway).
  std::vector<std::string> args = {"vram-calc", "--profile", file.path.string(), "--model", "fuzz/model",
                                   "--sku",     "fuzz"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return cli::parse_options(static_cast<int>(args.size()), argv.data());
}

// fuzz_profile: YAML text through parse_profile; an accepted profile then sets the options of a run through the
// CLI's own merging, and that run is planned for a fixed model on a fixed SKU, with the profile's --emit outputs.
inline Outcome run_profile(std::string_view text) {
  return guarded([&] {
    (void)parse_profile(text, "fuzz.yaml", cli::profile_choices());
    const cli::Options o = options_from_profile(text);
    ModelInput input;
    input.id = "fuzz/profile";
    input.config = fixed_config();
    ReportSettings settings = o.report;
    settings.weights = o.weights;
    plan_and_render(input, settings, fuzz_sku(true), text.size(), o.emit, o.notes);
  });
}

// fuzz_hub: the first byte picks which part of the Hub client reads the rest, as a response body or header.
enum class HubPart : std::uint8_t {
  SafetensorsIndex,  // model.safetensors.index.json
  PytorchIndex,      // pytorch_model.bin.index.json
  MistralParams,     // params.json, converted and normalized
  ConfigBody,        // config.json as the Hub sends it, normalized
  FirstRange,        // a first range of a .safetensors file
  SizeHeader,        // x-linked-size / content-length
  Location,          // a redirect: "<base URL>\n<Location header>", and hub ids
  Count,
};

inline Outcome run_hub(std::string_view data) {
  return guarded([&] {
    if (data.empty()) return;
    const auto selector = static_cast<std::uint8_t>(data[0]);
    const auto part = static_cast<HubPart>(selector % static_cast<std::uint8_t>(HubPart::Count));
    const std::string body(data.substr(1));
    const std::string origin = "fuzz of acme/model (hub)";
    switch (part) {
      case HubPart::SafetensorsIndex: {
        const auto index = hub_detail::read_safetensors_index(body, false, origin);
        for (const auto& [shard, estimate] : index.shards) {
          const std::size_t bytes = hub_detail::shard_first_range_bytes(estimate);
          if (bytes < 16 * 1024 || bytes > kSpeculativeRangeBytes) std::abort();  // the range is always bounded
        }
        break;
      }
      case HubPart::PytorchIndex:
        (void)hub_detail::pytorch_index_total(hub_detail::parse_json_body(body, false, origin));
        break;
      case HubPart::MistralParams: {
        const auto config = config_from_mistral_params(hub_detail::parse_json_body(body, false, origin), origin);
        (void)normalize_config(config, origin);
        break;
      }
      case HubPart::ConfigBody: {
        // Planned and rendered as fuzz_config does: the Hub's strings reach the terminal the same way.
        ModelInput input;
        input.origin = origin;
        input.config = hub_detail::parse_json_body(body, false, origin);
        input.id = id_from_config(input.config, "acme/model");
        plan_and_render(input, ReportSettings{}, fuzz_sku(true), body.size(), {Emit::K8s});
        break;
      }
      case HubPart::FirstRange: {
        const std::uint64_t length = hub_detail::first_range_header_length(body, origin);
        if (body.size() >= 8 + length) {
          auto s = parse_safetensors_header(std::string_view(body).substr(8, length), origin, ExitCode::RemoteFailed);
          SafetensorsSummary total;
          merge_summary(total, s);
        }
        break;
      }
      case HubPart::SizeHeader: (void)hub_detail::parse_size_header(body); break;
      case HubPart::Location: {
        const auto newline = body.find('\n');
        const std::string base = body.substr(0, newline);
        const std::string location = newline == std::string::npos ? "" : body.substr(newline + 1);
        (void)url_origin(base);
        (void)url_origin(resolve_location(base, location));
        (void)is_hub_id(location);
        break;
      }
      case HubPart::Count: break;
    }
  });
}

// True when a '[' or '{' outside string literals opens a container deeper than `limit` levels.
inline bool nests_deeper_than(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// fuzz_json_scan: the quick scan behind the bundled catalogs' lookups (src/sources/json_scan.hpp), checked
// against nlohmann's parse of the same text. It never rejects: where nlohmann accepts an object (or an array of
// objects), the scan must succeed unless a key is written with an escape (it gives up on those by design), and
// every value it cuts must parse on its own to what nlohmann found under that key (or index). A disagreement
// throws std::logic_error, which escapes like any other bug.
inline Outcome run_json_scan(std::string_view text) {
  using nlohmann::json;
  auto parse = [](std::string_view t) { return json::parse(t.begin(), t.end(), nullptr, false); };
  auto disagree = [](const char* what) { throw std::logic_error(std::string("json scan: ") + what); };
  const auto members = detail::scan_object(text);
  const auto elements = detail::scan_object_array(text);
  (void)detail::contains_icase(text, "a100");
  // nlohmann's lexer ends the input at a NUL byte ("[]\0x" parses as []); the scan, stricter, gives up there.
  if (text.find('\0') != std::string_view::npos) return {};
  // The comparisons below recurse through nlohmann's DOM (operator==), which 10k levels overflow: past the depth
  // every reader refuses, only the scan itself (iterative, above) is exercised.
  if (nests_deeper_than(text, limits::kMaxJsonDepth)) return {};
  const json doc = parse(text);
  if (doc.is_object()) {
    // A valid object is only refused for a key written with an escape, which the parsed key need not show
    // ("\u0041" is "A"), so a text without any backslash must scan.
    if (!members && text.find('\\') == std::string_view::npos) disagree("a valid object was not scanned");
    if (members) {
      std::set<std::string> keys;
      for (const auto& m : *members) keys.insert(std::string(m.key));
      if (keys.size() != doc.size()) disagree("the scanned keys are not the parsed object's keys");
      for (const auto& m : *members) {
        const json value = parse(m.value);
        if (value.is_discarded()) disagree("a scanned value does not parse on its own");
        if (detail::unique_member(*members, m.key) && value != doc.at(std::string(m.key)))
          disagree("a scanned value differs from the parsed one");
      }
    }
  }
  if (doc.is_array()) {
    bool all_objects = true;
    for (const auto& e : doc) all_objects = all_objects && e.is_object();
    if (!elements && all_objects) disagree("a valid array of objects was not scanned");
    if (elements) {
      if (!all_objects || elements->size() != doc.size()) disagree("the scanned elements are not the parsed array's");
      for (std::size_t i = 0; i < elements->size(); ++i)
        if (parse((*elements)[i]) != doc[i]) disagree("a scanned element differs from the parsed one");
    }
  }
  return {};
}

// fuzz_manifest: Kubernetes YAML through vram-calc check's reading (no planning: that is fuzz_config's and
// fuzz_profile's): the manifest reader, each workload's server settings and vram-calc flags, and every output
// format, which must stay free of control characters whatever the manifest holds. Never throws for bad YAML: a
// syntax error is a recorded read error.
inline Outcome run_manifest(std::string_view text) {
  return guarded([&] {
    ManifestReader reader;
    reader.add(text, "fuzz.yaml");
    cli::CheckRun run;
    run.input = reader.read();
    for (const auto& w : run.input.workloads) {
      cli::CheckResult r;
      r.workload = w;
      const cli::ServerSettings s = cli::read_server_settings(w, std::nullopt);
      r.unknowns = s.unknowns;
      r.notes = s.notes;
      (void)cli::vram_calc_flags(s, r.notes);
      (void)cli::vllm_version_of_image(w.image);
      if (s.model) r.model = *s.model;
      run.results.push_back(std::move(r));
    }
    for (const auto& format : cli::check_formats()) {
      const std::string out = format.render(run);
      const bool lines = true;
      if (const auto problem = text_problem(out, lines); !problem.empty())
        throw std::logic_error("check --format " + std::string(format.name) + ": " + problem);
    }
  });
}

// fuzz_vllm_log: any bytes as a vLLM startup log (vram-calc explain-log). The reader never throws and never
// rejects; every string it keeps (evidence, settings, the error line) is one line of printable UTF-8 within its caps
// (200 evidence lines of at most 1000 bytes); redact_log_text gives printable lines; the calibration record is one
// line of JSON that parses back, with a stable id. Time: libFuzzer's -timeout (scripts/fuzz: 10 s, inputs up to
// 64 KB) catches a super-linear path; tests/sources/test_vllm_log_record.cpp checks linear time on 1 MiB inputs.
inline Outcome run_vllm_log(std::string_view text) {
  return guarded([&] {
    const VllmLog log = parse_vllm_log(text);
    const auto line = [](const char* what, const std::string& s) {
      if (const auto problem = text_problem(s, false); !problem.empty())
        throw std::logic_error(std::string("vllm log ") + what + " holds " + problem);
    };
    if (log.evidence.size() > 200) throw std::logic_error("vllm log: more than 200 evidence lines");
    for (const auto& e : log.evidence) {
      line("evidence", e);
      if (e.size() > 1000 || e.empty())
        throw std::logic_error("vllm log: an evidence line of " + std::to_string(e.size()) + " bytes");
    }
    line("error line", log.error.line);
    const VllmLogSettings& s = log.settings;
    for (const auto* v : {&s.model, &s.version, &s.dtype, &s.kv_cache_dtype, &s.quantization, &s.cudagraph_mode,
                          &s.speculative_config, &s.gpu_name, &s.platform})
      if (*v) line("setting", **v);
    if (log.memory_lines == 0 && log.ranks != 1) throw std::logic_error("vllm log: ranks without memory lines");
    (void)checked_output("redacted log", redact_log_text(text));
    const std::string record = vllm_log_record(log);
    line("record", record);
    const auto doc = nlohmann::json::parse(record, nullptr, false);
    if (!doc.is_object() || !doc.contains("id") || doc["id"].get<std::string>().size() != 17)
      throw std::logic_error("vllm log: the record is not a JSON object with an id");
    if (vllm_log_record(parse_vllm_log(text)) != record) throw std::logic_error("vllm log: the record is not stable");
  });
}

}  // namespace vramcalc::fuzzing
