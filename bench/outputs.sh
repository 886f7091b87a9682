#!/usr/bin/env bash
# Writes what a vram-calc binary prints for a fixed set of command lines, one file per command line (stdout, stderr and
# the exit status), so that two builds can be compared byte for byte after a change meant to alter no output:
#
#   bench/outputs.sh --binary OLD --out /tmp/before
#   bench/outputs.sh --binary NEW --out /tmp/after
#   diff -r /tmp/before /tmp/after && echo identical
#
#   bench/outputs.sh [--binary PATH] [--out DIR] [--quick]
#
# The set: every bundled model with --sku all in JSON, and for a handful of models (a dense Llama, MoE, MLA,
# multimodal, MXFP4) every format with --sku all, each engine and estimator, the settings that bring suggestions
# (a long context, concurrency), fp8 KV cache and weights, --gpu-memory, --gpus-per-node, sweeps. --quick: the
# handful only.
# Offline, with empty cache directories: nothing leaves the machine. Both binaries read this checkout's data/
# (VRAM_CALC_DATA_DIR), so that a binary built elsewhere (a worktree, an install) compares on the same catalogs.
# The JSON carries the commit the binary was
# configured at, with "-dirty" for a tree with changes: build both from the same commit, or compare with
# sed -E 's/"commit": "[0-9a-f]+(-dirty)?"/"commit": "X"/' applied to both.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
binary=$root/build/vram-calc
out=
quick=0
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "outputs.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "outputs.sh: --out DIR is required" >&2; exit 2; }
[ -x "$binary" ] || { echo "outputs.sh: $binary not found or not executable" >&2; exit 1; }
mkdir -p "$out"

work=$(mktemp -d "${TMPDIR:-/tmp}/outputs.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HF_HUB_OFFLINE=1 HF_HOME=$work/hf XDG_CACHE_HOME=$work/cache VRAM_CALC_DATA_DIR=$root/data
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN

n=0
run() {  # run ARGS...: the output file is named by a counter and the arguments
  n=$((n + 1))
  local name
  name=$(printf '%04d_%s' "$n" "$*" | tr -c 'A-Za-z0-9._=-' '_' | cut -c1-150)
  local status=0
  "$binary" "$@" >"$out/$name" 2>"$work/stderr" || status=$?
  cat "$work/stderr" >>"$out/$name"
  echo "exit $status" >>"$out/$name"
}

few=(meta-llama/Llama-3.1-8B Qwen/Qwen3-30B-A3B openai/gpt-oss-120b google/gemma-3-27b-it deepseek-ai/DeepSeek-V3)
for m in "${few[@]}"; do
  for f in json table csv markdown; do run --model "$m" --sku all --format "$f"; done
  for variant in "--estimator kaito" "--estimator wizard" "--engine tgi" "--max-model-len 131072" \
    "--concurrency 16 --max-model-len 32768" "--kv-cache-dtype fp8" "-q fp8" "--estimator kaito --kaito-rules controller"; do
    # shellcheck disable=SC2086  # the variant is several words
    run --model "$m" --sku all --format json $variant
  done
  run --model "$m" --sku L4,H100-80G,A100-80G --format json --max-model-len 65536
  run --model "$m" --sku H100-80G --format json
  run --model "$m" --sku L4 --format table
  run --model "$m" --gpu-memory 24GiB --format json
  run --model "$m" --sku A100-80G,H100-80G --sweep max-model-len=8192:32768:8192 --format json
  run --model "$m" --sku all --sweep max-model-len=4096:8192:4096 --format json
  run --model "$m" --sku all --format json --gpus-per-node 4
  run --model "$m" --sku T4 --format table --max-model-len 65536
  run --model "$m" --sku L4 --format markdown --concurrency 32
done
if [ "$quick" = 0 ]; then
  while read -r id _; do
    run --model "$id" --sku all --format json
  done < <("$binary" models | tail -n +2)
fi
echo "outputs.sh: $n command lines into $out"
