#!/usr/bin/env python3
"""The relocated image `pemap load` produces, against a reference pemap does not compute: the base relocation
blocks are decoded here from the file's bytes (pefile turns RVAs into bytes), and the arithmetic of each type is
the PE/COFF specification's (section 6.6). Every testdata image with relocations and every corkami image with
relocations that may move is loaded alone at its preferred base (image A) and at other bases (image B); B must
equal A with each fixup applied and its header's ImageBase set to the new base, byte for byte (but the /GS cookie,
which the loader derives from the base). A last case corrupts one fixup of a dumped image and checks that the
comparison sees it.

Usage: relocs_pefile.py PEMAP [CORKAMI_DIR]"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import pefile

# Types 1 (HIGH), 2 (LOW), 3 (HIGHLOW), 4 (HIGHADJ, which takes the next entry as its parameter), 10 (DIR64).
ABSOLUTE, HIGH, LOW, HIGHLOW, HIGHADJ, DIR64 = 0, 1, 2, 3, 4, 10
WIDTH = {HIGH: 2, LOW: 2, HIGHLOW: 4, HIGHADJ: 2, DIR64: 8}


def fixups(path):
    """(rva, type, highadj parameter) for every entry, in file order, decoded here from the blocks (a page RVA and
    a block size, then 16-bit entries: type in the top 4 bits, offset in the low 12) as far as the directory's Size
    says; pefile only turns RVAs into bytes. (pefile's own entry list stops at a repeated entry, which Windows
    applies; corkami reloc4.exe has them.)"""
    pe = pefile.PE(path, fast_load=True)
    directory = pe.OPTIONAL_HEADER.DATA_DIRECTORY[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_BASERELOC"]]
    out, at, end = [], directory.VirtualAddress, directory.VirtualAddress + directory.Size
    while directory.VirtualAddress and at + 8 <= end:
        try:
            page, size = struct.unpack("<II", pe.get_data(at, 8))
            words = pe.get_data(at + 8, min(size, end - at) - 8) if size >= 8 else b""
        except (pefile.PEFormatError, struct.error):
            break
        if size < 8:
            break
        slots = [int.from_bytes(words[i:i + 2], "little") for i in range(0, len(words) - 1, 2)]
        i = 0
        while i < len(slots):
            kind, offset = slots[i] >> 12, slots[i] & 0xfff
            param = 0
            i += 1
            if kind == HIGHADJ and i < len(slots):
                param = slots[i]  # the whole next slot: the low half of the 32-bit value
                i += 1
            out.append((page + offset, kind, param))
        at += size
    return out


def apply(image, entries, delta):
    """The image with every fixup applied for delta, as the specification defines each type."""
    out = bytearray(image)
    for rva, kind, param in entries:
        if kind == ABSOLUTE:
            continue
        w = WIDTH[kind]
        old = int.from_bytes(out[rva:rva + w], "little")
        if kind == HIGH:
            new = old + (delta >> 16)
        elif kind == LOW:
            new = old + delta
        elif kind == HIGHADJ:
            low = param - 0x10000 if param & 0x8000 else param
            new = ((old << 16) + low + delta + 0x8000) >> 16
        else:
            new = old + delta
        out[rva:rva + w] = (new % (1 << (8 * w))).to_bytes(w, "little")
    return out


def expected_image(path, a, a_base, entries, base):
    """Image A (loaded at a_base: the preferred base, unless that can never be had) with every fixup applied for
    the move to `base`, and where the loader itself writes: the header's ImageBase, which holds the new base; and
    the /GS cookie (load config SecurityCookie), which the loader derives from the base (its offset is returned)."""
    pe = pefile.PE(path, fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG"]])
    width = 8 if pe.PE_TYPE == pefile.OPTIONAL_HEADER_MAGIC_PE_PLUS else 4
    preferred = pe.OPTIONAL_HEADER.ImageBase
    want = apply(a, entries, base - a_base)
    field = pe.OPTIONAL_HEADER.get_field_absolute_offset("ImageBase")
    want[field:field + width] = base.to_bytes(width, "little")
    config = getattr(pe, "DIRECTORY_ENTRY_LOAD_CONFIG", None)
    cookie = getattr(config.struct, "SecurityCookie", 0) if config else 0
    return want, (cookie - preferred if cookie else None), width


def load(pemap, path, tmp, base=None):
    """The image as `pemap load --no-imports` leaves it and its base, or None and pemap's error."""
    name = os.path.basename(path)
    dump = os.path.join(tmp, "image.bin")
    if os.path.exists(dump):
        os.remove(dump)
    args = [pemap, "load", path, "--no-imports", "--dump-image", f"{name}={dump}"]
    if base is not None:
        args += ["--base", f"{name}={base:#x}"]
    run = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        return None, run.stderr.strip().splitlines()[-1:] or [f"exit {run.returncode}"]
    with open(dump, "rb") as f:
        return f.read(), json.loads(run.stdout)["modules"][0]["base"]


def differences(a, b, limit=5):
    diff = [i for i in range(min(len(a), len(b))) if a[i] != b[i]]
    return len(diff) + abs(len(a) - len(b)), ", ".join(f"{i:#x}: {a[i]:02x} != {b[i]:02x}" for i in diff[:limit])


def check(pemap, path, bases, tmp, label):
    """Failures (strings) of one image at each base; the count of fixups compared."""
    entries = fixups(path)
    a, a_base = load(pemap, path, tmp)
    if a is None:
        return [f"{label}: load at the preferred base failed: {a_base}"], 0
    failures = []
    for base in bases:
        b, error = load(pemap, path, tmp, base)
        if b is None:
            failures.append(f"{label} at {base:#x}: load failed: {error}")
            continue
        want, cookie, width = expected_image(path, a, a_base, entries, base)
        if cookie is not None and 0 <= cookie <= len(b) - width:
            want[cookie:cookie + width] = b[cookie:cookie + width]
        n, first = differences(want, b)
        if n:
            failures.append(f"{label} at {base:#x}: {n} bytes differ from the file's fixups (want != pemap): {first}")
    return failures, len([e for e in entries if e[1] != ABSOLUTE])


def testdata_cases(root):
    with open(os.path.join(root, "testdata", "MANIFEST.tsv")) as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    for file, arch, _kind, _base, relocs, _notes in rows:
        if relocs != "yes":
            continue
        bases = [0x10000, 0x20000000, 0x1230000000] if arch == "x64" else [0x10000, 0x20000000, 0x7fff0000]
        yield os.path.join(root, "testdata", "bin", file), bases, "testdata/" + file


def corkami_cases(corpus):
    with open(os.path.join(corpus, "MANIFEST.tsv")) as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    for row in rows:
        if row[5] == "yes":
            yield os.path.join(corpus, row[0]), [0x30000000], "corkami/" + row[0]


# corkami images with relocations that are not moved here: `pemap load` refuses them (tests/cli/load_corpus.sh lists
# why), they may not leave their preferred base, or a fixup rewrites their headers so only one base works.
CORKAMI_NOT_COMPARED = {
    "corkami/d_resource.dll": "data-file DLL: refused",
    "corkami/reloc9.exe": "type 9 on i386: refused",
    "corkami/relocOSdet.exe": "type 9 on i386: refused",
    "corkami/reloccrypt.exe": "types 6 and 9 on i386: refused",
    "corkami/reloccryptXP.exe": "types 6 and 9 on i386: refused",
    "corkami/virtrelocXP.exe": "XP only: refused",
    "corkami/dllmaxvals.dll": "IMAGE_FILE_RELOCS_STRIPPED: may not be moved",
    "corkami/maxvals.exe": "IMAGE_FILE_RELOCS_STRIPPED: may not be moved",
    "corkami/relocsstripped.exe": "IMAGE_FILE_RELOCS_STRIPPED: moved only when its base can never be had",
    "corkami/relocsstripped64.exe": "IMAGE_FILE_RELOCS_STRIPPED: moved only when its base can never be had",
    "corkami/lfanew_relocW7.exe": "a fixup on e_lfanew: at another delta the headers it points to are not there",
    "corkami/lfanew_relocXP.exe": "a fixup on e_lfanew: at another delta the headers it points to are not there",
}


def main():
    pemap = sys.argv[1]
    corpus = sys.argv[2] if len(sys.argv) > 2 else ""
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    cases = list(testdata_cases(root))
    have_corpus = corpus and os.path.isdir(corpus)
    if have_corpus:
        cases += [c for c in corkami_cases(corpus) if c[2] not in CORKAMI_NOT_COMPARED]
    failures, images, compared = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for path, bases, label in cases:
            f, n = check(pemap, path, bases, tmp, label)
            failures += f
            images += 1
            compared += n * len(bases)
        # The comparison sees a wrong fixup: one DIR64 of bigreloc.dll, off by one in its B image.
        path = os.path.join(root, "testdata", "bin", "x64", "bigreloc.dll")
        entries = fixups(path)
        a, a_base = load(pemap, path, tmp)
        b, _ = load(pemap, path, tmp, 0x30000000)
        rva = next(e[0] for e in entries if e[1] == DIR64)
        b = bytearray(b)
        b[rva] ^= 1
        want, _, _ = expected_image(path, a, a_base, entries, 0x30000000)
        if differences(want, b)[0] != 1:
            failures.append("a corrupted DIR64 fixup of bigreloc.dll went unseen")
    for f in failures:
        print("FAIL: " + f)
    print(f"{images} images, {compared} fixups checked against the independent decoding, {len(failures)} failures")
    if failures:
        return 1
    if not have_corpus:
        print(f"SKIP: corkami corpus not found at '{corpus}' (testdata alone passed)")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
