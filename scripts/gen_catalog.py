#!/usr/bin/env python3
"""Generates vram-calc's bundled data files from the shared reference material.

Run from the repository root:

    scripts/gen_catalog.py --shared ../shared [--vram-calc build/vram-calc] [--date YYYY-MM-DD]

Inputs (read only here, never by the program or its tests at run time):
  <shared>/data/configs/<org>--<name>/config.json   Hugging Face configs, one per model
  <shared>/data/configs/INDEX.json                  source, known safetensors size and parameter count
  <shared>/data/measured/param_counts.jsonl         exact logical parameter counts
  <shared>/data/skus.json                           GPUs, cloud instances, KAITO's SKU tables

Outputs:
  data/models.json   the bundled model catalog (ids, aliases for renamed repositories, verbatim configs,
                     known sizes and counts; "summary" is filled only with --vram-calc, from that binary's
                     `--format json` output for each config; without it every summary is {})
  data/skus.json     the GPU / instance catalog: shared skus.json plus KAITO's non-CUDA rows (Radeon PRO V620,
                     Radeon Pro V520, Trainium, Inferentia2) and a "vllm_cuda" flag on every GPU

Python 3 standard library only. Output is deterministic for a given --date.
"""

import argparse
import copy
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SCHEMA_VERSION = 1

# Configs kept out of the catalog, with the reason: a catalog entry must plan.
EXCLUDED = {
    "mistralai--Mistral-Small-4-119B-2603": "reconstructed config is partial (no hidden_size, no expert shapes)",
}

# Hugging Face repositories renamed since the config was captured: directory id -> current id.
# The directory's id is kept as an alias so both spellings resolve.
RENAMES = {
    "meta-llama/Meta-Llama-3.1-8B": "meta-llama/Llama-3.1-8B",
    "meta-llama/Meta-Llama-3.1-70B": "meta-llama/Llama-3.1-70B",
    "meta-llama/Meta-Llama-3.1-405B": "meta-llama/Llama-3.1-405B",
    "CohereForAI/c4ai-command-r-v01": "CohereLabs/c4ai-command-r-v01",
}

# The fields of `vram-calc --format json` copied into each model's "summary": (summary key, path in the output).
SUMMARY_FIELDS = [
    ("architecture", ("model", "architecture")),
    ("num_params", ("model", "num_params")),
    ("weight_bytes", ("model", "weight_bytes")),
    ("weight_source", ("model", "weight_source")),
    ("dtype", ("model", "dtype")),
    ("num_hidden_layers", ("model", "num_hidden_layers")),
    ("num_attention_heads", ("model", "num_attention_heads")),
    ("num_key_value_heads", ("model", "num_key_value_heads")),
    ("head_dim", ("model", "head_dim")),
    ("max_position_embeddings", ("model", "max_position_embeddings")),
    ("kv_cache_bytes_per_token", ("kv_cache", "bytes_per_token")),
]
SUMMARY_SKU = "H100-80G"

# Accelerators in KAITO's current tables that shared skus.json has no gpus[] entry for. Memory per chip is
# KAITO's gpu_mem_total / gpu_count. None of them is served by vLLM's CUDA path.
NON_CUDA_GPUS = {
    "AMD Radeon PRO V620": {
        "name": "RADEON-PRO-V620",
        "aliases": ["AMD Radeon PRO V620", "Radeon PRO V620", "V620"],
        "vendor": "AMD",
        "architecture": "RDNA2",
        "bf16": False,
        "note": "AMD Radeon PRO V620 (consumer-class RDNA2 Radeon, ROCm): vLLM's CUDA path does not serve it, "
                "and vLLM's ROCm build targets Instinct GPUs; KAITO lists it for its own non-vLLM runtimes",
    },
    "AMD Radeon Pro V520": {
        "name": "RADEON-PRO-V520",
        "aliases": ["AMD Radeon Pro V520", "Radeon Pro V520", "V520"],
        "vendor": "AMD",
        "architecture": "RDNA (Navi 12)",
        "bf16": False,
        "note": "AMD Radeon Pro V520 (consumer-class Radeon, ROCm): vLLM's CUDA path does not serve it, "
                "and vLLM's ROCm build targets Instinct GPUs",
    },
    "AWS Trainium accelerators": {
        "name": "TRAINIUM",
        "aliases": ["AWS Trainium accelerators", "AWS Trainium", "Trainium", "Trainium1"],
        "vendor": "AWS",
        "architecture": "Trainium (NeuronCore-v2)",
        "bf16": True,
        "note": "AWS Trainium: served through AWS Neuron (transformers-neuronx / NxD Inference, vLLM's Neuron "
                "backend), not vLLM's CUDA path; memory is per Trainium chip",
    },
    "AWS Inferentia2 accelerators": {
        "name": "INFERENTIA2",
        "aliases": ["AWS Inferentia2 accelerators", "AWS Inferentia2", "Inferentia2"],
        "vendor": "AWS",
        "architecture": "Inferentia2 (NeuronCore-v2)",
        "bf16": True,
        "note": "AWS Inferentia2: served through AWS Neuron (transformers-neuronx / NxD Inference, vLLM's Neuron "
                "backend), not vLLM's CUDA path; memory is per Inferentia2 chip",
    },
}

# KAITO's cloud names -> skus.json instance cloud names.
KAITO_CLOUDS = {"azure": "azure", "aws": "aws", "arc": "azure-arc"}


def fail(message):
    print(f"gen_catalog.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)  # Python's json reads the bare Infinity / NaN some configs contain
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")


def write_json(path, obj):
    # allow_nan keeps a config's Infinity as the bare token Infinity, which vram-calc's relaxed parser accepts.
    text = json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=True) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    print(f"wrote {path} ({len(text)} bytes)", file=sys.stderr)


# ---------------------------------------------------------------------------------------------- models.json


def load_param_counts(path):
    counts = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                fail(f"{path}:{lineno}: {e}")
            if isinstance(row.get("params"), int):  # rows with "error" have no count
                counts[row["dir"]] = row["params"]
    return counts


def is_reconstructed(entry):
    # INDEX.json marks them only in "source": "reconstructed from the model's published architecture values ...".
    return str(entry.get("source", "")).lower().startswith("reconstructed")


def dig(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            raise KeyError("/".join(path))
        obj = obj[key]
    return obj


def run_summary(binary, model_id, config_text):
    """Runs vram-calc on one config; returns the summary dict, or None (with a message) when it fails."""
    with tempfile.TemporaryDirectory(prefix="gen-catalog-") as tmp:
        Path(tmp, "config.json").write_text(config_text, encoding="utf-8")
        cmd = [binary, "--model", tmp, "--sku", SUMMARY_SKU, "--format", "json"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as e:
            print(f"  {model_id}: skipping summary: cannot run {binary}: {e}", file=sys.stderr)
            return None
    # Exit 1 means "computed, does not fit": the JSON is still complete.
    if proc.returncode not in (0, 1):
        err = proc.stderr.strip().splitlines()
        print(f"  {model_id}: skipping summary: {binary} exited {proc.returncode}: {err[-1] if err else ''}",
              file=sys.stderr)
        return None
    try:
        out = json.loads(proc.stdout)
        if isinstance(out, list):
            out = out[0]
        return {key: dig(out, path) for key, path in SUMMARY_FIELDS}
    except (ValueError, KeyError, IndexError) as e:
        print(f"  {model_id}: skipping summary: unexpected output from {binary}: {e}", file=sys.stderr)
        return None


def build_models(shared, date, binary):
    configs_dir = shared / "data" / "configs"
    index_rows = read_json(configs_dir / "INDEX.json")
    index = {row["dir"]: row for row in index_rows}
    counts = load_param_counts(shared / "data" / "measured" / "param_counts.jsonl")

    dirs = sorted(p.name for p in configs_dir.iterdir() if p.is_dir())
    if not dirs:
        fail(f"no config directories in {configs_dir}")
    if binary and not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"{binary} is not an executable file: summaries stay empty", file=sys.stderr)
        binary = None

    models = []
    for d in dirs:
        if d in EXCLUDED:
            print(f"  {d}: left out of the catalog: {EXCLUDED[d]}", file=sys.stderr)
            continue
        config_path = configs_dir / d / "config.json"
        config = read_json(config_path)
        if d not in index:
            fail(f"{d} has no row in INDEX.json")
        entry = index[d]
        dir_id = d.replace("--", "/", 1)
        if entry.get("model") and entry["model"] != dir_id:
            fail(f"INDEX.json says {entry['model']} for directory {d}")
        model_id = RENAMES.get(dir_id, dir_id)
        aliases = [dir_id] if model_id != dir_id else []
        num_params = counts.get(d, entry.get("num_params"))
        summary = {}
        if binary:
            s = run_summary(binary, model_id, config_path.read_text(encoding="utf-8"))
            if s is not None:
                summary = s
        models.append({
            "id": model_id,
            "aliases": aliases,
            "safetensors_total_bytes": entry.get("safetensors_total_size_bytes"),
            "num_params": num_params,
            "source": entry.get("source", ""),
            "reconstructed": is_reconstructed(entry),
            "summary": summary,
            "config": config,
        })
    for stale in sorted(set(RENAMES) - {a for m in models for a in m["aliases"]}):
        fail(f"rename table names {stale}, which has no config directory")

    models.sort(key=lambda m: (m["id"].lower(), m["id"]))
    seen = {}
    for m in models:
        for name in [m["id"]] + m["aliases"]:
            if name.lower() in seen:
                fail(f"{name} names both {seen[name.lower()]} and {m['id']}")
            seen[name.lower()] = m["id"]
    return {"schema_version": SCHEMA_VERSION, "generated": date, "models": models}


# ------------------------------------------------------------------------------------------------ skus.json


def parse_gi(quantity):
    if not quantity.endswith("Gi"):
        fail(f"KAITO gpu_mem_total {quantity!r} is not in Gi")
    return float(quantity[:-2])


def build_skus(shared, date):
    src = read_json(shared / "data" / "skus.json")
    gpus = copy.deepcopy(src["gpus"])
    instances = copy.deepcopy(src["instances"])
    kaito = copy.deepcopy(src["kaito"])

    for g in gpus:
        g["vllm_cuda"] = True
    by_name = {}
    for i in instances:
        for n in [i["name"]] + i.get("aliases", []):
            by_name[n.lower()] = i

    added_gpus = {}
    for row in kaito["current"]:
        if row["sku"].lower() in by_name:
            continue
        spec = NON_CUDA_GPUS.get(row["gpu_model"])
        if spec is None:
            fail(f"KAITO row {row['sku']} ({row['gpu_model']}) has no instance and no known accelerator")
        per_chip = parse_gi(row["gpu_mem_total"]) / row["gpu_count"]
        per_chip = int(per_chip) if per_chip == int(per_chip) else per_chip
        if spec["name"] not in added_gpus:
            added_gpus[spec["name"]] = {
                "name": spec["name"],
                "aliases": spec["aliases"],
                "vendor": spec["vendor"],
                "architecture": spec["architecture"],
                "compute_capability": None,
                "memory_gib_marketed": per_chip,
                "memory_type": None,
                "memory_mib_reported": None,
                "memory_mib_reported_note": None,
                "torch_total_memory_mib_observed": None,
                "bf16": spec["bf16"],
                "fp8": False,
                "bandwidth_gbps": None,
                "form_factor": None,
                "source": f"memory: kaito (gpu_mem_total / gpu_count = {per_chip:g}Gi per device, "
                          f"gpu_model {row['gpu_model']!r})",
                "verified": False,
                "unverified_fields": ["architecture", "bf16"],
                "vllm_cuda": False,
                "note": spec["note"],
            }
        elif added_gpus[spec["name"]]["memory_gib_marketed"] != per_chip:
            fail(f"KAITO rows disagree on the memory of {row['gpu_model']}")
        instance = {
            "name": row["sku"],
            "cloud": KAITO_CLOUDS[row["cloud"]],
            "gpu": spec["name"],
            "gpu_count": row["gpu_count"],
            "source": f"kaito ({row['gpu_count']} x {row['gpu_model']}, {row['gpu_mem_total']} total"
                      f"{', NVMe' if row['nvme_disk_enabled'] else ''})",
            "nvme": bool(row["nvme_disk_enabled"]),
            "verified": True,
            "kaito_supported": True,
        }
        instances.append(instance)
        by_name[row["sku"].lower()] = instance
    gpus.extend(added_gpus.values())  # in KAITO table order

    # Consistency: every instance names a known GPU, every KAITO current row has an instance that says so.
    gpu_names = {g["name"] for g in gpus}
    for i in instances:
        if i["gpu"] not in gpu_names:
            fail(f"instance {i['name']} names unknown GPU {i['gpu']}")
    current = {r["sku"].lower() for r in kaito["current"]}
    for row in kaito["current"]:
        i = by_name[row["sku"].lower()]
        if not i.get("kaito_supported") or i["gpu_count"] != row["gpu_count"]:
            fail(f"instance {i['name']} disagrees with KAITO row {row['sku']}")
    for i in instances:
        names = {n.lower() for n in [i["name"]] + i.get("aliases", [])}
        if bool(i.get("kaito_supported")) != bool(names & current):
            fail(f"instance {i['name']}: kaito_supported disagrees with KAITO's current table")

    report_collisions(gpus, instances)

    description = src.get("description", "") + (
        " vllm_cuda=false marks accelerators vLLM's CUDA path does not serve (AWS Neuron: Trainium, Inferentia2;"
        " consumer-class Radeon on ROCm), with the reason in note. The RADEON-PRO-V620, RADEON-PRO-V520, TRAINIUM"
        " and INFERENTIA2 gpus and their instances were added by scripts/gen_catalog.py from KAITO's current"
        " table (memory per device = gpu_mem_total / gpu_count).")
    return {
        "schema_version": src.get("schema_version", SCHEMA_VERSION),
        "generated": date,
        "description": description,
        "sources": src["sources"],
        "gpus": gpus,
        "instances": instances,
        "kaito": kaito,
    }


def report_collisions(gpus, instances):
    """Prints names or aliases that two entries share (vram-calc resolves them to the first, GPUs first)."""
    owner = {}
    for kind, rows in (("gpu", gpus), ("instance", instances)):
        for r in rows:
            for n in [r["name"]] + r.get("aliases", []):
                key = n.lower()
                if key in owner and owner[key] != r["name"]:
                    print(f"note: {n!r} names both {owner[key]} and {kind} {r['name']}; the first wins",
                          file=sys.stderr)
                owner.setdefault(key, r["name"])


# --------------------------------------------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", required=True, type=Path, help="the shared reference tree (e.g. ../shared)")
    parser.add_argument("--vram-calc", dest="vram_calc", help="built vram-calc binary: fills each model's summary")
    parser.add_argument("--date", default=datetime.date.today().isoformat(), help="catalog date (YYYY-MM-DD)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data",
                        help="output directory (default: the repository's data/)")
    args = parser.parse_args()
    try:
        datetime.date.fromisoformat(args.date)
    except ValueError:
        fail(f"--date {args.date!r} is not YYYY-MM-DD")
    if not (args.shared / "data").is_dir():
        fail(f"{args.shared} has no data/ directory")

    write_json(args.out / "models.json", build_models(args.shared, args.date, args.vram_calc))
    write_json(args.out / "skus.json", build_skus(args.shared, args.date))


if __name__ == "__main__":
    main()
