#!/usr/bin/env python3
"""`pemap exceptions --unwind` against llvm-readobj --unwind (LLVM's own COFF reader) on testdata's x64 images and
Wine's x64 DLLs: for every RUNTIME_FUNCTION, its start, end and UNWIND_INFO address, and the UNWIND_INFO's version,
flags, prologue size, frame register and offset, and each unwind code as llvm-readobj prints it.

Usage: unwind_llvm.py PEMAP TESTDATA_DIR"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

WINE = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows"
FIELD = re.compile(r"^\s*(StartAddress|EndAddress|UnwindInfoAddress|Version|PrologSize|FrameRegister|FrameOffset):"
                   r"\s*\(?([^)\s]*)")
FLAGS = re.compile(r"^\s*Flags \[ \((0x[0-9A-Fa-f]+)\)")
CODE = re.compile(r"^\s*(0x[0-9A-Fa-f]+): (.*)$")


def llvm(path):
    """Each RuntimeFunction as a dict, in order."""
    out = subprocess.run(["llvm-readobj", "--unwind", path], capture_output=True, text=True).stdout
    functions, current = [], None
    for line in out.splitlines():
        if line.strip() == "RuntimeFunction {":
            current = {"codes": []}
            functions.append(current)
        elif current is None:
            continue
        elif m := FIELD.match(line):
            # An address may come after a symbol's name: "StartAddress: DllMain (0x180001000)".
            address = re.search(r"\((0x[0-9A-Fa-f]+)\)", line)
            value = address.group(1) if address and "Address" in m.group(1) else m.group(2)
            current.setdefault(m.group(1), value)  # a chained entry's fields come later: keep the first
        elif m := FLAGS.match(line):
            current.setdefault("Flags", int(m.group(1), 16))
        elif m := CODE.match(line):
            current["codes"].append(f"{int(m.group(1), 16):#04x}: {m.group(2).strip()}")
    return functions


def ours(pemap, path):
    run = subprocess.run([pemap, "exceptions", "--unwind", "--json", path], capture_output=True)
    base = json.loads(subprocess.run([pemap, "info", "--json", path], capture_output=True).stdout)["image_base"]
    out = []
    for f in json.loads(run.stdout)["functions"]:
        u = f.get("unwind", {})
        out.append({"StartAddress": f"{base + f['begin']:#X}".replace("0X", "0x"),
                    "EndAddress": f"{base + f['end']:#X}".replace("0X", "0x"),
                    "UnwindInfoAddress": f"{base + f['unwind_info']:#X}".replace("0X", "0x"),
                    "Version": str(u.get("version")), "Flags": u.get("flags"),
                    "PrologSize": str(u.get("prolog_size")),
                    "FrameRegister": u.get("frame_register", "-"),
                    # llvm-readobj shows the raw 4-bit field; pemap the bytes it stands for (16 each).
                    "FrameOffset": f"{u['frame_offset'] // 16:#x}" if "frame_register" in u else "-",
                    "codes": [f"{c['offset']:#04x}: {c['text']}" for c in u.get("codes", [])]})
    return out


def normal(f):
    g = dict(f)
    g["codes"] = [c.lower() for c in f["codes"]]
    return g


def main():
    pemap, testdata = sys.argv[1], sys.argv[2]
    if not shutil.which("llvm-readobj"):
        print("SKIP: llvm-readobj not installed (Debian package llvm)")
        return 77
    files = sorted(p for p in glob.glob(os.path.join(testdata, "bin", "x64", "**", "*.*"), recursive=True)
                   if p.endswith((".exe", ".dll")))
    files += sorted(glob.glob(os.path.join(WINE, "*.dll")))[::20]
    failures, functions, codes = [], 0, 0
    for path in files:
        theirs, mine = llvm(path), ours(pemap, path)
        if len(theirs) != len(mine):
            failures.append(f"{path}: pemap {len(mine)} functions, llvm-readobj {len(theirs)}")
            continue
        for a, b in zip(mine, theirs):
            functions += 1
            codes += len(a["codes"])
            if normal(a) != normal(b):
                failures.append(f"{path}: {a['StartAddress']}: pemap {a}, llvm-readobj {b}")
                break
    for f in failures[:20]:
        print("FAIL:", f)
    print(f"{len(files)} files: {functions} functions and {codes} unwind codes compared with llvm-readobj; "
          f"{len(failures)} differences")
    return 1 if failures or functions == 0 else 0


sys.exit(main())
