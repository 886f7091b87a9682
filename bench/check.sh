#!/usr/bin/env bash
# `vram-calc check` on 100 manifests against one plan (issue 15: under 2x one plan's time per manifest).
#
#   bench/check.sh [--binary PATH] [--runs N]
#
# Writes 100 Deployments (the ten example manifests' workloads, cycled, each under its own name, catalog models
# only) into a scratch directory, then times `vram-calc check DIR` and one equivalent plan
# (`vram-calc --model meta-llama/Llama-3.1-8B --sku A100-80G --max-model-len 32768`) N times each, interleaved,
# offline with empty caches, and prints the medians and the ratio (check time / 100) / (one plan).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
binary=$root/build/vram-calc
runs=21
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/manifests" "$work/hf" "$work/xdg"
examples=("$root"/examples/manifests/*.yaml)
for i in $(seq 1 100); do
  src=${examples[$(( (i - 1) % ${#examples[@]} ))]}
  sed "s/^  name: \(.*\)$/  name: \1-$i/" "$src" > "$work/manifests/m$i.yaml"
done
export HF_HUB_OFFLINE=1 HF_HOME=$work/hf XDG_CACHE_HOME=$work/xdg
python3 - "$binary" "$work/manifests" "$runs" <<'PY'
import subprocess, sys, time, statistics
binary, manifests, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
check = [binary, "check", manifests, "--format", "json"]
plan = [binary, "--model", "meta-llama/Llama-3.1-8B", "--sku", "A100-80G", "--max-model-len", "32768"]
def once(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit(f"bench/check.sh: {' '.join(cmd)} exited {r.returncode}")
    return time.perf_counter() - t
c, p = [], []
for _ in range(runs):  # interleaved, so that other load falls on both alike
    c.append(once(check))
    p.append(once(plan))
mc, mp = statistics.median(c), statistics.median(p)
print(f"check of 100 manifests: median {mc * 1000:.1f} ms ({mc * 10:.2f} ms per manifest)")
print(f"one plan:               median {mp * 1000:.1f} ms")
print(f"per manifest / one plan: {mc / 100 / mp:.2f}x (target < 2x)")
PY
