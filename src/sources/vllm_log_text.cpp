// A raw log line made clean, the numbers in it, and where it came from (vllm_log_internal.hpp).
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sources/vllm_log_internal.hpp"
#include "vramcalc/core/printable.hpp"

namespace vramcalc::vllm_log_detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A docker json-file record: its "log" string, or nothing.
std::optional<std::string> docker_json_log(std::string_view raw) {
  std::size_t i = 0;
  while (i < raw.size() && raw[i] == ' ') ++i;
  if (!starts_with(raw.substr(i), "{\"log\":")) return std::nullopt;
  const auto doc = nlohmann::json::parse(raw.begin(), raw.end(), nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  const auto it = doc.find("log");
  if (it == doc.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// Past an ANSI escape sequence starting with ESC at text[i]: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or
// ESC \), or ESC and one byte.
std::size_t skip_escape(std::string_view text, std::size_t i) {
  if (i + 1 >= text.size()) return text.size();
  const char kind = text[i + 1];
  std::size_t j = i + 2;
  if (kind == '[') {
    while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7e)) ++j;
    return j < text.size() ? j + 1 : j;
  }
  if (kind == ']') {
    while (j < text.size() && text[j] != '\a' && !(text[j] == '\x1b' && j + 1 < text.size() && text[j + 1] == '\\'))
      ++j;
    if (j < text.size()) j += text[j] == '\a' ? 1 : 2;
    return j;
  }
  return i + 2;
}

// The length of an SGR remnant at text[i] ("[1;36m", "[0m": an escape sequence whose ESC byte a paste lost), or 0.
std::size_t sgr_remnant(std::string_view text, std::size_t i) {
  if (text[i] != '[') return 0;
  std::size_t j = i + 1;
  while (j < text.size() && j - i <= 12 && (is_digit(text[j]) || text[j] == ';')) ++j;
  return j > i + 1 && j < text.size() && text[j] == 'm' ? j + 1 - i : 0;
}

// Control bytes, escapes and invalid UTF-8 out (see clean_line).
std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b == 0x1b) {
      i = skip_escape(text, i);
    } else if (const std::size_t remnant = sgr_remnant(text, i); remnant > 0) {
      i += remnant;
    } else if (b == '\t') {
      out += ' ';
      ++i;
    } else if (b < 0x20 || b == 0x7f) {
      ++i;
    } else if (b < 0x80) {
      out += static_cast<char>(b);
      ++i;
    } else {
      const std::size_t n = utf8_sequence_length(text, i);
      if (n == 0) {
        out += '?';
        ++i;
      } else {
        const bool c1 = b == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
        if (!c1) out.append(text.substr(i, n));
        i += n;
      }
    }
  }
  return out;
}

// "service-1  | " (docker compose): the length to drop, or 0.
std::size_t compose_prefix(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && i < 64 && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.')) ++i;
  if (i == 0 || i >= s.size() || s[i] != ' ') return 0;
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size() || s[i] != '|') return 0;
  ++i;
  if (i < s.size() && s[i] == ' ') ++i;
  return i;
}

// `count` digits at s[i].
bool digits_at(std::string_view s, std::size_t i, std::size_t count) {
  if (i + count > s.size()) return false;
  for (std::size_t k = i; k < i + count; ++k)
    if (!is_digit(s[k])) return false;
  return true;
}

// "2025-05-01T19:56:40.123456789Z " (docker -t, kubectl --timestamps, CRI), "2025-11-06 18:40:59,263 ", with a CRI
// "stdout F " after it: the length to drop, or 0.
std::size_t timestamp_prefix(std::string_view s) {
  if (!(digits_at(s, 0, 4) && s.size() > 19 && s[4] == '-' && digits_at(s, 5, 2) && s[7] == '-' && digits_at(s, 8, 2) &&
        (s[10] == 'T' || s[10] == ' ') && digits_at(s, 11, 2) && s[13] == ':' && digits_at(s, 14, 2) && s[16] == ':' &&
        digits_at(s, 17, 2)))
    return 0;
  std::size_t i = 19;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-') && digits_at(s, i + 1, 2)) {
    i += 3;
    if (i < s.size() && s[i] == ':') ++i;
    if (digits_at(s, i, 2)) i += 2;
  }
  if (i >= s.size() || s[i] != ' ') return 0;
  ++i;
  for (const std::string_view cri : {"stdout F ", "stdout P ", "stderr F ", "stderr P "})
    if (starts_with(s.substr(i), cri)) i += cri.size();
  return i;
}

// "May 01 19:56:40 host docker[123]: " (syslog, journalctl): the length to drop, or 0.
std::size_t syslog_prefix(std::string_view s) {
  if (s.size() < 20 || !is_alpha(s[0]) || !is_alpha(s[1]) || !is_alpha(s[2]) || s[3] != ' ') return 0;
  std::size_t i = 4;
  if (s[i] == ' ') ++i;
  if (!is_digit(s[i])) return 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (!(i + 9 <= s.size() && s[i] == ' ' && digits_at(s, i + 1, 2) && s[i + 3] == ':' && digits_at(s, i + 4, 2) &&
        s[i + 6] == ':' && digits_at(s, i + 7, 2) && s[i + 9] == ' '))
    return 0;
  i += 10;
  // host, then the tag ending in ':' (within 80 bytes: a whole line is not a tag).
  const std::size_t host_end = s.find(' ', i);
  if (host_end == std::string_view::npos || host_end - i > 64) return 0;
  const std::size_t colon = s.find(": ", host_end + 1);
  if (colon == std::string_view::npos || colon - host_end > 80) return 0;
  if (s.substr(host_end + 1, colon - host_end - 1).find(' ') != std::string_view::npos) return 0;
  return colon + 2;
}

// "[pod/vllm-0/vllm] " (kubectl logs --prefix): the length to drop, or 0.
std::size_t kubectl_prefix(std::string_view s) {
  if (!starts_with(s, "[pod/")) return 0;
  const std::size_t end = s.substr(0, 202).find("] ");  // npos when not within 200 bytes
  return end > 200 ? 0 : end + 2;
}

// A number whose digits start at text[i], as digits without separators; i moves past it.
std::string digit_run(std::string_view text, std::size_t& i) {
  std::string digits;
  while (i < text.size() && digits.size() < 40) {
    if (is_digit(text[i])) {
      digits += text[i++];
    } else if (text[i] == ',' && !digits.empty() && digits_at(text, i + 1, 3) &&
               (i + 4 >= text.size() || !is_digit(text[i + 4]))) {
      ++i;  // a thousands separator: "79,648"
    } else {
      break;
    }
  }
  return digits;
}

}  // namespace

std::string clean_line(std::string_view raw, bool strip_prefixes) {
  const auto decoded = docker_json_log(raw);
  std::string line = sanitize(decoded ? std::string_view(*decoded) : raw);
  if (!strip_prefixes) return line;
  std::string_view view(line);
  for (int round = 0; round < 4; ++round) {
    std::size_t drop = compose_prefix(view);
    if (drop == 0) drop = timestamp_prefix(view);
    if (drop == 0) drop = kubectl_prefix(view);
    if (drop == 0) drop = syslog_prefix(view);
    if (drop == 0) break;
    view.remove_prefix(drop);
  }
  return std::string(view);
}

std::string collapse_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::optional<double> read_number(std::string_view text, std::size_t& pos) {
  std::size_t i = pos;
  std::string digits;
  if (i < text.size() && text[i] == '-') {
    digits += '-';
    ++i;
  }
  if (i >= text.size() || !is_digit(text[i])) return std::nullopt;
  digits += digit_run(text, i);
  if (i + 1 < text.size() && text[i] == '.' && is_digit(text[i + 1])) {
    digits += '.';
    ++i;
    while (i < text.size() && is_digit(text[i]) && digits.size() < 60) digits += text[i++];
    while (i < text.size() && is_digit(text[i])) ++i;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  pos = i;
  return value;
}

std::optional<std::uint64_t> read_count(std::string_view text, std::size_t& pos) {
  std::size_t i = pos;
  if (i >= text.size() || !is_digit(text[i])) return std::nullopt;
  const std::string digits = digit_run(text, i);
  if (i + 1 < text.size() && text[i] == '.' && is_digit(text[i + 1])) return std::nullopt;  // not a count
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  pos = i;
  return value;
}

std::optional<double> gib_at(std::string_view text, std::size_t pos) {
  const auto value = read_number(text, pos);
  if (!value) return std::nullopt;
  if (pos < text.size() && text[pos] == ' ') ++pos;
  const std::string_view rest = text.substr(pos);
  if (starts_with(rest, "GiB") || starts_with(rest, "GB")) return value;
  if (starts_with(rest, "MiB") || starts_with(rest, "MB")) return *value / 1024.0;
  return std::nullopt;
}

namespace {

// Past up to four of the separators a log puts between a label and its figure (" ", ":", "=", "(").
std::size_t skip_separators(std::string_view text, std::size_t i) {
  for (int k = 0; k < 4 && i < text.size() && (text[i] == ' ' || text[i] == ':' || text[i] == '=' || text[i] == '(');
       ++k)
    ++i;
  return i;
}

}  // namespace

std::optional<double> number_after(std::string_view text, std::string_view anchor, bool unit_needed) {
  for (std::size_t at = text.find(anchor); at != std::string_view::npos; at = text.find(anchor, at + 1)) {
    std::size_t i = skip_separators(text, at + anchor.size());
    if (const auto gib = gib_at(text, i)) return gib;
    if (unit_needed) continue;
    if (const auto value = read_number(text, i)) return value;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> count_after(std::string_view text, std::string_view anchor) {
  for (std::size_t at = text.find(anchor); at != std::string_view::npos; at = text.find(anchor, at + 1)) {
    std::size_t i = skip_separators(text, at + anchor.size());
    if (const auto value = read_count(text, i)) return value;
  }
  return std::nullopt;
}

std::optional<double> number_before(std::string_view text, std::size_t end) {
  std::size_t start = end;
  while (start > 0 && end - start < 40 &&
         (is_digit(text[start - 1]) || text[start - 1] == '.' || text[start - 1] == ','))
    --start;
  if (start > 0 && text[start - 1] == '-') --start;
  std::size_t i = start;
  const auto value = read_number(text, i);
  return value && i == end ? value : std::nullopt;
}

std::optional<double> number_before_anchor(std::string_view text, std::string_view anchor) {
  for (std::size_t at = text.find(anchor); at != std::string_view::npos; at = text.find(anchor, at + 1))
    if (const auto value = number_before(text, at)) return value;
  return std::nullopt;
}

namespace {

// The rank numbers a source key states ("Worker_PP1_TP2", "VllmWorker rank=3", "EngineCore_DP0", "EngineCore_0"):
// whether any is stated, and whether any is not 0.
std::pair<bool, bool> stated_ranks(std::string_view key) {
  bool stated = false, nonzero = false;
  const auto take = [&](std::size_t i) {
    std::size_t j = i;
    if (const auto n = read_count(key, j)) {
      stated = true;
      nonzero = nonzero || *n != 0;
    }
  };
  for (std::size_t i = 0; i + 2 < key.size(); ++i) {
    const bool boundary = i == 0 || key[i - 1] == '_' || key[i - 1] == ' ';
    const std::string_view two = key.substr(i, 2);
    if (boundary && (two == "TP" || two == "PP" || two == "DP" || two == "EP") && is_digit(key[i + 2])) take(i + 2);
    if (key.substr(i, 5) == "rank=") take(i + 5);
    if (key[i] == '_' && is_digit(key[i + 1]) && i >= 10 && key.substr(i - 10, 10) == "EngineCore") take(i + 1);
  }
  if (key.size() >= 2 && key[key.size() - 2] == '_' && is_digit(key.back()) && key.substr(0, 10) == "EngineCore" &&
      key.find(' ') == std::string_view::npos)
    take(key.size() - 1);
  return {stated, nonzero};
}

}  // namespace

LineSource line_source(std::string_view line) {
  static constexpr std::string_view kNames[] = {"EngineCore",       "Worker",    "VllmWorker",
                                                "RayWorkerWrapper", "APIServer", "ApiServer"};
  const std::string_view head = line.substr(0, 240);
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] != '(' && head[i] != '[') continue;
    const std::string_view rest = line.substr(i + 1);
    bool named = false;
    for (const auto name : kNames) named = named || starts_with(rest, name);
    if (!named) continue;
    const std::size_t close = rest.substr(0, 161).find(head[i] == '(' ? ')' : ']');
    if (close == std::string_view::npos) continue;
    LineSource source;
    source.key = std::string(rest.substr(0, close));
    const std::string_view key(source.key);
    // The rank numbers come from the name, never from "pid=" or "ip=".
    const std::string_view name = key.substr(0, std::min(key.find(" pid="), key.find(", ip=")));
    const bool worker = starts_with(key, "Worker") || starts_with(key, "VllmWorker") || starts_with(key, "RayWorker");
    const auto [stated, nonzero] = stated_ranks(name);
    source.tier = nonzero ? 3 : !worker ? 1 : stated ? 0 : 2;
    return source;
  }
  return {};
}

std::string_view message_of(std::string_view line) {
  static constexpr std::string_view kLevels[] = {"INFO ", "WARNING ", "ERROR ", "DEBUG ", "CRITICAL ", "WARN "};
  const std::string_view head = line.substr(0, 320);
  std::size_t best = std::string_view::npos;
  for (const auto level : kLevels) {
    const std::size_t at = head.find(level);
    if (at == std::string_view::npos) continue;
    const std::size_t after = at + level.size();
    if (after < line.size() && (is_digit(line[after]) || line[after] == '[') && at < best) best = at;
  }
  if (best != std::string_view::npos) {
    const std::size_t close = line.find("] ", best);
    if (close != std::string_view::npos && close - best < 140) return line.substr(close + 2);
  }
  const LineSource source = line_source(line);
  if (!source.key.empty()) {
    const std::size_t at = line.find(source.key);
    std::size_t i = at + source.key.size() + 1;
    while (i < line.size() && line[i] == ' ') ++i;
    return line.substr(std::min(i, line.size()));
  }
  return line;
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

}  // namespace vramcalc::vllm_log_detail
