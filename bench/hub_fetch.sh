#!/usr/bin/env bash
# Measures how long vram-calc takes to size a sharded model from a Hugging Face Hub with a given round-trip
# latency, against the fake hub (tests/fakehub/server.py) on 127.0.0.1. Nothing leaves the machine.
#
#   bench/hub_fetch.sh [--latency-ms N] [--runs N] [--model ID] [--sku NAME] [--binary PATH] [--tls] [--cold]
#                      [--repos DIR]
#
# Prints, per run, the wall time, the requests the fake hub answered, the body bytes it sent and
# wall time / latency (about the number of sequential round trips), then the medians. See bench/README.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
latency_ms=50
runs=5
model=acme/manyshards
sku=H100-80G
binary=$root/build/vram-calc
tls=0
cold=0
python=${PYTHON:-python3}
repos=$root/tests/data/hub

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --latency-ms) latency_ms=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --sku) sku=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --tls) tls=1; shift ;;
    --cold) cold=1; shift ;;
    --repos) repos=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "hub_fetch.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$latency_ms" in ''|*[!0-9]*) echo "hub_fetch.sh: --latency-ms wants a whole number" >&2; exit 2 ;; esac
case "$runs" in ''|*[!0-9]*|0) echo "hub_fetch.sh: --runs wants a positive whole number" >&2; exit 2 ;; esac

if [ ! -x "$binary" ]; then
  echo "hub_fetch.sh: $binary not found or not executable; build first:" >&2
  echo "  cmake -S $root -B $root/build -G Ninja && cmake --build $root/build" >&2
  exit 1
fi
command -v "$python" >/dev/null || { echo "hub_fetch.sh: $python not found (set PYTHON=...)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hub_fetch.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_args=(--repos "$repos" --port-file "$work/port" --stats-file "$work/stats.json"
             --latency-ms "$latency_ms")
scheme=http
if [ "$tls" = 1 ]; then
  server_args+=(--tls "$root/tests/data/tls/server.pem" "$root/tests/data/tls/server-key.pem")
  scheme=https
fi
"$python" "$root/tests/fakehub/server.py" "${server_args[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do
  [ -s "$work/port" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "hub_fetch.sh: the fake hub did not start:" >&2; cat "$work/server.log" >&2; exit 1
  fi
  sleep 0.05
done
[ -s "$work/port" ] || { echo "hub_fetch.sh: the fake hub did not start within 10 s" >&2; cat "$work/server.log" >&2; exit 1; }
port=$(tr -d '[:space:]' <"$work/port")
endpoint="$scheme://127.0.0.1:$port"

# Totals so far in the stats file, and whether FILE (optional) holds JSON: "<requests> <bytes_sent> <json_ok>".
# The server records a request just after its response is written, so wait until the numbers stop changing
# (50 ms, at most 2 s).
stats_totals() {
  "$python" - "$work/stats.json" "${1:-}" <<'PY'
import json, sys, time
def read():
    try:
        with open(sys.argv[1]) as f:
            d = json.load(f)
        return (len(d["requests"]), d["bytes_sent"])
    except (OSError, ValueError, KeyError):
        return (0, 0)
last, stable, deadline = read(), time.monotonic(), time.monotonic() + 2
while time.monotonic() < deadline:
    time.sleep(0.01)
    cur = read()
    if cur != last:
        last, stable = cur, time.monotonic()
    elif time.monotonic() - stable >= 0.05:
        break
ok = 1
if sys.argv[2]:
    try:
        with open(sys.argv[2]) as f:
            json.load(f)
    except (OSError, ValueError):
        ok = 0
print(*last, ok)
PY
}

now_ns() { date +%s%N; }

echo "fake hub: $endpoint, latency ${latency_ms} ms a request; vram-calc --model $model --sku $sku --refresh; $runs runs"
printf '%4s %10s %9s %14s %14s\n' run wall_ms requests bytes_sent wall/latency
results="$work/results"
: >"$results"
read -r prev_requests prev_bytes _ < <(stats_totals)
for i in $(seq "$runs"); do
  cache="$work/cache"
  [ "$cold" = 1 ] && cache="$work/cache-$i"
  mkdir -p "$cache"
  env_args=(HF_ENDPOINT="$endpoint" HF_HUB_OFFLINE=0 XDG_CACHE_HOME="$cache" HF_HOME="$cache/huggingface")
  [ "$tls" = 1 ] && env_args+=(CURL_CA_BUNDLE="$root/tests/data/tls/ca.pem")
  start=$(now_ns)
  set +e
  env -u HF_TOKEN -u HF_TOKEN_PATH -u HF_HUB_CACHE -u HUGGING_FACE_HUB_TOKEN "${env_args[@]}" \
    "$binary" --model "$model" --sku "$sku" --format json --refresh >"$work/out.json" 2>"$work/err.txt"
  rc=$?
  set -e
  end=$(now_ns)
  read -r total_requests total_bytes json_ok < <(stats_totals "$work/out.json")
  requests=$((total_requests - prev_requests))
  bytes=$((total_bytes - prev_bytes))
  prev_requests=$total_requests
  prev_bytes=$total_bytes
  wall_ms=$(( (end - start) / 1000000 ))
  if [ "$rc" -ne 0 ]; then
    echo "hub_fetch.sh: FAILED: vram-calc exited with status $rc on run $i (after ${wall_ms} ms, $requests requests, $bytes bytes)." >&2
    echo "--- vram-calc stderr ---" >&2; cat "$work/err.txt" >&2
    echo "--- vram-calc stdout (first 40 lines) ---" >&2; head -n 40 "$work/out.json" >&2
    echo "--- fake hub requests of this run ---" >&2
    "$python" - "$work/stats.json" "$requests" >&2 <<'PY'
import json, sys
reqs = json.load(open(sys.argv[1]))["requests"]
n = int(sys.argv[2])
for r in reqs[len(reqs) - n:] if n > 0 else []:
    print("%s %s %s range=%s auth=%s body=%d" % (r["method"], r["path"], r["status"], r["range"], r["auth"], r["body_bytes"]))
PY
    exit 1
  fi
  if [ "$json_ok" != 1 ]; then
    echo "hub_fetch.sh: FAILED: vram-calc exited 0 on run $i but its output is not JSON:" >&2
    head -n 20 "$work/out.json" >&2
    exit 1
  fi
  ratio=$(awk -v w="$wall_ms" -v l="$latency_ms" 'BEGIN { if (l > 0) printf "%.1f", w / l; else print "n/a" }')
  printf '%4d %10d %9d %14d %14s\n' "$i" "$wall_ms" "$requests" "$bytes" "$ratio"
  echo "$wall_ms $requests $bytes" >>"$results"
done

"$python" - "$results" "$latency_ms" <<'PY'
import statistics, sys
rows = [tuple(int(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
latency = int(sys.argv[2])
wall = statistics.median(r[0] for r in rows)
reqs = statistics.median(r[1] for r in rows)
sent = statistics.median(r[2] for r in rows)
ratio = "%.1f" % (wall / latency) if latency > 0 else "n/a"
num = lambda v: "%d" % v if v == int(v) else "%.1f" % v
print("median: wall %s ms, %s requests, %s bytes sent, wall/latency %s (about that many sequential round trips)"
      % (num(wall), num(reqs), num(sent), ratio))
PY
