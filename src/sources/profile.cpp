// YAML deployment profiles (--profile deploy.yaml) with vllm-wizard's schema (its profile format, Appendix B).
//
// Typing rules, chosen to match what vllm-wizard's PyYAML (YAML 1.1) loader would hand its schema while staying
// strict about anything ambiguous:
//   - Numbers and booleans must be plain (unquoted) scalars; a quoted value is a string.
//   - Whole numbers are decimal digits only: no sign, no leading zero, no 1e3, 0x10, 0o17 or 1_000.
//   - Other numbers are decimals with an optional exponent (1e3 is 1000.0); .inf and .nan are rejected.
//   - Booleans are YAML 1.1's words, as PyYAML reads them: true/yes/on and false/no/off (lower, Title or UPPER case).
//   - A key whose value is null (`key:`, `~`, `null`) is left unset; so is a section that is null.
//   - Duplicate keys are an error (yaml-cpp keeps both, so they are found by iterating).
#include "vramcalc/sources/profile.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>
#include <span>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/limits.hpp"

#include "sources/files.hpp"
#include "sources/yaml_documents.hpp"

namespace vramcalc {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxTokens = 1ULL << 40;
constexpr std::uint64_t kMaxCount = 100'000;
constexpr std::size_t kMaxTextLength = 4096;  // long enough for any model id or local path

[[noreturn]] void bad_input(const std::string& message) { throw Error(ExitCode::BadInput, message); }

// "<origin>:<line>" with yaml-cpp's 0-based line made 1-based; just the origin when the position is unknown.
std::string where(std::string_view origin, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return std::string(origin);
  return fmt::format("{}:{}", origin, mark.line + 1);
}

// "<origin>:<line>:<column>", both 1-based; just the origin when the position is unknown.
std::string where_exactly(std::string_view origin, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return std::string(origin);
  return fmt::format("{}:{}:{}", origin, mark.line + 1, mark.column + 1);
}

// Text of any length with control bytes escaped (\x0a), so that it stays on one line.
std::string one_line(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) out += fmt::format("\\x{:02x}", byte);
    else out += c;
  }
  return out;
}

// Text from the file as it may appear in a message: control bytes escaped, cut at 60 characters.
std::string shown(std::string_view text) {
  std::string out = one_line(text.substr(0, 60));
  if (text.size() > 60) out += "...";
  return out;
}

std::string join(std::span<const std::string_view> names) {
  std::string out;
  for (const std::string_view name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

bool is_plain(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool has_control_bytes(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

// One key of a section with its value: what the typed readers below work on.
struct Field {
  std::string_view origin;
  std::string name;  // dotted, e.g. "model.max_model_len"
  YAML::Mark mark;   // the key's position (a null value's own mark points past it)
  YAML::Node value;
  const ProfileChoices* choices = nullptr;  // the names given by the caller, for the keys that need them

  [[noreturn]] void fail(const std::string& problem) const {
    bad_input(fmt::format("{}: {}: {}", where(origin, mark), name, problem));
  }
  // The value as the file wrote it, for messages.
  [[nodiscard]] std::string written() const {
    if (value.IsSequence()) return "a list";
    if (value.IsMap()) return "a mapping";
    return is_plain(value) ? shown(value.Scalar()) : fmt::format("\"{}\"", shown(value.Scalar()));
  }
};

// A one-line, non-empty string. Any scalar counts (revision: 1234 is the text "1234").
std::string single_line_text(const Field& f, const YAML::Node& node) {
  if (!node.IsScalar()) f.fail(fmt::format("must be a string, not {}", node.IsMap() ? "a mapping" : "a list"));
  const std::string& text = node.Scalar();
  if (text.empty()) f.fail("must not be empty");
  if (has_control_bytes(text)) f.fail("must be one line without control characters");
  if (text.size() > kMaxTextLength) f.fail(fmt::format("is longer than {} characters", kMaxTextLength));
  return text;
}

std::optional<std::string> text(const Field& f) {
  if (f.value.IsNull()) return std::nullopt;
  return single_line_text(f, f.value);
}

// A positive whole number up to `max`, written in plain decimal digits.
std::optional<std::uint64_t> whole(const Field& f, std::uint64_t max) {
  if (f.value.IsNull()) return std::nullopt;
  const std::string& s = f.value.Scalar();
  const bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  if (!is_plain(f.value) || !digits || s == "0")
    f.fail(fmt::format("must be a positive whole number, not {}", f.written()));
  if (s.front() == '0') f.fail(fmt::format("must be written without leading zeros, not {}", s));
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n > max)
    f.fail(fmt::format("{} is over the limit of {}", shown(s), max));
  return n;
}

// YAML's .inf, -.Inf, .NaN and friends.
bool is_yaml_special_float(std::string_view s) {
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) s.remove_prefix(1);
  const std::string l = lower(s);
  return l == ".inf" || l == ".nan";
}

// [sign] digits [. digits] [e [sign] digits], with at least one digit before the exponent; ".5" and "5." too.
bool is_decimal(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

struct Range {  // whole-number bounds, so that messages print them as such
  double low;
  bool low_open;  // (low, ...] instead of [low, ...]
  double high;    // always inclusive
};

std::optional<double> number(const Field& f, Range range) {
  if (f.value.IsNull()) return std::nullopt;
  const std::string& s = f.value.Scalar();
  if (is_plain(f.value) && is_yaml_special_float(s)) f.fail(fmt::format("must be a finite number, not {}", s));
  if (!is_plain(f.value) || !is_decimal(s)) f.fail(fmt::format("must be a number, not {}", f.written()));
  const char* first = s.data() + (s.front() == '+' ? 1 : 0);  // from_chars takes no '+'
  double d = 0;
  const auto [end, ec] = std::from_chars(first, s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d))
    f.fail(fmt::format("must be a finite number, not {}", shown(s)));
  const bool above_low = range.low_open ? d > range.low : d >= range.low;
  if (!above_low || d > range.high)
    f.fail(fmt::format("must be in {}{}, {}], not {}", range.low_open ? "(" : "[", static_cast<long long>(range.low),
                       static_cast<long long>(range.high), shown(s)));
  return d;
}

constexpr std::array<const char*, 9> kTrueWords = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
constexpr std::array<const char*, 9> kFalseWords = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};

// YAML 1.1 booleans as PyYAML reads them; nullopt for anything else (quoted words included).
std::optional<bool> yaml_bool(const YAML::Node& node) {
  if (!is_plain(node)) return std::nullopt;
  const std::string& s = node.Scalar();
  for (const char* word : kTrueWords)
    if (s == word) return true;
  for (const char* word : kFalseWords)
    if (s == word) return false;
  return std::nullopt;
}

std::optional<bool> boolean(const Field& f) {
  if (f.value.IsNull()) return std::nullopt;
  const auto b = yaml_bool(f.value);
  if (!b) f.fail(fmt::format("must be true or false, not {}", f.written()));
  return b;
}

// A closed set of names, matched case-insensitively; aliases map to a canonical name.
struct Choice {
  std::span<const std::string_view> names;                                 // canonical, listed in messages
  std::span<const std::pair<std::string_view, std::string_view>> aliases;  // {alias, canonical}
};

std::optional<std::string> lookup(const Choice& choice, std::string_view text) {
  const std::string key = lower(text);
  for (const std::string_view name : choice.names)
    if (key == name) return std::string(name);
  for (const auto& [alias, name] : choice.aliases)
    if (key == alias) return std::string(name);
  return std::nullopt;
}

std::string describe(const Choice& choice) {
  std::string out = "one of " + join(choice.names);
  if (!choice.aliases.empty()) {
    std::string aliases;
    for (const auto& alias : choice.aliases) aliases += (aliases.empty() ? "" : ", ") + std::string(alias.first);
    out += " (or " + aliases + ")";
  }
  return out;
}

std::string chosen(const Field& f, const YAML::Node& node, const Choice& choice) {
  const std::string value = single_line_text(f, node);
  auto name = lookup(choice, value);
  if (!name) f.fail(fmt::format("\"{}\" is not {}", shown(value), describe(choice)));
  return *name;
}

std::optional<std::string> choice(const Field& f, const Choice& c) {
  if (f.value.IsNull()) return std::nullopt;
  return chosen(f, f.value, c);
}

using Alias = std::pair<std::string_view, std::string_view>;

constexpr std::array<std::string_view, 4> kDtypes = {"auto", "float16", "bfloat16", "float32"};
constexpr std::array<Alias, 4> kDtypeAliases = {
    {{"fp16", "float16"}, {"half", "float16"}, {"bf16", "bfloat16"}, {"fp32", "float32"}}};
constexpr Choice kDtypeChoice{kDtypes, kDtypeAliases};

constexpr std::array<std::string_view, 6> kQuantizations = {"none", "awq", "gptq", "int8", "fp8", "bitsandbytes"};
constexpr Choice kQuantizationChoice{kQuantizations, {}};

constexpr std::array<std::string_view, 7> kKvDtypes = {"auto",    "fp8",      "fp8_e4m3", "fp8_e5m2",
                                                       "float16", "bfloat16", "float32"};
constexpr std::array<Alias, 5> kKvDtypeAliases = {
    {{"fp8_e4m3fn", "fp8_e4m3"}, {"fp16", "float16"}, {"half", "float16"}, {"bf16", "bfloat16"}, {"fp32", "float32"}}};
constexpr Choice kKvDtypeChoice{kKvDtypes, kKvDtypeAliases};

constexpr std::array<std::string_view, 3> kModes = {"throughput", "latency", "balanced"};
constexpr Choice kModeChoice{kModes, {}};

// outputs.emit: one name or a list of the names the caller gives (ProfileChoices); repeats are dropped.
std::vector<std::string> emit_list(const Field& f) {
  std::vector<std::string> out;
  const Choice emit_choice{f.choices->emit_names, f.choices->emit_aliases};
  if (f.value.IsNull()) return out;
  if (f.value.IsMap()) f.fail("must be a name or a list of names, not a mapping");
  std::vector<YAML::Node> items;
  if (f.value.IsScalar()) items.push_back(f.value);
  else
    for (const auto& item : f.value) items.push_back(item);
  for (const auto& item : items) {
    const Field element{f.origin, f.name, item.Mark().is_null() ? f.mark : item.Mark(), item, f.choices};
    if (!item.IsScalar()) element.fail(fmt::format("each entry must be a name, not {}", element.written()));
    std::string name = chosen(element, item, emit_choice);
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

// "--flag" from "flag" or "--flag"; long flags only, [A-Za-z0-9_-].
std::string flag_name(const Field& f, const std::string& written) {
  std::string_view name = written;
  if (name.substr(0, 2) == "--") name.remove_prefix(2);
  if (name.empty() || name.front() == '-')
    f.fail(fmt::format("\"{}\" is not a long flag name like --max-num-seqs", shown(written)));
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) f.fail(fmt::format("flag \"{}\" may hold only letters, digits, '-' and '_'", shown(written)));
  }
  return "--" + std::string(name);
}

using FlagList = std::vector<std::pair<std::string, std::string>>;

void add_flag(const Field& f, FlagList& flags, std::string flag, std::string value) {
  for (const auto& existing : flags)
    if (existing.first == flag) f.fail(fmt::format("{} is given twice", flag));
  flags.emplace_back(std::move(flag), std::move(value));
}

// vllm_args as a mapping: flag -> value; true (or no value) is a bare flag, false leaves it out.
void flags_from_map(const Field& f, FlagList& flags) {
  for (const auto& entry : f.value) {
    const YAML::Node& key = entry.first;
    const YAML::Node& value = entry.second;
    const Field at_key{f.origin, f.name, key.Mark(), value};
    if (!key.IsScalar()) at_key.fail("flag names must be strings");
    const std::string flag = flag_name(at_key, key.Scalar());
    const Field item{f.origin, f.name + "." + flag.substr(2), key.Mark(), value, f.choices};
    if (value.IsNull()) {
      add_flag(item, flags, flag, "");
      continue;
    }
    if (!value.IsScalar()) item.fail(fmt::format("must be one value, not {}", item.written()));
    if (const auto b = yaml_bool(value)) {
      if (*b) add_flag(item, flags, flag, "");
      continue;
    }
    add_flag(item, flags, flag, single_line_text(item, value));
  }
}

// vllm_args as a list: "--flag" or "--flag=value".
void flags_from_list(const Field& f, FlagList& flags) {
  for (const auto& it : f.value) {
    const YAML::Node& entry = it;  // a sequence's iterator_value is the element's Node (its key/value pair is empty)
    const Field item{f.origin, f.name, entry.Mark().is_null() ? f.mark : entry.Mark(), entry, f.choices};
    if (!entry.IsScalar())
      item.fail(fmt::format("each entry must be a string like \"--flag=value\", not {}", item.written()));
    const std::string text = single_line_text(item, entry);
    const std::size_t eq = text.find('=');
    const std::string flag = flag_name(item, text.substr(0, eq));
    add_flag(item, flags, flag, eq == std::string::npos ? std::string() : text.substr(eq + 1));
  }
}

FlagList vllm_args(const Field& f) {
  FlagList flags;
  if (f.value.IsNull()) return flags;
  if (f.value.IsMap()) flags_from_map(f, flags);
  else if (f.value.IsSequence()) flags_from_list(f, flags);
  else f.fail("must be a mapping of flag: value or a list of \"--flag=value\" strings");
  return flags;
}

// The schema: each section's keys and how each one fills the Profile.
using Setter = void (*)(Profile&, const Field&);
struct Key {
  const char* name;
  Setter set;
};
struct Section {
  const char* name;
  std::span<const Key> keys;
};

const std::array<Key, 7> kModelKeys = {{
    {"id", [](Profile& p, const Field& f) { p.model_id = text(f); }},
    {"revision", [](Profile& p, const Field& f) { p.revision = text(f); }},
    {"dtype", [](Profile& p, const Field& f) { p.dtype = choice(f, kDtypeChoice); }},
    {"quantization",
     [](Profile& p, const Field& f) {
       p.quantization = choice(f, kQuantizationChoice);
       if (p.quantization == "none") p.quantization.reset();
     }},
    {"kv_cache_dtype", [](Profile& p, const Field& f) { p.kv_cache_dtype = choice(f, kKvDtypeChoice); }},
    {"max_model_len", [](Profile& p, const Field& f) { p.max_model_len = whole(f, kMaxTokens); }},
    {"params_b",
     [](Profile& p, const Field& f) {
       p.params_b = number(f, {0, true, 1e6});
     }},
}};

const std::array<Key, 6> kHardwareKeys = {{
    {"gpu_name", [](Profile& p, const Field& f) { p.gpu_name = text(f); }},
    {"gpus", [](Profile& p, const Field& f) { p.gpus = whole(f, kMaxCount); }},
    {"vram_gb",
     [](Profile& p, const Field& f) {
       p.vram_gb = number(f, {0, true, 100'000});
     }},
    {"interconnect", [](Profile& p, const Field& f) { p.interconnect = text(f); }},
    {"tp_size", [](Profile& p, const Field& f) { p.tp_size = whole(f, kMaxCount); }},
    {"sku", [](Profile& p, const Field& f) { p.sku = text(f); }},
}};

const std::array<Key, 5> kWorkloadKeys = {{
    {"prompt_tokens", [](Profile& p, const Field& f) { p.prompt_tokens = whole(f, kMaxTokens); }},
    {"gen_tokens", [](Profile& p, const Field& f) { p.gen_tokens = whole(f, kMaxTokens); }},
    {"concurrency", [](Profile& p, const Field& f) { p.concurrency = whole(f, kMaxCount); }},
    {"streaming", [](Profile& p, const Field& f) { p.streaming = boolean(f); }},
    {"mode", [](Profile& p, const Field& f) { p.mode = choice(f, kModeChoice); }},
}};

const std::array<Key, 4> kPolicyKeys = {{
    {"gpu_memory_utilization",
     [](Profile& p, const Field& f) {
       p.gpu_memory_utilization = number(f, {0, true, 1});
     }},
    {"overhead_gb",
     [](Profile& p, const Field& f) {
       p.overhead_gb = number(f, {0, false, 1024});
     }},
    {"fragmentation_factor",
     [](Profile& p, const Field& f) {
       p.fragmentation_factor = number(f, {1, false, 10});
     }},
    {"headroom_gb",
     [](Profile& p, const Field& f) {
       p.headroom_gb = number(f, {0, false, 1024});
     }},
}};

const std::array<Key, 2> kOutputsKeys = {{
    {"emit", [](Profile& p, const Field& f) { p.emit = emit_list(f); }},
    {"vllm_args", [](Profile& p, const Field& f) { p.vllm_args = vllm_args(f); }},
}};

const std::array<Section, 5> kSections = {{
    {"model", kModelKeys},
    {"hardware", kHardwareKeys},
    {"workload", kWorkloadKeys},
    {"policy", kPolicyKeys},
    {"outputs", kOutputsKeys},
}};

const char* type_name(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) return "a single value";
  return "something else";
}

template <typename Item>
std::string names_of(std::span<const Item> items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + std::string(item.name);
  return out;
}

// Calls visit(name, key node, value node) for each entry of a mapping, rejecting keys that are not plain
// names and keys given twice. `prefix` is the dotted path of the mapping ("" at the top).
template <typename Visit>
void for_each_entry(std::string_view origin, const YAML::Node& map, const std::string& prefix, Visit visit) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar() || key.Scalar().empty())
      bad_input(fmt::format("{}: {}keys must be plain names", where(origin, key.Mark()),
                            prefix.empty() ? "" : prefix + ": "));
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second)
      bad_input(fmt::format("{}: duplicate key '{}{}'", where(origin, key.Mark()), prefix.empty() ? "" : prefix + ".",
                            shown(name)));
    visit(name, key, entry.second);
  }
}

void parse_section(Profile& profile, std::string_view origin, const ProfileChoices& choices, const Section& section,
                   const YAML::Node& key, const YAML::Node& body) {
  if (body.IsNull()) return;
  if (!body.IsMap())
    bad_input(fmt::format("{}: {}: must be a mapping of keys ({}), not {}", where(origin, key.Mark()), section.name,
                          names_of(section.keys), type_name(body)));
  for_each_entry(origin, body, section.name, [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) {
    const std::string dotted = std::string(section.name) + "." + name;
    for (const Key& known : section.keys) {
      if (name == known.name) {
        known.set(profile, Field{origin, dotted, k.Mark(), v, &choices});
        return;
      }
    }
    bad_input(fmt::format("{}: unknown key '{}.{}' (known: {})", where(origin, k.Mark()), section.name, shown(name),
                          names_of(section.keys)));
  });
}

// Rejects a text with more than one document. Not YAML::LoadAll: on a token that cannot start a node (a stray
// ',') yaml-cpp 0.7 yields an empty document without consuming the token, and LoadAll loops forever (yaml-cpp
// issue 1040). At most two documents are parsed here, and a second one that starts where the first did is that
// stuck token.
void require_one_document(const std::string& text, std::string_view origin) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  detail::DocumentStarts documents;
  if (!parser.HandleNextDocument(documents) || !parser.HandleNextDocument(documents)) return;
  const YAML::Mark& first = documents.starts.at(0);
  const YAML::Mark& second = documents.starts.at(1);
  if (second.pos == first.pos) bad_input(fmt::format("{}: malformed YAML: unexpected token", where(origin, second)));
  bad_input(fmt::format("{}: a profile is one YAML document; another one starts here", where(origin, second)));
}

// The single YAML document of the text, or a null node when there is none.
YAML::Node load_document(std::string_view text, std::string_view origin) {
  const std::string copy(text);
  try {
    require_one_document(copy, origin);
    return YAML::Load(copy);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is only "bad file"; a profile nests three levels at most.
    bad_input(fmt::format("{}: malformed YAML: nesting too deep (over {} levels)", where_exactly(origin, e.mark),
                          e.depth() - 1));
  } catch (const YAML::Exception& e) {  // ParserException
    // yaml-cpp's message can end with a byte of the file ("unknown escape character: \r"): escaped, so the error
    // stays on one line (found by fuzz_profile; tests/test_fuzz_regressions.cpp).
    bad_input(fmt::format("{}: malformed YAML: {}", where(origin, e.mark), one_line(e.msg)));
  }
}

}  // namespace

Profile parse_profile(std::string_view text, std::string_view origin, const ProfileChoices& choices) {
  Profile profile;
  profile.origin = std::string(origin);
  const YAML::Node root = load_document(text, origin);
  if (root.IsNull()) return profile;
  if (!root.IsMap())
    bad_input(fmt::format("{}: a profile must be a mapping of sections ({}), not {}", where(origin, root.Mark()),
                          names_of(std::span<const Section>(kSections)), type_name(root)));
  for_each_entry(origin, root, "", [&](const std::string& name, const YAML::Node& key, const YAML::Node& body) {
    for (const Section& section : kSections) {
      if (name == section.name) {
        parse_section(profile, origin, choices, section, key, body);
        return;
      }
    }
    bad_input(fmt::format("{}: unknown section '{}' (known: {})", where(origin, key.Mark()), shown(name),
                          names_of(std::span<const Section>(kSections))));
  });
  return profile;
}

Profile load_profile(const fs::path& file, const ProfileChoices& choices) {
  const std::string shown_name = file.string();
  const fs::path actual = detail::expand_user(shown_name);
  auto fail = [&](const std::string& reason) {
    bad_input(fmt::format("{}: cannot read profile: {}", shown_name, reason));
  };

  std::error_code ec;
  const fs::file_status status = fs::status(actual, ec);
  if (!fs::exists(status)) {
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) fail(ec.message());
    fail("no such file or directory");
  }
  if (fs::is_directory(status)) fail("is a directory");
  // A FIFO or a device is refused before it is opened (it would block, or never end).
  const detail::FileRead read = detail::read_regular_file(actual, limits::kMaxProfileBytes, "profiles");
  if (!read.text) fail(read.problem);
  return parse_profile(*read.text, shown_name, choices);
}

}  // namespace vramcalc
