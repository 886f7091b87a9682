#include "vramcalc/core/json_relaxed.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vramcalc/core/limits.hpp"

namespace vramcalc {
namespace {

using nlohmann::json;

// Python's json module writes these bare words for non-finite floats; standard JSON has no spelling for them.
constexpr std::string_view kInfinity = "Infinity";
constexpr std::string_view kNaN = "NaN";

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '$' || static_cast<unsigned char>(c) >= 0x80;
}

// One rewritten bare word: where it was in the original text and where its sentinel is in the rewritten text.
struct Replacement {
  std::size_t original_pos;
  std::size_t original_len;
  std::size_t rewritten_pos;
  std::size_t rewritten_len;
};

// The rewritten text plus the sentinel number literals that stand for the bare words. The sentinels are
// valid, finite JSON numbers whose exact spelling does not occur anywhere in the original text, so a number
// token spelled exactly like a sentinel can only come from the rewrite.
struct Rewrite {
  std::string text;
  std::string inf_sentinel;  // "-" + inf_sentinel stands for -Infinity
  std::string nan_sentinel;
  std::vector<Replacement> replacements;
};

// "<prefix>e<n>" for the smallest n whose spelling does not occur anywhere in `text` (strings included, which
// is conservative). Such a literal is a finite JSON number (0.0), so nlohmann accepts it.
std::string pick_sentinel(std::string_view text, std::string_view prefix) {
  for (std::size_t n = 0;; ++n) {
    std::string candidate = fmt::format("{}e{}", prefix, n);
    if (text.find(candidate) == std::string_view::npos) return candidate;
  }
}

// Token-aware pre-pass: outside string literals, bare `Infinity` and `NaN` (with no word character on either
// side) become sentinel number literals. A leading '-' stays where it is, so `-Infinity` becomes "-<sentinel>".
Rewrite rewrite_bare_words(std::string_view text) {
  Rewrite r;
  // Sentinel lengths differ from the words they replace; error offsets are mapped back (original_offset).
  r.inf_sentinel = pick_sentinel(text, "0.0");
  r.nan_sentinel = pick_sentinel(text, "0");
  r.text.reserve(text.size() + 16);

  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      r.text.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        r.text.push_back(text[++i]);  // the escaped character (e.g. \") never ends the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      r.text.push_back(c);
      continue;
    }
    const bool boundary_before = i == 0 || !is_word_char(text[i - 1]);
    if (boundary_before && (c == 'I' || c == 'N')) {
      const std::string_view word = c == 'I' ? kInfinity : kNaN;
      const std::size_t end = i + word.size();
      const bool negated_nan = c == 'N' && i > 0 && text[i - 1] == '-';  // not a Python spelling: leave it malformed
      if (!negated_nan && text.substr(i, word.size()) == word && (end == text.size() || !is_word_char(text[end]))) {
        const std::string& sentinel = c == 'I' ? r.inf_sentinel : r.nan_sentinel;
        r.replacements.push_back(Replacement{i, word.size(), r.text.size(), sentinel.size()});
        r.text += sentinel;
        i = end - 1;
        continue;
      }
    }
    r.text.push_back(c);
  }
  return r;
}

// Maps an offset in the rewritten text back to the original text.
std::size_t original_offset(std::size_t rewritten, const std::vector<Replacement>& replacements) {
  std::ptrdiff_t delta = 0;  // original - rewritten, accumulated over replacements before `rewritten`
  for (const auto& rep : replacements) {
    if (rewritten < rep.rewritten_pos) break;
    if (rewritten < rep.rewritten_pos + rep.rewritten_len)
      return rep.original_pos + std::min(rewritten - rep.rewritten_pos, rep.original_len - 1);
    delta += static_cast<std::ptrdiff_t>(rep.original_len) - static_cast<std::ptrdiff_t>(rep.rewritten_len);
  }
  return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(rewritten) + delta);
}

// Builds the DOM like nlohmann's own parser, turning the sentinel numbers back into +/-inf and null,
// and remembering where a parse error happened.
class RelaxedDomBuilder : public nlohmann::json_sax<json> {
 public:
  RelaxedDomBuilder(const std::string& inf_sentinel, const std::string& nan_sentinel)
      : enabled_(!inf_sentinel.empty() && !nan_sentinel.empty()),
        inf_(inf_sentinel),
        neg_inf_("-" + inf_sentinel),
        nan_(nan_sentinel) {}

  bool null() override { return add(json(nullptr)); }
  bool boolean(bool val) override { return add(json(val)); }
  bool number_integer(number_integer_t val) override { return add(json(val)); }
  bool number_unsigned(number_unsigned_t val) override { return add(json(val)); }
  bool number_float(number_float_t val, const string_t& raw) override {
    if (!enabled_) return add(json(val));
    if (raw == inf_) return add(json(std::numeric_limits<double>::infinity()));
    if (raw == neg_inf_) return add(json(-std::numeric_limits<double>::infinity()));
    if (raw == nan_) return add(json(nullptr));
    return add(json(val));
  }
  bool string(string_t& val) override { return add(json(std::move(val))); }
  bool binary(binary_t& val) override { return add(json::binary(std::move(val))); }
  bool start_object(std::size_t /*elements*/) override {
    stack_.push_back(slot(json::object()));
    return true;
  }
  bool key(string_t& val) override {
    key_ = std::move(val);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*elements*/) override {
    stack_.push_back(slot(json::array()));
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/, const json::exception& ex) override {
    error_position_ = position;
    error_what_ = ex.what();
    return false;
  }

  json& result() { return root_; }
  [[nodiscard]] std::size_t error_position() const { return error_position_; }
  [[nodiscard]] const std::string& error_what() const { return error_what_; }

 private:
  // Places `value` in the current container (or as the root) and returns where it lives. Pointers stay valid:
  // an array only grows while its newest element is not open, and object members are map nodes.
  json* slot(json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& member = parent[key_];
    member = std::move(value);
    return &member;
  }
  bool add(json value) {
    slot(std::move(value));
    return true;
  }

  bool enabled_;  // false when the text had no bare words to restore
  std::string inf_, neg_inf_, nan_;
  json root_;
  std::vector<json*> stack_;
  std::string key_;
  std::size_t error_position_ = 0;
  std::string error_what_;
};

std::string replace_all(std::string s, const std::string& from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

}  // namespace

// "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..." -> "syntax error ...",
// one line, bounded length.
std::string json_error_reason(const std::string& what) {
  std::string reason = what;
  if (!reason.empty() && reason.front() == '[') {
    if (auto close = reason.find("] "); close != std::string::npos) reason.erase(0, close + 2);
  }
  if (reason.rfind("parse error", 0) == 0) {
    if (auto column = reason.find("column "); column != std::string::npos) {
      if (auto colon = reason.find(": ", column); colon != std::string::npos) reason.erase(0, colon + 2);
    }
  }
  for (char& c : reason) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  constexpr std::size_t kMaxReason = 200;
  if (reason.size() > kMaxReason) {
    reason.resize(kMaxReason);
    reason += "...";
  }
  if (reason.empty()) reason = "invalid JSON";
  return reason;
}

void throw_malformed_json(std::string_view text, std::size_t offset, const std::string& reason, std::string_view origin,
                          ExitCode on_error) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const std::size_t column = offset - line_start + 1;
  throw Error(on_error, fmt::format("{}: malformed JSON at line {}, column {}: {}", origin, line, column, reason));
}

// The offset of the first '[' or '{' that opens a container deeper than limits::kMaxJsonDepth, outside string
// literals; npos when the text nests no deeper. Linear and allocation-free, so it runs before any DOM is built:
// nlohmann's parser itself is iterative, but copying, dumping and comparing a DOM recurse once per level, and
// 64 MiB of '[' cost gigabytes of memory before the parse failed.
std::size_t json_nesting_overflow_at(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character never ends the string
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > limits::kMaxJsonDepth) return i;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;  // an unbalanced close is the parser's to report
        break;
      default: break;
    }
  }
  return std::string_view::npos;
}

json parse_json_relaxed(std::string_view text, std::string_view origin, ExitCode on_error) {
  // nlohmann's lexer takes a NUL byte for the end of the input, so "{...}\0anything" parsed as the object alone
  // (found by fuzz_json_scan). JSON text cannot hold a raw NUL (a string writes it \u0000): it is malformed where
  // it stands.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos)
    throw_malformed_json(text, nul, "a NUL byte (JSON text cannot contain one)", origin, on_error);
  if (const auto deep = json_nesting_overflow_at(text); deep != std::string_view::npos)
    throw_malformed_json(text, deep, fmt::format("nested deeper than {} levels", limits::kMaxJsonDepth), origin,
                         on_error);
  const char* const begin = text.data();
  const char* const end = text.data() + text.size();
  const bool has_bare_words =
      text.find(kInfinity) != std::string_view::npos || text.find(kNaN) != std::string_view::npos;

  if (!has_bare_words) {
    // Fast path: plain JSON. Errors are reported by the slow path below, which knows the position.
    json parsed = json::parse(begin, end, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) return parsed;
  }

  Rewrite rewrite;
  if (has_bare_words) rewrite = rewrite_bare_words(text);
  const std::string_view input = has_bare_words ? std::string_view(rewrite.text) : text;
  RelaxedDomBuilder builder(rewrite.inf_sentinel, rewrite.nan_sentinel);
  if (!json::sax_parse(input.data(), input.data() + input.size(), &builder)) {
    // nlohmann reports the 1-based count of characters read; the offending character is the last one read.
    const std::size_t rewritten = builder.error_position() > 0 ? builder.error_position() - 1 : 0;
    std::string reason = json_error_reason(builder.error_what());
    // The sentinels never occur in the original text, so any occurrence in the reason comes from the rewrite.
    // The Infinity sentinel ("0.0e<n>") may contain the NaN one ("0e<m>"), so it is put back first.
    if (has_bare_words) {
      reason = replace_all(reason, rewrite.inf_sentinel, "Infinity");
      reason = replace_all(reason, rewrite.nan_sentinel, "NaN");
    }
    throw_malformed_json(text, original_offset(rewritten, rewrite.replacements), reason, origin, on_error);
  }
  return std::move(builder.result());
}

}  // namespace vramcalc
