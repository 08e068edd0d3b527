#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time, seeded with testdata and (when present) the corkami corpus.
# A crash, leak, timeout or sanitizer report fails the run; its input is kept under build-fuzz/artifacts.
set -euo pipefail
target=$1
seconds=${2:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(dirname "$target")/fuzz-work
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"
# Seeds up to 256 KiB keep each run fast; the large files are covered by the unit and corpus tests.
seed_dirs=("$root/testdata/bin")
# Without the corpus beside the repository (a bare clone), testdata alone seeds the run.
[ -d "$root/../shared/corpus/corkami" ] && seed_dirs+=("$root/../shared/corpus/corkami")
find "${seed_dirs[@]}" -type f -size -256k \
  | while read -r f; do cp -f "$f" "$work/seeds/$(echo "$f" | md5sum | cut -c1-16)"; done
echo "fuzz: $(ls "$work/seeds" | wc -l) seeds, $seconds s"
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" "$work/seeds" 2>&1 | tail -25
echo "fuzz: no crash, leak or timeout in $seconds s"
