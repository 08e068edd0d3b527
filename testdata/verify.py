#!/usr/bin/env python3
"""verify.py - check that testdata/bin/* really have the properties that
MANIFEST.tsv and README.md claim, using llvm-readobj / llvm-objdump (plus a
few raw reads of the file for things llvm-readobj does not print).

Usage: testdata/verify.py        (exit status 0 = every check passed)
Needs: python3, llvm-readobj and llvm-objdump (Debian package: llvm).
Not needed by the C++ tests; it documents and re-checks the test data.
"""
import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(HERE, "bin")
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def readobj(path, *flags):
    return run("llvm-readobj", *flags, path)


class Image:
    def __init__(self, rel):
        self.rel = rel
        self.path = os.path.join(BIN, rel)
        self.raw = open(self.path, "rb").read()
        self.hdr = readobj(self.path, "--file-headers")
        self.secs = self._sections()

    def field(self, name):
        m = re.search(r"^\s*%s: (\S+)" % re.escape(name), self.hdr, re.M)
        return m.group(1) if m else None

    def num(self, name):
        v = self.field(name)
        return int(v, 0) if v is not None else None

    def has_flag(self, flag):
        return re.search(r"\b%s \(" % flag, self.hdr) is not None

    def _sections(self):
        out = []
        for blk in re.findall(r"Section \{(.*?)\n  \}", readobj(self.path, "--sections"), re.S):
            s = {}
            m = re.search(r"Name: (\S*) \(([0-9A-F ]+)\)", blk)
            s["name"] = m.group(1)
            s["rawname"] = bytes(int(x, 16) for x in m.group(2).split())
            for k in ("VirtualSize", "VirtualAddress", "RawDataSize", "PointerToRawData"):
                s[k] = int(re.search(r"%s: (\S+)" % k, blk).group(1), 0)
            s["flags"] = set(re.findall(r"(IMAGE_SCN_\w+)", blk))
            out.append(s)
        return out

    def section(self, name):
        return next((s for s in self.secs if s["name"] == name), None)

    def section_of(self, rva):
        for s in self.secs:
            if s["VirtualAddress"] <= rva < s["VirtualAddress"] + max(s["VirtualSize"], s["RawDataSize"]):
                return s["name"]
        return None

    def rva_to_off(self, rva):
        for s in self.secs:
            if s["VirtualAddress"] <= rva < s["VirtualAddress"] + s["RawDataSize"]:
                return rva - s["VirtualAddress"] + s["PointerToRawData"]
        raise ValueError("rva %#x not in file" % rva)

    def relocs(self):
        txt = readobj(self.path, "--coff-basereloc")
        return [(t, int(a, 0)) for t, a in re.findall(r"Type: (\w+)\s+Address: (\S+)", txt)]

    def imports(self):
        """[(dll, [(name, hint_or_ordinal)])] for the normal import table."""
        txt = readobj(self.path, "--coff-imports")
        res = []
        for blk in re.findall(r"^Import \{(.*?)^\}", txt, re.S | re.M):
            dll = re.search(r"Name: (\S+)", blk).group(1)
            res.append((dll, [(n, int(h)) for n, h in re.findall(r"Symbol: (\S*) \((\d+)\)", blk)]))
        return res

    def delay_imports(self):
        txt = readobj(self.path, "--coff-imports")
        res = []
        for blk in re.findall(r"^DelayImport \{(.*?)^\}", txt, re.S | re.M):
            dll = re.search(r"Name: (\S+)", blk).group(1)
            attrs = int(re.search(r"Attributes: (\S+)", blk).group(1), 0)
            res.append((dll, attrs, re.findall(r"Symbol: (\S*) \(", blk)))
        return res

    def exports(self):
        """(ordinal_base, [(ordinal, rva_or_None, name, forwarder)]) via llvm-objdump -p."""
        txt = run("llvm-objdump", "-p", self.path)
        m = re.search(r"Ordinal base: (\d+)", txt)
        if not m:
            return None, []
        ents = []
        part = txt[m.end():].split("\n\n")[0]
        for line in part.splitlines():
            mm = re.match(r"\s+(\d+)\s+(0x[0-9a-f]+|0)?\s*(\S*)(?: \(forwarded to (\S+)\))?\s*$", line)
            if mm:
                rva = mm.group(2)
                ents.append((int(mm.group(1)), int(rva, 0) if rva else None, mm.group(3), mm.group(4)))
        return int(m.group(1)), ents


def manifest():
    rows = []
    with open(os.path.join(HERE, "MANIFEST.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        check(header == ["file", "arch", "kind", "image_base", "relocs", "notes"], "MANIFEST header")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def generic(img, row):
    r = img.rel
    fmt = img.field("Format")
    check(fmt == {"x86": "COFF-i386", "x64": "COFF-x86-64", "arm64": "COFF-ARM64"}[row["arch"]], f"{r}: arch {fmt}")
    magic = img.num("Magic")
    check(magic == (0x10B if row["arch"] == "x86" else 0x20B), f"{r}: optional header magic {magic:#x}")
    check(img.has_flag("IMAGE_FILE_DLL") == (row["kind"] == "dll"), f"{r}: kind")
    check(img.num("ImageBase") == int(row["image_base"], 16), f"{r}: ImageBase {img.field('ImageBase')}")
    nrel = len([t for t, a in img.relocs() if t in ("HIGHLOW", "DIR64")])
    stripped = img.has_flag("IMAGE_FILE_RELOCS_STRIPPED")
    state = "stripped" if stripped else ("yes" if nrel else "no")
    check(state == row["relocs"], f"{r}: relocs {state} != {row['relocs']}")
    if state == "stripped":
        check(img.section(".reloc") is None and img.num("BaseRelocationTableSize") == 0,
              f"{r}: stripped image still has relocations")
    if row["arch"] != "arm64":  # the ARM64 image is there for its unwind data; nothing runs it
        check(img.num("AddressOfEntryPoint") != 0, f"{r}: has an entry point")
    check(os.path.getsize(img.path) < (3.5 * 1024 * 1024 if "bigreloc" in r else 300 * 1024),
          f"{r}: size {os.path.getsize(img.path)}")
    if "longnames" not in r:
        check(img.num("PointerToSymbolTable") == 0, f"{r}: stripped of COFF symbols")


def reloc_sections(img):
    out = {}
    for t, a in img.relocs():
        if t in ("HIGHLOW", "DIR64"):
            s = img.section_of(a)
            out[s] = out.get(s, 0) + 1
    return out


def export_names(img):
    return {e[2]: e for e in img.exports()[1] if e[2]}


def check_hints_match(img, dll_img):
    """hints written by GNU ld when linking against the DLL itself must be
    real indexes into the DLL's (sorted) export name pointer table."""
    names = sorted(export_names(dll_img))
    dll = os.path.basename(dll_img.rel)
    for d, syms in img.imports():
        if d.lower() == dll:
            for n, h in syms:
                check(h < len(names) and names[h] == n, f"{img.rel}: hint {h} for {n}")


def main():
    rows = manifest()
    listed = {row["file"] for row in rows}
    present = {os.path.relpath(os.path.join(d, f), BIN) for d, _, fs in os.walk(BIN) for f in fs}
    check(listed == present, f"MANIFEST rows vs files: missing {present - listed}, extra {listed - present}")
    total = sum(os.path.getsize(os.path.join(BIN, f)) for f in present)
    check(total < 8 * 1024 * 1024, f"total size {total}")

    imgs = {}
    for row in rows:
        img = imgs[row["file"]] = Image(row["file"])
        generic(img, row)

    for arch in ("x86", "x64"):
        fix = "HIGHLOW" if arch == "x86" else "DIR64"
        I = lambda n: imgs[f"{arch}/{n}"]
        ab = 0x10000000 if arch == "x86" else 0x180000000

        # a/b: liba, libb, app
        for n in ("liba.dll", "libb.dll", "msvc/liba.dll"):
            img = I(n)
            check(img.num("ImageBase") == ab, f"{img.rel}: base")
            rs = reloc_sections(img)
            check(all(rs.get(s, 0) > 0 for s in (".text", ".data", ".rdata")), f"{img.rel}: fixups per section {rs}")
            check({t for t, a in img.relocs()} <= {fix, "ABSOLUTE"}, f"{img.rel}: reloc types")
            check(img.section(".reloc") is not None, f"{img.rel}: .reloc")
        check(reloc_sections(I("liba.dll")).get(".data", 0) >= 64, f"{arch}/liba.dll: >= 64 .data fixups")
        check(set(export_names(I("liba.dll"))) == {"liba_add", "liba_mul", "liba_call", "liba_checksum",
                                                   "liba_is_attached", "liba_version"}, f"{arch}/liba.dll exports")
        check(export_names(I("liba.dll"))["liba_mul"][0] == 2, f"{arch}/liba.dll: liba_mul is ordinal 2")
        check(I("liba.dll").exports()[0] == 1, f"{arch}/liba.dll: ordinal base 1")
        check(I("msvc/liba.dll").exports()[0] == 0, f"{arch}/msvc/liba.dll: ordinal base 0 (lld 14)")
        app = dict(I("app.exe").imports())
        check(set(app) == {"liba.dll", "libb.dll", "KERNEL32.dll"}, f"{arch}/app.exe import DLLs {set(app)}")
        check(all(n for d in app for n, h in app[d]), f"{arch}/app.exe: all by name")
        check("liba_version" in [n for n, h in app["liba.dll"]], f"{arch}/app.exe: data import")
        check_hints_match(I("app.exe"), I("liba.dll"))
        check_hints_match(I("app.exe"), I("libb.dll"))
        check(dict(I("libb.dll").imports()).get("liba.dll") == [("liba_add", 0)], f"{arch}/libb.dll imports liba_add")
        mapp = dict(I("msvc/app.exe").imports())
        check(set(mapp) == {"liba.dll", "kernel32.dll"}, f"{arch}/msvc/app.exe imports")
        check("Repro" in readobj(I("msvc/liba.dll").path, "--coff-debug-directory"), f"{arch}/msvc/liba.dll repro")

        # c: shared
        shared_names = ["shared.dll"] + (["shared_gnu.dll"] if arch == "x64" else [])
        for n in shared_names:
            img = I(n)
            s = img.section("Shared")
            check(s is not None and s["rawname"][:8] == b"Shared\0\0", f"{img.rel}: section named Shared")
            check(s and {"IMAGE_SCN_MEM_SHARED", "IMAGE_SCN_MEM_READ", "IMAGE_SCN_MEM_WRITE"} <= s["flags"]
                  and "IMAGE_SCN_MEM_EXECUTE" not in s["flags"], f"{img.rel}: Shared flags")
            d = img.section(".data")
            check(d is not None and d["RawDataSize"] > 0 and "IMAGE_SCN_MEM_SHARED" not in d["flags"],
                  f"{img.rel}: private .data")
            check(set(export_names(img)) == {"shared_count", "private_count"}, f"{img.rel}: exports")
        if arch == "x64":
            check(I("shared.dll").imports() == [], "x64/shared.dll: no imports")

        # d: fixed
        img = I("fixed.dll")
        check(img.has_flag("IMAGE_FILE_RELOCS_STRIPPED"), f"{img.rel}: RELOCS_STRIPPED")
        check(not img.has_flag("IMAGE_DLL_CHARACTERISTICS_DYNAMIC_BASE"), f"{img.rel}: not DYNAMIC_BASE")
        check(img.num("ImageBase") == ab, f"{img.rel}: base")
        check("fixed_get" in export_names(img), f"{img.rel}: export")

        # e: ordinals
        base, ents = I("ordlib.dll").exports()
        check(base == 5, f"{arch}/ordlib.dll ordinal base {base}")
        byord = {o: (rva, name) for o, rva, name, fw in ents}
        check(byord[5][1] == "" and byord[6][1] == "" and byord[10][1] == "" and byord[7][1] == "ord_named"
              and byord[8][0] in (0, None) and byord[9][0] in (0, None), f"{arch}/ordlib.dll export table {byord}")
        oi = dict(I("ordapp.exe").imports())["ordlib.dll"]
        check(sorted(h for n, h in oi if n == "") == [5, 6, 10] and ("ord_named", 7) in oi,
              f"{arch}/ordapp.exe ordinal imports {oi}")
        # raw check: ILT entries with the ordinal flag set
        ilt = ordinal_thunks(I("ordapp.exe"), "ordlib.dll", arch)
        check(sorted(ilt) == [5, 6, 10], f"{arch}/ordapp.exe: ILT ordinal thunks {ilt}")

        # f: forwarders
        fw1 = {e[2]: e[3] for e in I("fwd1.dll").exports()[1]}
        check(fw1 == {"fwd1_self": None, "Chain": "fwd2.Chain", "ByOrd": "liba.#2",
                      "ToB": "libb.libb_twice", "ToBUpper": "LIBB.libb_twice"}, f"{arch}/fwd1.dll {fw1}")
        fw2 = {e[2]: e[3] for e in I("fwd2.dll").exports()[1]}
        check(fw2 == {"fwd2_self": None, "Chain": "liba.liba_add"}, f"{arch}/fwd2.dll {fw2}")
        fa = dict(I("fwdapp.exe").imports())
        check({n for n, h in fa.get("fwd1.dll", [])} == {"Chain", "ByOrd", "ToB", "ToBUpper"}, f"{arch}/fwdapp {fa}")
        check_hints_match(I("fwdapp.exe"), I("fwd1.dll"))

        # g: delay load
        img = I("delayapp.exe")
        di = img.delay_imports()
        check(len(di) == 1 and di[0][0] == "liba.dll" and di[0][1] & 1 and set(di[0][2]) == {"liba_add", "liba_mul"},
              f"{img.rel}: delay imports {di}")
        check("liba.dll" not in dict(img.imports()), f"{img.rel}: liba not a normal import")

        # h: TLS
        img = I("tls.exe")
        tls = readobj(img.path, "--coff-tls-directory")
        cbva = int(re.search(r"AddressOfCallBacks: (\S+)", tls).group(1), 0)
        start = int(re.search(r"StartAddressOfRawData: (\S+)", tls).group(1), 0)
        ib = img.num("ImageBase")
        psz = 4 if arch == "x86" else 8
        off = img.rva_to_off(cbva - ib)
        cbs = []
        while True:
            (v,) = struct.unpack_from("<I" if psz == 4 else "<Q", img.raw, off)
            if not v:
                break
            cbs.append(v)
            off += psz
        check(len(cbs) == 2 and all(img.section_of(v - ib) == ".text" for v in cbs), f"{img.rel}: callbacks {cbs}")
        check(img.section_of(start - ib) == ".tls", f"{img.rel}: TLS template in .tls")
        rel_addrs = {a for t, a in img.relocs()}
        check(cbva - ib in rel_addrs and cbva - ib + psz in rel_addrs, f"{img.rel}: callback pointers relocated")

        # q: the chain
        for name, nxt in (("chain_a", "chain_b"), ("chain_b", "chain_c"), ("chain_fail", "chain_c")):
            imp = dict(I(f"{name}.dll").imports())
            check({n for n, h in imp.get(f"{nxt}.dll", [])} == {f"chain_depth_{nxt[6:]}"}, f"{arch}/{name}.dll {imp}")
        check(set(dict(I("chain_c.dll").imports())) == {"kernel32.dll"}, f"{arch}/chain_c.dll imports")
        tls = readobj(I("chain_a.dll").path, "--coff-tls-directory")
        check(int(re.search(r"AddressOfCallBacks: (\S+)", tls).group(1), 0) != 0, f"{arch}/chain_a.dll: TLS callbacks")

        # j: lowalign
        img = I("lowalign.exe")
        check(img.num("SectionAlignment") == 0x200 and img.num("FileAlignment") == 0x200, f"{img.rel}: alignment")
        check(all(s["VirtualAddress"] == s["PointerToRawData"] and s["RawDataSize"] > 0 for s in img.secs),
              f"{img.rel}: VA == PointerToRawData for every section")

        # k: apiset
        ai = dict(I("apiset.exe").imports())
        check(set(ai) == {"api-ms-win-core-synch-l1-2-0.dll", "api-ms-win-core-processthreads-l1-1-0.dll"},
              f"{arch}/apiset.exe imports {set(ai)}")

        # l: missing
        mi = dict(I("missing.exe").imports())
        check({n for n, h in mi.get("liba.dll", [])} == {"liba_add", "liba_no_such_function"}
              and "liba_no_such_function" not in export_names(I("liba.dll"))
              and [n for n, h in mi.get("nosuch.dll", [])] == ["nosuch_function"]
              and not os.path.exists(os.path.join(BIN, arch, "nosuch.dll")), f"{arch}/missing.exe {mi}")

        # p: stub system DLLs
        k32 = I("system/kernel32.dll").exports()[1]
        k32_funcs = {n for o, rva, n, fw in k32 if n and not fw}
        used = {n for f in imgs if f.startswith(arch + "/") and not f.endswith(HOST_TABLE_IMAGES)
                for d, syms in imgs[f].imports() if d.lower() == "kernel32.dll" for n, h in syms}
        check(used >= {"ExitProcess", "LoadLibraryA", "GetProcAddress"} and k32_funcs == used,
              f"{arch}/system/kernel32.dll exports {k32_funcs}, the images import {used}")
        check({n: fw for o, rva, n, fw in k32 if fw} == {"Sleep": "api-ms-win-core-synch-l1-2-0.Sleep"},
              f"{arch}/system/kernel32.dll: Sleep forwarder")
        kb = I("system/kernelbase.dll").exports()[1]
        check({(n, fw) for o, rva, n, fw in kb} == {("Sleep", None), ("ExitProcess", None)},
              f"{arch}/system/kernelbase.dll exports {kb}")
        for n in ("system/kernel32.dll", "system/kernelbase.dll"):
            check(I(n).imports() == [] and I(n).delay_imports() == [], f"{arch}/{n}: no imports")
        # the graph loads: only missing.exe's two deliberate failures find no DLL / export
        un = unresolved(imgs, arch)
        check(un == [f"{arch}/missing.exe: liba.dll!liba_no_such_function", f"{arch}/missing.exe: nosuch.dll"],
              f"{arch}: imports without a DLL or export {un}")

    # x64-only
    img = imgs["x64/bigreloc.dll"]
    rs = img.relocs()
    n64 = len([1 for t, a in rs if t == "DIR64"])
    check(n64 >= 300000, f"bigreloc DIR64 count {n64}")
    check(reloc_sections(img).get(".data", 0) == 300000, "bigreloc: 300000 in .data")
    check(os.path.getsize(img.path) < 3.5 * 1024 * 1024, "bigreloc < 3.5 MiB")

    img = imgs["x64/longnames.exe"]
    longs = [s for s in img.secs if s["rawname"].startswith(b"/")]
    check(len(longs) >= 4 and any(s["name"] == ".debug_info" for s in longs), "longnames: /N section names")
    check(img.num("PointerToSymbolTable") != 0 and img.num("SymbolCount") > 0, "longnames: symbol table")
    check(os.path.getsize(img.path) < 300 * 1024, "longnames < 300 KB")

    img = imgs["x64/hello.exe"]
    check(set(dict(img.imports())) == {"KERNEL32.dll", "msvcrt.dll"}, "hello imports msvcrt")
    check(b"hello from pemap testdata" in img.raw, "hello string")

    print(f"{checks} checks, {len(failures)} failures, {len(rows)} files, {total} bytes")
    return 1 if failures else 0


# Images whose kernel32 and msvcrt imports are meant for pemap's host table (they run under `pemap run` and
# `pemap call`), not for the stub system DLLs: the mingw CRT programs, and hostile.dll's HeapAlloc.
HOST_TABLE_IMAGES = ("hello.exe", "printf.exe", "hostile.dll")


def unresolved(imgs, arch):
    """Every import (normal and delay) of the images of ARCH, except those of HOST_TABLE_IMAGES, that
    finds no DLL or no export: a DLL is looked up next to the importer, in bin/ARCH/ and in
    bin/ARCH/system/; an API-set name (api-ms-*) means system/kernelbase.dll."""
    out = []
    for f in sorted(f for f in imgs if f.startswith(arch + "/") and not f.endswith(HOST_TABLE_IMAGES)):
        img = imgs[f]
        mods = [(d, [n for n, h in syms]) for d, syms in img.imports()]
        mods += [(d, names) for d, attrs, names in img.delay_imports()]
        for d, names in mods:
            dll = "kernelbase.dll" if d.lower().startswith("api-ms-") else d.lower()
            dirs = [os.path.dirname(f), arch, arch + "/system"]
            hit = next((os.path.join(x, dll) for x in dirs if os.path.join(x, dll) in imgs), None)
            if hit is None:
                out.append(f"{f}: {d}")
                continue
            exported = set(export_names(imgs[hit]))
            out += [f"{f}: {d}!{n}" for n in names if n and n not in exported]
    return out


def ordinal_thunks(img, dll, arch):
    txt = readobj(img.path, "--coff-imports")
    blk = [b for b in re.findall(r"^Import \{(.*?)^\}", txt, re.S | re.M) if re.search(r"Name: %s\b" % re.escape(dll), b)][0]
    ilt = int(re.search(r"ImportLookupTableRVA: (\S+)", blk).group(1), 0)
    off = img.rva_to_off(ilt)
    psz, fmt, flag = (4, "<I", 1 << 31) if arch == "x86" else (8, "<Q", 1 << 63)
    out = []
    while True:
        (v,) = struct.unpack_from(fmt, img.raw, off)
        if not v:
            return out
        if v & flag:
            out.append(v & 0xFFFF)
        off += psz


if __name__ == "__main__":
    sys.exit(main())
