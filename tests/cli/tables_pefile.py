#!/usr/bin/env python3
"""pemap's import and export listings (`imports --json`, `exports --json`) against pefile's parse of the same
files, a reference that shares no code with pemap's readers: every testdata image, and the Wine DLLs and programs
when Debian's wine64 has installed them. For each import descriptor, its DLL name and each entry's name or
ordinal and IAT slot; for the export directory, each export's ordinal, RVA, name and forwarder.

Usage: tables_pefile.py PEMAP TESTDATA_DIR"""
import glob
import json
import os
import subprocess
import sys

import pefile

WINE = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows"
IMPORT = pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"]
EXPORT = pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"]


def text(b):
    return None if b is None else b.decode("latin-1")


def by_pefile(path):
    pe = pefile.PE(path, fast_load=True)
    pe.parse_data_directories(directories=[IMPORT, EXPORT])
    base = pe.OPTIONAL_HEADER.ImageBase
    imports = [(text(d.dll), [(text(i.name), None if i.name else i.ordinal, i.address - base) for i in d.imports])
               for d in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])]
    exports = []
    if hasattr(pe, "DIRECTORY_ENTRY_EXPORT"):
        exports = sorted((s.ordinal, s.address, text(s.name) or "", text(s.forwarder) or "")
                         for s in pe.DIRECTORY_ENTRY_EXPORT.symbols)
    return imports, exports


def by_pemap(pemap, path):
    def doc(command):
        run = subprocess.run([pemap, command, "--json", path], capture_output=True)
        return json.loads(run.stdout.decode("utf-8"))
    imports = [(m["dll"], [(e.get("name"), e.get("ordinal") if "name" not in e else None, e["iat_rva"])
                           for e in m["entries"]])
               for m in doc("imports")["imports"]]
    exports = sorted((e["ordinal"], e["rva"], e.get("name") or "", e.get("forwarder") or "")
                     for e in doc("exports")["exports"])
    return imports, exports


def first_difference(ours, theirs):
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            return f"item {k}: pemap {a!r}, pefile {b!r}"
    return f"pemap lists {len(ours)}, pefile {len(theirs)}"


def main():
    pemap, testdata = sys.argv[1], sys.argv[2]
    files = sorted(p for p in glob.glob(os.path.join(testdata, "bin", "**", "*"), recursive=True)
                   if os.path.isfile(p) and p.endswith((".exe", ".dll")))
    wine = sorted(glob.glob(os.path.join(WINE, "*.dll")) + glob.glob(os.path.join(WINE, "*.exe")))
    failed = compared = imported = exported = 0
    for path in files + wine:
        ours, theirs = by_pemap(pemap, path), by_pefile(path)
        compared += 1
        imported += sum(len(entries) for _, entries in theirs[0])
        exported += len(theirs[1])
        for what, a, b in (("imports", ours[0], theirs[0]), ("exports", ours[1], theirs[1])):
            if a != b:
                failed += 1
                print(f"FAIL: {path}: {what} differ: {first_difference(a, b)}")
    print(f"{compared} files ({len(wine)} of Wine's): {imported} imports and {exported} exports as pefile reads "
          f"them; {failed} tables differ")
    if compared < 40 or imported == 0 or exported == 0:
        print("FAIL: too little was compared")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
