#!/usr/bin/env bash
# Every command's refusal of a bad input names the file, the structure (or the Win32 call), where (an offset or
# an RVA) when there is a where, and the rule with the status Windows would give; and it exits non-zero. One line
# per case: the command, then the texts its stderr must hold.
set -uo pipefail
pemap=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 1
fail=0 pass=0
lib=testdata/bin/x64/liba.dll
head -c 300 "$lib" > "$tmp/trunc.dll"
echo "not a PE" > "$tmp/text.txt"
printf 'MZ' > "$tmp/mz.bin"

case_() {  # case_ DESCRIPTION -- ARGS... ; stderr must hold each of $want, the exit code must not be 0
  local what=$1; shift 2
  "$pemap" "$@" > "$tmp/out" 2> "$tmp/err"
  local got=$? ok=1
  [ "$got" -ne 0 ] || ok=0
  for text in "${want[@]}"; do grep -qF -- "$text" "$tmp/err" || ok=0; done
  if [ "$ok" -eq 1 ]; then pass=$((pass + 1)); else
    echo "FAIL: $what: exit $got, stderr must contain: ${want[*]}"
    sed 's/^/  | /' "$tmp/err"
    fail=$((fail + 1))
  fi
}

want=("/nonexistent/x.dll" "file: cannot open" "STATUS_OBJECT_PATH_NOT_FOUND")
case_ "a file in no directory" -- all /nonexistent/x.dll
want=("$tmp/none.dll" "file: cannot open" "STATUS_OBJECT_NAME_NOT_FOUND")
case_ "no such file" -- headers "$tmp/none.dll"
want=("$tmp/text.txt" "DOS header at offset 0x0" "no 'MZ' signature" "STATUS_INVALID_IMAGE_NOT_MZ")
case_ "a text file" -- all "$tmp/text.txt"
want=("$tmp/mz.bin" "DOS header at offset 0x0" "e_lfanew" "STATUS_INVALID_IMAGE_PROTECT")
case_ "two bytes" -- sections "$tmp/mz.bin"
for cmd in all headers sections imports exports relocs tls info map diff-views; do
  want=("$tmp/trunc.dll" "data directories at offset 0x108" "the file ends at 300" "STATUS_INVALID_IMAGE_FORMAT")
  case_ "$cmd of a truncated file" -- "$cmd" "$tmp/trunc.dll"
done
want=("$tmp/trunc.dll" "data directories at offset 0x108" "STATUS_INVALID_IMAGE_FORMAT")
case_ "load of a truncated file" -- load "$tmp/trunc.dll"
want=("$tmp/trunc.dll" "data directories at offset 0x108" "STATUS_INVALID_IMAGE_FORMAT")
case_ "instances of a truncated file" -- instances "$tmp/trunc.dll"
want=("$tmp/trunc.dll" "data directories at offset 0x108" "STATUS_INVALID_IMAGE_FORMAT")
case_ "run of a truncated file" -- run "$tmp/trunc.dll"
want=("$lib" "MapViewOfFile" "ERROR_MAPPED_ALIGNMENT" "offset 0x1000")
case_ "a view at an unaligned offset" -- map --raw --offset 0x1000 "$lib"
want=("$lib" "MapViewOfFile" "ERROR_ACCESS_DENIED" "offset 0x10000 is past the section's end")
case_ "a view past the end" -- map --raw --offset 0x10000 "$lib"
want=("$lib" "image view" "base 0x1234" "ERROR_MAPPED_ALIGNMENT")
case_ "relocs --check at an unaligned base" -- relocs --check "$lib" --base 0x1234
want=("$lib" "optional header at offset 0x" "Subsystem 3 (WINDOWS_CUI) is not an EFI subsystem" "STATUS_INVALID_IMAGE_FORMAT")
case_ "map --as efi of a Windows DLL" -- map --as efi "$lib"
want=("$lib" "Subsystem 3 (WINDOWS_CUI) is not an EFI subsystem" "STATUS_INVALID_IMAGE_FORMAT")
case_ "relocs --check --as efi of a Windows DLL" -- relocs --check --as efi --base 0x20000000 "$lib"
want=("pemap map: --as efi lays out an image; --raw, --offset and --size are for a data view")
case_ "map --as efi with --raw" -- map --as efi --raw "$lib"
want=("pemap relocs: --as goes with --check")
case_ "relocs --as without --check" -- relocs --as efi "$lib"
want=("$lib" "section table at offset 0x" "no section named '.nosuch'" "(it has .text")
case_ "dump of a missing section" -- dump "$lib" --section .nosuch
want=("$lib" "at RVA 0x999999" "SizeOfImage" "STATUS_INVALID_IMAGE_FORMAT")
case_ "dump past SizeOfImage" -- dump "$lib" --rva 0x999999 --size 16
want=("$lib" "at offset 0x999999" "the file ends at" "STATUS_INVALID_IMAGE_FORMAT")
case_ "dump past the end of the file" -- dump "$lib" --offset 0x999999 --size 16
want=("$lib" "export directory of liba.dll" "liba.dll!nosuch is not exported" "STATUS_ENTRYPOINT_NOT_FOUND")
case_ "call of a missing export" -- call "$lib" nosuch
want=("testdata/bin/x86/liba.dll" "optional header at offset 0x" "needs the CPU in 32-bit mode" "STATUS_INVALID_IMAGE_FORMAT")
case_ "call into a PE32 DLL" -- call testdata/bin/x86/liba.dll liba_add 1 2

echo "error messages: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
