#!/usr/bin/env bash
# How much of vram-calc's start-up is the dynamic loader: builds empty programs (main returns 0) linked against
# (a) nothing but libc, (b) the shared libraries vram-calc itself needs, (c) those plus libcurl, and times them
# with hyperfine next to /bin/true and `vram-calc --version`; then prints ld.so's own count (LD_DEBUG=statistics:
# libraries loaded, relocations, cycles spent in the loader) for each.
#
#   bench/dynload.sh [--runs N] [--warmup N] [--binary PATH] [--out DIR]
#
# (c) minus (b) is what linking libcurl costs every run, Hub or not. The binary defaults to build-bench/vram-calc
# (bench/startup.sh builds it). Exports go to bench/results/dynload.{json,md} (or --out DIR).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=100
warmup=10
binary=$root/build-bench/vram-calc
out=$root/bench/results
cxx=${CXX:-c++}

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "dynload.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "dynload.sh: $binary not found; run bench/startup.sh first (it builds it)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "dynload.sh: hyperfine missing; bench/startup.sh installs it" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dynload.XXXXXX")
trap 'rm -rf "$work"' EXIT

# vram-calc's direct dependencies (DT_NEEDED), libc and libcurl aside; linked by soname so the very same files load.
libs=()
for so in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  case "$so" in libc.so.*|libcurl.so.*|ld-linux*) ;; *) libs+=("-l:$so") ;; esac
done
echo 'int main() { return 0; }' >"$work/empty.cpp"
"$cxx" -O2 "$work/empty.cpp" -o "$work/empty-libc"
"$cxx" -O2 "$work/empty.cpp" -o "$work/empty-libs" -Wl,--no-as-needed "${libs[@]}"
"$cxx" -O2 "$work/empty.cpp" -o "$work/empty-libs-curl" -Wl,--no-as-needed "${libs[@]}" -l:libcurl.so.4

mkdir -p "$out"
hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$out/dynload.json" --export-markdown "$out/dynload.md" \
  -n true /bin/true -n empty-libc "$work/empty-libc" -n empty-libs "$work/empty-libs" \
  -n empty-libs-curl "$work/empty-libs-curl" -n version "$binary --version"

echo
echo "ld.so's statistics (LD_DEBUG=statistics), median of 21 runs:"
printf '%-16s %8s %12s %16s\n' program objects relocations loader_Mcycles
for p in empty-libc empty-libs empty-libs-curl version; do
  cmd=("$work/$p")
  [ "$p" = version ] && cmd=("$binary" --version)
  objects=$(ldd "${cmd[0]}" | grep -c '=>\|ld-linux' || true)
  for _ in $(seq 21); do LD_DEBUG=statistics "${cmd[@]}" 2>&1 >/dev/null; done >"$work/stats"
  relocations=$(sed -n 's/.*final number of relocations: *\([0-9]*\).*/\1/p' "$work/stats" | tail -n 1)
  cycles=$(sed -n 's/.*total startup time in dynamic loader: *\([0-9]*\).*/\1/p' "$work/stats" | sort -n | sed -n 11p)
  awk -v p="$p" -v o="$objects" -v r="$relocations" -v c="$cycles" \
    'BEGIN { printf "%-16s %8d %12d %16.1f\n", p, o, r, c / 1e6 }'
done
echo "objects: shared objects loaded (ldd); relocations: symbol relocations processed at start-up."
echo "hyperfine's exports: $out/dynload.json, $out/dynload.md"
