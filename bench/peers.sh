#!/usr/bin/env bash
# pemap against its peers in one run on this machine: LIEF 0.9, pefile, readpe (pev), llvm-readobj and
# objdump -p, each doing a full inspection (headers, sections, imports, exports, base relocations) of the same
# files, timed (wall, each run reaped directly) with peak RSS from GNU time; plus pemap's own load, relocate and second-instance figures.
# Writes the "Against peers" part of docs/performance.md (bench/run.sh writes the rest, then calls this).
# Usage: bench/peers.sh [BUILD_DIR]   (default build/; needs pemap, pemap_lief_inspect, pemap_load_bench)
# PEMAP_BEFORE=PATH (another build's pemap, say of the commit before a change) adds a before/after table; Wine's
# notepad.exe, when Debian's wine64 is installed, adds a real program's load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
for t in inspector/pemap bench/pemap_lief_inspect bench/pemap_load_bench; do
  [ -x "$build/$t" ] || { echo "bench/peers.sh: $build/$t not built" >&2; exit 2; }
done
for t in /usr/bin/time readpe llvm-readobj objdump; do
  command -v "$t" > /dev/null || { echo "bench/peers.sh: $t missing (scripts/install-deps.sh installs it)" >&2; exit 2; }
done
/usr/bin/python3 -c 'import pefile' || { echo "bench/peers.sh: python3-pefile missing" >&2; exit 2; }
load_json=$(mktemp)
trap 'rm -f "$load_json"' EXIT
"$build/bench/pemap_load_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.2 --benchmark_format=json > "$load_json"
/usr/bin/python3 "$root/bench/peers.py" "$root" "$build" "$load_json" "$root/docs/performance.md"
