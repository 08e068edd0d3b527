#!/usr/bin/env bash
# pemap instances: three processes load testdata's counter DLL at once and run DllMain. The MEM_SHARED counter
# reads 1, 2, 3 across them, the .data counter 1 in each; the kernel (/proc/PID/smaps) shows .text pages shared,
# .data pages private and the Shared section's page shared. PE32 code is loaded but never run. Exit 0 when every
# instance ran DllMain, 1 when some did, 2 when none did; --allow-missing binds what is missing to traps.
# Usage: instances.sh PEMAP
set -u
pemap=$1
cd "$(dirname "$0")/../.." || exit 2
fail=0
tmp=$(mktemp)
for dll in testdata/bin/x64/shared.dll testdata/bin/x64/shared_gnu.dll; do
  "$pemap" instances "$dll" -n 3 --call shared_count --call private_count --json > "$tmp" ||
    { echo "FAIL: $dll: exit $?"; fail=$((fail + 1)); continue; }
  python3 - "$dll" "$tmp" <<'PY' || fail=$((fail + 1))
import json, sys
dll, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
inst = d["instances"]
ok = True
def check(cond, what):
    global ok
    if not cond:
        print(f"FAIL: {dll}: {what}")
        ok = False
check(len(inst) == 3 and all(i["ok"] and i["ran"] for i in inst), "three instances that ran")
check([i["calls"]["shared_count"] for i in inst] == [1, 2, 3], f"shared_count {[i['calls']['shared_count'] for i in inst]}")
check([i["calls"]["private_count"] for i in inst] == [1, 1, 1], f"private_count {[i['calls']['private_count'] for i in inst]}")
check(all(i["dll_main"] == 1 for i in inst), "DllMain returned TRUE")
check(len({i["pid"] for i in inst}) == 3, "three processes")
for i in inst:
    regions = {r["name"]: r for r in i["regions"]}
    text, data, shared = regions[".text"], regions[".data"], regions["Shared"]
    check(text["shared_kb"] > 0 and text["private_kb"] == 0, f"pid {i['pid']} .text shared, not private: {text}")
    check(data["private_kb"] > 0, f"pid {i['pid']} .data written: a private copy {data}")
    check(shared["shared"] and shared["shared_kb"] > 0 and shared["private_kb"] == 0,
          f"pid {i['pid']} Shared section page shared {shared}")
# Physical pages, where the kernel shows frame numbers (root): .text and Shared are the same frames in every
# instance, .data a frame of its own in each.
def frames(i, name):
    return next(r["frames"] for r in i["regions"] if r["name"] == name)
if any(any(frames(i, ".text")) for i in inst):
    for i in inst[1:]:
        check(frames(i, ".text") == frames(inst[0], ".text"), f"pid {i['pid']} .text frames as instance 1's")
        check(frames(i, "Shared") == frames(inst[0], "Shared"), f"pid {i['pid']} Shared frames as instance 1's")
    data = [tuple(frames(i, ".data")) for i in inst]
    check(len(set(data)) == 3 and all(all(d) for d in data), f".data frames all different {data}")
else:
    print(f"note: {dll}: page frames hidden by the kernel (not root): only smaps counts checked")
if ok:
    print(f"ok: {dll}: shared_count 1,2,3; private_count 1,1,1; .text shared, .data private, Shared shared")
sys.exit(0 if ok else 1)
PY
done
out=$("$pemap" instances testdata/bin/x86/shared.dll -n 2 2>&1 > /dev/null)
rc=$?
{ [ "$rc" -eq 2 ] && grep -q "PE32: its code needs the CPU in 32-bit mode" <<< "$out"; } ||
  { echo "FAIL: PE32: exit $rc (want 2: no instance ran), its reason on stderr"; echo "$out"; fail=$((fail + 1)); }
# libb.dll without liba.dll beside it: refused (exit 2) unless --allow-missing, which binds liba_add to a trap and
# says so in one line. DllMain runs; libb_twice calls liba_add, which stops the first instance: exit 1.
dir=$(mktemp -d)
cp testdata/bin/x64/libb.dll "$dir/"
"$pemap" instances "$dir/libb.dll" -n 2 > /dev/null 2> "$tmp.err"
rc=$?
{ [ "$rc" -eq 2 ] && grep -qF "liba.dll, imported by libb.dll, was not found" "$tmp.err"; } ||
  { echo "FAIL: libb.dll alone: exit $rc (want 2), the missing DLL named"; cat "$tmp.err"; fail=$((fail + 1)); }
"$pemap" instances "$dir/libb.dll" -n 2 --allow-missing --call libb_sub --json > "$tmp" 2> "$tmp.err"
rc=$?
{ [ "$rc" -eq 0 ] && grep -qF "1 import bound to traps (liba.dll 1)" "$tmp.err" &&
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert [i["ran"] for i in d["instances"]] == [True] * 2' \
    "$tmp"; } ||
  { echo "FAIL: libb.dll alone --allow-missing: exit $rc (want 0), two instances that ran"; cat "$tmp.err"; fail=$((fail + 1)); }
out=$("$pemap" instances "$dir/libb.dll" -n 2 --allow-missing --call libb_twice 2> "$tmp.err")
rc=$?
{ [ "$rc" -eq 1 ] && grep -qF "instance 1: libb_twice: the program called liba.dll!liba_add" "$tmp.err" &&
  grep -qF "1 of 2 instances of $dir/libb.dll" <<< "$out"; } ||
  { echo "FAIL: a call stopped in instance 1: exit $rc (want 1), named"; cat "$tmp.err"; fail=$((fail + 1)); }
rm -rf "$dir"
# A file no instance can load: exit 2, its reason on stderr, no empty tables on stdout.
head -c 300 testdata/bin/x64/shared.dll > "$tmp"
out=$("$pemap" instances "$tmp" -n 2 2> "$tmp.err")
rc=$?
{ [ "$rc" -eq 2 ] && [ -z "$out" ] && grep -q "STATUS_INVALID_IMAGE_FORMAT" "$tmp.err"; } ||
  { echo "FAIL: a truncated DLL: exit $rc, stdout '$out', stderr $(cat "$tmp.err")"; fail=$((fail + 1)); }
rm -f "$tmp" "$tmp.err"
"$pemap" instances testdata/bin/x64/shared.dll -n 0 > /dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: -n 0 is not exit 2"; fail=$((fail + 1)); }
[ "$fail" -eq 0 ] && echo "instances: all passed"
[ "$fail" -eq 0 ]
