#include "sources/json_scan.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace vramcalc::detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view t, std::size_t i) {
  while (i < t.size() && is_space(t[i])) ++i;
  return i;
}

// `i` at an opening quote: the index of the closing quote, or npos. Most of a data file is string contents, so
// the next quote is found with memchr; it closes the string unless an odd number of backslashes precede it.
std::size_t string_end(std::string_view t, std::size_t i) {
  const std::size_t open = i;
  while (i + 1 < t.size()) {
    const void* quote = std::memchr(t.data() + i + 1, '"', t.size() - i - 1);
    if (quote == nullptr) break;
    const auto j = static_cast<std::size_t>(static_cast<const char*>(quote) - t.data());
    std::size_t k = j;
    while (k > open + 1 && t[k - 1] == '\\') --k;
    if ((j - k) % 2 == 0) return j;
    i = j;  // an escaped quote: look further
  }
  return std::string_view::npos;
}

// `i` at the start of a value: the index just past it, where a ',' or the closing bracket of its container is
// expected (npos when the text ends first or brackets do not pair).
std::size_t value_end(std::string_view t, std::size_t i) {
  int depth = 0;
  std::size_t last = i;  // just past the last non-space character of the value
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '"') {
      i = string_end(t, i);
      if (i == std::string_view::npos) return i;
      last = i + 1;
      continue;
    }
    if (depth == 0 && (c == ',' || c == '}' || c == ']')) return last;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    if (!is_space(c)) last = i + 1;
  }
  return depth == 0 ? last : std::string_view::npos;
}

// The elements of a container opened at t[0] (`open`), closed by `close`, with `element` checking each value.
template <typename Element>
bool scan_container(std::string_view t, char open, char close, Element element) {
  std::size_t i = skip_space(t, 0);
  if (i >= t.size() || t[i] != open) return false;
  i = skip_space(t, i + 1);
  if (i < t.size() && t[i] == close) return skip_space(t, i + 1) == t.size();
  while (i < t.size()) {
    const std::size_t consumed = element(t, i);
    if (consumed == std::string_view::npos) return false;
    i = skip_space(t, consumed);
    if (i >= t.size()) return false;
    if (t[i] == close) return skip_space(t, i + 1) == t.size();
    if (t[i] != ',') return false;
    i = skip_space(t, i + 1);
  }
  return false;
}

}  // namespace

std::optional<std::vector<JsonMember>> scan_object(std::string_view text) {
  std::vector<JsonMember> members;
  const bool ok = scan_container(text, '{', '}', [&](std::string_view t, std::size_t i) {
    if (t[i] != '"') return std::string_view::npos;
    const std::size_t key_end = string_end(t, i);
    if (key_end == std::string_view::npos) return key_end;
    const std::string_view key = t.substr(i + 1, key_end - i - 1);
    if (key.find('\\') != std::string_view::npos) return std::string_view::npos;
    std::size_t v = skip_space(t, key_end + 1);
    if (v >= t.size() || t[v] != ':') return std::string_view::npos;
    v = skip_space(t, v + 1);
    const std::size_t end = value_end(t, v);
    if (end == std::string_view::npos || end == v) return std::string_view::npos;
    members.push_back({key, t.substr(v, end - v)});
    return end;
  });
  if (!ok) return std::nullopt;
  return members;
}

std::optional<std::vector<std::string_view>> scan_object_array(std::string_view text) {
  std::vector<std::string_view> elements;
  const bool ok = scan_container(text, '[', ']', [&](std::string_view t, std::size_t i) {
    if (t[i] != '{') return std::string_view::npos;
    const std::size_t end = value_end(t, i);
    if (end == std::string_view::npos || t[end - 1] != '}') return std::string_view::npos;
    elements.push_back(t.substr(i, end - i));
    return end;
  });
  if (!ok) return std::nullopt;
  return elements;
}

std::optional<std::string_view> unique_member(const std::vector<JsonMember>& members, std::string_view key) {
  std::optional<std::string_view> found;
  for (const auto& m : members) {
    if (m.key != key) continue;
    if (found) return std::nullopt;
    found = m.value;
  }
  return found;
}

bool contains_icase(std::string_view text, std::string_view needle) {
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  return std::search(text.begin(), text.end(), needle.begin(), needle.end(), same) != text.end();
}

}  // namespace vramcalc::detail
