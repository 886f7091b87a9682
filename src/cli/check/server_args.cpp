// Reading a server's settings from a manifest (check/server_args.hpp). The tables say which of each server's flags
// vram-calc sizes with, and as which of its own flags; every other flag is skipped, with its value when it takes one.
#include "cli/check/server_args.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

namespace vramcalc::cli {

namespace {

// One of a server's flags: its name without dashes, whether it takes a value, and the vram-calc flag it becomes
// (nullptr: read by the checker itself, such as the model or the layout).
struct ServerFlag {
  const char* name;
  bool takes_value;
  const char* vram_calc;
};

// vLLM's flags (`vllm serve --help`) that change its memory; the layout and the model are read by the checker.
constexpr std::array kVllmFlags{
    ServerFlag{"model", true, nullptr},
    ServerFlag{"revision", true, "--revision"},
    ServerFlag{"max-model-len", true, "--max-model-len"},
    ServerFlag{"gpu-memory-utilization", true, "--gpu-memory-utilization"},
    ServerFlag{"tensor-parallel-size", true, nullptr},
    ServerFlag{"pipeline-parallel-size", true, nullptr},
    ServerFlag{"data-parallel-size", true, nullptr},
    ServerFlag{"enable-expert-parallel", false, "--enable-expert-parallel"},
    ServerFlag{"dtype", true, "--dtype"},
    ServerFlag{"quantization", true, "--quantization"},
    ServerFlag{"kv-cache-dtype", true, "--kv-cache-dtype"},
    ServerFlag{"max-num-batched-tokens", true, "--max-num-batched-tokens"},
    ServerFlag{"max-num-seqs", true, "--max-num-seqs"},
    ServerFlag{"block-size", true, "--block-size"},
    ServerFlag{"enforce-eager", false, "--enforce-eager"},
    ServerFlag{"compilation-config", true, "--compilation-config"},
    ServerFlag{"optimization-level", true, "-O"},
    ServerFlag{"cuda-graph-sizes", true, "--cudagraph-capture-sizes"},  // v0.10-v0.11's spelling
    ServerFlag{"cudagraph-capture-sizes", true, "--cudagraph-capture-sizes"},
    ServerFlag{"max-cudagraph-capture-size", true, "--max-cudagraph-capture-size"},
    ServerFlag{"limit-mm-per-prompt", true, "--limit-mm-per-prompt"},
    ServerFlag{"skip-mm-profiling", false, "--skip-mm-profiling"},
    ServerFlag{"language-model-only", false, "--language-model-only"},
    ServerFlag{"kv-cache-memory-bytes", true, "--kv-cache-memory"},
    ServerFlag{"kv-cache-memory", true, "--kv-cache-memory"},
    ServerFlag{"speculative-config", true, "--speculative-config"},
    ServerFlag{"config", true, nullptr},
};

// TGI's launcher flags (`text-generation-launcher --help`); each is also read from its upper-case variable.
constexpr std::array kTgiFlags{
    ServerFlag{"model-id", true, nullptr},
    ServerFlag{"revision", true, "--revision"},
    ServerFlag{"num-shard", true, nullptr},
    ServerFlag{"sharded", true, nullptr},
    ServerFlag{"quantize", true, nullptr},
    ServerFlag{"dtype", true, "--dtype"},
    ServerFlag{"max-total-tokens", true, "--max-total-tokens"},
    ServerFlag{"max-input-tokens", true, "--max-input-tokens"},
    ServerFlag{"max-input-length", true, "--max-input-tokens"},  // TGI 1.x's name
    ServerFlag{"max-batch-prefill-tokens", true, "--max-batch-prefill-tokens"},
    ServerFlag{"cuda-memory-fraction", true, "--cuda-memory-fraction"},
    ServerFlag{"kv-cache-dtype", true, "--kv-cache-dtype"},
};

// Flags of either server that take no value, beyond the tables: an unknown flag otherwise takes the next word when
// it does not start with a dash.
constexpr std::array kSwitches{
    "trust-remote-code",
    "disable-log-requests",
    "disable-log-stats",
    "enable-log-requests",
    "enable-auto-tool-choice",
    "disable-custom-all-reduce",
    "enable-lora",
    "disable-sliding-window",
    "disable-cascade-attn",
    "enable-sleep-mode",
    "disable-frontend-multiprocessing",
    "enable-request-id-headers",
    "enable-prompt-tokens-details",
    "enable-server-load-tracking",
    "enable-force-include-usage",
    "disable-fastapi-docs",
    "disable-uvicorn-access-log",
    "return-tokens-as-token-ids",
    "enable-reasoning",
    "async-scheduling",
    "headless",
    "enable-eplb",
    "enable-dbo",
    "enable-log-outputs",
    "skip-tokenizer-init",
    "enable-tokenizer-info-endpoint",
    "disable-custom-kernels",
    "json-output",
    "disable-grammar-support",
    "enable-prefill-logprobs",
    "enable-chunked-prefill",
    "enable-prefix-caching",
    "disable-async-output-proc",
    "use-v2-block-manager",
    "enforce-eager",
    "served-model-name-as-path",
};

const ServerFlag* find_flag(ServerKind kind, const std::string& name) {
  auto look = [&](const auto& table) -> const ServerFlag* {
    for (const auto& f : table)
      if (name == f.name) return &f;
    return nullptr;
  };
  return kind == ServerKind::Tgi ? look(kTgiFlags) : look(kVllmFlags);
}

bool is_switch(const std::string& name) {
  if (name.rfind("no-", 0) == 0 || name.rfind("enable-", 0) == 0 || name.rfind("disable-", 0) == 0) return true;
  return std::any_of(kSwitches.begin(), kSwitches.end(), [&](const char* s) { return name == s; });
}

// vLLM's short flags, as its parser expands them.
std::string expand_short(const std::string& word) {
  // -pp=2, as argparse reads it.
  if (const auto eq = word.find('='); eq != std::string::npos && word.rfind("--", 0) != 0) {
    const std::string name = expand_short(word.substr(0, eq));
    if (name != word.substr(0, eq)) return name + word.substr(eq);
  }
  if (word == "-tp") return "--tensor-parallel-size";
  if (word == "-pp") return "--pipeline-parallel-size";
  if (word == "-dp") return "--data-parallel-size";
  if (word == "-q") return "--quantization";
  if (word == "-O") return "--optimization-level";
  if (word.size() == 3 && word.rfind("-O", 0) == 0 && std::isdigit(static_cast<unsigned char>(word[2])) != 0)
    return "--optimization-level=" + word.substr(2);
  return word;
}

// --flag_name to flag-name: vLLM's parser (and KServe's) accepts either spelling.
std::string flag_name(std::string_view word) {
  std::string name(word.substr(word.rfind("--", 0) == 0 ? 2 : 1));
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

// Reads `args` into `s`: flags by name, the first positional word as the model (vllm serve MODEL).
void read_args(const std::vector<std::string>& args, bool positional_model, ServerSettings& s) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string word = expand_short(args[i]);
    if (word.size() < 2 || word[0] != '-' || word == "--") {
      if (positional_model && !s.model && word != "--") {
        s.model = word;
        s.model_from = "the model argument";
      } else if (word != "--") {
        s.notes.push_back(fmt::format("argument '{}' is not read", word));
      }
      continue;
    }
    std::optional<std::string> value;
    if (const auto eq = word.find('='); eq != std::string::npos) {
      value = word.substr(eq + 1);
      word = word.substr(0, eq);
    }
    std::string name = flag_name(word);
    // KServe's Hugging Face runtime names the model with --model_id / --model_dir.
    if (s.kind == ServerKind::KserveHuggingFace && (name == "model-id" || name == "model-dir")) name = "model";
    if (name.find('.') != std::string::npos) {  // -O.cudagraph_mode=..., --compilation-config.level ...
      s.notes.push_back(fmt::format("{} (a dotted config field) is not read", word));
      if (!value && i + 1 < args.size() && args[i + 1].rfind('-', 0) != 0) ++i;
      continue;
    }
    const ServerFlag* known = find_flag(s.kind, name);
    const bool takes_value = known != nullptr ? known->takes_value : !is_switch(name);
    if (!value && takes_value && i + 1 < args.size() && (args[i + 1].rfind('-', 0) != 0 || known != nullptr))
      value = args[++i];
    if (known == nullptr) continue;
    if (known->takes_value && !value) {
      s.unknowns.push_back(fmt::format("--{} has no value", name));
      continue;
    }
    s.values[name] = value;
  }
}

// A YAML scalar, sequence or mapping as the text a flag takes: scalars as written, sequences comma-joined,
// mappings as JSON (vLLM's --compilation-config).
nlohmann::json yaml_to_json(const YAML::Node& n, int depth) {
  if (depth > 32) return nullptr;
  if (n.IsMap()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& e : n) o[e.first.Scalar()] = yaml_to_json(e.second, depth + 1);
    return o;
  }
  if (n.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : n) a.push_back(yaml_to_json(e, depth + 1));
    return a;
  }
  if (!n.IsScalar()) return nullptr;
  const std::string& text = n.Scalar();
  if (n.Tag() == "?") {  // plain: numbers and booleans as such
    if (text == "true" || text == "True") return true;
    if (text == "false" || text == "False") return false;
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size()) {
      if (text.find_first_of(".eE") == std::string::npos) return static_cast<std::int64_t>(d);
      return d;
    }
  }
  return text;
}

// A vLLM --config file (or KAITO's `vllm:` section): keys are flag names, values their values.
void read_config_map(const YAML::Node& map, ServerSettings& s, const std::string& origin) {
  if (!map.IsMap()) {
    s.unknowns.push_back(fmt::format("{} is not a mapping of flags", origin));
    return;
  }
  for (const auto& entry : map) {
    std::string name = entry.first.Scalar();
    std::replace(name.begin(), name.end(), '_', '-');
    const ServerFlag* known = find_flag(s.kind, name);
    if (known == nullptr) continue;
    const YAML::Node& v = entry.second;
    if (!known->takes_value) {
      if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "True")) s.values[name] = std::nullopt;
      else s.values.erase(name);
      continue;
    }
    if (v.IsScalar()) {
      s.values[name] = v.Scalar();
    } else if (v.IsSequence()) {
      std::string joined;
      for (const auto& e : v) joined += (joined.empty() ? "" : ",") + (e.IsScalar() ? e.Scalar() : std::string());
      s.values[name] = joined;
    } else if (v.IsMap()) {
      s.values[name] = yaml_to_json(v, 0).dump();
    }
  }
}

void read_yaml_text(const std::string& text, const std::string& origin, const char* section, ServerSettings& s) {
  try {
    YAML::Node root = YAML::Load(text);
    if (section != nullptr) {
      const YAML::Node part = root.IsMap() ? root[section] : YAML::Node();
      if (!part.IsDefined() || part.IsNull()) return;
      read_config_map(part, s, origin);
    } else {
      read_config_map(root, s, origin);
    }
  } catch (const YAML::Exception& e) {
    s.unknowns.push_back(fmt::format("{}: malformed YAML at line {}: {}", origin, e.mark.line + 1, e.msg));
  }
}

// vLLM's variables that change its memory, and TGI's upper-case spellings of its flags.
void read_env(const Workload& w, ServerSettings& s) {
  auto value_of = [&](const char* name) -> std::optional<std::string> {
    const ManifestEnvVar* v = w.env_var(name);
    if (v == nullptr) return std::nullopt;
    if (!v->value) {
      s.unknowns.push_back(fmt::format("{} comes {}", name, v->unknown_because));
      return std::nullopt;
    }
    return v->value;
  };
  // Assignments in a shell script (VAR=x vllm serve ...) act as variables too.
  auto from_script = [&](const char* name) -> std::optional<std::string> {
    if (w.server)
      for (const auto& [k, v] : w.server->assignments)
        if (k == name) return v;
    return value_of(name);
  };
  if (s.kind == ServerKind::Tgi) {
    for (const auto& f : kTgiFlags) {
      std::string var = f.name;
      std::transform(var.begin(), var.end(), var.begin(), [](char c) {
        return c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      });
      if (auto v = from_script(var.c_str())) s.values[f.name] = *v;
    }
    return;
  }
  if (auto v = from_script("VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS"); v && (*v == "0" || *v == "false"))
    s.values["cudagraph-estimate"] = "off";
  if (auto v = from_script("VLLM_USE_FLASHINFER_SAMPLER"); v && *v == "1")
    s.values["flashinfer-sampler"] = std::nullopt;
  if (auto v = from_script("VLLM_ALLOW_LONG_MAX_MODEL_LEN"); v && (*v == "1" || *v == "true"))
    s.values["allow-long-max-model-len"] = std::nullopt;
  if (auto v = from_script("VLLM_USE_V1"); v && *v == "0")
    s.notes.emplace_back("VLLM_USE_V1=0: the V0 engine is sized as V1 (V0 is a documented legacy)");
}

// A --config file: read when it is a file of a ConfigMap mounted from the input.
void read_config_file(const Workload& w, ServerSettings& s) {
  const auto path = s.value("config");
  if (!path) return;
  const auto file = w.files.find(*path);
  if (file == w.files.end()) {
    s.unknowns.push_back(fmt::format("--config {} is not a file of a ConfigMap in the input", *path));
    return;
  }
  ServerSettings from_file;
  from_file.kind = s.kind;
  read_yaml_text(file->second, "--config " + *path, nullptr, from_file);
  // The command line wins over the file.
  for (auto& [k, v] : from_file.values) s.values.emplace(k, v);
  s.unknowns.insert(s.unknowns.end(), from_file.unknowns.begin(), from_file.unknowns.end());
  if (from_file.model && !s.model) {
    s.model = from_file.model;
    s.model_from = "--config";
  }
  if (const auto m = from_file.values.find("model"); m != from_file.values.end() && m->second && !s.model) {
    s.model = m->second;
    s.model_from = "--config model";
  }
}

// KServe: hf://org/name[:revision] as the model when the args name none.
void read_storage_uri(const Workload& w, ServerSettings& s) {
  if (s.model || !w.storage_uri) return;
  const std::string& uri = *w.storage_uri;
  if (uri.rfind("hf://", 0) == 0) {
    std::string id = uri.substr(5);
    if (const auto colon = id.find(':'); colon != std::string::npos) {
      s.values.emplace("revision", id.substr(colon + 1));
      id = id.substr(0, colon);
    }
    s.model = id;
    s.model_from = "storageUri";
  } else {
    s.model = "/mnt/models";
    s.model_from = fmt::format("storageUri {} (downloaded to /mnt/models)", uri);
  }
}

const char* quantization_for_vram_calc(ServerKind kind, const std::string& q) {
  if (kind == ServerKind::Tgi) {
    if (q == "bitsandbytes" || q == "eetq") return "int8";
    if (q == "bitsandbytes-nf4" || q == "bitsandbytes-fp4") return "bitsandbytes";
    if (q == "fp8") return "fp8";
    return nullptr;  // awq, gptq, marlin, exl2, compressed-tensors: the checkpoint's own format
  }
  if (q == "fp8" || q == "bitsandbytes") return q == "fp8" ? "fp8" : "bitsandbytes";
  return nullptr;
}

}  // namespace

std::optional<std::string> ServerSettings::value(const std::string& flag) const {
  const auto it = values.find(flag);
  return it == values.end() ? std::nullopt : it->second;
}

std::optional<std::uint64_t> ServerSettings::count(const std::string& flag, std::uint64_t absent) const {
  const auto v = value(flag);
  if (!has(flag)) return absent;
  if (!v || v->empty() || v->size() > 6 ||
      !std::all_of(v->begin(), v->end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    return std::nullopt;
  const auto n = std::stoull(*v);
  return n == 0 ? std::nullopt : std::optional<std::uint64_t>(n);
}

ServerSettings read_server_settings(const Workload& w, const std::optional<std::string>& kaito_model) {
  ServerSettings s;
  if (w.kaito) {
    s.kind = ServerKind::Vllm;
    if (kaito_model) {
      s.model = kaito_model;
      s.model_from = "KAITO preset " + w.kaito->preset;
    }
    if (w.kaito->inference_config) read_yaml_text(*w.kaito->inference_config, "inference_config.yaml", "vllm", s);
    return s;
  }
  if (!w.server) return s;
  s.kind = w.server->kind;
  read_env(w, s);
  read_args(w.server->args, s.kind == ServerKind::Vllm, s);
  read_config_file(w, s);
  if (!s.model) {
    const char* flag = s.kind == ServerKind::Tgi ? "model-id" : "model";
    if (auto m = s.value(flag)) {
      s.model = *m;
      s.model_from = std::string("--") + flag;
    }
  }
  if (s.kind == ServerKind::KserveHuggingFace) {
    read_storage_uri(w, s);
    if (auto backend = s.value("backend"); backend && *backend == "huggingface")
      s.unknowns.emplace_back("--backend huggingface serves with transformers, not vLLM: not sized");
  }
  return s;
}

std::vector<std::string> vram_calc_flags(const ServerSettings& s, std::vector<std::string>& notes) {
  std::vector<std::string> out;
  if (s.kind == ServerKind::Tgi) out.insert(out.end(), {"--engine", "tgi"});
  for (const auto& [name, value] : s.values) {
    if (name == "cudagraph-estimate") {
      out.insert(out.end(), {"--cudagraph-estimate", *value});
      continue;
    }
    if (name == "flashinfer-sampler") {
      out.emplace_back("--flashinfer-sampler");
      continue;
    }
    if (name == "quantization" || name == "quantize") {
      const char* q = quantization_for_vram_calc(s.kind, value.value_or(""));
      if (q != nullptr) out.insert(out.end(), {"--quantization", q});
      else
        notes.push_back(
            fmt::format("--{} {} names the checkpoint's own format: read from its config", name, value.value_or("")));
      continue;
    }
    const ServerFlag* f = find_flag(s.kind, name);
    if (f == nullptr || f->vram_calc == nullptr) continue;
    std::string v = value.value_or("");
    if (name == "dtype") v = v == "half" ? "float16" : v == "float" ? "float32" : v;
    if (name == "kv-cache-dtype" && v == "fp8_e4m3fn") v = "fp8_e4m3";
    out.emplace_back(f->vram_calc);
    if (f->takes_value) out.push_back(v);
  }
  return out;
}

std::optional<std::string> vllm_version_of_image(const std::string& image) {
  if (image.find('@') != std::string::npos && image.find(':', image.rfind('/') + 1) == std::string::npos)
    return std::nullopt;
  const auto slash = image.rfind('/');
  const auto colon = image.find(':', slash == std::string::npos ? 0 : slash);
  if (colon == std::string::npos) return std::nullopt;
  std::string tag = image.substr(colon + 1);
  if (const auto at = tag.find('@'); at != std::string::npos) tag = tag.substr(0, at);
  if (!tag.empty() && tag[0] == 'v') tag = tag.substr(1);
  // The leading version: digits and dots (0.11.0, 0.10.1.1), before any -cu128 or similar suffix.
  std::size_t end = 0;
  while (end < tag.size() && (std::isdigit(static_cast<unsigned char>(tag[end])) != 0 || tag[end] == '.')) ++end;
  tag = tag.substr(0, end);
  if (tag.empty() || tag.find('.') == std::string::npos || tag.back() == '.') return std::nullopt;
  return tag;
}

}  // namespace vramcalc::cli
