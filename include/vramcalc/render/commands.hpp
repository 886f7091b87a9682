// What a plan stands for outside vram-calc: the `vllm serve` and `text-generation-launcher` command lines, as words
// and as shell text, and the Kubernetes manifest that runs them. The words are the plan's own
// (PlanSummary::command); these write them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vramcalc/report/report.hpp"

namespace vramcalc {

// The plan's launch command words as the server is to receive them: a model given as a config.json path becomes
// the directory that holds it (the servers load a model directory or a Hub id, never a config file).
std::vector<std::string> served_words(const SkuPlan& plan);
// The plan's launch command as one shell line, whichever server it is for.
std::string launch_command(const SkuPlan& plan);
// The `vllm serve` arguments equivalent to a plan (the model first, then flags), and the shell command line.
std::vector<std::string> vllm_serve_args(const Report& report, const SkuPlan& plan);
std::string vllm_serve_command(const Report& report, const SkuPlan& plan);
// Words joined with spaces, single-quoted where the shell needs it.
std::string shell_join(const std::vector<std::string>& words);

// The GPUs a launch command uses, read from its words as the server reads them (the last of a repeated flag wins):
// TP x PP x DP for `vllm serve` (--tensor-parallel-size, --pipeline-parallel-size, --data-parallel-size or -tp,
// -pp, -dp), --num-shard for `text-generation-launcher`; 1 where a flag is absent.
std::uint64_t gpus_in_command(const std::vector<std::string>& words);

// The values NVIDIA GPU feature discovery writes in the node label nvidia.com/gpu.product for a GPU: its device
// names (aliases starting "NVIDIA " or "Tesla ", as nvidia-smi prints them) with spaces as dashes, in the catalog's
// order, the usual form first ("NVIDIA A100-SXM4-40GB" -> "NVIDIA-A100-SXM4-40GB"). Empty for other vendors.
std::vector<std::string> gfd_products(const Gpu& gpu);

// A Kubernetes manifest that runs the plan: a Deployment when it holds on one node, a LeaderWorkerSet of one pod
// per node when it spans several. Each pod's GPU limit is the GPUs its command uses on that node.
std::string k8s_manifest(const Report& report, const SkuPlan& plan);

// Why --emit refuses the report's chosen plan (the first), in one line: the plan's reasons it does not fit and the
// way past them ("...; pass --force to emit it anyway").
std::string emit_refusal(const Report& report);

}  // namespace vramcalc
