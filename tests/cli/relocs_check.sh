#!/usr/bin/env bash
# pemap relocs --check at many bases (above 4 GiB for PE32+, and the preferred base) on every testdata image with
# relocations, and on every corkami image with relocations: each either checks out byte for byte or is refused
# cleanly (exit 2 with a status), never anything else. Without the corpus, testdata is checked and the test
# skips (77) unless a check failed.
# Usage: relocs_check.sh PEMAP [CORKAMI_DIR]
set -uo pipefail
pemap=$1
corpus=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
check() {  # check FILE BASE WANT_EXIT [TEXT]
  out=$("$pemap" relocs --check "$1" --base "$2" 2>&1)
  rc=$?
  if [ "$rc" -eq "$3" ] && { [ -z "${4:-}" ] || grep -q -- "$4" <<< "$out"; }; then pass=$((pass + 1)); else
    echo "FAIL: $1 at $2: exit $rc (want $3${4:+, text '$4'})"; echo "$out" | tail -3; fail=$((fail + 1)); fi
}
ok="every difference is a listed fixup, by exactly its delta"
# The preferred base too: the unrelocated reference view must not take the range asked for (delta 0, nothing moves).
while IFS=$'\t' read -r file arch _kind base relocs _notes; do
  [ "$relocs" = yes ] || continue
  if [ "$arch" = x64 ]; then bases="0x10000 0x20000000 0x1230000000 0x7ff000000000"; else bases="0x10000 0x20000000 0x7fff0000"; fi
  bases="$bases $base"
  for b in $bases; do check "$root/testdata/bin/$file" "$b" 0 "$ok"; done
done < <(tail -n +2 "$root/testdata/MANIFEST.tsv")
check "$root/testdata/bin/x86/fixed.dll" 0x20000000 2 "STATUS_CONFLICTING_ADDRESSES"
check "$root/testdata/bin/x86/liba.dll" 0x123400000000 2 "must lie below 4 GiB"
check "$root/testdata/bin/x86/liba.dll" 0x20001000 2 "ERROR_MAPPED_ALIGNMENT"
have_corpus=0
if [ -n "$corpus" ] && [ -f "$corpus/MANIFEST.tsv" ]; then  # the corpus, not just a directory of that name
  have_corpus=1
  while IFS=$'\t' read -r file _size _machine _format _dll reloc _notes; do
    [ "$reloc" = yes ] || continue
    out=$("$pemap" relocs --check "$corpus/$file" --base 0x30000000 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q -- "$ok" <<< "$out"; then pass=$((pass + 1))
    elif [ "$rc" -eq 2 ] && grep -qE "STATUS_|ERROR_" <<< "$out"; then pass=$((pass + 1))
    else echo "FAIL: corkami $file: exit $rc"; echo "$out" | tail -3; fail=$((fail + 1)); fi
  done < <(tail -n +2 "$corpus/MANIFEST.tsv")
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || exit 1
if [ "$have_corpus" -eq 0 ]; then
  echo "SKIP: corkami corpus (its MANIFEST.tsv) not found at '$corpus' (testdata alone passed)"
  exit 77
fi
