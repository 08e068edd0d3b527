#!/usr/bin/env python3
"""`pemap hashes`' ssdeep and TLSH of each whole file against Debian's command-line tools for them (`ssdeep`,
`tlsh -f`), on every testdata image, every corkami file and every tenth of Wine's DLLs: the same hash, or for TLSH
none where the tool prints none (fewer than 256 bytes, or too little variety).

Usage: fuzzy_hashes.py PEMAP REPO [CORKAMI_DIR]"""
import glob
import json
import os
import shutil
import subprocess
import sys

WINE = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows"


def main():
    pemap, repo = sys.argv[1], sys.argv[2]
    corkami = sys.argv[3] if len(sys.argv) > 3 else os.path.join(repo, "..", "shared", "corpus", "corkami")
    for tool in ("ssdeep", "tlsh"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is missing (scripts/install-deps.sh installs ssdeep and tlsh-tools)")
            return 77
    paths = sorted(p for p in glob.glob(f"{repo}/testdata/bin/**/*", recursive=True) if os.path.isfile(p))
    paths += sorted(p for p in glob.glob(f"{corkami}/*") if not p.endswith((".txt", ".tsv")))
    paths += sorted(glob.glob(f"{WINE}/*.dll"))[::10]
    ours = {}
    for k in range(0, len(paths), 200):
        run = subprocess.run([pemap, "hashes", "--jsonl", *paths[k:k + 200]], capture_output=True)
        for line in run.stdout.decode().splitlines():
            d = json.loads(line)
            if "whole_file" in d:
                ours[d["file"]] = d["whole_file"]
    failures, compared, tlsh_none = [], 0, 0
    for path in paths:
        if path not in ours:
            continue  # not a PE pemap can read: hashes are of images
        run = subprocess.run(["ssdeep", "-s", path], capture_output=True, text=True)
        rows = [l for l in run.stdout.splitlines() if l and not l.startswith("ssdeep,")]
        theirs = rows[0].rsplit(",", 1)[0] if rows else None
        if ours[path]["ssdeep"] != theirs:
            failures.append(f"{path}: ssdeep {ours[path]['ssdeep']!r}, the ssdeep tool {theirs!r}")
        run = subprocess.run(["tlsh", "-f", path], capture_output=True, text=True)
        fields = run.stdout.split("\t")
        theirs = fields[0].strip() if len(fields) == 2 and fields[0].strip() else None
        tlsh_none += theirs is None
        if ours[path]["tlsh"] != theirs:
            failures.append(f"{path}: TLSH {ours[path]['tlsh']!r}, the tlsh tool {theirs!r}")
        compared += 1
    for f in failures[:40]:
        print("FAIL:", f)
    print(f"{compared} files compared ({tlsh_none} without a TLSH hash), {len(failures)} differences")
    if compared < 100:
        print("FAIL: fewer than 100 files compared")
        return 1
    return 1 if failures else 0


sys.exit(main())
