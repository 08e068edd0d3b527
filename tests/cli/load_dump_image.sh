#!/usr/bin/env bash
# The relocation harness for pemap load: each image is loaded alone (--no-imports) at its preferred base and at other
# bases, and the images as loaded (--dump-image) are compared byte for byte. Both are exactly SizeOfImage bytes; at
# the preferred base the image is the file laid out as its section table says; elsewhere every byte that differs lies
# inside a fixup that `pemap relocs --json` lists (or the header's ImageBase field), every HIGHLOW fixup holds the
# preferred-base value + delta mod 2^32 and every DIR64 one + delta mod 2^64, and ImageBase holds the new base.
set -uo pipefail
pemap=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 1
fail=0 pass=0
# image | module name | other bases (below and above the preferred one; far from where Linux maps libraries)
cases=(
  "testdata/bin/x86/libb.dll|libb.dll|0x1000000 0x50000000"
  "testdata/bin/x64/libb.dll|libb.dll|0x10000000 0x123400000000"
  "testdata/bin/x64/bigreloc.dll|bigreloc.dll|0x30000000 0x123400000000"
)
for c in "${cases[@]}"; do
  IFS='|' read -r file name bases <<< "$c"
  "$pemap" headers --json "$file" > "$tmp/headers.json" &&
    "$pemap" sections --json "$file" > "$tmp/sections.json" &&
    "$pemap" relocs --json "$file" > "$tmp/relocs.json" || {
    echo "FAIL: $file: pemap headers/sections/relocs failed"; fail=$((fail + 1)); continue; }
  if ! "$pemap" load "$file" --no-imports --json --dump-image "$name=$tmp/a.bin" > "$tmp/a.json"; then
    echo "FAIL: $file: load at the preferred base failed"; fail=$((fail + 1)); continue
  fi
  for base in $bases; do
    rm -f "$tmp/b.bin"
    if ! "$pemap" load "$file" --no-imports --json --base "$name=$base" --dump-image "$name=$tmp/b.bin" \
      > "$tmp/b.json"; then
      echo "FAIL: $file: load at $base failed"; fail=$((fail + 1)); continue
    fi
    if python3 - "$file" "$tmp" "$base" <<'PY'; then pass=$((pass + 1)); else echo "FAIL: $file at $base"; fail=$((fail + 1)); fi
import json, sys
file, tmp, base = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
load = lambda n: json.load(open(f"{tmp}/{n}"))
headers, sections, relocs = load("headers.json"), load("sections.json"), load("relocs.json")
ja, jb = load("a.json"), load("b.json")
a, b = open(f"{tmp}/a.bin", "rb").read(), open(f"{tmp}/b.bin", "rb").read()
raw = open(file, "rb").read()
opt = headers["optional_header"]
size, preferred, pe32plus = opt["SizeOfImage"], opt["ImageBase"], opt["format"] == "PE32+"
errors = []
def check(cond, msg):
    if not cond and len(errors) < 20:
        errors.append(msg)

# Where each load put the image.
ma, mb = ja["modules"][0], jb["modules"][0]
check(ja["loaded"] and ma["base"] == preferred and ma["placed"] == "preferred", f"a: {ma['base']:#x} {ma['placed']}")
check(jb["loaded"] and mb["base"] == base and mb["placed"] == "forced" and mb["relocated"], f"b: {mb}")
delta = base - preferred

# Both dumps are SizeOfImage bytes.
check(len(a) == size and len(b) == size, f"sizes {len(a):#x} {len(b):#x}, SizeOfImage {size:#x}")

# At the preferred base, the image is the file laid out: headers, then each section's file bytes, zero-filled.
check(a[:opt["SizeOfHeaders"]] == raw[:opt["SizeOfHeaders"]], "a: headers differ from the file")
for s in sections["sections"]:
    va, n, mapped = s["virtual_address"], s["mapped_file_size"], s["mapped_size"]
    off = s["mapped_file_offset"]
    check(a[va:va + n] == raw[off:off + n], f"a: section {s['name']} differs from the file")
    check(a[va + n:va + mapped] == bytes(mapped - n), f"a: section {s['name']}: tail not zero")

# Every fixup: the new value is the old one + delta, in its width.
allowed = bytearray(size)
widths = {"HIGHLOW": 4, "DIR64": 8}
counts = {}
for block in relocs["blocks"]:
    for e in block["entries"]:
        t = e["type"]
        if t == "ABSOLUTE":
            continue
        check(t in widths, f"unexpected fixup type {t} at {e['rva']:#x}")
        w = widths.get(t, 0)
        rva = e["rva"]
        counts[t] = counts.get(t, 0) + 1
        old = int.from_bytes(a[rva:rva + w], "little")
        new = int.from_bytes(b[rva:rva + w], "little")
        check(new == (old + delta) % (1 << (8 * w)), f"{t} at {rva:#x}: {old:#x} -> {new:#x}, delta {delta:#x}")
        allowed[rva:rva + w] = b"\1" * w
check(ma["fixups"] == {} and mb["fixups"] == counts, f"fixups applied {mb['fixups']}, listed {counts}")

# The header's ImageBase says where the image is.
ib = opt["offset"] + (24 if pe32plus else 28)
w = 8 if pe32plus else 4
check(int.from_bytes(a[ib:ib + w], "little") == preferred, "a: ImageBase is not the preferred base")
check(int.from_bytes(b[ib:ib + w], "little") == base, "b: ImageBase is not the new base")
allowed[ib:ib + w] = b"\1" * w

# Nothing else differs.
differing = [i for i in range(min(len(a), len(b))) if a[i] != b[i]]
outside = [i for i in differing if not allowed[i]]
check(not outside, "bytes outside every fixup differ at " + ", ".join(f"{i:#x}" for i in outside[:10]))
for e in errors:
    print("  " + e)
print(f"  {file} at {base:#x} (delta {delta:+#x}): {size} bytes compared, {len(differing)} differ, "
      f"fixups {counts}, all within fixups and ImageBase: {not outside}")
sys.exit(1 if errors else 0)
PY
  done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
