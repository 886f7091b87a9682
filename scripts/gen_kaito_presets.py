#!/usr/bin/env python3
"""Writes data/kaito_presets.json: KAITO preset names -> Hugging Face ids.

Usage: scripts/gen_kaito_presets.py KAITO_GIT_DIR [READ_MONTH] > data/kaito_presets.json
       scripts/gen_kaito_presets.py --check   (from the repository root)

KAITO_GIT_DIR is a clone (bare or not) of github.com/kaito-project/kaito; the list is
read from presets/workspace/models/supported_models.yaml at its HEAD. Each preset's
`version` is a Hugging Face commit URL (https://huggingface.co/ORG/REPO/commit/SHA);
ORG/REPO, spelled as KAITO spells it, is the model id. Presets without such a URL (the
`base` image) are skipped and named on stderr.

KAITO also accepts a Hugging Face id itself as a preset name (anything with a `/`);
those need no table, so the checker only needs the short legacy names listed here.

--check validates the two hand-kept tables that `vram-calc check` reads beside the SKU
catalog: data/kaito_presets.json (lower-case names, sorted, unique, ORG/REPO ids) and
data/k8s_gpu_labels.json (every SKU name it writes exists in data/skus.json).
"""

import datetime
import json
import re
import subprocess
import sys

import yaml

LIST_PATH = "presets/workspace/models/supported_models.yaml"
HF_URL = re.compile(r"^https://huggingface\.co/([^/]+/[^/]+?)(?:/commit/[0-9a-f]+)?/?$")


def git(git_dir, *args):
    return subprocess.run(
        ["git", "-C", git_dir, *args], check=True, capture_output=True, text=True
    ).stdout


def presets(models):
    """(name, hf id) pairs sorted by name; prints the skipped names on stderr."""
    rows = []
    for m in models:
        match = HF_URL.match(str(m.get("version", "")))
        if not match:
            print(f"skipped (no Hugging Face repo): {m['name']}", file=sys.stderr)
            continue
        rows.append({"name": m["name"].lower(), "model": match.group(1)})
    names = [r["name"] for r in rows]
    if len(names) != len(set(names)):
        sys.exit("duplicate preset names in " + LIST_PATH)
    return sorted(rows, key=lambda r: r["name"])


def check():
    """Exits non-zero, naming each problem, when the bundled tables are inconsistent."""
    problems = []
    gpus = {g["name"] for g in json.load(open("data/skus.json"))["gpus"]}
    labels = json.load(open("data/k8s_gpu_labels.json"))["labels"]
    for label, values in labels.items():
        for value, sku in values.items():
            for name in sku if isinstance(sku, list) else [sku]:
                if name is not None and name not in gpus:
                    problems.append(f"{label}={value}: {name} is not a GPU in data/skus.json")
    rows = json.load(open("data/kaito_presets.json"))["presets"]
    names = [r["name"] for r in rows]
    if names != sorted(set(names)):
        problems.append("data/kaito_presets.json: names not sorted and unique")
    for r in rows:
        if r["name"] != r["name"].lower() or r["model"].count("/") != 1:
            problems.append(f"data/kaito_presets.json: bad row {r}")
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)


def main():
    if sys.argv[1:] == ["--check"]:
        check()
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    git_dir = sys.argv[1]
    month = sys.argv[2] if len(sys.argv) == 3 else datetime.date.today().strftime("%Y-%m")
    commit = git(git_dir, "rev-parse", "HEAD").strip()
    models = yaml.safe_load(git(git_dir, "show", f"HEAD:{LIST_PATH}"))["models"]
    out = {
        "source": f"kaito-project/kaito {LIST_PATH} at {commit}, read {month}",
        "presets": presets(models),
    }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
