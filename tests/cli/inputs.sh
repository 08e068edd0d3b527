#!/usr/bin/env bash
# What the file commands take: directories (non-PE files met in the walk are counted in one line on stderr and do
# not change the exit status; a file named on the command line that is not a PE still exits 2) and streams ("-" and
# `<(cmd)`, read into an anonymous file, named as given, leaving nothing behind).
set -uo pipefail
pemap=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 1
fail=0 pass=0
check() {  # check DESCRIPTION CONDITION: the condition is shell text; its failure shows stdout and stderr
  if eval "$2"; then pass=$((pass + 1)); else
    echo "FAIL: $1"; sed 's/^/  out| /' "$tmp/out" | head -5; sed 's/^/  err| /' "$tmp/err" | head -5
    fail=$((fail + 1))
  fi
}
run() { "$pemap" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; }
x86=testdata/bin/x86
x64=testdata/bin/x64

# A directory of PEs and other files: two PEs printed, two other files counted in one line.
mkdir -p "$tmp/mixed/sub"
cp $x86/liba.dll "$tmp/mixed/" && cp $x64/liba.dll "$tmp/mixed/sub/"
echo "notes" > "$tmp/mixed/README.txt" && : > "$tmp/mixed/sub/empty"
run info "$tmp/mixed"
check "mixed directory: exit 0" '[ "$rc" -eq 0 ]'
check "mixed directory: both PEs printed" '[ "$(grep -c "^== " "$tmp/out")" -eq 2 ]'
check "mixed directory: one summary line on stderr" '[ "$(cat "$tmp/err")" = "pemap: skipped 2 files that are not PE images (--verbose lists them)" ]'
run info --verbose "$tmp/mixed"
check "--verbose lists the skipped files" 'grep -qxF "  $tmp/mixed/README.txt" "$tmp/err"'
check "--verbose lists the skipped files (2)" 'grep -qxF "  $tmp/mixed/sub/empty" "$tmp/err"'
run headers --json "$tmp/mixed"
docs=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), sum("error" in x for x in d))' "$tmp/out")
check "mixed directory, JSON: two documents, no error entries" '[ "$docs" = "2 0" ]'
for cmd in "verify" "map" "diff-views" "relocs --check --base 0x20000000" "dump --offset 0 --size 16"; do
  run $cmd "$tmp/mixed"
  check "$cmd of a mixed directory: exit 0, one summary line" '[ "$rc" -eq 0 ] && [ "$(grep -c . "$tmp/err")" -eq 1 ] && grep -q "^pemap: skipped 2 files" "$tmp/err"'
done
# A file named on the command line that is not a PE is still unusable input.
run info "$tmp/mixed" "$tmp/mixed/README.txt"
check "a named non-PE beside a directory: exit 2, named" '[ "$rc" -eq 2 ] && grep -q "README.txt: DOS header" "$tmp/err"'
# A broken PE in a directory is not skipped: it is a PE that cannot be used.
printf 'MZ' > "$tmp/mixed/broken.exe"
run info "$tmp/mixed"
check "a broken PE in a directory: exit 2, reported" '[ "$rc" -eq 2 ] && grep -q "broken.exe: DOS header" "$tmp/err"'
rm "$tmp/mixed/broken.exe"
# A directory with files but no PE image is unusable input.
mkdir "$tmp/text" && echo a > "$tmp/text/a.txt"
run sections "$tmp/text"
check "a directory of no PE: exit 2, named" '[ "$rc" -eq 2 ] && grep -qF "$tmp/text: no PE image among the 1 file under it" "$tmp/err"'

# Streams: "-" is standard input, <(cmd) a pipe; both give what the file gives, named as given.
"$pemap" all $x86/liba.dll > "$tmp/want" 2>&1
run all - < $x86/liba.dll
check "all -: the file's output" 'cmp -s "$tmp/want" "$tmp/out"'
run all <(cat $x86/liba.dll)
check "all <(cat FILE): the file's output" 'cmp -s "$tmp/want" "$tmp/out"'
run info --json - < $x64/app.exe
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["file"])' "$tmp/out")
check "info --json -: named \"-\"" '[ "$name" = - ]'
run info $x86/app.exe - < $x64/app.exe
check "a file and -: both, headed by their names" 'grep -qx "== -" "$tmp/out"'
for cmd in "verify" "map" "diff-views" "relocs --check --base 0x20000000" "dump --rva 0x1000 --size 16"; do
  run $cmd - < $x64/liba.dll
  check "$cmd -: exit 0, no /proc path shown" '[ "$rc" -eq 0 ] && ! grep -q /proc/ "$tmp/out" "$tmp/err"'
done
run info - < /dev/null
check "an empty stream: exit 2" '[ "$rc" -eq 2 ] && grep -q "^pemap: -: file: the file is empty" "$tmp/err"'
run info <(echo "not a PE")
check "a pipe that is not a PE: exit 2, named by its path" '[ "$rc" -eq 2 ] && grep -q "^pemap: /dev/fd/[0-9]*: DOS header" "$tmp/err"'

echo "inputs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

