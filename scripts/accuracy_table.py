#!/usr/bin/env python3
"""Prints the README's accuracy table: for each record of tests/data/vllm_calibration.jsonl, the KV cache memory
vLLM logged ("Available KV cache memory", per GPU) against what vram-calc predicts with --estimator vllm and with
the KAITO formula (V x u - 1.02 W / N - 2.3 GiB per GPU), plus the median and worst absolute errors.

Run from the repository root after building:  scripts/accuracy_table.py [--vram-calc build/vram-calc]
"""
import argparse
import json
import statistics
import subprocess

GPUS = {"NVIDIA H100 80GB": "H100-80G", "NVIDIA H100": "H100-80G", "NVIDIA A100 80GB": "A100-80G",
        "NVIDIA GeForce RTX 3090": "RTX-3090"}
GIB = 2 ** 30


def config_dir(model):
    if model == "meta-llama/Llama-3.1-8B-Instruct":
        return "meta-llama--Meta-Llama-3.1-8B"
    return model.replace("/", "--", 1)


def run(binary, args):
    out = subprocess.run([binary] + args + ["--format", "json"], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        raise SystemExit("vram-calc failed: %s %s" % (args, out.stderr.strip()))
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vram-calc", default="build/vram-calc")
    ap.add_argument("--data", default="tests/data/vllm_calibration.jsonl")
    a = ap.parse_args()
    rows, err_v, err_k = [], [], []
    for line in open(a.data):
        r = json.loads(line)
        if r["kv_cache_gib"] is None:
            continue
        base = ["--model", "tests/data/configs/" + config_dir(r["model"]), "--sku", GPUS[r["gpu"]]]
        tp = r["tensor_parallel_size"] or 1
        u = r["gpu_memory_utilization"] or 0.9
        length = r["max_model_len"] or 16000
        common = base + ["--tensor-parallel-size", str(tp), "--gpu-memory-utilization", str(u),
                         "--max-model-len", str(length)]
        vl = common + ["--estimator", "vllm"]
        if r["gpu_total_gib"]:
            vl += ["--gpu-memory", "%.2fGiB" % r["gpu_total_gib"]]
        if r["max_num_batched_tokens"]:
            vl += ["--max-num-batched-tokens", str(r["max_num_batched_tokens"])]
        if r["vllm_version"]:
            vl += ["--vllm-version", r["vllm_version"]]
            if tuple(int(x) for x in r["vllm_version"].split(".")[:3]) < (0, 11, 1):
                vl += ["--flashinfer-sampler"]
        v = run(a.vram_calc, vl)["vllm"]["available_kv_cache_bytes"] / GIB
        k = run(a.vram_calc, common)
        g = k["per_gpu"]
        kaito = (g["budget_bytes"] - g["weights_bytes"] - g["weight_overhead_bytes"] - g["activation_bytes"]
                 - g["non_torch_bytes"]) / GIB
        logged = r["kv_cache_gib"]
        rows.append((r["id"], r["model"].split("/")[1], r["gpu"].replace("NVIDIA ", ""), tp, u, logged, v, kaito))
        err_v.append(abs(v - logged))
        err_k.append(abs(kaito - logged))
    print("| record | model | GPU | TP | util | logged KV GiB | vllm estimator | KAITO formula |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| %s | %s | %s | %d | %.2f | %.2f | %.2f | %.2f |" % row)
    print()
    print("absolute error, GiB: vllm estimator median %.2f, worst %.2f; KAITO formula median %.2f, worst %.2f"
          % (statistics.median(err_v), max(err_v), statistics.median(err_k), max(err_k)))


if __name__ == "__main__":
    main()
