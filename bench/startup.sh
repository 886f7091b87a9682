#!/usr/bin/env bash
# Start-up cost of vram-calc with hyperfine: /bin/true, `--version` (the same binary and libraries doing nothing),
# a local config.json plan, `--sku all`, the bundled-catalog lookup and the --estimator vllm / --engine tgi variants,
# with HF_HUB_OFFLINE=1 and empty cache directories, so no cache and no network is involved.
#
#   bench/startup.sh [--runs N] [--warmup N] [--rounds N] [--binary PATH] [--no-build] [--out DIR]
#
# Builds a Release vram-calc in build-bench first (unless --binary or --no-build), installs hyperfine (Debian 12
# package) if it is missing, runs hyperfine --rounds times (default 3, each --warmup 5 --runs 50), writes its JSON
# and Markdown into bench/results/ (or --out DIR), and prints each command's time as a ratio to `--version`
# against the issue's targets. See bench/README.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=50
warmup=5
rounds=3
binary=
build=1
out=$root/bench/results
python=${PYTHON:-/usr/bin/python3}

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --binary) binary=$2; build=0; shift 2 ;;
    --no-build) build=0; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "startup.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$runs$warmup$rounds" in *[!0-9]*) echo "startup.sh: --runs, --warmup, --rounds want whole numbers" >&2; exit 2 ;; esac
[ "$rounds" -ge 1 ] || { echo "startup.sh: --rounds wants at least 1" >&2; exit 2; }

if ! command -v hyperfine >/dev/null; then
  echo "startup.sh: installing hyperfine (apt-get)" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends hyperfine >&2
fi
[ -x "$python" ] || python=python3

if [ -z "$binary" ]; then
  binary=$root/build-bench/vram-calc
  if [ "$build" = 1 ]; then
    [ -f "$root/build-bench/CMakeCache.txt" ] ||
      cmake -S "$root" -B "$root/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVRAMCALC_BUILD_TESTS=OFF >&2
    cmake --build "$root/build-bench" -j2 >&2
  fi
fi
[ -x "$binary" ] || { echo "startup.sh: $binary not found or not executable" >&2; exit 1; }

# No cache, no network, no token: empty cache directories and offline mode.
work=$(mktemp -d "${TMPDIR:-/tmp}/startup.XXXXXX")
trap 'rm -rf "$work"' EXIT
unset HF_TOKEN HF_TOKEN_PATH HF_HUB_CACHE HUGGING_FACE_HUB_TOKEN HF_ENDPOINT VRAM_CALC_DATA_DIR
export HF_HUB_OFFLINE=1 HF_HOME=$work/hf XDG_CACHE_HOME=$work/cache
mkdir -p "$HF_HOME" "$XDG_CACHE_HOME"

cd "$root"
config=tests/data/configs/meta-llama--Meta-Llama-3.1-8B/config.json
names=(true version plan sku-all catalog estimator-vllm engine-tgi)
commands=(
  "/bin/true"
  "$binary --version"
  "$binary --model $config --sku A100-80G"
  "$binary --model $config --sku all"
  "$binary --model meta-llama/Llama-3.1-8B --sku A100-80G"
  "$binary --model $config --sku A100-80G --estimator vllm"
  "$binary --model $config --sku A100-80G --engine tgi"
)

# Each command must work (exit 0: it fits) before it is timed; hyperfine discards the output.
for i in "${!commands[@]}"; do
  if ! ${commands[$i]} >/dev/null 2>"$work/err"; then
    echo "startup.sh: FAILED: ${commands[$i]}" >&2; cat "$work/err" >&2; exit 1
  fi
done

# hyperfine times one command after the other; on a shared machine the load drifts between them, so the whole
# set is timed --rounds times and each ratio is the median of the rounds' ratios (min-max shows the noise).
mkdir -p "$out"
for round in $(seq "$rounds"); do
  [ "$rounds" -gt 1 ] && echo "== round $round of $rounds =="
  args=(-N --warmup "$warmup" --runs "$runs" --export-json "$out/startup-$round.json"
        --export-markdown "$out/startup-$round.md")
  for i in "${!commands[@]}"; do args+=(-n "${names[$i]}" "${commands[$i]}"); done
  hyperfine "${args[@]}"
done

echo
echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
rounds = [{r["command"]: r for r in json.load(open("%s/startup-%d.json" % (out, i)))["results"]} for i in range(1, n + 1)]
targets = {"plan": 1.5, "sku-all": 2.0}
med = statistics.median
cpu = lambda r: r["user"] + r["system"]  # hyperfine's means
print("%-15s %10s %8s %18s %8s  %s" % ("command", "median ms", "cpu ms", "x --version", "x cpu", "target"))
summary = {}
for name in rounds[0]:
    wall = [r[name]["median"] / r["version"]["median"] for r in rounds]
    cpus = [cpu(r[name]) / cpu(r["version"]) for r in rounds]
    ratio = med(wall)
    goal = targets.get(name)
    verdict = "" if goal is None else "<= %.1f: %s" % (goal, "met" if ratio <= goal else "NOT MET")
    shown = "%.2f (%.2f-%.2f)" % (ratio, min(wall), max(wall)) if n > 1 else "%.2f" % ratio
    print("%-15s %10.2f %8.2f %18s %8.2f  %s" % (name, med(r[name]["median"] for r in rounds) * 1e3,
          med(cpu(r[name]) for r in rounds) * 1e3, shown, med(cpus), verdict))
    summary[name] = {"median_ms": med(r[name]["median"] for r in rounds) * 1e3, "x_version": ratio,
                     "x_version_min": min(wall), "x_version_max": max(wall), "x_version_cpu": med(cpus)}
with open("%s/startup-ratios.json" % out, "w") as f:
    json.dump(summary, f, indent=1)
print("x --version: median wall time / --version's, the median over %d round(s) (min-max of the rounds);" % n)
print("x cpu: the same for user+system time, which other load on the machine disturbs less")
PY
echo "hyperfine's exports: $out/startup-N.json and .md (N: round); the ratios: $out/startup-ratios.json"
