// A whole vLLM startup log (vramcalc/sources/vllm_log.hpp): each line cleaned, redacted and read
// (vllm_log_internal.hpp), then the ranks' figures merged and the settings layers combined.
//
// Ranks: each line's figures are kept per source (its "(Worker_TP1 pid=...)" prefix, or none). The figures of the
// log are those of the first rank: a worker whose stated ranks are all 0 (Worker_TP0, VllmWorker rank=0), else the
// engine process or the unprefixed driver (V0, a single-GPU V1 engine core), else a worker of unstated rank, else
// any other; a figure that rank does not state is taken from the next source in that order (an excerpt quoting
// rank 1's line for something rank 0's lines do not show). `ranks` counts the sources that logged a per-GPU figure.
//
// Failures: only errors seen before the engine started count (a log that reached serving exits 0). A logged
// "Available KV cache memory" at or below zero with no start is the "No available memory for the cache blocks"
// failure even when the excerpt stops before the error line (vLLM raises it for any such value).
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sources/vllm_log_internal.hpp"
#include "vramcalc/sources/vllm_log.hpp"

namespace vramcalc {

namespace {

using namespace vllm_log_detail;

constexpr std::size_t kMaxEvidenceLines = 200;
constexpr std::size_t kMaxEvidenceBytes = 1000;
constexpr std::size_t kMaxSources = 256;

struct SourceState {
  int tier = 1;
  std::size_t order = 0;
  VllmLogFigures figures;
  bool per_gpu = false;
};

class LogReader {
 public:
  VllmLog run(std::string_view text) {
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find_first_of("\r\n", start);
      if (end == std::string_view::npos) end = text.size();
      line(text.substr(start, end - start));
      start = end + 1;
    }
    finish();
    return std::move(log_);
  }

 private:
  VllmLog log_;
  SettingsLayers layers_;
  std::vector<SourceState> sources_;
  std::unordered_map<std::string, std::size_t> index_;
  bool v0_wording_ = false, v1_wording_ = false;

  SourceState* source(const LineSource& s) {
    const auto it = index_.find(s.key);
    if (it != index_.end()) return &sources_[it->second];
    if (sources_.size() >= kMaxSources) return nullptr;
    index_.emplace(s.key, sources_.size());
    sources_.push_back(SourceState{s.tier, sources_.size(), {}, false});
    return &sources_.back();
  }

  void keep(std::string_view line) {
    if (log_.evidence.size() >= kMaxEvidenceLines) return;
    std::string_view kept = utf8_prefix(line, kMaxEvidenceBytes);
    while (!kept.empty() && kept.back() == ' ') kept.remove_suffix(1);
    if (!kept.empty()) log_.evidence.emplace_back(kept);
  }

  void line(std::string_view raw) {
    const std::string clean = clean_line(raw);
    if (clean.find_first_not_of(' ') == std::string::npos) return;
    const std::string text = redact_clean_line(clean);
    const std::string flat = collapse_spaces(text);
    LineFacts facts;
    read_line_facts(flat, facts);
    const bool settings = read_settings_line(text, layers_);
    const LineSource from = line_source(text);
    if (from.key.rfind("EngineCore", 0) == 0) v1_wording_ = true;
    v0_wording_ = v0_wording_ || facts.v0_wording;
    v1_wording_ = v1_wording_ || facts.v1_wording;
    fill_missing(layers_.lines, facts.implied);
    if (facts.memory) {
      ++log_.memory_lines;
      if (SourceState* s = source(from)) {
        fill_missing(s->figures, facts.figures);
        s->per_gpu = s->per_gpu || facts.per_gpu;
      }
    }
    if (facts.error.kind != VllmLogFailure::None) error(facts.error, text);
    if (facts.started) log_.engine_started = true;
    if (facts.memory || facts.error.kind != VllmLogFailure::None || settings) keep(text);
  }

  // The first memory failure before the engine started; an error of another kind only until one is seen.
  void error(const VllmLogError& e, std::string_view text) {
    if (log_.engine_started) return;
    const VllmLogFailure now = log_.error.kind;
    if (now != VllmLogFailure::None && !(now == VllmLogFailure::Other && e.kind != VllmLogFailure::Other)) return;
    log_.error = e;
    log_.error.line = std::string(utf8_prefix(collapse_spaces(message_of(text)), kMaxEvidenceBytes));
  }

  void merge_figures() {
    std::vector<const SourceState*> order;
    for (const auto& s : sources_) order.push_back(&s);
    std::stable_sort(order.begin(), order.end(), [](const SourceState* a, const SourceState* b) {
      return a->tier != b->tier ? a->tier < b->tier : a->order < b->order;
    });
    const auto primary = std::find_if(order.begin(), order.end(), [](const SourceState* s) { return s->per_gpu; });
    if (primary != order.end()) fill_missing(log_.figures, (*primary)->figures);
    for (const SourceState* s : order) fill_missing(log_.figures, s->figures);
    const auto per_gpu =
        std::count_if(sources_.begin(), sources_.end(), [](const SourceState& s) { return s.per_gpu; });
    log_.ranks = std::max<std::size_t>(1, static_cast<std::size_t>(per_gpu));
  }

  void merge_settings() {
    VllmLogSettings& s = log_.settings;
    // A hybrid model's "Setting attention block size to N" overrides what was asked for.
    s.block_size = layers_.lines.block_size;
    fill_missing(s, layers_.config);
    fill_missing(s, layers_.args);
    fill_missing(s, layers_.lines);
    fill_missing(s, layers_.info);
    if (s.model) {
      if (s.model->rfind("<hf-cache>/", 0) == 0) s.model = s.model->substr(11);
      else if (s.model->rfind("<local>", 0) == 0) s.model_local = true;
    }
    if (layers_.v1 || layers_.v0) {
      s.v1_engine = layers_.v1;
      s.v0_engine = layers_.v0 && !layers_.v1;
    } else if (v0_wording_ != v1_wording_) {
      s.v0_engine = v0_wording_;
      s.v1_engine = v1_wording_;
    } else if (s.version) {
      // V1 is the only engine from 0.11 on.
      std::size_t i = 0;
      const auto major = read_count(*s.version, i);
      std::size_t j = i + 1;
      const auto minor = i < s.version->size() && (*s.version)[i] == '.' ? read_count(*s.version, j) : std::nullopt;
      s.v1_engine = major && minor && (*major > 0 || *minor >= 11);
    }
  }

  void finish() {
    merge_figures();
    merge_settings();
    const auto& kv = log_.figures.kv_cache_gib;
    if (!log_.engine_started && kv && *kv <= 0 &&
        (log_.error.kind == VllmLogFailure::None || log_.error.kind == VllmLogFailure::Other))
      log_.error.kind = VllmLogFailure::NoKvMemory;
    if (log_.engine_started) log_.error = VllmLogError{};
  }
};

}  // namespace

VllmLog parse_vllm_log(std::string_view text) { return LogReader().run(text); }

}  // namespace vramcalc
