#!/usr/bin/env bash
# pemap load's exit codes and messages: 0 loaded, 1 the load failed (the reason, with the status Windows would give,
# on stderr), 2 bad arguments or a file that is not a PE image. Each failure must name what failed: the file, the missing DLL and its importer, the
# function, the address limit.
set -uo pipefail
pemap=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 1
fail=0 pass=0
x86=testdata/bin/x86
expect() {  # expect CODE DESCRIPTION -- ARGS...: the exit code, then stderr must hold each of $want_text
  local want=$1 what=$2; shift 3
  "$pemap" load "$@" > "$tmp/out" 2> "$tmp/err"
  local got=$? ok=1
  [ "$got" -eq "$want" ] || ok=0
  for text in "${want_text[@]}"; do grep -qF -- "$text" "$tmp/err" || ok=0; done
  if [ "$ok" -eq 1 ]; then pass=$((pass + 1)); else
    echo "FAIL: $what: exit $got (want $want), stderr must contain: ${want_text[*]}"
    sed 's/^/  | /' "$tmp/err"
    fail=$((fail + 1))
  fi
  want_text=()
}
want_text=()

# Bad arguments: 2, before anything is loaded.
want_text=("--base liba.dll: expected MODULE=ADDRESS")
expect 2 "--base without =" -- $x86/app.exe --base liba.dll
want_text=("--base liba.dll=zz: expected MODULE=ADDRESS")
expect 2 "--base with a non-number" -- $x86/app.exe --base liba.dll=zz
want_text=("--base =0x10000000: expected MODULE=ADDRESS")
expect 2 "--base without a module" -- $x86/app.exe --base =0x10000000
want_text=("--base liba.dll=0x1000zz: expected MODULE=ADDRESS")
expect 2 "--base with trailing junk" -- $x86/app.exe --base liba.dll=0x1000zz
want_text=("--dump-image liba.dll: expected MODULE=FILE")
expect 2 "--dump-image without =" -- $x86/app.exe --dump-image liba.dll
expect 2 "--bottom-up with a non-number" -- $x86/app.exe --bottom-up zz
expect 2 "no file" --
expect 2 "unknown option" -- $x86/app.exe --no-such-option
# The file named must be an image the memory manager maps, as for `pemap map`: else it is input that cannot be used.
want_text=("must be powers of two (ERROR_BAD_EXE_FORMAT)")
expect 2 "an image Windows refuses to map" -- testdata/regress/export-table-past-eof.bin
want_text=("--dump-image nosuch.dll: no such module is loaded")
expect 2 "--dump-image of a module not loaded" -- $x86/liba.dll --no-imports --dump-image nosuch.dll="$tmp/x.bin"

# A --base for a module the load never loads: found after the load, since only the load knows the graph.
want_text=("--base nosuch.dll=0x20000000: no module of that name was loaded")
expect 2 "--base of a module not loaded" -- $x86/liba.dll --no-imports --base nosuch.dll=0x20000000
want_text=("--base kernel32.dll=0x20000000: no module of that name was loaded")
expect 2 "--base of an import not loaded (--no-imports)" -- $x86/app.exe --no-imports --base kernel32.dll=0x20000000
want_text=()
expect 0 "--base of an import that loads" -- $x86/app.exe --system-dir $x86/system --base KERNEL32.DLL=0x20000000
grep -q "kernel32.dll .*0x20000000  forced" "$tmp/out" || { echo "FAIL: kernel32.dll not forced"; cat "$tmp/out"; fail=$((fail + 1)); }

# The file itself: missing, empty or not a PE is unusable input (2), as for every command; nothing on stdout.
want_text=("$tmp/none.exe" "STATUS_OBJECT_NAME_NOT_FOUND")
expect 2 "missing .exe" -- "$tmp/none.exe"
want_text=("$tmp/none.dll" "STATUS_OBJECT_NAME_NOT_FOUND")
expect 2 "missing .dll" -- "$tmp/none.dll"
: > "$tmp/empty.dll"
want_text=("$tmp/empty.dll" "the file is empty")
expect 2 "empty .dll" -- "$tmp/empty.dll"
printf 'not a PE file at all\n' > "$tmp/text.exe"
want_text=("$tmp/text.exe" "STATUS_INVALID_IMAGE_NOT_MZ")
expect 2 "non-PE .exe" -- "$tmp/text.exe"
[ -s "$tmp/out" ] && { echo "FAIL: non-PE .exe: stdout is not empty"; cat "$tmp/out"; fail=$((fail + 1)); }
want_text=("testdata/README.md" "STATUS_INVALID_IMAGE_NOT_MZ")
expect 2 "non-PE, not named .exe" -- testdata/README.md

# Imports that cannot be resolved: the missing DLL with its importer, the missing function.
want_text=("KERNEL32.dll, imported by app.exe, was not found" "ERROR_MOD_NOT_FOUND" "STATUS_DLL_NOT_FOUND")
want_text=("KERNEL32.dll, imported by app.exe, was not found" "there is no PE32 system directory" "--system-dir")
PEMAP_SYSTEM32='' PEMAP_SYSWOW64='' expect 1 "missing DLL (no system directory)" -- $x86/app.exe
mkdir "$tmp/alone" && cp $x86/libb.dll "$tmp/alone/"
want_text=("liba.dll, imported by libb.dll, was not found" "ERROR_MOD_NOT_FOUND")
expect 1 "missing DLL of a DLL" -- "$tmp/alone/libb.dll"
# Windows 8 on maps every DLL of the graph before it fills a slot: nosuch.dll is reported first.
want_text=("nosuch.dll, imported by missing.exe, was not found" "STATUS_DLL_NOT_FOUND" "ERROR_MOD_NOT_FOUND")
expect 1 "missing DLL before missing function" -- $x86/missing.exe --system-dir $x86/system
# With a nosuch.dll on the path (liba.dll under that name), the missing functions are what fails.
mkdir "$tmp/nosuch86" "$tmp/nosuch64"
cp $x86/liba.dll "$tmp/nosuch86/nosuch.dll"
cp testdata/bin/x64/liba.dll "$tmp/nosuch64/nosuch.dll"
want_text=("liba.dll!liba_no_such_function is not exported" "STATUS_ENTRYPOINT_NOT_FOUND" "missing.exe")
expect 1 "missing function" -- $x86/missing.exe --system-dir $x86/system --path "$tmp/nosuch86"
want_text=("liba.dll!liba_no_such_function is not exported" "STATUS_ENTRYPOINT_NOT_FOUND")
expect 1 "missing function (x64)" -- testdata/bin/x64/missing.exe --system-dir testdata/bin/x64/system --path "$tmp/nosuch64"
want_text=()
expect 0 "missing DLL and function with --allow-missing" -- $x86/missing.exe --system-dir $x86/system --allow-missing
grep -q "nosuch.dll!nosuch_function .*STATUS_DLL_NOT_FOUND" "$tmp/out" &&
  grep -q "liba.dll!liba_no_such_function .*STATUS_ENTRYPOINT_NOT_FOUND" "$tmp/out" ||
  { echo "FAIL: --allow-missing does not list both traps"; cat "$tmp/out"; fail=$((fail + 1)); }

# Placement: a PE32 image must end below 2 GiB, or 4 GiB when LARGE_ADDRESS_AWARE; a base must be 64 KiB aligned.
want_text=("forced base 0x100000000: a PE32 image of 0x8000 bytes must end below 0x80000000"
  "STATUS_CONFLICTING_ADDRESSES")
expect 1 "PE32 forced above 4 GiB" -- $x86/liba.dll --no-imports --base liba.dll=0x100000000
want_text=("must end below 0x80000000")
expect 1 "PE32 (not large-address-aware) forced at 2 GiB" -- $x86/liba.dll --no-imports --base liba.dll=0x80000000
want_text=("is not a multiple of 64 KiB")
expect 1 "forced base not 64 KiB aligned" -- $x86/liba.dll --no-imports --base liba.dll=0x10001000
want_text=("forced base 0: the first 64 KiB of the address space are never mapped")
expect 1 "forced base 0 (not 'anywhere')" -- $x86/liba.dll --no-imports --base liba=0
# The same image marked IMAGE_FILE_LARGE_ADDRESS_AWARE (0x20): the limit is 4 GiB.
mkdir "$tmp/laa" && cp $x86/liba.dll "$tmp/laa/liba.dll"
lfanew=$(od -An -tu4 -j60 -N4 $x86/liba.dll | tr -d ' ')
chars=$(od -An -tu2 -j$((lfanew + 22)) -N2 $x86/liba.dll | tr -d ' ')
# shellcheck disable=SC2059  # the format is the two bytes, spelled as escapes
printf "$(printf '\\x%02x\\x%02x' $(((chars | 0x20) & 0xff)) $(((chars | 0x20) >> 8)))" |
  dd of="$tmp/laa/liba.dll" bs=1 seek=$((lfanew + 22)) conv=notrunc status=none
want_text=("forced base 0x100000000: a PE32 image of 0x8000 bytes must end below 0x100000000")
expect 1 "large-address-aware PE32 forced at 4 GiB" -- "$tmp/laa/liba.dll" --no-imports --base liba.dll=0x100000000
expect 0 "large-address-aware PE32 forced at 3 GiB" -- "$tmp/laa/liba.dll" --no-imports --base liba.dll=0xc0000000
grep -q "0xc0000000  forced" "$tmp/out" || { echo "FAIL: not placed at 0xc0000000"; cat "$tmp/out"; fail=$((fail + 1)); }
want_text=("relocations are stripped" "STATUS_CONFLICTING_ADDRESSES")
expect 1 "stripped image whose base is taken" -- $x86/fixed.dll --preload $x86/liba.dll

# JSON: valid when the load succeeds and when it fails, with the facts the MANIFEST states.
expect 0 "JSON of a loaded graph" -- $x86/app.exe --system-dir $x86/system --json
python3 - "$tmp/out" <<'PY' || { echo "FAIL: pemap load --json of app.exe"; fail=$((fail + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["loaded"] and not d["unresolved"], d["unresolved"]
m = {x["name"]: x for x in d["modules"]}
assert list(m) == ["app.exe", "kernel32.dll", "liba.dll", "libb.dll"], list(m)
assert m["liba.dll"]["base"] == m["liba.dll"]["preferred_base"] == 0x10000000
b = m["libb.dll"]
assert b["preferred_base"] == 0x10000000 and b["base"] != 0x10000000 and b["relocated"], b
assert b["fixups"] == {"HIGHLOW": 20}, b["fixups"]
assert m["liba.dll"]["references"] == 2  # app.exe and libb.dll
for mod in d["modules"]:
    for x in mod["bindings"]:
        assert x["target"] and x["how"] in ("hint", "binary search"), x
        owner = m[x["target"].split("!")[0]]
        assert owner["base"] <= x["address"] < owner["base"] + owner["size"], x
assert d["initialization_order"] == ["kernel32.dll", "liba.dll", "libb.dll", "app.exe"], d["initialization_order"]
assert d["entry_point"] == 0x401000
assert d["events"][-1]["step"] == "loaded" and d["events"][-1]["module"] == "app.exe"
PY
want_text=("STATUS_ENTRYPOINT_NOT_FOUND")
expect 1 "JSON of a failed load" -- $x86/missing.exe --system-dir $x86/system --path "$tmp/nosuch86" --json
python3 - "$tmp/out" <<'PY' || { echo "FAIL: pemap load --json of missing.exe"; fail=$((fail + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
assert not d["loaded"] and d["error"]["status"] == "STATUS_ENTRYPOINT_NOT_FOUND", d.get("error")
assert d["modules"] == [] and "entry_point" not in d, d["modules"]
assert d["events"][-1]["step"] == "failed", d["events"][-1]
PY
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
