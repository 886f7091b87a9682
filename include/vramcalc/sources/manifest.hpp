// Kubernetes manifests as `vram-calc check` reads them: every workload that starts a vLLM or TGI server, with what it
// asks of its GPUs (count, node selection) and its command line, ConfigMaps from the same input resolved. What the
// arguments mean is the checker's business (cli/check); this only reads YAML.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vramcalc/sources/shell_words.hpp"

namespace vramcalc {

// Where something is: a file (or "-" for stdin), the document's index in it (0-based) and a 1-based line.
struct ManifestPlace {
  std::string file;
  std::size_t document = 0;
  int line = 0;
};

// A container's environment variable: its value, or why it cannot be known (a Secret, a field reference).
struct ManifestEnvVar {
  std::string name;
  std::optional<std::string> value;
  std::string unknown_because;  // when value is empty: "from Secret hf-token", ...
};

// A node label the pod must land on: nodeSelector (one value) or a required node affinity (In: several values,
// any of which the scheduler may pick).
struct GpuSelector {
  std::string label;
  std::vector<std::string> values;
};

// KAITO's Workspace or InferenceSet: what KAITO provisions and the preset it runs.
struct KaitoWorkload {
  std::string instance_type;
  std::uint64_t count = 1;                      // nodes
  std::string preset;                           // inference.preset.name
  std::string config_name;                      // inference.config: a ConfigMap
  std::optional<std::string> inference_config;  // its inference_config.yaml, when the ConfigMap is in the input
};

struct Workload {
  ManifestPlace place;
  std::string kind;       // Deployment, LeaderWorkerSet, Workspace, ...
  std::string name;       // metadata.name
  std::string ns;         // metadata.namespace
  std::string container;  // "" for KAITO
  std::string image;
  std::optional<ServerCommand> server;  // nullopt for KAITO (its preset says the model)
  std::vector<ManifestEnvVar> env;
  std::map<std::string, std::string> files;  // mounted ConfigMap files: path in the container -> contents
  std::vector<std::string> unread_mounts;    // mount paths of volumes that are not ConfigMaps of the input
  // GPUs: the resource the container asks for ("nvidia.com/gpu", "nvidia.com/mig-3g.40gb", "amd.com/gpu") and how
  // many per pod; a LeaderWorkerSet's group has `pods` pods (the leader's count first, then each worker's).
  std::string gpu_resource;
  std::optional<std::uint64_t> gpus_per_pod;
  std::optional<std::uint64_t> worker_gpus_per_pod;  // LeaderWorkerSet workers, when different from the leader
  std::uint64_t pods = 1;
  std::vector<GpuSelector> selectors;
  std::optional<KaitoWorkload> kaito;
  std::optional<std::string> storage_uri;  // KServe's storageUri (hf://org/name, s3://..., pvc://...)
  std::vector<std::string> problems;       // what could not be read: each makes the verdict "cannot tell"
  std::vector<std::string> notes;          // what was not read but rarely matters (envFrom a Secret, ...)

  [[nodiscard]] const ManifestEnvVar* env_var(std::string_view name) const;
  [[nodiscard]] std::uint64_t total_gpus() const;  // leader + workers
};

// A resource of the input that is not a workload vram-calc sizes, and why.
struct SkippedResource {
  ManifestPlace place;
  std::string kind;
  std::string name;
  std::string why;
};

// A file (or stdin) that could not be read: missing, unreadable, or not YAML; the line when known.
struct ManifestReadError {
  ManifestPlace place;
  std::string message;
};

struct ManifestSet {
  std::vector<Workload> workloads;
  std::vector<SkippedResource> skipped;
  std::vector<ManifestReadError> errors;
  std::vector<std::string> files;  // every file read, in order
};

// Collects documents from several files, then extracts the workloads (ConfigMaps are matched across all files).
class ManifestReader {
 public:
  // Adds one file's text (multi-document YAML). A syntax error is recorded (file and line), never thrown.
  void add(std::string_view text, const std::string& file);
  // Reads a file (or stdin for "-"), or every *.yaml / *.yml under a directory, recursively, sorted.
  void add_path(const std::string& path);
  [[nodiscard]] ManifestSet read() const;

  struct Document;  // one parsed YAML document and where it starts (private to src/sources)

 private:
  std::vector<std::shared_ptr<const Document>> documents_;
  std::vector<ManifestReadError> errors_;
  std::vector<std::string> files_;
};

}  // namespace vramcalc
