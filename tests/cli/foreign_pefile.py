#!/usr/bin/env python3
"""Images whose own loader is not Windows': the EFI applications and drivers of Debian's ipxe, shim-unsigned and
grub-efi-amd64-bin packages, and the .NET assembly of libmono-corlib4.5-dll (scripts/install-deps.sh installs
them). For each: the counts `info --json` gives for every table (sections, imports, delay imports, exports, base
relocation blocks and entries) equal pefile's parse of the same file; the layout the tables were read through is
named (the section table's, with the UEFI loader, for an image Windows refuses, and only then); and for each EFI
image, `map --as efi` copies each section from where pefile's section table says, as many bytes as the firmware
copies, and `relocs --check --as efi` passes at a moved base.

Usage: foreign_pefile.py PEMAP"""
import glob
import json
import struct
import subprocess
import sys

import pefile

PACKAGES = {
    "ipxe": "/usr/lib/ipxe/*.efi",
    "shim-unsigned": "/usr/lib/shim/*.efi",
    "grub-efi-amd64-bin": "/usr/lib/grub/x86_64-efi/monolithic/*.efi",
    "libmono-corlib4.5-dll": "/usr/lib/mono/4.5/mscorlib.dll",
}
EFI_SUBSYSTEMS = (10, 11, 12, 13)
MOVED_BASE = 0x7F000000


def reloc_entries(pe):
    """Every entry of every base relocation block, decoded here from the bytes pefile finds at each block's RVA.
    (pefile's own entry list stops a block at a repeated entry, which every loader applies: grub's EFI images pad
    their blocks with repeated ABSOLUTE entries.)"""
    directory = pe.OPTIONAL_HEADER.DATA_DIRECTORY[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_BASERELOC"]]
    types, at, end = [], directory.VirtualAddress, directory.VirtualAddress + directory.Size
    while directory.VirtualAddress and at + 8 <= end:
        page, size = struct.unpack("<II", pe.get_data(at, 8))
        if size < 8:
            break
        words = pe.get_data(at + 8, min(size, end - at) - 8)
        types += [int.from_bytes(words[i:i + 2], "little") >> 12 for i in range(0, len(words) - 1, 2)]
        at += size
    return types


def by_pefile(path):
    pe = pefile.PE(path)
    imports = getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])
    relocs = getattr(pe, "DIRECTORY_ENTRY_BASERELOC", [])
    entries = reloc_entries(pe)
    exports = pe.DIRECTORY_ENTRY_EXPORT.symbols if hasattr(pe, "DIRECTORY_ENTRY_EXPORT") else []
    counts = {
        "sections": len(pe.sections),
        "import_modules": len(imports),
        "import_functions": sum(len(d.imports) for d in imports),
        "delay_import_modules": len(getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", [])),
        "exports": len(exports),
        "reloc_blocks": len(relocs),
        "relocs": len(entries),
    }
    # Windows maps an image with SectionAlignment below a page 1:1 from the file, so it refuses one whose section
    # has raw data anywhere but at its VirtualAddress (the rule that iPXE's images break), whatever pemap says.
    flat_break = pe.OPTIONAL_HEADER.SectionAlignment < 0x1000 and any(
        s.SizeOfRawData and s.VirtualAddress != s.PointerToRawData for s in pe.sections)
    return counts, pe.OPTIONAL_HEADER.Subsystem, sum(1 for t in entries if t != 0), flat_break


def sections_of(path):
    return pefile.PE(path, fast_load=True).sections


def pemap_json(pemap, *args):
    run = subprocess.run([pemap, *args, "--json"], capture_output=True)
    return run.returncode, json.loads(run.stdout.decode("utf-8")), run.stderr.decode("utf-8", "replace")


def check(pemap, path):
    """The failures for one file, as text."""
    failures = []
    theirs, subsystem, applied, flat_break = by_pefile(path)
    _, info, stderr = pemap_json(pemap, "info", path)
    ours = dict(info["counts"], sections=info["sections"])
    for key, value in theirs.items():
        if ours.get(key) != value:
            failures.append(f"{key}: pemap {ours.get(key)}, pefile {value}")
    _, mapped, _ = pemap_json(pemap, "map", path)
    refused = "error" in mapped
    if flat_break and not refused:
        failures.append("a flat image with a section away from its file offset, which Windows refuses, was mapped")
    want = "section_table" if refused else "memory_manager"
    if info["layout"] != want:
        failures.append(f"layout {info['layout']}, expected {want} (Windows {'refuses' if refused else 'maps'} it)")
    if refused and subsystem in EFI_SUBSYSTEMS and info.get("layout_loader") != "UEFI":
        failures.append(f"the UEFI loader is not named: layout_loader {info.get('layout_loader')!r}")
    if refused and subsystem in EFI_SUBSYSTEMS and "pemap map --as efi" not in mapped["error"]["message"]:
        failures.append(f"map's refusal does not point to map --as efi: {mapped['error']['message']}")
    if refused and "tables are read through the section table" not in stderr:
        failures.append("the layout is not said on stderr")
    if subsystem in EFI_SUBSYSTEMS:
        rc, loaded, stderr = pemap_json(pemap, "map", "--as", "efi", path)
        # By position: pemap resolves long names ("/4") through the COFF string table, pefile does not.
        ours = [(r["rva"], r["file_offset"], r["file_bytes"]) for r in loaded.get("regions", [])[1:]]
        want = [(s.VirtualAddress, s.PointerToRawData,
                 s.SizeOfRawData if s.Misc_VirtualSize == 0 or s.Misc_VirtualSize > s.SizeOfRawData
                 else s.Misc_VirtualSize) for s in sections_of(path)]
        if rc != 0 or ours != want:
            failures.append(f"map --as efi: exit {rc}; sections copied {ours}, by the section table {want} {stderr}")
        rc, checked, stderr = pemap_json(pemap, "relocs", "--check", "--as", "efi", "--base", hex(MOVED_BASE), path)
        if rc != 0 or checked.get("violations") != 0 or checked.get("base") != MOVED_BASE:
            failures.append(f"relocs --check --as efi: exit {rc}, {checked.get('violations')} violations {stderr}")
        fixups = sum(checked.get("fixups", {}).values())
        if fixups != applied:
            failures.append(f"relocs --check --as efi applied {fixups} fixups; the blocks hold {applied} that are not "
                            "ABSOLUTE padding")
    return failures, refused


def main():
    pemap = sys.argv[1]
    files, missing = [], []
    for package, pattern in PACKAGES.items():
        found = sorted(glob.glob(pattern))
        files += found
        if not found:
            missing.append(package)
    if not files:
        print(f"SKIP: none of the Debian packages {', '.join(PACKAGES)} is installed (scripts/install-deps.sh)")
        return 77
    if missing:
        print(f"note: not installed, so not compared: {', '.join(missing)}")
    failed = refused_count = 0
    for path in files:
        failures, refused = check(pemap, path)
        refused_count += refused
        for f in failures:
            print(f"FAIL: {path}: {f}")
        failed += bool(failures)
    print(f"{len(files)} files, {refused_count} of which Windows refuses to map: {failed} differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
