#!/usr/bin/env python3
"""Real Windows programs and DLLs loaded from the system directory with no option: Wine's notepad.exe, regedit.exe
and cmd.exe and 22 of its DLLs (Debian's libwine, which scripts/install-deps.sh installs), the MSVC-built
launchers pip ships (t64.exe) when this machine has them, and testdata's apiset.exe, whose API-set import goes
through Wine's schema. Each `pemap load --json FILE` must exit 0 with nothing
unresolved, and every binding of every module it loaded must hold the address that pefile's parse of the
target's export table gives: the import followed by name or ordinal, through each forwarder ("DLL.Function",
"DLL.#ordinal") to the module that holds the code, plus that module's base. API-set contracts are resolved to the
host the schema in Wine's apisetschema.dll gives, as a parse written here reads it; and `pemap apiset` of that
file must list the same contracts and default hosts.

Usage: real_programs.py PEMAP"""
import glob
import json
import os
import struct
import subprocess
import sys

import pefile

WINE = os.environ.get("PEMAP_SYSTEM32", "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows")  # set but empty: none
PROGRAMS = ["notepad.exe", "regedit.exe", "cmd.exe"]
DLLS = ["user32.dll", "gdi32.dll", "shell32.dll", "ole32.dll", "oleaut32.dll", "comctl32.dll", "comdlg32.dll",
        "advapi32.dll", "ws2_32.dll", "crypt32.dll", "wininet.dll", "shlwapi.dll", "msvcrt.dll", "rpcrt4.dll",
        "setupapi.dll", "winmm.dll", "d3d11.dll", "dxgi.dll", "urlmon.dll", "uxtheme.dll", "version.dll",
        "imm32.dll"]


def key(name):
    name = name.lower()
    return name if "." in name else name + ".dll"


def contract_key(name):
    """An API-set name as the schema is searched: lower case, ".dll" and the last "-N" dropped."""
    name = name.lower().removesuffix(".dll")
    head, _, tail = name.rpartition("-")
    return head if tail.isdigit() and head else name


SCHEMA = {}  # contract_key -> host, from the system directory's apisetschema.dll as read here


class Exports:
    """Each loaded module's export table as pefile reads it, by name and by ordinal."""

    def __init__(self, modules):
        self.base = {key(m["name"]): m["base"] for m in modules}
        self.path = {key(m["name"]): m["path"] for m in modules}
        self.tables = {}

    def table(self, dll):
        if dll not in self.tables:
            pe = pefile.PE(self.path[dll], fast_load=True)
            pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"]])
            by_name, by_ordinal = {}, {}
            for s in getattr(pe, "DIRECTORY_ENTRY_EXPORT", None).symbols if hasattr(pe, "DIRECTORY_ENTRY_EXPORT") \
                    else []:
                entry = (s.address, s.forwarder.decode("latin-1") if s.forwarder else None)
                by_ordinal[s.ordinal] = entry
                if s.name:
                    by_name[s.name.decode("latin-1")] = entry
            self.tables[dll] = (by_name, by_ordinal)
        return self.tables[dll]

    def resolve(self, dll, function, ordinal, hosts, hops=0):
        """(address, forwarders followed) of dll!function (or #ordinal), or a reason it cannot be."""
        dll = hosts.get(contract_key(dll), key(dll))
        if dll not in self.path:
            return None, f"{dll} is not loaded"
        by_name, by_ordinal = self.table(dll)
        entry = by_name.get(function) if function is not None else by_ordinal.get(ordinal)
        if entry is None:
            return None, f"{dll} does not export {function if function is not None else '#%d' % ordinal}"
        rva, forwarder = entry
        if forwarder is None:
            return self.base[dll] + rva, hops
        if hops > 16:
            return None, "a forwarder loop"
        target, _, name = forwarder.partition(".")
        if name.startswith("#"):
            return self.resolve(target, None, int(name[1:]), hosts, hops + 1)
        return self.resolve(target, name, None, hosts, hops + 1)


def check(pemap, path):
    run = subprocess.run([pemap, "load", "--json", path], capture_output=True)
    if run.returncode != 0:
        return [f"load exits {run.returncode}: {run.stderr.decode('utf-8', 'replace').strip()[:300]}"], (0, 0, 0)
    report = json.loads(run.stdout)
    failures = []
    if report.get("unresolved"):
        failures.append(f"{len(report['unresolved'])} imports unresolved, the first {report['unresolved'][0]}")
    hosts = {contract: key(host) for contract, host in SCHEMA.items()}
    exports = Exports(report["modules"])
    checked = forwarded = contracts = 0
    for m in report["modules"]:
        for b in m["bindings"]:
            if b.get("how") == "bound":
                continue
            function = b.get("function")
            by_ordinal = function is not None and function.startswith("#")  # an import by ordinal: "#17"
            address, hops = exports.resolve(b["dll"], None if by_ordinal else function,
                                            int(function[1:]) if by_ordinal else None, hosts)
            checked += 1
            forwarded += bool(b.get("via"))
            contracts += contract_key(b["dll"]) in hosts
            if address != b["address"] or hops != len(b.get("via", [])):
                failures.append(f"{m['name']}: {b['dll']}!{b.get('function', b.get('ordinal'))}: pemap "
                                f"{b['address']:#x} via {b.get('via')}, pefile {hops if address is None else hex(address)}"
                                f" after {hops} forwarders")
    return failures, (checked, forwarded, contracts)


def schema_here(path):
    """Contract name -> default host of an apisetschema.dll, read here from its .apiset section (version 6)."""
    pe = pefile.PE(path, fast_load=True)
    section = next(s for s in pe.sections if s.Name.rstrip(b"\0") == b".apiset")
    d = section.get_data()
    version, _, _, count, entries = struct.unpack_from("<5I", d, 0)
    assert version == 6, version
    out = {}
    for i in range(count):
        _, name, name_len, _, values, value_count = struct.unpack_from("<6I", d, entries + 24 * i)
        hosts = [struct.unpack_from("<5I", d, values + 20 * j) for j in range(value_count)]
        default = next((h for h in hosts if h[2] == 0), None)
        out[d[name:name + name_len].decode("utf-16-le")] = \
            d[default[3]:default[3] + default[4]].decode("utf-16-le") if default else ""
    return out


def check_schema(pemap):
    """`pemap apiset --json` of the system directory's schema against the parse above."""
    path = os.path.join(WINE, "apisetschema.dll")
    run = subprocess.run([pemap, "apiset", "--json", path], capture_output=True)
    ours = {e["name"]: e["host"] for e in json.loads(run.stdout)["entries"]}
    theirs = schema_here(path)
    if ours != theirs:
        differ = sorted(set(ours.items()) ^ set(theirs.items()))[:3]
        return [f"apiset --json {path}: {len(ours)} contracts, here {len(theirs)}; differing {differ}"], len(theirs)
    return [], len(theirs)


def main():
    pemap = sys.argv[1]
    if not WINE or not os.path.isfile(os.path.join(WINE, "kernel32.dll")):
        print(f"SKIP: no Wine PE DLLs in {WINE} (Debian's libwine; scripts/install-deps.sh installs it)")
        return 77
    files = [os.path.join(WINE, f) for f in PROGRAMS + DLLS]
    # No Wine binary imports an API-set contract; testdata's apiset.exe does, so its hop goes through Wine's schema.
    files.append(os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "bin", "x64", "apiset.exe"))
    files += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/lib/python3*/site-packages/pip/_vendor/distlib/t64.exe")))[:1]
    files += sorted(glob.glob("/usr/lib/python3/dist-packages/pip/_vendor/distlib/t64.exe"))[:1]
    SCHEMA.update({contract_key(name): host for name, host in schema_here(os.path.join(WINE, "apisetschema.dll")).items()})
    failures, schema_size = check_schema(pemap)
    for f in failures:
        print(f"FAIL: {f}")
    failed = len(failures)
    bindings = forwarded = contracts = 0
    for path in files:
        failures, (checked, via, hops) = check(pemap, path)
        bindings, forwarded, contracts = bindings + checked, forwarded + via, contracts + hops
        for f in failures[:5]:
            print(f"FAIL: {path}: {f}")
        failed += bool(failures)
    print(f"{len(files)} programs and DLLs loaded with no --path; {bindings} bindings checked against pefile "
          f"({forwarded} through forwarders, {contracts} through API-set contracts); the schema's {schema_size} "
          f"contracts as read here; {failed} failed")
    return 1 if failed or bindings == 0 or forwarded == 0 or contracts == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
