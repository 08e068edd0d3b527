#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time, seeded with testdata (its regression inputs too) and (when present)
# the corkami corpus.
# A crash, leak, timeout or sanitizer report fails the run (the end of the log is printed); its input is kept
# under fuzz-work/TARGET/artifacts beside the target.
set -euo pipefail
target=$1
seconds=${2:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
# Each target keeps its own corpus: what is new coverage for one is noise for another.
work=$(dirname "$target")/fuzz-work/$(basename "$target")
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"
# Seeds up to 256 KiB keep each run fast; the large files are covered by the unit and corpus tests.
seed_dirs=("$root/testdata/bin" "$root/testdata/regress")  # the inputs of past findings too
# Without the corpus beside the repository (a bare clone), testdata alone seeds the run.
[ -d "$root/../shared/corpus/corkami" ] && seed_dirs+=("$root/../shared/corpus/corkami")
find "${seed_dirs[@]}" -type f -size -256k \
  | while read -r f; do cp -f "$f" "$work/seeds/$(echo "$f" | md5sum | cut -c1-16)"; done
echo "fuzz: $(ls "$work/seeds" | wc -l) seeds, $seconds s"
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" "$work/seeds" >"$work/log" 2>&1 \
  || { tail -60 "$work/log"; exit 1; }
# The final statistics, and the last status line (executions, coverage, features, corpus).
grep -E '^#[0-9]+' "$work/log" | tail -1 || true
grep '^stat::' "$work/log" || true
echo "fuzz: no crash, leak or timeout in $seconds s"
