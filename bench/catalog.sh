#!/usr/bin/env bash
# What parsing the bundled data costs a plan: compiles bench/catalog_load.cpp against build-bench's
# libvramcalc_sources.a and libvramcalc_core.a (Release) and times, in-process, ModelCatalog::load (all of data/models.json) and load_for
# (what a plan of a catalog id parses), SkuCatalog::load (data/skus.json, --sku all) and load_for (one SKU), a
# lookup and a "did you mean" miss.
#
#   bench/catalog.sh [--calls N]
#
# Run bench/startup.sh first (it builds build-bench). Compare the figures with startup.sh's `plan` and `catalog`
# rows: the process-level difference between those two is the catalog's share of a plan. See bench/README.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
calls=200
cxx=${CXX:-c++}

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --calls) calls=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "catalog.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
lib=$root/build-bench/libvramcalc_sources.a
[ -f "$lib" ] || { echo "catalog.sh: $lib not found; run bench/startup.sh first (it builds build-bench)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/catalog.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The same optimisation as the Release build; libcurl only in case the library still links it.
"$cxx" -std=c++20 -O3 -DNDEBUG -I"$root/include" "$root/bench/catalog_load.cpp" "$lib" "$root/build-bench/libvramcalc_core.a" -o "$work/catalog_load" \
  -Wl,--as-needed -lfmt -lyaml-cpp -lcurl
echo "data/models.json: $(wc -c <"$root/data/models.json") bytes; data/skus.json: $(wc -c <"$root/data/skus.json") bytes"
"$work/catalog_load" "$root/data/models.json" "$root/data/skus.json" "$calls"
