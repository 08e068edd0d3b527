#!/usr/bin/env bash
# A real DLL cut short inside its import directory: every command that reports on the directory, and a dump through
# the image, says the file is cut short and exits 1; map and load refuse it as Windows does (STATUS_INVALID_IMAGE_FORMAT). The whole file is
# clean. pip's MSVC-built t64.exe, cut at 12 KiB, gets the same checks when it is on the machine.
set -uo pipefail
pemap=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0
run() { "$pemap" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; cat "$tmp/out" "$tmp/err" > "$tmp/all"; }
check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $what"; cat "$tmp/all"; fail=$((fail + 1)); fi
}
has() { grep -q -- "$1" "$tmp/all"; }
lacks() { ! grep -q -- "$1" "$tmp/all"; }
says_cut_short() {  # says_cut_short COMMAND FILE: exit 1 and a warning that the file is cut short
  run "$1" "$2"
  check "$2: $1 exit 1" [ "$rc" -eq 1 ]
  check "$2: $1 says the file is cut short" has "cut short"
}

# The file offset of the import directory, from pemap's own JSON.
import_offset() {
  "$pemap" headers --json "$1" > "$tmp/h.json" && "$pemap" sections --json "$1" > "$tmp/s.json" &&
    python3 - "$tmp/h.json" "$tmp/s.json" <<'EOF'
import json, sys
h, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
rva = h["data_directories"][1]["rva"]
for sec in s["sections"]:
    if sec["virtual_address"] <= rva < sec["virtual_address"] + sec["mapped_size"]:
        print(sec["raw_pointer"] + rva - sec["virtual_address"])
EOF
}

import_rva() { "$pemap" headers --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data_directories"][1]["rva"])'; }

sweep() {  # sweep FILE PREFIX-LENGTH
  local file=$1 len=$2 cut=$tmp/cut-$(basename "$1")
  head -c "$len" "$file" > "$cut"
  run imports "$file"
  check "$file: whole: imports exit 0" [ "$rc" -eq 0 ]
  says_cut_short imports "$cut"
  check "$cut: imports does not say 'no imports'" lacks "no imports"
  says_cut_short relocs "$cut"
  check "$cut: relocs prints no total of 0" lacks "total: 0 entries"
  for cmd in info all headers; do says_cut_short "$cmd" "$cut"; done
  # A dump through the image reads what the file no longer holds as zeros: it says so. A dump of file bytes that
  # are there is clean.
  run dump "$cut" --rva "$(( $(import_rva "$file") ))" --size 64
  check "$cut: dump --rva exit 1" [ "$rc" -eq 1 ]
  check "$cut: dump --rva says the file is cut short" has "cut short"
  run dump "$cut" --offset 0 --size 64
  check "$cut: dump --offset 0 exit 0" [ "$rc" -eq 0 ]
  run map "$cut"
  check "$cut: map refuses" [ "$rc" -ne 0 ]
  check "$cut: map names the status" has "STATUS_INVALID_IMAGE_FORMAT"
  check "$cut: map says the file is cut short" has "cut short"
  run load "$cut"
  check "$cut: load refuses" [ "$rc" -ne 0 ]
  check "$cut: load names the status" has "STATUS_INVALID_IMAGE_FORMAT"
}

dll=/usr/x86_64-w64-mingw32/lib/libwinpthread-1.dll
if [ -f "$dll" ]; then
  off=$(import_offset "$dll")
  if [ -n "$off" ]; then sweep "$dll" $((off + 8)); else echo "FAIL: no import directory offset for $dll"; fail=$((fail + 1)); fi
else
  echo "SKIP: $dll is absent (Debian package mingw-w64-x86-64-dev)"
fi
t64=$(find /root/.pyenv /usr/lib /usr/local/lib -name t64.exe -path '*distlib*' 2> /dev/null | head -1)
if [ -n "$t64" ]; then sweep "$t64" 12288; else echo "SKIP: pip's t64.exe is absent"; fi
echo "$pass passed, $fail failed"
[ $((pass + fail)) -eq 0 ] && { echo "SKIP: no file to cut"; exit 77; }
[ "$fail" -eq 0 ]
