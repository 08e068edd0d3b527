#!/usr/bin/env python3
"""pemap's disassembly (Capstone) against GNU objdump's (binutils' own decoder) on every testdata image: for
`pemap disasm --entry`, and for each fixup `pemap relocs --disasm` places in an instruction, objdump must decode an
instruction that starts at the same address with the same bytes; and every fixup in an executable section must be
placed in one, at an offset inside its bytes.

Usage: disasm_objdump.py PEMAP TESTDATA_DIR"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

OBJDUMP = {"x86": "i686-w64-mingw32-objdump", "x64": "x86_64-w64-mingw32-objdump"}
LINE = re.compile(r"^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t")
LABEL = re.compile(r"^([0-9a-f]+) <([^>]*)>:$")


def objdump(tool, path):
    """Address -> bytes (hex, space-separated) of every instruction objdump decodes in executable sections (-z:
    zeros too), and the addresses of its symbols' labels: objdump starts decoding afresh at each, so a linear
    decode from the entry point is compared only up to the next one (data such as a DTOR list sits between)."""
    out = subprocess.run([tool, "-d", "-z", "--insn-width=16", path], capture_output=True, text=True).stdout
    lines = out.splitlines()
    insns = {int(m.group(1), 16): m.group(2) for m in map(LINE.match, lines) if m}
    labels = sorted(int(m.group(1), 16) for m in map(LABEL.match, lines) if m)
    return insns, labels


def main():
    pemap, testdata = sys.argv[1], sys.argv[2]
    for tool in OBJDUMP.values():
        if not shutil.which(tool):
            print(f"SKIP: {tool} not installed (Debian package binutils-mingw-w64, with gcc-mingw-w64)")
            return 77
    failures, instructions, fixups = [], 0, 0
    for arch, tool in OBJDUMP.items():
        for path in sorted(glob.glob(os.path.join(testdata, "bin", arch, "**", "*.*"), recursive=True)):
            if not path.endswith((".exe", ".dll")):
                continue
            theirs, labels = objdump(tool, path)
            run = subprocess.run([pemap, "disasm", "--json", "--entry", "--count", "30", path], capture_output=True)
            if run.returncode == 0:
                listing = json.loads(run.stdout)["instructions"]
                stop = next((a for a in labels if listing and a > listing[0]["va"]), None)
                for i in listing:
                    if stop is not None and i["va"] + len(i["bytes"].split()) > stop:
                        break
                    instructions += 1
                    if theirs.get(i["va"]) != i["bytes"]:
                        failures.append(f"{path}: {i['va']:#x}: pemap {i['bytes']}, objdump {theirs.get(i['va'])}")
            run = subprocess.run([pemap, "relocs", "--disasm", "--json", path], capture_output=True)
            for f in json.loads(run.stdout).get("fixups", []) if run.returncode == 0 else []:
                i = f["instruction"]
                if i is None:
                    continue
                fixups += 1
                if not 0 <= i["offset"] < len(i["bytes"].split()):
                    failures.append(f"{path}: fixup {f['rva']:#x} at offset {i['offset']} of {i['bytes']}")
                if theirs.get(i["va"]) != i["bytes"]:
                    failures.append(f"{path}: fixup {f['rva']:#x}: pemap {i['va']:#x} {i['bytes']}, "
                                    f"objdump {theirs.get(i['va'])}")
    for f in failures[:30]:
        print("FAIL:", f)
    print(f"{instructions} instructions from entry points and {fixups} fixups' instructions compared with objdump; "
          f"{len(failures)} differences")
    return 1 if failures or instructions == 0 or fixups == 0 else 0


sys.exit(main())
