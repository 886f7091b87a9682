// JSON text written straight into a string, in nlohmann's dump(indent) layout, without building a DOM (private to
// src/render). --sku all --format json writes 157 plan objects, over a megabyte: building them as nlohmann objects
// (a map node and a string per member) and dumping them was most of that command's time (bench/RESULTS.md).
//
// The writer does not sort: nlohmann's objects are std::maps, so the caller writes each object's members in byte
// order of their names ("gpu_memory_bytes" before "gpus": '_' sorts before the letters), as the DOM would have
// them; tests/render/test_json_writer.cpp checks the text against parse().dump().
//
// Strings are written as nlohmann's dump() writes them (ensure_ascii off), with what YAML refuses also escaped, as
// escape_yaml_unsafe does (DEL, C1 controls, U+2028/9, U+FEFF, U+FFFE/F): the text is safe on a terminal and valid
// YAML. Invalid UTF-8 becomes U+FFFD, as with nlohmann's error_handler_t::replace. Doubles are written in the
// shortest form that reads back the same ("0.92", "1.0", "1e+20"), NaN and infinities as null, as dump() does.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vramcalc::render_detail {

// An object member's name as the code spells it, checked when compiling to need no escape (printable ASCII but the
// quote, the backslash and DEL), so the writer copies it as it is. Names known only when running (a map's keys) go
// through JsonWriter::key_text.
class JsonName {
 public:
  consteval JsonName(const char* text) : text_(text) {  // NOLINT(google-explicit-constructor): a literal is a name
    for (const char c : text_)
      if (c < 0x20 || c == '"' || c == '\\' || c == 0x7F || static_cast<unsigned char>(c) >= 0x80)
        throw "a JSON member name to write escaped: JsonWriter::key_text";
  }
  [[nodiscard]] constexpr std::string_view text() const { return text_; }

 private:
  std::string_view text_;
};

class JsonWriter {
 public:
  // `indent` as json::dump's (-1: one line); `depth`: the nesting the first value is written at (its closing
  // bracket's indentation), for text spliced into a larger document (raw).
  explicit JsonWriter(int indent, int depth = 0) : indent_(indent), depth_(depth) {}
  // Builds `dom` instead of text: the same calls make the document the text would parse to, with the numbers'
  // types as written (plan_json, for callers that add to a plan object).
  explicit JsonWriter(nlohmann::json& dom) : dom_(&dom) {}
  // The text written; the writer is done with.
  [[nodiscard]] std::string take() {
    out_.resize(pos_);
    return std::move(out_);
  }

  void begin_object() { open('{', false); }
  void end_object() { close('}'); }
  void begin_array() { open('[', true); }
  void end_array() { close(']'); }
  // An object member's name; its value follows (a value call, or begin_object / begin_array).
  void key(JsonName name);
  void key_text(std::string_view name);  // a name known only when running, escaped as a string value is

  void value(std::nullptr_t) { scalar(nullptr); }
  void value(bool b) { scalar(b); }
  void value(const char* s) { scalar(std::string_view(s)); }
  void value(const std::string& s) { scalar(std::string_view(s)); }
  void value(std::string_view s) { scalar(s); }
  template <std::integral T>
  void value(T v) {
    if constexpr (std::is_signed_v<T>) scalar(static_cast<std::int64_t>(v));
    else scalar(static_cast<std::uint64_t>(v));
  }
  void value(double v) { scalar(v); }
  void value(const std::vector<std::string>& list) {
    begin_array();
    for (const auto& s : list) value(std::string_view(s));
    end_array();
  }
  template <typename T>
  void value(const std::optional<T>& v) {
    if (v) value(*v);
    else value(nullptr);
  }
  // Text already written by a JsonWriter at depth() (a section every plan of a report shares).
  void raw(std::string_view text);

  template <typename T>
  void member(JsonName name, const T& v) {
    key(name);
    value(v);
  }

  // The depth a value written now is at: what a JsonWriter writing text for raw() is constructed with.
  [[nodiscard]] int depth() const { return depth_; }
  // Bytes written so far.
  [[nodiscard]] std::size_t size() const { return pos_; }
  // The text written so far, valid until the next call; clear() drops it, keeping the writer's place in the document
  // (render_json_to writes the document in pieces).
  [[nodiscard]] std::string_view written() const { return {out_.data(), pos_}; }
  void clear() { pos_ = 0; }
  // Text outside any value (the newline after the document).
  void put_raw(std::string_view text) { put(text); }
  // Members of the object open now, as an earlier object at this depth had them written (each with its separator):
  // what render_json copies from one plan to those alike (SkuPlan::alike).
  void splice_members(std::string_view text) {
    put(text);
    if (!text.empty()) level_[static_cast<std::size_t>(levels_ - 1)].empty = false;
  }
  // The same for members still in the text written, at [offset, offset + length) (no clear() since).
  void splice_written_members(std::size_t offset, std::size_t length) {
    char* p = room(length);  // first: it may move the text
    std::memcpy(p, out_.data() + offset, length);
    pos_ += length;
    if (length > 0) level_[static_cast<std::size_t>(levels_ - 1)].empty = false;
  }
  // Room for `bytes` more without copying what is written (a hint; untouched memory costs nothing).
  void reserve(std::size_t bytes) { out_.reserve(pos_ + bytes); }

 private:
  struct Level {
    bool array = false;
    bool empty = true;
  };
  static constexpr int kMaxLevels = 32;

  // out_ is written through a cursor: out_[0, pos_) is the text, what follows is room made ahead (room), cut off
  // by take(). One bounds check per piece, rather than std::string::append's per call.
  std::string out_;
  std::size_t pos_ = 0;
  int indent_ = -1;
  int depth_ = 0;
  int levels_ = 0;
  std::array<Level, kMaxLevels> level_{};
  bool after_key_ = false;

  // At least `bytes` writable bytes at the cursor.
  char* room(std::size_t bytes) {
    if (out_.size() - pos_ < bytes) grow(bytes);
    return out_.data() + pos_;
  }
  void grow(std::size_t bytes);
  void advance(const char* end) { pos_ = static_cast<std::size_t>(end - out_.data()); }
  void put(std::string_view text);

  void newline(int depth);
  // Before a value: the separator and line break an array element takes (a member's were written by key()).
  void element();
  void open(char bracket, bool array);
  void close(char bracket);
  template <typename T>
  void scalar(T v) {
    if (dom_ != nullptr) return dom_value(v);
    element();
    text(v);
  }
  void text(std::nullptr_t) { put("null"); }
  void text(bool b) { put(b ? "true" : "false"); }
  void text(std::string_view s);
  void text(std::int64_t v);
  void text(std::uint64_t v);
  void text(double v);

  // The DOM being built (null: text): the containers open, innermost last, and the name of the next member.
  nlohmann::json* dom_ = nullptr;
  std::vector<nlohmann::json*> dom_open_;
  std::string dom_key_;
  nlohmann::json& dom_slot();  // where the next value goes
  void dom_value(std::nullptr_t v);
  void dom_value(bool v);
  void dom_value(std::string_view v);
  void dom_value(std::int64_t v);
  void dom_value(std::uint64_t v);
  void dom_value(double v);
};

}  // namespace vramcalc::render_detail
