// The model of a POST /estimate-gpu-memory request (serve/estimate.hpp): resolved as the CLI resolves --model, or
// estimated from a parameter count when it is found nowhere, then the request's architecture overrides.
#include <optional>

#include <fmt/format.h>

#include "serve/api_error.hpp"
#include "serve/estimate.hpp"
#include "vramcalc/core/error.hpp"
#include "vramcalc/core/printable.hpp"
#include "vramcalc/model/estimated_architecture.hpp"
#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/hf_cache.hpp"
#include "vramcalc/sources/hub.hpp"
#include "vramcalc/sources/resolve.hpp"

namespace vramcalc::serve {

namespace {

// The Hub options a request runs with: the environment's, never a progress line, and offline unless the server was
// started with --allow-hub (whatever HF_HUB_OFFLINE says: the estimate may be called outside the server too). The
// server's token only where the operator allowed it (the server sets HF_HUB_DISABLE_IMPLICIT_TOKEN otherwise).
HubOptions request_hub_options(const EstimateContext& context) {
  HubOptions hub = hub_options_from_environment();
  hub.token = resolve_token(std::nullopt);
  hub.progress = false;
  if (!context.allow_hub) hub.offline = true;
  return hub;
}

std::string did_you_mean(const ModelCatalog& catalog, const std::string& name) {
  const auto close = catalog.suggest(name, 3);
  if (close.empty()) return "";
  std::string list;
  for (std::size_t i = 0; i < close.size(); ++i)
    list += (i == 0 ? "" : i + 1 == close.size() ? " or " : ", ") + close[i];
  return fmt::format(" Did you mean {}?", list);
}

// Why the model was not found, for the warning and the 400 when nothing can be estimated.
std::string where_not_found(const EstimateContext& context, bool hub_id) {
  if (!hub_id) return "is not a Hugging Face id (org/name) nor in the bundled catalog";
  return context.allow_hub ? "is in neither the bundled catalog, the caches nor on the Hugging Face Hub"
                           : "is in neither the bundled catalog nor the caches (this server does not fetch from the "
                             "Hub: it was started without --allow-hub)";
}

// The size to estimate from: params_billions (with the name's experts, if it states "8x7B"), else the name's.
std::optional<ModelSize> size_to_estimate(const EstimateRequest& r) {
  auto from_name = model_size_from_name(r.model_name);
  if (r.params_billions) {
    ModelSize s{*r.params_billions, 0, false, fmt::format("params_billions {}", *r.params_billions)};
    if (from_name && from_name->experts > 0) s.experts = from_name->experts;
    return s;
  }
  return from_name;
}

bool full_architecture(const EstimateRequest& r) {
  for (const char* key : {"num_layers", "hidden_size", "num_heads", "intermediate_size"})
    if (!r.architecture.contains(key)) return false;
  return true;
}

EstimateModel estimated(const EstimateRequest& r, const EstimateContext& context, bool hub_id,
                        const ModelCatalog* catalog) {
  const std::string hint = catalog != nullptr ? did_you_mean(*catalog, r.model_name) : "";
  std::optional<ModelSize> size = size_to_estimate(r);
  std::string from;
  if (full_architecture(r)) {
    // Every shape field is the request's: the estimate gives only the vocabulary (and the KV heads when not given).
    if (!size) size = ModelSize{7, 0, false, ""};
    from = "the architecture given";
  } else if (size) {
    from = r.params_billions ? size->text : fmt::format("the \"{}\" in its name", size->text);
  } else {
    bad_field("params_billions",
              fmt::format("{} {}, and states no size to estimate its architecture from: give params_billions, a "
                          "size in the name (-7b, 8x7B) or the architecture (num_layers, hidden_size, num_heads, "
                          "intermediate_size).{}",
                          printable_line(r.model_name), where_not_found(context, hub_id), hint));
  }
  EstimateModel m;
  m.estimated = true;
  m.input.id = r.model_name;
  m.input.origin = "estimated architecture";
  try {
    m.input.config = estimated_config(*size);
  } catch (const Error& e) {
    bad_field(r.params_billions ? "params_billions" : "model_name", e.what());
  }
  // No context limit is known: the request's is taken (architecture_used shows none).
  m.input.config["max_position_embeddings"] = r.max_model_len;
  m.estimate_note = fmt::format("{} {}: its architecture is an estimate from {}", printable_line(r.model_name),
                                where_not_found(context, hub_id), from);
  m.estimate_hint = hint;
  return m;
}

bool not_found(const Error& e, const HubOptions& hub) {
  if (hub.offline) return true;  // resolve_model's only remote failure offline: in no cache nor the catalog
  const auto* remote = dynamic_cast<const RemoteError*>(&e);
  return remote != nullptr && !remote->transient() && std::string(e.what()).find("not found") != std::string::npos;
}

// The request's architecture overrides on the config (its text_config for a multimodal model). On a known model the
// checkpoint's sizes no longer describe it: the weights are computed from the overridden shape.
void apply_overrides(const EstimateRequest& r, EstimateModel& m) {
  if (r.architecture.empty()) return;
  nlohmann::json& target = m.input.config.contains("text_config") && m.input.config["text_config"].is_object()
                               ? m.input.config["text_config"]
                               : m.input.config;
  for (const auto& [key, config_key] : architecture_fields()) {
    const auto it = r.architecture.find(key);
    if (it != r.architecture.end()) target[config_key] = it->second;
  }
  // The seed's architecture object has no KV heads: for an estimated model, num_heads alone means multi-head
  // attention (every head keeps its K and V), as in Llama 2.
  if (m.estimated && r.architecture.contains("num_heads") && !r.architecture.contains("num_kv_heads"))
    target["num_key_value_heads"] = r.architecture.at("num_heads");
  if (!m.estimated) {
    m.input.safetensors.reset();
    m.input.index_total_size.reset();
    m.input.checkpoint_total_size.reset();
    m.input.catalog_weight_bytes.reset();
    m.input.catalog_num_params.reset();
    m.warnings.emplace_back(
        "the architecture overrides change the model's config: its weights are computed from the parameter count of "
        "the overridden shape, not read from the checkpoint");
  }
  m.resolved_as_cli = false;  // the CLI has no such overrides
}

}  // namespace

EstimateModel estimate_model(const EstimateRequest& r, const EstimateContext& context) {
  const std::string& name = r.model_name;
  if (name.front() == '/' || name.front() == '.' || name.front() == '~' || name.find("..") != std::string::npos ||
      name.find('\\') != std::string::npos)
    bad_field("model_name", "model_name is a catalog or Hugging Face id (org/name); local paths are not read");
  const bool hub_id = is_hub_id(name);
  std::optional<ModelCatalog> catalog;
  const auto load_catalog = [&]() -> const ModelCatalog& {
    if (!catalog) catalog = ModelCatalog::load_for(find_data_file("models.json"), name);
    return *catalog;
  };
  EstimateModel m;
  if (!hub_id) {
    m = estimated(r, context, false, &load_catalog());
  } else {
    ResolveOptions resolve;
    resolve.hub = request_hub_options(context);
    resolve.local_paths = false;
    resolve.catalog = load_catalog;
    try {
      m.input = resolve_model(name, resolve);
      m.resolved_as_cli = true;
    } catch (const Error& e) {
      if (e.code() != ExitCode::RemoteFailed) throw ApiError(400, e.what(), "model_name");
      if (!not_found(e, resolve.hub)) throw ApiError(502, e.what(), "model_name");
      m = estimated(r, context, true, &load_catalog());
    }
  }
  apply_overrides(r, m);
  return m;
}

}  // namespace vramcalc::serve
