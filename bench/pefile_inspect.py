#!/usr/bin/python3
"""The pefile peer of `pemap all` for bench/peers.sh: headers, data directories, sections, imports (delay and
bound too), exports, every base relocation entry, TLS, load config and debug, printed as a pefile user would."""
import sys

import pefile

D = pefile.DIRECTORY_ENTRY
pe = pefile.PE(sys.argv[1], fast_load=True)
pe.parse_data_directories(directories=[D[k] for k in (
    "IMAGE_DIRECTORY_ENTRY_EXPORT", "IMAGE_DIRECTORY_ENTRY_IMPORT", "IMAGE_DIRECTORY_ENTRY_BASERELOC",
    "IMAGE_DIRECTORY_ENTRY_DEBUG", "IMAGE_DIRECTORY_ENTRY_TLS", "IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG",
    "IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT", "IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT")])
out = sys.stdout
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
