// The thin edge: parse flags, resolve the model and SKUs, run the pure calculation, print, exit.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <numeric>
#include <string_view>

#include <filesystem>
#include <functional>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/check/check.hpp"
#include "cli/explain_log/explain.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "vramcalc/cli/cli.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/core/text.hpp"
#include "vramcalc/core/units.hpp"
#include "vramcalc/render/commands.hpp"
#include "vramcalc/render/json_stream.hpp"
#include "vramcalc/render/render.hpp"
#include "vramcalc/report/build.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/resolve.hpp"

namespace vramcalc::cli {

// `vram-calc serve ...`: the server is its own executable (vram-calc-serve, linked with cpp-httplib, which the plan
// path must not load), next to this one in a build tree or in <prefix>/libexec/vram-calc once installed.
[[noreturn]] void exec_serve(int argc, char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path dir = ec ? std::filesystem::path(".") : self.parent_path();
  for (const auto& candidate : {dir / "vram-calc-serve", dir / ".." / "libexec" / "vram-calc" / "vram-calc-serve"}) {
    if (::access(candidate.c_str(), X_OK) != 0) continue;
    std::string program = candidate.string();  // execv's argv is char*, not const char*
    std::vector<char*> args{program.data()};
    for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    ::execv(candidate.c_str(), args.data());
  }
  std::fputs(
      "vram-calc: serve: this build has no server (vram-calc-serve is not next to vram-calc nor in "
      "../libexec/vram-calc; build with libcpp-httplib-dev installed)\n",
      stderr);
  std::exit(static_cast<int>(ExitCode::BadInput));
}

// Writes all of `text` to stdout and flushes it. A full disk, a closed stdout or a reader that went away (EPIPE,
// with SIGPIPE ignored) is an error, never a silent success.
void write_output(const std::string& text) {
  write_output_piece(text);
  finish_output();
}

void write_output_piece(std::string_view text) {
  errno = 0;
  const std::size_t written = std::fwrite(text.data(), 1, text.size(), stdout);
  if (written == text.size() && std::ferror(stdout) == 0) return;
  const int error = errno != 0 ? errno : EIO;
  throw Error(ExitCode::BadInput, fmt::format("cannot write the output: {}", std::strerror(error)));
}

void finish_output() {
  errno = 0;
  if (std::fflush(stdout) == 0 && std::ferror(stdout) == 0) return;
  const int error = errno != 0 ? errno : EIO;
  throw Error(ExitCode::BadInput, fmt::format("cannot write the output: {}", std::strerror(error)));
}

namespace {

// A closed stdin, stdout or stderr (`>&-`) is given /dev/null read-only, so that no file opened later lands on
// it and writing to stdout fails (EBADF) instead of going into that file.
void reserve_standard_streams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
}

// A flag whose value may be a secret: its name holds "token", or it is a near miss of --token (--tokne, -token).
bool secret_flag(std::string flag) {
  for (char& c : flag) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return flag.find("token") != std::string::npos || edit_distance(flag, "--token") <= 2;
}

// The command-line values that may be secrets: those of token-like flags (`--flag value` or `--flag=value`), and
// anything that starts with "hf_" (a Hugging Face token given in the wrong place).
std::vector<std::string> secret_values(const std::vector<std::string>& args) {
  std::vector<std::string> secrets;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const std::size_t eq = arg.find('=');
    const std::string value = eq == std::string::npos ? arg : arg.substr(eq + 1);
    if (value.rfind("hf_", 0) == 0) secrets.push_back(value);
    if (arg.empty() || arg.front() != '-' || !secret_flag(arg.substr(0, eq))) continue;
    if (eq != std::string::npos) secrets.push_back(value);
    else if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) secrets.push_back(args[i + 1]);
  }
  // Longest first, so that a secret holding a shorter one is replaced whole.
  std::sort(secrets.begin(), secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return secrets;
}

bool separates_words(const std::string& text, std::size_t at) {
  return at >= text.size() || std::isspace(static_cast<unsigned char>(text[at])) != 0 ||
         std::strchr("\"'=,:;()[]{}<>", text[at]) != nullptr;
}

}  // namespace

// `message` with the command line's secrets replaced by ***. Short values (a token such as "x" is no real secret)
// only where they stand as a word, so that the message's own words stay readable.
std::string redact_secrets(std::string message, const std::vector<std::string>& args) {
  constexpr std::size_t kWordsOnlyBelow = 8;
  for (const std::string& secret : secret_values(args)) {
    if (secret.empty()) continue;
    for (std::size_t at = message.find(secret); at != std::string::npos; at = message.find(secret, at)) {
      const std::size_t end = at + secret.size();
      const bool word = (at == 0 || separates_words(message, at - 1)) && separates_words(message, end);
      if (secret.size() >= kWordsOnlyBelow || word) {
        message.replace(at, secret.size(), "***");
        at += 3;
      } else {
        ++at;
      }
    }
  }
  return message;
}

namespace {

bool several_skus(const Options& o, std::size_t count) { return count > 1 || selects_every_sku(o.sku); }

// The report of one run (or one sweep value) through the one pipeline, its model-level half first: an unreadable
// config is reported before an unknown --sku. Suggestions cost a dozen re-plans per SKU that does not fit: they are
// asked for only where they are shown, JSON and the table or Markdown of a single plan (a comparison, CSV, --emit
// and sweeps do not show them).
Report build_report(const Options& o, const ModelInput& input, const SkuCatalog& skus, bool with_suggestions) {
  Report r = model_report(input, o.report, o.notes);
  const Sku by_memory = gpu_known_by_memory(o.report);  // used only without --sku
  const auto selected = o.sku.empty() ? std::vector<const Sku*>{&by_memory} : select_skus(skus, o.sku);
  const bool shown =
      o.emit.empty() && (o.format == Format::Json || ((o.format == Format::Table || o.format == Format::Markdown) &&
                                                      !several_skus(o, selected.size())));
  add_plans(r, selected, with_suggestions && shown);
  return r;
}

// One sweep value's options: the original command line with the swept flag replaced, parsed again.
Options options_for(const Options& o, const std::string& value) {
  auto args = args_for_sweep_value(o.args, *o.sweep, value);
  std::vector<char*> argv;
  std::string name = "vram-calc";
  argv.push_back(name.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(argv.size() - 1), argv.data(), o.loaded_profile);
}

// Where plan_output may write a long stdout as it is made instead of returning it whole.
using OutputSink = std::function<void(std::string_view)>;

// The plan command's output and exit code, without printing (stderr lines in `stderr_lines`). With `sink`, a JSON
// report of plans goes to it in pieces and `out` stays empty (--sku all --format json is over a megabyte: made
// whole, it is that many fresh pages, a tenth of the command's time).
CommandOutput plan_output(const Options& o, bool local_paths = true, const PlanCatalogs* catalogs = nullptr,
                          const OutputSink* sink = nullptr) {
  CommandOutput result;
  std::optional<ModelCatalog> catalog;
  ResolveOptions resolve;
  resolve.hub = o.hub;
  resolve.local_paths = local_paths;
  resolve.catalog = [&]() -> const ModelCatalog& {
    if (catalogs != nullptr && catalogs->models) return *catalogs->models;
    if (!catalog) catalog = ModelCatalog::load_for(find_data_file("models.json"), o.model);
    return *catalog;
  };
  const ModelInput input = resolve_model(o.model, resolve);
  // One SKU or a few: only their rows of skus.json are parsed (most of a plan's own time otherwise).
  const auto sku_file = find_data_file("skus.json");
  const SkuCatalog loaded = o.sku.empty() || (catalogs != nullptr && catalogs->skus) ? SkuCatalog()
                            : selects_every_sku(o.sku)                               ? SkuCatalog::load(sku_file)
                                                       : SkuCatalog::load_for(sku_file, sku_names(o.sku));
  const SkuCatalog& skus = catalogs != nullptr && catalogs->skus && !o.sku.empty() ? *catalogs->skus : loaded;

  std::vector<SweepPoint> points;
  if (o.sweep) {
    // Every row is a whole plan kept until the output is rendered: the rows are capped, not just the values.
    const std::size_t sku_count = o.sku.empty() ? 1 : select_skus(skus, o.sku).size();
    const std::size_t rows = o.sweep->values.size() * sku_count;
    if (rows > limits::kMaxSweepRows)
      fail_input(
          fmt::format("--sweep: {} values x {} SKUs is {} rows, over the limit of {} per run (take a larger "
                      "step, a shorter range or fewer SKUs)",
                      o.sweep->values.size(), sku_count, rows, limits::kMaxSweepRows));
    for (const auto& value : o.sweep->values)
      points.push_back({o.sweep->flag, value, build_report(options_for(o, value), input, skus, false)});
  } else {
    points.push_back({"", "", build_report(o, input, skus, true)});
  }
  bool any_fits = false;
  for (const auto& pt : points)
    any_fits = any_fits ||
               std::any_of(pt.report.plans.begin(), pt.report.plans.end(), [](const SkuPlan& p) { return p.fits(); });

  std::string out;
  const Report& r = points.front().report;
  if (!o.emit.empty()) {
    const SkuPlan& best = r.plans.front();
    // A plan that does not fit is not emitted (its pods would fail at startup) unless --force: nothing on stdout.
    if (!best.fits() && !o.force) {
      result.stderr_lines.push_back("--emit: " + emit_refusal(r));
      result.exit_code = static_cast<int>(ExitCode::DoesNotFit);
      return result;
    }
    if (r.plans.size() > 1)
      result.stderr_lines.push_back(
          fmt::format("--emit: {}, the {}", printable_line(best.sku.name),
                      best.fits() ? "first SKU that fits with the fewest GPUs" : "first SKU (none fits)"));
    for (const auto& what : o.emit) out += render_emit(r, best, what);
  } else if (o.format == Format::Csv) {
    out = render_csv(points);
  } else if (o.sweep) {
    out = o.format == Format::Json       ? render_sweep_json(points)
          : o.format == Format::Markdown ? render_sweep_markdown(points)
                                         : render_sweep_table(points);
  } else if (sink != nullptr && o.format == Format::Json) {
    render_json_to(r, several_skus(o, r.plans.size()), *sink);
  } else {
    const bool several = several_skus(o, r.plans.size());
    out = o.format == Format::Json       ? render_json(r, several)
          : o.format == Format::Markdown ? render_markdown(r, several)
                                         : render_table(r, several);
  }
  result.out = std::move(out);
  // issue 14: with --strict, a plan whose parameter count, weights or KV cache are guesses is not an answer.
  const bool uncertain =
      std::any_of(points.begin(), points.end(), [](const SweepPoint& pt) { return pt.report.uncertain(); });
  result.exit_code = static_cast<int>(any_fits && !(o.strict && uncertain) ? ExitCode::Fits : ExitCode::DoesNotFit);
  return result;
}

int plan(const Options& o) {
  const OutputSink sink = write_output_piece;
  const CommandOutput result = plan_output(o, true, nullptr, &sink);
  for (const auto& line : result.stderr_lines) std::fprintf(stderr, "vram-calc: %s\n", line.c_str());
  if (!result.out.empty()) write_output_piece(result.out);
  finish_output();
  return result.exit_code;
}

int list_models(const Options& o) {
  const ModelCatalog catalog = ModelCatalog::load(find_data_file("models.json"));
  nlohmann::json rows = nlohmann::json::array();
  std::string table =
      fmt::format("{:<50} {:<34} {:>16} {:>12}  {}\n", "id", "architecture", "parameters", "max context", "aliases");
  for (const auto& m : catalog.models()) {
    const ModelArch a = normalize_config(m.config, m.id);
    std::string aliases;
    for (const auto& al : m.aliases) aliases += (aliases.empty() ? "" : ", ") + al;
    rows.push_back({{"id", m.id},
                    {"aliases", m.aliases},
                    {"architecture", a.architecture},
                    {"num_params", a.num_params()},
                    {"max_position_embeddings",
                     a.max_position_embeddings ? nlohmann::json(*a.max_position_embeddings) : nlohmann::json(nullptr)},
                    {"safetensors_total_bytes", m.safetensors_total_bytes ? nlohmann::json(*m.safetensors_total_bytes)
                                                                          : nlohmann::json(nullptr)}});
    table +=
        fmt::format("{:<50} {:<34} {:>16} {:>12}  {}\n", m.id, a.architecture, format_count(a.num_params()),
                    a.max_position_embeddings ? format_count(*a.max_position_embeddings) : std::string("-"), aliases);
  }
  const std::string out = o.format == Format::Json ? rows.dump(2) + "\n" : table;
  write_output(out);
  return 0;
}

int list_skus(const Options& o) {
  const SkuCatalog skus = SkuCatalog::load(find_data_file("skus.json"));
  const std::string out = o.format == Format::Json ? sku_list_json(skus).dump(2) + "\n" : render_sku_list_table(skus);
  write_output(out);
  return 0;
}

}  // namespace

CommandOutput run_plan_command(const std::vector<std::string>& args, bool local_paths, const PlanCatalogs* catalogs) {
  std::vector<std::string> words{"vram-calc"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const Options o = parse_options(static_cast<int>(words.size()), argv.data());
  if (o.command != Command::Plan) fail_input("only a plan can be asked for here");
  if (!local_paths && o.profile) fail_input("--profile: local files are not read here");
  return plan_output(o, local_paths, catalogs);
}

int run(int argc, char** argv) {
  reserve_standard_streams();
  const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  // Commands with their own flags: `vram-calc check ...`.
  if (!args.empty() && args.front() == "check") return run_check(argc - 1, argv + 1);
  if (!args.empty() && args.front() == "serve") exec_serve(argc, argv);
  if (!args.empty() && args.front() == "explain-log") return run_explain_log(argc - 1, argv + 1);
  try {
    const Options o = parse_options(argc, argv);
    switch (o.command) {
      case Command::Help: write_output(o.help_text); return 0;
      case Command::Version: write_output(version_string() + "\n"); return 0;
      case Command::ListSkus: return list_skus(o);
      case Command::ListModels: return list_models(o);
      case Command::Plan: return plan(o);
    }
  } catch (...) {
    return report_failure(args);
  }
  return static_cast<int>(ExitCode::BadInput);
}

int report_failure(const std::vector<std::string>& args) {
  try {
    throw;
  } catch (const Error& e) {
    // A token given on the command line never comes back in a message (CLI11 echoes what it did not expect).
    std::fprintf(stderr, "vram-calc: %s\n", redact_secrets(e.what(), args).c_str());
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::fputs("vram-calc: out of memory\n", stderr);
    return static_cast<int>(ExitCode::BadInput);
  } catch (const std::exception& e) {
    // Anything unexpected is still one line and a documented code, never a crash.
    std::fprintf(stderr, "vram-calc: internal error: %s\n", printable_line(redact_secrets(e.what(), args)).c_str());
    return static_cast<int>(ExitCode::BadInput);
  }
}

}  // namespace vramcalc::cli
