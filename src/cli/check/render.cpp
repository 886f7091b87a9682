// The outputs of `vram-calc check` (check/result.hpp): one table of formats, one renderer each. Every text that
// comes from a manifest goes through printable_line (human, Markdown, GitHub) or the JSON/XML escapes.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/check/result.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/core/units.hpp"

#ifndef VRAMCALC_VERSION
#define VRAMCALC_VERSION "0.0.0"
#endif

namespace vramcalc::cli {

std::string_view verdict_name(CheckVerdict v) {
  switch (v) {
    case CheckVerdict::Fits: return "fits";
    case CheckVerdict::DoesNotFit: return "does_not_fit";
    case CheckVerdict::CannotTell: return "cannot_tell";
  }
  return "cannot_tell";
}

std::string_view verdict_words(CheckVerdict v) {
  switch (v) {
    case CheckVerdict::Fits: return "fits";
    case CheckVerdict::DoesNotFit: return "does not fit";
    case CheckVerdict::CannotTell: return "cannot tell";
  }
  return "cannot tell";
}

std::string CheckResult::title() const {
  std::string t = fmt::format("{}/{}", workload.kind, workload.name.empty() ? "(unnamed)" : workload.name);
  if (!workload.container.empty()) t += fmt::format(" (container {})", workload.container);
  return printable_line(t);
}

std::string CheckResult::reason() const {
  if (!errors.empty()) return printable_line(errors.front());
  for (const auto& p : plans)
    if (!p.fits)
      return printable_line(fmt::format("on {}: {}", p.sku, p.reasons.empty() ? "does not fit" : p.reasons.front()));
  if (!unknowns.empty()) return printable_line(unknowns.front());
  if (plans.empty()) return "nothing to plan";
  const CheckFigures& p = plans.front();
  return fmt::format("{} x {}, max_model_len {} (longest that fits {}, {}x concurrency)", p.gpus, printable_line(p.sku),
                     format_count(p.max_model_len), format_count(p.longest_max_model_len), p.max_concurrency);
}

namespace {

std::string place(const ManifestPlace& p) {
  return p.line > 0 ? fmt::format("{}:{}", printable_line(p.file), p.line) : printable_line(p.file);
}

struct Counts {
  std::size_t fits = 0, does_not_fit = 0, cannot_tell = 0;
};

Counts count(const CheckRun& run) {
  Counts c;
  for (const auto& r : run.results)
    (r.verdict == CheckVerdict::Fits         ? c.fits
     : r.verdict == CheckVerdict::DoesNotFit ? c.does_not_fit
                                             : c.cannot_tell)++;
  return c;
}

std::string totals(const CheckRun& run) {
  const Counts c = count(run);
  return fmt::format(
      "{} workload(s): {} fit, {} do not fit, {} cannot tell; {} resource(s) skipped; {} input(s) "
      "could not be read",
      run.results.size(), c.fits, c.does_not_fit, c.cannot_tell, run.input.skipped.size(), run.input.errors.size());
}

std::string figures_line(const CheckFigures& f) {
  std::string kv = fmt::format("KV for {} tokens {}", format_count(f.max_model_len), format_gib(f.kv_needed_bytes));
  if (f.kv_available_bytes)
    kv += fmt::format(" of {} available", *f.kv_available_bytes > 0
                                              ? format_gib(static_cast<std::uint64_t>(*f.kv_available_bytes))
                                              : std::string("0.00 GiB"));
  return fmt::format("per GPU: budget {}, weights {}, {}; longest max_model_len {}, {}x concurrency",
                     format_gib(f.budget_bytes), format_gib(f.weights_bytes), kv, format_count(f.longest_max_model_len),
                     f.max_concurrency);
}

std::string layout(const CheckFigures& f) {
  std::string l =
      f.gpu == f.sku ? fmt::format("{} x {}", f.gpus, f.sku) : fmt::format("{} x {} ({})", f.gpus, f.gpu, f.sku);
  if (f.nodes > 1) l += fmt::format(" on {} nodes", f.nodes);
  l += fmt::format(", TP {} x PP {}", f.tensor_parallel_size, f.pipeline_parallel_size);
  if (f.data_parallel_size > 1) l += fmt::format(" x DP {}", f.data_parallel_size);
  return l;
}

}  // namespace

std::string render_check_human(const CheckRun& run) {
  std::string out;
  for (const auto& e : run.input.errors)
    out += fmt::format("{}: error: {}\n", place(e.place), printable_line(e.message));
  for (const auto& r : run.results) {
    out += fmt::format("{}: {}: {}\n", place(r.workload.place), r.title(), verdict_words(r.verdict));
    if (!r.model.empty()) out += fmt::format("  model {} ({})\n", printable_line(r.model), printable_line(r.server));
    for (const auto& f : r.plans) {
      out += fmt::format("  {} [{}], {}: {}\n", printable_line(layout(f)), printable_line(f.label), f.engine,
                         f.fits ? "fits" : "does not fit");
      out += "    " + figures_line(f) + "\n";
      for (const auto& why : f.reasons) out += "    why: " + printable_line(why) + "\n";
      for (std::size_t i = 0; i < f.suggestions.size() && i < 3; ++i)
        out += "    would fit with: " + printable_line(f.suggestions[i]) + "\n";
    }
    for (const auto& e : r.errors) out += "  error: " + printable_line(e) + "\n";
    for (const auto& u : r.unknowns) out += "  cannot tell: " + printable_line(u) + "\n";
    for (const auto& n : r.notes) out += "  note: " + printable_line(n) + "\n";
  }
  for (const auto& s : run.input.skipped)
    out += fmt::format("{}: skipped {}{}: {}\n", place(s.place), printable_line(s.kind.empty() ? "document" : s.kind),
                       s.name.empty() ? "" : "/" + printable_line(s.name), printable_line(s.why));
  out += totals(run) + "\n";
  return out;
}

namespace {

nlohmann::json plan_json(const CheckFigures& f) {
  nlohmann::json j = {{"sku", f.sku},
                      {"gpu_name", f.gpu},
                      {"label", f.label},
                      {"engine", f.engine},
                      {"fits", f.fits},
                      {"gpus", f.gpus},
                      {"nodes", f.nodes},
                      {"tensor_parallel_size", f.tensor_parallel_size},
                      {"pipeline_parallel_size", f.pipeline_parallel_size},
                      {"data_parallel_size", f.data_parallel_size},
                      {"budget_bytes_per_gpu", f.budget_bytes},
                      {"weights_bytes_per_gpu", f.weights_bytes},
                      {"kv_available_bytes_per_gpu",
                       f.kv_available_bytes ? nlohmann::json(*f.kv_available_bytes) : nlohmann::json(nullptr)},
                      {"kv_needed_bytes_per_gpu", f.kv_needed_bytes},
                      {"max_model_len", f.max_model_len},
                      {"longest_max_model_len", f.longest_max_model_len},
                      {"max_concurrency", f.max_concurrency},
                      {"headroom_bytes_per_gpu", f.headroom_bytes},
                      {"reasons", f.reasons},
                      {"suggestions", f.suggestions}};
  return j;
}

nlohmann::json place_json(const ManifestPlace& p) {
  return {{"file", p.file}, {"document", p.document}, {"line", p.line}};
}

}  // namespace

std::string render_check_json(const CheckRun& run) {
  const Counts c = count(run);
  nlohmann::json workloads = nlohmann::json::array();
  for (const auto& r : run.results) {
    nlohmann::json w = place_json(r.workload.place);
    const Workload& wl = r.workload;
    w.update({{"kind", wl.kind},
              {"name", wl.name},
              {"namespace", wl.ns},
              {"container", wl.container},
              {"server", r.server},
              {"model", r.model},
              {"verdict", verdict_name(r.verdict)},
              {"reason", r.reason()},
              {"gpu",
               {{"resource", wl.gpu_resource},
                {"per_pod", wl.gpus_per_pod ? nlohmann::json(*wl.gpus_per_pod) : nlohmann::json(nullptr)},
                {"pods", wl.pods},
                {"total", wl.total_gpus()}}},
              {"errors", r.errors},
              {"unknowns", r.unknowns},
              {"notes", r.notes},
              {"warnings", r.warnings}});
    nlohmann::json plans = nlohmann::json::array();
    for (const auto& f : r.plans) plans.push_back(plan_json(f));
    w["plans"] = plans;
    workloads.push_back(w);
  }
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& s : run.input.skipped) {
    nlohmann::json j = place_json(s.place);
    j.update({{"kind", s.kind}, {"name", s.name}, {"why", s.why}});
    skipped.push_back(j);
  }
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : run.input.errors) {
    nlohmann::json j = place_json(e.place);
    j["message"] = e.message;
    errors.push_back(j);
  }
  const nlohmann::json out = {{"schema_version", kCheckJsonSchemaVersion},
                              {"tool", {{"name", "vram-calc"}, {"command", "check"}, {"version", VRAMCALC_VERSION}}},
                              {"summary",
                               {{"workloads", run.results.size()},
                                {"fits", c.fits},
                                {"does_not_fit", c.does_not_fit},
                                {"cannot_tell", c.cannot_tell},
                                {"skipped", run.input.skipped.size()},
                                {"unreadable", run.input.errors.size()}}},
                              {"files", run.input.files},
                              {"workloads", workloads},
                              {"skipped", skipped},
                              {"errors", errors}};
  return out.dump(2, ' ', true, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

// GitHub's workflow-command escapes: data (% \r \n), and properties (also : and ,).
std::string gh_data(const std::string& s) {
  std::string out;
  for (const char c : printable_line(s)) {
    if (c == '%') out += "%25";
    else out += c;
  }
  return out;
}

std::string gh_property(const std::string& s) {
  std::string out;
  for (const char c : gh_data(s)) {
    if (c == ':') out += "%3A";
    else if (c == ',') out += "%2C";
    else out += c;
  }
  return out;
}

std::string gh_line(const char* level, const ManifestPlace& p, const std::string& title, const std::string& message) {
  std::string props = "file=" + gh_property(p.file);
  if (p.line > 0) props += fmt::format(",line={}", p.line);
  props += ",title=" + gh_property(title);
  return fmt::format("::{} {}::{}\n", level, props, gh_data(message));
}

}  // namespace

std::string render_check_github(const CheckRun& run) {
  std::string out;
  for (const auto& e : run.input.errors) out += gh_line("error", e.place, "vram-calc check: unreadable", e.message);
  for (const auto& r : run.results) {
    const char* level = r.verdict == CheckVerdict::Fits         ? "notice"
                        : r.verdict == CheckVerdict::DoesNotFit ? "error"
                                                                : "warning";
    std::string message = fmt::format("{}: {}: {}", r.title(), verdict_words(r.verdict), r.reason());
    for (const auto& f : r.plans)
      if (!f.fits && !f.suggestions.empty()) message += "; would fit with: " + f.suggestions.front();
    out += gh_line(level, r.workload.place, fmt::format("vram-calc check: {}", verdict_words(r.verdict)), message);
  }
  out += totals(run) + "\n";
  return out;
}

namespace {

std::string xml(const std::string& s) {
  std::string out;
  for (const char c : printable_line(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string details(const CheckResult& r) {
  std::string d;
  for (const auto& f : r.plans) d += layout(f) + ": " + figures_line(f) + "\n";
  for (const auto& e : r.errors) d += "error: " + e + "\n";
  for (const auto& u : r.unknowns) d += "cannot tell: " + u + "\n";
  for (const auto& n : r.notes) d += "note: " + n + "\n";
  return d;
}

}  // namespace

// JUnit XML as CI systems read it: a suite per file, a test case per workload; a workload that does not fit is a
// failure, one that cannot be told is skipped, an unreadable file is an error.
std::string render_check_junit(const CheckRun& run) {
  const Counts c = count(run);
  std::string cases;
  for (const auto& e : run.input.errors)
    cases += fmt::format("  <testcase classname=\"{}\" name=\"read {}\">\n    <error message=\"{}\"/>\n  </testcase>\n",
                         xml(e.place.file), xml(place(e.place)), xml(e.message));
  for (const auto& r : run.results) {
    cases += fmt::format("  <testcase classname=\"{}\" name=\"{} line {}\">\n", xml(r.workload.place.file),
                         xml(r.title()), r.workload.place.line);
    if (r.verdict == CheckVerdict::DoesNotFit)
      cases += fmt::format("    <failure message=\"{}\" type=\"does_not_fit\">{}</failure>\n", xml(r.reason()),
                           xml(details(r)));
    else if (r.verdict == CheckVerdict::CannotTell)
      cases += fmt::format("    <skipped message=\"{}\"/>\n", xml("cannot tell: " + r.reason()));
    cases += fmt::format("    <system-out>{}</system-out>\n  </testcase>\n", xml(details(r)));
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out +=
      fmt::format("<testsuites name=\"vram-calc check\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
                  run.results.size() + run.input.errors.size(), c.does_not_fit, run.input.errors.size(), c.cannot_tell);
  out +=
      fmt::format("<testsuite name=\"vram-calc check\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
                  run.results.size() + run.input.errors.size(), c.does_not_fit, run.input.errors.size(), c.cannot_tell);
  out += cases + "</testsuite>\n</testsuites>\n";
  return out;
}

namespace {

std::string md(const std::string& s) {
  std::string out;
  for (const char c : printable_line(s)) {
    if (c == '|' || c == '*' || c == '_' || c == '`' || c == '<' || c == '[' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string render_check_markdown(const CheckRun& run) {
  const Counts c = count(run);
  std::string out = fmt::format("### vram-calc check: {} fit, {} do not fit, {} cannot tell\n\n", c.fits,
                                c.does_not_fit, c.cannot_tell);
  out += "| verdict | workload | where | model | GPUs | max_model_len | longest that fits | why |\n";
  out += "|---|---|---|---|---|---:|---:|---|\n";
  for (const auto& r : run.results) {
    const char* mark = r.verdict == CheckVerdict::Fits ? "✅" : r.verdict == CheckVerdict::DoesNotFit ? "❌" : "❔";
    const CheckFigures* f = r.plans.empty() ? nullptr : &r.plans.front();
    out += fmt::format("| {} {} | {} | {} | {} | {} | {} | {} | {} |\n", mark, verdict_words(r.verdict), md(r.title()),
                       md(place(r.workload.place)), md(r.model), f != nullptr ? md(layout(*f)) : "-",
                       f != nullptr ? format_count(f->max_model_len) : "-",
                       f != nullptr ? format_count(f->longest_max_model_len) : "-", md(r.reason()));
  }
  for (const auto& e : run.input.errors)
    out += fmt::format("\n**Could not read** {}: {}\n", md(place(e.place)), md(e.message));
  if (!run.input.skipped.empty())
    out += fmt::format("\n{} resource(s) skipped (not workloads vram-calc sizes).\n", run.input.skipped.size());
  return out;
}

const std::vector<CheckFormat>& check_formats() {
  static const std::vector<CheckFormat> formats = {
      {"human", render_check_human}, {"json", render_check_json},         {"github", render_check_github},
      {"junit", render_check_junit}, {"markdown", render_check_markdown},
  };
  return formats;
}

}  // namespace vramcalc::cli
