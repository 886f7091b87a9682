// The profile run's terms counted from vLLM's code (activation.hpp): the multimodal encoder's pass, the Gated DeltaNet
// prefill, and the two hybrid / unified-memory facts the plan reports.
#include "vramcalc/engines/vllm/activation.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "vramcalc/core/text.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc {

namespace {

double gib(double bytes) { return bytes / static_cast<double>(kGiB); }

// The chunk length of the flash-linear-attention kernels vLLM runs for Gated DeltaNet prefills
// (chunk_gated_delta_rule_fwd: chunk_local_cumsum(..., chunk_size=64) and the per-chunk states).
constexpr double kGdnChunk = 64.0;

}  // namespace

VllmEncoderPass vllm_encoder_pass(const MultimodalEncoder& m, std::uint64_t items, std::uint64_t patches_per_item,
                                  std::uint64_t outputs_per_item, std::uint64_t tensor_parallel_size, double b) {
  VllmEncoderPass p;
  const double tp = static_cast<double>(std::max<std::uint64_t>(1, tensor_parallel_size));
  const double h = static_cast<double>(m.hidden);
  const double mlp_rows = m.gated_mlp ? 3.0 : 2.0;
  p.row_bytes = (3.0 * h + mlp_rows * static_cast<double>(m.intermediate) / tp) * b;
  const double patches = static_cast<double>(items) * static_cast<double>(patches_per_item);
  const double outputs = static_cast<double>(items) * static_cast<double>(outputs_per_item);
  const double out_row = static_cast<double>(m.output_hidden) * b;
  const double levels = static_cast<double>(m.deepstack_levels);
  const double blocks = patches * p.row_bytes + outputs * out_row * levels;
  const double input = patches * static_cast<double>(m.input_values_per_token) * b;
  const double cache = outputs * out_row * (1.0 + levels);
  p.blocks_bytes = round_bytes(blocks, "encoder blocks");
  p.input_bytes = round_bytes(input, "encoder input");
  p.cache_bytes = round_bytes(cache, "encoder cache");
  const std::string per_tp = tensor_parallel_size > 1 ? "/TP" : "";
  p.formula = fmt::format(
      "{} x {} patches x (3 x {} hidden + {} x {} {}MLP{}) x {:g} B{} = {:.2f} GiB", items, patches_per_item, m.hidden,
      m.gated_mlp ? 3 : 2, m.intermediate, m.gated_mlp ? "gated " : "", per_tp, b,
      m.deepstack_levels > 0 ? fmt::format(" + {} deepstack outputs", m.deepstack_levels) : "", gib(blocks));
  if (m.input_values_per_token > 0)
    p.input_formula = fmt::format("pixel values {} x {} patches x {} x {:g} B = {:.2f} GiB", items, patches_per_item,
                                  m.input_values_per_token, b, gib(input));
  return p;
}

VllmGdnPrefill vllm_gdn_prefill(const ModelArch& a, std::uint64_t tokens, std::uint64_t tensor_parallel_size,
                                double b) {
  VllmGdnPrefill g;
  if (a.count_layers(LayerKind::LinearAttention) == 0 || a.linear_num_value_heads == 0) return g;
  const double tp = static_cast<double>(std::max<std::uint64_t>(1, tensor_parallel_size));
  const double hk = std::max(1.0, static_cast<double>(a.linear_num_key_heads) / tp);
  const double hv = std::max(1.0, static_cast<double>(a.linear_num_value_heads) / tp);
  const double dk = static_cast<double>(a.linear_key_head_dim);
  const double dv = static_cast<double>(a.linear_value_head_dim);
  const double projections = (2 * hk * dk + 2 * hv * dv) + (2 * hk * dk + hv * dv);
  const double kernels = 2 * hk * dk + hv * kGdnChunk + hv * dk + 3 * hv * dv + hv * dk * dv / kGdnChunk;
  const double residual = 2.0 * static_cast<double>(a.hidden_size);
  g.token_bytes = (projections + kernels + residual) * b + 3.0 * hv * 4.0;
  const double total = g.token_bytes * static_cast<double>(tokens);
  g.bytes = round_bytes(total, "Gated DeltaNet prefill");
  g.formula = fmt::format(
      "Gated DeltaNet prefill {} tokens x {:.0f} B ({:g} key / {:g} value heads of {:g} / {:g}{}: projections, "
      "chunked delta-rule intermediates, one state per 64 tokens) = {:.2f} GiB",
      tokens, g.token_bytes, hk, hv, dk, dv, tensor_parallel_size > 1 ? " per GPU" : "", gib(total));
  return g;
}

bool vllm_unified_memory_gpu(const Gpu& gpu) {
  if (gpu.compute_capability) {
    const int cc = static_cast<int>(std::lround(*gpu.compute_capability * 10.0));
    return cc == 87 || cc == 110 || cc == 121;  // Orin, Thor, DGX Spark (vLLM's shared_sysmem_device_mem_sms)
  }
  const std::string name = ascii_lower(gpu.name);
  return name.find("gb10") != std::string::npos || name.find("dgx spark") != std::string::npos;
}

std::string vllm_unified_memory_note(const Gpu& gpu, std::uint64_t taken_non_torch_bytes) {
  return fmt::format(
      "{} shares the host's memory: vLLM reads its free memory as the host's MemAvailable (psutil), so host memory "
      "allocated while it loads and profiles (the engine's heap, torch.compile, other processes) counts as "
      "non-PyTorch memory. {:.2f} GiB is taken, the median of three DGX Spark logs (2.23, 3.61 and 4.64 GiB; a "
      "discrete GPU shows 0.13 GiB); it varies with the host's state (boot to boot, other processes) by about "
      "+-1.2 GiB, and the KV cache with it: pass --kv-cache-memory to pin the KV budget",
      gpu.name.empty() ? "this GPU" : gpu.name, to_gib(taken_non_torch_bytes));
}

std::optional<std::string> vllm_mamba_blocks_refusal(const ModelArch& a, const VllmVersion& version, CudagraphMode mode,
                                                     bool enforce_eager, std::uint64_t max_num_seqs,
                                                     std::int64_t num_blocks) {
  const bool full_graphs =
      mode == CudagraphMode::Full || mode == CudagraphMode::FullDecodeOnly || mode == CudagraphMode::FullAndPiecewise;
  if (!version.at_least(0, kCudagraphProfilingMinor) || enforce_eager || !full_graphs || a.state_layers() == 0 ||
      num_blocks <= 0 || static_cast<std::int64_t>(max_num_seqs) <= num_blocks)
    return std::nullopt;
  return fmt::format(
      "vLLM fails with \"max_num_seqs ({}) exceeds available Mamba cache blocks ({}). Each decode sequence requires "
      "one Mamba cache block, so CUDA graph capture cannot proceed.\": pass --max-num-seqs {} or less, or give the "
      "cache more memory",
      max_num_seqs, num_blocks, num_blocks);
}

}  // namespace vramcalc
