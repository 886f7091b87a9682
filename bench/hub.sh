#!/usr/bin/env bash
# Round trips of the Hub path per shard count: generates Llama repositories of 64 layers split into 1, 4, 16 and
# 64 safetensors shards (virtual files, a few KB on disk, with tests/fakehub/make_repos.py's helpers), then runs
# bench/hub_fetch.sh (the fake hub with injected latency) for each and tabulates the medians. The target is about
# three round trips whatever the shard count.
#
#   bench/hub.sh [--latency-ms N] [--runs N] [--shards "1 4 16 64"] [--binary PATH] [--tls]
#
# The binary defaults to build-bench/vram-calc (bench/startup.sh builds it). See bench/README.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
latency_ms=100
runs=5
shards="1 4 16 64"
binary=$root/build-bench/vram-calc
extra=()
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --latency-ms) latency_ms=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --tls) extra+=(--tls); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "hub.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$latency_ms" in ''|0|*[!0-9]*) echo "hub.sh: --latency-ms wants a positive whole number" >&2; exit 2 ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/hub.XXXXXX")
trap 'rm -rf "$work"' EXIT

# acme/shards-N: the same 64-layer model in N shards (N = 1: a single model.safetensors, no index).
"$python" - "$root/tests/fakehub" "$work/repos" $shards <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import make_repos as mr
mr.HUB = sys.argv[2]
cfg = mr.llama_config(2048, 64, 16, 8, 8192, 32000, 4096)
for n in map(int, sys.argv[3:]):
    if n == 1:
        tensors = mr.llama_shards(cfg, 1)[0]
        mr.write_repo("shards-1", {"config.json": mr.dump(cfg)},
                      mr.repo_json("shards-1", ("main",), {"model.safetensors": tensors}))
    else:
        mr.sharded_repo("shards-%d" % n, cfg, n)
PY

# hub_fetch.sh's median line: "median: wall W ms, R requests, B bytes sent, wall/latency X (...)" -> "W R B".
median() {
  PYTHON=$python "$root/bench/hub_fetch.sh" --repos "$work/repos" --model "acme/shards-$1" --binary "$binary" \
    --latency-ms "$2" --runs "$runs" "${extra[@]}" | tee /dev/stderr |
    sed -n 's/^median: wall \([0-9.]*\) ms, \([0-9.]*\) requests, \([0-9.]*\) bytes sent.*/\1 \2 \3/p'
}

# Each shard count with no injected latency too: (wall - wall without latency) / latency leaves out local work
# (start-up, parsing, the fake hub's own time), which on a loaded machine is far from negligible.
printf '%7s %9s %12s %10s %13s %13s %22s\n' shards requests bytes_sent wall_ms wall0_ms wall/latency \
  "(wall-wall0)/latency" >"$work/table"
for n in $shards; do
  echo "== $n shard(s) ==" >&2
  read -r wall0 _ _ < <(median "$n" 0)
  read -r wall requests bytes < <(median "$n" "$latency_ms")
  awk -v n="$n" -v w="$wall" -v w0="$wall0" -v r="$requests" -v b="$bytes" -v l="$latency_ms" \
    'BEGIN { printf "%7s %9s %12s %10s %13s %13.1f %22.1f\n", n, r, b, w, w0, w / l, (w - w0) / l }' >>"$work/table"
done
echo
echo "latency ${latency_ms} ms a request, medians of $runs runs; wall0: the same with no injected latency."
echo "(wall-wall0)/latency: about the round trips vram-calc waited for one after the other."
cat "$work/table"
