#!/usr/bin/env python3
"""`pemap exceptions --unwind` against llvm-readobj --unwind (LLVM's own COFF reader) on testdata's x64 images and
Wine's x64 DLLs: for every RUNTIME_FUNCTION, its start, end and UNWIND_INFO address, and the UNWIND_INFO's version,
flags, prologue size, frame register and offset, and each unwind code as llvm-readobj prints it. On testdata's
ARM64 image: each function's start and length, a packed record's fields, and an .xdata record's header, its
prolog's and epilogs' codes (bytes and instruction), each epilog's start, and the exception handler.

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


ARM64_FIELD = re.compile(r"^\s*(Function|ExceptionRecord|FunctionLength|RegF|RegI|HomedParameters|CR|FrameSize|"
                         r"Version|ExceptionData|EpiloguePacked|EpilogueScopes|EpilogueOffset|ByteCodeLength|"
                         r"StartOffset|EpilogueStartIndex|Routine):\s*(\S+)")
ARM64_CODE = re.compile(r"^\s*(0x[0-9a-f]+)\s+; (.*)$")


def llvm_arm64(path):
    """Each ARM64 RuntimeFunction as a list of (field, value) in llvm-readobj's order, codes included."""
    out = subprocess.run(["llvm-readobj", "--unwind", path], capture_output=True, text=True).stdout
    functions = []
    for line in out.splitlines():
        if line.strip() == "RuntimeFunction {":
            functions.append([])
        elif not functions:
            continue
        elif m := ARM64_FIELD.match(line):
            functions[-1].append((m.group(1), m.group(2)))
        elif m := ARM64_CODE.match(line):
            functions[-1].append(("code", f"{int(m.group(1), 16):#x} {m.group(2).strip()}"))
    return functions


def ours_arm64(pemap, path):
    """The same fields from pemap's JSON, in the same order."""
    run = subprocess.run([pemap, "exceptions", "--unwind", "--json", path], capture_output=True)
    base = json.loads(subprocess.run([pemap, "info", "--json", path], capture_output=True).stdout)["image_base"]
    out = []
    yes = lambda b: "Yes" if b else "No"
    for f in json.loads(run.stdout)["functions"]:
        fields = [("Function", f"{base + f['begin']:#X}".replace("0X", "0x"))]
        if f["packed"]:
            packed = dict(kv.split(" ") for kv in f["detail"].removeprefix("packed: ").split(", "))
            fields += [("FunctionLength", str(f["length"])), ("RegF", packed["RegF"]), ("RegI", packed["RegI"]),
                       ("HomedParameters", yes(packed["H"] == "1")), ("CR", packed["CR"]),
                       ("FrameSize", packed["FrameSize"])]
        else:
            x = f["xdata"]
            fields += [("ExceptionRecord", f"{base + f['unwind_data']:#X}".replace("0X", "0x")),
                       ("FunctionLength", str(x["function_length"])), ("Version", str(x["version"])),
                       ("ExceptionData", yes(x["x"])), ("EpiloguePacked", yes(x["e"])),
                       ("EpilogueOffset" if x["e"] else "EpilogueScopes", str(x["epilog_count"])),
                       ("ByteCodeLength", str(x["code_words"] * 4))]
            fields += [("code", f"{c['bytes']:#x} {c['text']}") for c in x["prolog"]]
            for e in x["epilogs"]:
                if not x["e"]:
                    fields += [("StartOffset", str(e["start_offset"] // 4)),
                               ("EpilogueStartIndex", str(e["start_index"]))]
                fields += [("code", f"{c['bytes']:#x} {c['text']}") for c in e["codes"]]
            if "handler" in x:
                fields.append(("Routine", f"{base + x['handler']:#x}"))
        out.append(fields)
    return out


def normal(f):
    g = dict(f)
    g["codes"] = [c.lower() for c in f["codes"]]
    return g


def compare(paths, theirs_of, ours_of, codes_of, failures):
    """Each file's functions as llvm-readobj and pemap list them, in order: (functions, unwind codes) compared."""
    functions = codes = 0
    for path in paths:
        theirs, mine = theirs_of(path), ours_of(path)
        if len(theirs) != len(mine):
            failures.append(f"{path}: pemap {len(mine)} functions, llvm-readobj {len(theirs)}")
            continue
        for a, b in zip(mine, theirs):
            functions += 1
            codes += codes_of(a)
            if a != b:
                failures.append(f"{path}: pemap {a}, llvm-readobj {b}")
                break
    return functions, codes


def main():
    pemap, testdata = sys.argv[1], sys.argv[2]
    if not shutil.which("llvm-readobj"):
        print("SKIP: llvm-readobj not installed (Debian package llvm)")
        return 77
    files = sorted(p for p in glob.glob(os.path.join(testdata, "bin", "x64", "**", "*.*"), recursive=True)
                   if p.endswith((".exe", ".dll")))
    files += sorted(glob.glob(os.path.join(WINE, "*.dll")))[::20]
    arm64 = sorted(glob.glob(os.path.join(testdata, "bin", "arm64", "*.dll")))
    failures = []
    functions, codes = compare(files, lambda p: [normal(f) for f in llvm(p)],
                               lambda p: [normal(f) for f in ours(pemap, p)], lambda f: len(f["codes"]), failures)
    arm64_functions, arm64_codes = compare(arm64, llvm_arm64, lambda p: ours_arm64(pemap, p),
                                           lambda f: sum(1 for k, _ in f if k == "code"), failures)
    if not arm64 or arm64_codes == 0:
        failures.append(f"no ARM64 unwind codes compared in {testdata}/bin/arm64")
    for f in failures[:20]:
        print("FAIL:", f)
    print(f"{len(files) + len(arm64)} files: {functions + arm64_functions} functions and {codes + arm64_codes} "
          f"unwind codes ({arm64_codes} of them ARM64) compared with llvm-readobj; {len(failures)} differences")
    return 1 if failures or functions == 0 else 0


sys.exit(main())
