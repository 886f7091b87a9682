// JSON text without a DOM (json_writer.hpp), the escaping every JSON and YAML text of vram-calc shares, and a DOM
// written the same way (dump_json).
#include "render/json_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "render/json_sections.hpp"
#include "vramcalc/core/printable.hpp"

namespace vramcalc::render_detail {

namespace {

// The code point of the UTF-8 sequence of `length` bytes at text[i] (already known to be valid).
std::uint32_t code_point_at(std::string_view text, std::size_t i, std::size_t length) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(text[i + k])); };
  if (length == 2) return (byte(0) & 0x1F) << 6 | (byte(1) & 0x3F);
  if (length == 3) return (byte(0) & 0x0F) << 12 | (byte(1) & 0x3F) << 6 | (byte(2) & 0x3F);
  return (byte(0) & 0x07) << 18 | (byte(1) & 0x3F) << 12 | (byte(2) & 0x3F) << 6 | (byte(3) & 0x3F);
}

// What libyaml (kubectl's parser) refuses in a stream or reads as a line break, besides the C0 controls: DEL, the
// C1 controls but NEL, U+2028/U+2029, the byte-order mark and U+FFFE/U+FFFF. NEL is escaped too (a C1 control).
bool unsafe_in_yaml(std::uint32_t cp) {
  return cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE ||
         cp == 0xFFFF;
}

// \uXXXX, lower-case as nlohmann writes it: 6 bytes at p.
char* write_escape(char* p, std::uint32_t cp) {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = '\\';
  *p++ = 'u';
  for (int shift = 12; shift >= 0; shift -= 4) *p++ = kHex[(cp >> shift) & 0xF];
  return p;
}

// The bytes a JSON string holds as they are: printable ASCII but the quote, the backslash and DEL.
constexpr std::array<bool, 256> plain_bytes() {
  std::array<bool, 256> plain{};
  for (int b = 0x20; b < 0x7F; ++b) plain[static_cast<std::size_t>(b)] = b != '"' && b != '\\';
  return plain;
}
constexpr std::array<bool, 256> kPlain = plain_bytes();

// Whether any of the 8 bytes of `x` is not kPlain's: below 0x20, the quote, the backslash, DEL or above. Each test is
// the classic one for "some byte is below n" ((x - n) & ~x & 0x80 per byte), exact for the word as a whole.
constexpr bool has_unplain_byte(std::uint64_t x) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t quote = x ^ (kOnes * '"');
  const std::uint64_t backslash = x ^ (kOnes * '\\');
  const std::uint64_t below = (x - kOnes * 0x20) & ~x;  // a control character
  const std::uint64_t zeros = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash);
  const std::uint64_t high = (x | (x + kOnes)) & kHigh;  // 0x7f or above (a carry only from a byte above too)
  return ((below | zeros) & kHigh) != 0 || high != 0;
}

// The end of the bytes kPlain from text[i]: strings are most of a plan's text, so 8 at a time while all are.
std::size_t plain_run(std::string_view text, std::size_t i) {
  for (std::uint64_t word = 0; i + sizeof word <= text.size(); i += sizeof word) {
    std::memcpy(&word, text.data() + i, sizeof word);
    if (has_unplain_byte(word)) break;
  }
  while (i < text.size() && kPlain[static_cast<unsigned char>(text[i])]) ++i;
  return i;
}

// The escape of text[i] and what follows it of the same character, at p; advances i. Null for invalid UTF-8.
char* escape_at(char* p, std::string_view text, std::size_t& i) {
  const auto c = static_cast<unsigned char>(text[i]);
  const char* named = c == '"'    ? "\\\""
                      : c == '\\' ? "\\\\"
                      : c == '\b' ? "\\b"
                      : c == '\f' ? "\\f"
                      : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r"
                      : c == '\t' ? "\\t"
                                  : nullptr;
  if (named != nullptr) {
    *p++ = named[0];
    *p++ = named[1];
    ++i;
    return p;
  }
  if (c < 0x80) {  // the other C0 controls, as nlohmann writes them, and DEL, as escape_yaml_unsafe does
    ++i;
    return write_escape(p, c);
  }
  const std::size_t length = utf8_sequence_length(text, i);
  if (length < 2) return nullptr;
  const std::uint32_t cp = code_point_at(text, i, length);
  if (unsafe_in_yaml(cp)) p = write_escape(p, cp);
  else p = std::copy_n(text.data() + i, length, p);
  i += length;
  return p;
}

}  // namespace

std::string escape_yaml_unsafe(std::string_view text) {
  // Nearly every output is plain ASCII without DEL: nothing to escape, and a scan of the bytes says so cheaply.
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x7F; }))
    return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = std::max<std::size_t>(1, utf8_sequence_length(text, i));
    const std::uint32_t cp = length == 1 ? static_cast<unsigned char>(text[i]) : code_point_at(text, i, length);
    if (unsafe_in_yaml(cp)) {
      std::array<char, 6> escape{};
      write_escape(escape.data(), cp);
      out.append(escape.data(), escape.size());
    } else {
      out.append(text, i, length);
    }
    i += length;
  }
  return out;
}

void JsonWriter::grow(std::size_t bytes) {
  // In steps, so that the zeros resize() writes stay ahead of the cursor by little; the string's own doubling
  // decides its capacity (reserve() sets it ahead for a known size).
  constexpr std::size_t kStep = std::size_t{16} * 1024;
  out_.resize(pos_ + std::max(bytes, kStep));
}

void JsonWriter::put(std::string_view text) {
  char* p = room(text.size());
  std::memcpy(p, text.data(), text.size());
  pos_ += text.size();
}

void JsonWriter::text(std::string_view text) {
  const std::size_t start = pos_;
  // Room for the text as it is and the quotes; before each escape, for the escape and the rest as it is.
  char* p = room(text.size() + 2);
  *p++ = '"';
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t end = plain_run(text, i);
    p = std::copy(text.data() + i, text.data() + end, p);
    i = end;
    if (i == text.size()) break;
    advance(p);
    p = room(text.size() - i + 7);
    p = escape_at(p, text, i);
    if (p == nullptr) {
      // Invalid UTF-8 (from argv, a profile or a file name): nlohmann's own replacement, byte for byte.
      pos_ = start;
      return put(escape_yaml_unsafe(
          nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
  }
  *p++ = '"';
  advance(p);
}

void JsonWriter::text(std::int64_t v) {
  char* p = room(24);
  advance(std::to_chars(p, p + 24, v).ptr);
}

void JsonWriter::text(std::uint64_t v) {
  char* p = room(24);
  advance(std::to_chars(p, p + 24, v).ptr);
}

void JsonWriter::text(double v) {
  // nlohmann's serializer::dump_float: null for what JSON cannot hold, else its Grisu2 shortest form.
  if (!std::isfinite(v)) return put("null");
  char* p = room(64);
  advance(nlohmann::detail::to_chars(p, p + 64, v));
}

void JsonWriter::raw(std::string_view text) {
  if (dom_ != nullptr) return void(dom_slot() = nlohmann::json::parse(text));
  element();
  put(text);
}

nlohmann::json& JsonWriter::dom_slot() {
  if (dom_open_.empty()) return *dom_;
  nlohmann::json& container = *dom_open_.back();
  // An array's element is filled before the next is added, so the pointers to open containers stay valid.
  return container.is_array() ? container.emplace_back() : container[dom_key_];
}

void JsonWriter::dom_value(std::nullptr_t v) { dom_slot() = v; }
void JsonWriter::dom_value(bool v) { dom_slot() = v; }
void JsonWriter::dom_value(std::string_view v) { dom_slot() = std::string(v); }
void JsonWriter::dom_value(std::int64_t v) { dom_slot() = v; }
void JsonWriter::dom_value(std::uint64_t v) { dom_slot() = v; }
void JsonWriter::dom_value(double v) { dom_slot() = v; }

namespace {

// A line break and `spaces` spaces at p (room made for them); one copy for the indentation of most lines.
char* line_break(char* p, std::size_t spaces) {
  static constexpr auto kIndents = [] {
    std::array<char, 65> line{};  // a line break and 64 spaces
    line.fill(' ');
    line[0] = '\n';
    return line;
  }();
  if (spaces < kIndents.size()) {
    std::memcpy(p, kIndents.data(), spaces + 1);
    return p + spaces + 1;
  }
  *p++ = '\n';
  return std::fill_n(p, spaces, ' ');
}

}  // namespace

void JsonWriter::newline(int depth) {
  if (indent_ < 0) return;
  const std::size_t spaces = static_cast<std::size_t>(indent_) * static_cast<std::size_t>(depth);
  advance(line_break(room(spaces + 1), spaces));
}

void JsonWriter::element() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (levels_ == 0) return;  // the document's own value
  Level& level = level_[static_cast<std::size_t>(levels_ - 1)];
  if (!level.empty) put(",");
  level.empty = false;
  newline(depth_);
}

void JsonWriter::key_text(std::string_view name) {
  if (dom_ != nullptr) return void(dom_key_ = name);
  Level& level = level_[static_cast<std::size_t>(levels_ - 1)];
  if (!level.empty) put(",");
  level.empty = false;
  newline(depth_);
  text(name);
  put(indent_ < 0 ? ":" : ": ");
  after_key_ = true;
}

void JsonWriter::key(JsonName name) {
  if (indent_ < 0 || dom_ != nullptr) return key_text(name.text());
  Level& level = level_[static_cast<std::size_t>(levels_ - 1)];
  const bool first = level.empty;
  level.empty = false;
  after_key_ = true;
  // Separator, line break, indentation, name and colon in one piece: a plan object has some 300 members.
  const std::string_view text = name.text();
  const std::size_t spaces = static_cast<std::size_t>(indent_) * static_cast<std::size_t>(depth_);
  char* p = room(spaces + text.size() + 6);
  if (!first) *p++ = ',';
  p = line_break(p, spaces);
  *p++ = '"';
  std::memcpy(p, text.data(), text.size());
  p += text.size();
  *p++ = '"';
  *p++ = ':';
  *p++ = ' ';
  advance(p);
}

void JsonWriter::open(char bracket, bool array) {
  if (dom_ != nullptr) {
    nlohmann::json& slot = dom_slot();
    slot = array ? nlohmann::json::array() : nlohmann::json::object();
    return dom_open_.push_back(&slot);
  }
  element();
  put(std::string_view(&bracket, 1));
  if (levels_ == kMaxLevels) throw std::logic_error("JsonWriter: nested too deep");
  level_[static_cast<std::size_t>(levels_++)] = Level{array, true};
  ++depth_;
}

void JsonWriter::close(char bracket) {
  if (dom_ != nullptr) return dom_open_.pop_back();
  const bool empty = level_[static_cast<std::size_t>(--levels_)].empty;
  --depth_;
  if (!empty) newline(depth_);
  put(std::string_view(&bracket, 1));
}

namespace {

// A DOM through the writer: the same layout and escaping as the plans written without one.
void write_dom(JsonWriter& w, const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object:
      w.begin_object();
      for (const auto& [key, value] : j.get_ref<const nlohmann::json::object_t&>()) {
        w.key_text(key);
        write_dom(w, value);
      }
      return w.end_object();
    case nlohmann::json::value_t::array:
      w.begin_array();
      for (const auto& value : j) write_dom(w, value);
      return w.end_array();
    case nlohmann::json::value_t::string: return w.value(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::number_unsigned: return w.value(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_integer: return w.value(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_float: return w.value(j.get<double>());
    case nlohmann::json::value_t::boolean: return w.value(j.get<bool>());
    case nlohmann::json::value_t::null: return w.value(nullptr);
    default: return w.raw(j.dump());  // binary and discarded values: never in a report
  }
}

}  // namespace

std::string dump_json(const nlohmann::json& j, int indent) {
  JsonWriter w(indent);
  write_dom(w, j);
  return w.take();
}

}  // namespace vramcalc::render_detail
