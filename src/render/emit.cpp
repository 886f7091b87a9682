// --emit: ready-to-run artefacts for a plan — the `vllm serve` flags or command, the TGI launcher command, or a
// minimal Kubernetes Deployment.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "render/json_sections.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/render/commands.hpp"
#include "vramcalc/render/render.hpp"

namespace vramcalc {

namespace {

// A YAML scalar that is always a string: JSON's double-quoted form is valid YAML, with every control character
// escaped, so that a model id or argument holding a newline or ESC stays one valid scalar (render_detail::dump_json).
// Invalid UTF-8 (a profile's vllm_args, argv) becomes U+FFFD instead of an exception (found by fuzz_profile).
std::string q(const std::string& s) { return render_detail::dump_json(nlohmann::json(s), -1); }

// Text in a YAML comment: on one line, with nothing a YAML parser refuses.
std::string comment_text(const std::string& s) { return render_detail::escape_yaml_unsafe(printable_line(s)); }

std::string flow_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + q(items[i]);
  return out + "]";
}

// A DNS-1123 name from the model id: "meta-llama/Llama-3.1-8B" -> "llama-3-1-8b".
std::string k8s_name(const std::string& id) {
  std::string base = id.substr(id.find_last_of('/') == std::string::npos ? 0 : id.find_last_of('/') + 1);
  std::string out;
  for (char c : base) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 50) out.resize(50);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "model" : out;
}

// The value NVIDIA GPU feature discovery puts in nvidia.com/gpu.product: the device name with spaces as dashes
// ("NVIDIA A100-SXM4-80GB" -> "NVIDIA-A100-SXM4-80GB"), from the SKU's first device-name alias.
std::optional<std::string> gfd_product(const Gpu& gpu) {
  for (const auto& a : gpu.aliases) {
    if (a.rfind("NVIDIA ", 0) == 0 || a.rfind("Tesla ", 0) == 0) {
      std::string label = a;
      std::replace(label.begin(), label.end(), ' ', '-');
      return label;
    }
  }
  return std::nullopt;
}

std::string k8s_deployment(const Report& r, const SkuPlan& sp) {
  const bool tgi = method_info(sp.method()).engine == "tgi";
  const std::string name = k8s_name(r.input.id) + (tgi ? "-tgi" : "-vllm");
  const std::uint64_t gpn = static_cast<std::uint64_t>(std::max(1, sp.sku.gpus_per_node));
  const std::uint64_t gpus_per_pod = std::min(sp.gpus(), gpn);
  const bool amd = sp.sku.gpu.vendor == "AMD";
  std::string image;
  std::vector<std::string> command, args;
  int port = 8000;
  if (tgi) {
    image = "ghcr.io/huggingface/text-generation-inference:latest";
    // The launcher is the image's entrypoint; pass its flags (the plan's launch command past the program) as args.
    args.assign(sp.summary.command.begin() + 1, sp.summary.command.end());
    args.insert(args.end(), {"--port", "8080"});
    port = 8080;
  } else {
    const bool versioned = sp.method() == Method::Vllm && r.settings.vllm.version.str() != VllmVersion{}.str();
    image = versioned ? fmt::format("vllm/vllm-openai:v{}", r.settings.vllm.version.str()) : "vllm/vllm-openai:latest";
    command = {"vllm", "serve"};
    args = vllm_serve_args(r, sp);
  }

  std::string y;
  // A comment ends at a line break: the model id and names in it are escaped onto the one line.
  y += fmt::format("# vram-calc: {} on {} ({} x {}, TP {} x PP {}); fits: {}, OOM risk {}\n", comment_text(r.input.id),
                   comment_text(sp.sku.name), sp.gpus(), comment_text(sp.sku.gpu.name), sp.tensor_parallel_size(),
                   sp.pipeline_parallel_size(), sp.fits() ? "yes" : "NO", oom_risk_name(sp.feasibility.oom_risk));
  if (sp.nodes() > 1)
    y += fmt::format(
        "# WARNING: this plan spans {} nodes; one Deployment pod runs on one node. Use a multi-node "
        "launcher (e.g. LeaderWorkerSet with Ray) instead.\n",
        sp.nodes());
  if (!sp.fits()) y += "# WARNING: the plan does not fit; this pod is expected to fail at startup.\n";
  y += "# Pin the image tag you tested; HF_TOKEN comes from the optional secret hf-token (key: token).\n";
  y += "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n";
  y += fmt::format("  name: {}\n  labels:\n    app.kubernetes.io/name: {}\n", name, name);
  y += "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n";
  y += fmt::format("      app.kubernetes.io/name: {}\n", name);
  y += "  template:\n    metadata:\n      labels:\n";
  y += fmt::format("        app.kubernetes.io/name: {}\n", name);
  y += "    spec:\n";
  if (const auto product = amd ? std::nullopt : gfd_product(sp.sku.gpu))
    y += fmt::format("      nodeSelector:\n        nvidia.com/gpu.product: {}\n", q(*product));
  y += "      containers:\n";
  y += fmt::format("        - name: {}\n", tgi ? "tgi" : "vllm");
  y += fmt::format("          image: {}\n", q(image));
  if (!command.empty()) y += fmt::format("          command: {}\n", flow_list(command));
  y += fmt::format("          args: {}\n", flow_list(args));
  y += "          env:\n            - name: HF_TOKEN\n              valueFrom:\n                secretKeyRef:\n"
       "                  name: hf-token\n                  key: token\n                  optional: true\n";
  y += fmt::format("          ports:\n            - name: http\n              containerPort: {}\n", port);
  y += fmt::format("          resources:\n            limits:\n              {}: {}\n",
                   amd ? "amd.com/gpu" : "nvidia.com/gpu", gpus_per_pod);
  y += fmt::format(
      "          readinessProbe:\n            httpGet:\n              path: /health\n              port: {}\n"
      "            periodSeconds: 10\n",
      port);
  y += "          startupProbe:\n            httpGet:\n              path: /health\n";
  y += fmt::format("              port: {}\n            periodSeconds: 10\n            failureThreshold: 180\n", port);
  y += "          volumeMounts:\n            - name: dshm\n              mountPath: /dev/shm\n";
  y += "      volumes:\n        - name: dshm\n          emptyDir:\n            medium: Memory\n";
  return y;
}

}  // namespace

std::string render_emit(const Report& r, const SkuPlan& sp, Emit what) {
  switch (what) {
    case Emit::VllmArgs: {
      auto args = vllm_serve_args(r, sp);
      args.erase(args.begin());  // the model comes first: `vllm serve MODEL <these>`
      return shell_join(args) + "\n";
    }
    case Emit::VllmCommand: return vllm_serve_command(r, sp) + "\n";
    case Emit::TgiCommand: return sp.tgi ? launch_command(sp) + "\n" : "";
    case Emit::K8s: return k8s_deployment(r, sp);
  }
  return "";
}

}  // namespace vramcalc
