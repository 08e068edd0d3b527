#!/usr/bin/env bash
# Exit codes: 0 clean, 1 findings (warnings or verify disagreements), 2 unusable input; one bad file
# among several is reported on stderr and the others are still printed.
set -uo pipefail
pemap=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0
expect() {  # expect CODE DESCRIPTION -- ARGS...
  local want=$1 what=$2; shift 3
  "$pemap" "$@" > "$tmp/out" 2> "$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then pass=$((pass + 1)); else
    echo "FAIL: $what: exit $got, expected $want"; cat "$tmp/err"; fail=$((fail + 1)); fi
}
good=$root/testdata/bin/x86/liba.dll
: > "$tmp/empty.exe"
printf 'MZ' > "$tmp/mz-only.exe"
head -c 300 "$good" > "$tmp/truncated.dll"
# A copy of liba.dll whose export directory points outside the image: a finding, not a failure.
cp "$good" "$tmp/odd.dll"
lfanew=$(od -An -tu4 -j60 -N4 "$good" | tr -d ' ')
printf '\xff\xff\xff\x7f' | dd of="$tmp/odd.dll" bs=1 seek=$((lfanew + 24 + 96)) conv=notrunc status=none

expect 0 "clean file" -- info "$good"
expect 2 "empty file" -- info "$tmp/empty.exe"
expect 2 "MZ only" -- headers "$tmp/mz-only.exe"
expect 2 "truncated headers" -- sections "$tmp/truncated.dll"
expect 2 "missing file" -- info "$tmp/none.exe"
expect 1 "directory outside the image" -- info "$tmp/odd.dll"
expect 2 "good and bad together" -- info "$good" "$tmp/empty.exe"
grep -q "Image base" "$tmp/out" || { echo "FAIL: the good file was not printed beside the bad one"; fail=$((fail + 1)); }
grep -q "empty.exe: file: the file is empty (STATUS_INVALID_FILE_FOR_SECTION)" "$tmp/err" ||
  { echo "FAIL: stderr lacks the error for the empty file"; cat "$tmp/err"; fail=$((fail + 1)); }
expect 2 "JSON with a bad file" -- info --json "$good" "$tmp/empty.exe"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==2 and "error" in d[1], d' "$tmp/out" ||
  { echo "FAIL: JSON output for two files"; fail=$((fail + 1)); }
# A section name that is not UTF-8 still gives valid JSON, with the bytes spelled \xNN.
cp "$good" "$tmp/names.dll"
printf '\xff\xfe\x80ab\x00\x00\x00' | dd of="$tmp/names.dll" bs=1 seek=$((lfanew + 24 + 224)) conv=notrunc status=none
expect 0 "non-UTF-8 section name" -- sections --json "$tmp/names.dll"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=d["sections"][0]["name"]; assert n=="\\xff\\xfe\\x80ab", n' "$tmp/out" ||
  { echo "FAIL: non-UTF-8 name in JSON"; head -c 400 "$tmp/out"; fail=$((fail + 1)); }
# map: an image view at the preferred base with the sections' protections as the kernel has them.
expect 0 "map as an image" -- map --json "$root/testdata/bin/x86/shared.dll"
python3 - "$tmp/out" <<'PY' || { echo "FAIL: pemap map --json"; fail=$((fail + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "image" and d["base"] == 0x63000000 and d["at_preferred_base"], d
kernel = {s: r["protect"] for r in d["regions"] for s in r["sections"]}
assert kernel[".text"] == "R-X" and kernel[".data"] == "RC-" and kernel["Shared"] == "RW-", kernel
assert all(r["type"] == "image" for r in d["regions"]), d["regions"]
PY
expect 0 "map as data" -- map --raw --json "$root/testdata/bin/x86/shared.dll"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kind"]=="data" and d["regions"][0]["type"]=="mapped" and d["regions"][0]["protect"]=="R--", d' "$tmp/out" ||
  { echo "FAIL: pemap map --raw --json"; fail=$((fail + 1)); }
expect 2 "map of a broken image" -- map "$tmp/truncated.dll"
expect 0 "directory argument" -- sections "$root/testdata/bin/x64/msvc"
expect 2 "dump without a range" -- dump "$good"
expect 2 "dump of a missing section" -- dump "$good" --section .nosuch
expect 2 "unknown subcommand" -- frobnicate "$good"
grep -qF "unknown command 'frobnicate'; the commands are: info, headers," "$tmp/err" ||
  { echo "FAIL: an unknown command is not named, or the commands are not listed"; cat "$tmp/err"; fail=$((fail + 1)); }

# Numbers: one reader for every numeric option; a sign, a suffix or more than 64 bits is refused (2) and named.
numbers=(
  "relocs --check $good --base 99999999999999999999999|pemap relocs: --base: '99999999999999999999999' is above 2^64-1"
  "relocs --check $good --base -0x10000|--base: '-0x10000' is not a number"
  "load $good --no-imports --aslr -5|--aslr: '-5' is not a number"
  "load $good --no-imports --bottom-up 0x10000zz|--bottom-up: '0x10000zz' is not a number"
  "load $good --no-imports --base liba.dll=99999999999999999999999|'99999999999999999999999' is above 2^64-1"
  "load $good --no-imports --base liba.dll=-1|'-1' is not a number"
  "map $good --base 0x|--base: '0x' is not a number"
  "map $good --raw --offset 1e3|--offset: '1e3' is not a number"
  "map $good --raw --size ' 16'|--size: ' 16' is not a number"
  "dump $good --offset 16k --size 4|--offset: '16k' is not a number"
  "dump $good --rva 0x1000 --size +4|--size: '+4' is not a number"
  "dump $good --section .text --size 18446744073709551616|--size: '18446744073709551616' is above 2^64-1"
  "verify --corpus $tmp --timeout 4294967296|--timeout: '4294967296' is above 4294967295"
  "verify --corpus $tmp -j -1|--jobs: '-1' is not a number"
  "instances $good -n 2x|-n: '2x' is not a number"
)
for row in "${numbers[@]}"; do
  eval "args=(${row%%|*})"
  expect 2 "${row%%|*}" -- "${args[@]}"
  grep -qF -- "${row#*|}" "$tmp/err" || { echo "FAIL: ${row%%|*}: stderr lacks: ${row#*|}"; cat "$tmp/err"; fail=$((fail + 1)); }
done

# The table: every command through a clean file, a file with findings (where the command has findings), and four
# unusable inputs. Clean is 0, findings 1, unusable 2; stdout never carries a diagnostic (no "pemap:", "warning",
# STATUS_ or ERROR_ text), unusable input prints nothing on stdout, and what is not clean is explained on stderr.
x86=$root/testdata/bin/x86
# Findings: exports, imports, relocations and TLS read from .rdata, the exception directory outside the image.
cp "$good" "$tmp/findings.dll"
for idx in 0 1 5 9; do
  printf '\x00\x30\x00\x00\x40\x00\x00\x00' | dd of="$tmp/findings.dll" bs=1 seek=$((lfanew + 120 + idx * 8)) conv=notrunc status=none
done
printf '\xff\xff\xff\x7f\x40\x00\x00\x00' | dd of="$tmp/findings.dll" bs=1 seek=$((lfanew + 120 + 24)) conv=notrunc status=none
echo "not a PE file" > "$tmp/text.exe"
mkdir -p "$tmp/nofiles/sub"
table=(  # ARGS (FILE is the input) | the file with findings, or - | its status
  "info FILE|$tmp/findings.dll|1"
  "headers FILE|$tmp/findings.dll|1"
  "sections FILE|$tmp/findings.dll|1"
  "imports FILE|$tmp/findings.dll|1"
  "exports FILE|$tmp/findings.dll|1"
  "relocs FILE|$tmp/findings.dll|1"
  "tls FILE|$tmp/findings.dll|1"
  "all FILE|$tmp/findings.dll|1"
  "dump FILE --offset 0 --size 64|-|-"
  "verify FILE|-|-"
  "map FILE|-|-"
  "diff-views FILE|-|-"
  "relocs --check FILE --base 0x20000000|-|-"
  "load FILE --system-dir $x86/system|$x86/missing.exe|1"
)
clean_stdout() {  # clean_stdout WHAT: stdout holds no diagnostic
  if grep -qE '^pemap|warning|STATUS_|ERROR_' "$tmp/out"; then
    echo "FAIL: $1: a diagnostic on stdout:"; grep -E '^pemap|warning|STATUS_|ERROR_' "$tmp/out" | head -3
    fail=$((fail + 1))
  fi
}
for row in "${table[@]}"; do
  IFS='|' read -r pattern findings status <<< "$row"
  run_with() { local args=(${pattern//FILE/$1}); expect "$2" "$pattern on $3" -- "${args[@]}"; clean_stdout "$pattern on $3"; }
  run_with "$good" 0 "a clean file"
  if [ "$findings" != - ]; then
    run_with "$findings" "$status" "a file with findings"
    [ -s "$tmp/err" ] || { echo "FAIL: $pattern: findings not explained on stderr"; fail=$((fail + 1)); }
  fi
  for bad in "$tmp/none.exe" "$tmp/empty.exe" "$tmp/text.exe" "$tmp/nofiles"; do
    run_with "$bad" 2 "$bad"
    [ -s "$tmp/out" ] && { echo "FAIL: $pattern on $bad: stdout is not empty"; head -3 "$tmp/out"; fail=$((fail + 1)); }
    [ -s "$tmp/err" ] || { echo "FAIL: $pattern on $bad: nothing on stderr"; fail=$((fail + 1)); }
  done
  # load takes one file, so a directory is a file it cannot use; the others walk it and find nothing.
  [[ $pattern == load* ]] || grep -qF "$tmp/nofiles: no files" "$tmp/err" ||
    { echo "FAIL: $pattern: an empty directory is not named"; cat "$tmp/err"; fail=$((fail + 1)); }
done
expect 2 "verify --corpus of a directory with no files" -- verify --corpus "$tmp/nofiles"
grep -qF "$tmp/nofiles: no files" "$tmp/err" || { echo "FAIL: verify --corpus: the empty directory is not named"; cat "$tmp/err"; fail=$((fail + 1)); }
# With --json the warnings are in the document and on stderr too; stdout is the document alone.
expect 1 "JSON with warnings" -- info --json "$tmp/findings.dll"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["warnings"], d' "$tmp/out" ||
  { echo "FAIL: --json: the warnings are not in the document"; fail=$((fail + 1)); }
grep -q "findings.dll: warning: " "$tmp/err" || { echo "FAIL: --json: the warnings are not on stderr"; fail=$((fail + 1)); }
# resources --extract from a file cut short inside the resource: the bytes the file has, zeros for the rest, a
# warning, exit 1. .rsrc's raw data starts at 0x800 and RT_VERSION's 580 bytes at 0x1d8 into it.
versioned=$root/testdata/bin/x64/versioned.exe
head -c $((0x800 + 0x1d8 + 100)) "$versioned" > "$tmp/cut-version.exe"
expect 1 "extract from a file cut short" -- resources "$tmp/cut-version.exe" --extract RT_VERSION/1 -o "$tmp/v.bin"
grep -q "cut short" "$tmp/err" || { echo "FAIL: extract: no cut-short warning"; cat "$tmp/err"; fail=$((fail + 1)); }
[ "$(stat -c %s "$tmp/v.bin" 2> /dev/null)" = 580 ] || { echo "FAIL: extract: not 580 bytes written"; fail=$((fail + 1)); }
# An entry that claims 256 MiB, nearly all of it zero fill (SizeOfImage raised to hold it), is written a piece at
# a time: peak memory stays far below its size. An entry past SizeOfImage is refused.
python3 - "$versioned" "$tmp/huge.exe" "$tmp/past.exe" << 'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
entry = data.find(struct.pack("<II", 0x3150, 39))  # NOTES/README's IMAGE_RESOURCE_DATA_ENTRY
opt = struct.unpack_from("<I", data, 60)[0] + 24
struct.pack_into("<I", data, entry + 4, 0x10000000)
open(sys.argv[3], "wb").write(data)
struct.pack_into("<I", data, opt + 56, 0x10004000)  # SizeOfImage
open(sys.argv[2], "wb").write(data)
PY
/usr/bin/time -f %M -o "$tmp/rss" "$pemap" resources "$tmp/huge.exe" --extract NOTES/README -o - > "$tmp/huge.bin" 2> "$tmp/err"
[ "$(stat -c %s "$tmp/huge.bin")" = $((0x10000000)) ] || { echo "FAIL: extract: 256 MiB not written"; cat "$tmp/err"; fail=$((fail + 1)); }
[ "$(cat "$tmp/rss")" -lt 65536 ] || { echo "FAIL: extract of 256 MiB peaked at $(cat "$tmp/rss") KiB"; fail=$((fail + 1)); }
rm -f "$tmp/huge.bin"
expect 2 "extract of an entry past SizeOfImage" -- resources "$tmp/past.exe" --extract NOTES/README -o "$tmp/p.bin"
grep -q "SizeOfImage" "$tmp/err" || { echo "FAIL: extract past SizeOfImage: not said"; cat "$tmp/err"; fail=$((fail + 1)); }
[ -e "$tmp/p.bin" ] && { echo "FAIL: extract past SizeOfImage left a file"; fail=$((fail + 1)); }
# Pictures: map draws one view; a page that cannot be written is exit 2 and leaves nothing.
expect 2 "map --svg of two files" -- map "$good" "$good" --svg "$tmp/two.svg"
[ -e "$tmp/two.svg" ] && { echo "FAIL: map --svg of two files wrote a picture"; fail=$((fail + 1)); }
expect 2 "load --html into a directory that does not exist" -- load "$good" --html "$tmp/none/page.html"
grep -q "cannot write" "$tmp/err" || { echo "FAIL: load --html: the write failure is not said"; cat "$tmp/err"; fail=$((fail + 1)); }
expect 2 "relocs --svg without --check" -- relocs "$good" --svg "$tmp/r.svg"
expect 2 "relocs --check --as efi --svg" -- relocs --check "$good" --base 0x20000000 --as efi --svg "$tmp/r.svg"
[ -e "$tmp/r.svg" ] && { echo "FAIL: relocs --svg refused but wrote a picture"; fail=$((fail + 1)); }
expect 2 "instances --html of a DLL no instance can load" -- instances "$tmp/truncated.dll" --html "$tmp/i.html"
[ -e "$tmp/i.html" ] && { echo "FAIL: instances --html drew instances none of which started"; fail=$((fail + 1)); }
expect 0 "map --svg of one file" -- map "$good" --svg "$tmp/one.svg"
grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$tmp/one.svg" || { echo "FAIL: map --svg wrote no SVG"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
