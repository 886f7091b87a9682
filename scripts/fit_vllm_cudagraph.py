#!/usr/bin/env python3
"""Fits vram-calc's model of vLLM's CUDA-graph memory estimate (src/engines/vllm/cudagraph.cpp) on real startup logs.

Run from the repository root (standard library only, no build needed):

    scripts/fit_vllm_cudagraph.py [--date YYYY-MM-DD] [--out data/vllm_cudagraph_fit.json]

What vLLM computes (v0.20+, GPUModelRunner.profile_cudagraph_memory): for each cudagraph mode it captures the two
largest batch sizes of that mode into a temporary pool, takes the first capture and the second one as the cost of
every further graph (at least 1 MiB), and logs

    estimate = max(first capture of each mode) + sum over modes of per_graph x (N_mode - 1)

The per-mode figures are debug-level only; the logs give the total ("Estimated CUDA graph memory: X GiB total") and
the counts ("Profiling CUDA graph memory: PIECEWISE=N (largest=..), FULL=M (largest=..)"). So the model keeps vLLM's
structure and fits the two costs on the totals:

    first capture  = first_capture_gib                       (the same for both modes: the logs cannot separate them)
    per graph      = per_graph_bytes x layers x hidden_size   (graph nodes and the buffers they keep, per layer)
    estimate       = first capture + per graph x ((N_piecewise - 1) + (N_full - 1))

Breakable CUDA graphs (vLLM's DEFAULT_BREAKABLE_CUDAGRAPH_ARCHITECTURES: DeepSeek-V4, MiniMax-M3, GLM-DSA, ...) are
captured uncompiled (compile mode NONE), each size as a chain of graph segments broken around the attention, KV-cache
and sparse-attention indexer ops (vllm/compilation/breakable_cudagraph.py). Their logs are not in the fit above; once
it is done, one more coefficient is fitted on them alone, a factor on the per-graph cost (least squares through the
origin of logged - first capture on the fitted per-graph term):

    estimate (breakable) = first capture + breakable_per_graph_factor x per graph x ((N_piecewise - 1) + (N_full - 1))

The layers include the MTP drafter's where the run speculates (its layer is captured in the same dummy runs).

Unified memory (DGX Spark GB10; vllm_unified_memory_gpu in the C++): vLLM measures each capture as the drop in the
free memory cudaMemGetInfo reports, and on a device that shares the host's memory that is the system's free memory,
so host memory allocated during the two captures counts too. Two boots of one model with the same capture list on
one DGX Spark logged 1.56 and 1.94 GiB (vllm-new-013, -014), where a discrete L40S logged 1.11 (vllm-new-008). So the
fit above takes discrete GPUs only, and one more factor on the per-graph cost is fitted on the unified-memory records
alone, as the breakable factor (and before it: a breakable run on unified memory takes both):

    estimate (unified memory) = first capture + unified_per_graph_factor x per graph x ((N_piecewise - 1) + ...)

(Other forms were tried: a first capture growing with the largest batch, a per-graph cost growing with the second
batch size, a separate cost for linear-attention layers. None predicted the held-out records better; two more
coefficients do not earn their keep on ten records.)

Inputs (all inside the repository):
    tests/data/vllm_calibration_v021plus.jsonl   real vLLM v0.20+ startup logs
    tests/data/configs/<dir>/config.json         layers and hidden size of each logged model

Which records are fitted: NVIDIA GPUs, the model's config in tests/data/configs, the graph counts logged (or implied
by vLLM's defaults, stated per record below), vLLM's standard piecewise/full capture (not the breakable CUDA graphs
vLLM switches on for DeepSeek-V4, MiniMax-M3 and GLM-DSA models, which fit the breakable factor above), a release
that estimates by default. Every other record that logs an estimate is listed with the reason it is left out, and
predicted where it can be.

Output: data/vllm_cudagraph_fit.json with the coefficients (rounded as the C++ embeds them), each record's inputs,
logged and predicted estimate, residual and leave-one-out prediction.
"""

import argparse
import datetime
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIB = float(1 << 30)
TOLERANCE_REL, TOLERANCE_ABS = 0.25, 0.25  # the calibration target: max(25 %, 0.25 GiB)

# The logged model, as a directory of tests/data/configs (the calibration test uses the same table).
CONFIG_DIR = {
    "vllm-new-001": "Qwen--Qwen3.6-35B-A3B",
    "vllm-new-002": "Qwen--Qwen3.6-35B-A3B",
    "vllm-new-003": "Qwen--Qwen3.6-27B",
    "vllm-new-004": "google--gemma-4-E4B-it",
    "vllm-new-006": "deepseek-ai--DeepSeek-V4-Flash",
    "vllm-new-008": "Qwen--Qwen3.8-27B",
    "vllm-new-012": "MiniMaxAI--MiniMax-M3",
    "vllm-new-013": "Qwen--Qwen3.8-27B",
    "vllm-new-014": "Qwen--Qwen3.8-27B",
    "vllm-new-017": "Qwen--Qwen3.6-35B-A3B",
    "vllm-new-019": "LiquidAI--LFM2.5-1.2B-Instruct",
    "vllm-new-020": "google--gemma-4-26B-A4B-it",
    "vllm-new-027": "Qwen--Qwen3.6-27B",
    "vllm-new-032": "deepseek-ai--DeepSeek-V4-Flash",
}
# Records run on AMD GPUs (ROCm/HIP graphs): not NVIDIA, never fitted.
ROCM = {"vllm-new-007", "vllm-new-015", "vllm-new-016", "vllm-new-029"}
# Graph counts vLLM's defaults imply where the log does not print them (PIECEWISE n, largest; FULL n, largest).
IMPLIED_COUNTS = {
    "vllm-new-008": ((51, 512), (35, 256), "L40S (44.4 GiB, under 70 GiB): vLLM's defaults max_num_seqs 256, "
                     "max_num_batched_tokens 2048, so sizes up to min(2 x 256, 512) = 512, FULL up to 256"),
    "vllm-new-014": ((51, 512), (35, 256), "the same GB10 host and defaults as vllm-new-013, which logs "
                     "PIECEWISE 51 (largest 512), FULL 35 (largest 256)"),
}
# Records that log an estimate but are not fitted, and why.
NOT_FITTED = {
    "vllm-new-005": "custom GLM-5.3-Flash build (no config in the repository; FULL_DECODE_ONLY forced by its GDN "
                    "backend)",
    "vllm-new-006": "DeepSeek-V4 runs breakable CUDA graphs (compile mode NONE), not vLLM's piecewise capture: "
                    "fits the breakable factor instead",
    "vllm-new-007": "AMD MI50 (ROCm/HIP graphs)",
    "vllm-new-011": "Qwen2.5-32B-Instruct-AWQ: no config in the repository; graph counts not logged",
    "vllm-new-012": "MiniMax-M3 runs breakable CUDA graphs (compile mode NONE), not vLLM's piecewise capture: "
                    "fits the breakable factor instead",
    "vllm-new-015": "AMD GPU (ROCm/HIP graphs)",
    "vllm-new-020": "a build from before the estimate was on by default (it logs 'In v0.19, CUDA graph memory "
                    "profiling will be enabled by default'); graph counts not logged",
    "vllm-new-022": "vllm-backport fork; graph counts not logged",
    "vllm-new-023": "a pathological 118.65 GiB estimate (vllm#53013, TP 2 x DP 4 EP on GB300); counts not logged",
    "vllm-new-017": "an outlier: 1.22 GiB estimated for 12 graphs where the same run then captured a 0.22 GiB pool "
                    "(logged), 5.5x, when the extrapolation's overshoot needs dozens of graphs (vllm-new-019: 2.4x "
                    "with 136); WSL2 (RTX 5090), whose free-memory figure goes through the Windows driver",
    "vllm-new-032": "DeepSeek-V4-class checkpoint (exact model unknown) with breakable CUDA graphs: fits the "
                    "breakable factor instead (sized as DeepSeek-V4-Flash)",
}
# Records run on a unified-memory device (DGX Spark GB10), and how that is known: the per-graph factor for unified
# memory is fitted on these (those also in BREAKABLE take it before the breakable fit).
UNIFIED = {
    "vllm-new-002": "inferred in its notes: a 115-125 GiB total from the 'equivalent to' line, too few SMs for "
                    "max_autotune_gemm",
    "vllm-new-003": "DGX Spark (Blackwell GB10, 128GB UMA), per its author",
    "vllm-new-013": "an aarch64 host with FlashInfer's SM121 cache: DGX Spark GB10 (its notes)",
    "vllm-new-014": "the same host as vllm-new-013 (119.63 GiB total)",
    "vllm-new-032": "SM121 (FlashInfer's cache directory), a DGX Spark-class unified-memory device (its notes)",
}
# Records whose model runs breakable CUDA graphs (the "Auto-enabling VLLM_USE_BREAKABLE_CUDAGRAPH" architectures) and
# whose graph counts are logged: the breakable factor is fitted on these.
BREAKABLE = {"vllm-new-006", "vllm-new-012", "vllm-new-032"}
# MTP drafter layers captured with the model's where the run speculates (DeepSeek-V4's num_nextn_predict_layers: 1).
DRAFT_LAYERS = {
    "vllm-new-006": 1,  # --speculative-config method mtp, 2 tokens (its capture list: multiples of 3)
    "vllm-new-032": 1,  # "+ MTP" in its log; FULL=3 (largest=9): multiples of 3
}
DECIMALS_FIRST, DECIMALS_PER_GRAPH, DECIMALS_FACTOR = 4, 2, 1
DECIMALS_UNIFIED = 2

PROFILE_LINE = re.compile(r"Profiling CUDA graph memory: PIECEWISE=(\d+) \(largest=(\d+)\)"
                          r"(?:, FULL=(\d+) \(largest=(\d+)\))?")
SIZES_FIELD = re.compile(r"PIECEWISE (\d+) \(largest (\d+)\), FULL (\d+) \(largest (\d+)\)")


def solve(a, b):
    """Solves a x = b by Gaussian elimination with partial pivoting (a square)."""
    n = len(a)
    m = [list(map(float, a[i])) + [float(b[i])] for i in range(n)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        for r in range(n):
            if r != col and m[col][col] != 0:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


def least_squares(rows, ys):
    n = len(rows[0])
    ata = [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]
    aty = [sum(r[i] * y for r, y in zip(rows, ys)) for i in range(n)]
    return solve(ata, aty)


def text_config(config_dir):
    config = json.loads((ROOT / "tests/data/configs" / config_dir / "config.json").read_text())
    return config.get("text_config", config)


def counts(record):
    """(piecewise n, largest), (full n, largest), source."""
    m = PROFILE_LINE.search(record.get("evidence") or "")
    if m:
        full = (int(m.group(3)), int(m.group(4))) if m.group(3) else (0, 0)
        return (int(m.group(1)), int(m.group(2))), full, "logged"
    sizes = record.get("cudagraph_capture_sizes")
    if isinstance(sizes, str):
        m = SIZES_FIELD.search(sizes) or re.search(r"PIECEWISE (\d+) largest (\d+), FULL (\d+) largest (\d+)", sizes)
        if m:
            return (int(m.group(1)), int(m.group(2))), (int(m.group(3)), int(m.group(4))), "logged"
    if isinstance(sizes, list) and sizes and record.get("max_num_seqs"):
        # vLLM captures every size as PIECEWISE and the decode sizes up to max_num_seqs as FULL.
        full = [x for x in sizes if x <= record["max_num_seqs"]]
        return ((len(sizes), max(sizes)), (len(full), max(full) if full else 0),
                "the logged capture sizes, FULL up to max_num_seqs")
    if record["id"] in IMPLIED_COUNTS:
        p, f, why = IMPLIED_COUNTS[record["id"]]
        return p, f, "implied: " + why
    return None


def features(layers, hidden, piecewise, full):
    graphs_after_first = max(piecewise[0] - 1, 0) + max(full[0] - 1, 0)
    return [1.0, layers * hidden * graphs_after_first / GIB]


def predict(coef, feats):
    return sum(c * f for c, f in zip(coef, feats))


def per_graph_factor(coef, feats, ys, scales=None):
    """Least squares through the origin of (logged - first capture) on the fitted per-graph term (times `scales`)."""
    scales = scales or [1.0] * len(feats)
    xs = [coef[1] * f[1] * k for f, k in zip(feats, scales)]
    return sum(x * (y - coef[0]) for x, y in zip(xs, ys)) / sum(x * x for x in xs)


def within(pred, logged):
    return abs(pred - logged) <= max(TOLERANCE_REL * logged, TOLERANCE_ABS)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    ap.add_argument("--out", default=str(ROOT / "data/vllm_cudagraph_fit.json"))
    args = ap.parse_args()

    records = [json.loads(line) for line in
               (ROOT / "tests/data/vllm_calibration_v021plus.jsonl").read_text().splitlines() if line.strip()]
    rows = []
    for r in records:
        if r.get("cuda_graph_estimated_gib") is None:
            continue
        row = {"id": r["id"], "model": r["model"], "gpu": r["gpu"], "vllm_version": r["vllm_version"],
               "logged_estimate_gib": r["cuda_graph_estimated_gib"],
               "logged_actual_gib": r.get("cuda_graph_actual_gib")}
        c = counts(r)
        config_dir = CONFIG_DIR.get(r["id"])
        if config_dir and c:
            t = text_config(config_dir)
            row.update({"config_dir": config_dir, "layers": t["num_hidden_layers"] + DRAFT_LAYERS.get(r["id"], 0),
                        "hidden_size": t["hidden_size"],
                        "piecewise": {"graphs": c[0][0], "largest": c[0][1]},
                        "full": {"graphs": c[1][0], "largest": c[1][1]}, "counts_source": c[2]})
        row["unified_memory"] = r["id"] in UNIFIED
        if r["id"] in UNIFIED:
            row["unified_memory_because"] = UNIFIED[r["id"]]
        row["fitted"] = r["id"] not in NOT_FITTED and r["id"] not in ROCM and "layers" in row
        if r["id"] in DRAFT_LAYERS:
            row["draft_layers"] = DRAFT_LAYERS[r["id"]]
        row["breakable"] = r["id"] in BREAKABLE and "layers" in row
        row["not_fitted_because"] = NOT_FITTED.get(r["id"])
        rows.append(row)

    fit_rows = [row for row in rows if row["fitted"] and not row["unified_memory"]]
    feats = [features(row["layers"], row["hidden_size"], (row["piecewise"]["graphs"], 0),
                      (row["full"]["graphs"], 0)) for row in fit_rows]
    ys = [row["logged_estimate_gib"] for row in fit_rows]
    raw = least_squares(feats, ys)
    coef = [round(raw[0], DECIMALS_FIRST), round(raw[1], DECIMALS_PER_GRAPH)]
    for i, row in enumerate(fit_rows):
        held = least_squares(feats[:i] + feats[i + 1:], ys[:i] + ys[i + 1:])
        row["loo_estimate_gib"] = round(predict(held, feats[i]), 4)
    # The unified-memory factor, on the standard-capture records of such devices, each with its leave-one-out.
    def feats_of(subset):
        return [features(row["layers"], row["hidden_size"], (row["piecewise"]["graphs"], 0),
                         (row["full"]["graphs"], 0)) for row in subset]
    uni_rows = [row for row in rows if row["fitted"] and row["unified_memory"]]
    uni_feats, uni_ys = feats_of(uni_rows), [row["logged_estimate_gib"] for row in uni_rows]
    unified = round(per_graph_factor(coef, uni_feats, uni_ys), DECIMALS_UNIFIED)
    for i, row in enumerate(uni_rows):
        held = per_graph_factor(coef, uni_feats[:i] + uni_feats[i + 1:], uni_ys[:i] + uni_ys[i + 1:])
        row["loo_estimate_gib"] = round(coef[0] + held * coef[1] * uni_feats[i][1], 4)
    # The breakable-graph factor, on those records alone (the unified factor applied where it runs), with each one's
    # leave-one-out prediction.
    brk_rows = [row for row in rows if row["breakable"]]
    brk_feats, brk_ys = feats_of(brk_rows), [row["logged_estimate_gib"] for row in brk_rows]
    brk_scales = [unified if row["unified_memory"] else 1.0 for row in brk_rows]
    factor = round(per_graph_factor(coef, brk_feats, brk_ys, brk_scales), DECIMALS_FACTOR)
    for i, row in enumerate(brk_rows):
        held = per_graph_factor(coef, brk_feats[:i] + brk_feats[i + 1:], brk_ys[:i] + brk_ys[i + 1:],
                                brk_scales[:i] + brk_scales[i + 1:])
        row["loo_estimate_gib"] = round(coef[0] + held * brk_scales[i] * coef[1] * brk_feats[i][1], 4)
    for row in rows:
        if "layers" in row:
            f = features(row["layers"], row["hidden_size"], (row["piecewise"]["graphs"], 0),
                         (row["full"]["graphs"], 0))
            if row["breakable"]:
                f = [f[0], factor * f[1]]
            if row["unified_memory"]:
                f = [f[0], unified * f[1]]
            row["predicted_estimate_gib"] = round(predict(coef, f), 4)
            row["residual_gib"] = round(row["predicted_estimate_gib"] - row["logged_estimate_gib"], 4)
            row["within_tolerance"] = within(row["predicted_estimate_gib"], row["logged_estimate_gib"])

    out = {
        "generated_by": "scripts/fit_vllm_cudagraph.py",
        "date": args.date,
        "inputs": ["tests/data/vllm_calibration_v021plus.jsonl", "tests/data/configs/*/config.json"],
        "model": {
            "first_capture": "first_capture_gib (either mode)",
            "per_graph": "per_graph_bytes_per_layer_hidden x layers on the GPU's pipeline stage x hidden_size",
            "estimate": "first capture + per graph x ((N_piecewise - 1) + (N_full - 1)); 0 without graphs",
            "breakable": "per graph x breakable_per_graph_factor for breakable-CUDA-graph architectures, fitted on "
                         "those records alone after the rest",
            "unified_memory": "per graph x unified_memory_per_graph_factor on a unified-memory device (DGX Spark), "
                              "fitted on those records alone after the discrete GPUs' fit",
        },
        "coefficients": {"first_capture_gib": coef[0], "per_graph_bytes_per_layer_hidden": coef[1],
                         "breakable_per_graph_factor": factor, "unified_memory_per_graph_factor": unified},
        "tolerance": {"relative": TOLERANCE_REL, "absolute_gib": TOLERANCE_ABS},
        "fitted_records": sum(1 for row in rows if row["fitted"]),
        "unified_memory_records": len(uni_rows),
        "unified_memory_within_tolerance": sum(1 for row in uni_rows if row["within_tolerance"]),
        "fitted_within_tolerance": sum(1 for row in rows if row["fitted"] and row["within_tolerance"]),
        "breakable_records": len(brk_rows),
        "breakable_within_tolerance": sum(1 for row in brk_rows if row["within_tolerance"]),
        "records": rows,
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"first capture {coef[0]} GiB, per graph {coef[1]} B x layers x hidden "
          f"({out['fitted_within_tolerance']}/{out['fitted_records']} fitted records within tolerance); "
          f"unified memory x {unified} ({out['unified_memory_within_tolerance']}/{out['unified_memory_records']} "
          f"within); breakable graphs x {factor} ({out['breakable_within_tolerance']}/{out['breakable_records']} within)")
    for row in rows:
        pred = row.get("predicted_estimate_gib")
        print(f"  {row['id']}: logged {row['logged_estimate_gib']} GiB, predicted "
              f"{'-' if pred is None else pred}{'' if row['fitted'] else '  (not fitted: ' + (row['not_fitted_because'] or 'no config or counts') + ')'}"
              f"{'  [breakable factor fit, leave-one-out ' + str(row['loo_estimate_gib']) + ']' if row['breakable'] else ''}")


if __name__ == "__main__":
    main()
