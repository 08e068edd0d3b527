#!/usr/bin/env bash
# The committed testdata binaries are exactly what testdata/build.sh makes from testdata/src: rebuild
# them into a temporary directory and compare byte for byte. Skips (77) when a cross tool is missing.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in i686-w64-mingw32-gcc x86_64-w64-mingw32-gcc clang lld-link llvm-dlltool; do
  command -v "$tool" > /dev/null || { echo "SKIP: $tool not installed (scripts/install-deps.sh installs it)"; exit 77; }
done
out=$(mktemp -d)
# The mingw tools leave empty temporary files behind: they get a directory of their own, removed with the rest.
scratch=$(mktemp -d)
trap 'rm -rf "$out" "$scratch"' EXIT
TMPDIR=$scratch PEMAP_TESTDATA_OUT=$out "$root/testdata/build.sh" > "$out.log" 2>&1 ||
  { cat "$out.log"; rm -f "$out.log"; exit 1; }
rm -f "$out.log"
if diff -r "$root/testdata/bin" "$out" > /dev/null; then
  echo "$(find "$out" -type f | wc -l) passed, 0 failed"
else
  diff -r "$root/testdata/bin" "$out" | head -20
  echo "0 passed, 1 failed: testdata/bin differs from a rebuild of testdata/src"
  exit 1
fi
