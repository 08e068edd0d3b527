#!/usr/bin/env python3
"""What analysts identify files by, against independent computations of the same things:
- `pemap hashes`: the file's MD5, SHA-1 and SHA-256 against Python's hashlib; each section's digests and entropy
  against pefile's (the sections pefile reads: it stops at 2048 and drops those it finds broken); the imphash
  against pefile's get_imphash() where both parsers list the same imports, and everywhere against pefile's rule
  applied here to pemap's own import list (on hostile files the two parsers read different imports: pemap reads
  them as the loader does, see tests/cli/tables_pefile.py); on every testdata image, every corkami file pefile
  parses, and the MSVC-built launchers in Debian's setuptools wheel (python3-setuptools-whl);
- `pemap headers`: the computed CheckSum against a 16-bit sum written here and against pefile's generate_checksum()
  where pefile's write() gives back the file's bytes (it sums what it would write: on files whose structures
  overlap, other bytes); the Rich header's key, entries and checksum validity against pefile's parse_rich_header();
- `pemap resources` on Wine's DLLs: every entry (type, name, language, RVA, size, code page) and the version
  resources' fixed and string fields against pefile's;
- the ordinal names imphash uses against what scripts/gen_imphash_ordinals.py writes from pefile's tables;
- `pemap headers`' SafeSEH handler and CFG function tables against the tables read here at the RVAs pefile's load
  config gives, on the same files; and the CLR header and metadata root of Mono's mscorlib.dll
  (libmono-corlib4.5-dll) against a decode written here over pefile's RVA mapping (pefile reads no CLR header).

Usage: fingerprints_pefile.py PEMAP REPO [CORKAMI_DIR]"""
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import ordlookup
import pefile

WINE = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows"
WHEELS = "/usr/share/python-wheels"
RESOURCE = pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]
failures = []


def fail(path, what):
    failures.append(f"{path}: {what}")


def pemap_docs(pemap, command, paths):
    """pemap COMMAND --jsonl over the files: one document a file, by path."""
    docs = {}
    for k in range(0, len(paths), 200):
        run = subprocess.run([pemap, command, "--jsonl", *paths[k:k + 200]], capture_output=True)
        for line in run.stdout.decode("utf-8").splitlines():
            d = json.loads(line)
            docs[d["file"]] = d
    return docs


def rich_of(pe):
    r = pe.parse_rich_header()
    if not r:
        return None
    key = int.from_bytes(r["key"], "little") if isinstance(r["key"], bytes) else r["key"]
    values = r["values"]
    entries = [(values[i] >> 16, values[i] & 0xFFFF, values[i + 1]) for i in range(0, len(values), 2)]
    return key, entries, r["checksum"] == key if "checksum" in r else None


def word_checksum(data, skip):
    """CheckSumMappedFile's sum: 16-bit words with end-around carry, CheckSum's 4 bytes left out, plus the size."""
    total = 0
    for i in range(0, len(data) - 1, 2):
        if skip <= i < skip + 4:
            continue
        total += data[i] | data[i + 1] << 8
        total = (total & 0xFFFF) + (total >> 16)
    if len(data) % 2:
        total += data[-1]
        total = (total & 0xFFFF) + (total >> 16)
    return total + len(data)


def imphash_rule(imports):
    """pefile's get_imphash() over an import list [(dll, [(name or None, ordinal)])]."""
    parts = []
    for dll, entries in imports:
        lib = dll.lower()
        stem, dot, ext = lib.rpartition(".")
        if dot and ext in ("ocx", "sys", "dll"):
            lib = stem
        for name, ordinal in entries:
            if name is None:
                name = ordlookup.ordLookup(dll.lower().encode("latin-1"), ordinal, make_name=True).decode()
            parts.append(f"{lib}.{name.lower()}")
    return hashlib.md5(",".join(parts).encode()).hexdigest() if imports else ""


def check_fingerprints(pemap, paths):
    hashes = pemap_docs(pemap, "hashes", paths)
    headers = pemap_docs(pemap, "headers", paths)
    imports = pemap_docs(pemap, "imports", paths)
    compared = skipped = imphash_same = 0
    for path in paths:
        try:
            pe = pefile.PE(path)
        except Exception:  # pefile refuses the file: nothing to compare against
            skipped += 1
            continue
        h, hd = hashes.get(path), headers.get(path)
        if h is None or "error" in h or hd is None or "error" in hd:
            skipped += 1
            pe.close()
            continue
        compared += 1
        data = open(path, "rb").read()
        for kind in ("md5", "sha1", "sha256"):
            if h["whole_file"][kind] != hashlib.new(kind, data).hexdigest():
                fail(path, f"file {kind} {h['file'][kind]}")
        ours_imports = [(m["dll"], [(e.get("name"), e.get("ordinal")) for e in m["entries"]])
                        for m in imports[path].get("imports", [])]
        # JSON escapes bytes that are not printable UTF-8 (as \\xNN), and the hash is over the raw bytes: such
        # names (corkami's manyimportsW7.exe) cannot be hashed again from the listing.
        escaped = "\\x" in json.dumps(ours_imports)
        if not escaped and (h["imphash"] or "") != imphash_rule(ours_imports):
            fail(path, f"imphash: pemap {h['imphash']}, pefile's rule on pemap's imports {imphash_rule(ours_imports)}")
        theirs_imports = [(d.dll.decode("latin-1"), [(i.name.decode("latin-1") if i.name else None, i.ordinal)
                                                     for i in d.imports])
                          for d in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])]
        if theirs_imports == ours_imports and (h["imphash"] or "") != pe.get_imphash():
            fail(path, f"imphash: pemap {h['imphash']}, pefile {pe.get_imphash()}")
        imphash_same += theirs_imports == ours_imports
        table = pe.DOS_HEADER.e_lfanew + 24 + pe.FILE_HEADER.SizeOfOptionalHeader
        for s in pe.sections:
            ours = h["sections"][(s.get_file_offset() - table) // 40]
            for kind, get in (("md5", s.get_hash_md5), ("sha1", s.get_hash_sha1), ("sha256", s.get_hash_sha256)):
                if ours[kind] != get():
                    fail(path, f"section {ours['name']} {kind}: pemap {ours[kind]}, pefile {get()}")
            if abs(ours["entropy"] - s.get_entropy()) > 1e-9:
                fail(path, f"section {ours['name']} entropy: pemap {ours['entropy']}, pefile {s.get_entropy()}")
        computed = hd["checksum"]["computed"]
        if computed != word_checksum(data, pe.OPTIONAL_HEADER.get_file_offset() + 64):
            fail(path, f"checksum: pemap {computed:#x}, the word sum {word_checksum(data, 0):#x}")
        if pe.write() == data and computed != pe.generate_checksum():
            fail(path, f"checksum: pemap {computed:#x}, pefile {pe.generate_checksum():#x}")
        check_guard_tables(path, pe, hd)
        rich = rich_of(pe)
        ours = hd.get("rich_header")
        if (rich is None) != (ours is None):
            fail(path, f"Rich header: pemap {'finds one' if ours else 'none'}, pefile {'finds one' if rich else 'none'}")
        elif rich:
            key, entries, valid = rich
            mine = [(e["product"], e["build"], e["count"]) for e in ours["entries"]]
            if ours["key"] != key or mine != entries:
                fail(path, f"Rich header: pemap key {ours['key']:#x} {mine}, pefile key {key:#x} {entries}")
            if valid is not None and ours["valid"] != valid:
                fail(path, f"Rich checksum valid: pemap {ours['valid']}, pefile {valid}")
        pe.close()
    return compared, skipped, imphash_same


def check_guard_tables(path, pe, hd):
    lc = getattr(pe, "DIRECTORY_ENTRY_LOAD_CONFIG", None)
    if lc is None or "guard" not in hd:
        return
    base = pe.OPTIONAL_HEADER.ImageBase
    for table, count, key, stride in (("SEHandlerTable", "SEHandlerCount", "se_handlers", 0),
                                      ("GuardCFFunctionTable", "GuardCFFunctionCount", "cf_functions",
                                       getattr(lc.struct, "GuardFlags", 0) >> 28)):
        va, n = getattr(lc.struct, table, 0), getattr(lc.struct, count, 0)
        if not va or not n or n > 100000:
            continue
        try:
            theirs = [pe.get_dword_at_rva(va - base + k * (4 + stride)) for k in range(n)]
        except Exception:  # pefile cannot read the table: nothing to compare
            continue
        if hd["guard"][key] != theirs:
            fail(path, f"{key}: pemap {hd['guard'][key][:5]}..., pefile's load config {theirs[:5]}...")


def check_clr(pemap, path):
    """IMAGE_COR20_HEADER and the metadata root, decoded here from bytes pefile maps."""
    import struct
    pe = pefile.PE(path, fast_load=True)
    d = pe.OPTIONAL_HEADER.DATA_DIRECTORY[14]
    head = pe.get_data(d.VirtualAddress, 72)
    cb, major, minor, md_rva, md_size, flags, entry = struct.unpack_from("<IHHIIII", head)
    root = pe.get_data(md_rva, md_size)
    length = struct.unpack_from("<I", root, 12)[0]
    version = root[16:16 + length].split(b"\0")[0].decode()
    at = 16 + (length + 3) // 4 * 4
    count = struct.unpack_from("<H", root, at + 2)[0]
    at += 4
    streams = []
    for _ in range(count):
        offset, size = struct.unpack_from("<II", root, at)
        name = root[at + 8:root.index(b"\0", at + 8)].decode()
        streams.append((name, offset, size))
        at += 8 + (len(name) + 1 + 3) // 4 * 4
    c = json.loads(subprocess.run([pemap, "headers", "--json", path], capture_output=True).stdout)["clr"]
    ours = (c["cb"], c["runtime_version"], c["metadata"]["rva"], c["metadata"]["size"], c["flags"],
            c.get("entry_point_token", c.get("entry_point_rva")), c["metadata_root"]["version"],
            [(s["name"], s["offset"], s["size"]) for s in c["metadata_root"]["streams"]])
    theirs = (cb, f"{major}.{minor}", md_rva, md_size, flags, entry, version, streams)
    if ours != theirs:
        fail(path, f"CLR header: pemap {ours}, decoded here {theirs}")
    return len(streams)


def text_of(key_entry, names):
    if key_entry.name is not None:
        return str(key_entry.name)
    return names.get(key_entry.id, f"#{key_entry.id}") if names else f"#{key_entry.id}"


def check_resources(pemap, paths):
    docs = pemap_docs(pemap, "resources", paths)
    entries = versions = 0
    for path in paths:
        pe = pefile.PE(path, fast_load=True)
        pe.parse_data_directories(directories=[RESOURCE])
        theirs = []
        root = getattr(pe, "DIRECTORY_ENTRY_RESOURCE", None)
        for t in root.entries if root else []:
            for n in t.directory.entries:
                for lang in n.directory.entries:
                    d = lang.data.struct
                    theirs.append((t.id if t.name is None else str(t.name), n.id if n.name is None else str(n.name),
                                   lang.id, d.OffsetToData, d.Size, d.CodePage))
        d = docs[path]
        ours = [(e.get("type_id", e["type"]), e.get("name_id", e["name"]), e["language_id"], e["rva"], e["size"],
                 e["code_page"]) for e in d.get("entries", [])]
        if ours != theirs:
            diff = next((f"entry {k}: pemap {a}, pefile {b}" for k, (a, b) in enumerate(zip(ours, theirs)) if a != b),
                        f"pemap {len(ours)} entries, pefile {len(theirs)}")
            fail(path, f"resources: {diff}")
        entries += len(ours)
        # pefile decodes the version resources into FileInfo, one list per VS_VERSIONINFO, in tree order.
        fixed = getattr(pe, "VS_FIXEDFILEINFO", [])
        infos = getattr(pe, "FileInfo", [])
        mine = d.get("version_info", [])
        if len(mine) != len(fixed):
            fail(path, f"{len(mine)} version resources, pefile {len(fixed)}")
            continue
        for v, f, info in zip(mine, fixed, infos):
            versions += 1
            ms, ls = f.FileVersionMS, f.FileVersionLS
            if v["file_version"] != f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}":
                fail(path, f"{v['resource']}: FileVersion {v['file_version']}")
            if v["file_flags"] != f.FileFlags:
                fail(path, f"{v['resource']}: FileFlags {v['file_flags']:#x}, pefile {f.FileFlags:#x}")
            strings = [(t.LangID.decode(), {k.decode(): s.decode() for k, s in t.entries.items()})
                       for fi in info if fi.Key == b"StringFileInfo" for t in fi.StringTable]
            mine_strings = [(t["key"], {s["name"]: s["value"] for s in t["strings"]}) for t in v["string_tables"]]
            if mine_strings != strings:
                fail(path, f"{v['resource']}: strings: pemap {mine_strings}, pefile {strings}")
        pe.close()
    return entries, versions


def check_ordinal_table(repo):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ordinals.inc")
        subprocess.run([sys.executable, os.path.join(repo, "scripts", "gen_imphash_ordinals.py"), out], check=True)
        committed = os.path.join(repo, "loader", "analysis", "imphash_ordinals.inc")
        if open(out).read() != open(committed).read():
            fail(committed, "differs from what scripts/gen_imphash_ordinals.py writes from this pefile")


def main():
    pemap, repo = sys.argv[1], sys.argv[2]
    corkami = sys.argv[3] if len(sys.argv) > 3 else ""
    check_ordinal_table(repo)
    paths = sorted(p for p in glob.glob(os.path.join(repo, "testdata", "bin", "**", "*"), recursive=True)
                   if os.path.isfile(p) and p.endswith((".exe", ".dll")))
    if corkami and os.path.isdir(corkami):
        paths += sorted(p for p in glob.glob(os.path.join(corkami, "*")) if p.endswith((".exe", ".dll", ".sys")))
    else:
        print("note: no corkami corpus; testdata and the setuptools launchers only")
    with tempfile.TemporaryDirectory() as tmp:
        wheels = sorted(glob.glob(os.path.join(WHEELS, "setuptools-*.whl")))
        if not wheels:
            print("SKIP: no setuptools wheel with MSVC-built launchers (Debian package python3-setuptools-whl)")
            return 77
        with zipfile.ZipFile(wheels[-1]) as z:
            for name in z.namelist():
                if name.endswith(".exe"):
                    target = os.path.join(tmp, os.path.basename(name))
                    with open(target, "wb") as f:
                        f.write(z.read(name))
                    paths.append(target)
        compared, skipped, imphash_same = check_fingerprints(pemap, paths)
    wine = sorted(glob.glob(os.path.join(WINE, "*.dll")))
    if not wine:
        print(f"SKIP: no Wine DLLs under {WINE} (Debian package libwine)")
        return 77
    entries, versions = check_resources(pemap, wine)
    mscorlib = "/usr/lib/mono/4.5/mscorlib.dll"
    if not os.path.exists(mscorlib):
        print(f"SKIP: no {mscorlib} (Debian package libmono-corlib4.5-dll)")
        return 77
    streams = check_clr(pemap, mscorlib)
    for f in failures[:40]:
        print("FAIL:", f)
    print(f"fingerprints: {compared} files compared with pefile and hashlib ({skipped} pefile refuses; "
          f"{imphash_same} with the same imports in both parsers); "
          f"resources: {entries} entries and {versions} version resources of {len(wine)} Wine DLLs; "
          f"mscorlib.dll's CLR header and {streams} metadata streams; "
          f"{len(failures)} differences")
    return 1 if failures else 0


sys.exit(main())
