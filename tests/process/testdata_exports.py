#!/usr/bin/env python3
"""Every export of every testdata image, as pefile reads it: the reference the loader's graph tests take export
addresses from (testdata_exports.tsv), so a parser bug cannot hide in both the binding and its expectation.
Usage: testdata_exports.py [--check]: prints the table, or with --check compares it with testdata_exports.tsv."""
import os
import sys

import pefile

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.normpath(os.path.join(HERE, "..", "..", "testdata", "bin"))
TABLE = os.path.join(HERE, "testdata_exports.tsv")


def rows():
    yield "file\tordinal\tname\trva\tforwarder"
    for dirpath, _dirs, files in sorted(os.walk(BIN)):
        for f in sorted(files):
            path = os.path.join(dirpath, f)
            pe = pefile.PE(path, fast_load=True)
            pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"]])
            for s in getattr(getattr(pe, "DIRECTORY_ENTRY_EXPORT", None), "symbols", []):
                name = s.name.decode() if s.name else ""
                forwarder = s.forwarder.decode() if s.forwarder else ""
                yield f"{os.path.relpath(path, BIN)}\t{s.ordinal}\t{name}\t{s.address:#x}\t{forwarder}"


def main():
    table = "\n".join(rows()) + "\n"
    if sys.argv[1:] != ["--check"]:
        sys.stdout.write(table)
        return 0
    with open(TABLE) as f:
        if f.read() == table:
            print(f"{table.count(chr(10)) - 1} exports: testdata_exports.tsv is pefile's reading of testdata/bin")
            return 0
    print("FAIL: testdata_exports.tsv differs from pefile's reading of testdata/bin; regenerate it with "
          "tests/process/testdata_exports.py > tests/process/testdata_exports.tsv and review the diff")
    return 1


if __name__ == "__main__":
    sys.exit(main())
