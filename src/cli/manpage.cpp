// The man page, written from the same CLI definition as --help: its options, its subcommands, and the --help
// footer, whose blocks ("Estimators (--estimator):", "Exit codes:", ...) become sections.
#include <cctype>
#include <sstream>

#include <fmt/format.h>

#include "cli/completions.hpp"

namespace vramcalc::cli {

namespace {

// roff text: backslashes and hyphens escaped (so options copy as ASCII), no line taken for a request.
std::string roff(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::size_t indent_of(const std::string& line) {
  const auto i = line.find_first_not_of(' ');
  return i == std::string::npos ? line.size() : i;
}

// The value an option takes, as the page writes it.
std::string metavar(const FlagSpec& f) {
  std::string choices;
  for (const auto& c : f.choices) choices += (choices.empty() ? "" : "|") + c;
  switch (f.kind) {
    case ValueKind::Choice: return f.comma_list ? choices + "[,...]" : choices;
    case ValueKind::File: return "FILE";
    case ValueKind::Model: return "ID|PATH";
    case ValueKind::Sku: return "NAME[,NAME...]|all";
    case ValueKind::Word: return "VALUE";
    default: return "";
  }
}

std::string option_entry(const FlagSpec& f) {
  std::string head;
  std::vector<std::string> names;  // short names first, as --help prints them
  for (const auto& n : f.names)
    if (n.rfind("--", 0) != 0) names.push_back(n);
  for (const auto& n : f.names)
    if (n.rfind("--", 0) == 0) names.push_back(n);
  for (const auto& n : names) head += (head.empty() ? "" : ", ") + fmt::format("\\fB{}\\fR", roff(n));
  if (f.kind != ValueKind::None) head += fmt::format(" \\fI{}\\fR", roff(metavar(f)));
  std::string body = roff(f.description);
  if (!f.default_value.empty()) body += fmt::format(" (default: {})", roff(f.default_value));
  return fmt::format(".TP\n{}\n{}\n", head, body);
}

// Where the text of "  term  text" starts (a term indented two, then two or more spaces), or 0.
std::size_t text_column(const std::string& line) {
  if (indent_of(line) != 2) return 0;
  const auto gap = line.find("  ", 2);
  const auto start = gap == std::string::npos ? gap : line.find_first_not_of(' ', gap);
  return start == std::string::npos ? 0 : start;
}

// An entry of a list whose text starts at `column` (one space may end a long term: "  wizard vllm-wizard's").
bool is_entry(const std::string& line, std::size_t column) {
  return indent_of(line) == 2 && line.size() > column && line[column - 1] == ' ' && line[column] != ' ';
}

// Indented footer lines. "  term  text" entries, each perhaps with deeper continuation lines, become a tagged
// list (.TP) with the text filled, except that a line keeps its own start where the indentation changes or the
// line before ends with ':' (formulas in the text). Anything else (the KAITO formulas) stays as laid out.
std::string indented_block(const std::vector<std::string>& lines) {
  const std::size_t column = text_column(lines.front());
  bool list = column > 0;
  for (const auto& l : lines) list = list && (is_entry(l, column) || indent_of(l) > 2);
  if (!list) {
    std::string out = ".PP\n.nf\n";
    for (const auto& l : lines) out += roff(l.substr(2)) + "\n";
    return out + ".fi\n";
  }
  std::string out;
  std::size_t previous_indent = column;
  bool previous_colon = false;
  for (const auto& l : lines) {
    if (is_entry(l, column)) {
      std::string term = l.substr(2, column - 2);
      term.erase(term.find_last_not_of(' ') + 1);
      out += fmt::format(".TP\n\\fB{}\\fR\n{}\n", roff(term), roff(l.substr(column)));
      previous_indent = column;
    } else {
      if (indent_of(l) != previous_indent || previous_colon) out += ".br\n";
      out += roff(l.substr(indent_of(l))) + "\n";
      previous_indent = indent_of(l);
    }
    previous_colon = l.back() == ':';
  }
  return out;
}

// A heading line ("Exit codes:") as a section title. One too long for a title is headed by its words before
// " (" and kept whole as the section's first line (`remainder`).
std::string section_title(const std::string& heading, std::string& remainder) {
  const std::string h = heading.substr(0, heading.size() - 1);  // without the ':'
  if (h == "Exit codes") return "EXIT STATUS";
  const auto paren = h.find(" (");
  if (paren == std::string::npos) return upper(h);
  if (h.size() <= 32) return upper(h.substr(0, paren)) + h.substr(paren);  // ESTIMATORS (--estimator)
  remainder = heading;
  return upper(h.substr(0, paren));
}

std::string footer_sections(const std::string& footer) {
  std::vector<std::vector<std::string>> blocks(1);
  std::istringstream in(footer);
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(' ') == std::string::npos) {
      if (!blocks.back().empty()) blocks.emplace_back();
    } else {
      blocks.back().push_back(line);
    }
  }
  std::string out;
  for (auto& block : blocks) {
    if (block.empty()) continue;
    std::size_t i = 0;
    if (indent_of(block[0]) == 0 && block[0].back() == ':') {
      std::string remainder;
      out += fmt::format(".SH \"{}\"\n", roff(section_title(block[0], remainder)));
      if (!remainder.empty()) out += roff(remainder) + "\n";
      i = 1;
    } else {
      out += ".PP\n";
    }
    std::vector<std::string> indented;
    for (; i < block.size(); ++i) {
      if (indent_of(block[i]) >= 2) {
        indented.push_back(block[i]);
        continue;
      }
      if (!indented.empty()) out += indented_block(indented);
      indented.clear();
      out += roff(block[i]) + "\n";
    }
    if (!indented.empty()) out += indented_block(indented);
  }
  return out;
}

// What vram-calc reads from the environment (kept short; the README has the details).
constexpr const char* kEnvironment = R"(.SH ENVIRONMENT
.TP
.B VRAM_CALC_DATA_DIR
Directory holding models.json and skus.json, searched first.
.TP
.BR HF_ENDPOINT ", " HF_TOKEN ", " HF_TOKEN_PATH ", " HF_HUB_OFFLINE
The Hugging Face Hub URL, the token for gated repositories, and offline mode, as huggingface_hub reads them.
.TP
.BR HF_HOME ", " HF_HUB_CACHE ", " XDG_CACHE_HOME
Where the Hugging Face cache and vram\-calc's own cache are.
.TP
.BR CURL_CA_BUNDLE ", " REQUESTS_CA_BUNDLE ", " SSL_CERT_FILE
CA certificates for TLS, when \-\-ca\-bundle is not given.
.TP
.B VLLM_USE_FLASHINFER_SAMPLER
Set to 1, the same as \-\-flashinfer\-sampler.
.SH FILES
.TP
.I <prefix>/share/vram\-calc/models.json
The bundled model catalog (vram\-calc models).
.TP
.I <prefix>/share/vram\-calc/skus.json
GPU and cloud\-instance SKUs (vram\-calc skus).
)";

}  // namespace

std::string man_page(const CommandSpec& cli, const std::string& footer, const std::string& version,
                     const std::string& date) {
  // "vram-calc: how much GPU memory ..., how many GPUs ...": the NAME line takes the first clause.
  std::string summary = cli.description;
  if (const auto colon = summary.find(": "); colon != std::string::npos) summary.erase(0, colon + 2);
  const std::string first_clause = summary.substr(0, summary.find(", "));
  std::string out = fmt::format(".TH VRAM\\-CALC 1 \"{}\" \"{}\" \"User Commands\"\n", date, roff(version));
  out += ".nh\n.ad l\n";  // no hyphenation (it would split option names), ragged right
  out += fmt::format(".SH NAME\n{} \\- {}\n", roff(cli.name), roff(first_clause));

  // The plan: the model and SKU options it needs, then the rest.
  out += fmt::format(".SH SYNOPSIS\n.B {}\n", roff(cli.name));
  for (const auto& f : cli.flags)
    if (f.kind == ValueKind::Model || f.kind == ValueKind::Sku)
      out += fmt::format("\\fB{}\\fR \\fI{}\\fR\n", roff(f.names.front()), roff(metavar(f)));
  out += "[\\fIOPTIONS\\fR]\n";
  for (const auto& sub : cli.subcommands) {
    out += fmt::format(".br\n.B {} {}\n", roff(cli.name), roff(sub.name));
    for (const auto& f : sub.flags)
      if (f.kind != ValueKind::None)
        out += fmt::format("[\\fB{}\\fR \\fI{}\\fR]\n", roff(f.names.front()), roff(metavar(f)));
  }

  out += fmt::format(
      ".SH DESCRIPTION\n\\fB{}\\fR tells {}\n.PP\nREADME.md, installed with the package "
      "(share/doc/vram\\-calc), explains how models are found, every formula, and the JSON output.\n",
      roff(cli.name), roff(summary));
  out += ".SH OPTIONS\n";
  for (const auto& f : cli.flags) out += option_entry(f);
  for (const auto& sub : cli.subcommands) {
    out += fmt::format(".SS \"{} {}\"\n{}.\n", roff(cli.name), roff(sub.name), roff(sub.description));
    for (const auto& f : sub.flags) out += option_entry(f);
  }
  out += footer_sections(footer);
  out += kEnvironment;
  return out;
}

}  // namespace vramcalc::cli
