#include "sources/json_scan.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
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

// The characters value_end stops at: quotes and brackets, and ',' (a value ends at one at depth 0).
constexpr std::array<bool, 256> kStops = [] {
  std::array<bool, 256> stops{};
  for (const unsigned char c : {'"', '{', '}', '[', ']', ','}) stops[c] = true;
  return stops;
}();

// Just past the last non-space character of t[start, i) (start when there is none).
std::size_t trim_back(std::string_view t, std::size_t start, std::size_t i) {
  while (i > start && is_space(t[i - 1])) --i;
  return i;
}

// `i` at the start of a value: the index just past it, where a ',' or the closing bracket of its container is
// expected (npos when the text ends first or brackets do not pair). Whole data files go through here, so the loop
// only looks at the characters in kStops and finds the end of the value's text by stepping back over spaces.
std::size_t value_end(std::string_view t, std::size_t i) {
  const std::size_t start = i;
  int depth = 0;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (!kStops[static_cast<unsigned char>(c)]) continue;
    if (c == '"') {
      i = string_end(t, i);
      if (i == std::string_view::npos) return i;
      continue;
    }
    if (depth == 0 && (c == ',' || c == '}' || c == ']')) return trim_back(t, start, i);
    if (c == '{' || c == '[') ++depth;
    else if (c != ',') --depth;
  }
  return depth == 0 ? trim_back(t, start, i) : std::string_view::npos;
}

// The elements of a container opened at t[i] (`open`), closed by `close`, with `element` checking each value and
// giving the index just past it: the index just past the closing bracket, or npos.
template <typename Element>
std::size_t container_end(std::string_view t, std::size_t i, char open, char close, Element element) {
  if (i >= t.size() || t[i] != open) return std::string_view::npos;
  i = skip_space(t, i + 1);
  if (i < t.size() && t[i] == close) return i + 1;
  while (i < t.size()) {
    const std::size_t consumed = element(t, i);
    if (consumed == std::string_view::npos) return consumed;
    i = skip_space(t, consumed);
    if (i >= t.size()) return std::string_view::npos;
    if (t[i] == close) return i + 1;
    if (t[i] != ',') return std::string_view::npos;
    i = skip_space(t, i + 1);
  }
  return std::string_view::npos;
}

// The container is the whole text, but for spaces around it.
template <typename Element>
bool scan_container(std::string_view t, char open, char close, Element element) {
  const std::size_t end = container_end(t, skip_space(t, 0), open, close, element);
  return end != std::string_view::npos && skip_space(t, end) == t.size();
}

// scan_object_array's element: an object, nothing after its closing brace.
std::size_t object_element(std::string_view t, std::size_t i, std::vector<std::string_view>& elements) {
  if (t[i] != '{') return std::string_view::npos;
  const std::size_t end = value_end(t, i);
  if (end == std::string_view::npos || t[end - 1] != '}') return std::string_view::npos;
  elements.push_back(t.substr(i, end - i));
  return end;
}

// scan_object, and the elements of the members named in `arrays` that are arrays of objects, cut in the same pass.
std::optional<ObjectScan> scan_members(std::string_view text, std::initializer_list<std::string_view> arrays) {
  ObjectScan scan;
  scan.arrays.resize(arrays.size());
  const bool ok = scan_container(text, '{', '}', [&](std::string_view t, std::size_t i) {
    if (t[i] != '"') return std::string_view::npos;
    const std::size_t key_end = string_end(t, i);
    if (key_end == std::string_view::npos) return key_end;
    const std::string_view key = t.substr(i + 1, key_end - i - 1);
    if (key.find('\\') != std::string_view::npos) return std::string_view::npos;
    std::size_t v = skip_space(t, key_end + 1);
    if (v >= t.size() || t[v] != ':') return std::string_view::npos;
    v = skip_space(t, v + 1);
    std::size_t end = std::string_view::npos;
    const auto* const wanted = std::find(arrays.begin(), arrays.end(), key);
    if (wanted != arrays.end()) {
      // An array of objects is cut into its elements while its end is found; anything else is scanned as a value.
      auto& slot = scan.arrays[static_cast<std::size_t>(wanted - arrays.begin())];
      slot.reset();
      std::vector<std::string_view> elements;
      const auto element = [&](std::string_view u, std::size_t k) { return object_element(u, k, elements); };
      if (v < t.size() && t[v] == '[') end = container_end(t, v, '[', ']', element);
      // Text after the closing bracket that is not the member's end is part of the value as value_end cuts it.
      const std::size_t after = end == std::string_view::npos ? end : skip_space(t, end);
      if (after < t.size() && (t[after] == ',' || t[after] == '}')) slot = std::move(elements);
      else end = std::string_view::npos;
    }
    if (end == std::string_view::npos) end = value_end(t, v);
    if (end == std::string_view::npos || end == v) return std::string_view::npos;
    scan.members.push_back({key, t.substr(v, end - v)});
    return end;
  });
  if (!ok) return std::nullopt;
  return scan;
}

}  // namespace

std::optional<std::vector<JsonMember>> scan_object(std::string_view text) {
  auto scan = scan_members(text, {});
  if (!scan) return std::nullopt;
  return std::move(scan->members);
}

std::optional<ObjectScan> scan_object_arrays(std::string_view text, std::initializer_list<std::string_view> arrays) {
  return scan_members(text, arrays);
}

std::optional<std::vector<std::string_view>> scan_object_array(std::string_view text) {
  std::vector<std::string_view> elements;
  const bool ok =
      scan_container(text, '[', ']', [&](std::string_view t, std::size_t i) { return object_element(t, i, elements); });
  if (!ok) return std::nullopt;
  return elements;
}

std::optional<std::vector<std::string_view>> scan_array(std::string_view text) {
  std::vector<std::string_view> elements;
  const bool ok = scan_container(text, '[', ']', [&](std::string_view t, std::size_t i) {
    const std::size_t end = value_end(t, i);
    if (end == std::string_view::npos || end == i) return std::string_view::npos;
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

std::optional<std::string_view> plain_string(std::string_view value) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::nullopt;
  const std::string_view inside = value.substr(1, value.size() - 2);
  for (const char c : inside)
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return std::nullopt;  // bytes above 0x7f are negative chars
  return inside;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The length of JSON's number grammar at the start of `t` ('-'? int frac? exp?), 0 when it does not start one;
// `integer` says whether it has neither fraction nor exponent.
std::size_t number_length(std::string_view t, bool& integer) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < t.size() && is_digit(t[i])) ++i;
    return i - from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') ++i;
  else if (digits() == 0) return 0;
  integer = true;
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (digits() == 0) return 0;
    integer = false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (digits() == 0) return 0;
    integer = false;
  }
  return i;
}

}  // namespace

std::optional<double> plain_number(std::string_view value) {
  bool integer = false;
  if (value.empty() || number_length(value, integer) != value.size()) return std::nullopt;
  const char* first = value.data();
  const char* last = value.data() + value.size();
  if (integer && value.front() != '-') {  // nlohmann: an unsigned integer, converted by get<double>()
    std::uint64_t u = 0;
    const auto [end, ec] = std::from_chars(first, last, u);
    if (ec != std::errc() || end != last) return std::nullopt;
    return static_cast<double>(u);
  }
  if (integer) {  // a signed one; "-0" is the integer 0 there, +0.0
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(first, last, n);
    if (ec != std::errc() || end != last || n == 0) return std::nullopt;
    return static_cast<double>(n);
  }
  double d = 0;  // strtod's correctly rounded result, as from_chars gives it
  const auto [end, ec] = std::from_chars(first, last, d);
  if (ec != std::errc() || end != last) return std::nullopt;
  return d;
}

std::optional<std::uint64_t> plain_unsigned(std::string_view value) {
  bool integer = false;
  if (value.empty() || value.front() == '-' || number_length(value, integer) != value.size() || !integer)
    return std::nullopt;
  std::uint64_t u = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), u);
  if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return u;
}

namespace {

// Nesting deeper than this is left to the parser (which refuses more than limits::kMaxJsonDepth in a whole file).
constexpr int kPlainDepth = 16;

// `i` at a value: the index just past it when it is a plain one (plain_json), else npos.
std::size_t plain_value_end(std::string_view t, std::size_t i, int depth) {
  if (i >= t.size() || depth > kPlainDepth) return std::string_view::npos;
  const char c = t[i];
  if (c == '"') {
    const std::size_t end = string_end(t, i);
    if (end == std::string_view::npos || !plain_string(t.substr(i, end - i + 1))) return std::string_view::npos;
    return end + 1;
  }
  for (const std::string_view word : {"true", "false", "null"})
    if (t.substr(i, word.size()) == word) return i + word.size();
  if (c == '{' || c == '[') {
    const char close = c == '{' ? '}' : ']';
    i = skip_space(t, i + 1);
    if (i < t.size() && t[i] == close) return i + 1;
    while (i < t.size()) {
      if (c == '{') {
        if (t[i] != '"') return std::string_view::npos;
        i = skip_space(t, plain_value_end(t, i, depth + 1));
        if (i >= t.size() || t[i] != ':') return std::string_view::npos;
        i = skip_space(t, i + 1);
      }
      i = plain_value_end(t, i, depth + 1);
      if (i == std::string_view::npos) return i;
      i = skip_space(t, i);
      if (i < t.size() && t[i] == close) return i + 1;
      if (i >= t.size() || t[i] != ',') return std::string_view::npos;
      i = skip_space(t, i + 1);
    }
    return std::string_view::npos;
  }
  bool integer = false;
  const std::size_t length = number_length(t.substr(i), integer);
  if (length == 0 || !plain_number(t.substr(i, length))) return std::string_view::npos;
  return i + length;
}

}  // namespace

bool plain_json(std::string_view value) { return plain_value_end(value, 0, 0) == value.size(); }

bool contains_icase(std::string_view text, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > text.size()) return false;
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  const auto same_at = [&](std::size_t at) {
    for (std::size_t k = 0; k < needle.size(); ++k)
      if (lower(text[at + k]) != lower(needle[k])) return false;
    return true;
  };
  // A character that is not a letter only matches itself: memchr finds its places, and only those are compared
  // (ids and SKU names nearly always hold one, a '/', '-' or digit).
  const auto is_letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  const auto anchor =
      static_cast<std::size_t>(std::find_if_not(needle.begin(), needle.end(), is_letter) - needle.begin());
  if (anchor == needle.size()) {
    for (std::size_t at = 0; at + needle.size() <= text.size(); ++at)
      if (same_at(at)) return true;
    return false;
  }
  // needle[anchor] at text[at + anchor], for at in [0, text.size() - needle.size()].
  const std::size_t last = text.size() - needle.size() + anchor;
  for (std::size_t pos = anchor; pos <= last;) {
    const void* hit = std::memchr(text.data() + pos, needle[anchor], last - pos + 1);
    if (hit == nullptr) return false;
    pos = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
    if (same_at(pos - anchor)) return true;
    ++pos;
  }
  return false;
}

}  // namespace vramcalc::detail
