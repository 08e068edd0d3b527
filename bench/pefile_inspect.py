#!/usr/bin/python3
"""The pefile peer of `pemap all` for bench/peers.sh: headers, data directories, sections, imports (delay and
bound too), exports, every base relocation entry, TLS, load config and debug, printed as a pefile user would.
With --resources, the peer of `pemap resources`: the tree, each leaf's bytes, and the version resource. With
--signature, the peer of `pemap signature`: the certificate table (pefile reads no PKCS#7), and the Authenticode
image digest computed the way `pemap signature` does, over pefile's parse."""
import hashlib
import sys

import pefile

D = pefile.DIRECTORY_ENTRY
mode = sys.argv[1] if len(sys.argv) == 3 else ""
pe = pefile.PE(sys.argv[-1], fast_load=True)
out = sys.stdout


def resources():
    pe.parse_data_directories(directories=[D["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])

    def walk(directory, path):
        for e in directory.entries:
            key = str(e.name) if e.name is not None else f"#{e.id}"
            at = f"{path}/{key}" if path else key
            if hasattr(e, "directory"):
                walk(e.directory, at)
            elif hasattr(e, "data"):
                data = pe.get_data(e.data.struct.OffsetToData, e.data.struct.Size)
                out.write(f"{at} size {len(data)} code page {e.data.struct.CodePage}\n")

    if hasattr(pe, "DIRECTORY_ENTRY_RESOURCE"):
        walk(pe.DIRECTORY_ENTRY_RESOURCE, "")
    for fixed in getattr(pe, "VS_FIXEDFILEINFO", []):
        out.write("\n".join(fixed.dump()) + "\n")
    for info in getattr(pe, "FileInfo", []):
        for entry in info:
            for table in getattr(entry, "StringTable", []):
                for k, v in table.entries.items():
                    out.write(f"{k!r}: {v!r}\n")
            for var in getattr(entry, "Var", []):
                out.write(f"{var.entry!r}\n")


def signature():
    pe.parse_data_directories(directories=[D["IMAGE_DIRECTORY_ENTRY_SECURITY"]])
    security = pe.OPTIONAL_HEADER.DATA_DIRECTORY[D["IMAGE_DIRECTORY_ENTRY_SECURITY"]]
    for cert in getattr(pe, "DIRECTORY_ENTRY_SECURITY", []):
        out.write("\n".join(cert.struct.dump()) + "\n")
    # The image digest: the headers without CheckSum and the security entry, the sections by file offset, then
    # the rest of the file without the certificate table.
    data = pe.__data__
    checksum = pe.OPTIONAL_HEADER.get_field_absolute_offset("CheckSum")
    entry = security.get_field_absolute_offset("VirtualAddress")
    headers = pe.OPTIONAL_HEADER.SizeOfHeaders
    h = hashlib.sha256()
    h.update(data[:checksum])
    h.update(data[checksum + 4:entry])
    h.update(data[entry + 8:headers])
    end = headers
    for s in sorted((s for s in pe.sections if s.SizeOfRawData), key=lambda s: s.PointerToRawData):
        h.update(data[s.PointerToRawData:s.PointerToRawData + s.SizeOfRawData])
        end = max(end, s.PointerToRawData + s.SizeOfRawData)
    tail_end = security.VirtualAddress if security.VirtualAddress >= end else len(data)
    h.update(data[end:tail_end])
    out.write(f"image digest sha256 {h.hexdigest()}\n")


def everything():
    pe.parse_data_directories(directories=[D[k] for k in (
        "IMAGE_DIRECTORY_ENTRY_EXPORT", "IMAGE_DIRECTORY_ENTRY_IMPORT", "IMAGE_DIRECTORY_ENTRY_BASERELOC",
        "IMAGE_DIRECTORY_ENTRY_DEBUG", "IMAGE_DIRECTORY_ENTRY_TLS", "IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG",
        "IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT", "IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT")])
    for h in (pe.DOS_HEADER, pe.FILE_HEADER, pe.OPTIONAL_HEADER):
        out.write("\n".join(h.dump()) + "\n")
    for d in pe.OPTIONAL_HEADER.DATA_DIRECTORY:
        out.write(f"{d.name} {d.VirtualAddress:#x} {d.Size:#x}\n")
    for s in pe.sections:
        name = s.Name.rstrip(b"\0")
        out.write(f"section {name!r} va {s.VirtualAddress:#x} vsize {s.Misc_VirtualSize:#x} "
                  f"rawptr {s.PointerToRawData:#x} rawsize {s.SizeOfRawData:#x} chars {s.Characteristics:#x}\n")
    for attr, title in (("DIRECTORY_ENTRY_IMPORT", "import"), ("DIRECTORY_ENTRY_DELAY_IMPORT", "delay-load import")):
        for m in getattr(pe, attr, []):
            out.write(f"{title} {m.dll!r}\n")
            for e in m.imports:
                if e.import_by_ordinal:
                    out.write(f"  {e.address:#x} #{e.ordinal}\n")
                else:
                    out.write(f"  {e.address:#x} {e.hint} {e.name!r}\n")
    for b in getattr(pe, "DIRECTORY_ENTRY_BOUND_IMPORT", []):
        out.write(f"bound import {b.name!r} {b.struct.TimeDateStamp:#x}\n")
    if hasattr(pe, "DIRECTORY_ENTRY_EXPORT"):
        ex = pe.DIRECTORY_ENTRY_EXPORT
        out.write(f"exports of {ex.name!r} base {ex.struct.Base}\n")
        for e in ex.symbols:
            out.write(f"  {e.ordinal} {e.address:#x} {e.name!r} {e.forwarder!r}\n")
    for block in getattr(pe, "DIRECTORY_ENTRY_BASERELOC", []):
        out.write(f"block page {block.struct.VirtualAddress:#x} size {block.struct.SizeOfBlock:#x}\n")
        for e in block.entries:
            out.write(f"  {e.rva:#x} {pefile.RELOCATION_TYPE.get(e.type, e.type)}\n")
    if hasattr(pe, "DIRECTORY_ENTRY_TLS"):
        out.write("\n".join(pe.DIRECTORY_ENTRY_TLS.struct.dump()) + "\n")
    if hasattr(pe, "DIRECTORY_ENTRY_LOAD_CONFIG"):
        out.write("\n".join(pe.DIRECTORY_ENTRY_LOAD_CONFIG.struct.dump()) + "\n")
    for d in getattr(pe, "DIRECTORY_ENTRY_DEBUG", []):
        out.write("\n".join(d.struct.dump()) + "\n")


{"--resources": resources, "--signature": signature}.get(mode, everything)()
