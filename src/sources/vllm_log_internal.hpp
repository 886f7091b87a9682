// Private helpers of the vLLM startup-log reader (vramcalc/sources/vllm_log.hpp), shared by its files:
//   vllm_log_text.cpp      a raw line made clean (container prefixes, ANSI, control bytes), numbers, the source
//   vllm_log_redact.cpp    secrets and local paths out of a clean line
//   vllm_log_pyrepr.cpp    Python reprs (the "non-default args" dict, the config line's key=value list)
//   vllm_log_lines.cpp     the memory figures, errors and start-up markers, by message text
//   vllm_log_settings.cpp  the settings lines
//   vllm_log.cpp           the whole log: ranks, merging, the result
// Everything here is linear in its input and never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vramcalc/sources/vllm_log.hpp"

namespace vramcalc::vllm_log_detail {

// ---- text (vllm_log_text.cpp) ----

// A raw line as a person reads it: a docker json-file record ({"log":"...","stream":...}) decoded, ANSI escape
// sequences (and their remnants "[1;36m" when a paste lost the ESC byte) removed, tabs as spaces, every other
// control byte and C1 character dropped, bytes that are not UTF-8 as '?', then the prefixes a container runtime
// adds (docker compose "service-1  | ", RFC 3339 timestamps of docker/kubectl, CRI "stdout F ", syslog, kubectl's
// "[pod/...] ") removed unless `strip_prefixes` is false.
std::string clean_line(std::string_view raw, bool strip_prefixes = true);

// `text` with runs of spaces as one space, trimmed.
std::string collapse_spaces(std::string_view text);

// A number at text[pos] (optional '-', digits with optional thousands separators "79,648", optional fraction);
// pos moves past it. Nothing (pos unchanged) when no digit is there.
std::optional<double> read_number(std::string_view text, std::size_t& pos);
std::optional<std::uint64_t> read_count(std::string_view text, std::size_t& pos);

// The number after `anchor` in `text` (after optional ':', '=', '(' and spaces), or nothing. `unit_needed`: the
// number must be followed by a byte unit (GiB/GB/MiB/MB, with or without a space), converted to GiB.
std::optional<double> number_after(std::string_view text, std::string_view anchor, bool unit_needed);
std::optional<std::uint64_t> count_after(std::string_view text, std::string_view anchor);
// A GiB figure at text[pos]: a number followed by a unit (GiB/GB as is, MiB/MB divided by 1024).
std::optional<double> gib_at(std::string_view text, std::size_t pos);
// The number that ends right before text[end] ("0.6" in "0.6 GiB for peak activation" with end at " GiB ..."),
// at most 40 bytes back.
std::optional<double> number_before(std::string_view text, std::size_t end);
// The number before `anchor` (" GiB for peak activation"): number_before at the anchor's position.
std::optional<double> number_before_anchor(std::string_view text, std::string_view anchor);

// Where a line came from: the "(EngineCore pid=187)", "(Worker_TP1 pid=119)", "(VllmWorker rank=2 pid=...)",
// "(VllmWorkerProcess pid=...)", "(RayWorkerWrapper pid=..., ip=...)", "[VllmWorker TP0]" prefix, or none.
struct LineSource {
  std::string key;  // the prefix's text without brackets, "" when none
  // 0: a worker whose ranks are all stated and 0 (Worker_TP0, VllmWorker rank=0, Worker_PP0_TP0); 1: the engine
  // process or no prefix (EngineCore, EngineCore_DP0, APIServer, a V0 driver); 2: a worker whose rank is not
  // stated (VllmWorkerProcess, RayWorkerWrapper: never the driver); 3: any stated rank other than 0.
  int tier = 1;
};
LineSource line_source(std::string_view line);

// The message of a clean line: what follows vLLM's "INFO 05-01 19:56:40 [file.py:123] " (or V0's
// "INFO 10-07 09:54:22 file.py:123] ") and the source prefix; the whole line when it has neither.
std::string_view message_of(std::string_view line);

// The first `max_bytes` bytes of valid UTF-8 `text`, cut at a character boundary.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

// ---- redaction (vllm_log_redact.cpp) ----

// One clean line with secrets and local paths replaced (vramcalc/sources/vllm_log.hpp, redact_log_text).
std::string redact_clean_line(std::string_view line);
// A model path as the settings keep it: "<local>/<last component>" for a local directory, "<hf-cache>/org/name"
// for a Hugging Face cache snapshot; `value` itself when it is not a path (a Hub id).
std::string redact_model_path(std::string_view value);

// ---- Python reprs (vllm_log_pyrepr.cpp) ----

// A Python (or JSON) literal as vLLM logs it: dicts, lists, tuples, strings, numbers, True/False/None, and any
// other repr ("<CUDAGraphMode.FULL: 2>", "SpeculativeConfig(...)") kept as raw text.
struct PyValue {
  enum class Kind { None, Bool, Number, String, List, Dict, Raw } kind = Kind::Raw;
  std::string text;                // a string's content, a number's or a raw repr's text
  bool flag = false;               // a Bool's value
  std::string key;                 // a Dict member's key ("" for a List element)
  std::vector<PyValue> items;      // a Dict's members, a List's elements
  std::size_t begin = 0, end = 0;  // where it was read: text.substr(begin, end - begin)

  const PyValue* find(std::string_view name) const;  // a Dict member, or nullptr
};

// The literal starting at text[pos] (spaces skipped); pos moves past it. Containers nested deeper than 32 levels
// are kept as Raw text. Never fails: what is not a literal becomes Raw, up to the next ',' or closing bracket.
PyValue read_py_value(std::string_view text, std::size_t& pos);

// The top-level "key=value" pairs of a config line's tail ("model='x', dtype=torch.bfloat16, c={...}"), each
// value as raw text (quotes kept); separators inside brackets and quotes are not split on.
std::vector<std::pair<std::string, std::string>> split_key_values(std::string_view text);

// ---- lines (vllm_log_lines.cpp, vllm_log_settings.cpp) ----

// What one line says: figures (per source), settings the figure lines imply, an error, start-up markers.
struct LineFacts {
  VllmLogFigures figures;
  VllmLogSettings implied;  // settings a figure or error line states (utilization, max_model_len, ...)
  VllmLogError error;
  bool memory = false;      // a memory figure or a memory error
  bool per_gpu = false;     // a figure each worker logs for its own GPU (weights, KV memory, graphs, ...)
  bool started = false;     // the engine reached serving
  bool v0_wording = false;  // wording only the V0 engine prints
  bool v1_wording = false;  // wording only the V1 engine prints
};

// The figures, errors and markers of one message (spaces collapsed). Returns whether anything was recognised.
bool read_line_facts(std::string_view message, LineFacts& facts);

// Settings lines: "non-default args: {...}", "Initializing a V1 LLM engine (v...) with config: ...", V0's
// "Initializing an LLM engine (v...) with config:", "args: Namespace(...)", the version banner, "Using max model
// len", "Chunked prefill is enabled with max_num_batched_tokens=", "Setting attention block size to", the platform
// and GPU names. Each kind of line fills its own layer; parse_vllm_log merges them.
struct SettingsLayers {
  VllmLogSettings config;  // the engine's config line (resolved values)
  VllmLogSettings args;    // what the user passed (non-default args, Namespace)
  VllmLogSettings lines;   // single-value lines and what figure lines imply
  VllmLogSettings info;    // version, platform, GPU name
  bool v0 = false, v1 = false;
};
// Returns whether the line is a settings line worth keeping as evidence (args, config, version banner).
bool read_settings_line(std::string_view line, SettingsLayers& layers);

// Fills `into`'s empty fields from `from` (settings: every optional and the capture sizes when empty).
void fill_missing(VllmLogSettings& into, const VllmLogSettings& from);
void fill_missing(VllmLogFigures& into, const VllmLogFigures& from);

}  // namespace vramcalc::vllm_log_detail
