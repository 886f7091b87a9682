// Escaping untrusted text for a terminal, a one-line message or a shell (include/vramcalc/core/printable.hpp).
#include "vramcalc/core/printable.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace vramcalc {

namespace {

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

bool is_c0_or_del(unsigned char byte) { return byte < 0x20 || byte == 0x7f; }

// A C1 control character (U+0080-U+009F) is 0xC2 followed by 0x80-0x9F in UTF-8.
bool is_c1_at(std::string_view text, std::size_t i, std::size_t length) {
  return length == 2 && static_cast<unsigned char>(text[i]) == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
}

void append_c0(std::string& out, unsigned char byte) {
  switch (byte) {
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: out += fmt::format("\\x{:02x}", byte);
  }
}

std::string escape(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (is_c0_or_del(byte) && !(keep_newlines && byte == '\n')) append_c0(out, byte);
      else out += static_cast<char>(byte);
      ++i;
      continue;
    }
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += fmt::format("\\x{:02x}", byte);
      ++i;
    } else if (is_c1_at(text, i, length)) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[i + 1]));
      i += 2;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

bool shell_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-_./:=@+").find(c) != std::string_view::npos;
}

// True when `word` holds a byte a terminal or the shell's line structure must not see raw.
bool needs_ansi_c_quotes(std::string_view word) {
  for (std::size_t i = 0; i < word.size();) {
    const auto byte = static_cast<unsigned char>(word[i]);
    if (byte < 0x80) {
      if (is_c0_or_del(byte)) return true;
      ++i;
      continue;
    }
    const std::size_t length = utf8_sequence_length(word, i);
    if (length == 0 || is_c1_at(word, i, length)) return true;
    i += length;
  }
  return false;
}

// $'...': backslash and quote escaped, control characters and non-UTF-8 bytes as escapes, byte for byte (a C1
// control character is its two UTF-8 bytes, so the argument is exactly the original).
std::string ansi_c_quoted(std::string_view word) {
  std::string out = "$'";
  for (std::size_t i = 0; i < word.size();) {
    const auto byte = static_cast<unsigned char>(word[i]);
    const std::size_t length = byte < 0x80 ? 1 : utf8_sequence_length(word, i);
    if (byte == '\\' || byte == '\'') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte < 0x80 && is_c0_or_del(byte)) {
      append_c0(out, byte);
    } else if (length == 0) {
      out += fmt::format("\\x{:02x}", byte);
    } else if (is_c1_at(word, i, length)) {
      out += fmt::format("\\x{:02x}\\x{:02x}", byte, static_cast<unsigned char>(word[i + 1]));
    } else {
      out.append(word.substr(i, length));
    }
    i += length == 0 ? 1 : length;
  }
  return out + "'";
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = at(i);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte (the others are always 80-BF)
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) length = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) length = 3;
  else if (lead >= 0xF0 && lead <= 0xF4) length = 4;
  else return 0;                  // a continuation byte, an overlong 2-byte lead (C0, C1), or above U+10FFFF (F5-FF)
  if (lead == 0xE0) low = 0xA0;   // overlong 3-byte form
  if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
  if (lead == 0xF0) low = 0x90;   // overlong 4-byte form
  if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  if (i + length > text.size()) return 0;
  if (at(i + 1) < low || at(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (!is_continuation(at(i + k))) return 0;
  return length;
}

std::string printable_line(std::string_view text) { return escape(text, false); }

std::string printable_lines(std::string_view text) { return escape(text, true); }

std::string shell_quote(std::string_view word) {
  if (!word.empty() && std::all_of(word.begin(), word.end(), shell_safe)) return std::string(word);
  if (needs_ansi_c_quotes(word)) return ansi_c_quoted(word);
  std::string out = "'";
  for (const char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace vramcalc
