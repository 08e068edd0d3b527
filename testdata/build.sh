#!/usr/bin/env bash
# build.sh - rebuild every pemap test binary in testdata/bin/ from testdata/src/.
#
# Usage:  testdata/build.sh            (from anywhere)
#
# The build is reproducible: running it twice (or in another directory)
# gives byte-identical files.  That is why:
#   * mingw ld gets --no-insert-timestamp (TimeDateStamp 0 everywhere);
#   * lld-link gets /Brepro (TimeDateStamp = hash of the image);
#   * everything is compiled from relative paths inside testdata/, with
#     -ffile-prefix-map for the one image that keeps debug info;
#   * intermediate objects/import libraries go to a temporary directory
#     that never reaches the images;
#   * every DLL gets an explicit --image-base / /BASE (Debian's mingw ld
#     would otherwise pick an "auto image base" hashed from the file name).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
export LC_ALL=C TZ=UTC

CLANG=${CLANG:-clang}
LLD_LINK=${LLD_LINK:-lld-link}
LLVM_DLLTOOL=${LLVM_DLLTOOL:-llvm-dlltool}

need() { # need TOOL DEBIAN-PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "build.sh: required tool '$1' not found; install the Debian package '$2'" \
             "(apt-get install $2)" >&2
        exit 1
    fi
}
need i686-w64-mingw32-gcc      gcc-mingw-w64-i686
need i686-w64-mingw32-dlltool  gcc-mingw-w64-i686   # via binutils-mingw-w64-i686
need x86_64-w64-mingw32-gcc    gcc-mingw-w64-x86-64
need x86_64-w64-mingw32-dlltool gcc-mingw-w64-x86-64 # via binutils-mingw-w64-x86-64
need "$CLANG"                  clang
need "$LLD_LINK"               lld
need "$LLVM_DLLTOOL"           llvm

OBJ=$(mktemp -d "${TMPDIR:-/tmp}/pemap-testdata.XXXXXX")
trap 'rm -rf "$OBJ"' EXIT
# The compilers' own temporary files too (windres leaves its preprocessor's behind): all go when $OBJ goes.
export TMPDIR=$OBJ

BIN=${PEMAP_TESTDATA_OUT:-bin}  # tests/cli/testdata_reproducible.sh builds elsewhere and compares
rm -rf "$BIN/x86" "$BIN/x64" "$BIN/arm64"
mkdir -p "$BIN/x86/msvc" "$BIN/x64/msvc" "$BIN/x86/system" "$BIN/x64/system" "$BIN/arm64"

built() { # built FILE...
    local f
    for f in "$@"; do
        printf '  built %-30s %8d bytes  sha256 %.16s\n' "$f" "$(stat -c %s "$f")" \
            "$(sha256sum "$f" | cut -c1-64)"
    done
}

# Flags for the CRT-less mingw images: explicit entry point, no startup files,
# no libgcc, no .eh_frame / .comment, stripped, TimeDateStamp 0.
# shellcheck disable=SC2054  # the commas in -Wl,... are meant
GNU_FLAGS=(-O2 -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns
           -fno-asynchronous-unwind-tables -fno-ident -fno-stack-protector
           -nostdlib -nostartfiles -s -Wl,--no-insert-timestamp)
# Flags for the MSVC-ABI objects (clang, no CRT, linked with lld-link).
MSVC_CFLAGS=(-O2 -ffreestanding -fno-builtin -fno-stack-protector -Wno-ignored-pragmas)
LLD_FLAGS=(/nologo /nodefaultlib /Brepro)

for arch in x86 x64; do
    if [[ $arch == x86 ]]; then
        T=i686-w64-mingw32
        EXE_ENTRY=_pe_start          # cdecl symbols carry a leading underscore
        DLL_ENTRY=_DllEntry@12       # stdcall decoration
        CT=i686-pc-windows-msvc
        MACHINE=x86
        DT_MACHINE=i386
        AB_BASE=0x10000000           # liba / libb / fixed: the classic DLL default
        SHARED_BASE=0x63000000
        ORD_BASE=0x64000000
        FWD1_BASE=0x65000000
        FWD2_BASE=0x66000000
        KBASE_BASE=0x6b000000        # system/kernelbase.dll
        K32_BASE=0x6b800000          # system/kernel32.dll
        CHAIN_BASE=0x6c000000        # chain_c; chain_b, chain_a, chain_fail 1, 2, 3 MiB above
    else
        T=x86_64-w64-mingw32
        EXE_ENTRY=pe_start
        DLL_ENTRY=DllEntry
        CT=x86_64-pc-windows-msvc
        MACHINE=x64
        DT_MACHINE=i386:x86-64
        AB_BASE=0x180000000          # liba / libb / fixed: the x64 default
        SHARED_BASE=0x263000000
        ORD_BASE=0x264000000
        FWD1_BASE=0x265000000
        FWD2_BASE=0x266000000
        KBASE_BASE=0x26b000000       # system/kernelbase.dll
        K32_BASE=0x26b800000         # system/kernel32.dll
        CHAIN_BASE=0x26c000000       # chain_c; chain_b, chain_a, chain_fail 1, 2, 3 MiB above
    fi
    GCC=$T-gcc
    DLLTOOL=$T-dlltool
    O=$OBJ/$arch
    B=$BIN/$arch
    mkdir -p "$O"
    gexe() { "$GCC" "${GNU_FLAGS[@]}" -e "$EXE_ENTRY" "$@"; }
    gdll() { "$GCC" "${GNU_FLAGS[@]}" -shared -e "$DLL_ENTRY" "$@"; }
    mcc() { "$CLANG" --target="$CT" "${MSVC_CFLAGS[@]}" -c "$@"; }
    lexe() { "$LLD_LINK" "${LLD_FLAGS[@]}" /machine:$MACHINE /subsystem:console /entry:pe_start "$@"; }
    ldll() { "$LLD_LINK" "${LLD_FLAGS[@]}" /machine:$MACHINE /dll /entry:DllEntry "$@"; }

    echo "== $arch"

    # MSVC-format kernel32 import library for the lld-link images.
    "$LLVM_DLLTOOL" -m "$DT_MACHINE" -k -d "src/kernel32_$arch.def" -l "$O/kernel32.lib"

    # (a, b) liba.dll + libb.dll (same preferred base, many fixups) + app.exe.
    # app.exe / libb.dll link directly against the DLLs, so GNU ld writes
    # hints that are real indexes into the DLLs' export name tables.
    gdll -Wl,--image-base=$AB_BASE src/liba.c src/liba.def -o "$B/liba.dll"
    gdll -Wl,--image-base=$AB_BASE src/libb.c src/libb.def "$B/liba.dll" -o "$B/libb.dll"
    gexe src/app.c "$B/liba.dll" "$B/libb.dll" -lkernel32 -o "$B/app.exe"
    built "$B/liba.dll" "$B/libb.dll" "$B/app.exe"

    # (c) shared.dll: x86 with mingw gcc, x64 MSVC-style (clang + lld-link);
    # x64 also gets the mingw flavour as shared_gnu.dll.
    if [[ $arch == x86 ]]; then
        gdll -fno-zero-initialized-in-bss -Wl,--image-base=$SHARED_BASE src/shared.c -o "$B/shared.dll"
        built "$B/shared.dll"
    else
        mcc -fno-zero-initialized-in-bss src/shared.c -o "$O/shared.obj"
        ldll /base:$SHARED_BASE "$O/shared.obj" /out:"$B/shared.dll" /implib:"$O/shared.lib"
        gdll -fno-zero-initialized-in-bss -Wl,--image-base=0x263100000 src/shared.c -o "$B/shared_gnu.dll"
        built "$B/shared.dll" "$B/shared_gnu.dll"
    fi

    # (d) fixed.dll: relocations stripped (lld-link /FIXED), base = liba's.
    mcc src/fixed.c -o "$O/fixed.obj"
    ldll /fixed /base:$AB_BASE "$O/fixed.obj" /out:"$B/fixed.dll" /implib:"$O/fixed.lib"
    built "$B/fixed.dll"

    # (e) ordlib.dll (NONAME exports) + ordapp.exe importing by ordinal.
    # The import library must come from the .def (ld --out-implib), since
    # the DLL itself has no names for the NONAME exports.
    gdll -Wl,--image-base=$ORD_BASE src/ordlib.c src/ordlib.def -o "$B/ordlib.dll" \
         -Wl,--out-implib,"$O/libordlib.a"
    gexe src/ordapp.c "$O/libordlib.a" -lkernel32 -o "$B/ordapp.exe"
    built "$B/ordlib.dll" "$B/ordapp.exe"

    # (f) forwarders: fwd1.dll -> fwd2.dll -> liba.dll, by ordinal, to libb.
    gdll -Wl,--image-base=$FWD2_BASE -DSELF=fwd2_self src/fwdstub.c src/fwd2.def -o "$B/fwd2.dll"
    gdll -Wl,--image-base=$FWD1_BASE -DSELF=fwd1_self src/fwdstub.c src/fwd1.def -o "$B/fwd1.dll"
    gexe src/fwdapp.c "$B/fwd1.dll" -lkernel32 -o "$B/fwdapp.exe"
    built "$B/fwd2.dll" "$B/fwd1.dll" "$B/fwdapp.exe"

    # (g) delayapp.exe: lld-link /DELAYLOAD:liba.dll with our own
    # __delayLoadHelper2 (src/delayhlp.c).
    "$LLVM_DLLTOOL" -m "$DT_MACHINE" -d src/liba.def -l "$O/liba.lib"
    mcc src/delayapp.c -o "$O/delayapp.obj"
    mcc src/delayhlp.c -o "$O/delayhlp.obj"
    lexe "$O/delayapp.obj" "$O/delayhlp.obj" "$O/liba.lib" "$O/kernel32.lib" \
         /delayload:liba.dll /out:"$B/delayapp.exe"
    built "$B/delayapp.exe"

    # (h) tls.exe: hand-made _tls_used with two callbacks (lld-link).
    mcc src/tls.c -o "$O/tls.obj"
    lexe "$O/tls.obj" "$O/kernel32.lib" /out:"$B/tls.exe"
    built "$B/tls.exe"

    # (j) lowalign.exe: SectionAlignment = FileAlignment = 0x200.
    gexe -Wl,--section-alignment=0x200,--file-alignment=0x200 src/lowalign.c -lkernel32 \
         -o "$B/lowalign.exe"
    built "$B/lowalign.exe"

    # (k) apiset.exe: imports only from API-set contract names.
    "$DLLTOOL" -k -d "src/apiset_synch_$arch.def" -l "$O/libapiset_synch.a"
    "$DLLTOOL" -k -d "src/apiset_procthr_$arch.def" -l "$O/libapiset_procthr.a"
    gexe src/apiset.c "$O/libapiset_synch.a" "$O/libapiset_procthr.a" -o "$B/apiset.exe"
    built "$B/apiset.exe"

    # (l) missing.exe: a function liba.dll does not export + a missing DLL.
    "$DLLTOOL" -d src/missing_liba.def -l "$O/libmissing_liba.a"
    "$DLLTOOL" -d src/nosuch.def -l "$O/libnosuch.a"
    gexe src/missing.c "$O/libmissing_liba.a" "$O/libnosuch.a" -lkernel32 -o "$B/missing.exe"
    built "$B/missing.exe"

    # (o) MSVC-style pair: liba.c built with clang + lld-link, and an importer.
    mcc src/liba.c -o "$O/msvc_liba.obj"
    ldll /base:$AB_BASE /def:src/liba.def "$O/msvc_liba.obj" /out:"$B/msvc/liba.dll" \
         /implib:"$O/msvc_liba.lib"
    mcc src/msvc_app.c -o "$O/msvc_app.obj"
    lexe "$O/msvc_app.obj" "$O/msvc_liba.lib" "$O/kernel32.lib" /out:"$B/msvc/app.exe"
    built "$B/msvc/liba.dll" "$B/msvc/app.exe"

    # (q) chain_a.dll -> chain_b.dll -> chain_c.dll, chain_fail.dll -> chain_c.dll: DllMain order (lld-link).
    chain() { # chain SELF NEXT BASE [CFLAGS...]
        local self=$1 next=$2 base=$3
        shift 3
        local defs=(-DSELF="$self") libs=()
        [[ -n $next ]] && defs+=(-DNEXT="$next") && libs+=("$O/chain_$next.lib")
        mcc "${defs[@]}" "$@" src/chain.c -o "$O/chain_$self.obj"
        ldll /base:"$base" "$O/chain_$self.obj" "${libs[@]}" "$O/kernel32.lib" /out:"$B/chain_$self.dll" \
             /implib:"$O/chain_$self.lib"
        built "$B/chain_$self.dll"
    }
    chain c "" $CHAIN_BASE
    chain b c $((CHAIN_BASE + 0x100000))
    chain a b $((CHAIN_BASE + 0x200000)) -DWITH_TLS
    chain fail c $((CHAIN_BASE + 0x300000)) -DFAIL

    # (p) system/: stub kernel32.dll + kernelbase.dll, so a loader finds every
    # system DLL the images above import.  kernel32.dll exports each KERNEL32
    # function they use as a do-nothing stub, and Sleep as a forwarder to the
    # API set (api-ms-win-core-synch-l1-2-0.Sleep), as Windows 10's does;
    # kernelbase.dll is where the API-set contracts land.
    gdll -Wl,--image-base=$K32_BASE src/sys_kernel32.c "src/sys_kernel32_$arch.def" \
         -o "$B/system/kernel32.dll"
    gdll -Wl,--image-base=$KBASE_BASE src/sys_kernelbase.c "src/sys_kernelbase_$arch.def" \
         -o "$B/system/kernelbase.dll"
    built "$B/system/kernel32.dll" "$B/system/kernelbase.dll"

    if [[ $arch == x64 ]]; then
        # (i) bigreloc.dll: 300,000 DIR64 fixups.
        gdll -Wl,--image-base=0x267000000 src/bigreloc.s src/bigreloc.def -o "$B/bigreloc.dll"
        built "$B/bigreloc.dll"

        # (m) longnames.exe: -g, not stripped -> "/4", "/19"... section names.
        # (same flags as GNU_FLAGS minus -s / -O2, plus -g and a path map)
        "$GCC" -O1 -g -ffile-prefix-map="$PWD"=. -ffreestanding -fno-builtin \
            -fno-stack-protector -nostdlib -nostartfiles -Wl,--no-insert-timestamp \
            -e pe_start src/longnames.c -lkernel32 -o "$B/longnames.exe"
        built "$B/longnames.exe"

        # (n) hello.exe: ordinary mingw-w64 CRT program (msvcrt.dll), stripped.
        "$GCC" -O2 -s -Wl,--no-insert-timestamp src/hello.c -o "$B/hello.exe"
        built "$B/hello.exe"

        # (s) hostile.dll: each export tries one way out of the sandbox (raw syscalls, libc, limits).
        gdll -Wl,--image-base=0x268000000 src/hostile.c -lkernel32 -o "$B/hostile.dll"
        built "$B/hostile.dll"

        # (t) versioned.exe: resources compiled by windres (version information, a manifest, strings, a named
        # user-defined resource).
        "$T-windres" src/versioned.rc -O coff -o "$O/versioned_res.o"
        gexe src/versioned.c "$O/versioned_res.o" -o "$B/versioned.exe"
        built "$B/versioned.exe"

        # (r) printf.exe: the msvcrt printf family (-D__USE_MINGW_ANSI_STDIO=0: msvcrt's printf, not mingw's).
        "$GCC" -O2 -s -Wno-format -D__USE_MINGW_ANSI_STDIO=0 -Wl,--no-insert-timestamp src/printf.c \
            -o "$B/printf.exe"
        built "$B/printf.exe"
    fi
done

echo "== arm64"
# (u) unwind.dll: ARM64 exception data (packed records, .xdata records with epilogs, a handler), for
# `pemap exceptions --unwind`; clang and lld-link, no CRT, no entry point.
"$CLANG" --target=aarch64-pc-windows-msvc "${MSVC_CFLAGS[@]}" -funwind-tables -c src/unwind_arm64.c -o "$OBJ/unwind_arm64.obj"
"$LLD_LINK" "${LLD_FLAGS[@]}" /machine:arm64 /dll /noentry /base:0x180000000 "$OBJ/unwind_arm64.obj" \
    /implib:"$OBJ/unwind_arm64.lib" /out:"$BIN/arm64/unwind.dll"
built "$BIN/arm64/unwind.dll"

echo "== total: $(find "$BIN" -type f | wc -l) files," \
     "$(find "$BIN" -type f -printf '%s\n' | awk '{s += $1} END {print s}') bytes in $BIN/"
