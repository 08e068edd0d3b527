#!/usr/bin/env python3
"""`pemap exports --demangle` on the Itanium names libstdc++-6.dll (mingw-w64) exports, against GNU c++filt: both
run GCC's demangler (c++filt spells std::string and its kin in full), so this checks that pemap hands every name
to it and back whole (the "__Z" form too); and
against llvm-cxxfilt, LLVM's own implementation, up to the spellings the two differ in (std::string for
std::basic_string<char, ...>, the spaces between angle brackets, std::nullptr_t for decltype(nullptr)) and LLVM
14's known gaps (a constructor of a class with an ABI tag loses its name; transaction clones are not demangled),
which are counted, not failed. On the Microsoft names of Wine's msvcp140.dll: that every one demangles, and that a
few have the text Microsoft's scheme gives them. `pemap imports --demangle` of a C++ program built here with
mingw-w64's g++ against libstdc++-6.dll: every mangled import against c++filt.

Usage: demangle_cxxfilt.py PEMAP"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

LIBSTDCXX = "/usr/lib/gcc/x86_64-w64-mingw32/12-win32/libstdc++-6.dll"
MSVCP = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/msvcp140.dll"
KNOWN = {  # Microsoft's scheme, by hand: constructors, operators, calling conventions, const methods
    "??0_Lockit@std@@QEAA@H@Z": "public: __cdecl std::_Lockit::_Lockit(int)",
    "??1_Lockit@std@@QEAA@XZ": "public: __cdecl std::_Lockit::~_Lockit(void)",
}


# The Itanium scheme's standard abbreviations, which LLVM prints by their short names and c++filt in full.
SHORT = [("std::string", "std::basic_string<char, std::char_traits<char>, std::allocator<char> >"),
         ("std::istream", "std::basic_istream<char, std::char_traits<char> >"),
         ("std::ostream", "std::basic_ostream<char, std::char_traits<char> >"),
         ("std::iostream", "std::basic_iostream<char, std::char_traits<char> >")]


def long_form(text):
    for short, full in SHORT:
        text = re.sub(re.escape(short) + r"(?![\w])", full, text)
    return text


def squeeze(text):
    return re.sub(r" *([<>]) *", r"\1", text)


def exports(pemap, path):
    run = subprocess.run([pemap, "exports", "--demangle", "--json", path], capture_output=True)
    return json.loads(run.stdout)["exports"]


PROGRAM = """#include <iostream>
#include <map>
#include <string>
#include <vector>
int main() {
  std::map<std::string, std::vector<int>> m;
  m["a"].push_back(1);
  std::cout << m.size() << std::endl;
}
"""


def imports_of_a_cxx_program(pemap):
    """`pemap imports --demangle` of a program mingw-w64's g++ builds against libstdc++-6.dll (whose imports are
    mangled names), or None when g++ is not here."""
    gxx = shutil.which("x86_64-w64-mingw32-g++")
    if not gxx:
        return None
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, "p.cpp"), "w") as f:
            f.write(PROGRAM)
        exe = os.path.join(work, "p.exe")
        subprocess.run([gxx, "-O1", "-o", exe, os.path.join(work, "p.cpp")], check=True, capture_output=True,
                       env=dict(os.environ, TMPDIR=work))  # the compiler's temporary files go with `work`
        run = subprocess.run([pemap, "imports", "--demangle", "--json", exe], capture_output=True)
    return [e for m in json.loads(run.stdout)["imports"] for e in m["entries"]]


def main():
    pemap = sys.argv[1]
    for path, package in ((LIBSTDCXX, "g++-mingw-w64-x86-64"), (MSVCP, "libwine")):
        if not os.path.exists(path):
            print(f"SKIP: no {path} (Debian package {package})")
            return 77
    if not shutil.which("c++filt"):
        print("SKIP: no c++filt (Debian package binutils)")
        return 77
    failures = []
    itanium = [e for e in exports(pemap, LIBSTDCXX) if e.get("name", "").startswith("_Z")]
    names = "\n".join(e["name"] for e in itanium) + "\n"
    gnu = subprocess.run(["c++filt"], input=names, capture_output=True, text=True).stdout.splitlines()
    compared = 0
    for e, t in zip(itanium, gnu):
        if t == e["name"]:  # c++filt could not demangle it either
            continue
        compared += 1
        # __cxa_demangle writes the standard abbreviations short (std::string), c++filt in full.
        if squeeze(long_form(e.get("demangled") or "")) != squeeze(t):
            failures.append(f"{e['name']}: pemap {e.get('demangled')!r}, c++filt {t!r}")
    llvm_differs = 0
    if shutil.which("llvm-cxxfilt"):
        theirs = subprocess.run(["llvm-cxxfilt"], input=names, capture_output=True, text=True).stdout.splitlines()
        for e, t in zip(itanium, theirs):
            ours = squeeze(long_form(e.get("demangled") or e["name"])).replace("decltype(nullptr)", "std::nullptr_t")
            if ours != squeeze(long_form(t)):
                llvm_differs += 1
    microsoft = [e for e in exports(pemap, MSVCP) if e.get("name", "").startswith("?")]
    undemangled = [e["name"] for e in microsoft if "demangled" not in e]
    if undemangled:
        failures.append(f"{len(undemangled)} Microsoft names not demangled, such as {undemangled[:3]}")
    by_name = {e["name"]: e.get("demangled") for e in microsoft}
    for name, text in KNOWN.items():
        if by_name.get(name) != text:
            failures.append(f"{name}: pemap {by_name.get(name)!r}, expected {text!r}")
    imported = imports_of_a_cxx_program(pemap)
    mangled_imports = [e for e in imported or [] if e.get("name", "").startswith("_Z")]
    if imported is not None:
        gnu = subprocess.run(["c++filt"], input="\n".join(e["name"] for e in mangled_imports) + "\n",
                             capture_output=True, text=True).stdout.splitlines()
        for e, t in zip(mangled_imports, gnu):
            if squeeze(long_form(e.get("demangled") or "")) != squeeze(t):
                failures.append(f"import {e['name']}: pemap {e.get('demangled')!r}, c++filt {t!r}")
        if not mangled_imports:
            failures.append("the C++ program built here imports no mangled name")
    for f in failures[:20]:
        print("FAIL:", f)
    print(f"{compared} of {len(itanium)} Itanium names compared with c++filt (the others neither demangles), "
          f"{len(itanium) - llvm_differs} the same as llvm-cxxfilt's ({llvm_differs} in LLVM 14's gaps); "
          f"{len(microsoft)} Microsoft names demangled; "
          f"{len(mangled_imports)} imports of a C++ program compared with c++filt"
          f"{'' if imported is not None else ' (skipped: no x86_64-w64-mingw32-g++)'}; {len(failures)} differences")
    return 1 if failures or compared == 0 or not microsoft else 0


sys.exit(main())
