#!/usr/bin/env bash
# The C++ sources follow .clang-format. Skips (77) when clang-format is not installed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v clang-format > /dev/null || { echo "SKIP: clang-format not installed (Debian package clang-format)"; exit 77; }
cd "$root"
mapfile -t files < <(git ls-files 'loader/*.[ch]pp' 'inspector/*.[ch]pp' 'tests/*.[ch]pp' 'bench/*.cpp' 'docs/examples/*.cpp' 2>/dev/null ||
                     find loader inspector tests bench -name '*.[ch]pp')
bad=0
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" > /dev/null 2>&1 || { echo "not formatted: $f (clang-format -i $f)"; bad=$((bad + 1)); }
done
echo "$(( ${#files[@]} - bad )) passed, $bad failed"
[ "$bad" -eq 0 ]
