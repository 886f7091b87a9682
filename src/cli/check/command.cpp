// `vram-calc check`: its flags, reading the inputs, checking each workload and the exit code (check/check.hpp).
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/check/check.hpp"
#include "cli/output.hpp"
#include "cli/subcommand.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/sources/hub.hpp"

namespace vramcalc::cli {

namespace {

struct CheckFlags {
  std::vector<std::string> inputs;
  std::string format = "human";
  std::string sku, sku_map, model_map, vllm_version;
  std::string token, ca_bundle, connect_timeout, timeout;
  bool strict = false, offline = false;
};

std::string format_list() {
  std::string out;
  for (const auto& f : check_formats()) out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out;
}

constexpr const char* kDescription =
    "vram-calc check: gate Kubernetes manifests that run vLLM or TGI. Reads Deployments, StatefulSets, Pods, Jobs, "
    "LeaderWorkerSets, KServe InferenceServices and ServingRuntimes, and KAITO Workspaces and InferenceSets (YAML, "
    "several documents per file; directories are searched for *.yaml and *.yml; - reads stdin), works out each "
    "workload's model, settings, GPU type (node selector, required node affinity, instance type) and GPU count, "
    "and plans it with the same engine as vram-calc itself.";

constexpr const char* kFooter = R"(
Verdicts: fits, does not fit (memory, or an inconsistency the server refuses: TP x PP x DP unlike the GPUs
requested, TP not dividing the heads, --max-model-len over the model's maximum, bfloat16 on a GPU without it, more
GPUs than the node type holds), cannot tell (unknown GPU, a model not resolvable offline, a value from a Secret,
arguments it cannot read). Without --max-model-len, vLLM serves the model's whole context, and that is checked.

Exit codes: 0 every workload fits; 1 one does not fit (or, with --strict, cannot be told); 2 an input could not be
read (a YAML syntax error names its file and line) or bad usage; 3 a model could not be fetched.

Examples:
  vram-calc check deploy/
  helm template my-release ./chart | vram-calc check - --format github
  vram-calc check k8s/ --sku-map gpu-labels.yaml --model-map models.yaml --offline --format junit > check.xml
)";

void define(CLI::App& app, CheckFlags& f) {
  app.add_option("inputs", f.inputs, "Manifest files or directories (*.yaml, *.yml, recursively); - for stdin")
      ->type_name("FILE_OR_DIR")
      ->required();
  app.add_option("--format", f.format, "Output: " + format_list())->type_name("FORMAT")->capture_default_str();
  app.add_option("-s,--sku", f.sku, "Check every workload on this SKU, whatever its node selection says")
      ->type_name("NAME");
  app.add_option("--sku-map", f.sku_map,
                 "YAML or JSON: node-label values (or label=value) to SKU names, for custom labels")
      ->type_name("FILE");
  app.add_option("--model-map", f.model_map, "YAML or JSON: model paths in the container to Hugging Face ids")
      ->type_name("FILE");
  app.add_option("--vllm-version", f.vllm_version,
                 "vLLM release when an image tag names none (default: the newest modelled)")
      ->type_name("VERSION");
  app.add_flag("--strict", f.strict, "Exit 1 when a workload cannot be told to fit");
  app.add_flag("--offline", f.offline, "Use only local sources: the catalog and caches (also HF_HUB_OFFLINE=1)");
  app.add_option("--token", f.token, "Hugging Face token (else HF_TOKEN)")->type_name("TOKEN");
  app.add_option("--ca-bundle", f.ca_bundle, "CA certificates for TLS")->type_name("FILE");
  app.add_option("--connect-timeout", f.connect_timeout, "Seconds to connect to the hub")->type_name("SECONDS");
  app.add_option("--timeout", f.timeout, "Seconds for one whole transfer")->type_name("SECONDS");
  app.footer(kFooter);
}

CheckContext context_for(const CheckFlags& f) {
  CheckContext c;
  c.skus = SkuCatalog::load(find_data_file("skus.json"));
  c.labels = GpuLabelMap::load(find_data_file("k8s_gpu_labels.json"));
  if (!f.sku_map.empty()) c.labels.add_user_map(f.sku_map);
  if (!f.model_map.empty()) c.model_map = load_model_map(f.model_map);
  if (!f.sku.empty()) {
    if (c.skus.find(f.sku) == nullptr) fail_input(fmt::format("--sku: unknown SKU '{}'", f.sku));
    c.sku = c.skus.find(f.sku)->name;
  }
  if (!f.vllm_version.empty()) c.vllm_version = f.vllm_version;
  c.offline = f.offline || hub_options_from_environment().offline;
  if (f.offline) c.hub_flags.emplace_back("--offline");
  auto pass = [&](const char* flag, const std::string& value) {
    if (!value.empty()) c.hub_flags.insert(c.hub_flags.end(), {flag, value});
  };
  pass("--token", f.token);
  pass("--ca-bundle", f.ca_bundle);
  pass("--connect-timeout", f.connect_timeout);
  pass("--timeout", f.timeout);
  return c;
}

int exit_code(const CheckRun& run, bool strict) {
  if (!run.input.errors.empty()) return static_cast<int>(ExitCode::BadInput);
  const auto& rs = run.results;
  if (std::any_of(rs.begin(), rs.end(), [](const CheckResult& r) { return r.remote_failed; }))
    return static_cast<int>(ExitCode::RemoteFailed);
  const bool fails = std::any_of(rs.begin(), rs.end(), [&](const CheckResult& r) {
    return r.verdict == CheckVerdict::DoesNotFit || (strict && r.verdict == CheckVerdict::CannotTell);
  });
  return static_cast<int>(fails ? ExitCode::DoesNotFit : ExitCode::Fits);
}

}  // namespace

int run_check(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  try {
    CLI::App app(kDescription, "vram-calc check");
    app.get_formatter()->column_width(34);
    CheckFlags f;
    define(app, f);
    if (!parse_subcommand_flags(app, argc, argv, "check")) return 0;
    const auto* format = [&]() -> const CheckFormat* {
      for (const auto& fm : check_formats())
        if (fm.name == f.format || (f.format == "table" && fm.name == "human") ||
            (f.format == "md" && fm.name == "markdown"))
          return &fm;
      fail_input(fmt::format("check --format: '{}' is not one of {}", f.format, format_list()));
    }();
    CheckContext context = context_for(f);
    ManifestReader reader;
    for (const auto& input : f.inputs) reader.add_path(input);
    CheckRun run;
    run.input = reader.read();
    for (const auto& w : run.input.workloads) run.results.push_back(check_workload(w, context));
    write_output(format->render(run));
    return exit_code(run, f.strict);
  } catch (...) {
    return report_failure(args);
  }
}

}  // namespace vramcalc::cli
