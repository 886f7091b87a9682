// TGI sizing: TGI's estimation notebook, "Estimate VRAM usage for TGI". The simplified validate_vram_overhead
// decides (needed <= available); the notebook's first version gives the KV token budget. Every product is an
// exact integer in the notebook, so it is computed here with checked 64-bit integers; only the fraction x 0.95
// terms go through long double.
#include "vramcalc/engines/tgi/plan.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string_view>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc {

namespace {

// TGI v2.x's launcher (launcher/src/main.rs; its --help: "Default to `max_input_tokens + 50`") defaults the token
// settings from the config's max_position_embeddings (or max_seq_len, n_positions) capped at 4096 ("to save VRAM
// by refusing large prompts"), or 4096 when the config has none:
//   max_total_tokens         = min(max_position_embeddings, 4096)
//   max_input_tokens         = min(max_position_embeddings, 4096) - 1   (not derived from a given max_total_tokens)
//   max_batch_prefill_tokens = max_input_tokens + 50                    ("room for block_size alignment")
// TGI v3 replaced these with limits computed from the free memory at start-up, which a planner cannot know.
constexpr std::uint64_t kTgiMaxDefault = 4096;
constexpr std::uint64_t kTgiPrefillMargin = 50;

// The notebook's "by default, TGI allocates 95% of free VRAM to kv-cache", applied to bytes x fraction as
// x 95 / 100 so that 24 GB x 0.95 is exactly 22.8 GB (0.95 has no exact binary form).
long double tgi_share(long double bytes, double cuda_memory_fraction) {
  return bytes * static_cast<long double>(cuda_memory_fraction) * 95.0L / 100.0L;
}

void validate_settings(const TgiSettings& s) {
  if (s.max_input_tokens && *s.max_input_tokens == 0)
    fail_input("--max-input-tokens: must be a positive number of tokens");
  if (s.max_total_tokens && *s.max_total_tokens == 0)
    fail_input("--max-total-tokens: must be a positive number of tokens");
  if (s.max_batch_prefill_tokens && *s.max_batch_prefill_tokens == 0)
    fail_input("--max-batch-prefill-tokens: must be a positive number of tokens");
  if (!(s.cuda_memory_fraction > 0 && s.cuda_memory_fraction <= 1))
    fail_input(fmt::format("--cuda-memory-fraction: {} is outside (0, 1]", s.cuda_memory_fraction));
  if (s.num_shard < 1) fail_input("--num-shard: must be at least 1");
  if (s.gpu_memory_bytes == 0) fail_input("--gpu-memory: the GPU memory must be more than 0 bytes");
  if (!(s.cuda_overhead_gb >= 0 && s.cuda_overhead_gb <= 1000))
    fail_input(fmt::format("--cuda-overhead-gb: {} is outside [0, 1000]", s.cuda_overhead_gb));
}

// Fills the three token settings, given or defaulted as TGI v2.x's launcher does, and says which were defaulted.
void resolve_tokens(const ModelArch& arch, const TgiSettings& s, TgiPlan& p) {
  const std::uint64_t base =
      arch.max_position_embeddings ? std::min(*arch.max_position_embeddings, kTgiMaxDefault) : kTgiMaxDefault;
  const std::string base_rule =
      arch.max_position_embeddings
          ? fmt::format("min({} {}, {})", arch.max_position_source, *arch.max_position_embeddings, kTgiMaxDefault)
          : fmt::format("{}, the config has no max_position_embeddings", kTgiMaxDefault);
  const bool any_default = !s.max_input_tokens || !s.max_total_tokens || !s.max_batch_prefill_tokens;
  if (any_default && !arch.max_position_embeddings)
    p.warnings.push_back(
        fmt::format("the config has no max_position_embeddings: TGI's token defaults fall back to "
                    "{} (max_total_tokens {}, max_input_tokens {})",
                    kTgiMaxDefault, kTgiMaxDefault, kTgiMaxDefault - 1));

  if (s.max_total_tokens) {
    p.max_total_tokens = *s.max_total_tokens;
  } else {
    p.max_total_tokens = base;
    p.defaults_used.push_back(fmt::format("max_total_tokens {} (TGI v2 default: {})", base, base_rule));
  }
  if (s.max_input_tokens) {
    p.max_input_tokens = *s.max_input_tokens;
  } else {
    p.max_input_tokens = base - 1;
    p.defaults_used.push_back(fmt::format("max_input_tokens {} (TGI v2 default: {} - 1)", base - 1, base_rule));
  }
  if (s.max_batch_prefill_tokens) {
    p.max_batch_prefill_tokens = *s.max_batch_prefill_tokens;
  } else {
    p.max_batch_prefill_tokens = checked_add(p.max_input_tokens, kTgiPrefillMargin, "--max-input-tokens + 50");
    p.defaults_used.push_back(fmt::format("max_batch_prefill_tokens {} (TGI v2 default: max_input_tokens + {})",
                                          p.max_batch_prefill_tokens, kTgiPrefillMargin));
  }
}

// TGI's own argument checks (launcher and router), on the resolved values. A defaulted value that breaks them
// is named as such, since TGI would refuse to start the same way.
void validate_tokens(const TgiSettings& s, const TgiPlan& p) {
  if (p.max_input_tokens >= p.max_total_tokens) {
    const std::string input_origin = s.max_input_tokens ? "" : " (TGI's default; pass --max-input-tokens)";
    const std::string total_origin = s.max_total_tokens ? "" : " (TGI's default)";
    fail_input(fmt::format("--max-input-tokens: {}{} must be less than --max-total-tokens {}{}", p.max_input_tokens,
                           input_origin, p.max_total_tokens, total_origin));
  }
  if (p.max_batch_prefill_tokens < p.max_input_tokens) {
    const std::string input_origin = s.max_input_tokens ? "" : " (TGI's default)";
    fail_input(fmt::format("--max-batch-prefill-tokens: {} must be at least --max-input-tokens {}{} (TGI requires it)",
                           p.max_batch_prefill_tokens, p.max_input_tokens, input_origin));
  }
}

// Bytes of one activation element. TGI computes activations in 16 bits (its --dtype is float16 or bfloat16)
// even for 8-bit weights, so a 1-byte dtype is read as 2 bytes.
std::uint64_t activation_element_bytes(DType dtype, std::vector<std::string>& warnings) {
  const auto bytes = static_cast<std::uint64_t>(dtype_bytes(dtype));
  if (bytes >= 2) return bytes;
  warnings.push_back(
      fmt::format("activations are not kept in {}: TGI computes them in 16 bits, so 2 bytes per "
                  "element are used",
                  dtype_name(dtype)));
  return 2;
}

// The MLP width the notebook's MLP term uses. It reads config.intermediate_size, which for MoE models is either
// one expert's width (Mixtral, gpt-oss) or a dense width no MoE layer uses (Qwen3-MoE). The activations of an MoE
// layer hold every activated expert's intermediate (top-k routed + shared experts) per token, so that width is
// used; where dense layers remain (DeepSeek's first layers) the larger of the two is the per-layer peak.
std::uint64_t mlp_intermediate(const ModelArch& arch, std::vector<std::string>& warnings) {
  if (arch.num_experts == 0) return arch.intermediate_size;
  const std::uint64_t expert_width =
      arch.moe_intermediate_size > 0 ? arch.moe_intermediate_size : arch.intermediate_size;
  const std::uint64_t active = std::max<std::uint64_t>(1, arch.experts_per_token) + arch.shared_experts;
  const std::uint64_t moe_width = checked_mul(expert_width, active, "MoE activated intermediate size");
  const bool dense_layers = arch.moe_layers < arch.num_hidden_layers && arch.intermediate_size > 0;
  const std::uint64_t width = dense_layers ? std::max(moe_width, arch.intermediate_size) : moe_width;
  warnings.push_back(fmt::format(
      "MoE: the MLP activations use the activated experts' width, {} x ({} per token{}) = {}{}, in place of the "
      "notebook's intermediate_size {}: MLP prefill and decode are approximate",
      expert_width, std::max<std::uint64_t>(1, arch.experts_per_token),
      arch.shared_experts > 0 ? fmt::format(" + {} shared", arch.shared_experts) : std::string(), moe_width,
      dense_layers ? fmt::format(", or the dense layers' {} when larger: {} used", arch.intermediate_size, width)
                   : std::string(),
      arch.intermediate_size));
  return width;
}

// One layer's forward-pass intermediates per (batch x token), the notebook's get_forward_pass_overhead. Every term of
// the notebook is batch x seq x (something), so forward(seq) = batch x seq x total().
struct ForwardPerToken {
  std::uint64_t mlp = 0;          // calculate_mlp_overhead
  std::uint64_t attention = 0;    // calculate_flash_attention_overhead
  std::uint64_t layer_norms = 0;  // 2 x calculate_layernorm_overhead
  [[nodiscard]] std::uint64_t total() const {
    return checked_add(checked_add(mlp, attention, "activation bytes per token"), layer_norms,
                       "activation bytes per token");
  }
};

ForwardPerToken forward_per_token(const ModelArch& arch, std::uint64_t intermediate, std::uint64_t B) {
  const auto mul = [](std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, "activation bytes per token"); };
  const auto add = [](std::uint64_t a, std::uint64_t b) { return checked_add(a, b, "activation bytes per token"); };
  const std::uint64_t h = arch.hidden_size;
  const std::uint64_t hd = arch.head_dim;
  const std::uint64_t heads = arch.num_attention_heads;
  const std::uint64_t kv_heads = arch.num_key_value_heads;
  constexpr std::uint64_t kMaskBytes = 1;  // int8 dropout masks

  ForwardPerToken f;
  // MLP: input, activation input, down_proj input (both intermediate wide), dropout mask.
  f.mlp = add(add(mul(h, B), mul(mul(2, intermediate), B)), mul(h, kMaskBytes));
  // Flash attention: input, q, k and v, softmax output (linear in seq with flash attention), out_proj input,
  // and the notebook's conservative softmax dropout mask, dropout output and attention dropout mask.
  std::uint64_t a = mul(h, B);
  a = add(a, mul(mul(hd, heads), B));
  a = add(a, mul(mul(mul(2, hd), kv_heads), B));
  a = add(a, mul(heads, B));
  a = add(a, mul(mul(heads, hd), B));
  a = add(a, mul(heads, kMaskBytes));
  a = add(a, mul(heads, B));
  a = add(a, mul(h, kMaskBytes));
  f.attention = a;
  f.layer_norms = mul(mul(2, h), B);
  return f;
}

// The notebook's head_dim is config.head_dim when present, else hidden_size // num_key_value_heads: a bug (it is
// hidden_size / num_attention_heads), which for Llama-3.1-8B gives 4096 / 8 = 512 instead of 128 and inflates
// q, out_proj, k, v and the KV cache 4x. arch.head_dim is the correct one; this note says what changed.
std::string head_dim_note(const ModelArch& arch) {
  std::string note = fmt::format(
      "head_dim {} ({}) is used; TGI's estimation notebook falls back to hidden_size / num_key_value_heads when the "
      "config "
      "has no head_dim, a bug fixed here (head_dim = hidden_size / num_attention_heads or the config's head_dim)",
      arch.head_dim, arch.head_dim_source);
  const bool notebook_falls_back = arch.head_dim_source != "head_dim" && arch.num_key_value_heads > 0;
  if (notebook_falls_back) {
    const std::uint64_t buggy = arch.hidden_size / arch.num_key_value_heads;
    if (buggy != arch.head_dim)
      return note +
             fmt::format(": the notebook would use {} / {} = {}", arch.hidden_size, arch.num_key_value_heads, buggy);
  }
  return note + ": it would not change this model";
}

std::string gb5(std::uint64_t bytes) { return fmt::format("{:.5f} GB", tgi_gb(bytes)); }

std::uint64_t floor_to_count(long double v) {
  if (!(v > 0)) return 0;
  if (v >= static_cast<long double>(std::numeric_limits<std::uint64_t>::max()))
    return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(std::floor(v));
}

std::int64_t to_signed_bytes(long double v) {
  constexpr auto lo = static_cast<long double>(std::numeric_limits<std::int64_t>::min());
  constexpr auto hi = static_cast<long double>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::clamp(std::round(v), lo, hi));
}

// The first version of validate_vram_overhead: free memory after everything but the KV cache, x fraction x 0.95,
// and the tokens of KV cache it holds.
void first_version(TgiPlan& p, std::uint64_t total_gpu_bytes) {
  const long double free_bytes =
      tgi_share(static_cast<long double>(total_gpu_bytes) - static_cast<long double>(p.cuda_overhead_bytes) -
                    static_cast<long double>(p.model_bytes) - static_cast<long double>(p.prefill_bytes) -
                    static_cast<long double>(p.decode_bytes),
                p.cuda_memory_fraction);
  p.free_for_kv_bytes = to_signed_bytes(free_bytes);
  if (free_bytes <= 0) {
    p.kv_token_budget = 0;
  } else if (p.kv_bytes_per_token == 0) {
    // No layer holds KV per token (a pure state-space model): any number of tokens fits.
    p.kv_token_budget = std::numeric_limits<std::uint64_t>::max();
    p.notes.push_back("no layer holds a per-token KV cache: the KV token budget is unlimited");
  } else {
    p.kv_token_budget = floor_to_count(free_bytes / static_cast<long double>(p.kv_bytes_per_token));
  }
}

}  // namespace

double tgi_gb(std::uint64_t bytes) {
  return static_cast<double>(std::round(static_cast<long double>(bytes) / 1e9L * 1e5L) / 1e5L);
}

TgiPlan plan_tgi(const ModelArch& arch, std::uint64_t weight_bytes, const KvCacheSpec& kv, DType activation_dtype,
                 const TgiSettings& settings) {
  validate_settings(settings);
  TgiPlan p;
  resolve_tokens(arch, settings, p);
  validate_tokens(settings, p);
  p.num_shard = settings.num_shard;
  p.cuda_memory_fraction = settings.cuda_memory_fraction;
  p.gpu_memory_bytes = settings.gpu_memory_bytes;
  p.notes.push_back(head_dim_note(arch));
  if (arch.max_position_embeddings && p.max_total_tokens > *arch.max_position_embeddings)
    p.warnings.push_back(
        fmt::format("--max-total-tokens {} exceeds the model's {} {}: TGI needs RoPE scaling "
                    "(--rope-scaling) to serve it",
                    p.max_total_tokens, arch.max_position_source, *arch.max_position_embeddings));
  if (arch.mla)
    p.warnings.push_back(
        "MLA attention: the notebook's attention terms assume q, k and v of head_dim per head, which "
        "MLA's projections do not have; prefill and decode are approximate (the KV cache uses the "
        "MLA latent)");

  // Batch: how many max_input_tokens prompts one prefill holds (the notebook: ceil(prefill / input)).
  p.batch_size =
      p.max_batch_prefill_tokens / p.max_input_tokens + (p.max_batch_prefill_tokens % p.max_input_tokens != 0 ? 1 : 0);

  // Prefill at seq = max_input_tokens, decode at seq = 1, both with the same batch (the notebook).
  const std::uint64_t B = activation_element_bytes(activation_dtype, p.warnings);
  const std::uint64_t intermediate = mlp_intermediate(arch, p.warnings);
  const ForwardPerToken f = forward_per_token(arch, intermediate, B);
  const std::uint64_t per_token = f.total();
  const std::uint64_t prefill_tokens = checked_mul(p.batch_size, p.max_input_tokens, "batch x --max-input-tokens");
  p.prefill_bytes = checked_mul(prefill_tokens, per_token, "prefill activations for --max-input-tokens");
  p.decode_bytes = checked_mul(p.batch_size, per_token, "decode activations");
  const std::string per_token_parts = fmt::format(
      "{} B/token (MLP {} + flash attention {} + 2 layer norms {}; hidden {}, intermediate {}, head_dim "
      "{}, {} heads, {} KV heads, {} B activations)",
      format_count(per_token), format_count(f.mlp), format_count(f.attention), format_count(f.layer_norms),
      arch.hidden_size, intermediate, arch.head_dim, arch.num_attention_heads, arch.num_key_value_heads, B);
  p.prefill_formula = fmt::format("{} batch x {} tokens x {} = {}", p.batch_size, p.max_input_tokens, per_token_parts,
                                  gb5(p.prefill_bytes));
  p.decode_formula =
      fmt::format("{} batch x 1 token x {} B/token = {}", p.batch_size, format_count(per_token), gb5(p.decode_bytes));

  // KV cache for every sequence of the batch at max_total_tokens - 1 (the notebook). The bytes per token are
  // vram-calc's own (only KV-holding layers, MLA latent, the KV dtype); for a plain decoder they equal the
  // notebook's 2 x layers x kv_heads x head_dim x bytes.
  p.kv_bytes_per_token = kv.bytes_per_token;
  p.kv_tokens_needed = checked_mul(p.batch_size, p.max_total_tokens - 1, "batch x --max-total-tokens");
  p.kv_cache_bytes = checked_mul(p.kv_tokens_needed, p.kv_bytes_per_token, "the KV cache for --max-total-tokens");
  p.kv_formula = fmt::format("{} batch x ({} - 1) tokens x {} B/token ({}) = {}", p.batch_size, p.max_total_tokens,
                             format_count(p.kv_bytes_per_token), kv.formula, gb5(p.kv_cache_bytes));
  if (kv.mla || kv.layers != arch.num_hidden_layers)
    p.notes.push_back(
        fmt::format("KV per token: {}; the notebook's 2 x all {} layers x kv_heads x head_dim formula "
                    "does not describe this model",
                    kv.formula, arch.num_hidden_layers));

  // CUDA context per GPU (the notebook: 1 GB x 1.2 buffer) and the weights.
  p.cuda_overhead_bytes = checked_mul(round_bytes(settings.cuda_overhead_gb * 1e9, "--cuda-overhead-gb"), p.num_shard,
                                      "--cuda-overhead-gb x --num-shard");
  p.model_bytes = weight_bytes;

  std::uint64_t needed = checked_add(p.model_bytes, p.cuda_overhead_bytes, "total VRAM needed");
  needed = checked_add(needed, p.prefill_bytes, "total VRAM needed");
  needed = checked_add(needed, p.decode_bytes, "total VRAM needed");
  p.total_needed_bytes = checked_add(needed, p.kv_cache_bytes, "total VRAM needed");

  const std::uint64_t total_gpu_bytes = checked_mul(p.num_shard, p.gpu_memory_bytes, "--num-shard x --gpu-memory");
  p.available_bytes = static_cast<std::uint64_t>(
      std::round(tgi_share(static_cast<long double>(total_gpu_bytes), p.cuda_memory_fraction)));
  p.is_enough_vram = p.total_needed_bytes <= p.available_bytes;
  p.fits = p.is_enough_vram;
  if (!p.fits)
    p.not_fit_reasons.push_back(fmt::format(
        "needs {:.2f} GB, {:.2f} GB available (GB = 10^9 bytes): weights {:.2f} + CUDA {:.2f} + prefill {:.2f} + "
        "decode {:.2f} + KV cache {:.2f}, against {} GPU(s) x {:.2f} GB x {} x 0.95",
        to_gb(p.total_needed_bytes), to_gb(p.available_bytes), to_gb(p.model_bytes), to_gb(p.cuda_overhead_bytes),
        to_gb(p.prefill_bytes), to_gb(p.decode_bytes), to_gb(p.kv_cache_bytes), p.num_shard, to_gb(p.gpu_memory_bytes),
        p.cuda_memory_fraction));

  first_version(p, total_gpu_bytes);
  return p;
}

std::vector<std::string> tgi_launcher_words(const std::vector<std::string>& method_flags, const ServeOptions& o) {
  auto words = serve_command_head({"text-generation-launcher", "--model-id"}, o, method_flags);
  if (o.quantization) {
    std::string q = ascii_lower(*o.quantization);
    if (q == "q8" || q == "int8") q = "bitsandbytes";
    if (q == "q4") q = "gptq";
    add_flag(words, "--quantize", q);
  }
  if (o.kv_cache_dtype == "fp8" || o.kv_cache_dtype == "fp8_e4m3") add_flag(words, "--kv-cache-dtype", "fp8_e4m3fn");
  if (o.kv_cache_dtype == "fp8_e5m2") add_flag(words, "--kv-cache-dtype", "fp8_e5m2");
  return words;
}

PlanSummary tgi_summary(const TgiPlan& t, const TgiSettings& s, int gpus_per_node, bool pinned) {
  PlanSummary sum;
  sum.method = Method::Tgi;
  sum.fits = t.fits;
  sum.not_fit_reasons = t.not_fit_reasons;
  sum.pinned = pinned;
  sum.gpus = t.num_shard;
  sum.gpus_needed = t.num_shard;
  sum.nodes = nodes_for(t.num_shard, gpus_per_node);
  sum.tensor_parallel_size = t.num_shard;
  sum.max_model_len_requested = t.max_total_tokens;
  sum.max_model_len = t.max_total_tokens;

  sum.gpu_memory_bytes = t.gpu_memory_bytes;
  sum.memory_gpus = t.num_shard;
  sum.memory = {
      {"model", t.model_bytes, "weights"},
      {"CUDA overhead", t.cuda_overhead_bytes, fmt::format("{} GB x {} GPU(s)", s.cuda_overhead_gb, t.num_shard)},
      {"prefill", t.prefill_bytes, t.prefill_formula},
      {"decode", t.decode_bytes, t.decode_formula},
      {"KV cache", t.kv_cache_bytes, t.kv_formula}};
  sum.memory_total_bytes = t.total_needed_bytes;
  sum.capacity_bytes = t.num_shard * t.gpu_memory_bytes;
  sum.budget_bytes = t.available_bytes;
  sum.engine_warnings = t.warnings;

  const auto flag = [&sum](const char* name, std::string value) {
    sum.command.emplace_back(name);
    sum.command.push_back(std::move(value));
  };
  flag("--num-shard", std::to_string(t.num_shard));
  flag("--max-input-tokens", std::to_string(t.max_input_tokens));
  flag("--max-total-tokens", std::to_string(t.max_total_tokens));
  flag("--max-batch-prefill-tokens", std::to_string(t.max_batch_prefill_tokens));
  if (t.cuda_memory_fraction != 1.0) flag("--cuda-memory-fraction", fmt::format("{}", t.cuda_memory_fraction));

  sum.figures = {{"tgi_max_input_tokens", std::to_string(t.max_input_tokens)},
                 {"tgi_max_total_tokens", std::to_string(t.max_total_tokens)},
                 {"tgi_max_batch_prefill_tokens", std::to_string(t.max_batch_prefill_tokens)},
                 {"tgi_cuda_overhead_bytes", std::to_string(t.cuda_overhead_bytes)},
                 {"tgi_model_bytes", std::to_string(t.model_bytes)},
                 {"tgi_prefill_bytes", std::to_string(t.prefill_bytes)},
                 {"tgi_decode_bytes", std::to_string(t.decode_bytes)},
                 {"tgi_kv_cache_bytes", std::to_string(t.kv_cache_bytes)},
                 {"tgi_total_needed_bytes", std::to_string(t.total_needed_bytes)},
                 {"tgi_available_bytes", std::to_string(t.available_bytes)},
                 {"tgi_is_enough_vram", t.is_enough_vram ? "true" : "false"},
                 {"tgi_kv_token_budget", std::to_string(t.kv_token_budget)}};
  return sum;
}

}  // namespace vramcalc
