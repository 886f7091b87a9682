// Python reprs as vLLM logs them (vllm_log_internal.hpp): the "non-default args" dict, the engine config line's
// key=value list and its compilation_config (a Python dict in newer releases, JSON in v0.10).
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sources/vllm_log_internal.hpp"

namespace vramcalc::vllm_log_detail {

namespace {

constexpr int kMaxDepth = 32;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' '; }
bool is_closer(char c) { return c == '}' || c == ']' || c == ')'; }

class PyReader {
 public:
  PyReader(std::string_view text, std::size_t pos) : s_(text), i_(pos) {}
  std::size_t pos() const { return i_; }

  PyValue value(int depth) {
    skip_spaces();
    const std::size_t begin = i_;
    PyValue v = scalar_or_container(depth);
    v.begin = begin;
    v.end = i_;
    return v;
  }

 private:
  std::string_view s_;
  std::size_t i_;

  PyValue scalar_or_container(int depth) {
    PyValue v;
    if (i_ >= s_.size()) return v;
    const char c = s_[i_];
    if ((c == '{' || c == '[' || c == '(') && depth < kMaxDepth) return container(depth);
    if (c == '\'' || c == '"') {
      v.kind = PyValue::Kind::String;
      v.text = string();
      return v;
    }
    v.text = raw();
    if (v.text == "None" || v.text == "null") v.kind = PyValue::Kind::None;
    else if (v.text == "True" || v.text == "true" || v.text == "False" || v.text == "false") {
      v.kind = PyValue::Kind::Bool;
      v.flag = v.text[0] == 'T' || v.text[0] == 't';
    } else if (!v.text.empty() && (is_digit(v.text[0]) || (v.text[0] == '-' && v.text.size() > 1))) {
      v.kind = PyValue::Kind::Number;
    }
    return v;
  }

  void skip_spaces() {
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
  }

  // A quoted string at i_: its content (\' and \\ unescaped); i_ past the closing quote.
  std::string string() {
    const char q = s_[i_++];
    std::string out;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      out += s_[i_++];
    }
    if (i_ < s_.size()) ++i_;
    return out;
  }

  // Anything else, up to a ',' ':' or closing bracket outside the brackets and quotes it opens ("<X.Y: (2, 1)>",
  // "SpeculativeConfig(method='mtp')", a number, a word). ':' ends it only outside brackets (a dict key).
  std::string raw() {
    const std::size_t start = i_;
    int depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\'' || c == '"') {
        (void)string();
        continue;
      }
      if (depth == 0 && (c == ',' || c == ':' || is_closer(c))) break;
      if (c == '{' || c == '[' || c == '(' || c == '<') ++depth;
      if ((is_closer(c) || c == '>') && depth > 0) --depth;
      ++i_;
    }
    std::string out(s_.substr(start, i_ - start));
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  }

  // A dict, list or tuple at i_.
  PyValue container(int depth) {
    const char open = s_[i_++];
    const char close = open == '{' ? '}' : open == '[' ? ']' : ')';
    PyValue v;
    v.kind = open == '{' ? PyValue::Kind::Dict : PyValue::Kind::List;
    while (true) {
      skip_spaces();
      if (i_ >= s_.size()) break;
      if (s_[i_] == close) {
        ++i_;
        break;
      }
      const std::size_t before = i_;
      std::string key;
      if (v.kind == PyValue::Kind::Dict) {
        key = value(depth + 1).text;
        skip_spaces();
        if (i_ < s_.size() && s_[i_] == ':') ++i_;
      }
      v.items.push_back(value(depth + 1));
      v.items.back().key = std::move(key);
      skip_spaces();
      if (i_ < s_.size() && s_[i_] == ',') ++i_;
      else if (i_ < s_.size() && s_[i_] != close) {
        if (i_ == before) ++i_;  // a stray byte (a closer of another kind): past it, so the loop always moves
      }
    }
    return v;
  }
};

}  // namespace

const PyValue* PyValue::find(std::string_view name) const {
  if (kind != Kind::Dict) return nullptr;
  for (const auto& v : items)
    if (v.key == name) return &v;
  return nullptr;
}

PyValue read_py_value(std::string_view text, std::size_t& pos) {
  PyReader reader(text, pos);
  PyValue v = reader.value(0);
  pos = reader.pos();
  return v;
}

std::vector<std::pair<std::string, std::string>> split_key_values(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  int depth = 0;
  const auto flush = [&](std::size_t end) {
    std::string_view item = text.substr(start, end - start);
    while (!item.empty() && is_space(item.front())) item.remove_prefix(1);
    while (!item.empty() && is_space(item.back())) item.remove_suffix(1);
    const std::size_t eq = item.find('=');
    if (eq != std::string_view::npos && eq > 0 && eq < 64)
      out.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'' || c == '"') {
      const char q = c;
      for (++i; i < text.size() && text[i] != q; ++i)
        if (text[i] == '\\') ++i;
      continue;
    }
    if (c == '{' || c == '[' || c == '(') ++depth;
    if (is_closer(c) && depth > 0) --depth;
    if (c == ',' && depth == 0) {
      flush(i);
      start = i + 1;
    }
  }
  flush(text.size());
  return out;
}

}  // namespace vramcalc::vllm_log_detail
