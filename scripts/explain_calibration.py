#!/usr/bin/env python3
"""Runs `vram-calc explain-log` over every record of the two calibration files and prints, per memory component,
how far vram-calc's prediction is from what the log says (issue 17's closing table).

  scripts/explain_calibration.py [--binary build/vram-calc] [--markdown]

Each record's log lines are in its `evidence` (joined by " | "). Its settings are rarely among them, so a settings
line is written before them from the record's own fields, as vLLM prints it ("non-default args: {...}", and the
release banner): the log the record was cut from. The GPU is the record's `gpu_total_gib` (--cuda-total) when known,
else its `gpu` name (--sku), else the log's own lines. Offline, from the bundled catalog and tests/data/configs.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ["tests/data/vllm_calibration.jsonl", "tests/data/vllm_calibration_v021plus.jsonl"]
# Settings fields of a record and the vLLM argument each was.
SETTINGS = [
    ("model", "model"), ("tensor_parallel_size", "tensor_parallel_size"),
    ("pipeline_parallel_size", "pipeline_parallel_size"), ("data_parallel_size", "data_parallel_size"),
    ("enable_expert_parallel", "enable_expert_parallel"), ("gpu_memory_utilization", "gpu_memory_utilization"),
    ("max_model_len", "max_model_len"), ("max_num_batched_tokens", "max_num_batched_tokens"),
    ("max_num_seqs", "max_num_seqs"), ("kv_cache_dtype", "kv_cache_dtype"), ("quantization", "quantization"),
    ("enforce_eager", "enforce_eager"), ("block_size", "block_size"),
]


# The v0.20+ records in the calibration test's scope (tests/engines/test_vllm_calibration_v021plus.cpp): their
# logs name the model by a local path or a free-text name, so the config and the GPU come from that test's setups.
IN_SCOPE = {
    "vllm-new-004": ("google--gemma-4-E4B-it", ["--gpu-memory", "24564MiB"]),
    "vllm-new-006": ("deepseek-ai--DeepSeek-V4-Flash", ["--sku", "RTX-PRO-6000"]),
    "vllm-new-008": ("Qwen--Qwen3.8-27B", ["--sku", "L40S"], {"quantization": "fp8"}),
    "vllm-new-009": ("Qwen--Qwen3.8-27B", ["--sku", "L40S"], {"quantization": "fp8"}),
    "vllm-new-010": ("Qwen--Qwen3.8-27B", ["--sku", "L40S"], {"quantization": "fp8"}),
    "vllm-new-013": ("Qwen--Qwen3.8-27B", ["--sku", "GB10"]),
    "vllm-new-014": ("Qwen--Qwen3.8-27B", ["--sku", "GB10"], {"max_model_len": 786432}),
    "vllm-new-019": ("LiquidAI--LFM2.5-1.2B-Instruct", ["--cuda-total", "16GiB"], {"quantization": "awq"}),
    "vllm-new-030": ("Qwen--Qwen3-0.6B", ["--sku", "GB10"]),
}


def local_config(model):
    """tests/data/configs/<org>--<name>/ when the repository holds the model's config."""
    if not model:
        return None
    # The calibration tests' one alias: the Instruct model's config is the base model's.
    model = {"meta-llama/Llama-3.1-8B-Instruct": "meta-llama/Meta-Llama-3.1-8B"}.get(model, model)
    path = os.path.join(ROOT, "tests", "data", "configs", model.replace("/", "--"))
    return path if os.path.isfile(os.path.join(path, "config.json")) else None


def log_of(record):
    args = dict(IN_SCOPE[record["id"]][2]) if record["id"] in IN_SCOPE and len(IN_SCOPE[record["id"]]) > 2 else {}
    for field, arg in SETTINGS:
        value = record.get(field)
        if value is not None and arg not in args and not (field == "enable_expert_parallel" and value is False):
            args[arg] = value
    lines = []
    if record.get("vllm_version"):
        lines.append("INFO vLLM API server version %s" % record["vllm_version"])
    lines.append("INFO [utils.py:326] non-default args: %r" % args)
    lines += [part.strip() for part in record.get("evidence", "").split(" | ") if part.strip()]
    return "\n".join(lines) + "\n"


def run(binary, record):
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write(log_of(record))
        path = f.name
    cmd = [binary, "explain-log", path, "--format", "json", "--offline"]
    if record["id"] in IN_SCOPE:
        config, gpu = IN_SCOPE[record["id"]][:2]
        cmd += ["--model", os.path.join(ROOT, "tests", "data", "configs", config)] + gpu
    elif local_config(record.get("model")):
        cmd += ["--model", local_config(record.get("model"))]
    if record["id"] in IN_SCOPE:
        pass
    elif record.get("gpu_total_gib"):
        cmd += ["--cuda-total", "%sGiB" % record["gpu_total_gib"]]
    elif record.get("gpu"):
        cmd += ["--sku", record["gpu"]]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    os.unlink(path)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "exit %d" % r.returncode
    return json.loads(r.stdout), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "vram-calc"))
    parser.add_argument("--markdown", action="store_true")
    a = parser.parse_args()
    errors, units, explained, skipped = {}, {}, 0, []
    for name in FILES:
        for line in open(os.path.join(ROOT, name)):
            if not line.strip():
                continue
            record = json.loads(line)
            out, why = run(a.binary, record)
            if out is None:
                skipped.append((record["id"], why))
                continue
            explained += 1
            for component, diff in out["differences"].items():
                if diff is None or out["predicted"].get(component) is None:
                    continue
                key = component.split(" for ")[0]
                errors.setdefault(key, []).append((record["id"], diff, out["logged"][component]))
                units[key] = out["units"][component]
    print("%d records explained, %d not (no config offline, or no GPU): %s" % (
        explained, len(skipped), ", ".join("%s (%s)" % s for s in skipped[:6]) + (" ..." if len(skipped) > 6 else "")))
    header = ("component", "unit", "records", "median |error|", "median |error| %", "worst (record)")
    rows = []
    for key, values in errors.items():
        abs_errors = [abs(d) for _, d, _ in values]
        rel = [abs(d) / abs(l) * 100 for _, d, l in values if l]
        worst = max(values, key=lambda v: abs(v[1]))
        fmt = "%.2f" if units[key] in ("GiB", "x") else "%.0f"
        rows.append((key, units[key], str(len(values)), fmt % statistics.median(abs_errors),
                     "%.1f%%" % statistics.median(rel) if rel else "-", (fmt % worst[1]) + " (" + worst[0] + ")"))
    if a.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        for r in [header] + rows:
            print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
