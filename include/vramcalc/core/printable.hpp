// Untrusted text (file and directory names, config strings, Hub responses, argv, profiles) made safe to print.
//
// A terminal acts on control characters: ESC starts a sequence that can recolour, move the cursor, retitle the
// window or hide text; a newline splits a one-line message in two. Every renderer and every Error message passes
// untrusted text through these functions. The escape convention, one for the whole program:
//   \n \r \t   newline, carriage return, tab
//   \xHH       any other C0 control byte (0x00-0x1f), DEL (0x7f), and each byte that is not part of valid UTF-8
//              (two lowercase hex digits: "\x1b" for ESC, "\xff" for a stray 0xff byte)
//   \uHHHH     a C1 control character, U+0080-U+009F ("\u009b" for CSI), which UTF-8 writes as two bytes
// Everything else is left as it is: printable ASCII (backslashes included, so text that is already escaped stays
// the same), and valid UTF-8 for every other code point. The result is for reading, not for decoding back.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vramcalc {

// `text` on one line: every control character escaped, newlines included.
std::string printable_line(std::string_view text);

// `text` of several lines: '\n' kept as the line break, every other control character escaped.
std::string printable_lines(std::string_view text);

// The byte length of the valid UTF-8 sequence starting at text[i] (1 to 4), or 0 when text[i] does not start one
// (a stray continuation byte, an overlong form, a surrogate, a code point above U+10FFFF, a cut-off sequence).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

// One word for a POSIX shell command line, so that the command stays on one line and pastes back as the same
// argument: as it is when it holds only [A-Za-z0-9] and -_./:=@+; in single quotes otherwise; and, when it holds a
// control character or bytes that are not UTF-8, in ANSI-C quotes ($'...', understood by bash, zsh, ksh and
// POSIX.1-2024 sh) with those written as escapes (\n, \t, \r, \xHH byte by byte) instead of raw bytes that would
// break the line or reach the terminal.
std::string shell_quote(std::string_view word);

}  // namespace vramcalc
