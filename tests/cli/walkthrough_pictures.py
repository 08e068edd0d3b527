#!/usr/bin/env python3
"""The walkthroughs' pictures, made anew and compared with the SVGs the pages show.

A page asks for a picture with a comment line and shows it on the next line:

    <!-- picture: load testdata/bin/x86/app.exe --system-dir testdata/bin/x86/system -->
    ![what it shows](pictures/1-createprocess.svg)

This runs `pemap ARGS --svg FILE` in a directory whose `testdata` is the repository's (so paths read as from the
repository root) and compares FILE with the one beside the page, byte for byte. --update writes them instead.
A picture of `instances` needs the kernel to show page frames (root with CAP_SYS_ADMIN, as CI runs); where it
does not, that picture is skipped with a message.

Usage: walkthrough_pictures.py PEMAP REPO [--update]"""
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile

MARKER = re.compile(r"^<!-- picture: (.*) -->$")
IMAGE = re.compile(r"^!\[[^\]]+\]\((pictures/[\w.-]+\.svg)\)$")


def main():
    pemap, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    update = "--update" in sys.argv[3:]
    failures, checked, skipped = [], 0, 0
    with tempfile.TemporaryDirectory() as work:
        os.symlink(os.path.join(repo, "testdata"), os.path.join(work, "testdata"))
        for page in sorted(glob.glob(os.path.join(repo, "docs", "walkthroughs", "*.md"))):
            lines = open(page, encoding="utf-8").read().splitlines()
            for i, line in enumerate(lines):
                m = MARKER.match(line)
                if not m:
                    continue
                image = IMAGE.match(lines[i + 1]) if i + 1 < len(lines) else None
                where = f"{os.path.relpath(page, repo)}:{i + 1}"
                if not image:
                    failures.append(f"{where}: the line after the picture's comment is not ![...](pictures/NAME.svg)")
                    continue
                made = os.path.join(work, "picture.svg")
                run = subprocess.run([pemap] + shlex.split(m.group(1)) + ["--svg", made], cwd=work,
                                     capture_output=True)
                # 1 is a load that failed (walkthrough 4 draws one); 2 or worse is a command that could not run.
                if run.returncode not in (0, 1):
                    failures.append(f"{where}: pemap {m.group(1)} --svg exited {run.returncode}: "
                                    f"{run.stderr.decode()[-300:]}")
                    continue
                if not os.path.exists(made):
                    failures.append(f"{where}: pemap {m.group(1)} --svg wrote nothing: {run.stderr.decode()[-300:]}")
                    continue
                svg = open(made, "rb").read()
                os.remove(made)
                if b'data-verdict="' in svg and b'data-verdict="shared"' not in svg and b'data-verdict="own"' not in svg:
                    print(f"SKIP {where}: the kernel shows no page frames here (root with CAP_SYS_ADMIN needed)")
                    skipped += 1
                    continue
                target = os.path.join(os.path.dirname(page), image.group(1))
                if update:
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "wb") as f:
                        f.write(svg)
                elif not os.path.exists(target) or open(target, "rb").read() != svg:
                    failures.append(f"{where}: {image.group(1)} is not what pemap {m.group(1)} --svg draws now "
                                    f"(run tests/cli/walkthrough_pictures.py PEMAP REPO --update and review)")
                checked += 1
        left = [p for p in os.listdir(work) if p != "testdata"]
        if left:
            failures.append(f"the commands left {left} in the directory they ran in")
    for f in failures:
        print("FAIL:", f)
    print(f"walkthrough pictures: {checked} {'written' if update else 'compared'}, {skipped} skipped, "
          f"{len(failures)} failures")
    return 1 if failures or checked == 0 else 0


sys.exit(main())
