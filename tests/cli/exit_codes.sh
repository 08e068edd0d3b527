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
kernel = {r["section"]: r["protect"] for r in d["regions"]}
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
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
